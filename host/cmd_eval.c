#include "cmd.h"

#include "siamcl/atomic_file.h"
#include "siamcl/checkpoint.h"
#include "siamcl/evaluate.h"

const char cmd_eval_help[] =
    "usage: siamcl eval MODEL_OR_RUN_DIR [--data PATH] [--json FILE] [--device SPEC]\n"
    "\n"
    "Evaluates a trained model on its test pairs, beside a constant-mean predictor and the\n"
    "cosine of the raw inputs: MSE, MAE, ROC-AUC, accuracy at the threshold that is best on\n"
    "the validation pairs, and 1-nearest-neighbour accuracy of test embeddings against the\n"
    "training images' (cosine). The model comes with its config (in its metadata), which\n"
    "names the data and redraws the same validation and test pairs.\n"
    "\n"
    "  MODEL_OR_RUN_DIR  a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  --data PATH       the data instead of the config's [data] path\n"
    "  --json FILE       also write the table as JSON (the rows of metrics.json)\n";

static int write_json(const char *path, const sc_report *rep) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    fputs("{\n  \"rows\": ", f.file);
    sc_report_write_rows(f.file, rep);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

int cmd_eval(int argc, char **argv) {
    const char *data = NULL, *json = NULL;
    cmd_option options[] = {{"data", 0, &data, NULL}, {"json", 0, &json, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "eval", options, &args));
    if (args.help) {
        fputs(cmd_eval_help, stdout);
        return SC_OK;
    }
    if (args.npositional != 1)
        return sc_error(SC_EINPUT, "eval: expected one MODEL_OR_RUN_DIR (see --help)");
    char buf[1100];
    const char *path = cmd_model_path(args.positional[0], buf, sizeof buf);
    sc_runtime *rt = NULL;
    sc_config *cfg = NULL;
    sc_job job;
    sc_model *m = NULL;
    sc_dataset d = {0};
    sc_report rep;
    int rc = cmd_open_runtime(&args, NULL, &rt);
    if (rc == SC_OK) rc = sc_checkpoint_load(rt, path, 0, &cfg, &job, &m);
    if (rc == SC_OK && data) job.data.path = data;
    if (rc == SC_OK) rc = sc_dataset_load(rt, &job, &d);
    if (rc == SC_OK && d.train.width != (size_t)job.model.input)
        rc = sc_error(SC_EINPUT, "%s: images of %zu values, but the model takes %d", job.data.path,
                      d.train.width, job.model.input);
    if (rc == SC_OK) rc = sc_evaluate(m, &d, &rep);
    if (rc == SC_OK) sc_report_print(stdout, &rep);
    if (rc == SC_OK && json) rc = write_json(json, &rep);
    sc_dataset_free(&d);
    sc_model_free(m);
    sc_config_free(cfg);
    sc_runtime_close(rt);
    return rc;
}
