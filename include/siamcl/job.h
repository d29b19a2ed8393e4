/* A job: everything a config file says about data, model, training and output, read and
 * validated in one place so that every command rejects the same typos. */
#ifndef SIAMCL_JOB_H
#define SIAMCL_JOB_H

#include "siamcl/csv.h"
#include "siamcl/features.h"
#include "siamcl/model.h"
#include "siamcl/optim.h"

#include <stdint.h>

typedef enum { SC_DATA_IDX, SC_DATA_CSV } sc_data_format;
extern const char *const sc_data_format_names[]; /* "idx", "csv", NULL */

typedef struct sc_data_config {
    sc_data_format format;
    const char *path;  /* idx: a folder of <split>-images/labels files, or a file prefix;
                          csv: the file */
    double validation; /* idx: the fraction of training anchors held out for validation */
    /* csv */
    sc_encoding encoding;
    const char *left, *right, *target, *group; /* column names; group may be "" (none) */
    int split[3];                              /* train, validation, test shares in percent */
    sc_features_config features;
} sc_data_config;

typedef struct sc_train_config {
    size_t batch_size;
    int epochs;
    int patience;     /* epochs without improvement before stopping; 0 never stops early */
    double min_delta; /* the least fall of the validation loss that counts as improvement */
    uint64_t seed;
    sc_loss_config loss;
    sc_optim_config optim;
} sc_train_config;

typedef struct sc_job {
    sc_config *cfg; /* not owned */
    sc_data_config data;
    sc_model_config model;
    sc_train_config train;
    char out_dir[1024]; /* [output] dir, by default runs/<config name> */
    double target_mean; /* the training targets' mean once known (text), else NaN */
} sc_job;

/* Reads every section of cfg and rejects any key left unread. */
int sc_job_read(sc_config *cfg, sc_job *job);

/* Pairs per batch when scoring: larger than training batches for speed, except for the
 * softmax loss, whose value depends on the batch (its in-batch negatives). */
size_t sc_job_eval_batch(const sc_job *job);

#endif
