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
    size_t steps, pairs;
    double start, last_draw;
} sc_progress;

/* Seconds on a monotonic clock. */
double sc_now(void);

void sc_progress_begin(sc_progress *p, FILE *out, int epoch, int epochs, size_t steps);
/* Whether a redraw is due (the caller then reads the loss, which costs a device round trip). */
int sc_progress_due(const sc_progress *p);
/* Draws step of steps, the running loss, and the pairs done so far this epoch. */
void sc_progress_draw(sc_progress *p, size_t step, double loss, size_t pairs);
/* Clears the live line; returns the epoch's seconds. */
double sc_progress_end(sc_progress *p);

#endif
