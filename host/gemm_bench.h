/* Timing and checking a set of matrix products on random operands: what `siamcl tune`
 * searches with and `siamcl bench --products` reports. */
#ifndef SIAMCL_GEMM_BENCH_H
#define SIAMCL_GEMM_BENCH_H

#include "siamcl/gemm.h"
#include "siamcl/runtime.h"

typedef struct sc_gemm_bench {
    sc_runtime *rt;
    const sc_gemm_shape *s;
    int n;
    cl_mem a, b, c;      /* operands for the largest product, uniform in [-1, 1) */
    float *ha, *hb, *hc; /* their host copies, for the reference */
    size_t size;         /* floats in each */
} sc_gemm_bench;

/* Operands for the n products s (kept by reference). Close it even after a failure. */
int sc_gemm_bench_open(sc_runtime *rt, const sc_gemm_shape *s, int n, sc_gemm_bench *b);
void sc_gemm_bench_close(sc_gemm_bench *b);

/* Runs every product once and returns the largest relative error (2-norm) against a
 * double-precision reference. */
int sc_gemm_bench_verify(sc_gemm_bench *b, double *worst);

/* Seconds per product of each shape: the median of five runs of 8 queued products, after a
 * warm-up run of every product (which compiles what the parameters in force need). */
int sc_gemm_bench_time_each(sc_gemm_bench *b, double *seconds);

/* Seconds for all the products in turn, as a training step runs them (median of five). */
int sc_gemm_bench_time_all(sc_gemm_bench *b, double *seconds);

/* "64 x 256 x 784, B transposed" and the like. */
void sc_gemm_shape_name(const sc_gemm_shape *s, char *out, size_t size);

#endif
