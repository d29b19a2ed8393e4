#include "cmd.h"

#include "atomic_file.h"

#include <math.h>
#include <stdlib.h>

const char cmd_eval_help[] =
    "usage: siamcl eval MODEL_OR_RUN_DIR [--data PATH] [--json FILE] [--device SPEC]\n"
    "       siamcl eval MODEL_OR_RUN_DIR --retrieval [--threshold T] [--data PATH] [--json FILE]\n"
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
    "Vector models ([data] format = npy): with labels, as image models; with a CSV of pairs,\n"
    "as text models, beside the constant and the cosine of the raw vectors.\n"
    "\n"
    "  MODEL_OR_RUN_DIR  a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  --data PATH       images: the data instead of the config's [data] path; text: a CSV\n"
    "                    whose every row is a test row; vectors: the .npy of vectors\n"
    "                    instead of the config's [data] path\n"
    "  --json FILE       also write the table as JSON (the rows of metrics.json)\n"
    "\n"
    "--retrieval (text models, and vector models with a CSV of pairs) judges the test rows as\n"
    "a search instead: the rows are grouped by their left side (the query: a search term, or\n"
    "a left vector) and each query ranks its rows' right sides (its candidates: products) by\n"
    "the model's score, highest first. NDCG@10 (gain: the target less the bottom of its\n"
    "range), MRR@10 and Recall@1, 5 and 10 (relevant: target above --threshold, default the\n"
    "middle of the target range: [model] target_min .. target_max, else the test targets'),\n"
    "averaged over the queries, beside a random order (the mean of 20) and for texts word\n"
    "overlap (the share of the query's words, then trigrams, in the candidate).\n"
    "  --retrieval       the ranking metrics above\n"
    "  --threshold T     the target above which a candidate is relevant\n";

static int write_json(const char *path, const sc_report *rep) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    fputs("{\n  \"rows\": ", f.file);
    sc_report_write_rows(f.file, rep);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

/* The model on its task's test pairs (data: eval's --data), beside the baselines. */
static int evaluate(cmd_model *cm, const char *data, const char *json, int retrieval,
                    double threshold) {
    sc_task t;
    sc_report rep;
    int rc = sc_task_open(cm->rt, &cm->job, data, &t);
    if (rc == SC_OK && !t.test.pairs.n)
        rc = sc_error(SC_EINPUT, "%s: no test rows", cm->job.data.path);
    if (rc == SC_OK && retrieval && !t.kind->retrieval)
        rc = sc_error(SC_EINPUT,
                      "eval --retrieval: takes a text model or a vector model with a CSV of "
                      "pairs (this one reads %s data)",
                      sc_data_format_names[cm->job.data.format]);
    if (rc == SC_OK && retrieval)
        rc = t.kind->retrieval(&t, &cm->all, threshold, &rep);
    else if (rc == SC_OK)
        rc = sc_task_report(&t, &cm->all, &rep);
    if (rc == SC_OK) sc_report_print(stdout, &rep);
    if (rc == SC_OK && json) rc = write_json(json, &rep);
    sc_task_close(&t);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    const char *data = NULL, *json = NULL, *threshold = NULL;
    int retrieval = 0;
    cmd_option options[] = {{"data", 0, &data, NULL},
                            {"json", 0, &json, NULL},
                            {"retrieval", 0, NULL, &retrieval},
                            {"threshold", 0, &threshold, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "eval", cmd_eval_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 1)
        return sc_error(SC_EINPUT, "eval: expected one MODEL_OR_RUN_DIR (see --help)");
    double t = NAN;
    char *end = NULL;
    if (threshold && !retrieval)
        return sc_error(SC_EINPUT, "eval: --threshold goes with --retrieval");
    if (threshold && (!*threshold || (t = strtod(threshold, &end), *end) || !isfinite(t)))
        return sc_error(SC_EINPUT, "eval: --threshold %s: expected a number", threshold);
    cmd_model cm;
    int rc = cmd_model_open(&args, &cm);
    if (rc == SC_OK) rc = evaluate(&cm, data, json, retrieval, t);
    cmd_model_close(&cm);
    return rc;
}
