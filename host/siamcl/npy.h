/* Arrays in NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/
 * numpy.lib.format.html): embeddings and matrices handed to Python, and data and labels that
 * users bring from Python.
 *
 * The readers accept header versions 1.0, 2.0 and 3.0 (3.0 is 2.0 with a UTF-8 header) of
 * C-order arrays. Big-endian dtypes ('>f4', '>i8', ...) are byte-swapped, so that a file reads
 * the same whatever machine wrote it. Any other file (bad magic, a truncated file, a malformed
 * header dict, a shape that needs more or less data than the file holds, Fortran order, an
 * unsupported dtype or shape) is SC_EINPUT naming path and the problem, and leaves the output
 * pointer NULL. On success the output is a new array for the caller to free(). Rows and labels
 * count from 0, as NumPy indexes them. */
#ifndef SIAMCL_NPY_H
#define SIAMCL_NPY_H

#include <stddef.h>
#include <stdint.h>

/* Writes rows x cols row-major values as a version 1.0 file of dtype '<f4' (atomically: an
 * existing file is replaced only by a complete one). */
int sc_npy_write(const char *path, const float *data, size_t rows, size_t cols);

/* Reads an array of float32 or float64 ('<f4', '<f8', '>f4', '>f8'; float64 converted to
 * float32 as C converts, so that values beyond float32 become infinities) of 2 dimensions, or
 * of 1 dimension (n,), read as n x 1. Non-finite values are kept. */
int sc_npy_read(const char *path, float **data, size_t *rows, size_t *cols);

/* As sc_npy_read, for data matrices: the array must be exactly 2-D (rows x columns; a 1-D array
 * is refused rather than guessed to be a column), and every value finite in float32 (a NaN, an
 * infinity, or a float64 value beyond the float32 range is SC_EINPUT naming its row). */
int sc_npy_read_matrix(const char *path, float **data, size_t *rows, size_t *cols);

/* Reads n integer labels: a 1-D array (n,) or a column (n, 1) of dtype '|i1', '|u1', '<i2',
 * '<u2', '<i4', '<u4', '<i8' or '<u8' (or a big-endian form, '>i2' ...). Floats, bools and all
 * other dtypes are SC_EINPUT naming the dtype, and so is a '<u8' value above INT64_MAX. */
int sc_npy_read_labels(const char *path, int64_t **labels, size_t *n);

#endif
