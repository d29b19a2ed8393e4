/* The best k columns of each row of a matrix on the device (cl/topk.cl): what a search keeps of
 * its queries x catalog scores, so that the scores never leave the device. Higher scores first,
 * ties to the lower column; NaN last. */
#ifndef SIAMCL_TOPK_H
#define SIAMCL_TOPK_H

#include "siamcl/runtime.h"

enum { SC_TOPK_MAX = 128 }; /* the most columns a row keeps */

/* Scratch for rows of up to k kept columns: sc_topk_scratch's buffers. */
typedef struct sc_topk_scratch {
    size_t rows, k;
    cl_mem vals, idx;
} sc_topk_scratch;

int sc_topk_scratch_new(sc_runtime *rt, size_t rows, size_t k, sc_topk_scratch *out);
void sc_topk_scratch_free(sc_topk_scratch *s);

/* out_v, out_i (rows x k floats and int32 column numbers, on the device) = the best k columns
 * of each row of s (rows x cols, row-major), scored s[r][c] - bias[c] when bias.mem is not
 * NULL; a row of fewer than k columns ends with -INFINITY and -1. k is at most SC_TOPK_MAX and
 * the scratch's k, rows at most its rows. */
int sc_topk(sc_runtime *rt, sc_view s, size_t rows, size_t cols, sc_view bias, size_t k,
            const sc_topk_scratch *scratch, cl_mem out_v, cl_mem out_i);

#endif
