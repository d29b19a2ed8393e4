/* Training a job's model on its task: epochs of training pairs, validation after each, early
 * stopping, the best weights restored and evaluated on the test pairs. The run directory
 * receives config.ini, the task's files, history.csv, model.safetensors (at each improvement),
 * last.safetensors (the run's state, to resume) and metrics.json. */
#ifndef SIAMCL_TRAIN_H
#define SIAMCL_TRAIN_H

#include "siamcl/job.h"
#include "siamcl/report.h"

/* Exit status of a run stopped by Ctrl-C (128 + SIGINT), and of one whose loss stopped being
 * finite. */
#define SC_INTERRUPTED 130
#define SC_DIVERGED    3

typedef struct sc_train_options {
    FILE *log;  /* progress, and a line per epoch */
    int resume; /* continue the run in the job's run directory from its last.safetensors */
    /* data parallelism: this process is rank `rank` of `ranks` (0 of 1: alone). Each rank
     * takes its share of every batch; the gradients are summed; rank 0 alone writes. */
    int rank, ranks;
    long check_every; /* data parallelism: compare the ranks' parameters every this many steps
                       * (0: only at the end) */
} sc_train_options;

typedef struct sc_train_result {
    int epochs, best_epoch;
    int finished;     /* resume found the run finished: nothing was done */
    int tested;       /* the task has test pairs, and report holds the test table */
    sc_report report; /* the best weights and the baselines on the test pairs */
    int agreed; /* data parallelism: the run's error is every rank's (else this rank's alone) */
} sc_train_result;

/* Trains the job's model, or continues its run (o->resume); cfg is the job's config, saved
 * beside the model (with [model] input set from the data). The run directory is locked while
 * training; the run's state is saved to last.safetensors at each epoch's end, every
 * [train] checkpoint_every steps (or 5 minutes) and on Ctrl-C. The caller prints the result. */
int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job, const sc_train_options *o,
             sc_train_result *out);

#endif
