/* Double-precision references shared by the kernel and model tests. */
#ifndef SIAMCL_TEST_REFERENCE_H
#define SIAMCL_TEST_REFERENCE_H

#include "siamcl/config.h"
#include "siamcl/dense.h"

double ref_act(double z, sc_act a);
double ref_dot(const double *a, const double *b, size_t n);
/* y (rows x out) = act(x W^T + b) with W and b at the layer's offsets in p. */
void ref_dense(const sc_dense *d, const double *p, const double *x, double *y, size_t rows);
/* m (rows x out) = |b| + sum of |x_i W_ij|: the size of the terms each output of ref_dense sums,
 * which bounds its rounding error in any order of summation. */
void ref_dense_magnitude(const sc_dense *d, const double *p, const double *x, double *m,
                         size_t rows);

/* The losses of loss.h from their definitions: the contrastive term of a pair at distance d;
 * the online contrastive loss of B pairs at distances d (a mean over the batch); CoSENT of B
 * scores; the triplet loss of 2B rows x (width dim) with class keys. */
double ref_contrastive(double d, double y, double margin);
double ref_online_contrastive(const double *d, const double *y, size_t B, double margin);
double ref_cosent(const double *s, const double *y, size_t B, double scale);
double ref_triplet(const double *x, const float *keys, size_t B, size_t dim, int is_cosine,
                   int mining, double margin);
/* The smallest |t| of the hinges max(t, 0) that ref_triplet takes: within a finite difference's
 * step of 0, the loss has a kink there (batch_all, which averages over the triplets with t > 0,
 * a jump), and central differences are no reference. */
double ref_triplet_gap(const double *x, const float *keys, size_t B, size_t dim, int is_cosine,
                       int mining, double margin);

/* Writes text to a temporary INI file and loads it (the file is removed again). */
int ref_config_from(const char *text, sc_config **cfg);
/* The temporary file's path, as error messages name it. */
const char *ref_config_path(void);

#endif
