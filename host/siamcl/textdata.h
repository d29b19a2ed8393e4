/* The text-pair task's data: a CSV of (left text, right text, target[, group]) rows, hashed
 * into features once, and split into training, validation and test rows by group, so that no
 * group (a product, say) is in two splits. */
#ifndef SIAMCL_TEXTDATA_H
#define SIAMCL_TEXTDATA_H

#include "siamcl/data_config.h"
#include "siamcl/pairs.h"

enum { SC_SPLIT_TRAIN, SC_SPLIT_VAL, SC_SPLIT_TEST };
extern const char *const sc_split_names[]; /* "train", "validation", "test" */

typedef struct sc_text_data {
    sc_csv *csv;
    size_t n;        /* rows */
    sc_csr texts;    /* 2n rows: the left texts, then the right texts */
    float *targets;  /* n */
    float *overlap;  /* n x SC_OVERLAP_FEATURES: each row's texts' overlap (overlap.h) */
    uint8_t *split;  /* n: SC_SPLIT_* of each row */
    size_t count[3]; /* rows per split */
} sc_text_data;

/* Reads and featurizes the CSV the data config names and splits it by group with seed; with
 * all_test, every row is a test row (a held-out file). */
int sc_text_data_load(const sc_data_config *c, uint64_t seed, int all_test, sc_text_data *d);
void sc_text_data_free(sc_text_data *d);

/* Splits n rows of t into SC_SPLIT_* (which[r]) by the value of column col (-1: every row its
 * own group), so that a group is in one split: the groups shuffled with seed and dealt out in
 * the percentages split; count[] gets the rows per split, *ngroups the groups. */
int sc_group_split(const sc_csv *t, int col, size_t n, const int split[3], uint64_t seed,
                   uint8_t *which, size_t count[3], size_t *ngroups);

/* The rows of one split as pairs (left text i, right text n + i), in file order, with their
 * overlap features when overlap is set. */
int sc_text_pairs(const sc_text_data *d, int split, int overlap, sc_pairs *out);
/* The overlap features of n rows of two columns of t into out (n x SC_OVERLAP_FEATURES). */
int sc_text_overlap(const sc_csv *t, int left, int right, size_t n, float *out);
/* The mean target of the training rows. */
double sc_text_train_mean(const sc_text_data *d);
/* Writes "row,id,split" for every row (id: the CSV's id column, else the row number), so
 * that another tool can train and test on exactly this split. */
int sc_text_write_split(const sc_text_data *d, const char *path);

#endif
