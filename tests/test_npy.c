/* NumPy .npy files: round trips, the exact byte layout, the variants NumPy writes, the dtypes,
 * shapes and versions the readers accept, and every kind of file that must be refused. */
#include "harness.h"

#include "siamcl/npy.h"

#include <dirent.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
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
 * text and data_len bytes of data (zeros when data is NULL). */
static void craft_file(const char *path, int major, uint32_t header_len, const char *header,
                       const void *data, size_t data_len) {
    size_t n = strlen(header), lead = major == 1 ? 10 : 12;
    unsigned char *bytes = calloc(lead + n + data_len + 1, 1);
    memcpy(bytes, "\x93NUMPY", 6);
    bytes[6] = (unsigned char)major;
    for (size_t i = 8; i < lead; i++) bytes[i] = (unsigned char)(header_len >> 8 * (i - 8));
    memcpy(bytes + lead, header, n);
    if (data && data_len) memcpy(bytes + lead + n, data, data_len);
    test_write_bytes(path, bytes, lead + n + data_len);
    free(bytes);
}

static void craft_with_length(const char *path, int major, uint32_t header_len, const char *header,
                              size_t data_len) {
    craft_file(path, major, header_len, header, NULL, data_len);
}

static void craft(const char *path, int major, const char *header, size_t data_len) {
    craft_with_length(path, major, (uint32_t)strlen(header), header, data_len);
}

static void setup(void) {
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
        {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }", 3, 2}, /* Python 2 */
    };
    char p[128];
    in_dir(p, sizeof p, "variant.npy");
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
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
    {4, HEADER("<f4", "False", "(1, 1)"), 4, ".npy version 4.0 is not supported"},
    {1, HEADER("<f2", "False", "(1, 1)"), 2, "dtype '<f2' is not supported (only '<f4'"},
    {1, HEADER("<c8", "False", "(1, 1)"), 8, "dtype '<c8' is not supported"},
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

/* Test data byte by byte: the size low bytes of v, least significant first unless big. */
static unsigned char *put_bytes(unsigned char *p, uint64_t v, int size, int big) {
    for (int k = 0; k < size; k++) p[big ? size - 1 - k : k] = (unsigned char)(v >> 8 * k);
    return p + size;
}

static uint64_t f4_bits(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static uint64_t f8_bits(double x) {
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* values in dtype descr ('<f4', '>f8', ...) into out; the byte count. */
static size_t encode_floats(const char *descr, const double *values, size_t n, unsigned char *out) {
    int size = descr[2] - '0', big = descr[0] == '>';
    unsigned char *p = out;
    for (size_t i = 0; i < n; i++)
        p = put_bytes(p, size == 4 ? f4_bits((float)values[i]) : f8_bits(values[i]), size, big);
    return (size_t)(p - out);
}

/* values in integer dtype descr ('|i1', '>u4', ...), as two's complement. */
static size_t encode_ints(const char *descr, const int64_t *values, size_t n, unsigned char *out) {
    int size = descr[2] - '0', big = descr[0] == '>';
    unsigned char *p = out;
    for (size_t i = 0; i < n; i++) p = put_bytes(p, (uint64_t)values[i], size, big);
    return (size_t)(p - out);
}

static const char *dict(char *buf, size_t size, const char *descr, const char *shape) {
    snprintf(buf, size, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }\n", descr, shape);
    return buf;
}

/* Which reader read_with calls. */
enum { READ, READ_MATRIX, READ_LABELS };

/* The status of one reader on path, its result freed; -1 when a failure left the output set. */
static int read_with(int reader, const char *path) {
    float *x = (float *)1;
    int64_t *y = (int64_t *)1;
    size_t r, c;
    int rc = reader == READ_LABELS   ? sc_npy_read_labels(path, &y, &r)
             : reader == READ_MATRIX ? sc_npy_read_matrix(path, &x, &r, &c)
                                     : sc_npy_read(path, &x, &r, &c);
    if (reader == READ_LABELS) {
        if (rc == SC_OK) free(y);
        return rc == SC_OK || y == NULL ? rc : -1;
    }
    if (rc == SC_OK) free(x);
    return rc == SC_OK || x == NULL ? rc : -1;
}

/* The reader fails with SC_EINPUT, naming path and saying expect. */
static int refuses(int reader, const char *path, const char *expect) {
    return read_with(reader, path) == SC_EINPUT && test_error_has(path) && test_error_has(expect);
}

static const double some_values[6] = {1.5, -2, 0.1, 1e-3, -0.0, 65504};

/* float32 and float64, either byte order, read as float32, by both float readers. */
static void reads_f4_and_f8_matrices(void) {
    static const char *descrs[] = {"<f4", ">f4", "<f8", ">f8"};
    float want[6];
    for (int i = 0; i < 6; i++) want[i] = (float)some_values[i];
    char p[128], h[128];
    unsigned char data[48];
    in_dir(p, sizeof p, "floats.npy");
    for (int d = 0; d < 4; d++) {
        size_t len = encode_floats(descrs[d], some_values, 6, data);
        craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, descrs[d], "(2, 3)")), h, data, len);
        for (int reader = READ; reader <= READ_MATRIX; reader++) {
            float *y;
            size_t r, c;
            int rc =
                reader == READ ? sc_npy_read(p, &y, &r, &c) : sc_npy_read_matrix(p, &y, &r, &c);
            CHECK(rc == SC_OK, "%s, reader %d: %s", descrs[d], reader, sc_last_error());
            int same = r == 2 && c == 3 && !memcmp(y, want, sizeof want); /* -0 included */
            free(y);
            CHECK(same, "%s, reader %d: %zu x %zu", descrs[d], reader, r, c);
        }
    }
    unlink(p);
}

/* Versions 1.0, 2.0 and 3.0 differ only in the header length field (and 3.0's UTF-8). */
static void reads_every_header_version(void) {
    char p[128], h[128];
    unsigned char data[48];
    in_dir(p, sizeof p, "version.npy");
    size_t len = encode_floats("<f8", some_values, 6, data);
    dict(h, sizeof h, "<f8", "(3, 2)");
    for (int major = 1; major <= 3; major++) {
        craft_file(p, major, (uint32_t)strlen(h), h, data, len);
        float *y;
        size_t r, c;
        CHECK(sc_npy_read_matrix(p, &y, &r, &c) == SC_OK, "v%d: %s", major, sc_last_error());
        int same = r == 3 && c == 2 && y[2] == (float)0.1 && y[5] == 65504;
        free(y);
        CHECK(same, "v%d: %zu x %zu", major, r, c);
        int64_t labels[3] = {-1, 2, 300};
        len = encode_ints("<i4", labels, 3, data);
        craft_file(p, major, (uint32_t)strlen(dict(h, sizeof h, "<i4", "(3,)")), h, data, len);
        int64_t *l;
        size_t n;
        CHECK(sc_npy_read_labels(p, &l, &n) == SC_OK, "v%d: %s", major, sc_last_error());
        same = n == 3 && l[0] == -1 && l[2] == 300;
        free(l);
        CHECK(same, "v%d labels: n %zu", major, n);
        len = encode_floats("<f8", some_values, 6, data);
        dict(h, sizeof h, "<f8", "(3, 2)");
    }
    craft_file(p, 4, (uint32_t)strlen(h), h, data, len);
    CHECK(refuses(READ_MATRIX, p, ".npy version 4.0 is not supported (only 1.0, 2.0 and 3.0)"),
          "%s", sc_last_error());
    craft_file(p, 2, (uint32_t)strlen(h), h, data, len);
    CHECK(truncate(p, 11) == 0);
    CHECK(refuses(READ_LABELS, p, "truncated: no header length"), "%s", sc_last_error());
    unlink(p);
}

/* read_matrix takes 2-D only, where sc_npy_read turns (n,) into a column. */
static void read_matrix_wants_two_dims(void) {
    static const struct {
        const char *shape, *found;
        size_t count;
    } cases[] = {
        {"(6,)", "found shape (6,)", 6},
        {"(1, 2, 3)", "found shape (1, 2, 3)", 6},
        {"(1, 1, 2, 3)", "found shape (1, 1, 2, 3)", 6},
        {"()", "found shape ()", 1},
    };
    char p[128], h[128];
    unsigned char data[24];
    in_dir(p, sizeof p, "dims.npy");
    encode_floats("<f4", some_values, 6, data);
    for (int i = 0; i < 4; i++) {
        dict(h, sizeof h, "<f4", cases[i].shape);
        craft_file(p, 1, (uint32_t)strlen(h), h, data, 4 * cases[i].count);
        CHECK(refuses(READ_MATRIX, p, "expected a 2-D array (rows x columns)") &&
                  test_error_has(cases[i].found),
              "%s: %s", cases[i].shape, sc_last_error());
    }
    craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, "<f4", "(6,)")), h, data, 24);
    CHECK(read_with(READ, p) == SC_OK, "%s", sc_last_error());
    float *y;
    size_t r, c;
    craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, "<f8", "(0, 3)")), h, NULL, 0);
    CHECK(sc_npy_read_matrix(p, &y, &r, &c) == SC_OK, "%s", sc_last_error());
    int empty = y != NULL && r == 0 && c == 3;
    free(y);
    CHECK(empty, "(0, 3) read as %zu x %zu", r, c);
    unlink(p);
}

static void refuses_fortran_order(void) {
    char p[128];
    in_dir(p, sizeof p, "fortran.npy");
    craft(p, 1, HEADER("<f8", "True", "(2, 3)"), 48);
    for (int reader = READ; reader <= READ_MATRIX; reader++)
        CHECK(refuses(reader, p, "Fortran-order arrays are not supported"), "%s", sc_last_error());
    craft(p, 3, HEADER("<i8", "True", "(3, 1)"), 24);
    CHECK(refuses(READ_LABELS, p, "Fortran-order arrays are not supported"), "%s", sc_last_error());
    unlink(p);
}

/* The message names the dtype and says what would do. */
static void refuses_other_dtypes(void) {
    static const char *not_float[] = {"<c8", "<U5",  "<f2", "|f4", "=f4", "<i4",
                                      "|b1", "<f16", "f4",  "<M8", "|V4", "O"};
    static const char *not_int[] = {"<f4", ">f8", "<c8", "<U5", "|b1", "|i2", "<i3", "<i16", "|S1"};
    char p[128], h[128], want[64];
    in_dir(p, sizeof p, "dtype.npy");
    for (size_t i = 0; i < sizeof not_float / sizeof not_float[0]; i++) {
        craft(p, 1, dict(h, sizeof h, not_float[i], "(1, 1)"), 4);
        snprintf(want, sizeof want, "dtype '%s' is not supported (only '<f4' and '<f8'",
                 not_float[i]);
        for (int reader = READ; reader <= READ_MATRIX; reader++)
            CHECK(refuses(reader, p, want), "%s", sc_last_error());
    }
    for (size_t i = 0; i < sizeof not_int / sizeof not_int[0]; i++) {
        craft(p, 1, dict(h, sizeof h, not_int[i], "(1,)"), 4);
        snprintf(want, sizeof want, "dtype '%s' is not an integer type", not_int[i]);
        CHECK(refuses(READ_LABELS, p, want) && test_error_has("'|u1', '<i2'"), "%s",
              sc_last_error());
    }
    unlink(p);
}

/* Data shorter or longer than the shape, a header beyond the file, a malformed dict: every reader
 * refuses, and a valid file cut anywhere is refused. */
static void refuses_truncated_files(void) {
    char p[128], h[128];
    unsigned char data[48];
    in_dir(p, sizeof p, "short.npy");
    for (int reader = READ; reader <= READ_LABELS; reader++) {
        const char *descr = reader == READ_LABELS ? "<i2" : ">f8";
        int size = reader == READ_LABELS ? 2 : 8;
        craft(p, 1, dict(h, sizeof h, descr, "(6, 1)"), 6 * (size_t)size - 1);
        char want[64];
        snprintf(want, sizeof want, "truncated: shape needs %d bytes of data, file holds %d",
                 6 * size, 6 * size - 1);
        CHECK(refuses(reader, p, want), "%s", sc_last_error());
        craft(p, 2, dict(h, sizeof h, descr, "(9223372036854775808, 1)"), 0); /* bytes overflow */
        CHECK(refuses(reader, p, "truncated: shape needs"), "%s", sc_last_error());
        craft(p, 1, dict(h, sizeof h, descr, "(1, 1)"), (size_t)size + 1);
        CHECK(refuses(reader, p, "1 bytes after the array data"), "%s", sc_last_error());
        craft_with_length(p, 1, 500, dict(h, sizeof h, descr, "(1,)"), (size_t)size);
        CHECK(refuses(reader, p, "truncated: header length 500 exceeds the file"), "%s",
              sc_last_error());
        craft_with_length(p, 3, 70000, dict(h, sizeof h, descr, "(1,)"), (size_t)size);
        CHECK(refuses(reader, p, "truncated: header length 70000 exceeds the file"), "%s",
              sc_last_error());
        craft(p, 1,
              reader == READ_LABELS ? "{'descr': '<i2', 'shape': (1,)}" /* no fortran_order */
                                    : "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)",
              (size_t)size);
        CHECK(refuses(reader, p, "malformed header"), "%s", sc_last_error());
        /* every cut of a complete file */
        int64_t ints[6] = {1, 2, 3, 4, 5, 6};
        size_t len = reader == READ_LABELS ? encode_ints(descr, ints, 6, data)
                                           : encode_floats(descr, some_values, 6, data);
        dict(h, sizeof h, descr, "(6, 1)");
        craft_file(p, 1, (uint32_t)strlen(h), h, data, len);
        size_t full = 10 + strlen(h) + len;
        CHECK(read_with(reader, p) == SC_OK, "%s", sc_last_error());
        for (size_t cut = 0; cut < full; cut++) {
            CHECK(truncate(p, (off_t)cut) == 0);
            CHECK(refuses(reader, p, ""), "cut at %zu: rc %d", cut, read_with(reader, p));
        }
    }
    unlink(p);
}

/* Every integer dtype, negative values, extremes, either byte order, (n,) and (n, 1). */
static void reads_integer_labels(void) {
    static const struct {
        const char *descr;
        int64_t values[4];
    } cases[] = {
        {"|i1", {-128, -1, 0, 127}},
        {"|u1", {0, 255, 7, 128}},
        {"<i2", {-32768, -2, 32767, 258}},
        {"<u2", {65535, 0, 1, 32768}},
        {"<i4", {INT32_MIN, -5, INT32_MAX, 0}},
        {"<u4", {UINT32_MAX, 1, 0, 2147483648}},
        {"<i8", {INT64_MIN, -1, INT64_MAX, 42}},
        {"<u8", {INT64_MAX, 0, 1, 4294967296}},
        {">i2", {-2, 258, -32768, 1}},
        {">u4", {0x01020304, UINT32_MAX, 0, 9}},
        {">i8", {-3, INT64_MIN, 0x0102030405060708, 0}},
    };
    char p[128], h[128];
    unsigned char data[32];
    in_dir(p, sizeof p, "labels.npy");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = encode_ints(cases[i].descr, cases[i].values, 4, data);
        for (int col = 0; col < 2; col++) {
            dict(h, sizeof h, cases[i].descr, col ? "(4, 1)" : "(4,)");
            craft_file(p, 1, (uint32_t)strlen(h), h, data, len);
            int64_t *y;
            size_t n;
            CHECK(sc_npy_read_labels(p, &y, &n) == SC_OK, "%s: %s", cases[i].descr,
                  sc_last_error());
            int same = n == 4 && !memcmp(y, cases[i].values, sizeof cases[i].values);
            int64_t y0 = y[0];
            free(y);
            CHECK(same, "%s%s: n %zu, first %" PRId64, cases[i].descr, col ? " column" : "", n, y0);
        }
    }
    static const char *bad_shapes[] = {"(4, 2)", "(1, 4)", "(2, 2, 1)", "()"};
    static const char *found[] = {"found shape (4, 2)", "found shape (1, 4)",
                                  "found shape (2, 2, 1)", "found shape ()"};
    for (int i = 0; i < 4; i++) {
        craft(p, 1, dict(h, sizeof h, "<i4", bad_shapes[i]), i < 2 ? 32 : i == 2 ? 16 : 4);
        CHECK(refuses(READ_LABELS, p, "expected a 1-D array of labels") && test_error_has(found[i]),
              "%s", sc_last_error());
    }
    int64_t *y;
    size_t n;
    craft(p, 1, dict(h, sizeof h, "|u1", "(0,)"), 0);
    CHECK(sc_npy_read_labels(p, &y, &n) == SC_OK, "%s", sc_last_error());
    int empty = y != NULL && n == 0;
    free(y);
    CHECK(empty);
    unlink(p);
}

/* '<u8' holds values that int64 cannot. */
static void refuses_labels_beyond_int64(void) {
    char p[128], h[128];
    unsigned char data[24], *q = data;
    q = put_bytes(q, 5, 8, 0);
    q = put_bytes(q, (uint64_t)INT64_MAX + 1, 8, 0);
    q = put_bytes(q, UINT64_MAX, 8, 0);
    in_dir(p, sizeof p, "u8.npy");
    craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, "<u8", "(3,)")), h, data, 24);
    CHECK(refuses(READ_LABELS, p, "label 1 exceeds the int64 range"), "%s", sc_last_error());
    /* read big-endian, only UINT64_MAX is still too large */
    craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, ">u8", "(3,)")), h, data, 24);
    CHECK(refuses(READ_LABELS, p, "label 2 exceeds the int64 range"), "%s", sc_last_error());
    unlink(p);
}

/* read_matrix names the row (from 0) of a NaN, an infinity, or a float64 value beyond float32;
 * sc_npy_read keeps them. */
static void refuses_non_finite_values(void) {
    static const struct {
        const char *descr;
        int at;
        double value;
        const char *expect;
    } cases[] = {
        {"<f4", 5, NAN, "row 2 holds a non-finite value (nan in column 1)"},
        {">f4", 0, INFINITY, "row 0 holds a non-finite value (inf in column 0)"},
        {"<f8", 3, -INFINITY, "row 1 holds a non-finite value (-inf in column 1)"},
        {">f8", 4, NAN, "row 2 holds a non-finite value"},
        {"<f8", 2, 1e300, "row 1 holds a value beyond the float32 range (column 0)"},
        {"<f8", 1, -3.5e38, "row 0 holds a value beyond the float32 range (column 1)"},
    };
    char p[128], h[128];
    unsigned char data[48];
    in_dir(p, sizeof p, "nan.npy");
    for (int i = 0; i < 6; i++) {
        double x[6];
        memcpy(x, some_values, sizeof x);
        x[cases[i].at] = cases[i].value;
        size_t len = encode_floats(cases[i].descr, x, 6, data);
        craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, cases[i].descr, "(3, 2)")), h, data,
                   len);
        CHECK(refuses(READ_MATRIX, p, cases[i].expect), "case %d: %s", i, sc_last_error());
        float *y;
        size_t r, c;
        CHECK(sc_npy_read(p, &y, &r, &c) == SC_OK, "case %d: %s", i, sc_last_error());
        int kept = !isfinite(y[cases[i].at]) && (cases[i].at == 0 || y[0] == (float)x[0]);
        free(y);
        CHECK(kept, "case %d", i);
    }
    double big[6] = {1, 2, 3, 4, 5, FLT_MAX};
    size_t len = encode_floats("<f8", big, 6, data);
    craft_file(p, 1, (uint32_t)strlen(dict(h, sizeof h, "<f8", "(2, 3)")), h, data, len);
    CHECK(read_with(READ_MATRIX, p) == SC_OK, "FLT_MAX as float64: %s", sc_last_error());
    unlink(p);
}

/* Files written by NumPy 1.24 (np.save and np.lib.format.write_array; see tests/data/npy). */
static void reads_numpy_fixtures(void) {
    static const struct {
        const char *name;
        size_t rows, cols;
        float values[6];
    } matrices[] = {
        {"f4_2x3.npy", 2, 3, {1.5f, -2, 0.25f, 3, 1e-3f, -0.0f}},
        {"f8be_3x2_v2.npy", 3, 2, {(float)0.1, (float)-1e-8, 2.5f, (float)1e30, -7, 65504}},
        {"f4_2x2_v3.npy", 2, 2, {1, 2, 3, 4}},
    };
    char p[512];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/npy/%s", SC_TEST_DATA, matrices[i].name);
        float *y;
        size_t r, c;
        CHECK(sc_npy_read_matrix(p, &y, &r, &c) == SC_OK, "%s", sc_last_error());
        int same = r == matrices[i].rows && c == matrices[i].cols &&
                   !memcmp(y, matrices[i].values, r * c * sizeof *y);
        free(y);
        CHECK(same, "%s: %zu x %zu", matrices[i].name, r, c);
    }
    static const int64_t i2[] = {-3, 0, 7, 32767, -32768}, u1[] = {0, 255, 7};
    int64_t *l;
    size_t n;
    snprintf(p, sizeof p, "%s/npy/labels_i2.npy", SC_TEST_DATA);
    CHECK(sc_npy_read_labels(p, &l, &n) == SC_OK, "%s", sc_last_error());
    int same = n == 5 && !memcmp(l, i2, sizeof i2);
    free(l);
    CHECK(same, "labels_i2: n %zu", n);
    CHECK(refuses(READ_MATRIX, p, "dtype '<i2' is not supported"), "%s", sc_last_error());
    snprintf(p, sizeof p, "%s/npy/labels_u1_col.npy", SC_TEST_DATA);
    CHECK(sc_npy_read_labels(p, &l, &n) == SC_OK, "%s", sc_last_error());
    same = n == 3 && !memcmp(l, u1, sizeof u1);
    free(l);
    CHECK(same, "labels_u1_col: n %zu", n);
}

/* Every byte of a valid file replaced by bytes that matter to the parser: each reader returns
 * SC_OK or SC_EINPUT (with its output NULL), and never crashes. */
static void survives_damaged_files(void) {
    static const unsigned char subst[] = {0,   0xff, ' ', '(', ')', ',', '9', '0', '\'', '"',
                                          '{', '}',  ':', 'L', '>', 'u', 'f', 8,   2,    0x80};
    char p[128], h[128];
    unsigned char file[256], data[48];
    in_dir(p, sizeof p, "damaged.npy");
    for (int reader = READ; reader <= READ_LABELS; reader++) {
        int64_t ints[6] = {-1, 2, -3, 4, -5, 6};
        const char *descr = reader == READ_LABELS ? "<i8" : "<f8";
        size_t len = reader == READ_LABELS ? encode_ints(descr, ints, 6, data)
                                           : encode_floats(descr, some_values, 6, data);
        craft_file(p, 2, (uint32_t)strlen(dict(h, sizeof h, descr, "(6, 1)")), h, data, len);
        long size = test_read_bytes(p, file, sizeof file);
        CHECK(size > 0 && read_with(reader, p) == SC_OK, "%s", sc_last_error());
        for (long at = 0; at < size; at++) {
            for (size_t k = 0; k < sizeof subst; k++) {
                unsigned char was = file[at];
                file[at] = subst[k];
                test_write_bytes(p, file, (size_t)size);
                file[at] = was;
                int rc = read_with(reader, p);
                CHECK(rc == SC_OK || rc == SC_EINPUT, "byte %ld = %d: rc %d", at, subst[k], rc);
            }
        }
    }
    unlink(p);
}

/* Runs last: the folder must be empty by now. */
static void nothing_left_behind(void) {
    CHECK(rmdir(dir) == 0, "%s is not empty", dir);
}

TEST_MAIN(TEST(setup), TEST(round_trip), TEST(layout_is_exact), TEST(reads_numpy_variants),
          TEST(rejects_malformed_files), TEST(rejects_what_is_no_npy_file),
          TEST(failed_writes_keep_the_old_file), TEST(reads_f4_and_f8_matrices),
          TEST(reads_every_header_version), TEST(read_matrix_wants_two_dims),
          TEST(refuses_fortran_order), TEST(refuses_other_dtypes), TEST(refuses_truncated_files),
          TEST(reads_integer_labels), TEST(refuses_labels_beyond_int64),
          TEST(refuses_non_finite_values), TEST(reads_numpy_fixtures), TEST(survives_damaged_files),
          TEST(nothing_left_behind))
