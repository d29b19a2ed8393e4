/* The runtime: kernel-directory lookup, the prelude and build failures, error names, the
 * elementwise kernels against a double-precision reference, work-group sizes within the
 * device's limits, and kernel sources that need no optional device feature. */
#include "harness.h"
#include "reference.h"

#include "siamcl/elementwise.h"

#include <ctype.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
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
    /* the prelude comes first, yet the log counts broken.cl's own lines */
    CHECK(test_error_has("broken.cl:3:"), "line 3 of broken.cl not in: %s", sc_last_error());
    CHECK(sc_program_build_file(rt, SC_TEST_DATA "/no_such.cl", &prog) == SC_EINPUT);
    CHECK(test_error_has("no_such.cl"), "message: %s", sc_last_error());
}

static void write_text(const char *path, const char *text) {
    test_write_bytes(path, text, strlen(text));
}

/* A kernel file outside the kernel directory calls the prelude's flush_subnormal, which no .cl
 * file but the prelude defines. */
static void prelude_is_part_of_every_program(void) {
    sc_runtime *rt = test_runtime();
    char path[128];
    snprintf(path, sizeof path, "/tmp/siamcl_prelude_user_%d.cl", (int)getpid());
    write_text(path, "kernel void flush(global const float *x, global float *y) {\n"
                     "    y[get_global_id(0)] = flush_subnormal(x[get_global_id(0)]);\n"
                     "}\n");
    cl_program prog = NULL;
    int rc = sc_program_build_file(rt, path, &prog);
    unlink(path);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    enum { N = 6 };
    float x[N] = {1.0f, FLT_MIN, FLT_MIN / 2, -FLT_MIN / 1024, 0.0f, -3.5f}, y[N];
    const float want[N] = {1.0f, FLT_MIN, 0.0f, 0.0f, 0.0f, -3.5f};
    cl_mem xm = test_buffer(N, x), ym = test_buffer(N, NULL);
    cl_int err;
    cl_kernel k = clCreateKernel(prog, "flush", &err);
    if (err == CL_SUCCESS) err = clSetKernelArg(k, 0, sizeof xm, &xm);
    if (err == CL_SUCCESS) err = clSetKernelArg(k, 1, sizeof ym, &ym);
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, (size_t[]){N}, NULL, 0, NULL, NULL);
    rc = err == CL_SUCCESS ? sc_download(rt, y, (sc_view){ym, 0}, N) : SC_ERR;
    if (k) clReleaseKernel(k);
    clReleaseProgram(prog);
    sc_buffer_free(xm), sc_buffer_free(ym);
    CHECK(err == CL_SUCCESS, "%s", sc_cl_error_name(err));
    CHECK_OK(rc);
    for (int i = 0; i < N; i++) {
        unsigned got, exp;
        memcpy(&got, &y[i], sizeof got);
        memcpy(&exp, &want[i], sizeof exp);
        CHECK(got == exp, "flush_subnormal(%g) = %g (bits %08x, want %08x)", x[i], y[i], got, exp);
    }
}

/* What the kernel `probe` of dir/probe.cl writes, built by a fresh runtime whose kernel
 * directory is dir (found through SIAMCL_KERNEL_DIR, as a run would find it). */
static int probe_value(const char *dir, float *value) {
    const char *was = getenv("SIAMCL_KERNEL_DIR");
    char *saved = was ? strdup(was) : NULL;
    setenv("SIAMCL_KERNEL_DIR", dir, 1);
    sc_runtime *rt;
    int rc = sc_runtime_open(&rt, getenv("SIAMCL_DEVICE"));
    if (saved)
        setenv("SIAMCL_KERNEL_DIR", saved, 1);
    else
        unsetenv("SIAMCL_KERNEL_DIR");
    free(saved);
    if (rc != SC_OK) return rc;
    cl_mem out = NULL;
    rc = sc_buffer_new(rt, sizeof(float), &out);
    if (rc == SC_OK)
        rc = sc_launch_args(rt, "probe", "probe", 1, (size_t[]){1}, NULL, SC_ARGS(SC_MEM(out)));
    if (rc == SC_OK) rc = sc_download(rt, value, (sc_view){out, 0}, 1);
    sc_buffer_free(out);
    sc_runtime_close(rt);
    return rc;
}

/* Only the prelude changes between builds, and each build must run the prelude it was given, not
 * a binary cached for the unchanged kernel file. Errors in the prelude are counted in its own
 * lines; a missing prelude names its path. */
static void edited_prelude_is_rebuilt(void) {
    char dir[128], ew[160], probe[160], prelude[160];
    snprintf(dir, sizeof dir, "/tmp/siamcl_prelude_%d", (int)getpid());
    snprintf(ew, sizeof ew, "%s/elementwise.cl", dir);
    snprintf(probe, sizeof probe, "%s/probe.cl", dir);
    snprintf(prelude, sizeof prelude, "%s/%s", dir, SC_PRELUDE_FILE);
    mkdir(dir, 0700);
    write_text(ew, ""); /* what marks a kernel directory */
    write_text(probe, "kernel void probe(global float *out) {\n"
                      "    out[0] = prelude_value();\n"
                      "}\n");
    float got = 0, got2 = 0;
    write_text(prelude, "float prelude_value(void) { return 1.25f; }\n");
    int rc1 = probe_value(dir, &got);
    write_text(prelude, "float prelude_value(void) { return 2.5f; }"); /* no final newline */
    int rc2 = probe_value(dir, &got2);
    write_text(prelude, "// line 1\nnot_a_type prelude_value(void) { return 1.0f; }\n");
    int rc3 = probe_value(dir, &(float){0});
    char msg3[4096];
    snprintf(msg3, sizeof msg3, "%s", sc_last_error());
    unlink(prelude);
    int rc4 = probe_value(dir, &(float){0});
    unlink(probe);
    unlink(ew);
    rmdir(dir);
    CHECK(rc1 == SC_OK, "-> %s", sc_last_error());
    CHECK(got == 1.25f, "first prelude: got %g", got);
    CHECK(rc2 == SC_OK, "-> %s", sc_last_error());
    CHECK(got2 == 2.5f, "edited prelude: got %g, a stale binary?", got2);
    CHECK(rc3 == SC_ERR, "a broken prelude built: rc %d", rc3);
    CHECK(strstr(msg3, "probe.cl") && strstr(msg3, SC_PRELUDE_FILE ":2:"),
          "want probe.cl and the prelude's line 2 in: %s", msg3);
    CHECK(rc4 == SC_EINPUT, "a missing prelude: rc %d", rc4);
    CHECK(test_error_has(prelude), "message: %s", sc_last_error());
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
    double *dbmag = calloc(cols, sizeof *dbmag);
    test_fill(y, n + OFF, a == SC_ACT_RELU ? -1 : 0.05, 0.95); /* outputs of act */
    test_fill(dy, n + OFF, -1, 1);
    for (size_t i = 0; i < n; i++) {
        dz[i] = (double)dy[OFF + i] * ref_act_grad(y[OFF + i], a);
        dbref[i % cols] += dz[i];
        dbmag[i % cols] += fabs(dz[i]);
    }
    cl_mem ym = test_buffer(n + OFF, y), dym = test_buffer(n + OFF, dy);
    cl_mem dbm = test_buffer(cols + OFF, NULL);
    CHECK_OK(sc_act_bias_backward(test_runtime(), (sc_view){dym, OFF}, (sc_view){ym, OFF},
                                  (sc_view){dbm, OFF}, rows, cols, a));
    CHECK_OK(sc_download(test_runtime(), dy, (sc_view){dym, OFF}, n));
    CHECK_OK(sc_download(test_runtime(), db, (sc_view){dbm, OFF}, cols));
    /* db's error relative to the size of the terms it sums: a column that sums to near zero
     * has a large error relative to itself in any order */
    double err = test_rel_error(dy, dz, n), errb = 0, mag = 0;
    for (size_t c = 0; c < cols; c++) {
        errb += (db[c] - dbref[c]) * (db[c] - dbref[c]);
        mag += dbmag[c] * dbmag[c];
    }
    errb = sqrt(errb / (mag > 0 ? mag : 1));
    sc_buffer_free(ym), sc_buffer_free(dym), sc_buffer_free(dbm);
    free(y), free(dy), free(db), free(dz), free(dbref), free(dbmag);
    CHECK_REL(err, 1e-6, "%s %zux%zu dz", sc_act_names[a], rows, cols);
    CHECK_REL(errb, 1e-5, "%s %zux%zu db", sc_act_names[a], rows, cols);
}

static void act_bias_backward_matches_reference(void) {
    for_each_shape(check_act_bias_backward);
}

static int group_is(int dims, const size_t *want, size_t max, const size_t *items,
                    const size_t *expect) {
    size_t out[3];
    sc_group_fit(dims, want, max, items, out);
    for (int d = 0; d < dims; d++)
        if (out[d] != expect[d]) return 0;
    return 1;
}

/* Work-groups shrink to the kernel's and device's limits: fake limits of small devices
 * (Oclgrind with --max-wgsize, an iGPU's kernel of many registers). */
static void work_groups_fit_the_limits(void) {
    const size_t big[] = {4096, 4096, 4096}, narrow[] = {32, 1024, 64};
    CHECK(group_is(1, (size_t[]){64}, 4096, big, (size_t[]){64}), "fits: kept");
    CHECK(group_is(1, (size_t[]){64}, 16, big, (size_t[]){16}), "the kernel's limit");
    CHECK(group_is(2, (size_t[]){8, 8}, 16, big, (size_t[]){4, 4}), "halving the larger");
    CHECK(group_is(2, (size_t[]){8, 8}, 32, big, (size_t[]){8, 4}), "the later on a tie");
    CHECK(group_is(2, (size_t[]){64, 1}, 1024, narrow, (size_t[]){32, 1}), "work-item sizes");
    CHECK(group_is(2, (size_t[]){8, 8}, 1, big, (size_t[]){1, 1}), "one work-item");
    CHECK(group_is(3, (size_t[]){4, 4, 4}, 8, big, (size_t[]){2, 2, 2}));
    CHECK(group_is(1, (size_t[]){0}, 8, big, (size_t[]){1}), "at least one");
    /* the runtime's own one-dimensional size: a power of two within the device's limits */
    sc_runtime *rt = test_runtime();
    CHECK(rt->group >= 1 && rt->group <= 64 && (rt->group & (rt->group - 1)) == 0 &&
              rt->group <= rt->limits.max_group,
          "group %zu, device %zu", rt->group, rt->limits.max_group);
}

/* Whether the text from p on holds a floating literal without an f suffix (a double). */
static int double_literal(const char *p, size_t *len) {
    size_t n = 0;
    int floating = 0, hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '.' || p[n] == '_' ||
                    ((p[n] == '+' || p[n] == '-') && n && strchr(hex ? "pP" : "eE", p[n - 1])))) {
        floating |= p[n] == '.' || (!hex && (p[n] == 'e' || p[n] == 'E'));
        n++;
    }
    *len = n ? n : 1;
    return floating && p[n - 1] != 'f' && p[n - 1] != 'F';
}

/* What a kernel would need an optional device feature for (doubles, halves, extensions,
 * images) appears nowhere in cl/, outside comments: rusticl's llvmpipe, like many iGPUs, has no
 * doubles, and where PoCL has them an unsuffixed literal turns float arithmetic into double. */
static void kernels_need_no_optional_features(void) {
    static const char *const banned[] = {"double",    "half",        "image2d_t",   "image3d_t",
                                         "sampler_t", "cl_khr_fp64", "cl_khr_fp16", "OPENCL",
                                         "atom_add",  "atomic_add"};
    sc_runtime *rt = test_runtime();
    DIR *dir = opendir(rt->kernel_dir);
    CHECK(dir, "%s: cannot list", rt->kernel_dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t nl = strlen(e->d_name);
        if (nl < 4 || strcmp(e->d_name + nl - 3, ".cl")) continue;
        const char *name = e->d_name;
        char path[1400];
        static char text[1 << 17];
        files++;
        snprintf(path, sizeof path, "%s/%s", rt->kernel_dir, name);
        long n = test_read_bytes(path, (unsigned char *)text, sizeof text - 1);
        if (n <= 0 || n >= (long)sizeof text) closedir(dir);
        CHECK(n > 0 && n < (long)sizeof text, "%s: cannot read", path);
        text[n] = '\0';
        int line = 1;
        for (const char *p = text; *p;) {
            size_t len = 1;
            if (p[0] == '/' && p[1] == '/') {
                len = strcspn(p, "\n");
            } else if (p[0] == '/' && p[1] == '*') {
                const char *end = strstr(p + 2, "*/");
                len = end ? (size_t)(end + 2 - p) : strlen(p);
            } else if (isalpha((unsigned char)*p) || *p == '_') {
                while (isalnum((unsigned char)p[len]) || p[len] == '_') len++;
                for (int b = 0; b < (int)(sizeof banned / sizeof banned[0]); b++)
                    if (strlen(banned[b]) == len && !strncmp(p, banned[b], len))
                        test_fail(__FILE__, __LINE__, "%s:%d: %s", name, line, banned[b]);
            } else if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
                if (double_literal(p, &len))
                    test_fail(__FILE__, __LINE__, "%s:%d: %.*s is a double (write %.*sf)", name,
                              line, (int)len, p, (int)len, p);
            }
            for (size_t i = 0; i < len; i++) line += p[i] == '\n';
            p += len;
        }
    }
    closedir(dir);
    CHECK(files >= 7, "%d .cl files in %s", files, rt->kernel_dir);
    size_t len;
    CHECK(double_literal("0.5)", &len) && len == 3 && double_literal("1e-3;", &len));
    CHECK(!double_literal("0.5f", &len) && !double_literal("0x7f800000", &len) &&
          !double_literal("1.0e-3F", &len) && !double_literal("42", &len));
}

/* On a CPU device a buffer of 2 MiB or more lives in siamcl's memory, 2 MiB-aligned (huge
 * pages: runtime.c), and holds what is written to it; a smaller one, and every buffer of other
 * devices, is the device's own. */
static void large_buffers_on_huge_pages(void) {
    sc_runtime *rt = test_runtime();
    size_t n = ((size_t)3 << 20) / sizeof(float) + 5; /* not a whole number of pages */
    float *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
    for (size_t i = 0; i < n; i++) x[i] = (float)i;
    cl_mem big = NULL, small = NULL;
    int rc = sc_buffer_new(rt, n * sizeof *x, &big);
    if (rc == SC_OK) rc = sc_buffer_new(rt, 1024, &small);
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){big, 0}, x, n);
    if (rc == SC_OK) rc = sc_download(rt, y, (sc_view){big, 0}, n);
    void *at = NULL, *small_at = NULL;
    cl_int e1 = big ? clGetMemObjectInfo(big, CL_MEM_HOST_PTR, sizeof at, &at, NULL) : 0;
    cl_int e2 = small ? clGetMemObjectInfo(small, CL_MEM_HOST_PTR, sizeof at, &small_at, NULL) : 0;
    int same = rc == SC_OK && !memcmp(x, y, n * sizeof *x);
    int aligned = at && (uintptr_t)at % ((uintptr_t)2 << 20) == 0;
    sc_buffer_free(big);
    sc_buffer_free(small);
    free(x), free(y);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(e1 == CL_SUCCESS && e2 == CL_SUCCESS, "CL_MEM_HOST_PTR: %d, %d", (int)e1, (int)e2);
    CHECK(same, "3 MiB written and read back differ");
    if (rt->dev.type & CL_DEVICE_TYPE_CPU)
        CHECK(aligned, "a 3 MiB buffer at %p", at);
    else
        CHECK(!at, "a 3 MiB buffer of a %s device at %p", sc_device_type_name(rt->dev.type), at);
    CHECK(!small_at, "a 1 KiB buffer at %p", small_at);
}

TEST_MAIN(TEST(kernel_dir_lookup_order), TEST(error_names), TEST(broken_kernel_reports_build_log),
          TEST(prelude_is_part_of_every_program), TEST(edited_prelude_is_rebuilt),
          TEST(unknown_kernel_is_an_error), TEST(bias_act_forward_matches_reference),
          TEST(act_bias_backward_matches_reference), TEST(work_groups_fit_the_limits),
          TEST(kernels_need_no_optional_features), TEST(large_buffers_on_huge_pages))
