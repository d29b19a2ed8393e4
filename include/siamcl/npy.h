/* 2-D float32 arrays in NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/
 * numpy.lib.format.html), for handing embeddings and matrices to Python. */
#ifndef SIAMCL_NPY_H
#define SIAMCL_NPY_H

#include <stddef.h>

/* Writes rows x cols row-major values as a version 1.0 file of dtype '<f4' (atomically: an
 * existing file is replaced only by a complete one). */
int sc_npy_write(const char *path, const float *data, size_t rows, size_t cols);

/* Reads a version 1.0 or 2.0 file holding a C-order '<f4' array of 2 dimensions, or of 1
 * dimension (n,), read as n x 1. *data is a new array for the caller to free(). Any other file
 * is SC_EINPUT naming path and the problem. */
int sc_npy_read(const char *path, float **data, size_t *rows, size_t *cols);

#endif
