/* The progress line: what its rate, ETA and seconds count, before and after a restart. The
 * clock is moved by setting the start back, so no test waits. */
#include "harness.h"

#include "progress.h"

#include <stdio.h>
#include <string.h>

/* What p has written to f so far. */
static void written(FILE *f, char *out, size_t cap) {
    fflush(f);
    rewind(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
}

static void nothing_live_off_a_terminal(void) {
    FILE *f = tmpfile();
    CHECK(f);
    sc_progress p;
    sc_progress_begin(&p, f, 1, 3, 10);
    long size = ftell(f);
    CHECK(!p.live && size == 0, "a file gets no live line: %ld bytes", size);
    sc_progress_end(&p);
    fclose(f);
}

static void rate_and_eta_count_the_steps_done(void) {
    FILE *f = tmpfile();
    CHECK(f);
    char line[256];
    sc_progress p;
    sc_progress_begin(&p, f, 2, 5, 100);
    p.start -= 10; /* 10 s ago */
    sc_progress_draw(&p, 25, 0.125, 800);
    written(f, line, sizeof line);
    fclose(f);
    CHECK(strstr(line, "epoch 2/5  step 25/100  loss 0.1250  80 pairs/s  ETA 0:30"), "%s", line);
}

static void restart_leaves_the_first_steps_out(void) {
    FILE *f = tmpfile();
    CHECK(f);
    char line[256];
    sc_progress p;
    sc_progress_begin(&p, f, 1, 3, 10);
    p.start -= 100; /* a first step of 100 s */
    sc_progress_restart(&p, 1, 32);
    p.start -= 10; /* then 10 s for two more steps, 64 pairs */
    sc_progress_draw(&p, 3, 0.5, 96);
    written(f, line, sizeof line);
    double seconds = sc_progress_end(&p);
    fclose(f);
    /* with the first step counted: 10 pairs/s and ETA 0:23 */
    CHECK(strstr(line, "step 3/10  loss 0.5000  6 pairs/s  ETA 0:35"), "%s", line);
    CHECK(seconds >= 10 && seconds < 50, "the epoch's seconds since the restart: %g", seconds);
}

TEST_MAIN(TEST(nothing_live_off_a_terminal), TEST(rate_and_eta_count_the_steps_done),
          TEST(restart_leaves_the_first_steps_out))
