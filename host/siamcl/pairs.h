/* Pairs drawn from class labels: for each anchor one positive (same class, target 1) and one
 * negative (another class, target 0), deterministic from a seed. */
#ifndef SIAMCL_PAIRS_H
#define SIAMCL_PAIRS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sc_pairs {
    size_t n;
    int32_t *left, *right; /* row indices */
    float *target;
    /* features of each pair as a whole (n x nfeatures floats), or NULL: what a head may read
     * beside the two embeddings, such as the overlap of two texts (overlap.h) */
    float *features;
    int nfeatures;
} sc_pairs;

/* Splits 0..n-1 into a kept part and a held-out part of round(fraction * n) indices, chosen by
 * seed; both lists come out sorted. Free with free(). */
int sc_split_holdout(size_t n, double fraction, uint64_t seed, uint32_t **kept, size_t *nkept,
                     uint32_t **held, size_t *nheld);

/* Two pairs per anchor of the pool, partners drawn from the same pool, in the order anchor 0
 * positive, anchor 0 negative, anchor 1 positive, ...; stream separates independent draws of
 * one seed (an epoch number, say). The pool needs two classes, and a member of each anchor's
 * class besides the anchor when that class has more than one member. */
int sc_pairs_draw(const uint8_t *labels, const uint32_t *pool, size_t npool, uint64_t seed,
                  uint64_t stream, sc_pairs *out);
/* Room for n pairs (free with sc_pairs_free; freed on failure). */
int sc_pairs_alloc(sc_pairs *p, size_t n);
/* Room for nfeatures features of each of p's pairs (freed with p). */
int sc_pairs_alloc_features(sc_pairs *p, int nfeatures);
/* The pairs i of all whose which[i] is keep, in order. */
int sc_pairs_select(const sc_pairs *all, const uint8_t *which, uint8_t keep, sc_pairs *out);
/* Shuffles the pairs in place (Fisher-Yates), seeded. */
void sc_pairs_shuffle(sc_pairs *p, uint64_t seed, uint64_t stream);
void sc_pairs_free(sc_pairs *p);
/* Part `part` of `parts` of n pairs: [*first, *first + *count), the remainder on the first
 * parts (how data-parallel ranks share a batch). */
void sc_pairs_share(size_t n, int part, int parts, size_t *first, size_t *count);

#endif
