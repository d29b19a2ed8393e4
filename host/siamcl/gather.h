/* Batches gathered on the device (cl/gather.cl), and cosine nearest neighbours. */
#ifndef SIAMCL_GATHER_H
#define SIAMCL_GATHER_H

#include "siamcl/pairs.h"
#include "siamcl/runtime.h"

/* Pairs on the device: left indices, right indices, targets, and the pairs' features (n x
 * nfeatures floats; NULL when nfeatures is 0). */
typedef struct sc_pairs_dev {
    size_t n;
    cl_mem left, right, target, features;
    int nfeatures;
} sc_pairs_dev;

int sc_pairs_upload(sc_runtime *rt, const sc_pairs *p, sc_pairs_dev *out);
void sc_pairs_dev_free(sc_pairs_dev *p);

/* Which rows of an input a batch reads, by index buffers on the device: row r < split is
 * left[first + r], row r >= split is right[first + r - split], for n rows. A batch of pairs
 * has split = pairs and n = 2 pairs (left sides, then right sides); a list of rows has
 * left = right and split = n. */
typedef struct sc_row_index {
    cl_mem left, right;
    size_t first, split, n;
} sc_row_index;

/* The index of pairs first .. first + pairs - 1 of p. */
sc_row_index sc_pairs_index(const sc_pairs_dev *p, size_t first, size_t pairs);
/* The index of rows index[first .. first + n). */
sc_row_index sc_list_index(cl_mem index, size_t first, size_t n);

/* x (ix->n x width) = the rows ix names of rows (a buffer of rows x width floats). */
int sc_gather(sc_runtime *rt, cl_mem rows, size_t width, const sc_row_index *ix, sc_view x);

/* x (width x nb) = rows from .. from + nb - 1 of the rows ix names, feature-major: column r is
 * row from + r. */
int sc_gather_fm(sc_runtime *rt, cl_mem rows, size_t width, const sc_row_index *ix, size_t from,
                 size_t nb, sc_view x);

/* x (ix->n floats) = the index of each row ix names. */
int sc_gather_index(sc_runtime *rt, const sc_row_index *ix, sc_view x);

/* For each of nq query rows, the index of the reference row of largest dot product (cosine
 * when the reference rows are unit vectors). ref is nref x dim, query nq x dim. */
int sc_nearest(sc_runtime *rt, sc_view ref, size_t nref, sc_view query, size_t nq, size_t dim,
               int32_t *nearest);

#endif
