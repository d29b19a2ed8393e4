#include "siamcl/dataset.h"

#include <stdlib.h>
#include <string.h>

/* Streams of the job's seed, one per independent draw. */
enum { STREAM_VALIDATION = 1, STREAM_EPOCH = 1000, STREAM_SHUFFLE = 1u << 20 };

int sc_images_upload(sc_runtime *rt, sc_images *im) {
    im->width = im->set.rows * im->set.cols;
    size_t n = im->set.count * im->width;
    SC_TRY(sc_buffer_new(rt, n * sizeof(float), &im->rows));
    return sc_upload(rt, (sc_view){im->rows, 0}, im->set.pixels, n);
}

void sc_images_free(sc_images *im) {
    sc_image_set_free(&im->set);
    sc_buffer_free(im->rows);
    memset(im, 0, sizeof *im);
}

static int load_images(sc_runtime *rt, const char *path, const char *split, sc_images *im) {
    SC_TRY(sc_image_set_load(path, split, &im->set));
    return sc_images_upload(rt, im);
}

int sc_dataset_load(sc_runtime *rt, const sc_job *job, sc_dataset *d) {
    memset(d, 0, sizeof *d);
    const sc_data_config *c = &job->data;
    int rc = load_images(rt, c->path, "train", &d->train);
    if (rc == SC_OK) rc = load_images(rt, c->path, "t10k", &d->test);
    if (rc == SC_OK && d->test.width != d->train.width)
        rc = sc_error(SC_EINPUT, "%s: test images are %zux%zu, training images %zux%zu", c->path,
                      d->test.set.rows, d->test.set.cols, d->train.set.rows, d->train.set.cols);
    if (rc == SC_OK)
        rc = sc_split_holdout(d->train.set.count, c->validation, job->train.seed, &d->anchors,
                              &d->nanchors, &d->held, &d->nheld);
    if (rc == SC_OK && d->nheld == 0)
        rc = sc_error(SC_EINPUT, "[data] validation = %g holds out no image", c->validation);
    if (rc == SC_OK)
        rc = sc_pairs_draw(d->train.set.labels, d->held, d->nheld, job->train.seed,
                           STREAM_VALIDATION, &d->val);
    uint32_t *all = rc == SC_OK ? malloc(d->test.set.count * sizeof *all) : NULL;
    if (rc == SC_OK && !all) rc = sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; all && i < d->test.set.count; i++) all[i] = (uint32_t)i;
    if (rc == SC_OK)
        rc = sc_pairs_draw(d->test.set.labels, all, d->test.set.count, SC_TEST_PAIRS_SEED, 0,
                           &d->tests);
    free(all);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &d->val, &d->val_dev);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &d->tests, &d->test_dev);
    if (rc != SC_OK) sc_dataset_free(d);
    return rc;
}

void sc_dataset_free(sc_dataset *d) {
    sc_images_free(&d->train);
    sc_images_free(&d->test);
    free(d->anchors);
    free(d->held);
    sc_pairs_free(&d->val);
    sc_pairs_free(&d->tests);
    sc_pairs_dev_free(&d->val_dev);
    sc_pairs_dev_free(&d->test_dev);
    memset(d, 0, sizeof *d);
}

int sc_dataset_epoch_pairs(const sc_dataset *d, uint64_t seed, int epoch, sc_pairs *out) {
    SC_TRY(sc_pairs_draw(d->train.set.labels, d->anchors, d->nanchors, seed,
                         STREAM_EPOCH + (uint64_t)epoch, out));
    sc_pairs_shuffle(out, seed, STREAM_SHUFFLE + (uint64_t)epoch);
    return SC_OK;
}
