#include "cmd.h"

#include "dist.h"
#include "siamcl/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char cmd_train_help[] =
    "usage: siamcl train CONFIG [-o section.key=value]... [--device SPEC]\n"
    "       siamcl train --resume RUN_DIR [-o train.epochs=N] [--device SPEC]\n"
    "       mpirun -np N siamcl train CONFIG|--resume RUN_DIR [...] [--check-ranks K]\n"
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
    "run's first step (PoCL: about 8 s with an empty kernel cache, then cached); epoch 1's\n"
    "time and pairs/s leave that step out, a first step of 2 s or more is said, and\n"
    "metrics.json records its seconds (first_step_seconds).\n"
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
    "stopping follow the validation figure (AUC, Spearman) instead of the loss.\n"
    "\n"
    "Under mpirun, N processes (ranks) train one model: [train] batch_size stays the global\n"
    "batch, each rank trains its share of every batch (the remainder on the first ranks) and\n"
    "the ranks sum their gradients, so the same config gives the same model on 1 or N ranks\n"
    "up to float summation order; a run resumes on any N. Each rank scores a share of the\n"
    "validation pairs; rank 0 alone writes the run directory and tests the best weights.\n"
    "With [device] select = auto, rank r on a machine takes its (r mod GPUs)-th GPU; on a CPU\n"
    "device each rank's PoCL uses its share of the cores (POCL_MAX_PTHREAD_COUNT, unless set).\n"
    "Under a batch-wise loss (softmax, triplet, cosent, online_contrastive) the ranks gather\n"
    "their embeddings and each computes the whole batch's loss. --check-ranks K compares\n"
    "the ranks' parameters (a checksum) every K steps, as they are always at the end. Ctrl-C\n"
    "(mpirun passes it on as SIGTERM) stops every rank after the same step, rank 0 saving\n"
    "the state; a rank that fails or dies stops them all with a non-zero exit. As root or\n"
    "with more ranks than cores, mpirun needs --allow-run-as-root and --oversubscribe.\n";

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
    int other = -1, rc = sc_config_text(cfg, &text);
    if (rc == SC_OK) rc = sc_dist_differs(d, text, &other);
    free(text);
    if (rc == SC_OK && other >= 0)
        rc = sc_error(SC_EINPUT,
                      "rank %d's config is not rank 0's: every rank must be given the same one "
                      "(the same CONFIG and -o)",
                      other);
    return rc;
}

static int parse_check(const char *text, long *every) {
    char *end;
    long v = strtol(text, &end, 10);
    if (*text && !*end && v > 0) {
        *every = v;
        return SC_OK;
    }
    return sc_error(SC_EINPUT, "train: --check-ranks %s: expected a number of steps above 0", text);
}

/* A CPU device's threads: PoCL's would each take every core, so each rank on a machine takes
 * its share of them, unless the user chose (POCL_MAX_PTHREAD_COUNT). */
static void share_cores(const sc_dist *d) {
    if (d->size == 1 || getenv("POCL_MAX_PTHREAD_COUNT")) return;
    char n[16];
    snprintf(n, sizeof n, "%d", sc_dist_cores(d));
    setenv("POCL_MAX_PTHREAD_COUNT", n, 0);
}

/* This rank's config, job and device: what may fail on one rank alone (its files, its
 * device). */
static int open_rank(const cmd_args *args, const char *resume, const sc_dist *d, sc_config **cfg,
                     sc_job *job, sc_runtime **rt) {
    int rc =
        resume ? resume_config(args, resume, cfg) : cmd_load_config(args, args->positional[0], cfg);
    if (rc == SC_OK) rc = sc_job_read(*cfg, job);
    if (rc == SC_OK && resume) snprintf(job->out_dir, sizeof job->out_dir, "%s", resume);
    if (rc != SC_OK) return rc;
    char who[96] = "";
    if (d->size > 1) {
        share_cores(d);
        const char *threads = getenv("POCL_MAX_PTHREAD_COUNT");
        snprintf(who, sizeof who, "rank %d of %d (pid %ld, POCL_MAX_PTHREAD_COUNT=%s): ", d->rank,
                 d->size, (long)getpid(), threads ? threads : "unset");
    }
    return cmd_open_runtime_nth(args, *cfg, d->local_rank, who, rt);
}

/* How a data-parallel run ends. An error that every rank knows (bad input, a divergence,
 * Ctrl-C) ends each rank alike, rank 0 saying it once; an error of this rank alone would leave
 * the others waiting for it forever, so it stops them all (MPI_Abort). */
static int end_ranks(const sc_dist *d, int rc, int agreed) {
    if (d->size > 1 && rc != SC_OK && !agreed) {
        fprintf(stderr, "siamcl: rank %d of %d: %s\n", d->rank, d->size, sc_last_error());
        sc_dist_abort(d, rc == SC_INTERRUPTED ? SC_INTERRUPTED : rc);
    }
    if (d->rank > 0 && rc != SC_OK) sc_error(rc, "%s", ""); /* rank 0 says it */
    sc_dist_finalize(d);
    return rc;
}

int cmd_train(int argc, char **argv) {
    const char *resume = NULL, *check = NULL;
    cmd_option options[] = {{"resume", 0, &resume, NULL}, {"check-ranks", 0, &check, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "train", cmd_train_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != !resume)
        return sc_error(SC_EINPUT,
                        "train: expected one CONFIG, or --resume RUN_DIR alone (see --help)");
    long every = 0;
    if (check) SC_TRY(parse_check(check, &every));
    sc_dist d;
    SC_TRY(sc_dist_init(&d)); /* before OpenCL: a rank's device depends on its place */
    sc_config *cfg = NULL;
    sc_job job;
    sc_runtime *rt = NULL;
    int rc = sc_dist_agree(&d, open_rank(&args, resume, &d, &cfg, &job, &rt)), agreed = 1;
    if (rc == SC_OK && d.rank == 0)
        cmd_tuning_hint(rt, resume ? sc_config_path(cfg) : args.positional[0]);
    if (rc == SC_OK && d.size > 1) rc = same_config(&d, cfg);
    /* only rank 0 speaks; the others' log goes nowhere */
    FILE *quiet = rc == SC_OK && d.rank ? fopen("/dev/null", "w") : NULL;
    sc_train_options o = {quiet ? quiet : stderr, resume != NULL, d.rank, d.size, every};
    sc_train_result res = {0};
    if (rc == SC_OK) {
        rc = sc_train(rt, cfg, &job, &o, &res);
        agreed = res.agreed;
    }
    if (rc == SC_OK && o.rank == 0) print_result(&res, &job);
    if (quiet) fclose(quiet);
    rc = end_ranks(&d, rc, agreed);
    sc_runtime_close(rt);
    sc_config_free(cfg);
    return rc;
}
