#include "siamcl/metrics.h"

#include <math.h>
#include <stdlib.h>

double sc_metric_mse(const float *s, const float *y, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += ((double)s[i] - y[i]) * ((double)s[i] - y[i]);
    return n ? sum / (double)n : NAN;
}

double sc_metric_mae(const float *s, const float *y, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += fabs((double)s[i] - y[i]);
    return n ? sum / (double)n : NAN;
}

static const float *sort_keys;

static int by_key(const void *a, const void *b) {
    float x = sort_keys[*(const size_t *)a], y = sort_keys[*(const size_t *)b];
    return (x > y) - (x < y);
}

/* The positions of s in ascending order (NULL when out of memory). */
static size_t *order(const float *s, size_t n) {
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_keys = s;
    qsort(idx, n, sizeof *idx, by_key);
    return idx;
}

/* 1-based ranks of s, ties sharing their mean rank (NULL when out of memory). */
static double *ranks(const float *s, size_t n) {
    size_t *idx = order(s, n);
    double *r = malloc((n ? n : 1) * sizeof *r);
    if (!idx || !r) {
        free(idx), free(r);
        return NULL;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && s[idx[j + 1]] == s[idx[i]]) j++;
        for (size_t k = i; k <= j; k++) r[idx[k]] = (double)(i + j) / 2 + 1;
        i = j + 1;
    }
    free(idx);
    return r;
}

double sc_metric_auc(const float *s, const float *y, size_t n) {
    double *r = ranks(s, n), pos_rank_sum = 0;
    size_t pos = 0;
    if (!r) return NAN;
    for (size_t i = 0; i < n; i++) {
        if (y[i] > 0.5f) {
            pos++;
            pos_rank_sum += r[i];
        }
    }
    free(r);
    size_t neg = n - pos;
    if (!pos || !neg) return NAN;
    /* Mann-Whitney U over the product of the class sizes */
    return (pos_rank_sum - (double)pos * (pos + 1) / 2) / ((double)pos * neg);
}

double sc_accuracy_at(const float *s, const float *y, size_t n, double t) {
    size_t right = 0;
    for (size_t i = 0; i < n; i++) right += (s[i] >= t) == (y[i] > 0.5f);
    return n ? (double)right / (double)n : NAN;
}

double sc_best_threshold(const float *s, const float *y, size_t n, double *acc) {
    size_t *idx = order(s, n), pos = 0;
    if (!idx || !n) {
        free(idx);
        *acc = NAN;
        return NAN;
    }
    for (size_t i = 0; i < n; i++) pos += y[i] > 0.5f;
    /* threshold below everything: all predicted positive */
    size_t right = pos, best = right;
    double t = (double)s[idx[0]] - 1, best_t = t;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[idx[j]] == s[idx[i]]) { /* moving past a score flips its predictions */
            right += y[idx[j]] > 0.5f ? -1 : 1;
            j++;
        }
        t = j < n ? ((double)s[idx[i]] + s[idx[j]]) / 2 : (double)s[idx[i]] + 1;
        if (right > best) {
            best = right;
            best_t = t;
        }
        i = j;
    }
    free(idx);
    *acc = (double)best / (double)n;
    return best_t;
}

static double pearson_d(const double *a, const double *b, size_t n) {
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= (double)n, mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

double sc_metric_pearson(const float *s, const float *y, size_t n) {
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    double r = NAN;
    if (a && b) {
        for (size_t i = 0; i < n; i++) a[i] = s[i], b[i] = y[i];
        r = pearson_d(a, b, n);
    }
    free(a), free(b);
    return r;
}

double sc_metric_spearman(const float *s, const float *y, size_t n) {
    double *a = ranks(s, n), *b = ranks(y, n);
    double r = a && b ? pearson_d(a, b, n) : NAN;
    free(a), free(b);
    return r;
}
