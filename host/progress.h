/* Progress of long work: on a terminal one live line (epoch, step, loss, pairs/s, ETA),
 * redrawn at most four times a second; elsewhere nothing until the caller's summary line. */
#ifndef SIAMCL_PROGRESS_H
#define SIAMCL_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct sc_progress {
    FILE *out;
    int live; /* out is a terminal */
    int epoch, epochs;
    size_t steps;
    size_t skipped_steps, skipped_pairs; /* done before the clock (re)started */
    double start, last_draw;
} sc_progress;

/* Seconds on a monotonic clock. */
double sc_now(void);

/* Starts the clock and, on a terminal, shows the epoch at step 0. */
void sc_progress_begin(sc_progress *p, FILE *out, int epoch, int epochs, size_t steps);
/* Restarts the clock after `step` steps and `pairs` pairs, which the rate, the ETA and the
 * epoch's seconds then leave out; clears the live line. */
void sc_progress_restart(sc_progress *p, size_t step, size_t pairs);
/* Whether a redraw is due (the caller then reads the loss, which costs a device round trip). */
int sc_progress_due(const sc_progress *p);
/* Draws step of steps, the running loss, and the pairs done so far this epoch. */
void sc_progress_draw(sc_progress *p, size_t step, double loss, size_t pairs);
/* Clears the live line; returns the epoch's seconds since the clock (re)started. */
double sc_progress_end(sc_progress *p);

#endif
