/* Processes that train one model together (data parallelism under mpirun): each rank takes a
 * share of every batch and the ranks sum their gradients. A process that mpirun did not start
 * never initializes MPI: it is rank 0 of 1. */
#ifndef SIAMCL_DIST_H
#define SIAMCL_DIST_H

#include <stddef.h>

typedef struct sc_dist {
    int rank, size;
} sc_dist;

/* Joins the processes mpirun started (MPI_Init), or is rank 0 of 1 when it did not start this
 * one. mpirun of a build without MPI is an SC_EINPUT error. */
int sc_dist_init(sc_dist *d);
void sc_dist_finalize(const sc_dist *d);
/* x (n doubles) = the sum of every rank's x, in place, in the same order on every rank. */
int sc_dist_sum(const sc_dist *d, double *x, size_t n);
/* Whether text (NUL-terminated) is the same on every rank: SC_OK on all ranks, or an SC_EINPUT
 * error on all of them naming the first rank whose text differs from rank 0's and what
 * (e.g. "config"). */
int sc_dist_same(const sc_dist *d, const char *text, const char *what);
/* Stops every rank (after an error on this one: the others would wait for it forever). */
void sc_dist_abort(const sc_dist *d, int status);
/* Rank r's share of n items: [first, first + count), the remainder on the first ranks. */
void sc_dist_share(const sc_dist *d, size_t n, size_t *first, size_t *count);

#endif
