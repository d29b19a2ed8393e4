/* What the two vector kinds ([data] format = npy: task_vectors.c pairs by labels,
 * task_vector_pairs.c by a CSV of pairs) share: reading vectors, and a user's files for embed,
 * search and score. */
#ifndef SIAMCL_TASK_VECTORS_H
#define SIAMCL_TASK_VECTORS_H

#include "siamcl/task.h"

/* A data file of vectors (N x D, float32 or float64): at least one row of one value. */
int sc_vectors_read_matrix(const char *path, float **rows, size_t *n, size_t *width);

/* The kinds' read_rows (an .npy of the model's width), read_queries (each argument an .npy, a
 * query per row, named FILE:ROW) and read_pairs (a pairs CSV's indices into --vectors). */
int sc_vectors_read_rows(sc_runtime *rt, const sc_job *job, const char *path,
                         const sc_read_options *o, sc_user_rows *out);
int sc_vectors_read_queries(sc_runtime *rt, const sc_job *job, const char *const *args, int n,
                            sc_user_rows *out);
int sc_vectors_read_pairs(sc_runtime *rt, const sc_job *job, const sc_csv *table,
                          const sc_read_options *o, sc_user_rows *rows, sc_pairs *out);

#endif
