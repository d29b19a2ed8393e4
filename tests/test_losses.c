/* Loss kernels (cl/loss.cl) and optimizer kernels (cl/optim.cl) against double-precision
 * references: loss values directly, loss gradients against central differences, and several
 * Adam and SGD steps against the update formulas. */
#include "harness.h"
#include "reference.h"

#include "siamcl/loss.h"
#include "siamcl/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Loss values: float32 sums of at most B*B terms, bound 1e-5. Gradients: double central
 * differences (h = 1e-6) are exact to ~1e-9 and float32 closed forms to ~1e-6; bound 1e-4. */
#define FWD_BOUND 1e-5
#define BWD_BOUND 1e-4
#define B         12

typedef struct loss_ctx {
    sc_loss_kind kind;
    const double *y;
    const float *keys; /* softmax: 2B row keys */
    double margin, scale;
    int is_cosine;
} loss_ctx;

/* Whether pairs i and j share a left or right key, or j's right key is i's left key. */
static int masked(const float *keys, int i, int j) {
    return j != i && (keys[i] == keys[j] || keys[i] == keys[B + j] || keys[B + i] == keys[B + j]);
}

/* Row i of the softmax loss over the columns not masked. */
static double softmax_row_ref(const double *row, const float *keys, int i) {
    double mx = row[i], s = 0;
    for (int j = 0; j < B; j++)
        if (!masked(keys, i, j)) mx = fmax(mx, row[j]);
    for (int j = 0; j < B; j++)
        if (!masked(keys, i, j)) s += exp(row[j] - mx);
    return mx + log(s) - row[i];
}

/* The batch loss of score/x (B values) or logits (B x B). */
static void ref_loss(const double *in, double *out, void *vctx) {
    const loss_ctx *c = vctx;
    if (c->kind == SC_LOSS_ONLINE_CONTRASTIVE || c->kind == SC_LOSS_COSENT) {
        double d[B];
        for (int i = 0; i < B; i++) d[i] = c->is_cosine ? 1 - in[i] : in[i];
        out[0] = c->kind == SC_LOSS_COSENT ? ref_cosent(in, c->y, B, c->scale)
                                           : ref_online_contrastive(d, c->y, B, c->margin);
        return;
    }
    double sum = 0, w = 0;
    for (int i = 0; i < B; i++) {
        double t = c->y[i];
        if (c->kind == SC_LOSS_MSE)
            sum += (in[i] - t) * (in[i] - t);
        else if (c->kind == SC_LOSS_CONTRASTIVE)
            sum += ref_contrastive(c->is_cosine ? 1 - in[i] : in[i], t, c->margin);
        else
            sum += t * softmax_row_ref(in + i * B, c->keys, i);
        w += c->kind == SC_LOSS_SOFTMAX ? t : 1;
    }
    out[0] = sum / w;
}

/* Runs the kernel of a loss on a score (or logits) and its reduction. */
static int run_loss(const loss_ctx *c, cl_mem x, cl_mem y, cl_mem keys, cl_mem terms, cl_mem g,
                    cl_mem acc) {
    sc_runtime *rt = test_runtime();
    sc_view X = {x, 0}, Y = {y, 0}, G = {g, 0};
    float m = (float)c->margin;
    int rc = SC_ERR;
    cl_mem work = NULL;
    switch (c->kind) {
    case SC_LOSS_MSE:
        rc = sc_mse(rt, X, Y, terms, G, B);
        break;
    case SC_LOSS_CONTRASTIVE:
        rc = sc_contrastive(rt, X, Y, terms, G, B, m, c->is_cosine);
        break;
    case SC_LOSS_ONLINE_CONTRASTIVE:
        rc = sc_online_contrastive(rt, X, Y, terms, G, B, m, c->is_cosine);
        break;
    case SC_LOSS_SOFTMAX:
        rc = sc_softmax_rows(rt, x, Y, (sc_view){keys, 0}, terms, g, B);
        break;
    case SC_LOSS_COSENT:
        work = test_buffer(sc_cosent_work(B), NULL);
        rc = sc_cosent(rt, X, Y, work, terms, G, B, (float)c->scale);
        break;
    default:
        break;
    }
    sc_buffer_free(work);
    return rc == SC_OK ? sc_loss_reduce(rt, terms, Y, B, c->kind == SC_LOSS_SOFTMAX, acc) : rc;
}

/* Runs one loss kernel and its reduction on random inputs and checks the batch loss and the
 * input gradient. */
static void check_loss(sc_loss_kind kind, int is_cosine, const char *label) {
    sc_runtime *rt = test_runtime();
    size_t n = kind == SC_LOSS_SOFTMAX ? B * B : B;
    float in[B * B], y[B], grad_f[B * B], acc[SC_LOSS_ACC];
    float keys[2 * B];
    double din[B * B], dy[B], grad[B * B], ref, one = 1;
    test_fill(in, n, kind == SC_LOSS_SOFTMAX ? -5 : -1, kind == SC_LOSS_SOFTMAX ? 5 : 1.5f);
    for (int i = 0; i < B; i++) y[i] = (float)(sc_rng_u32(test_rng()) & 1);
    if (kind == SC_LOSS_COSENT) /* graded targets, some equal */
        for (int i = 0; i < B; i++) y[i] = 1.0f + (float)(sc_rng_u32(test_rng()) % 5) / 2.0f;
    y[0] = 1; /* softmax needs a positive row */
    y[1] = 0; /* online contrastive: a negative beside */
    if ((kind == SC_LOSS_CONTRASTIVE || kind == SC_LOSS_ONLINE_CONTRASTIVE) && !is_cosine)
        for (int i = 0; i < B; i++) in[i] = fabsf(in[i]); /* distances */
    /* softmax: keys from a few values, so that some pairs share a left or a right row */
    for (int i = 0; i < 2 * B; i++) keys[i] = (float)(sc_rng_u32(test_rng()) % 16);
    test_to_double(in, din, n);
    test_to_double(y, dy, B);
    loss_ctx c = {kind, dy, keys, 0.7, 2.0, is_cosine};
    ref_loss(din, &ref, &c);
    test_fd_vjp(ref_loss, &c, din, n, 1, &one, 1e-6, grad);
    cl_mem x = test_buffer(n, in), ym = test_buffer(B, y), terms = test_buffer(B, NULL);
    cl_mem g = test_buffer(n, NULL), accm = test_buffer(SC_LOSS_ACC, NULL);
    cl_mem km = test_buffer(2 * B, keys);
    int rc = run_loss(&c, x, ym, km, terms, g, accm);
    if (rc == SC_OK) rc = sc_download(rt, grad_f, (sc_view){g, 0}, n);
    if (rc == SC_OK) rc = sc_download(rt, acc, (sc_view){accm, 0}, SC_LOSS_ACC);
    for (cl_mem *m = (cl_mem[]){x, ym, terms, g, accm, km}, *e = m + 6; m < e; m++)
        sc_buffer_free(*m);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK_REL(fabs(acc[2] - ref) / fabs(ref), FWD_BOUND, "%s batch loss", label);
    CHECK_REL(fabs(acc[0] / acc[3] - ref) / fabs(ref), FWD_BOUND, "%s running mean", label);
    CHECK_REL(test_rel_error(grad_f, grad, n), BWD_BOUND, "%s gradient", label);
}

static void mse_matches_reference(void) {
    check_loss(SC_LOSS_MSE, 0, "mse");
}

static void contrastive_matches_reference(void) {
    check_loss(SC_LOSS_CONTRASTIVE, 1, "contrastive, cosine");
    check_loss(SC_LOSS_CONTRASTIVE, 0, "contrastive, distance");
}

static void softmax_matches_reference(void) {
    check_loss(SC_LOSS_SOFTMAX, 0, "softmax, duplicate rows masked");
}

static void online_contrastive_matches_reference(void) {
    check_loss(SC_LOSS_ONLINE_CONTRASTIVE, 1, "online contrastive, cosine");
    check_loss(SC_LOSS_ONLINE_CONTRASTIVE, 0, "online contrastive, distance");
}

static void cosent_matches_reference(void) {
    check_loss(SC_LOSS_COSENT, 0, "cosent, scale 2");
}

/* A masked column changes nothing: its logit may be anything. */
static void softmax_ignores_masked_columns(void) {
    sc_runtime *rt = test_runtime();
    float logits[B * B], keys[2 * B], y[B], d1[B * B], d2[B * B], t1[B], t2[B];
    test_fill(logits, B * B, -3, 3);
    for (int i = 0; i < 2 * B; i++) keys[i] = (float)i; /* all distinct */
    for (int i = 0; i < B; i++) y[i] = 1;
    keys[B + 5] = keys[2]; /* pair 5's right row is pair 2's anchor's item */
    cl_mem x = test_buffer(B * B, logits), ym = test_buffer(B, y), km = test_buffer(2 * B, keys);
    cl_mem terms = test_buffer(B, NULL), g = test_buffer(B * B, NULL);
    int rc = sc_softmax_rows(rt, x, (sc_view){ym, 0}, (sc_view){km, 0}, terms, g, B);
    if (rc == SC_OK) rc = sc_download(rt, t1, (sc_view){terms, 0}, B);
    if (rc == SC_OK) rc = sc_download(rt, d1, (sc_view){g, 0}, B * B);
    logits[2 * B + 5] = 1e3f; /* row 2, column 5: masked */
    logits[3 * B + 5] = 1e3f; /* row 3, column 5: a true negative */
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){x, 0}, logits, B * B);
    if (rc == SC_OK) rc = sc_softmax_rows(rt, x, (sc_view){ym, 0}, (sc_view){km, 0}, terms, g, B);
    if (rc == SC_OK) rc = sc_download(rt, t2, (sc_view){terms, 0}, B);
    if (rc == SC_OK) rc = sc_download(rt, d2, (sc_view){g, 0}, B * B);
    for (cl_mem *m = (cl_mem[]){x, ym, km, terms, g}, *e = m + 5; m < e; m++) sc_buffer_free(*m);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(t1[2] == t2[2] && d2[2 * B + 5] == 0.0f, "row 2: %g then %g", t1[2], t2[2]);
    CHECK(d1[2 * B + 5] == 0.0f, "a masked column has no gradient: %g", d1[2 * B + 5]);
    CHECK(t2[3] > t1[3] + 100.0f, "row 3 sees its negative: %g then %g", t1[3], t2[3]);
}

/* The triplet loss's inputs: 2B rows of E, labels from a few classes. */
#define TE 5

typedef struct triplet_ctx {
    const float *keys;
    int is_cosine;
    sc_mining mining;
    double margin;
} triplet_ctx;

static void triplet_fn(const double *x, double *out, void *vctx) {
    const triplet_ctx *c = vctx;
    out[0] = ref_triplet(x, c->keys, B, TE, c->is_cosine, c->mining, c->margin);
}

static void check_triplet(sc_mining mining, int is_cosine, const char *label) {
    sc_runtime *rt = test_runtime();
    enum { R = 2 * B, N = R * TE };
    float x[N], keys[R], terms[B], grad_f[N];
    double dx[N], grad[N], ref, one = 1;
    for (int i = 0; i < R; i++) keys[i] = (float)(sc_rng_u32(test_rng()) % 3);
    for (int i = 0; i < B; i += 2) keys[B + i] = keys[i]; /* positive pairs for mining none */
    triplet_ctx c = {keys, is_cosine, mining, 0.3};
    do { /* away from the hinges' kinks, where the differences straddle one */
        test_fill(x, N, -1, 1);
        test_to_double(x, dx, N);
    } while (ref_triplet_gap(dx, keys, B, TE, is_cosine, mining, c.margin) < 1e-4);
    triplet_fn(dx, &ref, &c);
    test_fd_vjp(triplet_fn, &c, dx, N, 1, &one, 1e-6, grad);
    cl_mem xm = test_buffer(N, x), km = test_buffer(R, keys), tm = test_buffer(B, NULL);
    cl_mem work = test_buffer(sc_triplet_work(B), NULL), g = test_buffer(N, NULL);
    int rc = sc_triplet(rt, (sc_view){xm, 0}, (sc_view){km, 0}, work, tm, B, TE, is_cosine, mining,
                        0.3f);
    if (rc == SC_OK)
        rc = sc_triplet_backward(rt, (sc_view){xm, 0}, work, (sc_view){g, 0}, B, TE, is_cosine);
    if (rc == SC_OK) rc = sc_download(rt, terms, (sc_view){tm, 0}, B);
    if (rc == SC_OK) rc = sc_download(rt, grad_f, (sc_view){g, 0}, N);
    for (cl_mem *m = (cl_mem[]){xm, km, tm, work, g}, *e = m + 5; m < e; m++) sc_buffer_free(*m);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(ref > 0, "%s: the reference loss is %g: the test would not see a wrong gradient", label,
          ref);
    for (int i = 0; i < B; i++) CHECK(terms[i] == terms[0], "every term is the batch loss");
    CHECK_REL(fabs(terms[0] - ref) / ref, FWD_BOUND, "%s batch loss", label);
    CHECK_REL(test_rel_error(grad_f, grad, N), BWD_BOUND, "%s gradient", label);
}

static void triplet_matches_reference(void) {
    static const char *const names[] = {"none", "batch_hard", "batch_all"};
    char label[64];
    for (int m = SC_MINING_NONE; m <= SC_MINING_BATCH_ALL; m++)
        for (int cosine = 0; cosine < 2; cosine++) {
            snprintf(label, sizeof label, "triplet, %s, %s", names[m],
                     cosine ? "1 - cosine" : "euclidean");
            check_triplet((sc_mining)m, cosine, label);
        }
}

static void loss_reduce_accumulates_batches(void) {
    sc_runtime *rt = test_runtime();
    float t1[3] = {1, 2, 3}, t2[2] = {0.5f, 1.5f}, y[3] = {1, 0, 1}, acc[SC_LOSS_ACC];
    float bad[2] = {1, NAN};
    cl_mem a = test_buffer(3, t1), b = test_buffer(2, t2), ym = test_buffer(3, y);
    cl_mem c = test_buffer(2, bad), accm = test_buffer(SC_LOSS_ACC, NULL);
    int rc = sc_loss_reduce(rt, a, (sc_view){ym, 0}, 3, 0, accm);
    if (rc == SC_OK) rc = sc_loss_reduce(rt, b, (sc_view){ym, 0}, 2, 1, accm);
    if (rc == SC_OK) rc = sc_download(rt, acc, (sc_view){accm, 0}, SC_LOSS_ACC);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(acc[0] == 8.0f, "sum %g", acc[0]);
    CHECK(acc[2] == 2.0f, "last batch (weighted by y = 1, 0): %g", acc[2]);
    CHECK(acc[3] == 4.0f, "weight 3 + 1: %g", acc[3]);
    CHECK(acc[4] == 0.0f && acc[5] == 2.0f, "no bad batch of 2: %g of %g", acc[4], acc[5]);
    /* the third batch is not finite, the fourth is again: the third stays the first bad one */
    rc = sc_loss_reduce(rt, c, (sc_view){ym, 0}, 2, 0, accm);
    if (rc == SC_OK) rc = sc_loss_reduce(rt, a, (sc_view){ym, 0}, 3, 0, accm);
    if (rc == SC_OK) rc = sc_download(rt, acc, (sc_view){accm, 0}, SC_LOSS_ACC);
    for (cl_mem *m = (cl_mem[]){a, b, c, ym, accm}, *e = m + 5; m < e; m++) sc_buffer_free(*m);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(acc[4] == 3.0f && acc[5] == 4.0f, "first bad batch %g of %g", acc[4], acc[5]);
}

/* The optimizer tests: n parameters, three steps with fresh gradients, against the formulas
 * in double. Clipping uses the global norm of each step's gradient. */
#define N 1001

static void reference_steps(const sc_optim_config *c, double *p, const float (*g)[N], int steps) {
    double m[N] = {0}, v[N] = {0};
    for (int t = 1; t <= steps; t++) {
        double norm = 0, s = 1;
        for (int i = 0; i < N; i++) norm += (double)g[t - 1][i] * g[t - 1][i];
        norm = sqrt(norm);
        if (c->clip_norm > 0 && norm > c->clip_norm) s = c->clip_norm / norm;
        for (int i = 0; i < N; i++) {
            double gi = g[t - 1][i] * s;
            if (c->kind == SC_OPT_ADAM) {
                m[i] = c->beta1 * m[i] + (1 - c->beta1) * gi;
                v[i] = c->beta2 * v[i] + (1 - c->beta2) * gi * gi;
                double mh = m[i] / (1 - pow(c->beta1, t)), vh = v[i] / (1 - pow(c->beta2, t));
                p[i] -= c->lr * (mh / (sqrt(vh) + c->eps) + c->weight_decay * p[i]);
            } else {
                gi += c->weight_decay * p[i];
                m[i] = c->momentum * m[i] + gi;
                p[i] -= c->lr * m[i];
            }
        }
    }
}

static void check_optimizer(const sc_optim_config *c, const char *label) {
    sc_runtime *rt = test_runtime();
    static float p[N + 5], g[3][N], got[N];
    double ref[N];
    test_fill(p, N + 5, -1, 1);
    test_fill(&g[0][0], 3 * N, -0.1f, 0.1f);
    test_to_double(p + 5, ref, N);
    reference_steps(c, ref, (const float(*)[N])g, 3);
    sc_optimizer *opt = NULL;
    cl_mem pm = test_buffer(N + 5, p), gm = test_buffer(N, NULL);
    int rc = sc_optimizer_create(rt, c, N, &opt);
    for (int t = 0; t < 3 && rc == SC_OK; t++) {
        rc = sc_upload(rt, (sc_view){gm, 0}, g[t], N);
        if (rc == SC_OK) rc = sc_optimizer_step(opt, (sc_view){pm, 5}, (sc_view){gm, 0});
    }
    if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){pm, 5}, N);
    sc_optimizer_free(opt);
    sc_buffer_free(pm);
    sc_buffer_free(gm);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    /* compare the updates, not the parameters, so that a small wrong term cannot hide; float32
     * parameters of size ~0.5 round to ~3e-8, about 1e-6 of an update of size ~0.03 */
    float delta[N];
    for (int i = 0; i < N; i++) {
        delta[i] = got[i] - p[5 + i];
        ref[i] -= p[5 + i];
    }
    CHECK_REL(test_rel_error(delta, ref, N), 1e-4, "%s, 3 steps, the update", label);
}

static void adam_matches_formula(void) {
    sc_optim_config c = {SC_OPT_ADAM, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.0f, 0.0f};
    check_optimizer(&c, "adam");
    c.weight_decay = 0.1f;
    check_optimizer(&c, "adamw, weight decay 0.1");
    c.clip_norm = 0.5f; /* the gradients' norm is about 1.8: clipping is active */
    check_optimizer(&c, "adamw, clip_norm 0.5");
}

static void sgd_matches_formula(void) {
    sc_optim_config c = {SC_OPT_SGD, 0.1f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.01f, 0.0f};
    check_optimizer(&c, "sgd, momentum 0.9, weight decay 0.01");
    c.clip_norm = 0.5f;
    check_optimizer(&c, "sgd, clip_norm 0.5");
}

/* A moment that would be subnormal is stored as zero (a CPU's slow path otherwise), and the
 * parameters it would have moved by ~1e-29 of lr stay put. */
static void subnormal_moments_are_zero(void) {
    sc_runtime *rt = test_runtime();
    static const sc_optim_config cs[] = {
        {SC_OPT_ADAM, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.0f, 0.0f},
        {SC_OPT_SGD, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.0f, 0.0f}};
    /* adam: m = 0.1 g = 5e-39, below FLT_MIN (1.18e-38); sgd: buf = g itself */
    const float g[2] = {5e-38f, 5e-39f}, p[4] = {0.5f, -0.25f, 0.125f, 1.0f};
    for (int k = 0; k < 2; k++) {
        float grads[4] = {g[k], -g[k], g[k], 0}, m[4] = {1}, got[4];
        cl_mem pm = test_buffer(4, p), gm = test_buffer(4, grads);
        sc_optimizer *opt = NULL;
        int rc = sc_optimizer_create(rt, &cs[k], 4, &opt);
        if (rc == SC_OK) rc = sc_optimizer_step(opt, (sc_view){pm, 0}, (sc_view){gm, 0});
        if (rc == SC_OK) rc = sc_download(rt, m, (sc_view){opt->m, 0}, 4);
        if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){pm, 0}, 4);
        sc_optimizer_free(opt);
        sc_buffer_free(pm), sc_buffer_free(gm);
        CHECK(rc == SC_OK, "%s", sc_last_error());
        for (int i = 0; i < 4; i++) {
            CHECK(m[i] == 0.0f, "%s: moment %d is %g, not 0", k ? "sgd" : "adam", i, m[i]);
            CHECK(got[i] == p[i], "%s: parameter %d moved to %.9g", k ? "sgd" : "adam", i, got[i]);
        }
    }
}

TEST_MAIN(TEST(mse_matches_reference), TEST(contrastive_matches_reference),
          TEST(softmax_matches_reference), TEST(softmax_ignores_masked_columns),
          TEST(online_contrastive_matches_reference), TEST(cosent_matches_reference),
          TEST(triplet_matches_reference), TEST(loss_reduce_accumulates_batches),
          TEST(adam_matches_formula), TEST(sgd_matches_formula), TEST(subnormal_moments_are_zero))
