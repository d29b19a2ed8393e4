#include "gemm_bench.h"
#include "progress.h"
#include "siamcl/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int product(sc_gemm_bench *t, int i) {
    const sc_gemm_shape *s = &t->s[i];
    return sc_gemm(t->rt, s->ta, s->tb, s->m, s->n, s->k, 1.0f, (sc_view){t->a, 0},
                   (sc_view){t->b, 0}, 0.0f, (sc_view){t->c, 0});
}

int sc_gemm_bench_verify(sc_gemm_bench *t, double *worst) {
    *worst = 0;
    for (int i = 0; i < t->n; i++) {
        const sc_gemm_shape *s = &t->s[i];
        SC_TRY(product(t, i));
        SC_TRY(sc_download(t->rt, t->hc, (sc_view){t->c, 0}, s->m * s->n));
        double num = 0, den = 0;
        for (size_t r = 0; r < s->m; r++) {
            for (size_t c = 0; c < s->n; c++) {
                double v = 0;
                for (size_t p = 0; p < s->k; p++)
                    v += (double)(s->ta ? t->ha[p * s->m + r] : t->ha[r * s->k + p]) *
                         (s->tb ? t->hb[c * s->k + p] : t->hb[p * s->n + c]);
                double d = t->hc[r * s->n + c] - v;
                num += d * d, den += v * v;
            }
        }
        double err = sqrt(num / (den > 0 ? den : 1));
        if (err > *worst) *worst = err;
    }
    return SC_OK;
}

/* The median of five timed runs of `run` after one warm-up (which compiles what it needs). */
static int median_of_five(sc_gemm_bench *t, int (*run)(sc_gemm_bench *, int), int arg,
                          double *seconds) {
    double runs[5];
    for (int r = -1; r < 5; r++) {
        double start = sc_now();
        SC_TRY(run(t, arg));
        SC_TRY(sc_finish(t->rt));
        if (r >= 0) runs[r] = sc_now() - start;
    }
    for (int i = 1; i < 5; i++) /* insertion sort of five */
        for (int j = i; j > 0 && runs[j] < runs[j - 1]; j--) {
            double x = runs[j];
            runs[j] = runs[j - 1], runs[j - 1] = x;
        }
    *seconds = runs[2];
    return SC_OK;
}

enum { REPEAT = 8 }; /* products per timed run of one shape: queued, as in training */

static int repeated_product(sc_gemm_bench *t, int i) {
    for (int r = 0; r < REPEAT; r++) SC_TRY(product(t, i));
    return SC_OK;
}

static int all_products(sc_gemm_bench *t, int unused) {
    (void)unused;
    for (int i = 0; i < t->n; i++) SC_TRY(product(t, i));
    return SC_OK;
}

int sc_gemm_bench_time_each(sc_gemm_bench *t, double *seconds) {
    /* a warm-up of them all first: the first run of each kernel compiles it */
    SC_TRY(all_products(t, 0));
    SC_TRY(sc_finish(t->rt));
    for (int i = 0; i < t->n; i++) {
        SC_TRY(median_of_five(t, repeated_product, i, &seconds[i]));
        seconds[i] /= REPEAT;
    }
    return SC_OK;
}

int sc_gemm_bench_open(sc_runtime *rt, const sc_gemm_shape *s, int n, sc_gemm_bench *t) {
    memset(t, 0, sizeof *t);
    t->rt = rt, t->s = s, t->n = n;
    for (int i = 0; i < n; i++) {
        size_t sizes[] = {s[i].m * s[i].k, s[i].k * s[i].n, s[i].m * s[i].n};
        for (int j = 0; j < 3; j++)
            if (sizes[j] > t->size) t->size = sizes[j];
    }
    t->ha = malloc(t->size * sizeof(float));
    t->hb = malloc(t->size * sizeof(float));
    t->hc = malloc(t->size * sizeof(float));
    if (!t->ha || !t->hb || !t->hc) return sc_error(SC_ERR, "out of memory");
    sc_rng r;
    sc_rng_seed(&r, 1, 9);
    for (size_t i = 0; i < t->size; i++) t->ha[i] = sc_rng_range(&r, -1, 1);
    for (size_t i = 0; i < t->size; i++) t->hb[i] = sc_rng_range(&r, -1, 1);
    SC_TRY(sc_buffer_new(rt, t->size * sizeof(float), &t->a));
    SC_TRY(sc_buffer_new(rt, t->size * sizeof(float), &t->b));
    SC_TRY(sc_buffer_new(rt, t->size * sizeof(float), &t->c));
    SC_TRY(sc_upload(rt, (sc_view){t->a, 0}, t->ha, t->size));
    return sc_upload(rt, (sc_view){t->b, 0}, t->hb, t->size);
}

void sc_gemm_bench_close(sc_gemm_bench *t) {
    free(t->ha), free(t->hb), free(t->hc);
    sc_buffer_free(t->a), sc_buffer_free(t->b), sc_buffer_free(t->c);
}

void sc_gemm_shape_name(const sc_gemm_shape *s, char *out, size_t size) {
    const char *op = s->ta ? ", A transposed" : s->tb ? ", B transposed" : "";
    snprintf(out, size, "%zu x %zu x %zu%s", s->m, s->n, s->k, op);
}

int sc_gemm_bench_time_all(sc_gemm_bench *t, double *seconds) {
    return median_of_five(t, all_products, 0, seconds);
}
