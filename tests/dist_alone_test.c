/* host/dist.c as a build without MPI compiles it (this program builds its own copy): a
 * process is rank 0 of 1, and one that mpirun started is refused with a clear message. */
#include "harness.h"

#include "dist.h"
#include "siamcl/pairs.h"

#include <stdlib.h>
#include <string.h>

static void alone_is_rank_0_of_1(void) {
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("PMI_SIZE");
    unsetenv("PMIX_SIZE");
    sc_dist d;
    CHECK_OK(sc_dist_init(&d));
    CHECK(d.rank == 0 && d.size == 1 && d.local_rank == 0 && d.local_size == 1,
          "rank %d of %d, local %d of %d", d.rank, d.size, d.local_rank, d.local_size);
    double x[2] = {1.5, -2};
    CHECK_OK(sc_dist_sum(&d, x, 2));
    CHECK(x[0] == 1.5 && x[1] == -2, "a sum over one rank changed x: %g %g", x[0], x[1]);
    CHECK(sc_dist_agree(&d, SC_EINPUT) == SC_EINPUT, "agree changed the status");
    int other = 0;
    CHECK_OK(sc_dist_differs(&d, "text", &other));
    CHECK(other == -1, "one rank differs from itself: %d", other);
    CHECK(sc_dist_cores(&d) >= 1, "no core");
    size_t first, count;
    sc_dist_share(&d, 33, &first, &count);
    CHECK(first == 0 && count == 33, "share %zu + %zu", first, count);
    sc_dist_finalize(&d);
}

static void started_by_mpirun_is_refused(void) {
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    sc_dist d;
    CHECK(sc_dist_init(&d) == SC_EINPUT, "mpirun of a build without MPI must fail");
    CHECK(strstr(sc_last_error(), "built without MPI") && strstr(sc_last_error(), "2 processes"),
          "message: %s", sc_last_error());
    unsetenv("OMPI_COMM_WORLD_SIZE");
}

/* The share of a batch: the remainder on the first parts, every pair once. */
static void shares_cover_the_batch(void) {
    for (int parts = 1; parts <= 5; parts++)
        for (size_t n = 0; n <= 13; n++) {
            size_t next = 0;
            for (int p = 0; p < parts; p++) {
                size_t first, count;
                sc_pairs_share(n, p, parts, &first, &count);
                CHECK(first == next, "n %zu, part %d of %d starts at %zu", n, p, parts, first);
                size_t want = n / (size_t)parts + ((size_t)p < n % (size_t)parts);
                CHECK(count == want, "n %zu, part %d of %d: %zu", n, p, parts, count);
                next = first + count;
            }
            CHECK(next == n, "n %zu over %d parts covers %zu", n, parts, next);
        }
}

TEST_MAIN(TEST(alone_is_rank_0_of_1), TEST(started_by_mpirun_is_refused),
          TEST(shares_cover_the_batch))
