/* Normalization, pair-head and fused head-loss kernels (cl/similarity.cl) against
 * double-precision references:
 * forward values directly, backward passes against central differences of the reference. */
#include "harness.h"
#include "reference.h"

#include "siamcl/similarity.h"

#include <math.h>
#include <stdlib.h>

/* Forward bound: float32 sums over at most 64 terms stay well within 1e-5 of double. Backward
 * bound: float32 gradients of these closed forms lose a few more digits to cancellation (the
 * cosine gradient subtracts two nearly equal terms), while the double central differences
 * (h = 1e-6) are accurate to about 1e-9; 1e-4 separates the two with margin. */
#define FWD_BOUND 1e-5
#define BWD_BOUND 1e-4
#define H         1e-6

typedef struct shape {
    size_t pairs, dim;
    int mode;      /* euclidean: 0 = dist, 1 = sim; range: 1 = learned a, b */
    double lo, hi; /* range */
} shape;

static void ref_normalize(const double *y, double *e, void *ctx) {
    const shape *s = ctx;
    for (size_t r = 0; r < s->pairs; r++) {
        const double *row = y + r * s->dim;
        double n = fmax(sqrt(ref_dot(row, row, s->dim)), 1e-12);
        for (size_t c = 0; c < s->dim; c++) e[r * s->dim + c] = row[c] / n;
    }
}

static void ref_cosine(const double *emb, double *sim, void *ctx) {
    const shape *s = ctx;
    for (size_t i = 0; i < s->pairs; i++) {
        const double *u = emb + i * s->dim, *v = emb + (s->pairs + i) * s->dim;
        sim[i] = ref_dot(u, v, s->dim) /
                 fmax(sqrt(ref_dot(u, u, s->dim)) * sqrt(ref_dot(v, v, s->dim)), 1e-8);
    }
}

static void ref_euclidean(const double *emb, double *out, void *ctx) {
    const shape *s = ctx;
    for (size_t i = 0; i < s->pairs; i++) {
        const double *u = emb + i * s->dim, *v = emb + (s->pairs + i) * s->dim;
        double d2 = 0;
        for (size_t c = 0; c < s->dim; c++) d2 += (u[c] - v[c]) * (u[c] - v[c]);
        double d = sqrt(d2 + 1e-12);
        out[i] = s->mode ? exp(-d) : d;
    }
}

/* in = [sim (B), a, b] when a, b are learned, else [sim]. */
static void ref_range(const double *in, double *score, void *ctx) {
    const shape *s = ctx;
    double a = s->mode ? in[s->pairs] : 1, b = s->mode ? in[s->pairs + 1] : 0;
    for (size_t i = 0; i < s->pairs; i++)
        score[i] = s->lo + (s->hi - s->lo) / (1 + exp(-(a * in[i] + b)));
}

/* The mlp head's input: a shape and the pairs' own features (extra a pair, in cols). */
typedef struct features_shape {
    shape s;
    size_t extra;
    const float *cols;
} features_shape;

static void ref_pair_features(const double *emb, double *f, void *ctx) {
    const features_shape *fs = ctx;
    size_t D = fs->s.dim, P = fs->s.pairs, width = 4 * D + fs->extra;
    for (size_t i = 0; i < P; i++) {
        const double *u = emb + i * D, *v = emb + (P + i) * D;
        double *row = f + i * width;
        for (size_t c = 0; c < D; c++) {
            row[c] = u[c];
            row[D + c] = v[c];
            row[2 * D + c] = fabs(u[c] - v[c]);
            row[3 * D + c] = u[c] * v[c];
        }
        for (size_t c = 0; c < fs->extra; c++) row[4 * D + c] = fs->cols[(2 + i) * fs->extra + c];
    }
}

/* Random inputs as floats, and the same values as doubles. */
typedef struct data {
    size_t n;
    float *f;
    double *d;
    cl_mem mem;
} data;

static data make(size_t n, float lo, float hi) {
    data x = {n, malloc(n * sizeof(float)), malloc(n * sizeof(double)), NULL};
    test_fill(x.f, n, lo, hi);
    test_to_double(x.f, x.d, n);
    x.mem = test_buffer(n, x.f);
    return x;
}

static void drop(data *x) {
    free(x->f);
    free(x->d);
    sc_buffer_free(x->mem);
}

static sc_view at(const data *x) {
    return (sc_view){x->mem, 0};
}

/* Reads n floats from the device and returns their relative error against ref. */
static double device_error(cl_mem mem, const double *ref, size_t n) {
    float *got = malloc(n * sizeof *got);
    double err = sc_download(test_runtime(), got, (sc_view){mem, 0}, n) == SC_OK
                     ? test_rel_error(got, ref, n)
                     : INFINITY;
    free(got);
    return err;
}

/* The reference's output and the finite-difference vector-Jacobian product with c. */
static void reference(test_fn f, void *s, const data *in, size_t n_out, const data *c, double *out,
                      double *grad) {
    f(in->d, out, s);
    test_fd_vjp(f, s, in->d, in->n, n_out, c->d, H, grad);
}

static void normalize_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    shape s = {33, 17, 0, 0, 0}; /* rows, cols */
    size_t n = s.pairs * s.dim;
    data y = make(n, -1, 1), de = make(n, -1, 1), e = make(n, 0, 0), norm = make(s.pairs, 0, 0),
         dy = make(n, 0, 0);
    double *ref = malloc(n * sizeof *ref), *grad = malloc(n * sizeof *grad);
    reference(ref_normalize, &s, &y, n, &de, ref, grad);
    CHECK_OK(sc_normalize_forward(rt, at(&y), at(&e), at(&norm), s.pairs, s.dim));
    CHECK_OK(sc_normalize_backward(rt, at(&e), at(&norm), at(&de), at(&dy), s.pairs, s.dim));
    double ef = device_error(e.mem, ref, n), eb = device_error(dy.mem, grad, n);
    free(ref);
    free(grad);
    drop(&y), drop(&de), drop(&e), drop(&norm), drop(&dy);
    CHECK_REL(ef, FWD_BOUND, "forward");
    CHECK_REL(eb, BWD_BOUND, "backward");
}

static void cosine_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    shape s = {9, 33, 0, 0, 0};
    size_t n = 2 * s.pairs * s.dim;
    data emb = make(n, -1, 1), ds = make(s.pairs, -1, 1), sim = make(s.pairs, 0, 0),
         demb = make(n, 0, 0);
    double ref[9], *grad = malloc(n * sizeof *grad);
    reference(ref_cosine, &s, &emb, s.pairs, &ds, ref, grad);
    CHECK_OK(sc_cosine_forward(rt, at(&emb), at(&sim), s.pairs, s.dim));
    CHECK_OK(sc_cosine_backward(rt, at(&emb), at(&ds), at(&demb), s.pairs, s.dim));
    double ef = device_error(sim.mem, ref, s.pairs), eb = device_error(demb.mem, grad, n);
    free(grad);
    drop(&emb), drop(&ds), drop(&sim), drop(&demb);
    CHECK_REL(ef, FWD_BOUND, "forward");
    CHECK_REL(eb, BWD_BOUND, "backward");
}

static void euclidean_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    for (int mode = 0; mode < 2; mode++) {
        shape s = {9, 33, mode, 0, 0};
        size_t n = 2 * s.pairs * s.dim;
        data emb = make(n, -1, 1), g = make(s.pairs, -1, 1), dist = make(s.pairs, 0, 0),
             sim = make(s.pairs, 0, 0), demb = make(n, 0, 0);
        double ref[9], *grad = malloc(n * sizeof *grad);
        reference(ref_euclidean, &s, &emb, s.pairs, &g, ref, grad);
        CHECK_OK(sc_euclidean_forward(rt, at(&emb), at(&dist), at(&sim), s.pairs, s.dim));
        CHECK_OK(sc_euclidean_backward(rt, at(&emb), at(&dist), at(&g), mode, at(&demb), s.pairs,
                                       s.dim));
        double ef = device_error(mode ? sim.mem : dist.mem, ref, s.pairs);
        double eb = device_error(demb.mem, grad, n);
        free(grad);
        drop(&emb), drop(&g), drop(&dist), drop(&sim), drop(&demb);
        CHECK_REL(ef, FWD_BOUND, "%s forward", mode ? "sim" : "dist");
        CHECK_REL(eb, BWD_BOUND, "%s backward", mode ? "sim" : "dist");
    }
}

static void range_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    for (int learned = 0; learned < 2; learned++) {
        shape s = {13, 0, learned, 1, 3};
        size_t n = s.pairs + (learned ? 2 : 0);
        /* in = [sim, a, b]: the device keeps a, b in a parameter buffer at offset 5 */
        data in = make(n, -1, 1), ds = make(s.pairs, -1, 1), score = make(s.pairs, 0, 0),
             dsim = make(s.pairs, 0, 0), params = make(8, 0, 0), grads = make(8, 0, 0);
        double ref[13], grad[15];
        if (learned) CHECK_OK(sc_upload(rt, (sc_view){params.mem, 5}, in.f + s.pairs, 2));
        reference(ref_range, &s, &in, s.pairs, &ds, ref, grad);
        long ab = learned ? 5 : -1;
        CHECK_OK(sc_range_forward(rt, at(&in), at(&params), ab, at(&score), s.pairs, 1, 3));
        CHECK_OK(sc_range_backward(rt, at(&in), at(&params), ab, at(&ds), at(&dsim), at(&grads),
                                   s.pairs, 1, 3));
        float gab[2];
        CHECK_OK(sc_download(rt, gab, (sc_view){grads.mem, 5}, 2));
        double ef = device_error(score.mem, ref, s.pairs);
        double eb = device_error(dsim.mem, grad, s.pairs);
        double ea = learned ? test_rel_error(gab, grad + s.pairs, 2) : 0;
        drop(&in), drop(&ds), drop(&score), drop(&dsim), drop(&params), drop(&grads);
        CHECK_REL(ef, FWD_BOUND, "forward");
        CHECK_REL(eb, BWD_BOUND, "dsim");
        if (learned) CHECK_REL(ea, BWD_BOUND, "da, db");
    }
}

/* With extra features a pair: pairs 2 .. 2 + B - 1 of a set of B + 4 pairs' features. */
static void check_pair_features(size_t extra) {
    sc_runtime *rt = test_runtime();
    float cols[11 * 3];
    test_fill(cols, 11 * 3, 0, 1);
    features_shape fs = {{7, 33, 0, 0, 0}, extra, cols};
    size_t P = fs.s.pairs, D = fs.s.dim, n = 2 * P * D, nf = (4 * D + extra) * P;
    data emb = make(n, -1, 1), df = make(nf, -1, 1), f = make(nf, 0, 0), demb = make(n, 0, 0);
    cl_mem cm = test_buffer(11 * 3, cols);
    double *ref = malloc(nf * sizeof *ref), *grad = malloc(n * sizeof *grad);
    reference(ref_pair_features, &fs, &emb, nf, &df, ref, grad);
    int rc = sc_pair_features_forward(rt, at(&emb), at(&f), P, D, extra ? cm : NULL, 2, (int)extra);
    if (rc == SC_OK)
        rc = sc_pair_features_backward(rt, at(&emb), at(&df), at(&demb), P, D, (int)extra);
    double ef = device_error(f.mem, ref, nf), eb = device_error(demb.mem, grad, n);
    free(ref);
    free(grad);
    sc_buffer_free(cm);
    drop(&emb), drop(&df), drop(&f), drop(&demb);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK_REL(ef, FWD_BOUND, "forward, %zu features of the pair", extra);
    CHECK_REL(eb, BWD_BOUND, "backward, %zu features of the pair", extra);
}

static void pair_features_match_reference(void) {
    check_pair_features(0);
    check_pair_features(3);
}

/* The fused training kernel: a head (euclidean or cosine) and a loss (contrastive or mse). */
typedef struct pair_loss_case {
    shape s;
    const double *y;
    int euclidean, contrastive;
    double margin;
} pair_loss_case;

static void ref_pair_loss(const double *emb, double *terms, void *ctx) {
    const pair_loss_case *p = ctx;
    double head[16];
    shape s = p->s;
    s.mode = 0; /* the euclidean distance */
    (p->euclidean ? ref_euclidean : ref_cosine)(emb, head, &s);
    for (size_t i = 0; i < s.pairs; i++) {
        double d = p->euclidean ? head[i] : 1 - head[i], sim = p->euclidean ? exp(-d) : head[i];
        double y = p->y[i], gap = fmax(p->margin - d, 0);
        terms[i] = p->contrastive ? y * d * d + (1 - y) * gap * gap : (sim - y) * (sim - y);
    }
}

static void pair_loss_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    for (int k = 0; k < 4; k++) {
        pair_loss_case p = {{9, 33, 0, 0, 0}, NULL, k & 1, k >> 1, 0};
        /* margins near the typical distance, so that some negatives pull and some do not */
        p.margin = p.euclidean ? 4.7 : 1.0;
        size_t B = p.s.pairs, n = 2 * B * p.s.dim;
        data emb = make(n, -1, 1), y = make(B, 0, 1), mean = make(B, 0, 0), terms = make(B, 0, 0),
             demb = make(n, 0, 0);
        for (size_t i = 0; i < B && p.contrastive; i++) y.d[i] = y.f[i] = (float)(i % 2);
        CHECK_OK(sc_upload(rt, at(&y), y.f, B));
        for (size_t i = 0; i < B; i++) mean.d[i] = 1.0 / B; /* the gradient of the batch mean */
        double ref[9], *grad = malloc(n * sizeof *grad);
        p.y = y.d;
        ref_pair_loss(emb.d, ref, &p);
        test_fd_vjp(ref_pair_loss, &p, emb.d, n, B, mean.d, H, grad);
        CHECK_OK(sc_pair_loss(rt, at(&emb), at(&y), terms.mem, at(&demb), B, p.s.dim, p.euclidean,
                              p.contrastive, (float)p.margin));
        double ef = device_error(terms.mem, ref, B), eb = device_error(demb.mem, grad, n);
        free(grad);
        drop(&emb), drop(&y), drop(&mean), drop(&terms), drop(&demb);
        const char *label = p.euclidean
                                ? (p.contrastive ? "euclidean, contrastive" : "euclidean, mse")
                                : (p.contrastive ? "cosine, contrastive" : "cosine, mse");
        CHECK_REL(ef, FWD_BOUND, "%s: terms", label);
        CHECK_REL(eb, BWD_BOUND, "%s: gradient", label);
    }
}

TEST_MAIN(TEST(normalize_matches_reference), TEST(cosine_matches_reference),
          TEST(euclidean_matches_reference), TEST(range_matches_reference),
          TEST(pair_features_match_reference), TEST(pair_loss_matches_reference))
