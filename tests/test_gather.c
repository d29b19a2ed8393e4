/* Gathering batches on the device (cl/gather.cl): the rows an index names, row-major and
 * feature-major, against the host's copy, for widths and block sizes on and off the kernels'
 * vector and tile widths. A copy is exact. */
#include "harness.h"

#include "siamcl/gather.h"

#include <stdlib.h>
#include <string.h>

enum { NROWS = 50, PAIRS = 11, FIRST = 3 };

/* The source row of row g of a pairs index: left sides, then right sides. */
static int source(const int *left, const int *right, int g) {
    return g < PAIRS ? left[FIRST + g] : right[FIRST + g - PAIRS];
}

typedef struct fixture {
    float *rows, *got;
    int left[FIRST + PAIRS], right[FIRST + PAIRS];
    cl_mem rows_dev, left_dev, right_dev, out;
} fixture;

static void fixture_open(fixture *f, size_t width) {
    sc_rng *rng = test_rng();
    f->rows = malloc(NROWS * width * sizeof *f->rows);
    f->got = malloc((2 * PAIRS * width + 5) * sizeof *f->got);
    test_fill(f->rows, NROWS * width, -1, 1);
    for (int i = 0; i < FIRST + PAIRS; i++) {
        f->left[i] = (int)sc_rng_below(rng, NROWS);
        f->right[i] = (int)sc_rng_below(rng, NROWS);
    }
    f->rows_dev = test_buffer(NROWS * width, f->rows);
    f->left_dev = test_buffer(FIRST + PAIRS, (const float *)f->left);
    f->right_dev = test_buffer(FIRST + PAIRS, (const float *)f->right);
    f->out = test_buffer(2 * PAIRS * width + 5, NULL);
}

static void fixture_close(fixture *f) {
    for (cl_mem *m = (cl_mem[]){f->rows_dev, f->left_dev, f->right_dev, f->out}, *e = m + 4; m < e;
         m++)
        sc_buffer_free(*m);
    free(f->rows), free(f->got);
}

static const size_t widths[] = {1, 7, 8, 9, 20, 64};

/* x = the index's rows, at an offset into the output buffer. */
static void rows_match_host(void) {
    sc_runtime *rt = test_runtime();
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        size_t width = widths[w], wrong = 0;
        fixture f;
        fixture_open(&f, width);
        sc_row_index ix = {f.left_dev, f.right_dev, FIRST, PAIRS, 2 * PAIRS};
        int rc = sc_gather(rt, f.rows_dev, width, &ix, (sc_view){f.out, 5});
        if (rc == SC_OK) rc = sc_download(rt, f.got, (sc_view){f.out, 5}, 2 * PAIRS * width);
        for (int g = 0; rc == SC_OK && g < 2 * PAIRS; g++)
            wrong += memcmp(f.got + g * width, f.rows + source(f.left, f.right, g) * width,
                            width * sizeof(float)) != 0;
        fixture_close(&f);
        CHECK(rc == SC_OK, "%s", sc_last_error());
        CHECK(wrong == 0, "width %zu: %zu rows differ", width, wrong);
    }
}

/* x^T of rows from .. from + nb - 1: blocks that start and end on either side of the split. */
static void feature_major_blocks_match_host(void) {
    sc_runtime *rt = test_runtime();
    const size_t blocks[][2] = {{0, 2 * PAIRS}, {0, 8}, {5, 13}, {9, 1}, {14, 8}};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
            size_t width = widths[w], from = blocks[b][0], nb = blocks[b][1], wrong = 0;
            fixture f;
            fixture_open(&f, width);
            sc_row_index ix = {f.left_dev, f.right_dev, FIRST, PAIRS, 2 * PAIRS};
            int rc = sc_gather_fm(rt, f.rows_dev, width, &ix, from, nb, (sc_view){f.out, 5});
            if (rc == SC_OK) rc = sc_download(rt, f.got, (sc_view){f.out, 5}, nb * width);
            for (size_t r = 0; rc == SC_OK && r < nb; r++)
                for (size_t c = 0; c < width; c++)
                    wrong += f.got[c * nb + r] !=
                             f.rows[source(f.left, f.right, (int)(from + r)) * width + c];
            fixture_close(&f);
            CHECK(rc == SC_OK, "%s", sc_last_error());
            CHECK(wrong == 0, "width %zu, rows %zu..%zu: %zu values differ", width, from,
                  from + nb - 1, wrong);
        }
    }
}

TEST_MAIN(TEST(rows_match_host), TEST(feature_major_blocks_match_host))
