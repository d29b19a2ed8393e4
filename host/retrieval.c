#include "siamcl/retrieval.h"
#include "siamcl/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* qsort's context: the scores (or targets) the rows are ranked by. */
static const float *rank_by;

static int higher_first(const void *a, const void *b) {
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    if (rank_by[i] != rank_by[j]) return rank_by[i] > rank_by[j] ? -1 : 1;
    return (i > j) - (i < j); /* ties in row order */
}

/* DCG over the first 10 of the rows (their targets, in this order). */
static double dcg10(const uint32_t *rows, size_t n, const float *target, double floor) {
    double s = 0;
    for (size_t r = 0; r < n && r < 10; r++) {
        double g = target[rows[r]] - floor;
        if (g > 0) s += g / log2((double)r + 2.0);
    }
    return s;
}

/* One query's rows (in row order on entry) into the totals. */
static void rank_query(uint32_t *rows, size_t n, const float *scores, const float *target,
                       double threshold, double floor, sc_retrieval *sum) {
    rank_by = target;
    qsort(rows, n, sizeof *rows, higher_first);
    double ideal = dcg10(rows, n, target, floor);
    rank_by = scores;
    qsort(rows, n, sizeof *rows, higher_first);
    if (ideal > 0) {
        sum->ndcg10 += dcg10(rows, n, target, floor) / ideal;
        sum->graded++;
    }
    size_t relevant = 0, first = 0, hits[3] = {0, 0, 0};
    const size_t at[3] = {1, 5, 10};
    for (size_t r = 0; r < n; r++) {
        if (!(target[rows[r]] > threshold)) continue;
        relevant++;
        if (!first) first = r + 1;
        for (int k = 0; k < 3; k++) hits[k] += r < at[k];
    }
    if (!relevant) return;
    sum->judged++;
    sum->mrr10 += first <= 10 ? 1.0 / (double)first : 0.0;
    for (int k = 0; k < 3; k++) sum->recall[k] += (double)hits[k] / (double)relevant;
}

int sc_retrieval_rank(const uint32_t *group, size_t groups, const float *scores,
                      const float *target, size_t n, double threshold, double floor,
                      sc_retrieval *out) {
    memset(out, 0, sizeof *out);
    /* the rows of each group, one group after another (a counting sort, stable) */
    size_t *start = calloc(groups + 1, sizeof *start);
    uint32_t *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!start || !rows) {
        free(start), free(rows);
        return sc_error(SC_ERR, "out of memory");
    }
    for (size_t i = 0; i < n; i++) start[group[i] + 1]++;
    for (size_t q = 0; q < groups; q++) start[q + 1] += start[q];
    size_t *next = calloc(groups + 1, sizeof *next);
    if (!next) {
        free(start), free(rows);
        return sc_error(SC_ERR, "out of memory");
    }
    memcpy(next, start, (groups + 1) * sizeof *next);
    for (size_t i = 0; i < n; i++) rows[next[group[i]]++] = (uint32_t)i;
    for (size_t q = 0; q < groups; q++)
        if (start[q + 1] > start[q])
            rank_query(rows + start[q], start[q + 1] - start[q], scores, target, threshold, floor,
                       out);
    for (size_t q = 0; q < groups; q++) out->queries += start[q + 1] > start[q];
    if (out->graded) out->ndcg10 /= (double)out->graded;
    if (out->judged) {
        out->mrr10 /= (double)out->judged;
        for (int k = 0; k < 3; k++) out->recall[k] /= (double)out->judged;
    }
    free(start), free(next), free(rows);
    return SC_OK;
}
