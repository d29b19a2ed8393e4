/* Processes that train one model together (data parallelism under mpirun): each rank takes a
 * share of every batch and the ranks sum their gradients. A process that mpirun did not start
 * never initializes MPI: it is rank 0 of 1. */
#ifndef SIAMCL_DIST_H
#define SIAMCL_DIST_H

#include <stddef.h>

typedef struct sc_dist {
    int rank, size;
    int local_rank, local_size; /* among the ranks on this machine */
} sc_dist;

/* Joins the processes mpirun started (MPI_Init), or is rank 0 of 1 when it did not start this
 * one. mpirun of a build without MPI is an SC_EINPUT error. */
int sc_dist_init(sc_dist *d);
void sc_dist_finalize(const sc_dist *d);
/* x (n doubles) = the sum of every rank's x, in place, in the same order on every rank. */
int sc_dist_sum(const sc_dist *d, double *x, size_t n);
/* The same for floats (a gradient: half the bytes of doubles to send). */
int sc_dist_sum_floats(const sc_dist *d, float *x, size_t n);
/* x (n doubles) = the least of every rank's x, element by element, in place. */
int sc_dist_min(const sc_dist *d, double *x, size_t n);
/* The lowest rank whose text (NUL-terminated) differs from rank 0's, in *rank on every rank;
 * -1 when they all hold rank 0's. */
int sc_dist_differs(const sc_dist *d, const char *text, int *rank);
/* After a stage that may fail on some ranks alone (status rc here): SC_OK on every rank when
 * it succeeded on all, else on every rank the status and the message of the lowest rank that
 * failed, prefixed with "rank R of N: " where that is another rank. */
int sc_dist_agree(const sc_dist *d, int rc);
/* Rank r's n[r] floats from x + first[r], for every r, into x on every rank (first[r] =
 * n[0] + ... + n[r - 1]). */
int sc_dist_gather(const sc_dist *d, float *x, const size_t *n);
/* The CPU cores that are this rank's: those it is bound to, shared with the other ranks on
 * this machine when they are not bound apart (at least 1). */
int sc_dist_cores(const sc_dist *d);
/* Stops every rank (after an error on this one: the others would wait for it forever). */
void sc_dist_abort(const sc_dist *d, int status);
/* Rank r's share of n items: [first, first + count), the remainder on the first ranks. */
void sc_dist_share(const sc_dist *d, size_t n, size_t *first, size_t *count);

#endif
