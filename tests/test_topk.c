/* The device top-k (cl/topk.cl) against a plain C selection on random score rows with ties,
 * with and without a column bias, k from 1 to SC_TOPK_MAX and rows shorter than k. */
#include "harness.h"

#include "siamcl/topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The reference: column c of row r ranks after every column scored higher, or as high and
 * lower-numbered (double scores of s - bias, which float rounding leaves in the same order). */
static void reference(const float *s, const float *bias, size_t cols, size_t k, float *v,
                      int32_t *ix) {
    for (size_t j = 0; j < k; j++) v[j] = -INFINITY, ix[j] = -1;
    for (size_t c = 0; c < cols; c++) {
        float x = bias ? s[c] - bias[c] : s[c];
        size_t rank = 0;
        for (size_t d = 0; d < cols; d++) {
            float y = bias ? s[d] - bias[d] : s[d];
            rank += y > x || (y == x && d < c);
        }
        if (rank < k) v[rank] = x, ix[rank] = (int32_t)c;
    }
}

static void matches_reference(void) {
    sc_runtime *rt = test_runtime();
    const size_t shapes[][3] = {{3, 1, 1},   {5, 7, 10},    {6, 129, 5},
                                {1, 64, 64}, {4, 1000, 37}, {2, 5000, SC_TOPK_MAX}};
    /* under Oclgrind (SIAMCL_TEST_SMALL) the first four shapes alone */
    size_t nshapes = getenv("SIAMCL_TEST_SMALL") ? 4 : sizeof shapes / sizeof shapes[0];
    size_t wrong = 0;
    for (size_t t = 0; t < nshapes; t++) {
        size_t rows = shapes[t][0], cols = shapes[t][1], k = shapes[t][2];
        float *s = malloc(rows * cols * sizeof *s), *bias = malloc(cols * sizeof *bias);
        float *v = malloc(rows * k * sizeof *v), *rv = malloc(k * sizeof *rv);
        int32_t *ix = malloc(rows * k * sizeof *ix), *rix = malloc(k * sizeof *rix);
        for (size_t i = 0; i < rows * cols; i++) /* a few dozen values: many ties */
            s[i] = (float)sc_rng_below(test_rng(), 40) / 8.0f - 2.0f;
        for (size_t c = 0; c < cols; c++) bias[c] = (float)sc_rng_below(test_rng(), 4) / 4.0f;
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            sc_topk_scratch scratch;
            cl_mem sm = test_buffer(rows * cols, s), bm = test_buffer(cols, bias);
            cl_mem vm = test_buffer(rows * k, NULL), im = test_buffer(rows * k, NULL);
            int rc = sc_topk_scratch_new(rt, rows, k, &scratch);
            if (rc == SC_OK)
                rc = sc_topk(rt, (sc_view){sm, 0}, rows, cols, (sc_view){with_bias ? bm : NULL, 0},
                             k, &scratch, vm, im);
            if (rc == SC_OK) rc = sc_download(rt, v, (sc_view){vm, 0}, rows * k);
            if (rc == SC_OK) rc = sc_download_bytes(rt, ix, im, 0, rows * k * sizeof *ix);
            CHECK(rc == SC_OK, "%s", sc_last_error());
            for (size_t r = 0; rc == SC_OK && r < rows; r++) {
                reference(s + r * cols, with_bias ? bias : NULL, cols, k, rv, rix);
                for (size_t j = 0; j < k; j++)
                    wrong += ix[r * k + j] != rix[j] || (rix[j] >= 0 && v[r * k + j] != rv[j]);
            }
            sc_topk_scratch_free(&scratch);
            sc_buffer_free(sm), sc_buffer_free(bm), sc_buffer_free(vm), sc_buffer_free(im);
        }
        free(s), free(bias), free(v), free(rv), free(ix), free(rix);
    }
    CHECK(wrong == 0, "%zu selections differ from the reference", wrong);
}

static void bad_k_is_refused(void) {
    sc_runtime *rt = test_runtime();
    sc_topk_scratch scratch;
    CHECK_OK(sc_topk_scratch_new(rt, 1, 4, &scratch));
    cl_mem m = test_buffer(8, NULL);
    int big = sc_topk(rt, (sc_view){m, 0}, 1, 8, (sc_view){NULL, 0}, 5, &scratch, m, m);
    int zero = sc_topk(rt, (sc_view){m, 0}, 1, 8, (sc_view){NULL, 0}, 0, &scratch, m, m);
    CHECK(big == SC_EINPUT && zero == SC_EINPUT, "%d %d", big, zero);
    sc_topk_scratch_free(&scratch);
    sc_buffer_free(m);
}

TEST_MAIN(TEST(matches_reference), TEST(bad_k_is_refused))
