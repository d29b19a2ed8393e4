#include "dist.h"
#include "siamcl/error.h"

#include <stdlib.h>
#include <string.h>

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

int sc_dist_init(sc_dist *d) {
    d->rank = 0;
    d->size = 1;
    int n = launched_size();
    if (n == 0) return SC_OK;
#ifdef SC_HAVE_MPI
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return sc_error(SC_ERR, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
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

int sc_dist_sum(const sc_dist *d, double *x, size_t n) {
    if (d->size == 1) return SC_OK;
#ifdef SC_HAVE_MPI
    if (n > 0x7fffffff) return sc_error(SC_ERR, "a sum of %zu values exceeds MPI's count", n);
    /* MPI_SUM of doubles in a reduction whose order does not depend on the data */
    if (MPI_Allreduce(MPI_IN_PLACE, x, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return sc_error(SC_ERR, "MPI_Allreduce failed");
    return SC_OK;
#else
    (void)x;
    return sc_error(SC_ERR, "%zu values to sum across ranks without MPI", n);
#endif
}

int sc_dist_same(const sc_dist *d, const char *text, const char *what) {
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
    if (differ == d->size) return SC_OK;
    return sc_error(SC_EINPUT,
                    "rank %d's %s is not rank 0's: every rank must be given the same one (the "
                    "same CONFIG and -o)",
                    differ, what);
#else
    (void)text;
    return sc_error(SC_ERR, "comparing the %s across ranks without MPI", what);
#endif
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
    size_t base = n / (size_t)d->size, extra = n % (size_t)d->size, r = (size_t)d->rank;
    *count = base + (r < extra);
    *first = r * base + (r < extra ? r : extra);
}
