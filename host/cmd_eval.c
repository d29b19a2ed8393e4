#include "cmd.h"

#include "siamcl/atomic_file.h"
#include "siamcl/evaluate.h"
#include "siamcl/textdata.h"

#include <math.h>
#include <stdlib.h>

const char cmd_eval_help[] =
    "usage: siamcl eval MODEL_OR_RUN_DIR [--data PATH] [--json FILE] [--device SPEC]\n"
    "\n"
    "Evaluates a trained model on its test pairs. The model comes with its config (in its\n"
    "metadata), which names the data and redraws the same validation and test pairs.\n"
    "\n"
    "Image models: MSE, MAE, ROC-AUC, accuracy at the threshold that is best on the\n"
    "validation pairs, and 1-nearest-neighbour accuracy of test embeddings against the\n"
    "training images' (cosine), beside a constant-mean predictor and the cosine of the raw\n"
    "inputs.\n"
    "Text models: MSE, RMSE, MAE, Pearson and Spearman on the test rows of the group split,\n"
    "or on every row of --data FILE (a held-out CSV with the same columns), beside the\n"
    "constant mean of the training targets.\n"
    "\n"
    "  MODEL_OR_RUN_DIR  a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  --data PATH       images: the data instead of the config's [data] path; text: a CSV\n"
    "                    whose every row is a test row\n"
    "  --json FILE       also write the table as JSON (the rows of metrics.json)\n";

static int write_json(const char *path, const sc_report *rep, const sc_regression_report *reg) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    fputs("{\n  \"rows\": ", f.file);
    sc_write_rows(f.file, rep, reg);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

/* A text model on the test rows of its data, or on every row of another file (data). */
static int eval_texts(sc_runtime *rt, sc_model *m, sc_job *job, const char *data,
                      const char *json) {
    sc_text_data d;
    sc_pairs tests = {0};
    sc_pairs_dev dev = {0};
    sc_csr_dev x = {0};
    sc_regression_report reg;
    double loss;
    float *scores = NULL;
    if (data) job->data.path = data;
    SC_TRY(sc_text_data_load(&job->data, job->train.seed, data != NULL, &d));
    int rc = sc_text_pairs(&d, SC_SPLIT_TEST, &tests);
    if (rc == SC_OK && !tests.n) rc = sc_error(SC_EINPUT, "%s: no test rows", job->data.path);
    if (rc == SC_OK) rc = sc_csr_upload(rt, &d.texts, &x);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &tests, &dev);
    if (rc == SC_OK && !(scores = malloc(tests.n * sizeof *scores)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_score_text_pairs(m, &x, &dev, scores, &loss);
    if (rc == SC_OK) {
        /* the constant predictor is the training targets' mean, kept in the checkpoint */
        double mean = isnan(job->target_mean) && !data ? sc_text_train_mean(&d) : job->target_mean;
        sc_regression_fill(scores, tests.target, tests.n, mean, &reg);
        sc_regression_print(stdout, &reg);
        if (json) rc = write_json(json, NULL, &reg);
    }
    free(scores);
    sc_pairs_dev_free(&dev);
    sc_pairs_free(&tests);
    sc_csr_dev_free(&x);
    sc_text_data_free(&d);
    return rc;
}

/* An image model on its test pairs, beside the baselines; data replaces the config's path. */
static int eval_images(sc_runtime *rt, sc_model *m, sc_job *job, const char *data,
                       const char *json) {
    sc_dataset d = {0};
    sc_report rep;
    if (data) job->data.path = data;
    int rc = sc_dataset_load(rt, job, &d);
    if (rc == SC_OK && d.train.width != (size_t)job->model.input)
        rc = sc_error(SC_EINPUT, "%s: images of %zu values, but the model takes %d", job->data.path,
                      d.train.width, job->model.input);
    if (rc == SC_OK) rc = sc_evaluate(m, &d, &rep);
    if (rc == SC_OK) sc_report_print(stdout, &rep);
    if (rc == SC_OK && json) rc = write_json(json, &rep, NULL);
    sc_dataset_free(&d);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *data = NULL, *json = NULL;
    cmd_option options[] = {{"data", 0, &data, NULL}, {"json", 0, &json, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "eval", cmd_eval_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 1)
        return sc_error(SC_EINPUT, "eval: expected one MODEL_OR_RUN_DIR (see --help)");
    cmd_model cm;
    int rc = cmd_model_open(&args, &cm);
    if (rc == SC_OK)
        rc = cm.job.data.format == SC_DATA_CSV ? eval_texts(cm.rt, cm.m, &cm.job, data, json)
                                               : eval_images(cm.rt, cm.m, &cm.job, data, json);
    cmd_model_close(&cm);
    return rc;
}
