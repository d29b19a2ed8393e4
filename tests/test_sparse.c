/* The sparse input layer (cl/sparse.cl) on random CSR texts and pairs: the embedding bag against
 * a double-precision reference, its compact gradient against central differences, the plan's
 * structure, determinism, and lazy Adam and SGD steps against the formulas. */
#include "harness.h"
#include "reference.h"

#include "siamcl/pairs.h"
#include "siamcl/sparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Forward: float32 sums of at most 12 products and a bias (and one division in mean mode) stay
 * within 1e-5 of double. Backward: the double central differences (h = 1e-6) are accurate to
 * ~1e-9 and the float32 gradients, sums of at most 2B = 14 products, to ~1e-6; a wrong or
 * missing term errs by O(1). */
#define FWD_BOUND 1e-5
#define BWD_BOUND 1e-4
#define BUCKETS   64
#define OUT       9
#define MAX_NNZ   12
#define TEXTS     20
#define PAIRS     17

/* rows texts of 0..MAX_NNZ distinct features in [0, range), values in [0.5, 2); text 0 is
 * empty. */
static void random_csr(sc_csr *x, size_t rows, uint32_t range) {
    sc_rng *rng = test_rng();
    x->rows = rows;
    x->nnz = 0;
    x->offsets = calloc(rows + 1, sizeof *x->offsets);
    x->indices = malloc(rows * MAX_NNZ * sizeof *x->indices);
    x->values = malloc(rows * MAX_NNZ * sizeof *x->values);
    for (size_t r = 0; r < rows; r++) {
        uint32_t need = r ? sc_rng_below(rng, MAX_NNZ + 1) : 0;
        for (uint32_t f = 0; f < range && need; f++) { /* selection sampling: ascending */
            if (sc_rng_below(rng, range - f) >= need) continue;
            x->indices[x->nnz] = f;
            x->values[x->nnz++] = sc_rng_range(rng, 0.5f, 2.0f);
            need--;
        }
        x->offsets[r + 1] = (uint32_t)x->nnz;
    }
}

/* n random pairs of texts below texts, so that texts and their features repeat; the first
 * pair's left text is the empty text 0. */
static void random_pairs(sc_pairs *p, size_t n, size_t texts) {
    p->n = n;
    p->left = malloc(n * sizeof *p->left);
    p->right = malloc(n * sizeof *p->right);
    p->target = calloc(n, sizeof *p->target);
    for (size_t i = 0; i < n; i++) {
        p->left[i] = i ? (int32_t)sc_rng_below(test_rng(), (uint32_t)texts) : 0;
        p->right[i] = (int32_t)sc_rng_below(test_rng(), (uint32_t)texts);
    }
}

static size_t min_size(size_t a, size_t b) {
    return a < b ? a : b;
}

typedef struct bag_ctx {
    const sc_sparse_layer *l;
    const sc_csr *x;
    const sc_pairs *p;
    size_t first, n;
} bag_ctx;

/* params -> y (2n x out) for pairs first .. first + n - 1, in double. */
static void ref_bag(const double *params, double *y, void *vctx) {
    const bag_ctx *c = vctx;
    const sc_sparse_layer *l = c->l;
    for (size_t r = 0; r < 2 * c->n; r++) {
        int32_t t = r < c->n ? c->p->left[c->first + r] : c->p->right[c->first + r - c->n];
        for (int o = 0; o < l->out; o++) {
            double s = 0, vsum = 0;
            for (uint32_t k = c->x->offsets[t]; k < c->x->offsets[t + 1]; k++) {
                s += c->x->values[k] * params[l->w + (size_t)c->x->indices[k] * l->out + o];
                vsum += c->x->values[k];
            }
            if (l->mean && vsum != 0) s /= vsum;
            y[r * l->out + o] = ref_act(params[l->b + o] + s, l->act);
        }
    }
}

/* The device-side data of one test: texts, pairs, a plan, and parameter and gradient buffers
 * (W at offset 3). */
typedef struct fixture {
    sc_sparse_layer l;
    sc_csr x;
    sc_pairs pairs;
    sc_sparse_plan plan;
    sc_csr_dev xd;
    sc_pairs_dev pd;
    sc_sparse_plan_dev plan_dev;
    size_t np;
    float *params;
    cl_mem pm, gm, y, dy, g;
} fixture;

static int fixture_open(fixture *f, sc_act act, int mean, size_t batch) {
    sc_runtime *rt = test_runtime();
    f->l = (sc_sparse_layer){BUCKETS, OUT, 3, 3 + BUCKETS * OUT, act, mean};
    f->np = f->l.b + OUT;
    f->params = malloc(f->np * sizeof *f->params);
    test_fill(f->params, f->np, -1, 1);
    int rc = sc_sparse_plan_build(&f->l, &f->x, f->pairs.left, f->pairs.right, f->pairs.n, batch,
                                  &f->plan);
    if (rc == SC_OK) rc = sc_csr_upload(rt, &f->x, &f->xd);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &f->pairs, &f->pd);
    if (rc == SC_OK) rc = sc_sparse_plan_upload(rt, &f->plan, &f->plan_dev);
    f->pm = test_buffer(f->np, f->params);
    f->gm = test_buffer(f->np, NULL);
    f->y = test_buffer(2 * batch * OUT, NULL);
    f->dy = test_buffer(2 * batch * OUT, NULL);
    f->g = test_buffer(f->plan.max_features * OUT, NULL);
    return rc;
}

static void fixture_close(fixture *f) {
    sc_sparse_plan_free(&f->plan);
    sc_csr_dev_free(&f->xd);
    sc_pairs_dev_free(&f->pd);
    sc_sparse_plan_dev_free(&f->plan_dev);
    free(f->params);
    for (cl_mem *m = (cl_mem[]){f->pm, f->gm, f->y, f->dy, f->g}, *e = m + 5; m < e; m++)
        sc_buffer_free(*m);
}

/* Forward and backward of step s against the reference: relative errors in *ef and *eb. */
static int check_step(fixture *f, size_t s, double *ef, double *eb) {
    sc_runtime *rt = test_runtime();
    size_t first = s * f->plan.batch, n = min_size(f->plan.batch, f->pairs.n - first);
    size_t ny = 2 * n * OUT, fs = f->plan.feat_off[s], nf = f->plan.feat_off[s + 1] - fs;
    bag_ctx c = {&f->l, &f->x, &f->pairs, first, n};
    double *dp = malloc(f->np * sizeof *dp), *ref = malloc(ny * sizeof *ref);
    double *dc = malloc(ny * sizeof *dc), *grad = malloc(f->np * sizeof *grad);
    float *got = malloc(ny * sizeof *got), *cf = malloc(ny * sizeof *cf);
    float *gfull = calloc(f->np, sizeof *gfull), *g = malloc(nf * OUT * sizeof *g);
    test_to_double(f->params, dp, f->np);
    ref_bag(dp, ref, &c);
    test_fill(cf, ny, -1, 1);
    test_to_double(cf, dc, ny);
    test_fd_vjp(ref_bag, &c, dp, f->np, ny, dc, 1e-6, grad);
    sc_view P = {f->pm, 0}, Y = {f->y, 0}, DY = {f->dy, 0}, G = {f->g, 0};
    sc_row_index ix = sc_pairs_index(&f->pd, first, n);
    int rc = sc_sparse_forward(rt, &f->l, P, &f->xd, &ix, Y);
    if (rc == SC_OK) rc = sc_download(rt, got, Y, ny);
    if (rc == SC_OK) rc = sc_upload(rt, DY, cf, ny);
    if (rc == SC_OK)
        rc = sc_sparse_backward(rt, &f->l, &f->plan_dev, s, (sc_view){f->gm, 0}, Y, DY, G);
    if (rc == SC_OK) rc = sc_download(rt, g, G, nf * OUT);
    if (rc == SC_OK) rc = sc_download(rt, gfull + f->l.b, (sc_view){f->gm, f->l.b}, OUT);
    for (size_t u = 0; u < nf; u++) /* the compact rows back to their table rows */
        memcpy(gfull + f->l.w + (size_t)f->plan.features[fs + u] * OUT, g + u * OUT,
               OUT * sizeof *g);
    *ef = test_rel_error(got, ref, ny);
    *eb = test_rel_error(gfull + f->l.w, grad + f->l.w, f->np - f->l.w);
    free(dp), free(ref), free(dc), free(grad), free(got), free(cf), free(gfull), free(g);
    return rc;
}

static void layer_matches_reference(void) {
    for (int a = 0; a < 4; a++) {
        for (int mean = 0; mean < 2; mean++) {
            for (size_t batch = 5; batch <= 7; batch += 2) {
                fixture f = {0};
                random_csr(&f.x, TEXTS, BUCKETS);
                random_pairs(&f.pairs, PAIRS, TEXTS);
                int rc = fixture_open(&f, (sc_act)a, mean, batch);
                double ef = 0, eb = 0;
                for (size_t s = 0; s < f.plan.steps && rc == SC_OK; s++) {
                    double e1, e2;
                    rc = check_step(&f, s, &e1, &e2);
                    ef = fmax(ef, e1);
                    eb = fmax(eb, e2);
                }
                fixture_close(&f);
                sc_csr_free(&f.x);
                sc_pairs_free(&f.pairs);
                CHECK(rc == SC_OK, "%s", sc_last_error());
                const char *mode = mean ? "mean" : "sum";
                CHECK_REL(ef, FWD_BOUND, "%-8s %-4s B=%zu forward", sc_act_names[a], mode, batch);
                CHECK_REL(eb, BWD_BOUND, "%-8s %-4s B=%zu dW, db", sc_act_names[a], mode, batch);
            }
        }
    }
}

/* The bag of rows from .. from + nb - 1 of a batch, row-major and feature-major, against the
 * reference on a layer 73 wide: the kernel's 64-column path and a 9-column tail, which the
 * narrow layer above alone meets. */
static void block_matches_reference(void) {
    enum { WIDE = 73 };
    sc_runtime *rt = test_runtime();
    sc_csr x = {0};
    sc_pairs p = {0};
    sc_csr_dev xd = {0};
    sc_pairs_dev pd = {0};
    random_csr(&x, TEXTS, BUCKETS);
    random_pairs(&p, PAIRS, TEXTS);
    size_t np = (size_t)BUCKETS * WIDE + WIDE, rows = 2 * PAIRS, from = 3, nb = rows - 5;
    float *params = malloc(np * sizeof *params), *got = malloc(nb * WIDE * sizeof *got);
    double *dp = malloc(np * sizeof *dp), *ref = malloc(rows * WIDE * sizeof *ref);
    double *want = malloc(nb * WIDE * sizeof *want);
    test_fill(params, np, -1, 1);
    test_to_double(params, dp, np);
    cl_mem pm = test_buffer(np, params), y = test_buffer(nb * WIDE, NULL);
    int rc = sc_csr_upload(rt, &x, &xd);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &p, &pd);
    sc_row_index ix = sc_pairs_index(&pd, 0, PAIRS);
    for (int mean = 0; mean < 2 && rc == SC_OK; mean++) {
        sc_sparse_layer l = {BUCKETS, WIDE, 0, (size_t)BUCKETS * WIDE, SC_ACT_TANH, mean};
        bag_ctx c = {&l, &x, &p, 0, PAIRS};
        ref_bag(dp, ref, &c);
        for (int to_rows = 0; to_rows < 2 && rc == SC_OK; to_rows++) {
            rc = sc_sparse_forward_block(rt, &l, (sc_view){pm, 0}, &xd, &ix, from, nb,
                                         (sc_view){y, 0}, to_rows);
            if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){y, 0}, nb * WIDE);
            for (size_t r = 0; r < nb; r++)
                for (size_t o = 0; o < WIDE; o++)
                    want[to_rows ? r * WIDE + o : o * nb + r] = ref[(from + r) * WIDE + o];
            CHECK_REL(test_rel_error(got, want, nb * WIDE), FWD_BOUND, "%s rows %zu..%zu, %s",
                      mean ? "mean" : "sum", from, from + nb - 1,
                      to_rows ? "row-major" : "feature-major");
        }
    }
    CHECK(rc == SC_OK, "%s", sc_last_error());
    sc_csr_dev_free(&xd);
    sc_pairs_dev_free(&pd);
    sc_buffer_free(pm);
    sc_buffer_free(y);
    sc_csr_free(&x);
    sc_pairs_free(&p);
    free(params), free(got), free(dp), free(ref), free(want);
}

/* Each step's features ascend; each (batch row, feature) of its texts is an entry of that
 * feature exactly once, with the text's value, and rows ascend within a feature. */
static void check_plan(const sc_sparse_plan *p, const sc_csr *x, const sc_pairs *pairs) {
    static unsigned char want[2 * PAIRS][BUCKETS]; /* 1: expected, 2: seen */
    size_t max = 0, occurrences = 0;
    CHECK(p->steps == (pairs->n + p->batch - 1) / p->batch, "%zu steps", p->steps);
    CHECK(p->feat_off[0] == 0 && p->seg[0] == 0);
    for (size_t s = 0; s < p->steps; s++) {
        size_t first = s * p->batch, n = min_size(p->batch, pairs->n - first);
        size_t k0 = p->feat_off[s], k1 = p->feat_off[s + 1];
        memset(want, 0, sizeof want);
        for (size_t r = 0; r < 2 * n; r++) {
            int32_t t = r < n ? pairs->left[first + r] : pairs->right[first + r - n];
            for (uint32_t k = x->offsets[t]; k < x->offsets[t + 1]; k++, occurrences++)
                want[r][x->indices[k]] = 1;
        }
        for (size_t k = k0; k < k1; k++) {
            uint32_t f = p->features[k];
            CHECK(f < BUCKETS && (k == k0 || f > p->features[k - 1]), "step %zu feature %u", s, f);
            CHECK(p->seg[k + 1] > p->seg[k], "step %zu: feature %u without entries", s, f);
            for (int32_t e = p->seg[k]; e < p->seg[k + 1]; e++) {
                int32_t r = p->rows[e];
                CHECK(r >= 0 && (size_t)r < 2 * n && (e == p->seg[k] || r > p->rows[e - 1]),
                      "step %zu feature %u row %d", s, f, (int)r);
                CHECK(want[r][f] == 1, "step %zu: row %d feature %u unexpected or repeated", s,
                      (int)r, f);
                want[r][f] = 2;
                int32_t t = r < (int32_t)n ? pairs->left[first + r] : pairs->right[first + r - n];
                uint32_t j = x->offsets[t];
                while (x->indices[j] != f) j++;
                CHECK(p->weights[e] == x->values[j], "step %zu row %d feature %u weight", s, (int)r,
                      f);
            }
        }
        for (size_t r = 0; r < 2 * n; r++)
            for (int f = 0; f < BUCKETS; f++)
                CHECK(want[r][f] != 1, "step %zu: row %zu feature %d missing", s, r, f);
        if (k1 - k0 > max) max = k1 - k0;
    }
    CHECK(p->max_features == max, "max_features %zu, want %zu", p->max_features, max);
    CHECK((size_t)p->seg[p->feat_off[p->steps]] == occurrences, "%d entries, %zu occurrences",
          (int)p->seg[p->feat_off[p->steps]], occurrences);
}

static void plan_covers_each_occurrence_once(void) {
    sc_sparse_layer l = {BUCKETS, OUT, 0, BUCKETS * OUT, SC_ACT_RELU, 0};
    for (size_t batch = 1; batch <= 2 * PAIRS; batch += 6) {
        sc_csr x = {0};
        sc_pairs pairs = {0};
        sc_sparse_plan p;
        random_csr(&x, TEXTS, BUCKETS);
        random_pairs(&pairs, PAIRS, TEXTS);
        int rc = sc_sparse_plan_build(&l, &x, pairs.left, pairs.right, PAIRS, batch, &p);
        if (rc == SC_OK) check_plan(&p, &x, &pairs);
        sc_sparse_plan_free(&p);
        sc_csr_free(&x);
        sc_pairs_free(&pairs);
        CHECK(rc == SC_OK, "%s", sc_last_error());
    }
}

static void plan_rejects_bad_input(void) {
    sc_sparse_layer l = {BUCKETS / 2, OUT, 0, BUCKETS * OUT / 2, SC_ACT_RELU, 0};
    uint32_t offsets[] = {0, 1, 2}, indices[] = {3, BUCKETS / 2};
    float values[] = {1, 1};
    sc_csr x = {2, 2, offsets, indices, values};
    int32_t zero[] = {0}, one[] = {1}, two[] = {2};
    sc_sparse_plan p;
    int text = sc_sparse_plan_build(&l, &x, zero, two, 1, 4, &p);
    int feature = sc_sparse_plan_build(&l, &x, zero, one, 1, 4, &p);
    int batch = sc_sparse_plan_build(&l, &x, zero, zero, 1, 0, &p);
    CHECK(text == SC_EINPUT && feature == SC_EINPUT && batch == SC_EINPUT, "%d %d %d", text,
          feature, batch);
    CHECK(sc_sparse_plan_build(&l, &x, zero, zero, 1, 4, &p) == SC_OK, "%s", sc_last_error());
    sc_sparse_plan_free(&p);
}

/* Two backward passes of every step give bit-identical gradients. */
static void backward_is_deterministic(void) {
    enum { BATCH = 7 };
    sc_runtime *rt = test_runtime();
    fixture f = {0};
    random_csr(&f.x, TEXTS, BUCKETS);
    random_pairs(&f.pairs, PAIRS, TEXTS);
    int rc = fixture_open(&f, SC_ACT_TANH, 1, BATCH), same = 1;
    size_t ng = f.plan.max_features * OUT;
    float dy[2 * BATCH * OUT], db[2][OUT];
    float *g[2] = {malloc(ng * sizeof(float)), malloc(ng * sizeof(float))};
    sc_view P = {f.pm, 0}, Y = {f.y, 0}, DY = {f.dy, 0}, G = {f.g, 0}, DB = {f.gm, f.l.b};
    for (size_t s = 0; s < f.plan.steps && rc == SC_OK; s++) {
        size_t n = min_size(BATCH, PAIRS - BATCH * s);
        size_t nf = f.plan.feat_off[s + 1] - f.plan.feat_off[s];
        test_fill(dy, 2 * n * OUT, -1, 1);
        sc_row_index ix = sc_pairs_index(&f.pd, BATCH * s, n);
        rc = sc_sparse_forward(rt, &f.l, P, &f.xd, &ix, Y);
        for (int run = 0; run < 2 && rc == SC_OK; run++) {
            rc = sc_upload(rt, DY, dy, 2 * n * OUT);
            if (rc == SC_OK) rc = sc_fill(rt, G, NAN, ng);
            if (rc == SC_OK)
                rc = sc_sparse_backward(rt, &f.l, &f.plan_dev, s, (sc_view){f.gm, 0}, Y, DY, G);
            if (rc == SC_OK) rc = sc_download(rt, g[run], G, nf * OUT);
            if (rc == SC_OK) rc = sc_download(rt, db[run], DB, OUT);
        }
        same = same && !memcmp(g[0], g[1], nf * OUT * sizeof(float)) &&
               !memcmp(db[0], db[1], sizeof db[0]);
    }
    fixture_close(&f);
    sc_csr_free(&f.x);
    sc_pairs_free(&f.pairs);
    free(g[0]), free(g[1]);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(same, "two backward passes differ");
}

/* Lazy optimizer steps: texts use features below 60 only, so rows 60..63 are never touched. */
#define STEPS   3
#define N_TABLE (BUCKETS * OUT)

/* One step of the formula in double on the rows of features[0 .. nf). */
static void ref_lazy_step(const sc_optim_config *c, long t, const uint32_t *features, size_t nf,
                          const float *g, double *w, double *m, double *v) {
    for (size_t u = 0; u < nf; u++) {
        for (int o = 0; o < OUT; o++) {
            size_t j = (size_t)features[u] * OUT + o;
            double gi = g[u * OUT + o];
            if (c->kind == SC_OPT_ADAM) {
                m[j] = c->beta1 * m[j] + (1 - c->beta1) * gi;
                v[j] = c->beta2 * v[j] + (1 - c->beta2) * gi * gi;
                double mh = m[j] / (1 - pow(c->beta1, t)), vh = v[j] / (1 - pow(c->beta2, t));
                w[j] -= c->lr * (mh / (sqrt(vh) + c->eps) + c->weight_decay * w[j]);
            } else {
                m[j] = c->momentum * m[j] + gi + c->weight_decay * w[j];
                w[j] -= c->lr * m[j];
            }
        }
    }
}

/* The state after a step: params (np floats, W at 5) and the moments. */
typedef struct lazy_state {
    float p[N_TABLE + 16], m[N_TABLE], v[N_TABLE];
} lazy_state;

static int lazy_read(sc_sparse_optimizer *o, cl_mem pm, size_t np, lazy_state *s) {
    sc_runtime *rt = test_runtime();
    SC_TRY(sc_download(rt, s->p, (sc_view){pm, 0}, np));
    SC_TRY(sc_download(rt, s->m, (sc_view){o->m, 0}, N_TABLE));
    return o->v ? sc_download(rt, s->v, (sc_view){o->v, 0}, N_TABLE) : SC_OK;
}

/* Whether the state kept every value outside W's rows of the step's features bit for bit. */
static int lazy_rest_unchanged(const lazy_state *a, const lazy_state *b, size_t np,
                               const uint32_t *features, size_t nf) {
    static unsigned char touched[BUCKETS];
    memset(touched, 0, sizeof touched);
    for (size_t u = 0; u < nf; u++) touched[features[u]] = 1;
    for (size_t i = 0; i < np; i++) {
        int in_w = i >= 5 && i < 5 + N_TABLE;
        if (in_w && touched[(i - 5) / OUT]) continue;
        if (memcmp(&a->p[i], &b->p[i], sizeof(float))) return 0;
        if (in_w && (memcmp(&a->m[i - 5], &b->m[i - 5], sizeof(float)) ||
                     memcmp(&a->v[i - 5], &b->v[i - 5], sizeof(float))))
            return 0;
    }
    return 1;
}

static void check_lazy(const sc_optim_config *c, const char *label) {
    sc_runtime *rt = test_runtime();
    sc_sparse_layer l = {BUCKETS, OUT, 5, 5 + N_TABLE, SC_ACT_RELU, 0};
    size_t np = l.b + OUT + 2;
    sc_csr x = {0};
    sc_pairs pairs = {0};
    random_csr(&x, TEXTS, 60);
    random_pairs(&pairs, 3 * STEPS, TEXTS);
    static lazy_state initial, before, after;
    static double w[N_TABLE], m[N_TABLE], v[N_TABLE];
    static float g[2 * 3 * MAX_NNZ * OUT];
    memset(&initial, 0, sizeof initial);
    test_fill(initial.p, np, -1, 1);
    before = after = initial;
    test_to_double(initial.p + 5, w, N_TABLE);
    memset(m, 0, sizeof m);
    memset(v, 0, sizeof v);
    sc_sparse_plan plan = {0};
    sc_sparse_plan_dev pd = {0};
    sc_sparse_optimizer *o = NULL;
    cl_mem pm = test_buffer(np, initial.p), gm = test_buffer(sizeof g / sizeof *g, NULL);
    int rc = sc_sparse_plan_build(&l, &x, pairs.left, pairs.right, pairs.n, 3, &plan), same = 1;
    if (rc == SC_OK) rc = sc_sparse_plan_upload(rt, &plan, &pd);
    if (rc == SC_OK) rc = sc_sparse_optimizer_create(rt, c, &l, &o);
    for (size_t s = 0; s < plan.steps && rc == SC_OK; s++) {
        const uint32_t *feat = plan.features + plan.feat_off[s];
        size_t nf = plan.feat_off[s + 1] - plan.feat_off[s];
        test_fill(g, nf * OUT, -0.1f, 0.1f);
        ref_lazy_step(c, (long)s + 1, feat, nf, g, w, m, v);
        rc = sc_upload(rt, (sc_view){gm, 0}, g, nf * OUT);
        if (rc == SC_OK)
            rc = sc_sparse_optimizer_step(o, (sc_view){pm, 0}, &pd, s, (sc_view){gm, 0});
        if (rc == SC_OK) rc = lazy_read(o, pm, np, &after);
        same = same && lazy_rest_unchanged(&before, &after, np, feat, nf);
        before = after;
    }
    /* compare the updates, as test_losses does: float32 weights of size ~0.5 round to ~3e-8,
     * about 1e-6 of an update of size ~0.03; the moments are float32 sums of three terms */
    static float delta[N_TABLE];
    static double dref[N_TABLE];
    for (int i = 0; i < N_TABLE; i++) {
        delta[i] = after.p[5 + i] - initial.p[5 + i];
        dref[i] = w[i] - initial.p[5 + i];
    }
    double ew = test_rel_error(delta, dref, N_TABLE), em = test_rel_error(after.m, m, N_TABLE);
    double ev = o && o->v ? test_rel_error(after.v, v, N_TABLE) : 0;
    sc_sparse_optimizer_free(o);
    sc_sparse_plan_dev_free(&pd);
    sc_sparse_plan_free(&plan);
    sc_csr_free(&x);
    sc_pairs_free(&pairs);
    sc_buffer_free(pm);
    sc_buffer_free(gm);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(same, "%s: a value outside the step's rows changed", label);
    CHECK_REL(ew, 1e-4, "%s, 3 steps, the update", label);
    CHECK_REL(em, 1e-5, "%s, 3 steps, m", label);
    if (c->kind == SC_OPT_ADAM) CHECK_REL(ev, 1e-5, "%s, 3 steps, v", label);
}

static void lazy_adam_matches_formula(void) {
    sc_optim_config c = {SC_OPT_ADAM, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.1f, 0.0f};
    check_lazy(&c, "lazy adamw, weight decay 0.1");
}

static void lazy_sgd_matches_formula(void) {
    sc_optim_config c = {SC_OPT_SGD, 0.1f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.01f, 0.0f};
    check_lazy(&c, "lazy sgd, momentum 0.9, weight decay 0.01");
}

/* As test_losses checks for the dense optimizers: a moment that would be subnormal is stored as
 * zero, and the rows it belongs to do not move. */
static void lazy_subnormal_moments_are_zero(void) {
    sc_runtime *rt = test_runtime();
    static const sc_optim_config cs[] = {
        {SC_OPT_ADAM, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.0f, 0.0f},
        {SC_OPT_SGD, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.0f, 0.0f}};
    const float tiny[2] = {5e-38f, 5e-39f}; /* adam's m = 0.1 g, sgd's buffer = g */
    sc_sparse_layer l = {BUCKETS, OUT, 5, 5 + N_TABLE, SC_ACT_RELU, 0};
    size_t np = l.b + OUT + 2;
    sc_csr x = {0};
    sc_pairs pairs = {0};
    sc_sparse_plan plan = {0};
    sc_sparse_plan_dev pd = {0};
    static lazy_state initial, after;
    static float g[2 * 3 * MAX_NNZ * OUT];
    random_csr(&x, TEXTS, 60);
    random_pairs(&pairs, 3, TEXTS);
    test_fill(initial.p, np, -1, 1);
    int rc = sc_sparse_plan_build(&l, &x, pairs.left, pairs.right, pairs.n, 3, &plan);
    if (rc == SC_OK) rc = sc_sparse_plan_upload(rt, &plan, &pd);
    for (int k = 0; k < 2 && rc == SC_OK; k++) {
        for (size_t i = 0; i < sizeof g / sizeof *g; i++) g[i] = i % 2 ? tiny[k] : -tiny[k];
        sc_sparse_optimizer *o = NULL;
        cl_mem pm = test_buffer(np, initial.p), gm = test_buffer(sizeof g / sizeof *g, g);
        rc = sc_sparse_optimizer_create(rt, &cs[k], &l, &o);
        if (rc == SC_OK)
            rc = sc_sparse_optimizer_step(o, (sc_view){pm, 0}, &pd, 0, (sc_view){gm, 0});
        if (rc == SC_OK) rc = lazy_read(o, pm, np, &after);
        sc_sparse_optimizer_free(o);
        sc_buffer_free(pm), sc_buffer_free(gm);
        for (int i = 0; i < N_TABLE && rc == SC_OK; i++) {
            CHECK(after.m[i] == 0.0f, "%s: moment %d is %g, not 0", k ? "sgd" : "adam", i,
                  after.m[i]);
            CHECK(after.p[5 + i] == initial.p[5 + i], "%s: weight %d moved", k ? "sgd" : "adam", i);
        }
    }
    sc_sparse_plan_dev_free(&pd);
    sc_sparse_plan_free(&plan);
    sc_csr_free(&x);
    sc_pairs_free(&pairs);
    CHECK(rc == SC_OK, "%s", sc_last_error());
}

/* Step s's backward over rows of the pairs [first, first + n) (a part's share, or the whole
 * step) with the plan p: dy is the whole step's (2 whole x OUT), of which the share's rows are
 * taken; the compact gradient (the step's features x OUT) and db are added to g and db. */
static int add_backward(fixture *f, const sc_sparse_plan_dev *p, size_t s, size_t first, size_t n,
                        size_t whole, const float *dy, double *g, double *db) {
    sc_runtime *rt = test_runtime();
    size_t at = s * f->plan.batch, nf = f->plan.feat_off[s + 1] - f->plan.feat_off[s];
    float *mine = malloc((2 * n * OUT + 1) * sizeof *mine),
          *out = malloc((nf * OUT + OUT) * sizeof *out);
    for (size_t r = 0; r < n; r++) { /* left rows, then right rows, of the share */
        memcpy(mine + r * OUT, dy + (first - at + r) * OUT, OUT * sizeof *dy);
        memcpy(mine + (n + r) * OUT, dy + (whole + first - at + r) * OUT, OUT * sizeof *dy);
    }
    sc_view P = {f->pm, 0}, Y = {f->y, 0}, DY = {f->dy, 0}, G = {f->g, 0};
    sc_row_index ix = sc_pairs_index(&f->pd, first, n);
    int rc = n ? SC_OK : sc_fill(rt, G, 0.0f, nf * OUT); /* an empty share: no gradient */
    if (rc == SC_OK && n) rc = sc_sparse_forward(rt, &f->l, P, &f->xd, &ix, Y);
    if (rc == SC_OK && n) rc = sc_upload(rt, DY, mine, 2 * n * OUT);
    if (rc == SC_OK) rc = sc_fill(rt, (sc_view){f->gm, f->l.b}, 0.0f, OUT);
    if (rc == SC_OK && n) rc = sc_sparse_backward(rt, &f->l, p, s, (sc_view){f->gm, 0}, Y, DY, G);
    if (rc == SC_OK) rc = sc_download(rt, out, G, nf * OUT);
    if (rc == SC_OK) rc = sc_download(rt, out + nf * OUT, (sc_view){f->gm, f->l.b}, OUT);
    for (size_t k = 0; rc == SC_OK && k < nf * OUT; k++) g[k] += out[k];
    for (size_t k = 0; rc == SC_OK && k < OUT; k++) db[k] += out[nf * OUT + k];
    free(mine), free(out);
    return rc;
}

/* Data parallelism: the plans of 3 parts have the whole plan's features at every step, and
 * their compact gradients and bias gradients, each over its share of the step's pairs, sum to
 * the whole step's. */
static void part_gradients_sum_to_the_step(void) {
    enum { BATCH = 7, PARTS = 3 };
    fixture f = {0};
    random_csr(&f.x, TEXTS, BUCKETS);
    random_pairs(&f.pairs, PAIRS, TEXTS);
    int rc = fixture_open(&f, SC_ACT_TANH, 1, BATCH);
    sc_sparse_plan part[PARTS];
    sc_sparse_plan_dev dev[PARTS];
    memset(part, 0, sizeof part), memset(dev, 0, sizeof dev);
    for (int k = 0; k < PARTS && rc == SC_OK; k++) {
        rc = sc_sparse_plan_build_part(&f.l, &f.x, f.pairs.left, f.pairs.right, PAIRS, BATCH, k,
                                       PARTS, &part[k]);
        if (rc == SC_OK) rc = sc_sparse_plan_upload(test_runtime(), &part[k], &dev[k]);
    }
    size_t nall = f.plan.feat_off[f.plan.steps];
    int same_features = 1;
    for (int k = 0; k < PARTS && rc == SC_OK; k++)
        same_features =
            same_features && part[k].steps == f.plan.steps &&
            !memcmp(part[k].feat_off, f.plan.feat_off, (f.plan.steps + 1) * sizeof(size_t)) &&
            !memcmp(part[k].features, f.plan.features, nall * sizeof(uint32_t));
    CHECK(same_features, "a part's plan has other features than the whole plan's");
    double err = 0;
    for (size_t s = 0; s < f.plan.steps && rc == SC_OK; s++) {
        size_t n = min_size(BATCH, PAIRS - BATCH * s),
               nf = f.plan.feat_off[s + 1] - f.plan.feat_off[s];
        float dy[2 * BATCH * OUT];
        test_fill(dy, 2 * n * OUT, -1, 1);
        double *whole = calloc(nf * OUT + OUT, sizeof *whole),
               *sum = calloc(nf * OUT + OUT, sizeof *sum);
        rc = add_backward(&f, &f.plan_dev, s, BATCH * s, n, n, dy, whole, whole + nf * OUT);
        for (int k = 0; k < PARTS && rc == SC_OK; k++) {
            size_t first, count;
            sc_pairs_share(n, k, PARTS, &first, &count);
            rc = add_backward(&f, &dev[k], s, BATCH * s + first, count, n, dy, sum, sum + nf * OUT);
        }
        float *got = malloc((nf * OUT + OUT) * sizeof *got);
        for (size_t i = 0; i < nf * OUT + OUT; i++) got[i] = (float)sum[i];
        err = fmax(err, test_rel_error(got, whole, nf * OUT + OUT));
        free(got), free(whole), free(sum);
    }
    for (int k = 0; k < PARTS; k++) sc_sparse_plan_free(&part[k]), sc_sparse_plan_dev_free(&dev[k]);
    fixture_close(&f);
    sc_csr_free(&f.x);
    sc_pairs_free(&f.pairs);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    /* float sums of the same terms in another grouping */
    CHECK_REL(err, 1e-5, "3 parts' dW rows and db against the whole step's");
}

TEST_MAIN(TEST(layer_matches_reference), TEST(block_matches_reference),
          TEST(plan_covers_each_occurrence_once), TEST(plan_rejects_bad_input),
          TEST(backward_is_deterministic), TEST(lazy_adam_matches_formula),
          TEST(lazy_sgd_matches_formula), TEST(lazy_subnormal_moments_are_zero),
          TEST(part_gradients_sum_to_the_step))
