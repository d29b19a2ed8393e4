/* Metrics and pair drawing against hand-computed values and their defining properties. */
#include "harness.h"

#include "siamcl/metrics.h"
#include "siamcl/pairs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int near(double a, double b) {
    return fabs(a - b) < 1e-9;
}

static void errors_and_correlations(void) {
    float s[4] = {1, 2, 3, 4}, y[4] = {1.5f, 2, 2, 6};
    CHECK(near(sc_metric_mse(s, y, 4), (0.25 + 0 + 1 + 4) / 4.0));
    CHECK(near(sc_metric_mae(s, y, 4), (0.5 + 0 + 1 + 2) / 4.0));
    float lin[4] = {3, 5, 7, 9}, mono[4] = {1, 10, 100, 1000};
    CHECK(near(sc_metric_pearson(s, lin, 4), 1.0));
    CHECK(near(sc_metric_spearman(s, mono, 4), 1.0));
    CHECK(sc_metric_pearson(s, mono, 4) < 0.99, "pearson is not rank-based");
    /* ties: y has two 2s sharing rank 2.5; ranks of y are 1, 2.5, 2.5, 4 */
    double expect = 0.9486832980505138; /* pearson of (1,2,3,4) and (1,2.5,2.5,4) */
    CHECK(near(sc_metric_spearman(s, y, 4), expect), "%.12f", sc_metric_spearman(s, y, 4));
    float flat[4] = {2, 2, 2, 2};
    CHECK(isnan(sc_metric_pearson(flat, y, 4)));
}

static void auc_counts_ordered_pairs(void) {
    float s[6] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f}, y[6] = {1, 1, 0, 1, 0, 0};
    /* positives beat negatives in 8 of 9 pairs (0.6 loses to 0.7) */
    CHECK(near(sc_metric_auc(s, y, 6), 8.0 / 9));
    float tied[4] = {0.5f, 0.5f, 0.5f, 0.5f}, y2[4] = {1, 0, 1, 0};
    CHECK(near(sc_metric_auc(tied, y2, 4), 0.5), "ties count half");
    float one[2] = {1, 2}, y3[2] = {1, 1};
    CHECK(isnan(sc_metric_auc(one, y3, 2)), "one class only");
}

static void best_threshold_maximizes_accuracy(void) {
    float s[6] = {0.1f, 0.2f, 0.35f, 0.4f, 0.8f, 0.9f}, y[6] = {0, 0, 1, 0, 1, 1};
    double acc, t = sc_best_threshold(s, y, 6, &acc);
    CHECK(near(acc, 5.0 / 6), "accuracy %g", acc);
    CHECK(near(acc, sc_accuracy_at(s, y, 6, t)), "threshold %g gives its accuracy", t);
    /* no threshold does better: try every midpoint */
    for (int i = 0; i < 6; i++) CHECK(sc_accuracy_at(s, y, 6, s[i] + 1e-4) <= acc + 1e-12);
    float all_pos[3] = {0.1f, 0.2f, 0.3f}, ones[3] = {1, 1, 1};
    t = sc_best_threshold(all_pos, ones, 3, &acc);
    CHECK(acc == 1.0 && t < 0.1, "all positive: threshold %g below every score", t);
}

static void holdout_split_is_seeded_and_disjoint(void) {
    uint32_t *k1, *h1, *k2, *h2, *k3, *h3;
    size_t nk1, nh1, nk2, nh2, nk3, nh3;
    CHECK_OK(sc_split_holdout(1000, 0.1, 42, &k1, &nk1, &h1, &nh1));
    CHECK_OK(sc_split_holdout(1000, 0.1, 42, &k2, &nk2, &h2, &nh2));
    CHECK_OK(sc_split_holdout(1000, 0.1, 43, &k3, &nk3, &h3, &nh3));
    int same = nh1 == nh2 && !memcmp(h1, h2, nh1 * sizeof *h1);
    int other = nh3 != nh1 || memcmp(h1, h3, nh1 * sizeof *h1);
    int disjoint = 1, sorted = 1;
    for (size_t i = 0, j = 0; i < nk1 && j < nh1;) {
        if (k1[i] == h1[j]) disjoint = 0;
        if (k1[i] < h1[j])
            i++;
        else
            j++;
    }
    for (size_t i = 1; i < nh1; i++) sorted &= h1[i - 1] < h1[i];
    size_t nk = nk1, nh = nh1;
    free(k1), free(h1), free(k2), free(h2), free(k3), free(h3);
    CHECK(nh == 100 && nk == 900, "%zu held, %zu kept", nh, nk);
    CHECK(same && other && disjoint && sorted);
}

static void pairs_have_the_right_classes(void) {
    enum { N = 500 };
    uint8_t labels[N];
    uint32_t pool[N];
    for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 7), pool[i] = (uint32_t)i;
    sc_pairs a, b, c;
    CHECK_OK(sc_pairs_draw(labels, pool, N, 1, 0, &a));
    CHECK_OK(sc_pairs_draw(labels, pool, N, 1, 0, &b));
    CHECK_OK(sc_pairs_draw(labels, pool, N, 1, 1, &c));
    int ok = a.n == 2 * N, same = !memcmp(a.right, b.right, a.n * sizeof *a.right);
    int other = !!memcmp(a.right, c.right, a.n * sizeof *a.right);
    for (size_t i = 0; i < a.n && ok; i++) {
        int l = labels[a.left[i]], r = labels[a.right[i]];
        ok = a.left[i] == (int32_t)(i / 2) &&
             (a.target[i] == 1 ? l == r && a.left[i] != a.right[i] : l != r);
    }
    float sum = 0;
    sc_pairs_shuffle(&a, 3, 0);
    for (size_t i = 0; i < a.n; i++) sum += a.target[i];
    int moved = 0;
    for (size_t i = 0; i < a.n; i++) moved += a.left[i] != (int32_t)(i / 2);
    sc_pairs_free(&a), sc_pairs_free(&b), sc_pairs_free(&c);
    CHECK(ok, "every positive shares the anchor's class, every negative does not");
    CHECK(same && other, "seeded: same stream repeats, another differs");
    CHECK(sum == N, "shuffling keeps the %d positives: %g", N, sum);
    CHECK(moved > N, "shuffling moves pairs: %d moved", moved);
    uint8_t one_class[3] = {4, 4, 4};
    CHECK(sc_pairs_draw(one_class, pool, 3, 1, 0, &a) == SC_EINPUT);
}

TEST_MAIN(TEST(errors_and_correlations), TEST(auc_counts_ordered_pairs),
          TEST(best_threshold_maximizes_accuracy), TEST(holdout_split_is_seeded_and_disjoint),
          TEST(pairs_have_the_right_classes))
