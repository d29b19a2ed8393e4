#include "cmd.h"

#include "gemm_bench.h"
#include "progress.h"
#include "siamcl/rng.h"

#include <stdlib.h>
#include <string.h>

const char cmd_bench_help[] =
    "usage: siamcl bench CONFIG [--batch 32,256,1024] [--seconds S] [--products] [--json]\n"
    "                    [-o s.k=v]...\n"
    "\n"
    "Times training steps (forward, backward and optimizer update) and inference (forward\n"
    "only) of the model CONFIG describes, on random data already on the device (for text,\n"
    "texts of 40 hashed features), after a warm-up. For each batch size it prints ms per\n"
    "step, pairs per second, the GFLOP/s of the dense layers' matrix products, and the\n"
    "kernel launches and host-device copies per step (a CLBlast product counts as one).\n"
    "Beside a training step's time: host ms, the host's time in the calls that issue it (the\n"
    "device runs it meanwhile), and for a text model plan ms, the host's time to build one\n"
    "step's part of an epoch's plan of the embedding bag's rows, which training builds on a\n"
    "worker thread while the epoch before it trains (JSON: -1 for other models). helpers:\n"
    "the copy, pad and transpose kernels CLBlast runs around its GEMM kernel per training /\n"
    "inference step (by CLBlast's rule: an operand not stored as the kernel reads it, on whole\n"
    "tiles, goes through scratch), where siamcl set the parameters (- otherwise).\n"
    "\n"
    "  --batch LIST   batch sizes in pairs (default: the config's [train] batch_size)\n"
    "  --seconds S    time each measurement for at least S seconds (default 2)\n"
    "  --products     time the dense layers' matrix products of a training step one by one\n"
    "                 instead (CLBlast with the parameters in force; median of five runs of\n"
    "                 8 queued products): ms and GFLOP/s per product\n"
    "  --json         print JSON instead of a table\n"
    "\n"
    "When the config leaves [model] input to the data, the data's first file sets it.\n";

typedef struct bench_row {
    size_t batch;
    double train_ms, train_pairs, train_gflops, infer_ms, infer_pairs, infer_gflops;
    double launches, transfers;    /* per training step */
    double host_ms;                /* per training step: the host's time issuing it */
    double plan_ms;                /* per training step: building its plan on the host, or -1 */
    double helpers, infer_helpers; /* CLBlast's helper kernels per step, or -1: unknown */
} bench_row;

/* Floating-point operations of the dense layers' products for one step of B pairs. */
static double gemm_flops(const sc_model *m, size_t B, int training) {
    sc_gemm_shape s[SC_MAX_PRODUCTS];
    double f = 0;
    int n = sc_model_products(&m->cfg, B, training, s);
    for (int i = 0; i < n; i++) f += sc_gemm_flops(&s[i]);
    return f;
}

/* Random inputs of B pairs on the device, pairs (i, B + i): dense rows uniform in [0, 1), or
 * for a sparse first layer texts of 40 distinct hashed features; and the batch over them with
 * its one-step plan. */
typedef struct bench_data {
    sc_inputs in;
    sc_csr csr;
    sc_pairs_dev pairs;
    sc_sparse_plan_dev plan;
    sc_batch batch;
} bench_data;

static int random_texts(sc_runtime *rt, size_t n, size_t buckets, sc_rng *r, bench_data *d) {
    enum { F = 40 };
    sc_csr x = {n, n * F, malloc((n + 1) * sizeof(uint32_t)), malloc(n * F * sizeof(uint32_t)),
                malloc(n * F * sizeof(float))};
    d->csr = x;
    if (!x.offsets || !x.indices || !x.values) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) {
        x.offsets[i] = (uint32_t)(i * F);
        /* F distinct features: F strides of buckets / F, each at a random place */
        for (size_t k = 0; k < F; k++) {
            x.indices[i * F + k] =
                (uint32_t)(k * (buckets / F) + sc_rng_below(r, (uint32_t)(buckets / F)));
            x.values[i * F + k] = 1.0f;
        }
    }
    x.offsets[n] = (uint32_t)(n * F);
    return sc_inputs_sparse(rt, &d->csr, buckets, &d->in);
}

static int random_rows(sc_runtime *rt, size_t n, size_t width, sc_rng *r, sc_inputs *in) {
    float *x = malloc((n * width > 0 ? n * width : 1) * sizeof *x);
    if (!x) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n * width; i++) x[i] = sc_rng_uniform(r);
    int rc = sc_inputs_dense(rt, x, n, width, in);
    free(x);
    return rc;
}

/* Class labels 0..9 in turn for the rows, as a loss that mines by class (triplet) reads. */
static int ten_classes(sc_runtime *rt, sc_inputs *in) {
    float *keys = malloc((in->n ? in->n : 1) * sizeof *keys);
    if (!keys) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < in->n; i++) keys[i] = (float)(i % 10);
    int rc = sc_inputs_keys(rt, in, keys, 1);
    free(keys);
    return rc;
}

static int random_data(sc_model *m, size_t B, uint64_t seed, bench_data *d) {
    sc_rng r;
    sc_rng_seed(&r, seed, 3);
    size_t width = (size_t)m->cfg.input;
    int32_t *idx = malloc(2 * B * sizeof *idx);
    float *y = malloc(B * sizeof *y);
    size_t nf = B * (size_t)m->cfg.pair_features;
    float *f =
        malloc((nf ? nf : 1) * sizeof *f); /* the pairs' own features, if the head reads any */
    int rc = idx && y && f ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; rc == SC_OK && i < nf; i++) f[i] = sc_rng_uniform(&r);
    for (size_t i = 0; rc == SC_OK && i < 2 * B; i++) idx[i] = (int32_t)i;
    /* 0/1 targets; a text model's range head fits relevance-like targets */
    for (size_t i = 0; rc == SC_OK && i < B; i++)
        y[i] = m->cfg.sparse_input ? 2.0f : (float)(i % 2);
    if (rc == SC_OK)
        rc = m->cfg.sparse_input ? random_texts(m->rt, 2 * B, width, &r, d)
                                 : random_rows(m->rt, 2 * B, width, &r, &d->in);
    if (rc == SC_OK) rc = ten_classes(m->rt, &d->in);
    sc_pairs p = {B, idx, idx + B, y, f, m->cfg.pair_features};
    if (rc == SC_OK) rc = sc_pairs_upload(m->rt, &p, &d->pairs);
    if (rc == SC_OK) rc = sc_model_plan(m, &d->in, &p, B, &d->plan);
    d->batch = (sc_batch){&d->in, &d->pairs, 0, B, &d->plan, 0, 0, 0, 0};
    free(idx);
    free(y);
    free(f);
    return rc;
}

static void free_data(bench_data *d) {
    sc_inputs_free(&d->in);
    sc_csr_free(&d->csr);
    sc_pairs_dev_free(&d->pairs);
    sc_sparse_plan_dev_free(&d->plan);
}

/* Runs steps of batch b until at least `seconds` have passed: seconds per step, and of them
 * the host's in the calls that issue a step (the device runs it meanwhile). */
static int time_steps(sc_model *m, sc_model_optimizer *opt, const sc_batch *b, double seconds,
                      double *per_step, double *host_per_step, unsigned long *steps) {
    double start = sc_now(), now = start, host = 0;
    *steps = 0;
    while (now - start < seconds || *steps < 3) {
        double issue = sc_now();
        if (opt) {
            SC_TRY(sc_model_train_pass(m, b));
            SC_TRY(sc_model_optimizer_step(m, opt, b));
        } else {
            SC_TRY(sc_model_forward(m, b));
        }
        host += sc_now() - issue;
        ++*steps;
        if (*steps % 8 == 0 || now - start >= seconds) SC_TRY(sc_finish(m->rt));
        now = sc_now();
    }
    SC_TRY(sc_finish(m->rt));
    *per_step = (sc_now() - start) / (double)*steps;
    *host_per_step = host / (double)*steps;
    return SC_OK;
}

/* A sparse first layer's plan of one step of B pairs, built on the host: seconds per step (the
 * part of an epoch's plan that training builds on a worker thread while the epoch before it
 * trains); -1 for a dense first layer. */
static int time_plan(const sc_model *m, const bench_data *d, size_t B, double *per_step) {
    *per_step = -1;
    if (!m->cfg.sparse_input) return SC_OK;
    sc_pairs p;
    SC_TRY(sc_pairs_alloc(&p, B));
    for (size_t i = 0; i < B; i++) p.left[i] = (int32_t)i, p.right[i] = (int32_t)(B + i);
    double start = sc_now();
    unsigned long n = 0;
    int rc = SC_OK;
    while (rc == SC_OK && (sc_now() - start < 0.2 || n < 3)) {
        sc_sparse_plan plan;
        rc = sc_model_plan_build(m, &d->in, &p, B, 0, 1, &plan);
        sc_sparse_plan_free(&plan);
        n++;
    }
    *per_step = (sc_now() - start) / (double)n;
    sc_pairs_free(&p);
    return rc;
}

/* CLBlast's helper kernels per step since `since`, or -1 where siamcl does not know its tiles. */
static double helpers_per_step(const sc_runtime *rt, unsigned long since, unsigned long steps) {
    return rt->gemm_applied ? (double)(rt->gemm_helpers - since) / (double)steps : -1;
}

static int bench_one(sc_runtime *rt, const sc_job *job, size_t B, double seconds, bench_row *row) {
    sc_model *m = NULL;
    sc_model_optimizer opt = {0};
    bench_data d = {0};
    double t, host, plan = -1;
    unsigned long steps, launches, transfers, helpers;
    row->batch = B;
    int rc = sc_model_create(rt, &job->model, &job->train.loss, B, job->train.seed, &m);
    if (rc == SC_OK) rc = sc_model_optimizer_create(m, &job->train.optim, &opt);
    if (rc == SC_OK) rc = random_data(m, B, job->train.seed, &d);
    if (rc == SC_OK)
        rc = time_steps(m, &opt, &d.batch, 0.2, &t, &host, &steps); /* warm-up: builds kernels */
    launches = rt->launches, transfers = rt->transfers, helpers = rt->gemm_helpers;
    if (rc == SC_OK) rc = time_steps(m, &opt, &d.batch, seconds, &t, &host, &steps);
    if (rc == SC_OK) row->helpers = helpers_per_step(rt, helpers, steps);
    if (rc == SC_OK) rc = time_plan(m, &d, B, &plan);
    if (rc == SC_OK) {
        row->host_ms = 1e3 * host;
        row->plan_ms = plan < 0 ? -1 : 1e3 * plan;
        row->launches = (double)(rt->launches - launches) / (double)steps;
        row->transfers = (double)(rt->transfers - transfers) / (double)steps;
        row->train_ms = 1e3 * t;
        row->train_pairs = (double)B / t;
        row->train_gflops = gemm_flops(m, B, 1) / t * 1e-9;
        helpers = rt->gemm_helpers;
        rc = time_steps(m, NULL, &d.batch, seconds, &t, &host, &steps);
    }
    if (rc == SC_OK) {
        row->infer_helpers = helpers_per_step(rt, helpers, steps);
        row->infer_ms = 1e3 * t;
        row->infer_pairs = (double)B / t;
        row->infer_gflops = gemm_flops(m, B, 0) / t * 1e-9;
    }
    sc_model_optimizer_free(&opt);
    free_data(&d);
    sc_model_free(m);
    return rc;
}

static void print_table(const bench_row *rows, int n) {
    printf("%6s %10s %12s %10s %8s %8s %10s %12s %10s %9s %8s %7s\n", "batch", "train ms",
           "train pairs/s", "GFLOP/s", "host ms", "plan ms", "infer ms", "infer pairs/s", "GFLOP/s",
           "launches", "helpers", "copies");
    for (int i = 0; i < n; i++) {
        const bench_row *r = &rows[i];
        char plan[16] = "-", helpers[32] = "-";
        if (r->plan_ms >= 0) snprintf(plan, sizeof plan, "%.3f", r->plan_ms);
        if (r->helpers >= 0)
            snprintf(helpers, sizeof helpers, "%.0f/%.0f", r->helpers, r->infer_helpers);
        printf("%6zu %10.3f %12.0f %10.2f %8.3f %8s %10.3f %12.0f %10.2f %9.1f %8s %7.1f\n",
               r->batch, r->train_ms, r->train_pairs, r->train_gflops, r->host_ms, plan,
               r->infer_ms, r->infer_pairs, r->infer_gflops, r->launches, helpers, r->transfers);
    }
}

static void print_json(const bench_row *rows, int n) {
    printf("[");
    for (int i = 0; i < n; i++) {
        const bench_row *r = &rows[i];
        printf("%s\n  {\"batch\": %zu, \"train_ms_per_step\": %.4f, \"train_pairs_per_s\": %.1f, "
               "\"train_gflops\": %.3f, \"infer_ms_per_step\": %.4f, \"infer_pairs_per_s\": %.1f, "
               "\"infer_gflops\": %.3f, \"launches_per_step\": %.2f, \"copies_per_step\": %.2f, "
               "\"host_ms_per_step\": %.4f, \"plan_ms_per_step\": %.4f, "
               "\"helpers_per_step\": %.2f, \"infer_helpers_per_step\": %.2f}",
               i ? "," : "", r->batch, r->train_ms, r->train_pairs, r->train_gflops, r->infer_ms,
               r->infer_pairs, r->infer_gflops, r->launches, r->transfers, r->host_ms, r->plan_ms,
               r->helpers, r->infer_helpers);
    }
    printf("\n]\n");
}

/* --products: each product of a training step at batch B, timed alone. */
static int bench_products(sc_runtime *rt, const sc_job *job, size_t B, int json, int *first) {
    sc_gemm_shape s[SC_MAX_PRODUCTS];
    double seconds[SC_MAX_PRODUCTS];
    sc_gemm_bench b = {0};
    int n = sc_model_products(&job->model, B, 1, s);
    int rc = sc_gemm_bench_open(rt, s, n, &b);
    if (rc == SC_OK) rc = sc_gemm_bench_time_each(&b, seconds);
    sc_gemm_bench_close(&b);
    for (int i = 0; i < n && rc == SC_OK; i++) {
        double gflops = sc_gemm_flops(&s[i]) / seconds[i] * 1e-9;
        char name[64];
        sc_gemm_shape_name(&s[i], name, sizeof name);
        if (json)
            printf("%s\n  {\"batch\": %zu, \"m\": %zu, \"n\": %zu, \"k\": %zu, \"ta\": %d, "
                   "\"tb\": %d, \"ms\": %.5f, \"gflops\": %.3f}",
                   *first ? "" : ",", B, s[i].m, s[i].n, s[i].k, s[i].ta, s[i].tb, seconds[i] * 1e3,
                   gflops);
        else
            printf("%6zu  %-34s %10.4f %10.2f\n", B, name, seconds[i] * 1e3, gflops);
        *first = 0;
    }
    return rc;
}

/* --products: every batch size's products, as one table or JSON array. */
static int run_products(sc_runtime *rt, const sc_job *job, const int *sizes, int n, int json) {
    int rc = SC_OK, first = 1;
    printf(json ? "[" : "%6s  %-34s %10s %10s\n", "batch", "product (m x n x k)", "ms", "GFLOP/s");
    for (int i = 0; i < n && rc == SC_OK; i++)
        rc = bench_products(rt, job, (size_t)sizes[i], json, &first);
    if (rc == SC_OK && json) printf("\n]\n");
    return rc;
}

/* Whole training and inference steps at every batch size, as one table or JSON array. */
static int run_steps(sc_runtime *rt, const sc_job *job, const int *sizes, int n, double seconds,
                     int json) {
    bench_row rows[16];
    for (int i = 0; i < n; i++) SC_TRY(bench_one(rt, job, (size_t)sizes[i], seconds, &rows[i]));
    char what[256];
    sc_model_describe(&job->model, &job->train.loss, what, sizeof what);
    if (!json)
        printf("siamcl bench: %s, %s, on %s\n", what, sc_optim_names[job->train.optim.kind],
               rt->dev.name);
    json ? print_json(rows, n) : print_table(rows, n);
    return SC_OK;
}

int cmd_bench(int argc, char **argv) {
    const char *batches = NULL, *seconds_arg = NULL;
    int json = 0, products = 0;
    cmd_option options[] = {{"batch", 0, &batches, NULL},
                            {"seconds", 0, &seconds_arg, NULL},
                            {"products", 0, NULL, &products},
                            {"json", 0, NULL, &json},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "bench", cmd_bench_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 1)
        return sc_error(SC_EINPUT, "bench: expected one CONFIG (see --help)");
    sc_config *cfg;
    sc_job job;
    sc_runtime *rt = NULL;
    int sizes[16], n = 0;
    double seconds = 2;
    SC_TRY(cmd_load_config(&args, args.positional[0], &cfg));
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK && seconds_arg) {
        char *end;
        seconds = strtod(seconds_arg, &end);
        if (*end || !(seconds > 0 && seconds < 3600))
            rc = sc_error(SC_EINPUT, "bench: --seconds %s: expected a number of seconds",
                          seconds_arg);
    }
    if (rc == SC_OK && batches && !sc_parse_int_list(batches, 1, sizes, 16, &n))
        rc = sc_error(SC_EINPUT, "bench: --batch %s: expected sizes like 32,256,1024", batches);
    if (rc == SC_OK && !batches) {
        sizes[n++] = (int)job.train.batch_size;
    }
    if (rc == SC_OK) rc = cmd_open_runtime(&args, cfg, &rt);
    if (rc == SC_OK) rc = cmd_input_from_data(rt, &job);
    if (rc == SC_OK) cmd_tuning_hint(rt, args.positional[0]);
    if (rc == SC_OK)
        rc = products ? run_products(rt, &job, sizes, n, json)
                      : run_steps(rt, &job, sizes, n, seconds, json);
    sc_runtime_close(rt);
    sc_config_free(cfg);
    return rc;
}
