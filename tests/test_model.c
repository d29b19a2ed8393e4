/* The whole model on the device against a double-precision reference of the same model:
 * scores, losses, and every parameter's gradient against central differences, for every head
 * x loss x output combination; initialization; training on a synthetic task; bad configs. */
#include "harness.h"
#include "reference.h"

#include "siamcl/job.h"
#include "siamcl/model.h"
#include "siamcl/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the reference model, in double precision, on the device model's parameter layout ---- */

/* A batch of B pairs (i, B + i) over 2B dense rows x of width floats, targets y, on the
 * device. */
typedef struct test_batch {
    sc_inputs in;
    sc_pairs_dev pairs;
    sc_batch b;
} test_batch;

static int batch_upload(sc_runtime *rt, const float *x, const float *y, const float *pf, int nf,
                        int B, int width, test_batch *t) {
    int32_t idx[2 * 64];
    for (int i = 0; i < 2 * B; i++) idx[i] = i;
    sc_pairs p = {(size_t)B, idx, idx + B, (float *)y, (float *)pf, nf};
    int rc = sc_inputs_dense(rt, x, 2 * (size_t)B, (size_t)width, &t->in);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &p, &t->pairs);
    t->b = (sc_batch){&t->in, &t->pairs, 0, (size_t)B, NULL, 0, 0, 0, 0};
    return rc;
}

static void batch_free(test_batch *t) {
    sc_inputs_free(&t->in);
    sc_pairs_dev_free(&t->pairs);
}

typedef struct ref_ctx {
    const sc_model *m;
    const double *x;   /* 2B x input */
    const double *y;   /* B targets */
    const float *keys; /* 2B class keys (triplet) */
    const float *pf;   /* B x pair_features: the pairs' own features */
    uint64_t tick;     /* the training step (dropout) */
    size_t pairs;
} ref_ctx;

/* Applies a dense layer to rows of x; returns a new array. */
static double *dense(const sc_dense *d, const double *p, const double *x, size_t rows) {
    double *y = malloc(rows * d->out * sizeof *y);
    ref_dense(d, p, x, y, rows);
    return y;
}

/* Dropout of training step tick on n values of a hidden layer (salt: the tower's output l is
 * l, the head's hidden layer l is 64 + l), element k being row i's column c at k0 + c: the
 * model's mask, from the model's seed as model.c draws it. */
static void drop(const sc_model *m, uint64_t tick, uint32_t salt, double *h, size_t k0, size_t n) {
    sc_dropout d = {m->cfg.dropout, tick ^ (m->seed * 0x9e3779b97f4a7c15u), salt, 0, {0, 0}};
    for (size_t c = 0; m->cfg.dropout > 0 && c < n; c++)
        h[c] *= sc_dropout_kept(&d, k0 + c) ? 1.0 / (1.0 - m->cfg.dropout) : 0.0;
}

static double *embed(const sc_model *m, const double *p, const double *x, size_t rows,
                     uint64_t tick) {
    size_t E = (size_t)sc_model_embedding_width(m);
    double *h = malloc(rows * m->cfg.input * sizeof *h);
    memcpy(h, x, rows * m->cfg.input * sizeof *h);
    for (int l = 0; l < m->ntower; l++) {
        if (l) drop(m, tick, (uint32_t)l, h, 0, rows * m->tower[l].in);
        double *next = dense(&m->tower[l], p, h, rows);
        free(h);
        h = next;
    }
    for (size_t r = 0; m->cfg.normalize && r < rows; r++) {
        double n = 0;
        for (size_t c = 0; c < E; c++) n += h[r * E + c] * h[r * E + c];
        n = fmax(sqrt(n), 1e-12);
        for (size_t c = 0; c < E; c++) h[r * E + c] /= n;
    }
    return h;
}

/* The head's similarity and (euclidean) distance of each pair. */
static void head(const sc_model *m, const double *p, const double *emb, const float *pf, size_t B,
                 uint64_t tick, double *sim, double *dist) {
    size_t E = (size_t)sc_model_embedding_width(m);
    for (size_t i = 0; i < B; i++) {
        const double *u = emb + i * E, *v = emb + (B + i) * E;
        if (m->cfg.head == SC_HEAD_COSINE) {
            sim[i] = ref_dot(u, v, E) / fmax(sqrt(ref_dot(u, u, E)) * sqrt(ref_dot(v, v, E)), 1e-8);
        } else if (m->cfg.head == SC_HEAD_EUCLIDEAN) {
            double d2 = 0;
            for (size_t c = 0; c < E; c++) d2 += (u[c] - v[c]) * (u[c] - v[c]);
            dist[i] = sqrt(d2 + 1e-12);
            sim[i] = exp(-dist[i]);
        } else {
            size_t F = (size_t)m->cfg.pair_features;
            double *f = malloc((4 * E + F) * sizeof *f);
            for (size_t c = 0; c < E; c++) {
                f[c] = u[c], f[E + c] = v[c], f[2 * E + c] = fabs(u[c] - v[c]);
                f[3 * E + c] = u[c] * v[c];
            }
            for (size_t c = 0; c < F; c++) f[4 * E + c] = pf[i * F + c];
            for (int l = 0; l < m->nhead; l++) {
                double *next = dense(&m->head[l], p, f, 1);
                free(f);
                f = next;
                size_t w = (size_t)m->head[l].out;
                if (l + 1 < m->nhead) drop(m, tick, 64 + (uint32_t)l, f, i * w, w);
            }
            sim[i] = f[0];
            free(f);
        }
    }
}

static void scores(const sc_model *m, const double *p, const double *sim, size_t B, double *s) {
    double a = m->ab >= 0 ? p[m->ab] : 1, b = m->ab >= 0 ? p[m->ab + 1] : 0;
    double lo = m->cfg.target_min, hi = m->cfg.target_max;
    for (size_t i = 0; i < B; i++)
        s[i] = m->cfg.output == SC_OUTPUT_RANGE ? lo + (hi - lo) / (1 + exp(-(a * sim[i] + b)))
                                                : sim[i];
}

static double softmax_loss(const sc_model *m, const double *emb, const double *y, size_t B) {
    size_t E = (size_t)sc_model_embedding_width(m);
    double sum = 0, w = 0;
    for (size_t i = 0; i < B; i++) {
        double row[64], mx = -INFINITY, s = 0;
        const double *u = emb + i * E;
        for (size_t j = 0; j < B; j++) {
            const double *v = emb + (B + j) * E;
            row[j] = m->loss.scale * ref_dot(u, v, E) / sqrt(ref_dot(u, u, E) * ref_dot(v, v, E));
            mx = fmax(mx, row[j]);
        }
        for (size_t j = 0; j < B; j++) s += exp(row[j] - mx);
        sum += y[i] * (mx + log(s) - row[i]);
        w += y[i];
    }
    return sum / w;
}

/* The batch loss for parameters p (the function the gradient check differentiates). */
static void ref_loss(const double *p, double *out, void *vctx) {
    const ref_ctx *c = vctx;
    const sc_model *m = c->m;
    size_t B = c->pairs;
    double *emb = embed(m, p, c->x, 2 * B, c->tick), sim[64], dist[64], s[64], d[64], sum = 0;
    int cosine = m->cfg.head == SC_HEAD_COSINE;
    head(m, p, emb, c->pf, B, c->tick, sim, dist);
    scores(m, p, sim, B, s);
    for (size_t i = 0; i < B; i++) {
        d[i] = cosine ? 1 - sim[i] : dist[i];
        if (m->loss.kind == SC_LOSS_MSE) sum += (s[i] - c->y[i]) * (s[i] - c->y[i]);
        if (m->loss.kind == SC_LOSS_CONTRASTIVE)
            sum += ref_contrastive(d[i], c->y[i], m->loss.margin);
    }
    const sc_loss_config *l = &m->loss;
    size_t E = (size_t)sc_model_embedding_width(m);
    switch (l->kind) {
    case SC_LOSS_SOFTMAX:
        out[0] = softmax_loss(m, emb, c->y, B);
        break;
    case SC_LOSS_TRIPLET:
        out[0] = ref_triplet(emb, c->keys, B, E, cosine, l->mining, l->margin);
        break;
    case SC_LOSS_COSENT:
        out[0] = ref_cosent(s, c->y, B, l->scale);
        break;
    case SC_LOSS_ONLINE_CONTRASTIVE:
        out[0] = ref_online_contrastive(d, c->y, B, l->margin);
        break;
    default:
        out[0] = sum / B;
    }
    free(emb);
}

/* ---- the gradient check ---- */

typedef struct combo {
    sc_head head;
    sc_loss_kind loss;
    sc_output output;
    int normalize;
    sc_mining mining;  /* triplet */
    int pair_features; /* mlp */
    float dropout;
} combo;

static sc_model_config small_config(const combo *c) {
    sc_model_config mc = {.input = 6, .nlayers = 2, .layers = {5, 4}};
    mc.activation = SC_ACT_TANH; /* smooth: finite differences need no kinks */
    mc.output_activation = SC_ACT_SIGMOID;
    mc.normalize = c->normalize;
    mc.head = c->head;
    mc.head_nlayers = 1;
    mc.head_layers[0] = 3;
    mc.head_activation = SC_ACT_TANH;
    mc.pair_features = c->pair_features;
    mc.dropout = c->dropout;
    mc.output = c->output;
    mc.target_min = c->output == SC_OUTPUT_RANGE ? 1 : 0;
    mc.target_max = c->output == SC_OUTPUT_RANGE ? 3 : 1;
    return mc;
}

static void check_combo(const combo *c) {
    enum { B = 5 };
    sc_runtime *rt = test_runtime();
    sc_model_config mc = small_config(c);
    sc_loss_config lc = {c->loss, 0.8f, 5.0f, c->mining};
    char label[128];
    snprintf(label, sizeof label, "%s head, %s loss%s%s, %s output%s", sc_head_names[c->head],
             sc_loss_names[c->loss], c->loss == SC_LOSS_TRIPLET ? ", " : "",
             c->loss == SC_LOSS_TRIPLET ? sc_mining_names[c->mining] : "",
             sc_output_names[c->output], c->normalize ? ", normalized" : "");
    if (c->pair_features)
        snprintf(label + strlen(label), sizeof label - strlen(label), ", %d pair features",
                 c->pair_features);
    if (c->dropout > 0)
        snprintf(label + strlen(label), sizeof label - strlen(label), ", dropout %g",
                 (double)c->dropout);
    sc_model *m;
    CHECK_OK(sc_model_create(rt, &mc, &lc, B, 7, &m));
    size_t nx = 2 * B * mc.input, np = m->nparams;
    float x[2 * B * 6], y[B], *p = malloc(np * sizeof *p), *g = malloc(np * sizeof *g),
                              acc[SC_LOSS_ACC];
    double dx[2 * B * 6], dy[B], *dp = malloc(np * sizeof *dp), *grad = malloc(np * sizeof *grad);
    double ref, one = 1;
    test_fill(x, nx, -1, 1);
    float keys[2 * B], pf[B * 3];
    test_fill(pf, B * 3, 0, 1);
    int graded = c->loss == SC_LOSS_MSE || c->loss == SC_LOSS_COSENT;
    for (int i = 0; i < B; i++)
        y[i] = !graded                        ? (float)(sc_rng_u32(test_rng()) & 1)
               : c->output == SC_OUTPUT_RANGE ? sc_rng_range(test_rng(), 1, 3)
                                              : sc_rng_uniform(test_rng());
    y[0] = c->loss == SC_LOSS_SOFTMAX ? 1 : y[0];
    y[1] = c->loss == SC_LOSS_ONLINE_CONTRASTIVE ? 1 - y[0] : y[1]; /* a positive and a negative */
    for (int i = 0; i < 2 * B; i++) keys[i] = (float)(i % 3);       /* classes 0, 1, 2 */
    int rc = sc_model_get_params(m, p);
    test_to_double(x, dx, nx);
    test_to_double(y, dy, B);
    test_to_double(p, dp, np);
    ref_ctx ctx = {m, dx, dy, keys, pf, 777, B};
    ref_loss(dp, &ref, &ctx);
    /* a loss of 0 (online contrastive: no hard pair in the draw) tests no gradient: redraw */
    for (int tries = 0; ref == 0 && tries < 50; tries++) {
        test_fill(x, nx, -1, 1);
        test_to_double(x, dx, nx);
        ref_loss(dp, &ref, &ctx);
    }
    test_fd_vjp(ref_loss, &ctx, dp, np, 1, &one, 1e-6, grad);
    test_batch tb = {0};
    if (rc == SC_OK) rc = batch_upload(rt, x, y, pf, mc.pair_features, B, mc.input, &tb);
    tb.b.tick = ctx.tick;
    if (rc == SC_OK && c->loss == SC_LOSS_TRIPLET) rc = sc_inputs_keys(rt, &tb.in, keys, 1);
    if (rc == SC_OK) rc = sc_model_train_pass(m, &tb.b);
    batch_free(&tb);
    if (rc == SC_OK) rc = sc_download(rt, g, sc_model_grads(m), np);
    if (rc == SC_OK) rc = sc_model_loss_get(m, acc);
    double eg = test_rel_error(g, grad, np);
    sc_model_free(m);
    free(p), free(g), free(dp), free(grad);
    CHECK(rc == SC_OK, "%s: %s", label, sc_last_error());
    /* Loss: float32 through three layers and a head, ~1e-7, bound 1e-5. Gradient: float32
     * backward ~1e-6 against double central differences (h = 1e-6, exact to ~1e-9); a wrong
     * or missing term errs by O(1), so 1e-4 separates them with room to spare. */
    CHECK_REL(fabs(acc[2] - ref) / fabs(ref), 1e-5, "%s: loss", label);
    CHECK_REL(eg, 1e-4, "%s: gradient of %zu parameters", label, np);
}

static void gradients_match_finite_differences(void) {
    static const combo combos[] = {
        {SC_HEAD_COSINE, SC_LOSS_MSE, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_MSE, SC_OUTPUT_RANGE, 1, SC_MINING_NONE, 0, 0},
        {SC_HEAD_EUCLIDEAN, SC_LOSS_MSE, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_EUCLIDEAN, SC_LOSS_MSE, SC_OUTPUT_RANGE, 1, SC_MINING_NONE, 0, 0},
        {SC_HEAD_MLP, SC_LOSS_MSE, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_MLP, SC_LOSS_MSE, SC_OUTPUT_RANGE, 1, SC_MINING_NONE, 0, 0},
        {SC_HEAD_MLP, SC_LOSS_MSE, SC_OUTPUT_RANGE, 0, SC_MINING_NONE, 3, 0},
        {SC_HEAD_MLP, SC_LOSS_MSE, SC_OUTPUT_RANGE, 0, SC_MINING_NONE, 3, 0.4f},
        {SC_HEAD_COSINE, SC_LOSS_MSE, SC_OUTPUT_RAW, 1, SC_MINING_NONE, 0, 0.4f},
        {SC_HEAD_COSINE, SC_LOSS_SOFTMAX, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0.4f},
        {SC_HEAD_COSINE, SC_LOSS_CONTRASTIVE, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_EUCLIDEAN, SC_LOSS_CONTRASTIVE, SC_OUTPUT_RAW, 1, SC_MINING_NONE, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_SOFTMAX, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_SOFTMAX, SC_OUTPUT_RAW, 1, SC_MINING_NONE, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_TRIPLET, SC_OUTPUT_RAW, 1, SC_MINING_BATCH_HARD, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_TRIPLET, SC_OUTPUT_RAW, 0, SC_MINING_BATCH_ALL, 0, 0},
        {SC_HEAD_EUCLIDEAN, SC_LOSS_TRIPLET, SC_OUTPUT_RAW, 0, SC_MINING_BATCH_HARD, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_COSENT, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_MLP, SC_LOSS_COSENT, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
        {SC_HEAD_COSINE, SC_LOSS_ONLINE_CONTRASTIVE, SC_OUTPUT_RAW, 1, SC_MINING_NONE, 0, 0},
        {SC_HEAD_EUCLIDEAN, SC_LOSS_ONLINE_CONTRASTIVE, SC_OUTPUT_RAW, 0, SC_MINING_NONE, 0, 0},
    };
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++) check_combo(&combos[i]);
}

/* ---- initialization ---- */

static void initialization_is_seeded_and_scaled(void) {
    sc_runtime *rt = test_runtime();
    sc_model_config mc = {.input = 300, .nlayers = 2, .layers = {200, 100}};
    mc.activation = SC_ACT_RELU;
    mc.output_activation = SC_ACT_IDENTITY;
    mc.output = SC_OUTPUT_RANGE;
    mc.target_max = 1;
    sc_loss_config lc = {SC_LOSS_MSE, 0, 0, SC_MINING_NONE};
    sc_model *a, *b, *c;
    CHECK_OK(sc_model_create(rt, &mc, &lc, 4, 42, &a));
    CHECK_OK(sc_model_create(rt, &mc, &lc, 4, 42, &b));
    CHECK_OK(sc_model_create(rt, &mc, &lc, 4, 43, &c));
    size_t n = a->nparams, align = rt->dev.base_align / sizeof(float);
    sc_dense l1 = a->tower[0], l2 = a->tower[1];
    size_t ab_at = (size_t)a->ab;
    /* weights start where the device allows a sub-buffer, so CLBlast reads them in place */
    int aligned = align && l1.w % align == 0 && l2.w % align == 0;
    CHECK(aligned, "W at %zu and %zu (alignment %zu)", l1.w, l2.w, align);
    CHECK(l1.b == l1.w + 60000 && l2.w >= l1.b + 200 && l2.b == l2.w + 20000 &&
              ab_at >= l2.b + 100 && n == ab_at + 2,
          "layout: W %zu b %zu, W %zu b %zu, range %zu, %zu parameters", l1.w, l1.b, l2.w, l2.b,
          ab_at, n);
    float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb), *pc = malloc(n * sizeof *pc);
    int rc = sc_model_get_params(a, pa);
    if (rc == SC_OK) rc = sc_model_get_params(b, pb);
    if (rc == SC_OK) rc = sc_model_get_params(c, pc);
    int same = !memcmp(pa, pb, n * sizeof *pa), differ = !!memcmp(pa, pc, n * sizeof *pa);
    /* relu layer: He-uniform, limit sqrt(6 / fan_in); identity layer: Xavier, sqrt(6 / (in+out)) */
    double lim1 = sqrt(6.0 / 300), lim2 = sqrt(6.0 / 300), max1 = 0, max2 = 0, bias = 0;
    for (size_t i = 0; i < 60000; i++) max1 = fmax(max1, fabs(pa[l1.w + i]));
    for (size_t i = 0; i < 200; i++) bias = fmax(bias, fabs(pa[l1.b + i]));
    for (size_t i = 0; i < 20000; i++) max2 = fmax(max2, fabs(pa[l2.w + i]));
    float ab[2] = {pa[ab_at], pa[ab_at + 1]};
    sc_model_free(a), sc_model_free(b), sc_model_free(c);
    free(pa), free(pb), free(pc);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(same, "the same seed must give the same parameters");
    CHECK(differ, "another seed must give other parameters");
    CHECK(max1 <= lim1 && max1 > 0.99 * lim1, "He limit %g, max |w| %g", lim1, max1);
    CHECK(max2 <= lim2 && max2 > 0.99 * lim2, "Xavier limit %g, max |w| %g", lim2, max2);
    CHECK(bias == 0, "biases start at zero");
    CHECK(ab[0] == 1 && ab[1] == 0, "range map starts at a = 1, b = 0: %g %g", ab[0], ab[1]);
}

/* ---- training ---- */

/* Pairs of noisy points around 8 class centres in 16 dimensions, the noise as large as the
 * centres' spread: target 1 for the same class (every pair when all_same). */
static void synthetic_batch(sc_rng *r, const float *centres, float *x, float *y, int B,
                            int all_same) {
    for (int i = 0; i < B; i++) {
        int a = (int)sc_rng_below(r, 8), same = all_same || i % 2 == 0;
        int b = same ? a : (a + 1 + (int)sc_rng_below(r, 7)) % 8;
        for (int k = 0; k < 16; k++) {
            x[i * 16 + k] = centres[a * 16 + k] + sc_rng_range(r, -1, 1);
            x[(B + i) * 16 + k] = centres[b * 16 + k] + sc_rng_range(r, -1, 1);
        }
        y[i] = (float)same;
    }
}

/* Trains for `steps` and returns the mean loss of the first and the last 20 steps. */
static int train(sc_loss_kind loss, sc_optim_kind kind, float lr, int steps, double *first,
                 double *last) {
    enum { B = 32 };
    sc_runtime *rt = test_runtime();
    sc_model_config mc = {.input = 16, .nlayers = 2, .layers = {32, 16}};
    mc.activation = SC_ACT_RELU;
    sc_loss_config lc = {loss, 0.5f, 10.0f, SC_MINING_NONE};
    sc_optim_config oc = {kind, lr, 0.9f, 0.999f, 1e-8f, 0.9f, 0, 0};
    sc_model *m = NULL;
    sc_optimizer *opt = NULL;
    sc_rng r;
    sc_rng_seed(&r, 5, 0);
    float centres[128], x[2 * B * 16], y[B];
    for (int i = 0; i < 128; i++) centres[i] = sc_rng_range(&r, -1, 1);
    int rc = sc_model_create(rt, &mc, &lc, B, 1, &m);
    if (rc == SC_OK) rc = sc_optimizer_create(rt, &oc, m->nparams, &opt);
    for (int s = 0; s < steps && rc == SC_OK; s++) {
        /* softmax takes positive pairs only: the other rows of the batch are the negatives */
        synthetic_batch(&r, centres, x, y, B, loss == SC_LOSS_SOFTMAX);
        sc_loss_total total;
        if (s == 20 && (rc = sc_model_loss_read(m, &total)) == SC_OK)
            *first = total.mean; /* the mean of steps 1-20 */
        if (s == steps - 20 && rc == SC_OK) rc = sc_model_loss_reset(m);
        test_batch tb = {0};
        if (rc == SC_OK) rc = batch_upload(rt, x, y, NULL, 0, B, 16, &tb);
        unsigned long transfers = rt->transfers;
        if (rc == SC_OK) rc = sc_model_train_pass(m, &tb.b);
        if (rc == SC_OK) rc = sc_optimizer_step(opt, sc_model_params(m), sc_model_grads(m));
        batch_free(&tb);
        if (rc == SC_OK && rt->transfers != transfers)
            rc = sc_error(SC_ERR, "a training step copied %lu times", rt->transfers - transfers);
    }
    sc_loss_total total;
    if (rc == SC_OK && (rc = sc_model_loss_read(m, &total)) == SC_OK) *last = total.mean;
    sc_optimizer_free(opt);
    sc_model_free(m);
    return rc;
}

static void training_reduces_the_loss(void) {
    static const struct {
        sc_loss_kind loss;
        sc_optim_kind opt;
        float lr, bound, ratio;
    } runs[] = {
        /* 300 steps take these losses (~0.15 for mse, ~0.05 for contrastive, over the first
         * 20 steps) to about a sixth; a step in the wrong direction would raise them */
        {SC_LOSS_MSE, SC_OPT_ADAM, 1e-2f, 0.05f, 0.5f},
        {SC_LOSS_MSE, SC_OPT_SGD, 0.2f, 0.05f, 0.5f},
        {SC_LOSS_CONTRASTIVE, SC_OPT_ADAM, 1e-2f, 0.02f, 0.5f},
        /* softmax over 32 in-batch candidates starts near ln 32 = 3.5; with 8 classes about 4
         * candidates per row share the positive's class and cannot be told apart, so the
         * floor is near ln 4 = 1.4: ask for < 2.0 and a quarter off */
        {SC_LOSS_SOFTMAX, SC_OPT_ADAM, 1e-2f, 2.0f, 0.75f},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        double first = 0, last = 0;
        int rc = train(runs[i].loss, runs[i].opt, runs[i].lr, 300, &first, &last);
        CHECK(rc == SC_OK, "%s", sc_last_error());
        printf("    %s, %s: loss %.4f over the first 20 steps, %.4f over the last 20\n",
               sc_loss_names[runs[i].loss], sc_optim_names[runs[i].opt], first, last);
        CHECK(last < runs[i].bound, "final loss %.4f, bound %.2f", last, runs[i].bound);
        CHECK(last < runs[i].ratio * first, "loss %.4f -> %.4f: ratio bound %.2f", first, last,
              runs[i].ratio);
    }
}

/* ---- bad configurations ---- */

/* Reads the model and loss of a config and checks that they fit together. */
static int read_all(const char *text) {
    sc_config *cfg;
    sc_model_config mc;
    sc_loss_config lc;
    SC_TRY(ref_config_from(text, &cfg));
    int rc = sc_model_config_read(cfg, &mc);
    if (rc == SC_OK) rc = sc_loss_config_read(cfg, &lc);
    if (rc == SC_OK) rc = sc_model_config_check(cfg, &mc, &lc);
    if (rc == SC_OK) rc = sc_config_check_unused(cfg);
    sc_config_free(cfg);
    return rc;
}

static void bad_configs_are_rejected(void) {
    CHECK_OK(
        read_all("[model]\nlayers = 32,16\nhead = mlp\nhead_layers = 8\n[train]\nloss = mse\n"));
    CHECK(read_all("[model]\nlayers = 256,,x\n") == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("layers"), "%s", sc_last_error());
    CHECK(read_all("[model]\nlayers = 64,-3\n") == SC_EINPUT);
    CHECK(test_error_has("layers"), "%s", sc_last_error());
    CHECK(read_all("[model]\nhead = siamese\n") == SC_EINPUT);
    CHECK(test_error_has("head") && test_error_has("cosine, euclidean, mlp"), "%s",
          sc_last_error());
    CHECK(read_all("[train]\nloss = hinge\n") == SC_EINPUT);
    CHECK(test_error_has("loss") && test_error_has("mse, contrastive, softmax"), "%s",
          sc_last_error());
    CHECK(read_all("[model]\nhead = euclidean\n[train]\nloss = softmax\n") == SC_EINPUT);
    CHECK(test_error_has("softmax") && test_error_has("head = cosine"), "%s", sc_last_error());
    CHECK(read_all("[model]\nhead = mlp\n[train]\nloss = contrastive\n") == SC_EINPUT);
    CHECK(test_error_has("contrastive") && test_error_has("mlp"), "%s", sc_last_error());
    CHECK(read_all("[model]\noutput = range\ntarget_min = 3\ntarget_max = 1\n") == SC_EINPUT);
    CHECK(test_error_has("target_max"), "%s", sc_last_error());
    CHECK(read_all("[model]\nhead_layers = 8\n") == SC_EINPUT, "head_layers without mlp is unused");
    CHECK(test_error_has("head_layers"), "%s", sc_last_error());
    CHECK(read_all("[model]\nlayers = 8\nactivaton = tanh\n") == SC_EINPUT);
    CHECK(test_error_has(":3:") && test_error_has("activaton"), "%s", sc_last_error());
    sc_config *cfg;
    sc_optim_config oc;
    CHECK_OK(ref_config_from("[train]\noptimizer = rmsprop\n", &cfg));
    CHECK(sc_optim_config_read(cfg, &oc) == SC_EINPUT);
    CHECK(test_error_has("optimizer") && test_error_has("adam, sgd"), "%s", sc_last_error());
    sc_config_free(cfg);
}

static void model_too_large_for_the_device(void) {
    sc_model_config mc = {.input = 1 << 20, .nlayers = 2, .layers = {1 << 16, 64}};
    sc_loss_config lc = {SC_LOSS_MSE, 0, 0, SC_MINING_NONE};
    sc_model *m = NULL;
    CHECK(sc_model_create(test_runtime(), &mc, &lc, 32, 1, &m) == SC_EINPUT);
    CHECK(m == NULL);
    CHECK(test_error_has("does not fit") && test_error_has("[model] layers"), "%s",
          sc_last_error());
}

TEST_MAIN(TEST(gradients_match_finite_differences), TEST(initialization_is_seeded_and_scaled),
          TEST(training_reduces_the_loss), TEST(bad_configs_are_rejected),
          TEST(model_too_large_for_the_device))
