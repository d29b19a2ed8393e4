#include "siamcl/dense.h"
#include "siamcl/gemm.h"

/* Rows per product: a batch of more rows is multiplied in blocks of this many, whose operands
 * stay in the caches (and in CLBlast's padded copies of them); one product of 8,192 rows ran
 * the default model's step 30% slower per pair than blocks of 512 (siamcl bench). */
#define BLOCK_ROWS 512

static size_t block(size_t rows, size_t r0) {
    return rows - r0 < BLOCK_ROWS ? rows - r0 : BLOCK_ROWS;
}

int sc_dense_forward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view x, sc_view y,
                     size_t rows) {
    for (size_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS)
        SC_TRY(sc_gemm(rt, 0, 0, block(rows, r0), l->out, l->in, 1.0f, sc_view_at(x, r0 * l->in),
                       sc_view_at(params, l->w), 0.0f, sc_view_at(y, r0 * l->out)));
    return sc_bias_act_forward(rt, y, sc_view_at(params, l->b), rows, l->out, l->act);
}

int sc_dense_backward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view grads, sc_view x,
                      sc_view y, sc_view dy, sc_view dx, size_t rows) {
    SC_TRY(sc_act_bias_backward(rt, dy, y, sc_view_at(grads, l->b), rows, l->out, l->act));
    /* dW = x^T dz: both halves of the stacked batch, block by block into one sum */
    for (size_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS)
        SC_TRY(sc_gemm(rt, 1, 0, l->in, l->out, block(rows, r0), 1.0f, sc_view_at(x, r0 * l->in),
                       sc_view_at(dy, r0 * l->out), r0 ? 1.0f : 0.0f, sc_view_at(grads, l->w)));
    if (!dx.mem) return SC_OK;
    for (size_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS)
        SC_TRY(sc_gemm(rt, 0, 1, block(rows, r0), l->in, l->out, 1.0f, sc_view_at(dy, r0 * l->out),
                       sc_view_at(params, l->w), 0.0f, sc_view_at(dx, r0 * l->in)));
    return SC_OK;
}
