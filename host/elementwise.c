#include "siamcl/elementwise.h"

const char *const sc_act_names[] = {"identity", "relu", "tanh", "sigmoid", NULL};

/* The kernels take 8 columns of a row per work-item (cl/elementwise.cl). */
static size_t column_groups(size_t cols) {
    return (cols + 7) / 8;
}

int sc_bias_act_forward(sc_runtime *rt, sc_view y, sc_view b, size_t rows, size_t cols,
                        sc_act act) {
    size_t across = rt->group < 8 ? rt->group : 8; /* work-groups of rt->group, as sc_launch1's */
    size_t global[] = {column_groups(cols), rows}, local[] = {across, rt->group / across};
    return sc_launch_args(rt, "elementwise", "bias_act_forward", 2, global, local,
                          SC_ARGS(SC_VIEW(y), SC_VIEW(b), SC_INT(rows), SC_INT(cols), SC_INT(act)));
}

int sc_act_bias_backward(sc_runtime *rt, sc_view dy, sc_view y, sc_view db, size_t rows,
                         size_t cols, sc_act act) {
    return sc_launch1(rt, "elementwise", "act_bias_backward", column_groups(cols), SC_VIEW(dy),
                      SC_VIEW(y), SC_VIEW(db), SC_INT(rows), SC_INT(cols), SC_INT(act));
}
