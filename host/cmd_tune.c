#include "cmd.h"

#include "siamcl/gemm.h"
#include "siamcl/job.h"
#include "siamcl/progress.h"
#include "siamcl/rng.h"
#include "siamcl/tune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char cmd_tune_help[] =
    "usage: siamcl tune CONFIG [--batch B] [--seconds S] [--device SPEC] [-o s.k=v]...\n"
    "\n"
    "Searches CLBlast's GEMM parameters for the matrix products of the model CONFIG\n"
    "describes at batch size B (default: its [train] batch_size): the forward product and\n"
    "both backward products of every dense layer. Each candidate parameter set, of CLBlast's\n"
    "Xgemm kernel or of its XgemmDirect kernel, is checked against a double-precision\n"
    "reference and then timed on every product. CLBlast takes one set per kernel and device,\n"
    "so the result is a pair: the direct set for the products below a switch size, the\n"
    "Xgemm set for the rest, the pair and the switch chosen for the least total time. The\n"
    "pair is timed on the whole mix and stored, if faster than the parameters in force, in\n"
    "the device's tuning file, which every later run applies at start (and says so):\n"
    "$SIAMCL_TUNING_DIR/<device>.ini, else ~/.cache/siamcl/tuning/<device>.ini. Delete it to\n"
    "return to CLBlast's defaults.\n"
    "\n"
    "  --batch B    the batch size in pairs to tune for\n"
    "  --seconds S  stop trying candidates after S seconds (default 120; each new candidate\n"
    "               costs a kernel compile, several seconds on PoCL)\n";

enum { MAX_SHAPES = 3 * (2 * SC_MAX_LAYERS + 1) };

/* The three products of a dense layer of `rows` rows (the input's gradient unless first). */
static void layer_shapes(size_t rows, size_t in, size_t out, int first, sc_gemm_shape *s, int *n) {
    s[(*n)++] = (sc_gemm_shape){rows, out, in, 0, 1};
    s[(*n)++] = (sc_gemm_shape){out, in, rows, 1, 0};
    if (!first) s[(*n)++] = (sc_gemm_shape){rows, in, out, 0, 0};
}

static int model_shapes(const sc_model_config *mc, size_t B, sc_gemm_shape *s) {
    int n = 0;
    size_t in = (size_t)mc->input;
    for (int l = 0; l < mc->nlayers; l++) {
        if (!(l == 0 && mc->sparse_input)) /* an embedding bag has no product */
            layer_shapes(2 * B, in, (size_t)mc->layers[l], l == 0, s, &n);
        in = (size_t)mc->layers[l];
    }
    if (mc->head != SC_HEAD_MLP) return n;
    in *= 4;
    for (int l = 0; l <= mc->head_nlayers; l++) {
        size_t out = l < mc->head_nlayers ? (size_t)mc->head_layers[l] : 1;
        layer_shapes(B, in, out, 0, s, &n);
        in = out;
    }
    return n;
}

typedef struct bench {
    sc_runtime *rt;
    const sc_gemm_shape *s;
    int n;
    cl_mem a, b, c;
    float *ha, *hb, *hc;
    size_t size; /* floats of each buffer */
} bench;

static int product(bench *t, int i) {
    const sc_gemm_shape *s = &t->s[i];
    return sc_gemm(t->rt, s->ta, s->tb, s->m, s->n, s->k, 1.0f, (sc_view){t->a, 0},
                   (sc_view){t->b, 0}, 0.0f, (sc_view){t->c, 0});
}

/* Checks every product against a double-precision reference. */
static int verify(bench *t, double *worst) {
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
static int median_of_five(bench *t, int (*run)(bench *, int), int arg, double *seconds) {
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

static int repeated_product(bench *t, int i) {
    for (int r = 0; r < REPEAT; r++) SC_TRY(product(t, i));
    return SC_OK;
}

static int all_products(bench *t, int unused) {
    (void)unused;
    for (int i = 0; i < t->n; i++) SC_TRY(product(t, i));
    return SC_OK;
}

/* Seconds per product of each shape under the parameters in force. */
static int time_each(bench *t, double *seconds) {
    for (int i = 0; i < t->n; i++) {
        SC_TRY(median_of_five(t, repeated_product, i, &seconds[i]));
        seconds[i] /= REPEAT;
    }
    return SC_OK;
}

/* Candidates, the kinds interleaved and the sets that did well on a CPU first, so that a
 * short budget still tries both kinds. Xgemm: MWG NWG KWG MDIMC NDIMC VWM VWN. XgemmDirect: WGD,
 * MDIMCD = NDIMCD, VWMD = VWND. */
typedef struct candidate {
    int direct;
    size_t v[7];
} candidate;
/* candidates[0] and [1] also fill the file's unused section when one kind serves all. */
static const candidate candidates[] = {
    {0, {64, 64, 16, 4, 4, 8, 8}}, {1, {32, 4, 8}}, {0, {64, 32, 16, 8, 4, 8, 8}},  {1, {64, 8, 8}},
    {0, {64, 64, 32, 8, 8, 8, 8}}, {1, {16, 4, 4}}, {0, {128, 64, 16, 8, 8, 8, 8}}, {1, {32, 8, 4}},
    {0, {32, 32, 16, 8, 8, 4, 4}}, {1, {16, 8, 2}}};
enum { NCAND = sizeof candidates / sizeof candidates[0] };

static void set_xgemm(sc_gemm_params *p, const size_t *g) {
    size_t v[] = {0, 1, g[2], 2, g[3], g[3], g[0], g[4], g[4], g[1], 0, 0, 0, 0, g[5], g[6]};
    memcpy(p->xgemm, v, sizeof v);
}

static void set_direct(sc_gemm_params *p, const size_t *d) {
    size_t v[] = {2, d[1], d[1], d[1], d[1], 1, 1, d[2], d[2], d[0]};
    memcpy(p->direct, v, sizeof v);
}

/* Candidate c alone: every product through its kernel (the other kind's set is unused). */
static sc_gemm_params candidate_params(int c) {
    sc_gemm_params p;
    set_xgemm(&p, candidates[c].direct ? candidates[0].v : candidates[c].v);
    set_direct(&p, candidates[c].direct ? candidates[c].v : candidates[1].v);
    p.min_indirect = candidates[c].direct ? SC_GEMM_ALL_DIRECT : 0;
    return p;
}

static void describe(int c, char *out, size_t size) {
    const size_t *v = candidates[c].v;
    if (candidates[c].direct)
        snprintf(out, size, "XgemmDirect WGD %zu MDIMCD=NDIMCD %zu VWMD=VWND %zu", v[0], v[1],
                 v[2]);
    else
        snprintf(out, size, "Xgemm MWG %zu NWG %zu KWG %zu MDIMC %zu NDIMC %zu VWM %zu VWN %zu",
                 v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
}

/* Times every product under p (NULL: the parameters in force) after checking its results;
 * a wrong result rules it out (INFINITY), whatever its speed. */
static int try_params(bench *t, const sc_gemm_params *p, const char *what, double *seconds) {
    double err, total = 0;
    SC_TRY(p ? sc_gemm_params_apply(t->rt, p) : SC_OK);
    SC_TRY(verify(t, &err));
    if (err > 1e-4) {
        printf("  %-64s wrong results (relative error %.2g)\n", what, err);
        for (int i = 0; i < t->n; i++) seconds[i] = INFINITY;
        return SC_OK;
    }
    SC_TRY(time_each(t, seconds));
    for (int i = 0; i < t->n; i++) total += seconds[i];
    printf("  %-64s %8.3f ms\n", what, total * 1e3);
    fflush(stdout);
    return SC_OK;
}

static sc_gemm_params choice_params(const sc_tune_choice *c) {
    sc_gemm_params p;
    set_xgemm(&p, candidates[c->x >= 0 ? c->x : 0].v);
    set_direct(&p, candidates[c->d >= 0 ? c->d : 1].v);
    p.min_indirect = c->min_indirect;
    return p;
}

static void shape_name(const sc_gemm_shape *s, char *out, size_t size) {
    const char *op = s->ta ? ", A transposed" : s->tb ? ", B transposed" : "";
    snprintf(out, size, "%zu x %zu x %zu%s", s->m, s->n, s->k, op);
}

/* One line per product: its time before and under the chosen parameters, and its kernel. */
static void print_products(const bench *t, const double *before, const sc_tune_choice *c,
                           double (*cost)[MAX_SHAPES]) {
    printf("\n  %-34s %10s %10s  %s\n", "product (m x n x k)", "before ms", "tuned ms", "kernel");
    for (int i = 0; i < t->n; i++) {
        char name[64];
        int direct = sc_gemm_goes_direct(&t->s[i], c->min_indirect);
        shape_name(&t->s[i], name, sizeof name);
        printf("  %-34s %10.4f %10.4f  %s\n", name, before[i] * 1e3,
               cost[direct ? c->d : c->x][i] * 1e3, direct ? "XgemmDirect" : "Xgemm");
    }
    printf("\n");
}

/* Tries candidates until the budget runs out, combines the best of each kind per product,
 * and times that combination on the whole mix (*best_s; INFINITY when there is none) against
 * the parameters in force (*base). */
static int search(bench *t, double budget, sc_gemm_params *best, double *best_s, double *base) {
    static double cost[NCAND][MAX_SHAPES];
    int direct[NCAND];
    double before[MAX_SHAPES], start = sc_now();
    for (int c = 0; c < NCAND; c++) {
        direct[c] = candidates[c].direct;
        for (int i = 0; i < MAX_SHAPES; i++) cost[c][i] = NAN;
    }
    SC_TRY(try_params(t, NULL, "current parameters (CLBlast's, or a stored tuning)", before));
    SC_TRY(median_of_five(t, all_products, 0, base));
    for (int c = 0; c < NCAND && sc_now() - start < budget; c++) {
        char what[128];
        sc_gemm_params p = candidate_params(c);
        describe(c, what, sizeof what);
        SC_TRY(try_params(t, &p, what, cost[c]));
    }
    sc_tune_choice ch = sc_tune_choose(t->s, t->n, direct, &cost[0][0], MAX_SHAPES, NCAND);
    *best_s = INFINITY;
    if (ch.seconds == INFINITY) return SC_OK; /* no candidate tried, or none right */
    *best = choice_params(&ch);
    print_products(t, before, &ch, cost);
    double err;
    SC_TRY(sc_gemm_params_apply(t->rt, best));
    SC_TRY(verify(t, &err));
    if (err > 1e-4) return sc_error(SC_ERR, "tune: the combined parameters give wrong results");
    SC_TRY(median_of_five(t, all_products, 0, best_s));
    printf("  all products in turn: %.3f ms before, %.3f ms tuned (XGEMM_MIN_INDIRECT_SIZE %zu)\n",
           *base * 1e3, *best_s * 1e3, ch.min_indirect);
    return SC_OK;
}

static int setup_bench(sc_runtime *rt, const sc_gemm_shape *s, int n, bench *t) {
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

static void free_bench(bench *t) {
    free(t->ha), free(t->hb), free(t->hc);
    sc_buffer_free(t->a), sc_buffer_free(t->b), sc_buffer_free(t->c);
}

int cmd_tune(int argc, char **argv) {
    const char *batch_arg = NULL, *seconds_arg = NULL;
    cmd_option options[] = {
        {"batch", 0, &batch_arg, NULL}, {"seconds", 0, &seconds_arg, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "tune", options, &args));
    if (args.help) {
        fputs(cmd_tune_help, stdout);
        return SC_OK;
    }
    if (args.npositional != 1) return sc_error(SC_EINPUT, "tune: expected one CONFIG (see --help)");
    char *end;
    long batch = batch_arg ? strtol(batch_arg, &end, 10) : 0;
    double budget = seconds_arg ? strtod(seconds_arg, &end) : 120;
    if ((batch_arg && (*end || batch < 1)) || (seconds_arg && !(budget > 0)))
        return sc_error(SC_EINPUT, "tune: --batch and --seconds take positive numbers");
    sc_config *cfg;
    sc_job job;
    sc_runtime *rt = NULL;
    bench t = {0};
    SC_TRY(cmd_load_config(&args, args.positional[0], &cfg));
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK) rc = cmd_input_from_data(&job);
    sc_gemm_shape s[MAX_SHAPES];
    int n =
        rc == SC_OK ? model_shapes(&job.model, batch ? (size_t)batch : job.train.batch_size, s) : 0;
    if (rc == SC_OK) rc = cmd_open_runtime(&args, cfg, &rt);
    if (rc == SC_OK) rc = setup_bench(rt, s, n, &t);
    sc_gemm_params best;
    double best_s = 0, base_s = 0;
    if (rc == SC_OK) {
        printf("siamcl tune: %d products of the model per step, on %s\n", n, rt->dev.name);
        rc = search(&t, budget, &best, &best_s, &base_s);
        if (rc == SC_OK && !(best_s < base_s)) {
            printf("no candidate beat the current parameters; nothing stored\n");
        } else if (rc == SC_OK) {
            char path[1200], note[256];
            sc_tuning_path(&rt->dev, path, sizeof path);
            snprintf(note, sizeof note,
                     "siamcl tune %s: %.3f ms for the model's products, %.3f "
                     "before",
                     args.positional[0], best_s * 1e3, base_s * 1e3);
            rc = sc_gemm_params_save(path, &best, note);
            if (rc == SC_OK) printf("stored in %s: %.2fx faster\n", path, base_s / best_s);
        }
    }
    free_bench(&t);
    sc_runtime_close(rt);
    sc_config_free(cfg);
    return rc;
}
