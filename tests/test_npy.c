/* NumPy .npy files: round trips, the exact byte layout, the variants NumPy writes, and every
 * kind of file that must be refused. */
#include "harness.h"

#include "siamcl/npy.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* dir/name in buf. */
static const char *in_dir(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* A file of the given version whose header length field is header_len, followed by the header
 * text and data_len zero bytes. */
static void craft_with_length(const char *path, int major, uint32_t header_len, const char *header,
                              size_t data_len) {
    size_t n = strlen(header), lead = major == 1 ? 10 : 12;
    unsigned char *bytes = calloc(lead + n + data_len, 1);
    memcpy(bytes, "\x93NUMPY", 6);
    bytes[6] = (unsigned char)major;
    for (size_t i = 8; i < lead; i++) bytes[i] = (unsigned char)(header_len >> 8 * (i - 8));
    memcpy(bytes + lead, header, n);
    test_write_bytes(path, bytes, lead + n + data_len);
    free(bytes);
}

static void craft(const char *path, int major, const char *header, size_t data_len) {
    craft_with_length(path, major, (uint32_t)strlen(header), header, data_len);
}

static void setup(void) {
    sc_error_set_quiet(1);
    snprintf(dir, sizeof dir, "/tmp/siamcl_test_npy_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void round_trip(void) {
    static const size_t shapes[][2] = {{3, 5}, {1, 1}, {1, 17}, {0, 4}, {6, 0}};
    float x[17 * 3];
    test_fill(x, 17 * 3, -10, 10);
    x[0] = -0.0f;
    x[1] = INFINITY;
    x[2] = NAN;
    x[3] = FLT_MIN / 4;
    char p[128];
    in_dir(p, sizeof p, "x.npy");
    for (int i = 0; i < 5; i++) {
        size_t rows = shapes[i][0], cols = shapes[i][1];
        CHECK_OK(sc_npy_write(p, x, rows, cols));
        float *y;
        size_t r, c;
        CHECK_OK(sc_npy_read(p, &y, &r, &c));
        int same = r == rows && c == cols && (!r || !c || !memcmp(x, y, r * c * sizeof *y));
        free(y);
        CHECK(same, "%zu x %zu came back as %zu x %zu", rows, cols, r, c);
    }
    unlink(p);
}

/* Magic, version 1.0, the header length, the dict padded with spaces and '\n' so that the data
 * starts at a multiple of 64, then raw <f4. */
static void layout_is_exact(void) {
    const float x[6] = {1, 2, 3, 4, 5, -2};
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    char p[128];
    in_dir(p, sizeof p, "layout.npy");
    CHECK_OK(sc_npy_write(p, x, 2, 3));
    unsigned char buf[256];
    long size = test_read_bytes(p, buf, sizeof buf);
    unlink(p);
    size_t header_len = (size_t)buf[8] | (size_t)buf[9] << 8, len = strlen(dict);
    size_t start = 10 + header_len;
    int aligned = start % 64 == 0;
    CHECK(!memcmp(buf, "\x93NUMPY\x01\x00", 8));
    CHECK(aligned && size == (long)(start + sizeof x), "data at %zu, size %ld", start, size);
    CHECK(!memcmp(buf + 10, dict, len), "header %.*s", (int)header_len, (const char *)buf + 10);
    for (size_t i = 10 + len; i < start - 1; i++) CHECK(buf[i] == ' ');
    CHECK(buf[start - 1] == '\n');
    CHECK(!memcmp(buf + start + 20, "\0\0\0\xc0", 4));
}

/* What NumPy writes for 1-D arrays, version 2.0 files, and other spellings of the dict. */
static void reads_numpy_variants(void) {
    static const struct {
        int major;
        const char *header;
        size_t rows, cols;
    } cases[] = {
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }      \n", 4, 1},
        {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 2, 3},
        {1, "{\"shape\": (3 ,2), \"fortran_order\": False, \"descr\": \"<f4\"}", 3, 2},
        {1, "{'descr':'<f4','fortran_order':False,'shape':(0,)}", 0, 1},
    };
    char p[128];
    in_dir(p, sizeof p, "variant.npy");
    for (int i = 0; i < 4; i++) {
        craft(p, cases[i].major, cases[i].header, 4 * cases[i].rows * cases[i].cols);
        float *y;
        size_t r, c;
        CHECK(sc_npy_read(p, &y, &r, &c) == SC_OK, "case %d: %s", i, sc_last_error());
        free(y);
        CHECK(r == cases[i].rows && c == cases[i].cols, "case %d: %zu x %zu", i, r, c);
    }
    unlink(p);
}

typedef struct bad_file {
    int major;
    const char *header;
    size_t data_len;
    const char *expect;
} bad_file;

#define HEADER(descr, order, shape)                                                                \
    "{'descr': '" descr "', 'fortran_order': " order ", 'shape': " shape ", }\n"

static const bad_file bad_files[] = {
    {3, HEADER("<f4", "False", "(1, 1)"), 4, ".npy version 3.0 is not supported"},
    {1, HEADER(">f4", "False", "(1, 1)"), 4, "dtype '>f4' is not supported (only '<f4'"},
    {1, HEADER("<f8", "False", "(1, 1)"), 8, "dtype '<f8' is not supported"},
    {1, HEADER("<f4", "True", "(1, 1)"), 4, "Fortran-order arrays are not supported"},
    {1, HEADER("<f4", "False", "(2, 2, 2)"), 32, "3-dimensional arrays are not supported"},
    {1, HEADER("<f4", "False", "()"), 4, "0-dimensional arrays are not supported"},
    {1, HEADER("<f4", "False", "(3, 4)"), 40,
     "truncated: shape needs 48 bytes of data, file holds 40"},
    {2, HEADER("<f4", "False", "(4294967296, 4294967296)"), 0, "truncated: shape needs"},
    {1, HEADER("<f4", "False", "(1, 1)"), 8, "4 bytes after the array data"},
    {1, HEADER("<f4", "False", "(3)"), 12, "malformed header"},
    {1, HEADER("<f4", "Maybe", "(1, 1)"), 4, "malformed header"},
    {1, HEADER("<f4", "False", "(1, 99999999999999999999)"), 4, "malformed header"},
    {1, HEADER("<f4", "False", "(1, -1)"), 4, "malformed header"},
    {1, "{'descr': '<f4', 'fortran_order': False}", 4, "malformed header (expected a dict"},
    {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4, "malformed header"},
    {1, "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", 4, "malformed header"},
    {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4, "malformed header"},
    {1, "{'descr': '<\\f4', 'fortran_order': False, 'shape': (1,)}", 4, "malformed header"},
    {1, "{'descr': '<f4", 0, "malformed header"},
    {1, "", 0, "malformed header"},
};

static void rejects_malformed_files(void) {
    char p[128];
    in_dir(p, sizeof p, "bad.npy");
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        craft(p, bad_files[i].major, bad_files[i].header, bad_files[i].data_len);
        float *y = (float *)1;
        size_t r, c;
        int rc = sc_npy_read(p, &y, &r, &c);
        CHECK(rc == SC_EINPUT && y == NULL, "case %zu: rc %d", i, rc);
        CHECK(test_error_has(p) && test_error_has(bad_files[i].expect), "case %zu: message: %s", i,
              sc_last_error());
    }
    unlink(p);
}

static void rejects_what_is_no_npy_file(void) {
    char p[128];
    float *y;
    size_t r, c;
    in_dir(p, sizeof p, "x.bin");
    test_write_bytes(p, "\x93NUMPZ\x01\x00\x00\x00", 10);
    CHECK(sc_npy_read(p, &y, &r, &c) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("not a .npy file (bad magic)"), "%s",
          sc_last_error());
    test_write_bytes(p, "\x93NUM", 4);
    CHECK(sc_npy_read(p, &y, &r, &c) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("bad magic"), "%s", sc_last_error());
    craft_with_length(p, 1, 1000, "{}", 0);
    CHECK(sc_npy_read(p, &y, &r, &c) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("truncated: header length 1000 exceeds the file"),
          "%s", sc_last_error());
    craft_with_length(p, 2, 2000000, "", 0);
    CHECK(truncate(p, 2000012) == 0); /* sparse */
    CHECK(sc_npy_read(p, &y, &r, &c) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("header length 2000000 exceeds the limit"), "%s",
          sc_last_error());
    unlink(p);
    CHECK(sc_npy_read(p, &y, &r, &c) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("No such file"), "%s", sc_last_error());
    CHECK(sc_npy_read(dir, &y, &r, &c) == SC_EINPUT);
    CHECK(test_error_has(dir) && test_error_has("not a regular file"), "%s", sc_last_error());
}

/* A write that fails leaves the old file byte for byte, and no temporary file. */
static void failed_writes_keep_the_old_file(void) {
    const float x[4] = {1, 2, 3, 4};
    char p[128], sub[128];
    in_dir(p, sizeof p, "keep.npy");
    CHECK_OK(sc_npy_write(p, x, 2, 2));
    unsigned char before[256], after[256];
    long size = test_read_bytes(p, before, sizeof before);
    CHECK(size > 0);
    CHECK(sc_npy_write(p, NULL, 2, 2) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("no data"), "%s", sc_last_error());
    CHECK(test_read_bytes(p, after, sizeof after) == size && !memcmp(before, after, (size_t)size));
    CHECK(sc_npy_write("/nonexistent-siamcl/x.npy", x, 2, 2) == SC_EINPUT);
    CHECK(test_error_has("cannot write /nonexistent-siamcl/x.npy: No such file"), "%s",
          sc_last_error());
    in_dir(sub, sizeof sub, "folder.npy");
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(sc_npy_write(sub, x, 2, 2) == SC_ERR);
    CHECK(test_error_has("cannot write") && test_error_has(sub), "%s", sc_last_error());
    CHECK(test_temp_files(dir) == 0);
    CHECK(rmdir(sub) == 0);
    unlink(p);
}

/* Runs last: the folder must be empty by now. */
static void nothing_left_behind(void) {
    CHECK(rmdir(dir) == 0, "%s is not empty", dir);
}

TEST_MAIN(TEST(setup), TEST(round_trip), TEST(layout_is_exact), TEST(reads_numpy_variants),
          TEST(rejects_malformed_files), TEST(rejects_what_is_no_npy_file),
          TEST(failed_writes_keep_the_old_file), TEST(nothing_left_behind))
