/* Ranking metrics (host/retrieval.c): hand-worked queries, and random ones against a plain
 * double-precision reference that ranks each candidate by counting the candidates above it. */
#include "harness.h"

#include "siamcl/retrieval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Query 0: targets 3 1 2 1 scored 0.1 0.9 0.5 0.3, so ranked rows 1 2 3 0; gains (floor 1)
 * 2 0 1 0: DCG 1/log2 3 + 2/log2 5, ideal 2 + 1/log2 3. Relevant (> 2): row 0 alone, at rank
 * 4. Query 1: one relevant row ranked first. Query 2: nothing relevant, no gain. */
static void worked_example(void) {
    uint32_t group[] = {0, 0, 0, 0, 1, 1, 2};
    float scores[] = {0.1f, 0.9f, 0.5f, 0.3f, 0.8f, 0.2f, 0.5f};
    float target[] = {3, 1, 2, 1, 2.5f, 1, 1};
    sc_retrieval m;
    CHECK_OK(sc_retrieval_rank(group, 3, scores, target, 7, 2.0, 1.0, &m));
    double ndcg0 = (1 / log2(3.0) + 2 / log2(5.0)) / (2 + 1 / log2(3.0));
    CHECK(m.queries == 3 && m.judged == 2 && m.graded == 2, "%zu %zu %zu", m.queries, m.judged,
          m.graded);
    CHECK(fabs(m.ndcg10 - (ndcg0 + 1) / 2) < 1e-12, "NDCG %.15f", m.ndcg10);
    CHECK(fabs(m.mrr10 - (0.25 + 1) / 2) < 1e-12, "MRR %.15f", m.mrr10);
    CHECK(m.recall[0] == 0.5 && m.recall[1] == 1 && m.recall[2] == 1, "recall %g %g %g",
          m.recall[0], m.recall[1], m.recall[2]);
}

/* The reference: candidate i's rank is 1 + the candidates of its query scored higher, or as
 * high and earlier. */
static void reference(const uint32_t *group, size_t groups, const float *s, const float *t,
                      size_t n, double threshold, double floor, sc_retrieval *out) {
    memset(out, 0, sizeof *out);
    for (size_t q = 0; q < groups; q++) {
        double dcg = 0, ideal = 0;
        size_t relevant = 0, first = 0, hits[3] = {0, 0, 0}, members = 0;
        for (size_t i = 0; i < n; i++) {
            if (group[i] != q) continue;
            members++;
            size_t rank = 1, irank = 1;
            for (size_t j = 0; j < n; j++) {
                if (group[j] != q || j == i) continue;
                rank += s[j] > s[i] || (s[j] == s[i] && j < i);
                irank += t[j] > t[i] || (t[j] == t[i] && j < i);
            }
            double gain = t[i] - floor > 0 ? t[i] - floor : 0;
            if (rank <= 10) dcg += gain / log2((double)rank + 1);
            if (irank <= 10) ideal += gain / log2((double)irank + 1);
            if (t[i] > threshold) {
                relevant++;
                if (!first || rank < first) first = rank;
                hits[0] += rank <= 1, hits[1] += rank <= 5, hits[2] += rank <= 10;
            }
        }
        out->queries += members > 0;
        if (ideal > 0) out->ndcg10 += dcg / ideal, out->graded++;
        if (!relevant) continue;
        out->judged++;
        out->mrr10 += first <= 10 ? 1.0 / (double)first : 0;
        for (int k = 0; k < 3; k++) out->recall[k] += (double)hits[k] / (double)relevant;
    }
    if (out->graded) out->ndcg10 /= (double)out->graded;
    for (int k = 0; k < 3 && out->judged; k++) out->recall[k] /= (double)out->judged;
    if (out->judged) out->mrr10 /= (double)out->judged;
}

static void random_queries_match_reference(void) {
    enum { N = 400, GROUPS = 37 };
    static uint32_t group[N];
    static float s[N], t[N];
    sc_rng *rng = test_rng();
    for (size_t i = 0; i < N; i++) {
        group[i] = sc_rng_below(rng, GROUPS);
        s[i] = (float)sc_rng_below(rng, 20) / 20; /* ties */
        t[i] = 1 + (float)sc_rng_below(rng, 5) / 2;
    }
    sc_retrieval got, want;
    CHECK_OK(sc_retrieval_rank(group, GROUPS, s, t, N, 2.0, 1.0, &got));
    reference(group, GROUPS, s, t, N, 2.0, 1.0, &want);
    CHECK(got.queries == want.queries && got.judged == want.judged && got.graded == want.graded,
          "counts %zu %zu %zu against %zu %zu %zu", got.queries, got.judged, got.graded,
          want.queries, want.judged, want.graded);
    double err = fabs(got.ndcg10 - want.ndcg10) + fabs(got.mrr10 - want.mrr10);
    for (int k = 0; k < 3; k++) err += fabs(got.recall[k] - want.recall[k]);
    CHECK(err < 1e-12, "metrics differ from the reference by %g", err);
    printf("    %zu queries: NDCG@10 %.4f, MRR@10 %.4f, R@1 %.4f, R@10 %.4f\n", got.queries,
           got.ndcg10, got.mrr10, got.recall[0], got.recall[2]);
}

TEST_MAIN(TEST(worked_example), TEST(random_queries_match_reference))
