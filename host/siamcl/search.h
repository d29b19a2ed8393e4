/* Search: the best k rows of a catalog for each query, by a model's (or an ensemble's mean)
 * score of the pair (query, row), computed on the device in batches and cut down to the best
 * k there (topk.h), so that the queries x catalog scores never reach the host.
 *
 * A single model whose head is the cosine or the euclidean distance of the embeddings (any
 * output map, which keeps the order) ranks by one matrix product a batch of queries and a
 * chunk of the catalog; its hits are then scored exactly through the head. Any other model
 * (an mlp head, an ensemble) scores each query against the catalog through the head. */
#ifndef SIAMCL_SEARCH_H
#define SIAMCL_SEARCH_H

#include "siamcl/evaluate.h"

typedef struct sc_hit {
    float score; /* the model's score: what `siamcl score` gives the pair */
    int32_t row; /* the catalog row; -1 past the catalog's end */
} sc_hit;

/* The catalog's and the queries' embeddings on the device (member k's in catalog[k], n x its
 * embedding width, and queries[k], nq x it), and for a head that reads the pairs' overlap
 * features the texts of both (else NULL). */
typedef struct sc_search_input {
    const sc_ensemble *e;
    const cl_mem *catalog, *queries;
    size_t n, nq;
    const char *const *catalog_texts, *const *query_texts;
} sc_search_input;

/* hits (nq x k): each query's best k rows, best first (ties to the lower row); k in
 * 1..SC_TOPK_MAX. */
int sc_search(const sc_search_input *in, size_t k, sc_hit *hits);

/* Whether a single model ranks by one matrix product (the fast way above). */
int sc_search_by_product(const sc_ensemble *e);

#endif
