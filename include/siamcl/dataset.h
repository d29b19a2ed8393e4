/* The image-pair task's data on the device: the training and test images, the validation
 * hold-out, and the fixed validation and test pairs. */
#ifndef SIAMCL_DATASET_H
#define SIAMCL_DATASET_H

#include "siamcl/gather.h"
#include "siamcl/idx.h"
#include "siamcl/job.h"

/* Test pairs use this seed whatever the config says, so every run is tested on the same
 * pairs. */
#define SC_TEST_PAIRS_SEED 20261129u

typedef struct sc_images {
    sc_image_set set;
    size_t width; /* rows * cols */
    cl_mem rows;  /* set.count x width on the device */
} sc_images;

/* Puts the images of im->set on the device (width and rows). */
int sc_images_upload(sc_runtime *rt, sc_images *im);
/* Frees the set and the device copy. */
void sc_images_free(sc_images *im);

typedef struct sc_dataset {
    sc_images train, test;
    uint32_t *anchors, *held; /* training anchors, and the validation hold-out */
    size_t nanchors, nheld;
    sc_pairs val, tests;
    sc_pairs_dev val_dev, test_dev;
} sc_dataset;

/* Loads <path> train and t10k sets, uploads them, and draws the validation and test pairs. */
int sc_dataset_load(sc_runtime *rt, const sc_job *job, sc_dataset *d);
void sc_dataset_free(sc_dataset *d);

/* One epoch's training pairs: two per anchor, redrawn for each epoch, shuffled. */
int sc_dataset_epoch_pairs(const sc_dataset *d, uint64_t seed, int epoch, sc_pairs *out);

#endif
