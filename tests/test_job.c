/* The job reader (sc_job_read): regressions found by fuzzing the whole validation of a config
 * (tests/fuzz/fuzz_config.c). */
#include "harness.h"

#include "siamcl/config.h"
#include "siamcl/error.h"
#include "siamcl/job.h"

#include <string.h>

static int read_job(const char *text, sc_job *job) {
    sc_config *cfg;
    int rc = sc_config_parse(text, "test.ini", &cfg);
    if (rc == SC_OK) rc = sc_job_read(cfg, job);
    sc_config_free(cfg);
    return rc;
}

static void defaults_read(void) {
    sc_job job;
    CHECK_OK(read_job("", &job));
    CHECK(job.data.format == SC_DATA_IDX && job.train.batch_size == 32);
    CHECK_OK(read_job("[data]\nformat = csv\nsplit = 80, 10, 10\n", &job));
    CHECK(job.data.split[0] == 80 && job.data.split[2] == 10);
}

/* Each share may be up to 2^30, and three of them were summed in an int: signed overflow,
 * undefined behaviour that UBSan reported (the sanitizer build of this test aborted). */
static void split_shares_that_overflow_an_int_are_errors(void) {
    sc_job job;
    CHECK(read_job("[data]\nformat = csv\nsplit = 1073741824,1073741824,1073741824\n", &job) ==
          SC_EINPUT);
    CHECK(test_error_has("split") && test_error_has("adding up to 100"), "message: %s",
          sc_last_error());
    CHECK(read_job("[data]\nformat = npy\npath = x.npy\npairs = p.csv\n"
                   "split = 1073741824,1073741824,100\n",
                   &job) == SC_EINPUT);
    CHECK(test_error_has("split"), "message: %s", sc_last_error());
}

/* "[output] dir =" was taken: the run's files would have gone to "/model.safetensors" and
 * the like, and the run directory's folder maker read past the end of the empty path. */
static void an_empty_output_dir_is_an_error(void) {
    sc_job job;
    CHECK(read_job("[output]\ndir =\n", &job) == SC_EINPUT);
    CHECK(test_error_has("test.ini:2:") && test_error_has("[output] dir"), "message: %s",
          sc_last_error());
    CHECK_OK(read_job("[output]\ndir = runs/x\n", &job));
    CHECK(!strcmp(job.out_dir, "runs/x"));
}

TEST_MAIN(TEST(defaults_read), TEST(split_shares_that_overflow_an_int_are_errors),
          TEST(an_empty_output_dir_is_an_error))
