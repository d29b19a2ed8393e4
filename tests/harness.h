/* A small test harness: each test program runs its cases in one process, sharing one OpenCL
 * runtime, and ends with the line "N passed, M failed". */
#ifndef SIAMCL_TEST_HARNESS_H
#define SIAMCL_TEST_HARNESS_H

#include "siamcl/rng.h"
#include "siamcl/runtime.h"

#include <stddef.h>

typedef struct test_case {
    const char *name;
    void (*run)(void);
} test_case;

/* Records a failure of the running case; CHECK returns from the case on failure. */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(__FILE__, __LINE__, "CHECK(" #cond ") " __VA_ARGS__);                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)
/* Prints a measured relative error beside its bound, and checks it. */
#define CHECK_REL(err, bound, ...)                                                                 \
    do {                                                                                           \
        double e_ = (err);                                                                         \
        printf("    ");                                                                            \
        printf(__VA_ARGS__);                                                                       \
        printf(": relative error %.2e (bound %.0e)\n", e_, (double)(bound));                       \
        CHECK(e_ < (bound), "relative error %.3g", e_);                                            \
    } while (0)
/* Checks an SC_OK status. */
#define CHECK_OK(expr) CHECK((expr) == SC_OK, "-> %s", sc_last_error())

/* Whether the last error message contains needle. */
int test_error_has(const char *needle);
/* Writes n bytes to path (exits on failure: the test's own fixture). */
void test_write_bytes(const char *path, const void *bytes, size_t n);
/* Reads up to cap bytes of a file; the file's size, or -1 when it cannot be read. */
long test_read_bytes(const char *path, unsigned char *buf, size_t cap);

/* The number of entries of dir whose name holds ".tmp." (temporary files left behind). */
int test_temp_files(const char *dir);

/* The process's runtime, opened on first use (SIAMCL_DEVICE chooses, auto otherwise), with
 * the GEMM parameters a command would run with where there is no tuning file. */
sc_runtime *test_runtime(void);
/* Whether SIAMCL_TEST_SMALL is set (and not 0): kernel tests keep to small shapes, for a
 * simulator such as Oclgrind that runs a thousand times slower than a CPU driver. */
int test_small(void);
/* A generator seeded from SIAMCL_TEST_SEED or the clock; the seed is printed. */
sc_rng *test_rng(void);
/* Fills x with uniform values in [lo, hi). */
void test_fill(float *x, size_t n, float lo, float hi);
/* ||got - ref|| / ||ref|| (2-norms; the absolute norm when ref is zero). */
double test_rel_error(const float *got, const double *ref, size_t n);
/* A device buffer holding n floats copied from host (or zeros when host is NULL). */
cl_mem test_buffer(size_t n, const float *host);

/* A function of n_in doubles to n_out doubles, for finite differences. */
typedef void (*test_fn)(const double *in, double *out, void *ctx);
/* The gradient of sum_k c[k] f(in)[k] with respect to in, by central differences of step h
 * in double precision (a vector-Jacobian product, as a backward pass computes). */
void test_fd_vjp(test_fn f, void *ctx, const double *in, size_t n_in, size_t n_out, const double *c,
                 double h, double *grad);
/* Float copies of doubles and back. */
void test_to_float(const double *x, float *y, size_t n);
void test_to_double(const float *x, double *y, size_t n);

/* Runs the cases named on the command line, or all of them; an unknown name exits 2. With
 * SIAMCL_TEST_KERNEL_LOG set, appends the names of the kernels launched to that file. */
int test_main(const test_case *cases, int count, int argc, char **argv);
#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv) {                                                              \
        static const test_case cases[] = {__VA_ARGS__};                                            \
        return test_main(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);                \
    }
#define TEST(fn)                                                                                   \
    { #fn, fn }

#endif
