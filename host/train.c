#include "siamcl/train.h"
#include "siamcl/atomic_file.h"
#include "siamcl/checkpoint.h"
#include "siamcl/evaluate.h"
#include "siamcl/json.h"
#include "siamcl/metrics.h"
#include "siamcl/progress.h"

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
    sc_dataset data;
    sc_model *model;
    sc_optimizer *opt;
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

static int write_pairs(run *r, const char *file, const sc_pairs *p) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(in_dir(r, file), &f));
    fputs("left,right,target\n", f.file);
    for (size_t i = 0; i < p->n; i++)
        fprintf(f.file, "%d,%d,%g\n", (int)p->left[i], (int)p->right[i], p->target[i]);
    return sc_atomic_commit(&f);
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

/* Sets [model] input from the data, or checks the config's value against it. */
static int input_from_data(run *r) {
    size_t width = r->data.train.width;
    if (r->job->model.input == 0) {
        char set[64];
        snprintf(set, sizeof set, "model.input=%zu", width);
        r->job->model.input = (int)width;
        return sc_config_override(r->cfg, set);
    }
    if ((size_t)r->job->model.input != width)
        return sc_error(SC_EINPUT, "[model] input = %d, but the data's rows have %zu values",
                        r->job->model.input, width);
    return SC_OK;
}

static int setup(run *r) {
    const sc_job *job = r->job;
    SC_TRY(sc_dataset_load(r->rt, job, &r->data));
    SC_TRY(input_from_data(r));
    size_t eval = job->train.batch_size;
    if (job->train.loss.kind != SC_LOSS_SOFTMAX && eval < 256) eval = 256; /* faster scoring */
    SC_TRY(sc_model_create(r->rt, &job->model, &job->train.loss, eval, job->train.seed, &r->model));
    SC_TRY(sc_optimizer_create(r->rt, &job->train.optim, r->model->nparams, &r->opt));
    if (!(r->best = malloc(r->model->nparams * sizeof *r->best)))
        return sc_error(SC_ERR, "out of memory");
    SC_TRY(sc_make_dirs(job->out_dir));
    SC_TRY(write_config(r));
    SC_TRY(write_pairs(r, "val_pairs.csv", &r->data.val));
    return write_pairs(r, "test_pairs.csv", &r->data.tests);
}

/* One pass over the epoch's pairs; *loss is their mean training loss. */
static int train_epoch(run *r, int epoch, double *loss, double *seconds, size_t *pairs_done) {
    const sc_train_config *t = &r->job->train;
    sc_model *m = r->model;
    sc_pairs pairs;
    sc_pairs_dev dev;
    SC_TRY(sc_dataset_epoch_pairs(&r->data, t->seed, epoch, &pairs));
    int rc = sc_pairs_upload(r->rt, &pairs, &dev);
    sc_pairs_free(&pairs);
    SC_TRY(rc);
    size_t steps = (dev.n + t->batch_size - 1) / t->batch_size, done = 0;
    sc_progress p;
    sc_progress_begin(&p, stderr, epoch, t->epochs, steps);
    rc = sc_model_loss_reset(m);
    double last;
    for (size_t s = 0; s < steps && rc == SC_OK && !interrupted; s++) {
        size_t first = s * t->batch_size, n = dev.n - first;
        if (n > t->batch_size) n = t->batch_size;
        rc = sc_gather_pairs(r->rt, r->data.train.rows, r->data.train.width, &dev, first, n,
                             sc_model_input(m), sc_model_targets(m));
        if (rc == SC_OK) rc = sc_model_forward(m, n);
        if (rc == SC_OK) rc = sc_model_backward(m, n);
        if (rc == SC_OK) rc = sc_optimizer_step(r->opt, sc_model_params(m), sc_model_grads(m));
        done += n;
        if (rc == SC_OK && sc_progress_due(&p) &&
            (rc = sc_model_loss_read(m, loss, &last)) == SC_OK)
            sc_progress_draw(&p, s + 1, *loss, done);
    }
    if (rc == SC_OK) rc = sc_model_loss_read(m, loss, &last);
    if (rc == SC_OK) rc = sc_finish(r->rt);
    *seconds = sc_progress_end(&p);
    *pairs_done = done;
    sc_pairs_dev_free(&dev);
    return rc;
}

static int write_history_row(FILE *f, int epoch, double train_loss, double val_loss,
                             const float *scores, const sc_pairs *val, double seconds,
                             double rate) {
    fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.2f,%.0f\n", epoch, train_loss, val_loss,
            sc_metric_mse(scores, val->target, val->n), sc_metric_mae(scores, val->target, val->n),
            sc_metric_auc(scores, val->target, val->n), seconds, rate);
    fflush(f);
    return ferror(f) ? sc_error(SC_ERR, "writing history.csv failed") : SC_OK;
}

/* Saves the weights of a new best epoch. */
static int keep_best(run *r, int epoch, double val_loss) {
    r->best_epoch = epoch;
    r->best_loss = val_loss;
    SC_TRY(sc_model_get_params(r->model, r->best));
    return sc_checkpoint_save(r->model, r->cfg, in_dir(r, "model.safetensors"));
}

static int epochs(run *r, FILE *history) {
    const sc_train_config *t = &r->job->train;
    float *scores = malloc(r->data.val.n * sizeof *scores);
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
        rc = sc_score_pairs(r->model, &r->data.train, &r->data.val_dev, scores, &val_loss);
        double rate = (double)done / seconds;
        if (rc == SC_OK)
            rc = write_history_row(history, e, loss, val_loss, scores, &r->data.val, seconds, rate);
        int improved = val_loss < r->best_loss - t->min_delta;
        if (rc == SC_OK && improved) rc = keep_best(r, e, val_loss);
        waited = improved ? 0 : waited + 1;
        fprintf(stderr,
                "epoch %d/%d: train loss %.4f, val loss %.4f, val AUC %.4f, %.1f s, %.0f "
                "pairs/s%s\n",
                e, t->epochs, loss, val_loss,
                sc_metric_auc(scores, r->data.val.target, r->data.val.n), seconds, rate,
                improved ? " (best)" : "");
        if (t->patience && waited >= t->patience) {
            fprintf(stderr,
                    "siamcl: no improvement of the validation loss by %g in %d epochs: "
                    "stopping; the best was epoch %d\n",
                    t->min_delta, t->patience, r->best_epoch);
            break;
        }
    }
    free(scores);
    return rc;
}

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
    int rc = sc_checkpoint_save(r->model, r->cfg, last);
    if (rc != SC_OK) return rc;
    fprintf(stderr, "siamcl: interrupted; current weights saved to %s", last);
    if (r->best_epoch)
        fprintf(stderr, ", best (epoch %d) in %s/model.safetensors", r->best_epoch,
                r->job->out_dir);
    fputc('\n', stderr);
    return SC_INTERRUPTED;
}

static int finish(run *r) {
    if (!r->best_epoch) return sc_error(SC_ERR, "no epoch finished");
    sc_report rep;
    SC_TRY(sc_model_set_params(r->model, r->best));
    fprintf(stderr, "siamcl: evaluating the best weights (epoch %d) on the test pairs\n",
            r->best_epoch);
    SC_TRY(sc_evaluate(r->model, &r->data, &rep));
    sc_report_print(stdout, &rep);
    SC_TRY(write_metrics(r, &rep));
    printf("run directory: %s (model.safetensors, metrics.json, history.csv)\n", r->job->out_dir);
    return SC_OK;
}

int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job) {
    run r = {.rt = rt, .cfg = cfg, .job = job};
    interrupted = 0;
    catch_interrupt();
    int rc = setup(&r);
    /* history.csv grows row by row, so that it can be plotted while training runs */
    FILE *history = NULL;
    if (rc == SC_OK && !(history = fopen(in_dir(&r, "history.csv"), "w")))
        rc = sc_error(SC_EINPUT, "cannot write %s: %s", r.path, strerror(errno));
    if (rc == SC_OK) {
        fputs("epoch,train_loss,val_loss,val_mse,val_mae,val_auc,seconds,pairs_per_s\n", history);
        fprintf(stderr,
                "siamcl: training %zu parameters on %zu anchors x 2 pairs per epoch, "
                "validating on %zu pairs; run directory %s\n",
                r.model->nparams, r.data.nanchors, r.data.val.n, job->out_dir);
        rc = epochs(&r, history);
        if (fclose(history) != 0 && rc == SC_OK)
            rc = sc_error(SC_ERR, "writing %s/history.csv failed", job->out_dir);
    }
    if (rc == SC_OK) rc = interrupted ? stop_interrupted(&r) : finish(&r);
    signal(SIGINT, SIG_DFL);
    free(r.best);
    sc_optimizer_free(r.opt);
    sc_model_free(r.model);
    sc_dataset_free(&r.data);
    return rc;
}
