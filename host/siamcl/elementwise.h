/* Elementwise kernels (cl/elementwise.cl). */
#ifndef SIAMCL_ELEMENTWISE_H
#define SIAMCL_ELEMENTWISE_H

#include "siamcl/runtime.h"

/* Activations; the values are shared with cl/elementwise.cl. */
typedef enum { SC_ACT_IDENTITY = 0, SC_ACT_RELU = 1, SC_ACT_TANH = 2, SC_ACT_SIGMOID = 3 } sc_act;

extern const char *const sc_act_names[]; /* "identity", "relu", "tanh", "sigmoid", NULL */

/* y[r][c] = act(y[r][c] + b[c]) in place, for a rows x cols row-major y. */
int sc_bias_act_forward(sc_runtime *rt, sc_view y, sc_view b, size_t rows, size_t cols, sc_act act);
/* y[r][c] = act(y[r][c] + b[r]) in place: the same for a feature-major y (rows: features). */
int sc_bias_act_forward_fm(sc_runtime *rt, sc_view y, sc_view b, size_t rows, size_t cols,
                           sc_act act);

/* Backward of sc_bias_act_forward from its output y: dy (dL/dy) becomes dL/dz in place, and
 * db[c] = sum over rows of dz[r][c]. */
int sc_act_bias_backward(sc_runtime *rt, sc_view dy, sc_view y, sc_view db, size_t rows,
                         size_t cols, sc_act act);

/* Inverted dropout of n values at rate in [0, 1): y = x * mask / (1 - rate), each element kept
 * with probability 1 - rate by a hash of its index, seed (a training step's) and salt (a
 * layer's), so that the backward pass redraws the same mask: d = d * mask / (1 - rate) in
 * place. sc_dropout_kept is the mask on the host. */
typedef struct sc_dropout {
    float rate;
    uint64_t seed;
    uint32_t salt;
    /* The elements' places in the hash: element k's is k + shift[0] below split, k + shift[1]
     * from split on (0, 0: k itself), so that one rank's share of a data-parallel batch draws
     * the masks that the whole batch's elements get. */
    size_t split, shift[2];
} sc_dropout;

int sc_dropout_forward(sc_runtime *rt, const sc_dropout *d, sc_view x, sc_view y, size_t n);
int sc_dropout_backward(sc_runtime *rt, const sc_dropout *d, sc_view dy, size_t n);
int sc_dropout_kept(const sc_dropout *d, size_t k);

#endif
