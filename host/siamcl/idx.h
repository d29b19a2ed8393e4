/* IDX files, the format of MNIST and Fashion-MNIST: unsigned-byte images and labels, plain or
 * gzip-compressed. Every malformed file is an SC_EINPUT error naming the file and the fault. */
#ifndef SIAMCL_IDX_H
#define SIAMCL_IDX_H

#include <stddef.h>
#include <stdint.h>

/* Images with their labels: pixels scaled to [0,1], row-major, count x (rows * cols). */
typedef struct sc_image_set {
    size_t count, rows, cols;
    float *pixels;
    uint8_t *labels;
} sc_image_set;

/* Reads an images file (magic 0x00000803: count x rows x cols bytes), gzip or plain; each
 * pixel becomes byte / 255. The caller frees *pixels. */
int sc_idx_load_images(const char *path, float **pixels, size_t *count, size_t *rows, size_t *cols);
/* Reads a labels file (magic 0x00000801: count bytes), gzip or plain. The caller frees
 * *labels. */
int sc_idx_load_labels(const char *path, uint8_t **labels, size_t *count);

/* Reads a set from the pair <base>-images-idx3-ubyte and <base>-labels-idx1-ubyte, each file
 * tried plain first, then with .gz. When path is a directory, base is <path>/<split> (split is
 * "train" or "t10k"); otherwise path itself is the base and split is not used. The two files
 * must hold the same count. */
int sc_image_set_load(const char *path, const char *split, sc_image_set *out);
void sc_image_set_free(sc_image_set *s);

#endif
