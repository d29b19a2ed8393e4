#include "siamcl/loss.h"

const char *const sc_loss_names[] = {"mse",    "contrastive",        "softmax", "triplet",
                                     "cosent", "online_contrastive", NULL};
const char *const sc_mining_names[] = {"none", "batch_hard", "batch_all", NULL};

int sc_loss_is_batchwise(sc_loss_kind kind) {
    return kind == SC_LOSS_SOFTMAX || kind == SC_LOSS_TRIPLET || kind == SC_LOSS_COSENT ||
           kind == SC_LOSS_ONLINE_CONTRASTIVE;
}

int sc_mse(sc_runtime *rt, sc_view score, sc_view y, cl_mem terms, sc_view dscore, size_t pairs) {
    return sc_launch1(rt, "loss", "mse", pairs, SC_VIEW(score), SC_VIEW(y), SC_MEM(terms),
                      SC_VIEW(dscore), SC_INT(pairs));
}

int sc_contrastive(sc_runtime *rt, sc_view x, sc_view y, cl_mem terms, sc_view dx, size_t pairs,
                   float margin, int is_cosine) {
    return sc_launch1(rt, "loss", "contrastive", pairs, SC_VIEW(x), SC_VIEW(y), SC_MEM(terms),
                      SC_VIEW(dx), SC_INT(pairs), SC_FLT(margin), SC_INT(is_cosine));
}

int sc_softmax_rows(sc_runtime *rt, cl_mem logits, sc_view y, sc_view keys, cl_mem terms,
                    cl_mem dlogits, size_t pairs) {
    if (keys.off) return sc_error(SC_ERR, "softmax_rows: keys must start their buffer");
    return sc_launch1(rt, "loss", "softmax_rows", pairs, SC_MEM(logits), SC_VIEW(y),
                      SC_MEM(keys.mem), SC_MEM(terms), SC_MEM(dlogits), SC_INT(pairs));
}

int sc_online_contrastive(sc_runtime *rt, sc_view x, sc_view y, cl_mem terms, sc_view dx,
                          size_t pairs, float margin, int is_cosine) {
    return sc_launch1(rt, "loss", "online_contrastive", pairs, SC_VIEW(x), SC_VIEW(y),
                      SC_MEM(terms), SC_VIEW(dx), SC_INT(pairs), SC_FLT(margin), SC_INT(is_cosine));
}

int sc_cosent(sc_runtime *rt, sc_view s, sc_view y, cl_mem work, cl_mem terms, sc_view ds,
              size_t pairs, float scale) {
    SC_TRY(sc_launch1(rt, "loss", "cosent_max", pairs, SC_VIEW(s), SC_VIEW(y), SC_MEM(work),
                      SC_INT(pairs), SC_FLT(scale)));
    SC_TRY(sc_launch1(rt, "loss", "cosent_sums", pairs, SC_VIEW(s), SC_VIEW(y), SC_MEM(work),
                      SC_INT(pairs), SC_FLT(scale)));
    return sc_launch1(rt, "loss", "cosent_grad", pairs, SC_MEM(work), SC_MEM(terms), SC_VIEW(ds),
                      SC_INT(pairs), SC_FLT(scale));
}

int sc_triplet(sc_runtime *rt, sc_view x, sc_view keys, cl_mem work, cl_mem terms, size_t pairs,
               size_t dim, int is_cosine, sc_mining mining, float margin) {
    size_t rows = 2 * pairs;
    if (keys.off) return sc_error(SC_ERR, "triplet: keys must start their buffer");
    SC_TRY(sc_launch1(rt, "loss", "pair_distances", rows * rows, SC_VIEW(x), SC_MEM(work),
                      SC_INT(rows), SC_INT(dim), SC_INT(is_cosine)));
    SC_TRY(sc_launch1(rt, "loss", "triplet_anchors", rows, SC_MEM(keys.mem), SC_MEM(work),
                      SC_INT(pairs), SC_INT(mining), SC_FLT(margin)));
    return sc_launch1(rt, "loss", "triplet_total", 1, SC_MEM(work), SC_MEM(terms), SC_INT(pairs));
}

int sc_triplet_backward(sc_runtime *rt, sc_view x, cl_mem work, sc_view dx, size_t pairs,
                        size_t dim, int is_cosine) {
    size_t rows = 2 * pairs;
    return sc_launch1(rt, "loss", "triplet_backward", rows * dim, SC_VIEW(x), SC_MEM(work),
                      SC_VIEW(dx), SC_INT(pairs), SC_INT(dim), SC_INT(is_cosine));
}

int sc_loss_reduce(sc_runtime *rt, cl_mem terms, sc_view y, size_t pairs, int weighted,
                   cl_mem acc) {
    return sc_launch1(rt, "loss", "loss_reduce", 1, SC_MEM(terms), SC_VIEW(y), SC_INT(pairs),
                      SC_INT(weighted), SC_MEM(acc));
}
