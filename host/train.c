#include "siamcl/train.h"
#include "atomic_file.h"
#include "json.h"
#include "progress.h"
#include "dist.h"
#include "epoch_prep.h"
#include "run_dir.h"
#include "train_ensemble.h"
#include "siamcl/checkpoint.h"
#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
#include "siamcl/run_state.h"
#include "siamcl/task.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

/* The first Ctrl-C finishes the step; a second one kills as usual. SIGTERM does the same: it
 * is how mpirun passes a Ctrl-C on to its ranks (SIGKILL follows a second later), and how
 * batch schedulers warn a job before its time runs out. */
static void catch_interrupt(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Mid-epoch saves of the run's state by default: at most this often (each epoch's end always). */
#define SAVE_SECONDS 300.0

typedef struct run {
    sc_runtime *rt;
    sc_config *cfg;
    sc_job *job;
    const sc_train_options *o;
    sc_task task;
    sc_model *model;
    sc_model_optimizer opt;
    sc_run_dir dir;
    float *best; /* host copy of the best parameters */
    sc_run_state st;
    float *grad; /* data parallelism: a step's gradient on the host, room + 1 floats */
    size_t room;
    int stop;         /* data parallelism: some rank was interrupted before this step's sum */
    int agreed;       /* the error to return is every rank's */
    long steps;       /* the steps this process has taken */
    char checked[32]; /* the checksum of the parameters at the last check_ranks */
    /* data parallelism, this epoch and this process's whole run: the steps, the seconds of
     * their gradient sums (the transfers and the allreduce), and of the allreduce alone */
    struct comm {
        size_t steps;
        double sum, reduce, floats; /* floats: of the gradients summed */
    } comm, comm_run;
    double saved_at;    /* when the state was last saved */
    double first_step;  /* seconds of the run's first step, when this process took it */
    sc_epoch_prep prep; /* the next epoch's pairs and plan, built while this one trains */
    char path[1100];    /* scratch for file names in the run directory */
} run;

static const char *in_dir(run *r, const char *file) {
    snprintf(r->path, sizeof r->path, "%s/%s", r->job->out_dir, file);
    return r->path;
}

/* Whether this process writes the run's files: rank 0 of a data-parallel run, or the only one. */
static int writer(const run *r) {
    return r->o->rank == 0;
}

/* Whether the run stops for a Ctrl-C: at once in one process; after the step whose gradient
 * sum told every rank of it in a data-parallel run. */
static int stopping(const run *r) {
    return r->o->ranks > 1 ? r->stop : interrupted;
}

static sc_dist dist_of(const run *r) {
    return (sc_dist){r->o->rank, r->o->ranks, 0, 1};
}

static int save_state(run *r) {
    r->saved_at = sc_now();
    if (!writer(r)) return SC_OK;
    return sc_run_state_save(in_dir(r, "last.safetensors"), r->model, &r->opt, r->job, &r->st);
}

/* The best weights so far into r->best, from model.safetensors. */
static int load_best(run *r) {
    sc_safetensors *st;
    const char *path = in_dir(r, "model.safetensors");
    SC_TRY(sc_safetensors_read(path, &st));
    int rc = sc_checkpoint_params(st, path, r->model);
    sc_safetensors_free(st);
    return rc == SC_OK ? sc_model_get_params(r->model, r->best) : rc;
}

/* A resumed run: its state from last.safetensors, the best weights from model.safetensors. */
static int resume(run *r) {
    struct stat sb;
    if (stat(in_dir(r, "last.safetensors"), &sb) != 0)
        return sc_error(SC_EINPUT,
                        "%s: no last.safetensors: the run saved no state to continue from "
                        "(train it afresh)",
                        r->job->out_dir);
    if (stat(in_dir(r, "model.safetensors"), &sb) == 0) SC_TRY(load_best(r));
    return sc_run_state_load(in_dir(r, "last.safetensors"), r->model, &r->opt, &r->st);
}

/* What a data-parallel run needs: no more ranks than a batch has pairs. */
static int data_parallel_setup(run *r) {
    const sc_job *job = r->job;
    if (job->train.batch_size < (size_t)r->o->ranks)
        return sc_error(SC_EINPUT, "[train] batch_size = %zu is smaller than the %d ranks",
                        job->train.batch_size, r->o->ranks);
    return SC_OK;
}

static int setup(run *r) {
    const sc_job *job = r->job;
    SC_TRY(sc_task_open(r->rt, r->job, NULL, &r->task));
    if (r->task.summary[0]) fprintf(r->o->log, "siamcl: %s\n", r->task.summary);
    SC_TRY(sc_model_create(r->rt, &job->model, &job->train.loss, sc_job_eval_batch(job),
                           job->train.seed + (uint64_t)job->train.member, &r->model));
    sc_model *m = r->model;
    SC_TRY(sc_model_optimizer_create(m, &job->train.optim, &r->opt));
    if (!(r->best = malloc(m->nparams * sizeof *r->best))) return sc_error(SC_ERR, "out of memory");
    if (r->o->ranks > 1) SC_TRY(data_parallel_setup(r));
    sc_epoch_prep_init(&r->prep, &r->task, m, job->train.batch_size, r->o->rank, r->o->ranks);
    if (writer(r)) SC_TRY(sc_run_dir_open(job->out_dir, &r->dir));
    r->st.best_loss = INFINITY;
    r->saved_at = sc_now();
    if (r->o->resume) SC_TRY(resume(r));
    if (!writer(r)) return SC_OK;
    SC_TRY(sc_run_dir_write_config(job->out_dir, r->cfg));
    return r->task.kind->write_files(&r->task, job->out_dir);
}

/* The run's first step launches every training kernel for the first time, and the OpenCL
 * driver compiles each then (PoCL: about 8 s with an empty cache, which it keeps for later
 * runs). Epoch 1's clock starts after that step, and a long one is said. */
static int first_step_done(run *r, sc_progress *p, size_t pairs) {
    SC_TRY(sc_finish(r->rt));
    double seconds = sc_now() - p->start;
    r->first_step = seconds;
    sc_progress_restart(p, 1, pairs);
    if (seconds >= 2)
        fprintf(r->o->log,
                "siamcl: the first step took %.1f s: kernels compile on their first use (PoCL "
                "caches them for later runs); epoch 1's time leaves that step out\n",
                seconds);
    return SC_OK;
}

/* A non-finite loss: the run stops at once, its saved state and best weights as they were. */
static int diverged(run *r, int epoch, long step) {
    char best[1200] = "no epoch finished, so no weights were saved";
    if (r->st.best_epoch)
        snprintf(best, sizeof best, "the best weights (epoch %d) are in %s/model.safetensors",
                 r->st.best_epoch, r->job->out_dir);
    char where[96];
    if (step > 0)
        snprintf(where, sizeof where, "the loss is not finite at epoch %d, step %ld", epoch, step);
    else
        snprintf(where, sizeof where, "the validation loss is not finite after epoch %d", epoch);
    return sc_error(SC_DIVERGED,
                    "training diverged: %s; try a lower [train] lr (now %g) or [train] "
                    "clip_norm; %s",
                    where, r->job->train.optim.lr, best);
}

/* An epoch on the device: its training pairs and, for a sparse first layer, its plan. */
typedef struct epoch_data {
    sc_pairs_dev pairs;
    sc_sparse_plan_dev plan;
    size_t steps;
} epoch_data;

/* Epoch e's pairs and plan on the device; the next epoch's start on the host meanwhile. */
static int epoch_begin(run *r, int e, epoch_data *ep) {
    sc_pairs pairs;
    sc_sparse_plan plan;
    memset(ep, 0, sizeof *ep);
    SC_TRY(sc_epoch_prep_take(&r->prep, e, &pairs, &plan));
    if (e < r->job->train.epochs) sc_epoch_prep_start(&r->prep, e + 1);
    int rc = sc_pairs_upload(r->rt, &pairs, &ep->pairs);
    if (rc == SC_OK) rc = sc_model_plan_upload(r->model, &plan, &ep->plan);
    sc_pairs_free(&pairs);
    sc_sparse_plan_free(&plan);
    size_t batch = r->job->train.batch_size;
    ep->steps = (ep->pairs.n + batch - 1) / batch;
    return rc;
}

static void epoch_end(epoch_data *ep) {
    sc_pairs_dev_free(&ep->pairs);
    sc_sparse_plan_dev_free(&ep->plan);
}

/* Room for n floats of gradient, and one more, on the host. */
static int gradient_room(run *r, size_t n) {
    if (n <= r->room) return SC_OK;
    float *g = realloc(r->grad, (n + 1) * sizeof *g);
    if (!g) return sc_error(SC_ERR, "out of memory");
    r->grad = g;
    r->room = n;
    return SC_OK;
}

/* The parts of a step's gradient that the ranks sum: every parameter's but a text model's
 * table, of whose rows the compact gradient holds the step's (the plan's, the same on every
 * rank). The table's own part of the gradient buffer stays unused. */
static void gradient_parts(const run *r, const sc_batch *b, sc_view part[2], size_t n[2]) {
    const sc_model *m = r->model;
    part[0] = sc_view_at(sc_model_grads(m), m->table);
    n[0] = m->nparams - m->table;
    part[1] = (sc_view){m->sparse_grad, 0};
    n[1] = m->cfg.sparse_input
               ? (b->plan->feat_off[b->step + 1] - b->plan->feat_off[b->step]) * m->sparse.out
               : 0;
}

/* The context of gather_rows: the run, and the pairs of the whole batch. */
typedef struct gather_ctx {
    run *r;
    size_t pairs;
} gather_ctx;

/* sc_gather_rows for the ranks of a run: rank k's 2 count_k rows come as one block from each,
 * in rank order, and are laid out as the whole batch's left rows, then its right ones. */
static int gather_rows(void *vctx, const float *mine, size_t rows, float *whole, size_t width) {
    const gather_ctx *g = vctx;
    sc_dist d = dist_of(g->r);
    size_t *n = malloc((size_t)d.size * sizeof *n), first, count;
    float *blocks = malloc((2 * g->pairs * width + 1) * sizeof *blocks);
    int rc = n && blocks ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (int k = 0; rc == SC_OK && k < d.size; k++) {
        sc_pairs_share(g->pairs, k, d.size, &first, &count);
        n[k] = 2 * count * width;
        if (k == d.rank) memcpy(blocks + 2 * first * width, mine, rows * width * sizeof *mine);
    }
    if (rc == SC_OK) rc = sc_dist_gather(&d, blocks, n);
    for (int k = 0; rc == SC_OK && k < d.size; k++) {
        sc_pairs_share(g->pairs, k, d.size, &first, &count);
        const float *left = blocks + 2 * first * width, *right = left + count * width;
        memcpy(whole + first * width, left, count * width * sizeof *left);
        memcpy(whole + (g->pairs + first) * width, right, count * width * sizeof *right);
    }
    free(n);
    free(blocks);
    return rc;
}

/* A data-parallel pass: this rank's share of the batch's pairs, its gradient (a mean over
 * its pairs) weighted by its share, and the sum over the ranks in every rank's gradient:
 * the gradient of the whole batch's mean loss, as one process computes it. Under a
 * batch-wise loss the ranks gather their embeddings and each computes the whole batch's loss
 * (sc_model_train_pass_gathered). A Ctrl-C rides along in the sum, so that every rank stops
 * after the same step. */
static int shared_pass(run *r, const sc_batch *whole) {
    sc_dist d = dist_of(r);
    sc_model *m = r->model;
    size_t first, count, n[2];
    sc_dist_share(&d, whole->n, &first, &count);
    sc_batch b = *whole;
    b.first += first;
    b.n = count;
    b.share_at = first;
    b.share_of = whole->n;
    sc_view part[2];
    gradient_parts(r, whole, part, n);
    SC_TRY(gradient_room(r, n[0] + n[1]));
    int batchwise = sc_loss_is_batchwise(m->loss.kind);
    gather_ctx g = {r, whole->n};
    if (batchwise)
        SC_TRY(sc_model_train_pass_gathered(m, &b, whole, gather_rows, &g));
    else if (count)
        SC_TRY(sc_model_train_pass(m, &b));
    for (int k = 0; k < 2 && !count; k++) /* no pairs here: a zero gradient */
        if (n[k]) SC_TRY(sc_fill(r->rt, part[k], 0.0f, n[k]));
    SC_TRY(sc_finish(r->rt)); /* the clock of the sum starts when the pass has ended */
    double start = sc_now();
    SC_TRY(sc_download(r->rt, r->grad, part[0], n[0]));
    if (n[1]) SC_TRY(sc_download(r->rt, r->grad + n[0], part[1], n[1]));
    size_t total = n[0] + n[1];
    if (batchwise) { /* the tower's share as it is, the head's from rank 0 alone */
        for (size_t i = sc_model_tower_params(m) - m->table; r->o->rank && i < n[0]; i++)
            r->grad[i] = 0.0f;
    } else { /* a mean over this rank's pairs, weighted by their share of the batch */
        float share = (float)((double)count / (double)whole->n);
        for (size_t i = 0; i < total; i++) r->grad[i] *= share;
    }
    r->grad[total] = interrupted;
    double reduce = sc_now();
    SC_TRY(sc_dist_sum_floats(&d, r->grad, total + 1));
    r->comm.reduce += sc_now() - reduce;
    r->stop = r->grad[total] > 0;
    SC_TRY(sc_upload(r->rt, part[0], r->grad, n[0]));
    if (n[1]) SC_TRY(sc_upload(r->rt, part[1], r->grad + n[0], n[1]));
    r->comm.sum += sc_now() - start;
    r->comm.floats += (double)total;
    r->comm.steps++;
    return SC_OK;
}

/* A 64-bit FNV-1a hash of n floats' bytes. */
static uint64_t checksum(const float *x, size_t n) {
    const unsigned char *b = (const unsigned char *)x;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n * sizeof *x; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Whether every rank holds rank 0's parameters, bit for bit, after step `step` of epoch e: a
 * data-parallel run trains one model only while they do. */
static int check_ranks(run *r, int e, size_t step) {
    sc_model *m = r->model;
    float *p = malloc(m->nparams * sizeof *p);
    if (!p) return sc_error(SC_ERR, "out of memory");
    int rc = sc_model_get_params(m, p), other = -1;
    char text[32];
    snprintf(text, sizeof text, "%016llx", (unsigned long long)checksum(p, m->nparams));
    free(p);
    sc_dist d = dist_of(r);
    if (rc == SC_OK) rc = sc_dist_differs(&d, text, &other);
    if (rc != SC_OK) return rc;
    if (other < 0) {
        snprintf(r->checked, sizeof r->checked, "%s", text);
        return SC_OK;
    }
    char when[64];
    snprintf(when, sizeof when, step ? "after epoch %d, step %zu" : "at the end of epoch %d", e,
             step);
    r->agreed = 1; /* every rank knows it */
    return sc_error(SC_ERR,
                    "rank %d's parameters differ from rank 0's %s: the ranks no longer train one "
                    "model (a bug in siamcl or the device)",
                    other, when);
}

/* Step s of epoch e: its batch, a training pass over it and the update. */
static int train_step(run *r, int e, const epoch_data *ep, size_t s, size_t *pairs) {
    size_t B = r->job->train.batch_size, first = s * B, n = ep->pairs.n - first;
    if (n > B) n = B;
    uint64_t tick = (uint64_t)e << 32 | s;
    sc_batch b = {r->task.train, &ep->pairs, first, n, &ep->plan, s, tick, 0, 0};
    *pairs = n;
    SC_TRY(r->o->ranks > 1 ? shared_pass(r, &b) : sc_model_train_pass(r->model, &b));
    SC_TRY(sc_model_optimizer_step(r->model, &r->opt, &b));
    r->steps++;
    long every = r->o->check_every;
    return r->o->ranks > 1 && every > 0 && r->steps % every == 0 ? check_ranks(r, e, s + 1) : SC_OK;
}

/* The running loss over every rank's pairs. */
static int read_loss(run *r, sc_loss_total *total) {
    if (r->o->ranks == 1) return sc_model_loss_read(r->model, total);
    float acc[SC_LOSS_ACC];
    SC_TRY(sc_model_loss_get(r->model, acc));
    sc_dist d = dist_of(r);
    /* a batch-wise loss: every rank computed the whole batch's; rank 0's counts */
    if (sc_loss_is_batchwise(r->model->loss.kind) && r->o->rank) memset(acc, 0, sizeof acc);
    double v[2] = {acc[0], acc[3]}, bad = acc[4] > 0 ? acc[4] : INFINITY;
    SC_TRY(sc_dist_sum(&d, v, 2));
    SC_TRY(sc_dist_min(&d, &bad, 1)); /* the first batch that was not finite on any rank */
    total->mean = v[1] > 0 ? v[0] / v[1] : 0.0;
    total->last = acc[2];
    total->bad_batch = isfinite(bad) ? (long)bad : 0;
    return SC_OK;
}

/* Whether the state is due for a save after `steps` steps of an epoch (its end saves anyway). */
static int save_due(const run *r, size_t steps) {
    long every = r->job->train.checkpoint_every;
    return every ? steps % (size_t)every == 0 : sc_now() - r->saved_at >= SAVE_SECONDS;
}

/* The work of the steps between two reads of the loss: a read every 8 steps also keeps the
 * queue short (a backlog of thousands of commands slows PoCL down twofold). The ranks of a
 * data-parallel run judge the loss together, every 8 steps; the progress line's is rank 0's
 * own, when due. */
static int after_step(run *r, int e, size_t s, size_t steps, sc_progress *p, size_t done,
                      sc_loss_total *total) {
    int due = sc_progress_due(p), together = s % 8 == 7;
    if (together)
        SC_TRY(read_loss(r, total));
    else if (due)
        SC_TRY(sc_model_loss_read(r->model, total));
    if ((together || (due && r->o->ranks == 1)) && total->bad_batch)
        return diverged(r, e, total->bad_batch);
    if (due) sc_progress_draw(p, s + 1, total->mean, done);
    r->st.step = (long)s + 1;
    return s + 1 < steps && save_due(r, s + 1) ? save_state(r) : SC_OK;
}

/* Steps first .. of epoch e; *total is the epoch's training loss, *seconds and *pairs_timed
 * what the epoch's rate counts (a fresh run's first step and a resumed epoch's earlier steps
 * are left out). */
static int train_epoch(run *r, int e, size_t first, sc_loss_total *total, double *seconds,
                       size_t *pairs_timed) {
    epoch_data ep;
    int rc = epoch_begin(r, e, &ep);
    sc_progress p;
    size_t B = r->job->train.batch_size, done = first * B, n;
    sc_progress_begin(&p, r->o->log, e, r->job->train.epochs, ep.steps);
    if (first) sc_progress_restart(&p, first, done);
    if (rc == SC_OK && !first) rc = sc_model_loss_reset(r->model);
    memset(total, 0, sizeof *total);
    memset(&r->comm, 0, sizeof r->comm);
    for (size_t s = first; s < ep.steps && rc == SC_OK && !stopping(r); s++) {
        rc = train_step(r, e, &ep, s, &n);
        done += n;
        if (rc == SC_OK && e == 1 && s == 0 && ep.steps > 1) rc = first_step_done(r, &p, n);
        if (rc == SC_OK) rc = after_step(r, e, s, ep.steps, &p, done, total);
    }
    if (rc == SC_OK) rc = read_loss(r, total);
    if (rc == SC_OK && total->bad_batch) rc = diverged(r, e, total->bad_batch);
    *seconds = sc_progress_end(&p);
    r->comm_run.steps += r->comm.steps;
    r->comm_run.sum += r->comm.sum;
    r->comm_run.reduce += r->comm.reduce;
    r->comm_run.floats += r->comm.floats;
    *pairs_timed = done - p.skipped_pairs;
    epoch_end(&ep);
    return rc;
}

static int write_history_row(FILE *f, int epoch, double train_loss, double val_loss,
                             const float *scores, const sc_pairs *val, double quality,
                             double seconds, double rate) {
    fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.2f,%.0f\n", epoch, train_loss, val_loss,
            sc_metric_mse(scores, val->target, val->n), sc_metric_mae(scores, val->target, val->n),
            quality, seconds, rate);
    fflush(f);
    return ferror(f) ? sc_error(SC_ERR, "writing history.csv failed") : SC_OK;
}

/* The validation pairs' scores and mean loss. The ranks of a data-parallel run score a share
 * each and gather the scores: every rank then judges the epoch alike (the best epoch, the
 * early stop) without waiting for another's verdict. */
static int score_val(run *r, float *scores, double *loss) {
    const sc_pair_set *val = &r->task.val;
    /* a batch-wise loss depends on the batches' makeup: every rank scores all, as one does */
    if (r->o->ranks == 1 || sc_loss_is_batchwise(r->model->loss.kind))
        return sc_score_pairs(r->model, val->in, &val->dev, scores, loss);
    sc_dist d = dist_of(r);
    size_t first, *n = malloc((size_t)d.size * sizeof *n);
    if (!n) return sc_error(SC_ERR, "out of memory");
    for (int k = 0; k < d.size; k++) sc_pairs_share(val->dev.n, k, d.size, &first, &n[k]);
    sc_dist_share(&d, val->dev.n, &first, &n[d.rank]);
    float acc[SC_LOSS_ACC];
    int rc =
        sc_score_pair_range(r->model, val->in, &val->dev, first, n[d.rank], scores + first, acc);
    if (rc == SC_OK) rc = sc_dist_gather(&d, scores, n);
    free(n);
    SC_TRY(rc);
    double v[2] = {acc[0], acc[3]};
    SC_TRY(sc_dist_sum(&d, v, 2));
    *loss = v[1] > 0 ? v[0] / v[1] : 0.0;
    return SC_OK;
}

/* Saves the weights of a new best epoch. */
static int keep_best(run *r, int epoch, double val_loss, double quality) {
    r->st.best_epoch = epoch;
    r->st.best_loss = val_loss;
    r->st.best_quality = quality;
    SC_TRY(sc_model_get_params(r->model, r->best));
    if (!writer(r)) return SC_OK;
    return sc_checkpoint_save(r->model, r->job, in_dir(r, "model.safetensors"));
}

/* Epoch e's validation, history row, best weights, and the early stop; the state saved. */
static int end_epoch(run *r, FILE *history, int e, double loss, double seconds, size_t done,
                     float *scores) {
    const sc_train_config *t = &r->job->train;
    const sc_pair_set *val = &r->task.val;
    double val_loss;
    SC_TRY(score_val(r, scores, &val_loss));
    if (!isfinite(val_loss)) return diverged(r, e, 0);
    double rate = (double)done / seconds, quality = sc_task_quality(&r->task, scores);
    SC_TRY(
        write_history_row(history, e, loss, val_loss, scores, &val->pairs, quality, seconds, rate));
    /* the first epoch is the best so far even when its figure is NaN (a constant's Spearman) */
    int improved =
        !r->st.best_epoch || (t->monitor_quality ? quality > r->st.best_quality + t->min_delta
                                                 : val_loss < r->st.best_loss - t->min_delta);
    if (improved) SC_TRY(keep_best(r, e, val_loss, quality));
    r->st.waited = improved ? 0 : r->st.waited + 1;
    r->st.epochs_done = e;
    r->st.step = 0;
    r->st.seconds += seconds;
    r->st.pairs += (double)done;
    r->st.stopped = t->patience && r->st.waited >= t->patience;
    char comm[96] = "";
    if (r->comm.steps)
        snprintf(comm, sizeof comm, ", gradient sum %.2f ms a step (allreduce %.2f)",
                 1e3 * r->comm.sum / (double)r->comm.steps,
                 1e3 * r->comm.reduce / (double)r->comm.steps);
    fprintf(r->o->log,
            "epoch %d/%d: train loss %.4f, val loss %.4f, val %s %.4f, %.1f s, %.0f pairs/s%s%s\n",
            e, t->epochs, loss, val_loss, r->task.quality_name, quality, seconds, rate, comm,
            improved ? " (best)" : "");
    if (r->st.stopped)
        fprintf(r->o->log,
                "siamcl: no improvement of the validation %s by %g in %d epochs: stopping; the "
                "best was epoch %d\n",
                t->monitor_quality ? r->task.quality_name : "loss", t->min_delta, t->patience,
                r->st.best_epoch);
    return save_state(r);
}

static int epochs(run *r, FILE *history) {
    const sc_train_config *t = &r->job->train;
    size_t nv = r->task.val.pairs.n;
    float *scores = malloc((nv ? nv : 1) * sizeof *scores);
    int rc = scores ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (int e = r->st.epochs_done + 1; e <= t->epochs && rc == SC_OK && !r->st.stopped; e++) {
        sc_loss_total total;
        double seconds;
        size_t done;
        rc = train_epoch(r, e, (size_t)r->st.step, &total, &seconds, &done);
        if (rc != SC_OK || stopping(r)) break;
        rc = end_epoch(r, history, e, total.mean, seconds, done, scores);
    }
    free(scores);
    return rc;
}

/* metrics.json: the run, and the rows of the test report. */
static int write_metrics(run *r, const sc_report *rep) {
    if (!writer(r)) return SC_OK;
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(in_dir(r, "metrics.json"), &f));
    fputs("{\n  \"device\": ", f.file);
    sc_json_write_string(f.file, r->rt->dev.name);
    fputs(",\n  \"config\": ", f.file);
    sc_json_write_string(f.file, sc_config_path(r->cfg) ? sc_config_path(r->cfg) : "");
    fprintf(f.file,
            ",\n  \"epochs\": %d,\n  \"best_epoch\": %d,\n  \"seconds_per_epoch\": %.3f,\n"
            "  \"train_pairs_per_s\": %.1f,\n",
            r->st.epochs_done, r->st.best_epoch, r->st.seconds / r->st.epochs_done,
            r->st.pairs / r->st.seconds);
    if (r->first_step > 0) fprintf(f.file, "  \"first_step_seconds\": %.3f,\n", r->first_step);
    const struct comm *c = &r->comm_run;
    if (r->o->ranks > 1 && c->steps)
        fprintf(f.file,
                "  \"ranks\": %d,\n  \"gradient_floats_per_step\": %.0f,\n"
                "  \"gradient_sum_ms_per_step\": %.4f,\n  \"allreduce_ms_per_step\": %.4f,\n",
                r->o->ranks, c->floats / (double)c->steps, 1e3 * c->sum / (double)c->steps,
                1e3 * c->reduce / (double)c->steps);
    fputs("  \"rows\": ", f.file);
    sc_report_write_rows(f.file, rep);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

/* Ctrl-C: the best weights are already saved; the run's state goes beside them. */
static int stop_interrupted(run *r) {
    SC_TRY(save_state(r));
    fprintf(r->o->log, "siamcl: interrupted; the run's state is saved to %s", r->path);
    if (r->st.best_epoch)
        fprintf(r->o->log, ", the best weights (epoch %d) are in %s/model.safetensors",
                r->st.best_epoch, r->job->out_dir);
    fprintf(r->o->log, "; `siamcl train --resume %s` continues it\n", r->job->out_dir);
    return SC_INTERRUPTED;
}

/* A warning when the best epoch judged the validation pairs no better than a constant. */
static void warn_if_constant(run *r) {
    size_t n = r->task.val.pairs.n;
    float *same = calloc(n ? n : 1, sizeof *same);
    if (!same) return;
    double base = sc_task_quality(&r->task, same);
    free(same);
    if (isnan(base)) base = 0; /* a correlation of a constant: nothing to beat but zero */
    if (r->st.best_quality > base) return;
    fprintf(r->o->log,
            "siamcl: warning: the best validation %s (%.4f, epoch %d) is no better than a "
            "constant predictor's (%.4f): the model learned nothing; try a lower [train] lr or "
            "another [model] head\n",
            r->task.quality_name, r->st.best_quality, r->st.best_epoch, base);
}

/* The best weights on the test pairs, when the task has any. */
static int finish(run *r, sc_train_result *out) {
    if (!r->st.best_epoch) return sc_error(SC_ERR, "no epoch finished");
    if (r->o->ranks > 1) {
        SC_TRY(check_ranks(r, r->st.epochs_done, 0));
        fprintf(r->o->log, "siamcl: the %d ranks end with identical parameters (checksum %s)\n",
                r->o->ranks, r->checked);
    }
    warn_if_constant(r);
    SC_TRY(sc_model_set_params(r->model, r->best));
    /* the test on rank 0 alone: it runs once, and its report needs every test row */
    if (!r->task.test.pairs.n || !writer(r)) return SC_OK;
    fprintf(r->o->log, "siamcl: evaluating the best weights (epoch %d) on the test pairs\n",
            r->st.best_epoch);
    sc_ensemble one = {&r->model, 1};
    SC_TRY(r->task.kind->report(&r->task, &one, &out->report));
    out->tested = 1;
    return write_metrics(r, &out->report);
}

/* history.csv grows row by row, so that it can be plotted while training runs; a resumed run
 * keeps the rows of the epochs its state holds. */
static int open_history(run *r, FILE **history) {
    if (!writer(r)) /* the other ranks' rows go nowhere */
        return (*history = fopen("/dev/null", "w")) ? SC_OK : sc_error(SC_ERR, "no /dev/null");
    if (r->o->resume)
        return sc_history_reopen(in_dir(r, "history.csv"), r->st.epochs_done, history);
    if (!(*history = fopen(in_dir(r, "history.csv"), "w")))
        return sc_error(SC_EINPUT, "cannot write %s: %s", r->path, strerror(errno));
    char quality[32];
    size_t i = 0;
    for (; r->task.quality_name[i] && i + 1 < sizeof quality; i++)
        quality[i] = (char)tolower((unsigned char)r->task.quality_name[i]);
    quality[i] = '\0';
    fprintf(*history, "epoch,train_loss,val_loss,val_mse,val_mae,val_%s,seconds,pairs_per_s\n",
            quality);
    /* a run killed before its first epoch's row still leaves the header for its resume */
    return fflush(*history) == 0 ? SC_OK : sc_error(SC_ERR, "writing %s failed", r->path);
}

static int train_with_history(run *r) {
    FILE *history;
    SC_TRY(open_history(r, &history));
    char what[256];
    sc_model_describe(&r->job->model, &r->job->train.loss, what, sizeof what);
    if (r->o->resume)
        fprintf(r->o->log, "siamcl: resuming at epoch %d, step %ld\n", r->st.epochs_done + 1,
                r->st.step);
    fprintf(r->o->log,
            "siamcl: training %s: %zu parameters, %zu pairs per epoch, %zu for validation; run "
            "directory %s\n",
            what, r->model->nparams, r->task.epoch_size, r->task.val.pairs.n, r->job->out_dir);
    int rc = epochs(r, history);
    if (fclose(history) != 0 && rc == SC_OK)
        rc = sc_error(SC_ERR, "writing %s/history.csv failed", r->job->out_dir);
    return rc;
}

/* A resumed run that has nothing left to do. */
static int finished(const run *r) {
    return r->st.stopped || r->st.epochs_done >= r->job->train.epochs;
}

int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job, const sc_train_options *o,
             sc_train_result *out) {
    if (job->train.ensemble > 1) return sc_train_ensemble(rt, cfg, job, o, out);
    run r = {.rt = rt, .cfg = cfg, .job = job, .o = o, .dir = {-1}};
    memset(out, 0, sizeof *out);
    interrupted = 0;
    catch_interrupt();
    sc_dist d = dist_of(&r);
    int rc = sc_dist_agree(&d, setup(&r)); /* bad data on one rank stops them all */
    r.agreed = rc != SC_OK;
    if (rc == SC_OK && o->resume && finished(&r)) {
        out->finished = 1;
    } else {
        if (rc == SC_OK) rc = train_with_history(&r);
        if (rc == SC_OK) rc = stopping(&r) ? stop_interrupted(&r) : finish(&r, out);
    }
    out->agreed = rc != SC_OK && (r.agreed || rc == SC_DIVERGED || rc == SC_INTERRUPTED);
    out->epochs = r.st.epochs_done;
    out->best_epoch = r.st.best_epoch;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sc_epoch_prep_close(&r.prep);
    free(r.best);
    free(r.grad);
    sc_model_optimizer_free(&r.opt);
    sc_model_free(r.model);
    sc_task_close(&r.task);
    sc_run_dir_close(&r.dir);
    return rc;
}
