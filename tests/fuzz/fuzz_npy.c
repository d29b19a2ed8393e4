/* libFuzzer harness: .npy arrays (sc_npy_read, sc_npy_read_matrix, sc_npy_read_labels).
 *
 * clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 *   -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -Iinclude -Ihost \
 *   -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 tests/fuzz/fuzz_npy.c host/npy.c \
 *   host/atomic_file.c host/error.c -lm -o build-fuzz/fuzz_npy
 */
#include "fuzz_util.h"

#include "siamcl/error.h"
#include "siamcl/npy.h"

#include <math.h>
#include <stdint.h>

/* A failed read is SC_EINPUT with a message and leaves the output NULL. */
static void check_failure(int rc, const void *out) {
    FUZZ_ASSERT(rc == SC_EINPUT && !out && sc_last_error()[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("in.npy", data, size);
    float *x = (float *)1;
    size_t rows, cols, n;
    int rc = sc_npy_read(path, &x, &rows, &cols);
    if (rc == SC_OK) {
        /* every value (4 or 8 bytes) is in the file */
        FUZZ_ASSERT(cols == 0 || rows <= SIZE_MAX / cols);
        FUZZ_ASSERT(rows * cols <= size / 4);
        volatile float sum = 0;
        for (size_t i = 0; i < rows * cols; i++) sum += x[i]; /* ASan: all there */
        (void)sum;
    } else {
        check_failure(rc, x);
    }
    free(x);

    x = (float *)1;
    rc = sc_npy_read_matrix(path, &x, &rows, &cols);
    if (rc == SC_OK) {
        FUZZ_ASSERT((cols == 0 || rows <= SIZE_MAX / cols) && rows * cols <= size / 4);
        for (size_t i = 0; i < rows * cols; i++) FUZZ_ASSERT(isfinite(x[i]));
    } else {
        check_failure(rc, x);
    }
    free(x);

    int64_t *labels = (int64_t *)1;
    rc = sc_npy_read_labels(path, &labels, &n);
    if (rc == SC_OK) {
        FUZZ_ASSERT(n <= size);
        volatile int64_t sum = 0;
        for (size_t i = 0; i < n; i++) sum ^= labels[i];
        (void)sum;
    } else {
        check_failure(rc, labels);
    }
    free(labels);
    return 0;
}
