/* What a config's [data] and [features] sections say: the plain settings the data readers and
 * tasks take (job.h reads them from a config). */
#ifndef SIAMCL_DATA_CONFIG_H
#define SIAMCL_DATA_CONFIG_H

#include "siamcl/csv.h"
#include "siamcl/features.h"

typedef enum { SC_DATA_IDX, SC_DATA_CSV, SC_DATA_NPY } sc_data_format;
extern const char *const sc_data_format_names[]; /* "idx", "csv", "npy", NULL */

typedef struct sc_data_config {
    sc_data_format format;
    const char *path;  /* idx: a folder of <split>-images/labels files, or a file prefix;
                          csv: the file; npy: the vectors (N x D float32 or float64) */
    double validation; /* idx, npy labels: the fraction of training anchors held out for
                          validation */
    /* csv */
    sc_encoding encoding;
    const char *left, *right, *target, *group; /* column names; group may be "" (none), and
                                                  is the one npy pairs read too */
    int split[3]; /* train, validation, test shares in percent (csv, npy pairs) */
    sc_features_config features;
    /* npy: pairs from class labels (labels set) or from a CSV of pairs (pairs set); exactly
       one of the two, and "" for the unset one and every other unset file */
    const char *labels;             /* integer labels, one per row of path */
    const char *test, *test_labels; /* labels: a test set and its labels; "": a split of path */
    double test_fraction;           /* labels without test: the share of rows held for test */
    const char *pairs;              /* a CSV of left,right,target (row indices) and maybe group */
    const char *right_vectors;      /* pairs: the vectors right indices point into; "": path's */
} sc_data_config;

#endif
