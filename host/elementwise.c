#include "siamcl/elementwise.h"

const char *const sc_act_names[] = {"identity", "relu", "tanh", "sigmoid", NULL};

int sc_bias_act_forward(sc_runtime *rt, sc_view y, sc_view b, size_t rows, size_t cols,
                        sc_act act) {
    return sc_launch1(rt, "elementwise", "bias_act_forward", rows * cols, SC_VIEW(y), SC_VIEW(b),
                      SC_INT(cols), SC_INT(rows * cols), SC_INT(act));
}
