#include "siamcl/train.h"
#include "atomic_file.h"
#include "json.h"
#include "progress.h"
#include "siamcl/checkpoint.h"
#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
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

/* The first Ctrl-C finishes the step; a second one kills as usual. */
static void catch_interrupt(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

int sc_make_dirs(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return sc_error(SC_EINPUT, "cannot create %s: %s", path, strerror(errno));
        if (!c) return SC_OK;
        *p = c;
    }
}

typedef struct run {
    sc_runtime *rt;
    sc_config *cfg;
    sc_job *job;
    FILE *log;
    sc_task task;
    sc_model *model;
    sc_model_optimizer opt;
    float *best; /* host copy of the best parameters */
    int best_epoch;
    double best_loss;
    double seconds, pairs; /* training time and pairs, all epochs */
    int epochs;
    char path[1100]; /* scratch for file names in the run directory */
} run;

static const char *in_dir(run *r, const char *file) {
    snprintf(r->path, sizeof r->path, "%s/%s", r->job->out_dir, file);
    return r->path;
}

static int write_config(run *r) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(in_dir(r, "config.ini"), &f));
    int rc = sc_config_write(r->cfg, f.file);
    if (rc != SC_OK) {
        sc_atomic_abort(&f);
        return rc;
    }
    return sc_atomic_commit(&f);
}

static int setup(run *r) {
    const sc_job *job = r->job;
    SC_TRY(sc_task_open(r->rt, r->job, NULL, &r->task));
    if (r->task.summary[0]) fprintf(r->log, "siamcl: %s\n", r->task.summary);
    SC_TRY(sc_model_create(r->rt, &job->model, &job->train.loss, sc_job_eval_batch(job),
                           job->train.seed, &r->model));
    sc_model *m = r->model;
    SC_TRY(sc_model_optimizer_create(m, &job->train.optim, &r->opt));
    if (!(r->best = malloc(m->nparams * sizeof *r->best))) return sc_error(SC_ERR, "out of memory");
    SC_TRY(sc_make_dirs(job->out_dir));
    SC_TRY(write_config(r));
    return r->task.kind->write_files(&r->task, job->out_dir);
}

/* The run's first step launches every training kernel for the first time, and the OpenCL
 * driver compiles each then (PoCL: about 40 s with an empty cache, which it keeps for later
 * runs). Epoch 1's clock starts after that step, and a long one is said. */
static int first_step_done(run *r, sc_progress *p, size_t pairs) {
    SC_TRY(sc_finish(r->rt));
    double seconds = sc_now() - p->start;
    sc_progress_restart(p, 1, pairs);
    if (seconds >= 2)
        fprintf(r->log,
                "siamcl: the first step took %.1f s: kernels compile on their first use (PoCL "
                "caches them for later runs); epoch 1's time leaves that step out\n",
                seconds);
    return SC_OK;
}

/* An epoch on the device: its training pairs and, for a sparse first layer, its plan. */
typedef struct epoch_data {
    sc_pairs_dev pairs;
    sc_sparse_plan_dev plan;
    size_t steps;
} epoch_data;

static int epoch_begin(run *r, int e, epoch_data *ep) {
    sc_pairs pairs;
    memset(ep, 0, sizeof *ep);
    SC_TRY(r->task.kind->epoch_pairs(&r->task, e, &pairs));
    int rc = sc_pairs_upload(r->rt, &pairs, &ep->pairs);
    size_t batch = r->job->train.batch_size;
    if (rc == SC_OK) rc = sc_model_plan(r->model, r->task.train, &pairs, batch, &ep->plan);
    sc_pairs_free(&pairs);
    ep->steps = (ep->pairs.n + batch - 1) / batch;
    return rc;
}

static void epoch_end(epoch_data *ep) {
    sc_pairs_dev_free(&ep->pairs);
    sc_sparse_plan_dev_free(&ep->plan);
}

/* Step s of the epoch: its batch, a training pass over it and the update. */
static int train_step(run *r, const epoch_data *ep, size_t s, size_t *pairs) {
    size_t B = r->job->train.batch_size, first = s * B, n = ep->pairs.n - first;
    if (n > B) n = B;
    sc_batch b = {r->task.train, &ep->pairs, first, n, &ep->plan, s};
    *pairs = n;
    SC_TRY(sc_model_train_pass(r->model, &b));
    return sc_model_optimizer_step(r->model, &r->opt, &b);
}

/* One pass over the epoch's pairs; *loss is their mean training loss, *seconds and
 * *pairs_timed what the epoch's rate counts (epoch 1 leaves its first step out). */
static int train_epoch(run *r, int e, double *loss, double *seconds, size_t *pairs_timed) {
    sc_model *m = r->model;
    epoch_data ep;
    int rc = epoch_begin(r, e, &ep);
    sc_progress p;
    sc_progress_begin(&p, r->log, e, r->job->train.epochs, ep.steps);
    if (rc == SC_OK) rc = sc_model_loss_reset(m);
    double last;
    size_t done = 0, n;
    for (size_t s = 0; s < ep.steps && rc == SC_OK && !interrupted; s++) {
        rc = train_step(r, &ep, s, &n);
        done += n;
        if (rc == SC_OK && e == 1 && s == 0 && ep.steps > 1) rc = first_step_done(r, &p, n);
        /* keep the queue short: a backlog of thousands of commands slows PoCL down twofold */
        if (rc == SC_OK && s % 8 == 7) rc = sc_finish(r->rt);
        if (rc == SC_OK && sc_progress_due(&p) &&
            (rc = sc_model_loss_read(m, loss, &last)) == SC_OK)
            sc_progress_draw(&p, s + 1, *loss, done);
    }
    if (rc == SC_OK) rc = sc_model_loss_read(m, loss, &last);
    if (rc == SC_OK) rc = sc_finish(r->rt);
    *seconds = sc_progress_end(&p);
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

/* Saves the weights of a new best epoch. */
static int keep_best(run *r, int epoch, double val_loss) {
    r->best_epoch = epoch;
    r->best_loss = val_loss;
    SC_TRY(sc_model_get_params(r->model, r->best));
    return sc_checkpoint_save(r->model, r->job, in_dir(r, "model.safetensors"));
}

static int epochs(run *r, FILE *history) {
    const sc_train_config *t = &r->job->train;
    const sc_pair_set *val = &r->task.val;
    float *scores = malloc((val->pairs.n ? val->pairs.n : 1) * sizeof *scores);
    int rc = scores ? SC_OK : sc_error(SC_ERR, "out of memory"), waited = 0;
    r->best_loss = INFINITY;
    for (int e = 1; e <= t->epochs && rc == SC_OK && !interrupted; e++) {
        double loss, val_loss, seconds;
        size_t done;
        rc = train_epoch(r, e, &loss, &seconds, &done);
        if (rc != SC_OK || interrupted) break;
        r->epochs = e;
        r->seconds += seconds;
        r->pairs += (double)done;
        rc = sc_score_pairs(r->model, val->in, &val->dev, scores, &val_loss);
        double rate = (double)done / seconds, quality = sc_task_quality(&r->task, scores);
        if (rc == SC_OK)
            rc = write_history_row(history, e, loss, val_loss, scores, &val->pairs, quality,
                                   seconds, rate);
        int improved = val_loss < r->best_loss - t->min_delta;
        if (rc == SC_OK && improved) rc = keep_best(r, e, val_loss);
        waited = improved ? 0 : waited + 1;
        fprintf(r->log,
                "epoch %d/%d: train loss %.4f, val loss %.4f, val %s %.4f, %.1f s, %.0f "
                "pairs/s%s\n",
                e, t->epochs, loss, val_loss, r->task.quality_name, quality, seconds, rate,
                improved ? " (best)" : "");
        if (t->patience && waited >= t->patience) {
            fprintf(r->log,
                    "siamcl: no improvement of the validation loss by %g in %d epochs: "
                    "stopping; the best was epoch %d\n",
                    t->min_delta, t->patience, r->best_epoch);
            break;
        }
    }
    free(scores);
    return rc;
}

/* metrics.json: the run, and the rows of the test report. */
static int write_metrics(run *r, const sc_report *rep) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(in_dir(r, "metrics.json"), &f));
    fputs("{\n  \"device\": ", f.file);
    sc_json_write_string(f.file, r->rt->dev.name);
    fputs(",\n  \"config\": ", f.file);
    sc_json_write_string(f.file, sc_config_path(r->cfg) ? sc_config_path(r->cfg) : "");
    fprintf(f.file,
            ",\n  \"epochs\": %d,\n  \"best_epoch\": %d,\n  \"seconds_per_epoch\": %.3f,\n"
            "  \"train_pairs_per_s\": %.1f,\n  \"rows\": ",
            r->epochs, r->best_epoch, r->seconds / r->epochs, r->pairs / r->seconds);
    sc_report_write_rows(f.file, rep);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

/* Ctrl-C: the best weights are already saved; the current ones go beside them. */
static int stop_interrupted(run *r) {
    const char *last = in_dir(r, "last.safetensors");
    int rc = sc_checkpoint_save(r->model, r->job, last);
    if (rc != SC_OK) return rc;
    fprintf(r->log, "siamcl: interrupted; current weights saved to %s", last);
    if (r->best_epoch)
        fprintf(r->log, ", best (epoch %d) in %s/model.safetensors", r->best_epoch,
                r->job->out_dir);
    fputc('\n', r->log);
    return SC_INTERRUPTED;
}

/* The best weights on the test pairs, when the task has any. */
static int finish(run *r, sc_train_result *out) {
    if (!r->best_epoch) return sc_error(SC_ERR, "no epoch finished");
    SC_TRY(sc_model_set_params(r->model, r->best));
    if (!r->task.test.pairs.n) return SC_OK;
    fprintf(r->log, "siamcl: evaluating the best weights (epoch %d) on the test pairs\n",
            r->best_epoch);
    SC_TRY(r->task.kind->report(&r->task, r->model, &out->report));
    out->tested = 1;
    return write_metrics(r, &out->report);
}

/* history.csv grows row by row, so that it can be plotted while training runs. */
static int train_with_history(run *r) {
    FILE *history = fopen(in_dir(r, "history.csv"), "w");
    if (!history) return sc_error(SC_EINPUT, "cannot write %s: %s", r->path, strerror(errno));
    char quality[32];
    size_t i = 0;
    for (; r->task.quality_name[i] && i + 1 < sizeof quality; i++)
        quality[i] = (char)tolower((unsigned char)r->task.quality_name[i]);
    quality[i] = '\0';
    fprintf(history, "epoch,train_loss,val_loss,val_mse,val_mae,val_%s,seconds,pairs_per_s\n",
            quality);
    char what[256];
    sc_model_describe(&r->job->model, &r->job->train.loss, what, sizeof what);
    fprintf(r->log,
            "siamcl: training %s: %zu parameters, %zu pairs per epoch, %zu for validation; run "
            "directory %s\n",
            what, r->model->nparams, r->task.epoch_size, r->task.val.pairs.n, r->job->out_dir);
    int rc = epochs(r, history);
    if (fclose(history) != 0 && rc == SC_OK)
        rc = sc_error(SC_ERR, "writing %s/history.csv failed", r->job->out_dir);
    return rc;
}

int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job, FILE *log, sc_train_result *out) {
    run r = {.rt = rt, .cfg = cfg, .job = job, .log = log};
    memset(out, 0, sizeof *out);
    interrupted = 0;
    catch_interrupt();
    int rc = setup(&r);
    if (rc == SC_OK) rc = train_with_history(&r);
    if (rc == SC_OK) rc = interrupted ? stop_interrupted(&r) : finish(&r, out);
    out->epochs = r.epochs;
    out->best_epoch = r.best_epoch;
    signal(SIGINT, SIG_DFL);
    free(r.best);
    sc_model_optimizer_free(&r.opt);
    sc_model_free(r.model);
    sc_task_close(&r.task);
    return rc;
}
