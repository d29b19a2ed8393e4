/* IDX files: plain and gzip, the two forms of an image set's path, every kind of bad file naming
 * the file and the fault, and the real Fashion-MNIST test set when it is installed. */
#include "harness.h"

#include "siamcl/idx.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FASHION_MNIST "/usr/share/datasets/fashion-mnist"

enum { IMAGES = 0x803, LABELS = 0x801 };

static char dir[] = "/tmp/siamcl_test_idx_XXXXXX";

/* 2 images of 2 x 3 pixels, and labels for them. */
static const uint8_t pix[12] = {0, 255, 51, 1, 2, 3, 10, 20, 30, 40, 50, 128};
static const uint8_t lab[4] = {7, 200, 0, 255};

/* <dir>/<name>; the last four results stay valid. */
static const char *at(const char *name) {
    static char bufs[4][320];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
    return p;
}

/* Writes bytes to <dir>/<name> as they are, or through gzip; 1 on success. */
static int write_file(const char *name, const uint8_t *bytes, size_t n, int gzip) {
    if (gzip) {
        gzFile gz = gzopen(at(name), "wb");
        int ok = gz && gzwrite(gz, bytes, (unsigned)n) == (int)n;
        return gz && gzclose(gz) == Z_OK && ok;
    }
    FILE *f = fopen(at(name), "wb");
    int ok = f && fwrite(bytes, 1, n, f) == n;
    return f && fclose(f) == 0 && ok;
}

/* Writes the magic, the dimensions and n data bytes (which need not match them), gzipped when
 * the name ends in .gz. */
static int write_idx(const char *name, uint32_t magic, const uint32_t *dims, int ndims,
                     const uint8_t *data, size_t n) {
    uint8_t buf[256];
    size_t len = 0;
    for (int i = -1; i < ndims; i++) {
        uint32_t v = i < 0 ? magic : dims[i];
        for (int shift = 24; shift >= 0; shift -= 8) buf[len++] = (uint8_t)(v >> shift);
    }
    if (len + n > sizeof buf) return 0;
    memcpy(buf + len, data, n);
    const char *gz = strstr(name, ".gz");
    return write_file(name, buf, len + n, gz && !gz[3]);
}

static int write_images(const char *name, uint32_t count, uint32_t rows, uint32_t cols, size_t n) {
    uint32_t dims[3] = {count, rows, cols};
    return write_idx(name, IMAGES, dims, 3, pix, n);
}

static int write_labels(const char *name, uint32_t count, size_t n) {
    return write_idx(name, LABELS, &count, 1, lab, n);
}

/* Reads a whole file; n is its size. */
static uint8_t *slurp(const char *name, size_t *n) {
    static uint8_t buf[512];
    FILE *f = fopen(at(name), "rb");
    if (!f) return NULL;
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void setup(void) {
    CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void images_scale_to_unit_range(void) {
    static const char *const names[] = {"img", "img.gz"};
    for (int k = 0; k < 2; k++) {
        CHECK(write_images(names[k], 2, 2, 3, sizeof pix));
        float *p;
        size_t count, rows, cols;
        CHECK_OK(sc_idx_load_images(at(names[k]), &p, &count, &rows, &cols));
        CHECK(count == 2 && rows == 2 && cols == 3, "%s: %zu x %zu x %zu", names[k], count, rows,
              cols);
        CHECK(p[0] == 0.0f && p[1] == 1.0f && fabs(p[2] - 0.2) <= 1e-7, "%s: %g %g %.9g", names[k],
              p[0], p[1], p[2]);
        for (size_t i = 0; i < sizeof pix; i++)
            CHECK(fabs(p[i] - pix[i] / 255.0) <= 1e-7, "%s: pixel %zu is %.9g", names[k], i, p[i]);
        free(p);
    }
}

static void labels_keep_every_value(void) {
    static const char *const names[] = {"lab", "lab.gz"};
    for (int k = 0; k < 2; k++) {
        CHECK(write_labels(names[k], 4, sizeof lab));
        uint8_t *l;
        size_t count;
        CHECK_OK(sc_idx_load_labels(at(names[k]), &l, &count));
        CHECK(count == 4 && !memcmp(l, lab, 4), "%s: %zu labels", names[k], count);
        free(l);
    }
}

static void set_from_directory_prefers_plain_files(void) {
    CHECK(write_images("train-images-idx3-ubyte.gz", 2, 2, 3, sizeof pix));
    CHECK(write_labels("train-labels-idx1-ubyte", 2, 2));
    CHECK(write_labels("train-labels-idx1-ubyte.gz", 3, 3));
    sc_image_set s;
    CHECK_OK(sc_image_set_load(dir, "train", &s));
    CHECK(s.count == 2 && s.rows == 2 && s.cols == 3, "%zu x %zu x %zu", s.count, s.rows, s.cols);
    CHECK(s.labels[0] == 7 && s.labels[1] == 200 && s.pixels[1] == 1.0f);
    sc_image_set_free(&s);
    CHECK(s.pixels == NULL && s.labels == NULL && s.count == 0);
    CHECK(sc_image_set_load(dir, "t10k", &s) == SC_EINPUT);
    CHECK(test_error_has(at("t10k-")) && test_error_has("no such file"), "message: %s",
          sc_last_error());
}

static void set_from_prefix(void) {
    CHECK(write_images("small-images-idx3-ubyte", 2, 2, 3, sizeof pix));
    CHECK(write_labels("small-labels-idx1-ubyte.gz", 2, 2));
    sc_image_set s;
    CHECK_OK(sc_image_set_load(at("small"), "train", &s));
    CHECK(s.count == 2 && s.rows == 2 && s.cols == 3, "%zu x %zu x %zu", s.count, s.rows, s.cols);
    CHECK(s.labels[1] == 200 && fabs(s.pixels[2] - 0.2) <= 1e-7);
    sc_image_set_free(&s);
}

static void missing_file(void) {
    float *p = (float *)1;
    size_t count = 1, rows = 1, cols = 1;
    const char *path = at("absent");
    CHECK(sc_idx_load_images(path, &p, &count, &rows, &cols) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has("No such file"), "message: %s", sc_last_error());
    CHECK(p == NULL && count == 0 && rows == 0 && cols == 0);
    uint8_t *l;
    CHECK(sc_idx_load_labels(path, &l, &count) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has("No such file"), "message: %s", sc_last_error());
}

static void wrong_magic(void) {
    float *p;
    uint8_t *l;
    size_t count, rows, cols;
    CHECK(write_labels("magic-labels", 4, sizeof lab));
    CHECK(sc_idx_load_images(at("magic-labels"), &p, &count, &rows, &cols) == SC_EINPUT);
    CHECK(test_error_has(at("magic-labels")) &&
              test_error_has("magic number 0x00000801, expected 0x00000803"),
          "message: %s", sc_last_error());
    CHECK(write_images("magic-images", 2, 2, 3, sizeof pix));
    CHECK(sc_idx_load_labels(at("magic-images"), &l, &count) == SC_EINPUT);
    CHECK(test_error_has(at("magic-images")) &&
              test_error_has("magic number 0x00000803, expected 0x00000801"),
          "message: %s", sc_last_error());
}

static void truncated_data(void) {
    static const char *const names[] = {"short", "short.gz"};
    float *p;
    size_t count, rows, cols;
    for (int k = 0; k < 2; k++) {
        CHECK(write_images(names[k], 2, 2, 3, 7));
        CHECK(sc_idx_load_images(at(names[k]), &p, &count, &rows, &cols) == SC_EINPUT);
        CHECK(test_error_has(at(names[k])) &&
                  test_error_has("truncated: header promises 12 bytes of data, file holds 7"),
              "message: %s", sc_last_error());
    }
    uint8_t header[10] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0};
    CHECK(write_file("short-header", header, sizeof header, 0));
    CHECK(sc_idx_load_images(at("short-header"), &p, &count, &rows, &cols) == SC_EINPUT);
    CHECK(test_error_has(at("short-header")) &&
              test_error_has("truncated: the header needs 16 bytes, file holds 10"),
          "message: %s", sc_last_error());
}

/* A gzip file cut inside its compressed data, and one that lacks only its 8-byte trailer. */
static void gzip_cut_short(void) {
    size_t n = 0;
    CHECK(write_images("whole.gz", 2, 2, 3, sizeof pix));
    uint8_t *whole = slurp("whole.gz", &n);
    CHECK(whole != NULL && n > 20, "read back %zu bytes", n);
    const size_t cuts[] = {n / 2, n - 4};
    for (int k = 0; k < 2; k++) {
        float *p;
        size_t count, rows, cols;
        CHECK(write_file("cut.gz", whole, cuts[k], 0));
        CHECK(sc_idx_load_images(at("cut.gz"), &p, &count, &rows, &cols) == SC_EINPUT);
        CHECK(test_error_has(at("cut.gz")) &&
                  test_error_has("corrupt gzip data (unexpected end of file)"),
              "cut at %zu of %zu: %s", cuts[k], n, sc_last_error());
    }
}

static void trailing_bytes(void) {
    uint8_t *l;
    size_t count;
    CHECK(write_labels("long", 2, 4));
    CHECK(sc_idx_load_labels(at("long"), &l, &count) == SC_EINPUT);
    CHECK(test_error_has(at("long")) &&
              test_error_has("trailing bytes: header promises 2 bytes of data, file holds 4"),
          "message: %s", sc_last_error());
}

static void corrupt_gzip(void) {
    uint8_t bytes[64] = {0x1f, 0x8b};
    for (size_t i = 2; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 37 + 11);
    CHECK(write_file("garbage.gz", bytes, sizeof bytes, 0));
    uint8_t *l;
    size_t count;
    CHECK(sc_idx_load_labels(at("garbage.gz"), &l, &count) == SC_EINPUT);
    CHECK(test_error_has(at("garbage.gz")) && test_error_has("corrupt gzip data"), "message: %s",
          sc_last_error());
}

static void count_mismatch(void) {
    CHECK(write_images("mismatch-images-idx3-ubyte", 2, 2, 3, sizeof pix));
    CHECK(write_labels("mismatch-labels-idx1-ubyte", 3, 3));
    sc_image_set s;
    CHECK(sc_image_set_load(at("mismatch"), "train", &s) == SC_EINPUT);
    CHECK(test_error_has(at("mismatch-images-idx3-ubyte")) &&
              test_error_has(at("mismatch-labels-idx1-ubyte")) && test_error_has("2 images") &&
              test_error_has("3 labels"),
          "message: %s", sc_last_error());
    CHECK(s.pixels == NULL && s.labels == NULL && s.count == 0);
}

static void bad_dimensions(void) {
    float *p;
    uint8_t *l;
    size_t count, rows, cols;
    CHECK(write_images("zero-rows", 2, 0, 3, 0));
    CHECK(sc_idx_load_images(at("zero-rows"), &p, &count, &rows, &cols) == SC_EINPUT);
    CHECK(test_error_has(at("zero-rows")) && test_error_has("zero dimension in 2 x 0 x 3"),
          "message: %s", sc_last_error());
    CHECK(write_labels("zero-labels", 0, 0));
    CHECK(sc_idx_load_labels(at("zero-labels"), &l, &count) == SC_EINPUT);
    CHECK(test_error_has(at("zero-labels")) && test_error_has("zero dimension in 0"), "message: %s",
          sc_last_error());
    CHECK(write_images("huge", 0xffffffffu, 0xffffffffu, 0xffffffffu, sizeof pix));
    CHECK(sc_idx_load_images(at("huge"), &p, &count, &rows, &cols) == SC_EINPUT);
    CHECK(test_error_has(at("huge")) && test_error_has("are too large"), "message: %s",
          sc_last_error());
}

/* A header promising terabytes is found truncated, not refused for lack of memory. */
static void big_promise_small_file(void) {
    float *p;
    size_t count, rows, cols;
    CHECK(write_images("promise", 60000, 65535, 65535, sizeof pix));
    CHECK(sc_idx_load_images(at("promise"), &p, &count, &rows, &cols) == SC_EINPUT);
    CHECK(test_error_has(at("promise")) &&
              test_error_has("truncated: header promises 257690173500000 bytes"),
          "message: %s", sc_last_error());
}

static void fashion_mnist_test_set(void) {
    struct stat sb;
    if (stat(FASHION_MNIST, &sb) != 0) {
        printf("  note: %s is absent (tools/setup.sh installs it); skipped\n", FASHION_MNIST);
        return;
    }
    sc_image_set s;
    CHECK_OK(sc_image_set_load(FASHION_MNIST, "t10k", &s));
    CHECK(s.count == 10000 && s.rows == 28 && s.cols == 28, "%zu x %zu x %zu", s.count, s.rows,
          s.cols);
    size_t per_class[10] = {0};
    for (size_t i = 0; i < s.count; i++) {
        CHECK(s.labels[i] < 10, "label %zu is %d", i, s.labels[i]);
        per_class[s.labels[i]]++;
    }
    for (int c = 0; c < 10; c++) CHECK(per_class[c] == 1000, "class %d: %zu", c, per_class[c]);
    float lo = 1, hi = 0;
    for (size_t i = 0; i < s.count * s.rows * s.cols; i++) {
        lo = fminf(lo, s.pixels[i]);
        hi = fmaxf(hi, s.pixels[i]);
    }
    CHECK(lo == 0.0f && hi == 1.0f, "pixels in %g..%g", lo, hi);
    sc_image_set_free(&s);
}

static void remove_temp_dir(void) {
    DIR *d = opendir(dir);
    CHECK(d != NULL, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(at(e->d_name));
    closedir(d);
    CHECK(rmdir(dir) == 0, "%s: %s", dir, strerror(errno));
}

TEST_MAIN(TEST(setup), TEST(images_scale_to_unit_range), TEST(labels_keep_every_value),
          TEST(set_from_directory_prefers_plain_files), TEST(set_from_prefix), TEST(missing_file),
          TEST(wrong_magic), TEST(truncated_data), TEST(gzip_cut_short), TEST(trailing_bytes),
          TEST(corrupt_gzip), TEST(count_mismatch), TEST(bad_dimensions),
          TEST(big_promise_small_file), TEST(fashion_mnist_test_set), TEST(remove_temp_dir))
