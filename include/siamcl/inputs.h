/* The rows a model reads, on the device: dense rows of floats, or sparse rows (CSR) of hashed
 * features for a model whose first layer is an embedding bag. A batch names rows of it by
 * index (sc_row_index), so the same inputs serve training, scoring and embedding. */
#ifndef SIAMCL_INPUTS_H
#define SIAMCL_INPUTS_H

#include "siamcl/sparse.h"

typedef struct sc_inputs {
    size_t n;           /* rows */
    size_t width;       /* dense: floats per row; sparse: the features' range (buckets) */
    cl_mem dense;       /* dense: n x width floats; NULL for sparse rows */
    const sc_csr *csr;  /* sparse: the rows on the host (an epoch's plan reads them); not owned */
    sc_csr_dev csr_dev; /* sparse: the rows on the device */
} sc_inputs;

/* Uploads n rows of width floats. */
int sc_inputs_dense(sc_runtime *rt, const float *rows, size_t n, size_t width, sc_inputs *out);
/* Uploads sparse rows of features below buckets; csr stays the caller's and must outlive out. */
int sc_inputs_sparse(sc_runtime *rt, const sc_csr *csr, size_t buckets, sc_inputs *out);
/* Frees the device copies (safe on zeroed inputs). */
void sc_inputs_free(sc_inputs *in);

#endif
