/* A dense layer y = act(x W + b) over row-major batches, with W (in x out) and b (out) at
 * offsets in the model's flat parameter buffer. W is kept (in x out), the transpose of
 * PyTorch's Linear weight, because CLBlast's kernel then reads it without a transposing copy
 * in the forward product and the weight gradient; checkpoints store PyTorch's layout. */
#ifndef SIAMCL_DENSE_H
#define SIAMCL_DENSE_H

#include "siamcl/elementwise.h"

typedef struct sc_dense {
    int in, out;
    size_t w, b; /* offsets (floats) of W and b in the parameter and gradient buffers */
    sc_act act;
} sc_dense;

/* y (rows x out) = act(x (rows x in) W + b). */
int sc_dense_forward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view x, sc_view y,
                     size_t rows);

/* Rows per product: sc_dense_forward and sc_dense_backward multiply a batch of more rows in
 * blocks of this many. */
#define SC_DENSE_BLOCK_ROWS 512

/* The forward pass of nb rows (at most SC_DENSE_BLOCK_ROWS) held feature-major, xt = x^T
 * (in x nb): y = act(x W + b) row-major (nb x out) when to_rows, else y^T (out x nb). Both
 * products take their operands in CLBlast's own order (W and x^T with k outermost), so CLBlast
 * runs no transposing copy: an inference pass keeps its layers feature-major. */
int sc_dense_forward_fm(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view xt, sc_view y,
                        size_t nb, int to_rows);

/* Given dy = dL/dy (overwritten with dL/dz), writes dW and db at the layer's offsets in grads
 * and, unless dx.mem is NULL, dx = dL/dx. x and y are the forward pass's input and output. */
int sc_dense_backward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view grads, sc_view x,
                      sc_view y, sc_view dy, sc_view dx, size_t rows);

#endif
