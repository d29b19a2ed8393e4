/* The runtime: kernel-directory lookup, build failures, error names, and the elementwise
 * kernels against a double-precision reference. */
#include "harness.h"
#include "reference.h"

#include "siamcl/elementwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void make_dir(const char *dir, int with_kernels) {
    mkdir(dir, 0700);
    if (with_kernels) {
        char p[300];
        snprintf(p, sizeof p, "%s/elementwise.cl", dir);
        FILE *f = fopen(p, "w");
        if (f) fclose(f);
    }
}

static void kernel_dir_lookup_order(void) {
    char env[128], build[128], install[128], empty[128], out[256];
    snprintf(env, sizeof env, "/tmp/siamcl_kd_env_%d", (int)getpid());
    snprintf(build, sizeof build, "/tmp/siamcl_kd_build_%d", (int)getpid());
    snprintf(install, sizeof install, "/tmp/siamcl_kd_install_%d", (int)getpid());
    snprintf(empty, sizeof empty, "/tmp/siamcl_kd_empty_%d", (int)getpid());
    make_dir(env, 1);
    make_dir(build, 1);
    make_dir(install, 1);
    make_dir(empty, 0);
    CHECK_OK(sc_kernel_dir_find(env, build, install, out, sizeof out));
    CHECK(!strcmp(out, env), "env first: got %s", out);
    CHECK_OK(sc_kernel_dir_find(NULL, build, install, out, sizeof out));
    CHECK(!strcmp(out, build), "build tree second: got %s", out);
    CHECK_OK(sc_kernel_dir_find("", empty, install, out, sizeof out));
    CHECK(!strcmp(out, install), "install prefix last: got %s", out);
    CHECK(sc_kernel_dir_find(empty, build, install, out, sizeof out) == SC_EINPUT,
          "a set SIAMCL_KERNEL_DIR without kernels must fail");
    CHECK(test_error_has(empty), "message: %s", sc_last_error());
    CHECK(sc_kernel_dir_find(NULL, empty, NULL, out, sizeof out) == SC_EINPUT);
    CHECK(test_error_has("SIAMCL_KERNEL_DIR"), "message: %s", sc_last_error());
    for (const char *d = env; d; d = d == env ? build : d == build ? install : NULL) {
        char p[300];
        snprintf(p, sizeof p, "%s/elementwise.cl", d);
        unlink(p);
        rmdir(d);
    }
    rmdir(empty);
}

static void broken_kernel_reports_build_log(void) {
    sc_runtime *rt = test_runtime();
    cl_program prog = NULL;
    int rc = sc_program_build_file(rt, SC_TEST_DATA "/broken.cl", &prog);
    CHECK(rc == SC_ERR, "rc %d", rc);
    CHECK(prog == NULL);
    CHECK(test_error_has("broken.cl") && test_error_has("CL_BUILD_PROGRAM_FAILURE"), "message: %s",
          sc_last_error());
    CHECK(test_error_has("undefined_identifier_in_broken_cl"), "no build log in: %s",
          sc_last_error());
    CHECK(sc_program_build_file(rt, SC_TEST_DATA "/no_such.cl", &prog) == SC_EINPUT);
    CHECK(test_error_has("no_such.cl"), "message: %s", sc_last_error());
}

static void unknown_kernel_is_an_error(void) {
    cl_kernel k;
    CHECK(sc_kernel_get(test_runtime(), "elementwise", "no_such_kernel", &k) == SC_ERR);
    CHECK(test_error_has("no_such_kernel") && test_error_has("CL_INVALID_KERNEL_NAME"),
          "message: %s", sc_last_error());
}

static void error_names(void) {
    CHECK(!strcmp(sc_cl_error_name(CL_INVALID_WORK_GROUP_SIZE), "CL_INVALID_WORK_GROUP_SIZE"));
    CHECK(!strcmp(sc_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES"));
    CHECK(!strcmp(sc_cl_error_name(CL_INVALID_KERNEL_ARGS), "CL_INVALID_KERNEL_ARGS"));
    CHECK(!strcmp(sc_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR"));
    CHECK(!strcmp(sc_cl_error_name(-12345), "CL_UNKNOWN_ERROR"));
    /* every code OpenCL 1.2 defines (0..-19 and -30..-68) has a name of its own */
    for (int code = 0; code >= -68; code--) {
        if (code <= -20 && code >= -29) continue;
        CHECK(strcmp(sc_cl_error_name(code), "CL_UNKNOWN_ERROR") != 0, "code %d has no name", code);
    }
    CHECK(sc_cl_fail(CL_INVALID_VALUE, "clFoo(x)", "file.c", 42) == SC_ERR);
    CHECK(test_error_has("file.c:42") && test_error_has("CL_INVALID_VALUE") &&
              test_error_has("clFoo(x)"),
          "message: %s", sc_last_error());
}

/* Widths around the kernels' 8 columns per work-item, each with another row count, at an offset
 * that breaks alignment: check(a, rows, cols) for every activation a. */
enum { OFF = 3 };
static void for_each_shape(void (*check)(sc_act, size_t, size_t)) {
    const size_t sizes[] = {1, 7, 33, 257, 784};
    for (int a = 0; a < 4; a++)
        for (int si = 0; si < 5; si++) check((sc_act)a, sizes[(si + 2) % 5], sizes[si]);
}

static void check_bias_act_forward(sc_act a, size_t rows, size_t cols) {
    size_t n = rows * cols;
    float *y = malloc((n + OFF) * sizeof *y), *b = malloc((cols + OFF) * sizeof *b);
    double *ref = malloc(n * sizeof *ref);
    test_fill(y, n + OFF, -3, 3);
    test_fill(b, cols + OFF, -1, 1);
    for (size_t i = 0; i < n; i++) ref[i] = ref_act((double)y[OFF + i] + b[OFF + i % cols], a);
    cl_mem ym = test_buffer(n + OFF, y), bm = test_buffer(cols + OFF, b);
    CHECK_OK(
        sc_bias_act_forward(test_runtime(), (sc_view){ym, OFF}, (sc_view){bm, OFF}, rows, cols, a));
    CHECK_OK(sc_download(test_runtime(), y, (sc_view){ym, OFF}, n));
    double err = test_rel_error(y, ref, n);
    sc_buffer_free(ym), sc_buffer_free(bm);
    free(y), free(b), free(ref);
    CHECK_REL(err, 1e-5, "%s %zux%zu", sc_act_names[a], rows, cols);
}

static void bias_act_forward_matches_reference(void) {
    for_each_shape(check_bias_act_forward);
}

/* The activation's derivative from its output y, in double. */
static double ref_act_grad(double y, sc_act a) {
    switch (a) {
    case SC_ACT_RELU:
        return y > 0 ? 1 : 0;
    case SC_ACT_TANH:
        return 1 - y * y;
    case SC_ACT_SIGMOID:
        return y * (1 - y);
    default:
        return 1;
    }
}

static void check_act_bias_backward(sc_act a, size_t rows, size_t cols) {
    size_t n = rows * cols;
    float *y = malloc((n + OFF) * sizeof *y), *dy = malloc((n + OFF) * sizeof *dy);
    float *db = malloc(cols * sizeof *db);
    double *dz = calloc(n, sizeof *dz), *dbref = calloc(cols, sizeof *dbref);
    test_fill(y, n + OFF, a == SC_ACT_RELU ? -1 : 0.05, 0.95); /* outputs of act */
    test_fill(dy, n + OFF, -1, 1);
    for (size_t i = 0; i < n; i++) {
        dz[i] = (double)dy[OFF + i] * ref_act_grad(y[OFF + i], a);
        dbref[i % cols] += dz[i];
    }
    cl_mem ym = test_buffer(n + OFF, y), dym = test_buffer(n + OFF, dy);
    cl_mem dbm = test_buffer(cols + OFF, NULL);
    CHECK_OK(sc_act_bias_backward(test_runtime(), (sc_view){dym, OFF}, (sc_view){ym, OFF},
                                  (sc_view){dbm, OFF}, rows, cols, a));
    CHECK_OK(sc_download(test_runtime(), dy, (sc_view){dym, OFF}, n));
    CHECK_OK(sc_download(test_runtime(), db, (sc_view){dbm, OFF}, cols));
    double err = test_rel_error(dy, dz, n), errb = test_rel_error(db, dbref, cols);
    sc_buffer_free(ym), sc_buffer_free(dym), sc_buffer_free(dbm);
    free(y), free(dy), free(db), free(dz), free(dbref);
    CHECK_REL(err, 1e-6, "%s %zux%zu dz", sc_act_names[a], rows, cols);
    CHECK_REL(errb, 1e-5, "%s %zux%zu db", sc_act_names[a], rows, cols);
}

static void act_bias_backward_matches_reference(void) {
    for_each_shape(check_act_bias_backward);
}

static void quiet(void) {
    sc_error_set_quiet(1);
}

TEST_MAIN(TEST(quiet), TEST(kernel_dir_lookup_order), TEST(error_names),
          TEST(broken_kernel_reports_build_log), TEST(unknown_kernel_is_an_error),
          TEST(bias_act_forward_matches_reference), TEST(act_bias_backward_matches_reference))
