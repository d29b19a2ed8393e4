/* Batches gathered on the device (cl/gather.cl), and cosine nearest neighbours. */
#ifndef SIAMCL_GATHER_H
#define SIAMCL_GATHER_H

#include "siamcl/pairs.h"
#include "siamcl/runtime.h"

/* Pairs on the device: left indices, right indices, targets. */
typedef struct sc_pairs_dev {
    size_t n;
    cl_mem left, right, target;
} sc_pairs_dev;

int sc_pairs_upload(sc_runtime *rt, const sc_pairs *p, sc_pairs_dev *out);
void sc_pairs_dev_free(sc_pairs_dev *p);

/* x (2B x width) = the rows of pairs first .. first + B - 1, left sides then right sides;
 * y (B) = their targets. */
int sc_gather_pairs(sc_runtime *rt, cl_mem rows, size_t width, const sc_pairs_dev *p, size_t first,
                    size_t pairs, sc_view x, sc_view y);
/* x (n x width) = rows first .. first + n - 1. */
int sc_gather_rows(sc_runtime *rt, cl_mem rows, size_t width, size_t first, size_t n, sc_view x);

/* For each of nq query rows, the index of the reference row of largest dot product (cosine
 * when the reference rows are unit vectors). ref is nref x dim, query nq x dim. */
int sc_nearest(sc_runtime *rt, sc_view ref, size_t nref, sc_view query, size_t nq, size_t dim,
               int32_t *nearest);

#endif
