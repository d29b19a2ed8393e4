#include "reference.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

double ref_act(double z, sc_act a) {
    switch (a) {
    case SC_ACT_RELU:
        return z > 0 ? z : 0;
    case SC_ACT_TANH:
        return tanh(z);
    case SC_ACT_SIGMOID:
        return 1 / (1 + exp(-z));
    default:
        return z;
    }
}

double ref_dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void ref_dense(const sc_dense *d, const double *p, const double *x, double *y, size_t rows) {
    for (size_t r = 0; r < rows; r++)
        for (int o = 0; o < d->out; o++) {
            double z = p[d->b + o];
            for (int i = 0; i < d->in; i++)
                z += x[r * d->in + i] * p[d->w + (size_t)i * d->out + o];
            y[r * d->out + o] = ref_act(z, d->act);
        }
}

static char path[64];

const char *ref_config_path(void) {
    return path;
}

int ref_config_from(const char *text, sc_config **cfg) {
    snprintf(path, sizeof path, "/tmp/siamcl_test_%d.ini", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f) return SC_ERR;
    fputs(text, f);
    fclose(f);
    int rc = sc_config_load(path, cfg);
    unlink(path);
    return rc;
}
