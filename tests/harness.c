#include "harness.h"
#include "siamcl/tune.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sc_runtime *runtime;
static sc_rng rng;
static int rng_ready;
static int failed;

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failed = 1;
}

int test_error_has(const char *needle) {
    return strstr(sc_last_error(), needle) != NULL;
}

void test_write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

long test_read_bytes(const char *path, unsigned char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap, f);
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    fclose(f);
    return n == (size_t)size || size > (long)cap ? size : -1;
}

int test_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static void print_note(void *ctx, const char *line) {
    (void)ctx;
    printf("    note: %s\n", line);
}

sc_runtime *test_runtime(void) {
    if (runtime) return runtime;
    /* the GEMM parameters the commands run with where there is no tuning file */
    sc_gemm_params p;
    int rc = sc_runtime_open(&runtime, getenv("SIAMCL_DEVICE"));
    if (rc == SC_OK) runtime->note = print_note;
    if (rc == SC_OK && sc_gemm_builtin(&runtime->dev, &p)) {
        rc = sc_gemm_params_apply(runtime, &p);
        if (rc == SC_GEMM_SKIPPED) {
            printf("    note: built-in set skipped: %s\n", sc_last_error());
            rc = SC_OK;
        }
    }
    if (rc != SC_OK) {
        fprintf(stderr, "cannot open an OpenCL device: %s\n", sc_last_error());
        exit(1);
    }
    return runtime;
}

int test_small(void) {
    const char *s = getenv("SIAMCL_TEST_SMALL");
    return s && *s && strcmp(s, "0") != 0;
}

sc_rng *test_rng(void) {
    if (!rng_ready) {
        const char *s = getenv("SIAMCL_TEST_SEED");
        uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
        printf("seed %llu (set SIAMCL_TEST_SEED to repeat)\n", (unsigned long long)seed);
        sc_rng_seed(&rng, seed, 7);
        rng_ready = 1;
    }
    return &rng;
}

void test_fill(float *x, size_t n, float lo, float hi) {
    sc_rng *r = test_rng();
    for (size_t i = 0; i < n; i++) x[i] = sc_rng_range(r, lo, hi);
}

double test_rel_error(const float *got, const double *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = got[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

cl_mem test_buffer(size_t n, const float *host) {
    sc_runtime *rt = test_runtime();
    cl_mem m;
    if (sc_buffer_new(rt, n * sizeof(float), &m) != SC_OK ||
        (host ? sc_upload(rt, (sc_view){m, 0}, host, n) : sc_fill(rt, (sc_view){m, 0}, 0, n)) !=
            SC_OK) {
        fprintf(stderr, "test buffer: %s\n", sc_last_error());
        exit(1);
    }
    return m;
}

void test_fd_vjp(test_fn f, void *ctx, const double *in, size_t n_in, size_t n_out, const double *c,
                 double h, double *grad) {
    double *x = malloc(n_in * sizeof *x), *out = malloc(n_out * sizeof *out);
    memcpy(x, in, n_in * sizeof *x);
    for (size_t i = 0; i < n_in; i++) {
        double plus = 0, minus = 0;
        x[i] = in[i] + h;
        f(x, out, ctx);
        for (size_t k = 0; k < n_out; k++) plus += c[k] * out[k];
        x[i] = in[i] - h;
        f(x, out, ctx);
        for (size_t k = 0; k < n_out; k++) minus += c[k] * out[k];
        x[i] = in[i];
        grad[i] = (plus - minus) / (2 * h);
    }
    free(x);
    free(out);
}

void test_to_float(const double *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)x[i];
}

void test_to_double(const float *x, double *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i];
}

/* Appends the names of the kernels this process launched to $SIAMCL_TEST_KERNEL_LOG (one a
 * line), for a check that the tests launch every kernel of cl/. */
static void log_kernels(void) {
    const char *path = getenv("SIAMCL_TEST_KERNEL_LOG");
    FILE *f = runtime && path && *path ? fopen(path, "a") : NULL;
    if (!f) return;
    for (int i = 0; i < runtime->nkernels; i++)
        if (runtime->kernels[i].launches) fprintf(f, "%s\n", runtime->kernels[i].name);
    fclose(f);
}

static int selected(const char *name, int argc, char **argv) {
    for (int a = 1; a < argc; a++)
        if (!strcmp(argv[a], name)) return 1;
    return argc < 2;
}

int test_main(const test_case *cases, int count, int argc, char **argv) {
    int passed = 0, nfailed = 0;
    for (int a = 1; a < argc; a++) {
        int known = 0;
        for (int i = 0; i < count; i++) known |= !strcmp(argv[a], cases[i].name);
        if (!known) {
            fprintf(stderr, "%s: no test case '%s'\n", argv[0], argv[a]);
            return 2;
        }
    }
    for (int i = 0; i < count; i++) {
        if (!selected(cases[i].name, argc, argv)) continue;
        failed = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cases[i].run();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        printf("%s %s (%.2f s)\n", failed ? "FAIL" : "ok  ", cases[i].name, s);
        fflush(stdout);
        if (failed)
            nfailed++;
        else
            passed++;
    }
    log_kernels();
    sc_runtime_close(runtime);
    printf("%d passed, %d failed\n", passed, nfailed);
    return nfailed ? 1 : 0;
}
