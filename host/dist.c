#define _GNU_SOURCE /* sched_getaffinity */
#include "dist.h"
#include "siamcl/error.h"
#include "siamcl/pairs.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SC_HAVE_MPI
#include <mpi.h>
#endif

/* The world size mpirun (Open MPI, or a PMI launcher) gave this process; 0 when none did. */
static int launched_size(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) return atoi(v);
    }
    return 0;
}

#ifdef SC_HAVE_MPI
/* This rank's place among the ranks that share its machine (its memory). */
static void find_local(sc_dist *d) {
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node) !=
        MPI_SUCCESS)
        return;
    MPI_Comm_rank(node, &d->local_rank);
    MPI_Comm_size(node, &d->local_size);
    MPI_Comm_free(&node);
}
#endif

int sc_dist_init(sc_dist *d) {
    *d = (sc_dist){0, 1, 0, 1};
    int n = launched_size();
    if (n == 0) return SC_OK;
#ifdef SC_HAVE_MPI
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return sc_error(SC_ERR, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    find_local(d);
    return SC_OK;
#else
    return sc_error(SC_EINPUT,
                    "started by mpirun with %d processes, but this siamcl was built without MPI "
                    "(install libopenmpi-dev and rebuild: tools/setup.sh, cmake)",
                    n);
#endif
}

void sc_dist_finalize(const sc_dist *d) {
#ifdef SC_HAVE_MPI
    int up = 0;
    MPI_Initialized(&up);
    if (up && d->size >= 1) MPI_Finalize();
#else
    (void)d;
#endif
}

/* x (n values, doubles or floats) reduced across the ranks in place: summed, or the least. */
static int reduce(const sc_dist *d, void *x, size_t n, int doubles, int sum) {
    if (d->size == 1) return SC_OK;
#ifdef SC_HAVE_MPI
    if (n > 0x7fffffff) return sc_error(SC_ERR, "a reduction of %zu values exceeds MPI's count", n);
    /* Open MPI reduces in an order that depends on the ranks and sizes, not on the data, and
     * hands every rank the same result */
    if (MPI_Allreduce(MPI_IN_PLACE, x, (int)n, doubles ? MPI_DOUBLE : MPI_FLOAT,
                      sum ? MPI_SUM : MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return sc_error(SC_ERR, "MPI_Allreduce failed");
    return SC_OK;
#else
    (void)x;
    (void)doubles;
    (void)sum;
    return sc_error(SC_ERR, "%zu values to reduce across ranks without MPI", n);
#endif
}

int sc_dist_sum(const sc_dist *d, double *x, size_t n) {
    return reduce(d, x, n, 1, 1);
}

int sc_dist_sum_floats(const sc_dist *d, float *x, size_t n) {
    return reduce(d, x, n, 0, 1);
}

int sc_dist_min(const sc_dist *d, double *x, size_t n) {
    return reduce(d, x, n, 1, 0);
}

int sc_dist_differs(const sc_dist *d, const char *text, int *rank) {
    *rank = -1;
    if (d->size == 1) return SC_OK;
#ifdef SC_HAVE_MPI
    /* rank 0's text to every rank, then the lowest rank that differs (size: none) to all */
    size_t len = strlen(text);
    unsigned long n = (unsigned long)len;
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
    char *theirs = malloc(n + 1);
    int differ = d->size, mine = d->size;
    if (!theirs) {
        mine = d->rank; /* no room to compare: this rank refuses */
    } else {
        if (d->rank == 0) memcpy(theirs, text, n);
        MPI_Bcast(theirs, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (n != len || memcmp(theirs, text, n)) mine = d->rank;
    }
    MPI_Allreduce(&mine, &differ, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    free(theirs);
    if (differ < d->size) *rank = differ;
    return SC_OK;
#else
    (void)text;
    return sc_error(SC_ERR, "comparing texts across ranks without MPI");
#endif
}

int sc_dist_agree(const sc_dist *d, int rc) {
    if (d->size == 1) return rc;
#ifdef SC_HAVE_MPI
    int mine = rc == SC_OK ? d->size : d->rank, first = d->size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == d->size) return SC_OK;
    char message[1024];
    int code = rc;
    snprintf(message, sizeof message, "%s", d->rank == first ? sc_last_error() : "");
    MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
    MPI_Bcast(message, (int)sizeof message, MPI_CHAR, first, MPI_COMM_WORLD);
    if (d->rank == first) return rc;
    return sc_error(code, "rank %d of %d: %s", first, d->size, message);
#else
    return rc;
#endif
}

int sc_dist_gather(const sc_dist *d, float *x, const size_t *n) {
    if (d->size == 1) return SC_OK;
#ifdef SC_HAVE_MPI
    int *counts = malloc(2 * (size_t)d->size * sizeof *counts), *at = counts + d->size;
    if (!counts) return sc_error(SC_ERR, "out of memory");
    size_t total = 0;
    for (int r = 0; r < d->size; r++) {
        counts[r] = (int)n[r];
        at[r] = (int)total;
        total += n[r];
    }
    int rc = total > 0x7fffffff ? sc_error(SC_ERR, "%zu values to gather exceed MPI's count", total)
                                : SC_OK;
    if (rc == SC_OK && MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x, counts, at, MPI_FLOAT,
                                      MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = sc_error(SC_ERR, "MPI_Allgatherv failed");
    free(counts);
    return rc;
#else
    (void)x;
    (void)n;
    return sc_error(SC_ERR, "gathering values across ranks without MPI");
#endif
}

int sc_dist_cores(const sc_dist *d) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int bound = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (online < 1) online = 1;
    if (bound > 0 && bound < online) return bound; /* mpirun bound the ranks apart */
    long share = online / (d->local_size > 0 ? d->local_size : 1);
    return share > 1 ? (int)share : 1;
}

void sc_dist_abort(const sc_dist *d, int status) {
#ifdef SC_HAVE_MPI
    if (d->size > 1) MPI_Abort(MPI_COMM_WORLD, status);
#else
    (void)d;
    (void)status;
#endif
}

void sc_dist_share(const sc_dist *d, size_t n, size_t *first, size_t *count) {
    sc_pairs_share(n, d->rank, d->size, first, count);
}
