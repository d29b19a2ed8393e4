/* GEMM tuning: CLBlast's direct/indirect switch, the choice of a parameter pair from
 * per-product timings, the tuning file, and whether a parameter set fits a device (fake
 * device descriptions). No OpenCL: this is the host's arithmetic. */
#include "harness.h"

#include "siamcl/tune.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void switch_matches_clblast_near_the_limit(void) {
    sc_gemm_shape cube = {4, 4, 4, 0, 0}, under = {4, 4, 3, 0, 0},
                  huge = {1u << 20, 1u << 20, 1u << 20, 0, 1};
    CHECK(!sc_gemm_goes_direct(&cube, 4), "m n k equal to the cube goes indirect");
    CHECK(sc_gemm_goes_direct(&under, 4));
    CHECK(!sc_gemm_goes_direct(&under, 0), "0 sends everything indirect");
    /* 2^60 below 2^63: the largest switch still sends it direct (2^30 would wrap to 0) */
    CHECK(sc_gemm_goes_direct(&huge, SC_GEMM_ALL_DIRECT));
}

/* Three products, a large, a middle and a small one; candidate 0 Xgemm, 1 and 2 direct. */
static const sc_gemm_shape shapes[] = {
    {512, 512, 512, 0, 1}, {64, 256, 128, 1, 0}, {16, 16, 16, 0, 0}};
static const int kinds[] = {0, 1, 1};

static void choice_splits_by_volume(void) {
    const double cost[] = {1.0, 5.0, 5.0,  /* Xgemm: good only for the large one */
                           9.0, 2.0, 1.0,  /* direct */
                           8.0, 1.0, 3.0}; /* direct, better at the middle one */
    sc_tune_choice c = sc_tune_choose(shapes, 3, kinds, cost, 3, 3);
    CHECK(c.x == 0 && c.d == 1, "x %d d %d", c.x, c.d);
    CHECK(fabs(c.seconds - 4.0) < 1e-12, "seconds %g", c.seconds);
    CHECK(!sc_gemm_goes_direct(&shapes[0], c.min_indirect), "switch %zu", c.min_indirect);
    CHECK(sc_gemm_goes_direct(&shapes[1], c.min_indirect), "switch %zu", c.min_indirect);
    CHECK(sc_gemm_goes_direct(&shapes[2], c.min_indirect), "switch %zu", c.min_indirect);
}

static void choice_skips_untried_and_wrong_candidates(void) {
    double cost[] = {NAN, NAN, NAN, 4.0, 2.0, 1.0, INFINITY, 0.1, 0.1};
    sc_tune_choice c = sc_tune_choose(shapes, 3, kinds, cost, 3, 3);
    CHECK(c.x == -1 && c.d == 1 && c.min_indirect == SC_GEMM_ALL_DIRECT, "x %d d %d switch %zu",
          c.x, c.d, c.min_indirect);
    cost[3] = INFINITY; /* now nothing right serves the large product */
    c = sc_tune_choose(shapes, 3, kinds, cost, 3, 3);
    CHECK(c.seconds == INFINITY, "seconds %g", c.seconds);
}

static sc_gemm_params sample_params(void) {
    sc_gemm_params p;
    for (int i = 0; i < SC_XGEMM_PARAMS; i++) p.xgemm[i] = (size_t)(i + 1);
    for (int i = 0; i < SC_DIRECT_PARAMS; i++) p.direct[i] = (size_t)(2 * i + 1);
    p.min_indirect = 234;
    return p;
}

static void file_round_trip(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/siamcl_tune_%d/dev.ini", (int)getpid());
    sc_gemm_params p = sample_params(), q;
    CHECK_OK(sc_gemm_params_save(path, &p, "a test"));
    CHECK_OK(sc_gemm_params_load(path, &q));
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
    CHECK(memcmp(&p, &q, sizeof p) == 0, "the file gives back what was saved");
}

static void file_refuses_a_switch_that_wraps(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/siamcl_tune_%d.ini", (int)getpid());
    sc_gemm_params p = sample_params(), q;
    p.min_indirect = (size_t)1 << 30;
    CHECK_OK(sc_gemm_params_save(path, &p, "a switch CLBlast would wrap to 0"));
    int rc = sc_gemm_params_load(path, &q);
    unlink(path);
    CHECK(rc == SC_EINPUT, "rc %d", rc);
    CHECK(test_error_has("XGEMM_MIN_INDIRECT_SIZE") && test_error_has(path), "message: %s",
          sc_last_error());
}

/* Fake devices: a CPU driver's generous limits, and a small GPU's (Oclgrind's defaults). */
static const sc_device_limits cpu = {4096, {4096, 4096, 4096}, 4 << 20, 0};
static const sc_device_limits small_gpu = {256, {256, 256, 64}, 32768, 0};

/* The built-in PoCL set, with a direct set of WGD 32 (8448 bytes of local memory). */
static sc_gemm_params pocl_set(void) {
    sc_gemm_params p = {
        {0, 1, 16, 2, 4, 4, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}, {2, 4, 4, 4, 4, 1, 1, 8, 8, 32}, 0};
    return p;
}

static int fits(const sc_device_limits *lim, const sc_gemm_params *p, const char *needle) {
    char why[256] = "";
    int ok = sc_gemm_params_fit(lim, p, why, sizeof why);
    printf("    %s\n", ok ? "fits" : why);
    return needle ? !ok && strstr(why, needle) : ok;
}

static void params_fit_the_work_group_limits(void) {
    sc_gemm_params p = pocl_set();
    CHECK(fits(&cpu, &p, NULL) && fits(&small_gpu, &p, NULL));
    sc_device_limits tiny = small_gpu;
    tiny.max_group = 16; /* Xgemm's 4 x 8 work-items are too many */
    CHECK(fits(&tiny, &p, "Xgemm: work-groups of 4 x 8 work-items, the device allows 16"));
    tiny.max_group = 32;
    tiny.max_items[1] = 4; /* 4 x 8 in all, but 8 in the second dimension */
    CHECK(fits(&tiny, &p, "Xgemm: work-groups of 4 x 8"));
    p.xgemm[8] = 4, p.xgemm[7] = 4, p.xgemm[15] = 16; /* NDIMC = NDIMB = 4, VWN 16: 4 x 4 */
    CHECK(fits(&tiny, &p, NULL));
    p.direct[2] = 16, p.direct[1] = 16, p.direct[7] = 2; /* MDIMCD = MDIMAD = 16 */
    CHECK(fits(&tiny, &p, "XgemmDirect: work-groups of 16 x 4"));
}

static void params_fit_the_local_memory(void) {
    sc_gemm_params p = pocl_set();
    p.xgemm[10] = p.xgemm[11] = 1; /* SA, SB: 2 x 16 x 64 floats */
    p.xgemm[2] = 32;               /* KWG: 2 x 32 x 64 floats, 16384 bytes */
    sc_device_limits lim = small_gpu;
    lim.local_mem = 16384;
    CHECK(fits(&lim, &p, NULL));
    lim.local_mem = 16383;
    CHECK(fits(&lim, &p, "Xgemm: 16384 bytes of local memory, the device has 16383"));
    p.xgemm[10] = 0; /* SB alone */
    CHECK(fits(&lim, &p, NULL));
    p.direct[9] = 64, p.direct[7] = p.direct[8] = 16; /* WGD 64: 2 x 64 x 65 floats */
    lim.local_mem = 32768;
    CHECK(fits(&lim, &p, "XgemmDirect: 33280 bytes of local memory, the device has 32768"));
}

/* Oclgrind counts XgemmDirectNN's local memory (and NT's, TN's, TT's) as Xgemm's: the built-in
 * set's Xgemm, which needs none, then needs 4 x 8448 bytes, more than its 32 KiB. */
static void params_fit_as_oclgrind_counts(void) {
    sc_gemm_params p = pocl_set();
    sc_device_limits oclgrind = small_gpu;
    CHECK(fits(&oclgrind, &p, NULL));
    oclgrind.local_by_prefix = 1;
    CHECK(fits(&oclgrind, &p, "Xgemm: 33792 bytes of local memory (with the four XgemmDirect"));
    p.direct[9] = 16, p.direct[7] = p.direct[8] = 4; /* WGD 16: 4 x 2176 bytes */
    CHECK(fits(&oclgrind, &p, NULL));
}

static void params_fit_clblast_constraints(void) {
    sc_gemm_params p = pocl_set();
    p.xgemm[6] = 48; /* MWG 48: not a multiple of MDIMC x VWM = 32 */
    CHECK(fits(&cpu, &p, "Xgemm: MWG is not a multiple"));
    p = pocl_set();
    p.xgemm[5] = 0; /* MDIMC 0, from a file: no division by zero */
    CHECK(fits(&cpu, &p, "Xgemm"));
    p = pocl_set();
    p.direct[9] = 36; /* WGD 36: not a multiple of MDIMCD x VWMD = 32 */
    CHECK(fits(&cpu, &p, "XgemmDirect: WGD is not a multiple"));
    p = pocl_set();
    p.direct[0] = 3; /* KWID 3 */
    CHECK(fits(&cpu, &p, "XgemmDirect: WGD is not a multiple of KWID"));
    p = pocl_set();
    for (int i = 0; i < SC_DIRECT_PARAMS; i++) p.direct[i] = (size_t)1 << 30; /* saturates */
    CHECK(fits(&cpu, &p, "XgemmDirect"));
}

/* The fallback fits every device down to one work-item and 640 bytes of local memory. */
static void fallback_fits_small_devices(void) {
    const sc_device_limits devices[] = {cpu,
                                        small_gpu,
                                        {16, {16, 16, 16}, 32768, 1},
                                        {64, {8, 8, 8}, 4096, 0},
                                        {1, {1, 1, 1}, 640, 1}};
    for (int i = 0; i < 5; i++) {
        sc_gemm_params p;
        CHECK(sc_gemm_fallback(&devices[i], &p), "device %d", i);
        CHECK(fits(&devices[i], &p, NULL), "device %d", i);
        CHECK(p.min_indirect == SC_GEMM_ALL_DIRECT, "every product direct");
    }
    sc_device_limits none = {1, {1, 1, 1}, 100, 0};
    sc_gemm_params p;
    CHECK(!sc_gemm_fallback(&none, &p), "100 bytes of local memory fit nothing");
}

/* The kernel no product reaches gets a small set that fits; the other keeps its own. */
static void unused_kernel_gets_a_small_set(void) {
    const sc_device_limits devices[] = {cpu, small_gpu, {16, {16, 16, 16}, 32768, 1}};
    for (int i = 0; i < 3; i++) {
        sc_gemm_params p = pocl_set(), all_direct = pocl_set(), some = pocl_set();
        all_direct.min_indirect = SC_GEMM_ALL_DIRECT;
        some.min_indirect = 64;
        sc_gemm_params a = sc_gemm_params_in_force(&devices[i], &p);
        sc_gemm_params b = sc_gemm_params_in_force(&devices[i], &all_direct);
        sc_gemm_params c = sc_gemm_params_in_force(&devices[i], &some);
        CHECK(!memcmp(a.xgemm, p.xgemm, sizeof a.xgemm), "device %d: Xgemm kept", i);
        CHECK(a.direct[9] < p.direct[9], "device %d: WGD %zu, not smaller", i, a.direct[9]);
        CHECK(!memcmp(b.direct, p.direct, sizeof b.direct), "device %d: XgemmDirect kept", i);
        CHECK(b.xgemm[6] < p.xgemm[6], "device %d: MWG %zu, not smaller", i, b.xgemm[6]);
        CHECK(!memcmp(&c, &some, sizeof c), "device %d: both kernels used, both kept", i);
        CHECK(a.min_indirect == 0 && b.min_indirect == SC_GEMM_ALL_DIRECT, "switch kept");
        if (devices[i].max_group >= 64) CHECK(fits(&devices[i], &a, NULL), "device %d", i);
    }
}

TEST_MAIN(TEST(switch_matches_clblast_near_the_limit), TEST(choice_splits_by_volume),
          TEST(choice_skips_untried_and_wrong_candidates), TEST(file_round_trip),
          TEST(file_refuses_a_switch_that_wraps), TEST(params_fit_the_work_group_limits),
          TEST(params_fit_the_local_memory), TEST(params_fit_as_oclgrind_counts),
          TEST(params_fit_clblast_constraints), TEST(fallback_fits_small_devices),
          TEST(unused_kernel_gets_a_small_set))
