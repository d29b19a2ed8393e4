#include "siamcl/dense.h"
#include "siamcl/gemm.h"

int sc_dense_forward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view x, sc_view y,
                     size_t rows) {
    SC_TRY(sc_gemm(rt, 0, 0, rows, l->out, l->in, 1.0f, x, sc_view_at(params, l->w), 0.0f, y));
    return sc_bias_act_forward(rt, y, sc_view_at(params, l->b), rows, l->out, l->act);
}

int sc_dense_backward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view grads, sc_view x,
                      sc_view y, sc_view dy, sc_view dx, size_t rows) {
    SC_TRY(sc_act_bias_backward(rt, dy, y, sc_view_at(grads, l->b), rows, l->out, l->act));
    /* dW = x^T dz: both halves of the stacked batch in one product */
    SC_TRY(sc_gemm(rt, 1, 0, l->in, l->out, rows, 1.0f, x, dy, 0.0f, sc_view_at(grads, l->w)));
    if (!dx.mem) return SC_OK;
    return sc_gemm(rt, 0, 1, rows, l->in, l->out, 1.0f, dy, sc_view_at(params, l->w), 0.0f, dx);
}
