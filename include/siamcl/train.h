/* Training on the image-pair task: epochs of freshly drawn pairs, validation after each, early
 * stopping, the best weights restored and evaluated at the end. The run directory receives
 * config.ini, val_pairs.csv, test_pairs.csv, history.csv, model.safetensors (at each
 * improvement) and metrics.json. */
#ifndef SIAMCL_TRAIN_H
#define SIAMCL_TRAIN_H

#include "siamcl/job.h"

/* Exit status of a run stopped by Ctrl-C (128 + SIGINT). */
#define SC_INTERRUPTED 130

/* Trains the job's model; cfg is the job's config, saved beside the model (with [model] input
 * set from the data). */
int sc_train(sc_runtime *rt, sc_config *cfg, sc_job *job);

/* Creates dir and its parents. */
int sc_make_dirs(const char *dir);

#endif
