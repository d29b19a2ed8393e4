#include "siamcl/train.h"
#include "siamcl/atomic_file.h"
#include "siamcl/checkpoint.h"
#include "siamcl/evaluate.h"
#include "siamcl/json.h"
#include "siamcl/metrics.h"
#include "siamcl/progress.h"
#include "siamcl/textdata.h"

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
    int text;           /* the text task (else images) */
    sc_dataset data;    /* images */
    sc_text_data tdata; /* texts, their features on the device, and their fixed pairs */
    sc_csr_dev texts;
    sc_pairs val, tests;
    sc_pairs_dev val_dev, test_dev;
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

/* Sets [model] input from the images, or checks the config's value against them. */
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

static int setup_images(run *r) {
    SC_TRY(sc_dataset_load(r->rt, r->job, &r->data));
    SC_TRY(input_from_data(r));
    r->val_dev = r->data.val_dev;
    r->test_dev = r->data.test_dev;
    return SC_OK;
}

static int setup_texts(run *r) {
    const sc_job *job = r->job;
    SC_TRY(sc_text_data_load(&job->data, job->train.seed, 0, &r->tdata));
    r->job->target_mean = sc_text_train_mean(&r->tdata);
    SC_TRY(sc_csr_upload(r->rt, &r->tdata.texts, &r->texts));
    SC_TRY(sc_text_pairs(&r->tdata, SC_SPLIT_VAL, &r->val));
    SC_TRY(sc_text_pairs(&r->tdata, SC_SPLIT_TEST, &r->tests));
    SC_TRY(sc_pairs_upload(r->rt, &r->val, &r->val_dev));
    SC_TRY(sc_pairs_upload(r->rt, &r->tests, &r->test_dev));
    fprintf(stderr, "siamcl: %s: %zu rows, %zu / %zu / %zu for training / validation / test\n",
            job->data.path, r->tdata.n, r->tdata.count[0], r->tdata.count[1], r->tdata.count[2]);
    return SC_OK;
}

static int setup(run *r) {
    const sc_job *job = r->job;
    SC_TRY(r->text ? setup_texts(r) : setup_images(r));
    SC_TRY(sc_model_create(r->rt, &job->model, &job->train.loss, sc_job_eval_batch(job),
                           job->train.seed, &r->model));
    sc_model *m = r->model;
    SC_TRY(sc_model_optimizer_create(m, &job->train.optim, &r->opt));
    if (!(r->best = malloc(m->nparams * sizeof *r->best))) return sc_error(SC_ERR, "out of memory");
    SC_TRY(sc_make_dirs(job->out_dir));
    SC_TRY(write_config(r));
    if (r->text) return sc_text_write_split(&r->tdata, in_dir(r, "split.csv"));
    SC_TRY(write_pairs(r, "val_pairs.csv", &r->data.val));
    return write_pairs(r, "test_pairs.csv", &r->data.tests);
}

/* The epoch's training pairs: images draw new partners; texts shuffle their training rows. */
static int epoch_pairs(run *r, int epoch, sc_pairs *out) {
    uint64_t seed = r->job->train.seed;
    if (!r->text) return sc_dataset_epoch_pairs(&r->data, seed, epoch, out);
    SC_TRY(sc_text_pairs(&r->tdata, SC_SPLIT_TRAIN, out));
    sc_pairs_shuffle(out, seed, 1000 + (uint64_t)epoch);
    return SC_OK;
}

/* Puts step s (pairs first .. first + n - 1) into the model. */
static int load_batch(run *r, const sc_pairs_dev *dev, const sc_sparse_plan_dev *plan, size_t s,
                      size_t first, size_t n) {
    sc_model *m = r->model;
    if (!r->text)
        return sc_gather_pairs(r->rt, r->data.train.rows, r->data.train.width, dev, first, n,
                               sc_model_input(m), sc_model_targets(m));
    SC_TRY(sc_model_text_batch(m, &r->texts, dev, first, plan, s));
    return sc_copy(r->rt, sc_model_targets(m), (sc_view){dev->target, first}, n);
}

/* The text task's plan of the epoch: each step's features, for the table's gradient. */
static int plan_epoch(run *r, const sc_pairs *pairs, sc_sparse_plan_dev *dev) {
    sc_sparse_plan plan;
    memset(dev, 0, sizeof *dev);
    if (!r->text) return SC_OK;
    SC_TRY(sc_sparse_plan_build(&r->model->sparse, &r->tdata.texts, pairs->left, pairs->right,
                                pairs->n, r->job->train.batch_size, &plan));
    int rc = sc_sparse_plan_upload(r->rt, &plan, dev);
    sc_sparse_plan_free(&plan);
    return rc;
}

/* The run's first step launches every training kernel for the first time, and the OpenCL
 * driver compiles each then (PoCL: about 40 s with an empty cache, which it keeps for later
 * runs). Epoch 1's clock starts after that step, and a long one is said. */
static int first_step_done(run *r, sc_progress *p, size_t pairs) {
    SC_TRY(sc_finish(r->rt));
    double seconds = sc_now() - p->start;
    sc_progress_restart(p, 1, pairs);
    if (seconds >= 2)
        fprintf(stderr,
                "siamcl: the first step took %.1f s: kernels compile on their first use (PoCL "
                "caches them for later runs); epoch 1's time leaves that step out\n",
                seconds);
    return SC_OK;
}

/* One pass over the epoch's pairs; *loss is their mean training loss, *seconds and
 * *pairs_timed what the epoch's rate counts (epoch 1 leaves its first step out). */
static int train_epoch(run *r, int epoch, double *loss, double *seconds, size_t *pairs_timed) {
    const sc_train_config *t = &r->job->train;
    sc_model *m = r->model;
    sc_pairs pairs;
    sc_pairs_dev dev;
    sc_sparse_plan_dev plan;
    SC_TRY(epoch_pairs(r, epoch, &pairs));
    int rc = sc_pairs_upload(r->rt, &pairs, &dev);
    if (rc == SC_OK) rc = plan_epoch(r, &pairs, &plan);
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
        rc = load_batch(r, &dev, &plan, s, first, n);
        if (rc == SC_OK) rc = sc_model_train_pass(m, n);
        if (rc == SC_OK) rc = sc_model_optimizer_step(m, &r->opt);
        done += n;
        if (rc == SC_OK && epoch == 1 && s == 0 && steps > 1) rc = first_step_done(r, &p, n);
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
    sc_pairs_dev_free(&dev);
    sc_sparse_plan_dev_free(&plan);
    return rc;
}

static int score_val(run *r, float *scores, double *loss) {
    if (r->text) return sc_score_text_pairs(r->model, &r->texts, &r->val_dev, scores, loss);
    return sc_score_pairs(r->model, &r->data.train, &r->val_dev, scores, loss);
}

/* Validation quality: ROC-AUC for 0/1 targets, Spearman's correlation for graded ones. */
static double val_quality(const run *r, const float *scores, const sc_pairs *val) {
    return r->text ? sc_metric_spearman(scores, val->target, val->n)
                   : sc_metric_auc(scores, val->target, val->n);
}

static int write_history_row(const run *r, FILE *f, int epoch, double train_loss, double val_loss,
                             const float *scores, const sc_pairs *val, double seconds,
                             double rate) {
    fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.2f,%.0f\n", epoch, train_loss, val_loss,
            sc_metric_mse(scores, val->target, val->n), sc_metric_mae(scores, val->target, val->n),
            val_quality(r, scores, val), seconds, rate);
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
    const sc_pairs *val = r->text ? &r->val : &r->data.val;
    float *scores = malloc((val->n ? val->n : 1) * sizeof *scores);
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
        rc = score_val(r, scores, &val_loss);
        double rate = (double)done / seconds;
        if (rc == SC_OK)
            rc = write_history_row(r, history, e, loss, val_loss, scores, val, seconds, rate);
        int improved = val_loss < r->best_loss - t->min_delta;
        if (rc == SC_OK && improved) rc = keep_best(r, e, val_loss);
        waited = improved ? 0 : waited + 1;
        fprintf(stderr,
                "epoch %d/%d: train loss %.4f, val loss %.4f, val %s %.4f, %.1f s, %.0f "
                "pairs/s%s\n",
                e, t->epochs, loss, val_loss, r->text ? "Spearman" : "AUC",
                val_quality(r, scores, val), seconds, rate, improved ? " (best)" : "");
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

/* metrics.json: the run, and the rows of the image report or the text regression report. */
static int write_metrics(run *r, const sc_report *rep, const sc_regression_report *reg) {
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
    sc_write_rows(f.file, rep, reg);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

/* Ctrl-C: the best weights are already saved; the current ones go beside them. */
static int stop_interrupted(run *r) {
    const char *last = in_dir(r, "last.safetensors");
    int rc = sc_checkpoint_save(r->model, r->job, last);
    if (rc != SC_OK) return rc;
    fprintf(stderr, "siamcl: interrupted; current weights saved to %s", last);
    if (r->best_epoch)
        fprintf(stderr, ", best (epoch %d) in %s/model.safetensors", r->best_epoch,
                r->job->out_dir);
    fputc('\n', stderr);
    return SC_INTERRUPTED;
}

static int evaluate_texts(run *r) {
    sc_regression_report reg;
    double loss;
    float *scores = malloc((r->tests.n ? r->tests.n : 1) * sizeof *scores);
    int rc = scores ? sc_score_text_pairs(r->model, &r->texts, &r->test_dev, scores, &loss)
                    : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) {
        sc_regression_fill(scores, r->tests.target, r->tests.n, r->job->target_mean, &reg);
        sc_regression_print(stdout, &reg);
        rc = write_metrics(r, NULL, &reg);
    }
    free(scores);
    return rc;
}

static int finish(run *r) {
    if (!r->best_epoch) return sc_error(SC_ERR, "no epoch finished");
    SC_TRY(sc_model_set_params(r->model, r->best));
    if (r->text && !r->tests.n) {
        printf("no test rows ([data] split gives test 0): nothing to evaluate\n");
    } else {
        fprintf(stderr, "siamcl: evaluating the best weights (epoch %d) on the test pairs\n",
                r->best_epoch);
        if (r->text) {
            SC_TRY(evaluate_texts(r));
        } else {
            sc_report rep;
            SC_TRY(sc_evaluate(r->model, &r->data, &rep));
            sc_report_print(stdout, &rep);
            SC_TRY(write_metrics(r, &rep, NULL));
        }
    }
    printf("run directory: %s (model.safetensors, metrics.json, history.csv)\n", r->job->out_dir);
    return SC_OK;
}

int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job) {
    run r = {.rt = rt, .cfg = cfg, .job = job, .text = job->data.format == SC_DATA_CSV};
    interrupted = 0;
    catch_interrupt();
    int rc = setup(&r);
    /* history.csv grows row by row, so that it can be plotted while training runs */
    FILE *history = NULL;
    if (rc == SC_OK && !(history = fopen(in_dir(&r, "history.csv"), "w")))
        rc = sc_error(SC_EINPUT, "cannot write %s: %s", r.path, strerror(errno));
    if (rc == SC_OK) {
        fprintf(history, "epoch,train_loss,val_loss,val_mse,val_mae,%s,seconds,pairs_per_s\n",
                r.text ? "val_spearman" : "val_auc");
        char what[256];
        sc_model_describe(&job->model, &job->train.loss, what, sizeof what);
        fprintf(stderr,
                "siamcl: training %s: %zu parameters, %zu pairs per epoch, %zu for "
                "validation; run directory %s\n",
                what, r.model->nparams,
                r.text ? r.tdata.count[SC_SPLIT_TRAIN] : 2 * r.data.nanchors,
                r.text ? r.val.n : r.data.val.n, job->out_dir);
        rc = epochs(&r, history);
        if (fclose(history) != 0 && rc == SC_OK)
            rc = sc_error(SC_ERR, "writing %s/history.csv failed", job->out_dir);
    }
    if (rc == SC_OK) rc = interrupted ? stop_interrupted(&r) : finish(&r);
    signal(SIGINT, SIG_DFL);
    free(r.best);
    sc_model_optimizer_free(&r.opt);
    sc_model_free(r.model);
    sc_dataset_free(&r.data); /* holds the image task's val_dev and test_dev */
    if (r.text) {
        sc_pairs_dev_free(&r.val_dev);
        sc_pairs_dev_free(&r.test_dev);
    }
    sc_pairs_free(&r.val);
    sc_pairs_free(&r.tests);
    sc_csr_dev_free(&r.texts);
    sc_text_data_free(&r.tdata);
    return rc;
}
