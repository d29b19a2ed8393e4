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

void ref_dense_magnitude(const sc_dense *d, const double *p, const double *x, double *m,
                         size_t rows) {
    for (size_t r = 0; r < rows; r++)
        for (int o = 0; o < d->out; o++) {
            double z = fabs(p[d->b + o]);
            for (int i = 0; i < d->in; i++)
                z += fabs(x[r * d->in + i] * p[d->w + (size_t)i * d->out + o]);
            m[r * d->out + o] = z;
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

double ref_contrastive(double d, double y, double margin) {
    double gap = fmax(margin - d, 0);
    return y * d * d + (1 - y) * gap * gap;
}

double ref_online_contrastive(const double *d, const double *y, size_t B, double margin) {
    double far = -INFINITY, near = INFINITY, sum = 0;
    for (size_t j = 0; j < B; j++) {
        if (y[j] >= 0.5)
            far = fmax(far, d[j]);
        else
            near = fmin(near, d[j]);
    }
    for (size_t i = 0; i < B; i++) {
        int pos = y[i] >= 0.5;
        if (pos ? d[i] > near : d[i] < far) sum += ref_contrastive(d[i], pos, margin);
    }
    return sum / (double)B;
}

/* Summed directly: the tests keep the exponents small. */
double ref_cosent(const double *s, const double *y, size_t B, double scale) {
    double z = 1;
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < B; j++)
            if (y[i] > y[j]) z += exp(scale * (s[j] - s[i]));
    return log(z);
}

static double ref_distance(const double *x, size_t a, size_t b, size_t dim, int is_cosine) {
    double dot = 0, na = 0, nb = 0, sq = 0;
    for (size_t e = 0; e < dim; e++) {
        double u = x[a * dim + e], v = x[b * dim + e];
        dot += u * v, na += u * u, nb += v * v, sq += (u - v) * (u - v);
    }
    return is_cosine ? 1 - dot / sqrt(na * nb) : sqrt(sq);
}

/* Mining 0 none, 1 batch_hard, 2 batch_all, as sc_mining; every distance computed afresh.
 * *gap: the smallest |t| of the hinges max(t, 0) the loss takes. */
static double triplet(const double *x, const float *k, size_t B, size_t dim, int is_cosine,
                      int mining, double margin, double *gap) {
    double sum = 0, count = 0;
    *gap = INFINITY;
    for (size_t a = 0; a < 2 * B; a++) {
        if (mining == 0) {
            if (a >= B || k[B + a] != k[a]) continue;
            for (size_t s = 1; s < B; s++) {
                size_t n = B + (a + s) % B;
                if (k[n] == k[a]) continue;
                double t = ref_distance(x, a, B + a, dim, is_cosine) -
                           ref_distance(x, a, n, dim, is_cosine) + margin;
                sum += fmax(t, 0), count += 1, *gap = fmin(*gap, fabs(t));
                break;
            }
            continue;
        }
        double far = -1, near = INFINITY;
        for (size_t p = 0; p < 2 * B; p++) {
            if (p == a) continue;
            double d = ref_distance(x, a, p, dim, is_cosine);
            if (k[p] == k[a])
                far = fmax(far, d);
            else
                near = fmin(near, d);
            if (mining != 2 || k[p] != k[a]) continue;
            for (size_t n = 0; n < 2 * B; n++) {
                double t = d - ref_distance(x, a, n, dim, is_cosine) + margin;
                if (k[n] == k[a]) continue;
                if (t > 0) sum += t, count += 1;
                *gap = fmin(*gap, fabs(t));
            }
        }
        if (mining == 1 && far >= 0 && near < INFINITY) {
            double t = far - near + margin;
            sum += fmax(t, 0), count += 1, *gap = fmin(*gap, fabs(t));
        }
    }
    return count > 0 ? sum / count : 0;
}

double ref_triplet(const double *x, const float *k, size_t B, size_t dim, int is_cosine, int mining,
                   double margin) {
    double gap;
    return triplet(x, k, B, dim, is_cosine, mining, margin, &gap);
}

double ref_triplet_gap(const double *x, const float *k, size_t B, size_t dim, int is_cosine,
                       int mining, double margin) {
    double gap;
    triplet(x, k, B, dim, is_cosine, mining, margin, &gap);
    return gap;
}
