/* Ensembles (evaluate.h): the score of a pair is the mean of the members' scores; 1-NN by the
 * mean of their cosines, which for copies of one model is that model's 1-NN. */
#include "harness.h"

#include "siamcl/evaluate.h"

#include <math.h>
#include <stdlib.h>

enum { ROWS = 40, W = 6, PAIRS = 20 };

typedef struct fixture {
    sc_inputs in;
    sc_pairs_dev pairs;
    uint8_t labels[ROWS];
} fixture;

static int fixture_open(fixture *f) {
    float x[ROWS * W], y[PAIRS];
    int32_t idx[2 * PAIRS];
    test_fill(x, ROWS * W, -1, 1);
    for (int i = 0; i < ROWS; i++) f->labels[i] = (uint8_t)(i % 4);
    for (int i = 0; i < 2 * PAIRS; i++) idx[i] = i;
    for (int i = 0; i < PAIRS; i++) y[i] = (float)(i % 2);
    sc_pairs p = {PAIRS, idx, idx + PAIRS, y, NULL, 0};
    int rc = sc_inputs_dense(test_runtime(), x, ROWS, W, &f->in);
    return rc == SC_OK ? sc_pairs_upload(test_runtime(), &p, &f->pairs) : rc;
}

static void fixture_close(fixture *f) {
    sc_inputs_free(&f->in);
    sc_pairs_dev_free(&f->pairs);
}

static int model(uint64_t seed, sc_model **m) {
    sc_model_config mc = {.input = W, .nlayers = 2, .layers = {8, 5}};
    mc.activation = SC_ACT_TANH;
    sc_loss_config lc = {SC_LOSS_MSE, 0, 0, SC_MINING_NONE};
    return sc_model_create(test_runtime(), &mc, &lc, 16, seed, m);
}

static void scores_are_the_members_mean(void) {
    fixture f = {0};
    sc_model *m[3] = {NULL, NULL, NULL};
    float s[3][PAIRS], mean[PAIRS];
    int rc = fixture_open(&f);
    for (int k = 0; k < 3 && rc == SC_OK; k++) rc = model(10 + (uint64_t)k, &m[k]);
    for (int k = 0; k < 3 && rc == SC_OK; k++)
        rc = sc_score_pairs(m[k], &f.in, &f.pairs, s[k], NULL);
    sc_ensemble e = {m, 3};
    if (rc == SC_OK) rc = sc_ensemble_score_pairs(&e, &f.in, &f.pairs, mean);
    for (int k = 0; k < 3; k++) sc_model_free(m[k]);
    fixture_close(&f);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    double err = 0, spread = 0;
    for (int i = 0; i < PAIRS; i++) {
        double want = ((double)s[0][i] + s[1][i] + s[2][i]) / 3;
        err = fmax(err, fabs(mean[i] - want));
        spread = fmax(spread, fabs(s[0][i] - s[1][i]));
    }
    CHECK(spread > 1e-3, "the members differ (seeds 10, 11): %g", spread);
    CHECK(err < 1e-6, "the ensemble's score is the mean of its members': off by %g", err);
}

static void knn_of_copies_is_the_model_s(void) {
    fixture ref = {0}, query = {0};
    sc_model *m[2] = {NULL, NULL};
    double one = -1, both = -2;
    int rc = fixture_open(&ref);
    if (rc == SC_OK) rc = fixture_open(&query); /* other random rows */
    if (rc == SC_OK) rc = model(3, &m[0]);
    m[1] = m[0];
    sc_ensemble alone = {m, 1}, copies = {m, 2};
    if (rc == SC_OK)
        rc = sc_ensemble_knn(&alone, &ref.in, ref.labels, &query.in, query.labels, &one);
    if (rc == SC_OK)
        rc = sc_ensemble_knn(&copies, &ref.in, ref.labels, &query.in, query.labels, &both);
    sc_model_free(m[0]);
    fixture_close(&ref), fixture_close(&query);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    printf("    1-NN of random rows: %.3f alone, %.3f as two copies\n", one, both);
    CHECK(one == both, "two copies of a model find the same neighbours: %g vs %g", one, both);
}

TEST_MAIN(TEST(scores_are_the_members_mean), TEST(knn_of_copies_is_the_model_s))
