#include "siamcl/loss.h"

const char *const sc_loss_names[] = {"mse", "contrastive", "softmax", NULL};

int sc_mse(sc_runtime *rt, sc_view score, sc_view y, cl_mem terms, sc_view dscore, size_t pairs) {
    return sc_launch1(rt, "loss", "mse", pairs, SC_VIEW(score), SC_VIEW(y), SC_MEM(terms),
                      SC_VIEW(dscore), SC_INT(pairs));
}

int sc_contrastive(sc_runtime *rt, sc_view x, sc_view y, cl_mem terms, sc_view dx, size_t pairs,
                   float margin, int is_cosine) {
    return sc_launch1(rt, "loss", "contrastive", pairs, SC_VIEW(x), SC_VIEW(y), SC_MEM(terms),
                      SC_VIEW(dx), SC_INT(pairs), SC_FLT(margin), SC_INT(is_cosine));
}

int sc_softmax_rows(sc_runtime *rt, cl_mem logits, sc_view y, cl_mem terms, cl_mem dlogits,
                    size_t pairs) {
    return sc_launch1(rt, "loss", "softmax_rows", pairs, SC_MEM(logits), SC_VIEW(y), SC_MEM(terms),
                      SC_MEM(dlogits), SC_INT(pairs));
}

int sc_loss_reduce(sc_runtime *rt, cl_mem terms, sc_view y, size_t pairs, int weighted,
                   cl_mem acc) {
    return sc_launch1(rt, "loss", "loss_reduce", 1, SC_MEM(terms), SC_VIEW(y), SC_INT(pairs),
                      SC_INT(weighted), SC_MEM(acc));
}
