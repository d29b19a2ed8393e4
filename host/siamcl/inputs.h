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
    /* A key per row (n floats, or NULL: each row its own): rows of equal keys are the same item
     * (a class; a text), which in-batch losses never take as each other's negatives. */
    cl_mem keys;
    int labeled; /* the keys are class labels (the triplet loss needs them) */
} sc_inputs;

/* Uploads n rows of width floats. */
int sc_inputs_dense(sc_runtime *rt, const float *rows, size_t n, size_t width, sc_inputs *out);
/* Uploads sparse rows of features below buckets; csr stays the caller's and must outlive out. */
int sc_inputs_sparse(sc_runtime *rt, const sc_csr *csr, size_t buckets, sc_inputs *out);
/* Uploads a key per row (n floats, exact integers below 2^24); labeled says they are classes. */
int sc_inputs_keys(sc_runtime *rt, sc_inputs *in, const float *keys, int labeled);
/* Frees the device copies (safe on zeroed inputs). */
void sc_inputs_free(sc_inputs *in);

#endif
