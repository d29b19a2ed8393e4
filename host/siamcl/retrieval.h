/* Ranking metrics of scored candidates grouped by query, as search engines are judged: each
 * query's candidates (the rows of its group) are ranked by score, highest first (ties by row
 * order), and
 *   NDCG@10   DCG / ideal DCG over the first 10, DCG = sum of gain_r / log2(r + 1) for ranks
 *             r = 1.., gain = target - floor (0 below), the ideal DCG that of the candidates
 *             sorted by target; a query whose candidates all have gain 0 is left out
 *   MRR@10    1 / the rank of the first relevant candidate (target > threshold), 0 past 10
 *   Recall@k  the share of the query's relevant candidates in its first k (k = 1, 5, 10)
 * each averaged over the queries (MRR and recall: those with a relevant candidate). */
#ifndef SIAMCL_RETRIEVAL_H
#define SIAMCL_RETRIEVAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_retrieval {
    double ndcg10, mrr10, recall[3]; /* recall at 1, 5, 10 */
    size_t queries;                  /* groups */
    size_t judged;                   /* queries with a relevant candidate */
    size_t graded;                   /* queries with some gain (NDCG's) */
} sc_retrieval;

/* The metrics of n rows: row i is a candidate of query group[i] (0 .. groups - 1) with score
 * scores[i] and target target[i]. */
int sc_retrieval_rank(const uint32_t *group, size_t groups, const float *scores,
                      const float *target, size_t n, double threshold, double floor,
                      sc_retrieval *out);

#endif
