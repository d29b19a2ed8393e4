/* libFuzzer harness: IDX images and labels (sc_idx_load_images, sc_idx_load_labels), each input
 * read as it is (which covers corrupt gzip when it starts 1f 8b) and gzip-compressed by zlib.
 *
 * clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 *   -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -Iinclude -Ihost \
 *   -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 tests/fuzz/fuzz_idx.c host/idx.c \
 *   host/error.c -lz -lm -o build-fuzz/fuzz_idx
 */
#include "fuzz_util.h"

#include "siamcl/error.h"
#include "siamcl/idx.h"

#include <stdint.h>
#include <zlib.h>

/* exact: the file's data is the size bytes as they are, so that a file read right is as long
 * as its header and the data it promises (not so for raw bytes that zlib takes for gzip). */
static void load(const char *path, size_t size, int exact) {
    float *pixels = (float *)1;
    uint8_t *labels = (uint8_t *)1;
    size_t count, rows, cols;
    int rc = sc_idx_load_images(path, &pixels, &count, &rows, &cols);
    if (rc == SC_OK) {
        FUZZ_ASSERT(count && rows && cols);
        size_t n = count * rows * cols;
        for (size_t i = 0; i < n; i++) FUZZ_ASSERT(pixels[i] >= 0.0f && pixels[i] <= 1.0f);
        FUZZ_ASSERT(!exact || size == 16 + n);
    } else {
        FUZZ_ASSERT(rc == SC_EINPUT && !pixels && sc_last_error()[0]);
    }
    free(pixels);
    rc = sc_idx_load_labels(path, &labels, &count);
    if (rc == SC_OK) {
        FUZZ_ASSERT(count && (!exact || size == 8 + count));
        unsigned sum = 0;
        for (size_t i = 0; i < count; i++) sum += labels[i]; /* ASan checks every byte is there */
        FUZZ_ASSERT(sum <= 255 * count);
    } else {
        FUZZ_ASSERT(rc == SC_EINPUT && !labels && sc_last_error()[0]);
    }
    free(labels);
}

/* Compresses n bytes as one gzip member; its length, 0 on failure. */
static size_t gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? len : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int gzip_magic = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    load(fuzz_write("in", data, size), size, !gzip_magic);
    size_t cap = compressBound((uLong)size) + 32;
    uint8_t *gz = malloc(cap);
    if (!gz) abort();
    size_t n = gzip(data, size, gz, cap);
    FUZZ_ASSERT(n > 0);
    load(fuzz_write("in.gz", gz, n), size, 1);
    free(gz);
    return 0;
}
