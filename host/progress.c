#include "siamcl/progress.h"

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
    p->pairs = 0;
    p->start = p->last_draw = sc_now();
}

int sc_progress_due(const sc_progress *p) {
    return p->live && sc_now() - p->last_draw >= 0.25;
}

void sc_progress_draw(sc_progress *p, size_t step, double loss, size_t pairs) {
    double now = sc_now(), elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)pairs / elapsed : 0;
    double eta = step ? elapsed * (double)(p->steps - step) / (double)step : 0;
    p->last_draw = now;
    fprintf(p->out, "\r\033[Kepoch %d/%d  step %zu/%zu  loss %.4f  %.0f pairs/s  ETA %d:%02d",
            p->epoch, p->epochs, step, p->steps, loss, rate, (int)eta / 60, (int)eta % 60);
    fflush(p->out);
}

double sc_progress_end(sc_progress *p) {
    if (p->live) fputs("\r\033[K", p->out);
    return sc_now() - p->start;
}
