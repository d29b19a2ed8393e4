/* The image task ([data] format = idx): MNIST-style IDX files of images and class labels,
 * <path> train and t10k sets (a folder of them, or a file prefix), paired by class. */
#include "task_labels.h"
#include "siamcl/idx.h"

#include <stdlib.h>
#include <string.h>

/* Moves an image set's pixels and labels into s (the set gives them up). */
static void take_set(sc_image_set *im, sc_labelled_set *s) {
    s->rows = im->pixels;
    s->labels = im->labels;
    s->n = im->count;
    s->width = im->rows * im->cols;
    im->pixels = NULL;
    im->labels = NULL;
}

static int load_set(const char *path, const char *split, sc_labelled_set *s) {
    sc_image_set im;
    SC_TRY(sc_image_set_load(path, split, &im));
    take_set(&im, s);
    sc_image_set_free(&im);
    return SC_OK;
}

/* data (eval --data) names other files than the config's [data] path. */
static int open_images(sc_task *t, const char *data) {
    sc_labelled *L = calloc(1, sizeof *L);
    if (!L) return sc_error(SC_ERR, "out of memory");
    t->state = L;
    L->what = "images";
    if (data) t->job->data.path = data;
    const char *path = t->job->data.path;
    SC_TRY(load_set(path, "train", &L->train));
    SC_TRY(load_set(path, "t10k", &L->test));
    return sc_labelled_open(t, L, path, t->job->data.validation);
}

/* An IDX images file of the model's input width, as embed takes it and score's pairs index. */
static int read_images(sc_runtime *rt, const sc_job *job, const char *path, sc_user_rows *out) {
    float *pixels;
    size_t count, rows, cols;
    SC_TRY(sc_idx_load_images(path, &pixels, &count, &rows, &cols));
    int rc = SC_OK;
    if (rows * cols != (size_t)job->model.input)
        rc = sc_error(SC_EINPUT, "%s: images of %zu values, but the model takes %d", path,
                      rows * cols, job->model.input);
    if (rc == SC_OK) rc = sc_inputs_dense(rt, pixels, count, rows * cols, &out->in);
    if (rc == SC_OK) rc = sc_row_number_names(out, count);
    free(pixels);
    return rc;
}

static int read_rows(sc_runtime *rt, const sc_job *job, const char *path, const sc_read_options *o,
                     sc_user_rows *out) {
    if (o->column || o->encoding)
        return sc_error(SC_EINPUT, "--column and --encoding are for text models");
    return read_images(rt, job, path, out);
}

static int read_pairs(sc_runtime *rt, const sc_job *job, const sc_csv *table,
                      const sc_read_options *o, sc_user_rows *rows, sc_pairs *out) {
    if (!o->rows) return sc_error(SC_EINPUT, "score: an image model needs --images IDX");
    SC_TRY(read_images(rt, job, o->rows, rows));
    return sc_read_index_pairs(table, rows->in.n, "an image index", out);
}

const sc_task_kind sc_task_images = {
    .format = "idx",
    .open = open_images,
    .close = sc_labelled_close,
    .epoch_pairs = sc_labelled_epoch_pairs,
    .report = sc_labelled_report,
    .write_files = sc_labelled_write_files,
    .read_rows = read_rows,
    .read_pairs = read_pairs,
};
