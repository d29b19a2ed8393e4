/* The core of tasks whose rows carry class labels (images, vectors with labels): a seeded
 * validation hold-out of the training rows; each epoch one positive and one negative partner
 * per training anchor, redrawn and shuffled; fixed validation pairs among the held-out rows and
 * test pairs among the test rows; the report with 1-NN accuracy and the raw rows' cosine. */
#ifndef SIAMCL_TASK_LABELS_H
#define SIAMCL_TASK_LABELS_H

#include "siamcl/task.h"

/* Test pairs use this seed whatever the config says, so every run is tested on the same
 * pairs. */
#define SC_TEST_PAIRS_SEED 20261129u

/* Rows with their labels: on the host (rows x width floats, owned) and on the device. */
typedef struct sc_labelled_set {
    float *rows;
    uint8_t *labels;
    size_t n, width;
    sc_inputs in;
} sc_labelled_set;

typedef struct sc_labelled {
    sc_labelled_set train, test;
    uint32_t *anchors, *held; /* training anchors, and the validation hold-out */
    size_t nanchors, nheld;
    const char *what; /* "images", "vectors": the report's words for the rows */
} sc_labelled;

/* With L's sets filled by the kind (L owned by t->state from now on): uploads them, sets the
 * job's input width, draws the hold-out and the fixed pairs, and fills t. path names the data
 * in messages; validation is the share of training rows held out. */
int sc_labelled_open(sc_task *t, sc_labelled *L, const char *path, double validation);
void sc_labelled_close(sc_task *t);
int sc_labelled_epoch_pairs(sc_task *t, int epoch, sc_pairs *out);
int sc_labelled_report(sc_task *t, const sc_ensemble *e, sc_report *out);
int sc_labelled_write_files(const sc_task *t, const char *dir);

/* Reads a pairs table's left and right columns, each an index in 0 .. count - 1 (score);
 * what names an index in messages ("an image index"). */
int sc_read_index_pairs(const sc_csv *t, size_t count, const char *what, sc_pairs *p);
/* Names "0" .. "n-1" for rows (search prints a vector row's number). */
int sc_row_number_names(sc_user_rows *r, size_t n);

#endif
