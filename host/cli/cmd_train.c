#include "cmd.h"

#include "dist.h"
#include "siamcl/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char cmd_train_help[] =
    "usage: siamcl train CONFIG [-o section.key=value]... [--device SPEC]\n"
    "       siamcl train --resume RUN_DIR [-o train.epochs=N] [--device SPEC]\n"
    "\n"
    "Trains the model CONFIG describes on its data. Each epoch draws fresh pairs (one positive\n"
    "and one negative per training anchor), trains on them, and scores the validation pairs;\n"
    "training stops after [train] epochs, or when the validation loss has not fallen by\n"
    "[train] min_delta for [train] patience epochs. The best weights are then restored and\n"
    "evaluated on the test pairs beside two baselines (a constant predictor and the cosine of\n"
    "the raw inputs).\n"
    "\n"
    "On a terminal a live line shows epoch, step, loss, pairs/s and ETA; each epoch ends with\n"
    "a summary line on stderr. The OpenCL driver compiles each kernel on its first use, in the\n"
    "run's first step (PoCL: about 40 s with an empty kernel cache, then cached); epoch 1's\n"
    "time and pairs/s leave that step out, and a first step of 2 s or more is said.\n"
    "\n"
    "Runs survive crashes: the run's state (weights, optimizer moments and step counts, the\n"
    "epoch's position and running loss, the best epoch and the patience count) is saved to\n"
    "last.safetensors at each epoch's end, every [train] checkpoint_every steps (default 0:\n"
    "every 5 minutes within an epoch) and on Ctrl-C, which finishes the current step, saves\n"
    "and exits with status 130. --resume RUN_DIR continues from it with the run's own\n"
    "config.ini; on the same device it ends with the weights, history and test metrics of an\n"
    "uninterrupted run. -o train.epochs=N may extend it; any other change is refused. A\n"
    "finished run is said so. Every file is written to a temporary file, synced and renamed,\n"
    "so a crash never leaves a damaged one; a second process on the same run directory is\n"
    "refused (a lock).\n"
    "\n"
    "A loss that is not finite stops training at once, with the epoch and step, and exit\n"
    "status 3; a run whose best validation figure is no better than a constant predictor's\n"
    "ends with a warning.\n"
    "\n"
    "The run directory ([output] dir, default runs/<config name>) receives config.ini (the\n"
    "effective config), history.csv (one row per epoch), model.safetensors (the best weights,\n"
    "with the config in its metadata), last.safetensors, metrics.json, and the task's own\n"
    "files: the validation and test pairs (val_pairs.csv, test_pairs.csv) of image and\n"
    "labelled vector data, the split of every row (split.csv) of text pairs and of a CSV of\n"
    "vector pairs.\n"
    "\n"
    "[train] ensemble = K trains K models one after the other, each a run of its own in\n"
    "RUN_DIR/member-1 .. member-K ([train] member = k - 1: initialization, pair draws and\n"
    "dropout seeded with seed + k - 1, on the split of seed), then tests them together: a\n"
    "pair's score is the mean of the members' scores, 1-NN goes by the mean of their\n"
    "cosines. RUN_DIR/metrics.json holds the ensemble's row, each member's and the\n"
    "baselines'; eval and score of RUN_DIR use the ensemble, and --resume continues the\n"
    "member that was training. With [train] monitor = quality the best epoch and early\n"
    "stopping follow the validation figure (AUC, Spearman) instead of the loss.\n";

/* A resumed run's config: the run directory's config.ini, where -o may only extend
 * train.epochs. */
static int resume_config(const cmd_args *args, const char *dir, sc_config **cfg) {
    char path[1100];
    if (!*dir) return sc_error(SC_EINPUT, "train --resume: an empty RUN_DIR");
    for (int i = 0; i < args->noverrides; i++)
        if (strncmp(args->overrides[i], "train.epochs=", 13))
            return sc_error(SC_EINPUT,
                            "train --resume: -o %s: a resumed run keeps its config (%s/"
                            "config.ini); only train.epochs may change",
                            args->overrides[i], dir);
    snprintf(path, sizeof path, "%s/config.ini", dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return sc_error(SC_EINPUT, "%s: not a run directory (no config.ini)", dir);
    return cmd_load_config(args, path, cfg);
}

static void print_result(const sc_train_result *res, const sc_job *job) {
    if (res->finished) {
        printf("the run in %s is finished (%d epochs, the best %d): nothing to resume\n",
               job->out_dir, res->epochs, res->best_epoch);
        return;
    }
    if (res->tested)
        sc_report_print(stdout, &res->report);
    else
        printf("no test rows ([data] split gives test 0): nothing to evaluate\n");
    if (job->train.ensemble > 1)
        printf("run directory: %s (member-1 .. member-%d, metrics.json)\n", job->out_dir,
               job->train.ensemble);
    else
        printf("run directory: %s (model.safetensors, metrics.json, history.csv)\n", job->out_dir);
}

/* Every rank of a data-parallel run trains on the same effective config. */
static int same_config(const sc_dist *d, const sc_config *cfg) {
    char *text;
    int rc = sc_config_text(cfg, &text);
    if (rc == SC_OK) rc = sc_dist_same(d, text, "config");
    free(text);
    return rc;
}

int cmd_train(int argc, char **argv) {
    const char *resume = NULL;
    cmd_option options[] = {{"resume", 0, &resume, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "train", cmd_train_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != !resume)
        return sc_error(SC_EINPUT,
                        "train: expected one CONFIG, or --resume RUN_DIR alone (see --help)");
    sc_config *cfg;
    sc_job job;
    sc_runtime *rt = NULL;
    if (resume)
        SC_TRY(resume_config(&args, resume, &cfg));
    else
        SC_TRY(cmd_load_config(&args, args.positional[0], &cfg));
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK && resume) snprintf(job.out_dir, sizeof job.out_dir, "%s", resume);
    if (rc == SC_OK) rc = cmd_open_runtime(&args, cfg, &rt);
    if (rc == SC_OK) cmd_tuning_hint(rt, resume ? sc_config_path(cfg) : args.positional[0]);
    sc_dist d = {0, 1};
    if (rc == SC_OK) rc = sc_dist_init(&d);
    if (rc == SC_OK && d.size > 1) rc = same_config(&d, cfg);
    /* only rank 0 speaks; the others' log goes nowhere */
    FILE *quiet = rc == SC_OK && d.rank ? fopen("/dev/null", "w") : NULL;
    sc_train_options o = {quiet ? quiet : stderr, resume != NULL, d.rank, d.size};
    sc_train_result res;
    if (rc == SC_OK) rc = sc_train(rt, cfg, &job, &o, &res);
    if (rc == SC_OK && o.rank == 0) print_result(&res, &job);
    if (quiet) fclose(quiet);
    if (o.ranks > 1 && rc != SC_OK) {
        /* Bad input is the same on every rank (one config, one data): rank 0 says it once.
         * Any other error may be this rank's alone. Either way the others would wait for
         * this one forever: MPI_Abort stops them all. */
        if (o.rank == 0)
            fprintf(stderr, "siamcl: %s\n", sc_last_error());
        else if (rc != SC_EINPUT)
            fprintf(stderr, "siamcl: rank %d of %d: %s\n", o.rank, o.ranks, sc_last_error());
        sc_dist_abort(&d, rc == SC_INTERRUPTED ? SC_INTERRUPTED : 2);
    }
    if (rc == SC_OK) sc_dist_finalize(&d);
    sc_runtime_close(rt);
    sc_config_free(cfg);
    return rc;
}
