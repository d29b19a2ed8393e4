/* Dense matrix products through CLBlast. */
#ifndef SIAMCL_GEMM_H
#define SIAMCL_GEMM_H

#include "siamcl/runtime.h"

/* C = alpha * op(A) op(B) + beta * C for packed row-major matrices: op(A) is m x k, op(B) is
 * k x n, C is m x n; ta/tb nonzero read A (k x m) or B (n x k) transposed. */
int sc_gemm(sc_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k, float alpha, sc_view a,
            sc_view b, float beta, sc_view c);

/* The copy, pad and transpose kernels CLBlast's indirect path runs around its GEMM kernel for
 * sc_gemm's product of operands that start their buffers, under the set siamcl applied
 * (rt->gemm_applied; tune.h), and the floats of scratch they fill. None for a direct product;
 * else one per operand not stored as the kernel reads it on whole tiles, C's copied out and,
 * unless beta is 0, in. sc_gemm adds each product's kernels to rt->gemm_helpers (counting an
 * operand that could not become a sub-buffer at offset 0 as copied). */
typedef struct sc_gemm_helpers {
    unsigned kernels;
    size_t scratch;
} sc_gemm_helpers;
sc_gemm_helpers sc_gemm_helpers_of(const sc_runtime *rt, int ta, int tb, size_t m, size_t n,
                                   size_t k, float beta);

/* The shape of a product C = op(A) op(B): op(A) is m x k, op(B) k x n; ta, tb: transposed. */
typedef struct sc_gemm_shape {
    size_t m, n, k;
    int ta, tb;
} sc_gemm_shape;

static inline double sc_gemm_flops(const sc_gemm_shape *s) {
    return 2.0 * (double)s->m * (double)s->n * (double)s->k;
}

#endif
