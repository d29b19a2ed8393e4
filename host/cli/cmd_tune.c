#include "cmd.h"

#include "gemm_bench.h"
#include "siamcl/job.h"
#include "progress.h"
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
    "$SIAMCL_TUNING_DIR/<device>.ini, else ~/.cache/siamcl/tuning/<device>.ini. Without\n"
    "that file, PoCL CPU devices run siamcl's built-in set and other devices CLBlast's\n"
    "defaults. A set beyond the device's limits (work-group size, local memory) is skipped,\n"
    "with a line that says why, here and at the start of every run.\n"
    "\n"
    "  --batch B    the batch size in pairs to tune for\n"
    "  --seconds S  stop trying candidates after S seconds (default 120; each new candidate\n"
    "               costs a kernel compile, several seconds on PoCL)\n";

/* Candidates, the kinds interleaved and the sets that did well on a CPU first, so that a
 * short budget still tries both kinds. Xgemm: MWG NWG KWG MDIMC NDIMC VWM VWN. XgemmDirect: WGD,
 * MDIMCD = NDIMCD, VWMD = VWND. */
typedef struct candidate {
    int direct;
    size_t v[7];
} candidate;
/* candidates[0] and [1] also fill the file's unused section when one kind serves all. */
static const candidate candidates[] = {
    {0, {64, 64, 16, 4, 8, 8, 8}},  {1, {32, 4, 8}},
    {0, {64, 32, 16, 4, 4, 8, 8}},  {1, {64, 8, 8}},
    {0, {128, 64, 16, 8, 8, 8, 8}}, {1, {16, 4, 4}},
    {0, {64, 64, 16, 4, 4, 8, 8}},  {1, {32, 8, 4}},
    {0, {64, 64, 16, 8, 8, 8, 8}},  {1, {16, 8, 2}},
    {0, {64, 32, 16, 8, 4, 8, 8}},  {0, {64, 64, 32, 4, 8, 8, 8}}};
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
 * a wrong result rules it out (INFINITY), whatever its speed. A set that does not fit the
 * device is skipped (its times stay NaN: not tried). */
static int try_params(sc_gemm_bench *t, const sc_gemm_params *p, const char *what,
                      double *seconds) {
    double err, total = 0;
    int rc = p ? sc_gemm_params_apply(t->rt, p) : SC_OK;
    if (rc == SC_GEMM_SKIPPED) {
        printf("  %-64s skipped: %s\n", what, sc_last_error());
        return SC_OK;
    }
    SC_TRY(rc);
    SC_TRY(sc_gemm_bench_verify(t, &err));
    if (err > 1e-4) {
        printf("  %-64s wrong results (relative error %.2g)\n", what, err);
        for (int i = 0; i < t->n; i++) seconds[i] = INFINITY;
        return SC_OK;
    }
    SC_TRY(sc_gemm_bench_time_each(t, seconds));
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

/* One line per product: its time before and under the chosen parameters, and its kernel. */
static void print_products(const sc_gemm_bench *t, const double *before, const sc_tune_choice *c,
                           double (*cost)[SC_MAX_PRODUCTS]) {
    printf("\n  %-34s %10s %10s  %s\n", "product (m x n x k)", "before ms", "tuned ms", "kernel");
    for (int i = 0; i < t->n; i++) {
        char name[64];
        int direct = sc_gemm_goes_direct(&t->s[i], c->min_indirect);
        sc_gemm_shape_name(&t->s[i], name, sizeof name);
        printf("  %-34s %10.4f %10.4f  %s\n", name, before[i] * 1e3,
               cost[direct ? c->d : c->x][i] * 1e3, direct ? "XgemmDirect" : "Xgemm");
    }
    printf("\n");
}

/* Tries candidates until the budget runs out, combines the best of each kind per product,
 * and times that combination on the whole mix (*best_s; INFINITY when there is none) against
 * the parameters in force (*base). */
static int search(sc_gemm_bench *t, double budget, sc_gemm_params *best, double *best_s,
                  double *base) {
    static double cost[NCAND][SC_MAX_PRODUCTS];
    int direct[NCAND];
    double before[SC_MAX_PRODUCTS], start = sc_now();
    for (int c = 0; c < NCAND; c++) {
        direct[c] = candidates[c].direct;
        for (int i = 0; i < SC_MAX_PRODUCTS; i++) cost[c][i] = NAN;
    }
    SC_TRY(try_params(t, NULL, "current parameters (stored, built-in or CLBlast's)", before));
    SC_TRY(sc_gemm_bench_time_all(t, base));
    for (int c = 0; c < NCAND && sc_now() - start < budget; c++) {
        char what[128];
        sc_gemm_params p = candidate_params(c);
        describe(c, what, sizeof what);
        SC_TRY(try_params(t, &p, what, cost[c]));
    }
    sc_tune_choice ch = sc_tune_choose(t->s, t->n, direct, &cost[0][0], SC_MAX_PRODUCTS, NCAND);
    *best_s = INFINITY;
    if (ch.seconds == INFINITY) return SC_OK; /* no candidate tried, or none right */
    *best = choice_params(&ch);
    print_products(t, before, &ch, cost);
    double err;
    int rc = sc_gemm_params_apply(t->rt, best);
    if (rc == SC_GEMM_SKIPPED) { /* each kind fits alone, not the pair (Oclgrind's count) */
        printf("  the best pair is skipped: %s\n", sc_last_error());
        return SC_OK;
    }
    SC_TRY(rc);
    SC_TRY(sc_gemm_bench_verify(t, &err));
    if (err > 1e-4) return sc_error(SC_ERR, "tune: the combined parameters give wrong results");
    SC_TRY(sc_gemm_bench_time_all(t, best_s));
    printf("  all products in turn: %.3f ms before, %.3f ms tuned (XGEMM_MIN_INDIRECT_SIZE %zu)\n",
           *base * 1e3, *best_s * 1e3, ch.min_indirect);
    return SC_OK;
}

int cmd_tune(int argc, char **argv) {
    const char *batch_arg = NULL, *seconds_arg = NULL;
    cmd_option options[] = {
        {"batch", 0, &batch_arg, NULL}, {"seconds", 0, &seconds_arg, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "tune", cmd_tune_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 1) return sc_error(SC_EINPUT, "tune: expected one CONFIG (see --help)");
    char *end;
    long batch = batch_arg ? strtol(batch_arg, &end, 10) : 0;
    double budget = seconds_arg ? strtod(seconds_arg, &end) : 120;
    if ((batch_arg && (*end || batch < 1)) || (seconds_arg && !(budget > 0)))
        return sc_error(SC_EINPUT, "tune: --batch and --seconds take positive numbers");
    sc_config *cfg;
    sc_job job;
    sc_runtime *rt = NULL;
    sc_gemm_bench t = {0};
    SC_TRY(cmd_load_config(&args, args.positional[0], &cfg));
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK) rc = cmd_open_runtime(&args, cfg, &rt);
    if (rc == SC_OK) rc = cmd_input_from_data(rt, &job);
    sc_gemm_shape s[SC_MAX_PRODUCTS];
    int n = rc == SC_OK
                ? sc_model_products(&job.model, batch ? (size_t)batch : job.train.batch_size, 1, s)
                : 0;
    if (rc == SC_OK) rc = sc_gemm_bench_open(rt, s, n, &t);
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
    sc_gemm_bench_close(&t);
    sc_runtime_close(rt);
    sc_config_free(cfg);
    return rc;
}
