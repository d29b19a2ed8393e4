/* Training a job's model on its task: epochs of training pairs, validation after each, early
 * stopping, the best weights restored and evaluated on the test pairs. The run directory
 * receives config.ini, the task's files, history.csv, model.safetensors (at each improvement)
 * and metrics.json. */
#ifndef SIAMCL_TRAIN_H
#define SIAMCL_TRAIN_H

#include "siamcl/job.h"
#include "siamcl/report.h"

/* Exit status of a run stopped by Ctrl-C (128 + SIGINT). */
#define SC_INTERRUPTED 130

typedef struct sc_train_result {
    int epochs, best_epoch;
    int tested;       /* the task has test pairs, and report holds the test table */
    sc_report report; /* the best weights and the baselines on the test pairs */
} sc_train_result;

/* Trains the job's model; cfg is the job's config, saved beside the model (with [model] input
 * set from the data). Progress and one line per epoch go to log; the caller prints the
 * result. */
int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job, FILE *log, sc_train_result *out);

/* Creates dir and its parents. */
int sc_make_dirs(const char *dir);

#endif
