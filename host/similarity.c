#include "siamcl/similarity.h"

#define K "similarity"

int sc_normalize_forward(sc_runtime *rt, sc_view y, sc_view e, sc_view norm, size_t rows,
                         size_t cols) {
    return sc_launch1(rt, K, "normalize_forward", rows, SC_VIEW(y), SC_VIEW(e), SC_VIEW(norm),
                      SC_INT(rows), SC_INT(cols));
}

int sc_normalize_backward(sc_runtime *rt, sc_view e, sc_view norm, sc_view de, sc_view dy,
                          size_t rows, size_t cols) {
    return sc_launch1(rt, K, "normalize_backward", rows, SC_VIEW(e), SC_VIEW(norm), SC_VIEW(de),
                      SC_VIEW(dy), SC_INT(rows), SC_INT(cols));
}

int sc_cosine_forward(sc_runtime *rt, sc_view emb, sc_view sim, size_t pairs, size_t dim) {
    return sc_launch1(rt, K, "cosine_forward", pairs, SC_VIEW(emb), SC_VIEW(sim), SC_INT(pairs),
                      SC_INT(dim));
}

int sc_cosine_backward(sc_runtime *rt, sc_view emb, sc_view dsim, sc_view demb, size_t pairs,
                       size_t dim) {
    return sc_launch1(rt, K, "cosine_backward", pairs, SC_VIEW(emb), SC_VIEW(dsim), SC_VIEW(demb),
                      SC_INT(pairs), SC_INT(dim));
}

int sc_euclidean_forward(sc_runtime *rt, sc_view emb, sc_view dist, sc_view sim, size_t pairs,
                         size_t dim) {
    return sc_launch1(rt, K, "euclidean_forward", pairs, SC_VIEW(emb), SC_VIEW(dist), SC_VIEW(sim),
                      SC_INT(pairs), SC_INT(dim));
}

int sc_euclidean_backward(sc_runtime *rt, sc_view emb, sc_view dist, sc_view g, int g_is_sim,
                          sc_view demb, size_t pairs, size_t dim) {
    return sc_launch1(rt, K, "euclidean_backward", pairs, SC_VIEW(emb), SC_VIEW(dist), SC_VIEW(g),
                      SC_INT(g_is_sim), SC_VIEW(demb), SC_INT(pairs), SC_INT(dim));
}

int sc_pair_loss(sc_runtime *rt, sc_view emb, sc_view y, cl_mem terms, sc_view demb, size_t pairs,
                 size_t dim, int euclidean, int contrastive, float margin) {
    return sc_launch1(rt, K, "pair_loss", pairs, SC_VIEW(emb), SC_VIEW(y), SC_MEM(terms),
                      SC_VIEW(demb), SC_INT(pairs), SC_INT(dim), SC_INT(euclidean),
                      SC_INT(contrastive), SC_FLT(margin));
}

int sc_range_forward(sc_runtime *rt, sc_view sim, sc_view params, long ab, sc_view score,
                     size_t pairs, float lo, float hi) {
    return sc_launch1(rt, K, "range_forward", pairs, SC_VIEW(sim), SC_MEM(params.mem),
                      SC_INT(ab < 0 ? -1 : (long)params.off + ab), SC_VIEW(score), SC_INT(pairs),
                      SC_FLT(lo), SC_FLT(hi));
}

int sc_range_backward(sc_runtime *rt, sc_view sim, sc_view params, long ab, sc_view dscore,
                      sc_view dsim, sc_view grads, size_t pairs, float lo, float hi) {
    /* params and grads share one layout: the same offset finds a, b in both */
    if (params.off != grads.off)
        return sc_error(SC_ERR, "range_backward: parameter and gradient offsets differ");
    return sc_launch1(rt, K, "range_backward", 1, SC_VIEW(sim), SC_MEM(params.mem),
                      SC_INT(ab < 0 ? -1 : (long)params.off + ab), SC_VIEW(dscore), SC_VIEW(dsim),
                      SC_MEM(grads.mem), SC_INT(pairs), SC_FLT(lo), SC_FLT(hi));
}

int sc_pair_features_forward(sc_runtime *rt, sc_view emb, sc_view f, size_t pairs, size_t dim,
                             cl_mem cols, size_t first, int nf) {
    size_t width = 4 * dim + (size_t)nf;
    SC_TRY(sc_launch1(rt, K, "pair_features_forward", pairs * dim, SC_VIEW(emb), SC_VIEW(f),
                      SC_INT(pairs), SC_INT(dim), SC_INT(width)));
    if (!nf) return SC_OK;
    if (!cols)
        return sc_error(SC_ERR, "the head reads %d features a pair, and the pairs have none", nf);
    return sc_launch1(rt, K, "pair_columns", pairs * (size_t)nf, SC_MEM(cols), SC_INT(first),
                      SC_INT(nf), SC_VIEW(f), SC_INT(pairs), SC_INT(dim), SC_INT(width));
}

int sc_pair_features_backward(sc_runtime *rt, sc_view emb, sc_view df, sc_view demb, size_t pairs,
                              size_t dim, int nf) {
    return sc_launch1(rt, K, "pair_features_backward", pairs * dim, SC_VIEW(emb), SC_VIEW(df),
                      SC_VIEW(demb), SC_INT(pairs), SC_INT(dim), SC_INT(4 * dim + (size_t)nf));
}
