#include "cmd.h"

#include "siamcl/train.h"

#include <stdio.h>

const char cmd_train_help[] =
    "usage: siamcl train CONFIG [-o section.key=value]... [--device SPEC]\n"
    "\n"
    "Trains the model CONFIG describes on its data. Each epoch draws fresh pairs (one positive\n"
    "and one negative per training anchor), trains on them, and scores the validation pairs;\n"
    "training stops after [train] epochs, or when the validation loss has not fallen by\n"
    "[train] min_delta for [train] patience epochs. The best weights are then restored and\n"
    "evaluated on the test pairs beside two baselines (a constant predictor and the cosine of\n"
    "the raw inputs).\n"
    "\n"
    "On a terminal a live line shows epoch, step, loss, pairs/s and ETA; each epoch ends with\n"
    "a summary line on stderr. Ctrl-C finishes the current step, saves the current weights to\n"
    "last.safetensors beside the best ones, and exits with status 130. The OpenCL driver\n"
    "compiles each kernel on its first use, in the run's first step (PoCL: about 40 s with an\n"
    "empty kernel cache, then cached); epoch 1's time and pairs/s leave that step out, and a\n"
    "first step of 2 s or more is said.\n"
    "\n"
    "The run directory ([output] dir, default runs/<config name>) receives config.ini (the\n"
    "effective config), history.csv (one row per epoch), model.safetensors (the best weights,\n"
    "with the config in its metadata), metrics.json, and the task's own files: the validation\n"
    "and test pairs (val_pairs.csv, test_pairs.csv) of image and labelled vector data, the\n"
    "split of every row (split.csv) of text pairs and of a CSV of vector pairs.\n";

int cmd_train(int argc, char **argv) {
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "train", cmd_train_help, NULL, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 1)
        return sc_error(SC_EINPUT, "train: expected one CONFIG (see --help)");
    sc_config *cfg;
    sc_job job;
    sc_runtime *rt = NULL;
    SC_TRY(cmd_load_config(&args, args.positional[0], &cfg));
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK) rc = cmd_open_runtime(&args, cfg, &rt);
    if (rc == SC_OK) cmd_tuning_hint(rt, args.positional[0]);
    sc_train_result res;
    if (rc == SC_OK) rc = sc_train(rt, cfg, &job, stderr, &res);
    if (rc == SC_OK && res.tested) sc_report_print(stdout, &res.report);
    if (rc == SC_OK && !res.tested)
        printf("no test rows ([data] split gives test 0): nothing to evaluate\n");
    if (rc == SC_OK)
        printf("run directory: %s (model.safetensors, metrics.json, history.csv)\n", job.out_dir);
    sc_runtime_close(rt);
    sc_config_free(cfg);
    return rc;
}
