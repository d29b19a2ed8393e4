/* Normalization and pair heads (cl/similarity.cl). A batch of B pairs is one 2B x D matrix of
 * embeddings: row i is the left side of pair i, row B + i its right side. */
#ifndef SIAMCL_SIMILARITY_H
#define SIAMCL_SIMILARITY_H

#include "siamcl/runtime.h"

/* e = y / max(|y|, 1e-12) row by row; norm = |y|. */
int sc_normalize_forward(sc_runtime *rt, sc_view y, sc_view e, sc_view norm, size_t rows,
                         size_t cols);
int sc_normalize_backward(sc_runtime *rt, sc_view e, sc_view norm, sc_view de, sc_view dy,
                          size_t rows, size_t cols);

/* sim = u.v / max(|u||v|, 1e-8). */
int sc_cosine_forward(sc_runtime *rt, sc_view emb, sc_view sim, size_t pairs, size_t dim);
int sc_cosine_backward(sc_runtime *rt, sc_view emb, sc_view dsim, sc_view demb, size_t pairs,
                       size_t dim);

/* dist = sqrt(|u - v|^2 + 1e-12), sim = exp(-dist). */
int sc_euclidean_forward(sc_runtime *rt, sc_view emb, sc_view dist, sc_view sim, size_t pairs,
                         size_t dim);
/* g is the gradient with respect to sim when g_is_sim, else with respect to dist. */
int sc_euclidean_backward(sc_runtime *rt, sc_view emb, sc_view dist, sc_view g, int g_is_sim,
                          sc_view demb, size_t pairs, size_t dim);

/* A training step's head and loss in one launch, for a cosine or euclidean head (euclidean)
 * with raw output and the mse or contrastive loss (contrastive, with margin): the per-pair
 * terms and the gradient of the batch's mean loss with respect to the embeddings, as the
 * separate head, loss and head-backward kernels compute them. */
int sc_pair_loss(sc_runtime *rt, sc_view emb, sc_view y, cl_mem terms, sc_view demb, size_t pairs,
                 size_t dim, int euclidean, int contrastive, float margin);

/* score = lo + (hi - lo) sigmoid(a sim + b) with a, b at offset ab of params, or a = 1, b = 0
 * when ab < 0. The backward pass writes dsim and, when ab >= 0, the gradients of a and b at
 * the same offset of grads. */
int sc_range_forward(sc_runtime *rt, sc_view sim, sc_view params, long ab, sc_view score,
                     size_t pairs, float lo, float hi);
int sc_range_backward(sc_runtime *rt, sc_view sim, sc_view params, long ab, sc_view dscore,
                      sc_view dsim, sc_view grads, size_t pairs, float lo, float hi);

/* f (B x (4D + nf)) = [u, v, |u - v|, u * v, the pair's own nf features], the input of the mlp
 * head; cols holds nf floats a pair, the batch's from pair first on (NULL when nf is 0). The
 * backward pass takes df (the same width) to the embeddings' gradient. */
int sc_pair_features_forward(sc_runtime *rt, sc_view emb, sc_view f, size_t pairs, size_t dim,
                             cl_mem cols, size_t first, int nf);
int sc_pair_features_backward(sc_runtime *rt, sc_view emb, sc_view df, sc_view demb, size_t pairs,
                              size_t dim, int nf);

#endif
