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
    "both backward products of every dense layer. CLBlast takes parameters per device and\n"
    "kernel, not per shape, so each candidate (an Xgemm set, an XgemmDirect set, and the size\n"
    "below which products go direct) is timed on the whole mix of shapes, after its results\n"
    "are checked against a double-precision reference. The fastest is stored in the device's\n"
    "tuning file, which every later run applies at start (and says so):\n"
    "$SIAMCL_TUNING_DIR/<device>.ini, else ~/.cache/siamcl/tuning/<device>.ini. Delete it to\n"
    "return to CLBlast's defaults.\n"
    "\n"
    "  --seconds S  stop trying candidates after S seconds (default 120; each new candidate\n"
    "               costs a kernel compile, several seconds on PoCL)\n";

typedef struct shape {
    size_t m, n, k;
    int ta, tb;
} shape;

enum { MAX_SHAPES = 3 * (2 * SC_MAX_LAYERS + 1) };

/* The three products of a dense layer of `rows` rows (the input's gradient unless first). */
static void layer_shapes(size_t rows, size_t in, size_t out, int first, shape *s, int *n) {
    s[(*n)++] = (shape){rows, out, in, 0, 1};
    s[(*n)++] = (shape){out, in, rows, 1, 0};
    if (!first) s[(*n)++] = (shape){rows, in, out, 0, 0};
}

static int model_shapes(const sc_model_config *mc, size_t B, shape *s) {
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
    const shape *s;
    int n;
    cl_mem a, b, c;
    float *ha, *hb, *hc;
    size_t size; /* floats of each buffer */
} bench;

/* Checks every product against a double-precision reference. */
static int verify(bench *t, double *worst) {
    *worst = 0;
    for (int i = 0; i < t->n; i++) {
        const shape *s = &t->s[i];
        SC_TRY(sc_gemm(t->rt, s->ta, s->tb, s->m, s->n, s->k, 1.0f, (sc_view){t->a, 0},
                       (sc_view){t->b, 0}, 0.0f, (sc_view){t->c, 0}));
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

/* Seconds for one pass over the shapes: the median of five timed passes after one warm-up. */
static int time_shapes(bench *t, double *seconds) {
    double runs[5];
    for (int r = -1; r < 5; r++) {
        double start = sc_now();
        for (int i = 0; i < t->n; i++) {
            const shape *s = &t->s[i];
            SC_TRY(sc_gemm(t->rt, s->ta, s->tb, s->m, s->n, s->k, 1.0f, (sc_view){t->a, 0},
                           (sc_view){t->b, 0}, 0.0f, (sc_view){t->c, 0}));
        }
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

/* Candidates: Xgemm sets (used by all products when the switch is 0), XgemmDirect sets (used
 * by all when it is huge), then the best of each together at CLBlast's default switch. */
static sc_gemm_params candidate(int i) {
    static const size_t xg[][7] = {/* MWG NWG KWG MDIMC NDIMC VWM VWN */
                                   {64, 64, 16, 4, 4, 8, 8},
                                   {32, 32, 16, 8, 8, 4, 4},
                                   {64, 64, 32, 8, 8, 8, 8},
                                   {128, 64, 16, 8, 8, 8, 8},
                                   {64, 32, 16, 8, 4, 8, 8}};
    static const size_t dg[][2] = {{32, 4}, {16, 2}, {8, 1}}; /* WGD, VWMD = VWND */
    sc_gemm_params p;
    int x = i < 5 ? i : 0, d = i >= 5 && i < 8 ? i - 5 : 0;
    const size_t *g = xg[x];
    size_t xgemm[] = {0, 1, g[2], 2, g[3], g[3], g[0], g[4], g[4], g[1], 0, 0, 0, 0, g[5], g[6]};
    size_t direct[] = {2, 8, 8, 8, 8, 1, 1, dg[d][1], dg[d][1], dg[d][0]};
    memcpy(p.xgemm, xgemm, sizeof xgemm);
    memcpy(p.direct, direct, sizeof direct);
    p.min_indirect = i < 5 ? 0 : 1u << 30;
    return p;
}

static void describe(const sc_gemm_params *p, char *out, size_t size) {
    if (p->min_indirect == 0)
        snprintf(out, size, "Xgemm MWG %zu NWG %zu KWG %zu MDIMC %zu NDIMC %zu VWM %zu VWN %zu",
                 p->xgemm[6], p->xgemm[9], p->xgemm[2], p->xgemm[5], p->xgemm[8], p->xgemm[14],
                 p->xgemm[15]);
    else if (p->min_indirect >= 1u << 30)
        snprintf(out, size, "XgemmDirect WGD %zu VWMD %zu VWND %zu", p->direct[9], p->direct[7],
                 p->direct[8]);
    else
        snprintf(out, size, "best of both, direct below %zu^3", p->min_indirect);
}

static int try_candidate(bench *t, const sc_gemm_params *p, const char *what, double *seconds) {
    double err;
    SC_TRY(p ? sc_gemm_params_apply(t->rt, p) : SC_OK);
    SC_TRY(verify(t, &err));
    if (err > 1e-4) { /* a wrong result rules the candidate out, whatever its speed */
        printf("  %-64s wrong results (relative error %.2g)\n", what, err);
        *seconds = INFINITY;
        return SC_OK;
    }
    SC_TRY(time_shapes(t, seconds));
    printf("  %-64s %8.3f ms\n", what, *seconds * 1e3);
    fflush(stdout);
    return SC_OK;
}

static int search(bench *t, double budget, sc_gemm_params *best, double *best_s, double *base) {
    double start = sc_now(), s;
    int found = 0;
    SC_TRY(try_candidate(t, NULL, "current parameters (CLBlast's, or a stored tuning)", base));
    *best_s = *base;
    sc_gemm_params bx = candidate(0), bd = candidate(5);
    double bx_s = INFINITY, bd_s = INFINITY;
    for (int i = 0; i < 9 && sc_now() - start < budget; i++) {
        sc_gemm_params p = candidate(i);
        if (i == 8) { /* both kinds, each for the products it suits */
            memcpy(p.xgemm, bx.xgemm, sizeof p.xgemm);
            memcpy(p.direct, bd.direct, sizeof p.direct);
            p.min_indirect = 384;
        }
        char what[128];
        describe(&p, what, sizeof what);
        SC_TRY(try_candidate(t, &p, what, &s));
        if (i < 5 && s < bx_s) bx = p, bx_s = s;
        if (i >= 5 && i < 8 && s < bd_s) bd = p, bd_s = s;
        if (s < *best_s) *best = p, *best_s = s, found = 1;
    }
    return found ? SC_OK : SC_ERR;
}

static int setup_bench(sc_runtime *rt, const shape *s, int n, bench *t) {
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
    shape s[MAX_SHAPES];
    int n =
        rc == SC_OK ? model_shapes(&job.model, batch ? (size_t)batch : job.train.batch_size, s) : 0;
    if (rc == SC_OK) rc = cmd_open_runtime(&args, cfg, &rt);
    if (rc == SC_OK) rc = setup_bench(rt, s, n, &t);
    sc_gemm_params best;
    double best_s, base_s;
    if (rc == SC_OK) {
        printf("siamcl tune: %d products of the model per step, on %s\n", n, rt->dev.name);
        rc = search(&t, budget, &best, &best_s, &base_s);
        if (rc == SC_ERR) {
            printf("no candidate beat the current parameters; nothing stored\n");
            rc = SC_OK;
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
