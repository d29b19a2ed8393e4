/* A dense layer y = act(x W^T + b) over row-major batches, with W (out x in) and b (out) at
 * offsets in the model's flat parameter buffer. */
#ifndef SIAMCL_DENSE_H
#define SIAMCL_DENSE_H

#include "siamcl/elementwise.h"

typedef struct sc_dense {
    int in, out;
    size_t w, b; /* offsets (floats) of W and b in the parameter and gradient buffers */
    sc_act act;
} sc_dense;

/* y (rows x out) = act(x (rows x in) W^T + b). */
int sc_dense_forward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view x, sc_view y,
                     size_t rows);

/* Given dy = dL/dy (overwritten with dL/dz), writes dW and db at the layer's offsets in grads
 * and, unless dx.mem is NULL, dx = dL/dx. x and y are the forward pass's input and output. */
int sc_dense_backward(sc_runtime *rt, const sc_dense *l, sc_view params, sc_view grads, sc_view x,
                      sc_view y, sc_view dy, sc_view dx, size_t rows);

#endif
