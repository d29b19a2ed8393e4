/* The next epoch's pairs built on a worker thread (host/epoch_prep.c): the same pairs as built
 * in place, whichever epoch is asked for, a worker's error raised by the taker, and nothing
 * leaked when a built epoch is never taken (the suite runs under ASan). */
#include "harness.h"

#include "epoch_prep.h"

#include <string.h>

enum { PAIRS = 1000, FAILING = 4 };

/* Epoch e's pairs: left i = 1000 e + i, right its reverse; epoch FAILING fails. */
static int epoch_pairs(sc_task *t, int e, sc_pairs *out) {
    (void)t;
    if (e == FAILING) return sc_error(SC_EINPUT, "epoch %d cannot be drawn", e);
    SC_TRY(sc_pairs_alloc(out, PAIRS));
    for (int i = 0; i < PAIRS; i++) {
        out->left[i] = 1000 * e + i;
        out->right[i] = 1000 * e + PAIRS - 1 - i;
        out->target[i] = (float)(i % 2);
    }
    return SC_OK;
}

static const sc_task_kind kind = {.epoch_pairs = epoch_pairs};

/* Whether p holds epoch e's pairs. */
static int holds(const sc_pairs *p, int e) {
    sc_pairs want;
    if (epoch_pairs(NULL, e, &want) != SC_OK) return 0;
    int same = p->n == want.n && !memcmp(p->left, want.left, PAIRS * sizeof *p->left) &&
               !memcmp(p->right, want.right, PAIRS * sizeof *p->right);
    sc_pairs_free(&want);
    return same;
}

static void worker_builds_what_the_epoch_would(void) {
    sc_task task = {.kind = &kind};
    sc_model model = {0}; /* a dense first layer: an empty plan */
    sc_epoch_prep prep;
    sc_epoch_prep_init(&prep, &task, &model, 32, 0, 1);
    const int asked[][2] = {{0, 1}, {2, 2}, {3, 3}, {5, 7}}; /* started, taken */
    for (int i = 0; i < 4; i++) {
        sc_pairs pairs;
        sc_sparse_plan plan;
        if (asked[i][0]) sc_epoch_prep_start(&prep, asked[i][0]);
        CHECK_OK(sc_epoch_prep_take(&prep, asked[i][1], &pairs, &plan));
        int ok = holds(&pairs, asked[i][1]) && plan.steps == 0;
        sc_pairs_free(&pairs);
        sc_sparse_plan_free(&plan);
        CHECK(ok, "started %d, took %d: not epoch %d's pairs", asked[i][0], asked[i][1],
              asked[i][1]);
    }
    sc_epoch_prep_start(&prep, 6); /* never taken */
    sc_epoch_prep_close(&prep);
}

static void worker_error_reaches_the_taker(void) {
    sc_task task = {.kind = &kind};
    sc_model model = {0};
    sc_epoch_prep prep;
    sc_pairs pairs;
    sc_sparse_plan plan;
    sc_epoch_prep_init(&prep, &task, &model, 32, 0, 1);
    sc_epoch_prep_start(&prep, FAILING);
    CHECK(sc_epoch_prep_take(&prep, FAILING, &pairs, &plan) == SC_EINPUT, "no error");
    CHECK(test_error_has("epoch 4 cannot be drawn"), "-> %s", sc_last_error());
    sc_epoch_prep_close(&prep);
}

TEST_MAIN(TEST(worker_builds_what_the_epoch_would), TEST(worker_error_reaches_the_taker))
