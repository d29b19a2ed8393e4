/* GEMM tuning: CLBlast's direct/indirect switch, the choice of a parameter pair from
 * per-product timings, and the tuning file. No OpenCL: this is the host's arithmetic. */
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

TEST_MAIN(TEST(switch_matches_clblast_near_the_limit), TEST(choice_splits_by_volume),
          TEST(choice_skips_untried_and_wrong_candidates), TEST(file_round_trip),
          TEST(file_refuses_a_switch_that_wraps))
