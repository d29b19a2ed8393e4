#include "progress.h"

#include <time.h>
#include <unistd.h>

double sc_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void sc_progress_begin(sc_progress *p, FILE *out, int epoch, int epochs, size_t steps) {
    p->out = out;
    p->live = isatty(fileno(out));
    p->epoch = epoch;
    p->epochs = epochs;
    p->steps = steps;
    p->skipped_steps = p->skipped_pairs = 0;
    p->start = p->last_draw = sc_now();
    if (p->live) {
        fprintf(out, "\r\033[Kepoch %d/%d  step 0/%zu", epoch, epochs, steps);
        fflush(out);
    }
}

void sc_progress_restart(sc_progress *p, size_t step, size_t pairs) {
    if (p->live) fputs("\r\033[K", p->out);
    p->skipped_steps = step;
    p->skipped_pairs = pairs;
    p->start = sc_now();
}

int sc_progress_due(const sc_progress *p) {
    return p->live && sc_now() - p->last_draw >= 0.25;
}

void sc_progress_draw(sc_progress *p, size_t step, double loss, size_t pairs) {
    double now = sc_now(), elapsed = now - p->start;
    size_t timed = step - p->skipped_steps;
    double rate = elapsed > 0 ? (double)(pairs - p->skipped_pairs) / elapsed : 0;
    double eta = timed ? elapsed * (double)(p->steps - step) / (double)timed : 0;
    p->last_draw = now;
    fprintf(p->out, "\r\033[Kepoch %d/%d  step %zu/%zu  loss %.4f  %.0f pairs/s  ETA %d:%02d",
            p->epoch, p->epochs, step, p->steps, loss, rate, (int)eta / 60, (int)eta % 60);
    fflush(p->out);
}

double sc_progress_end(sc_progress *p) {
    if (p->live) fputs("\r\033[K", p->out);
    return sc_now() - p->start;
}
