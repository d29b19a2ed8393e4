/* Dropout (cl/elementwise.cl): the device's mask against the host's, its rate, its dependence
 * on seed and salt, the backward pass, and a model that drops only in training. */
#include "harness.h"

#include "siamcl/elementwise.h"
#include "siamcl/gather.h"
#include "siamcl/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* values a mask is checked on: fewer under a simulator (test_small) */
static size_t count(void) {
    return test_small() ? 4096 : 100000;
}
enum { N = 100000 };

/* The device's forward and backward against the host mask, and the share of kept values. */
static void mask_matches_host_and_rate(void) {
    sc_runtime *rt = test_runtime();
    static float x[N], y[N], d[N];
    test_fill(x, N, 0.5f, 1.5f); /* never zero: a kept value is seen */
    const float rates[] = {0.0f, 0.1f, 0.5f, 0.9f};
    for (size_t t = 0; t < sizeof rates / sizeof rates[0]; t++) {
        sc_dropout dr = {rates[t], 0x123456789abcull + t, 7, 0, {0, 0}};
        size_t n = count();
        cl_mem xm = test_buffer(n, x), ym = test_buffer(n, NULL), dm = test_buffer(n, x);
        int rc = sc_dropout_forward(rt, &dr, (sc_view){xm, 0}, (sc_view){ym, 0}, n);
        if (rc == SC_OK) rc = sc_dropout_backward(rt, &dr, (sc_view){dm, 0}, n);
        if (rc == SC_OK) rc = sc_download(rt, y, (sc_view){ym, 0}, n);
        if (rc == SC_OK) rc = sc_download(rt, d, (sc_view){dm, 0}, n);
        sc_buffer_free(xm), sc_buffer_free(ym), sc_buffer_free(dm);
        CHECK(rc == SC_OK, "%s", sc_last_error());
        size_t kept = 0, wrong = 0;
        float scale = 1.0f / (1.0f - rates[t]);
        for (size_t k = 0; k < n; k++) {
            int keep = sc_dropout_kept(&dr, k);
            kept += (size_t)keep;
            wrong += y[k] != (keep ? x[k] * scale : 0.0f) || d[k] != y[k];
        }
        /* binomial: 4 standard deviations of the kept share */
        double share = (double)kept / n, p = 1.0 - rates[t], sd = sqrt(p * (1 - p) / n);
        printf("    rate %.1f: kept %.4f of %zu\n", (double)rates[t], share, n);
        CHECK(wrong == 0, "rate %g: %zu values differ from the host mask", (double)rates[t], wrong);
        CHECK(fabs(share - p) <= 4 * sd + 1e-12, "rate %g: kept %.4f", (double)rates[t], share);
    }
}

/* A share of a batch (split and shifts) draws the whole batch's masks at its places: the
 * elements of a share's left rows at their whole rows, its right rows likewise, on the device
 * as on the host. */
static void share_draws_the_whole_masks(void) {
    sc_runtime *rt = test_runtime();
    enum { WHOLE = 7, AT = 2, PART = 3, WIDTH = 5 };
    sc_dropout whole = {0.5f, 0xfeedull, 3, 0, {0, 0}};
    sc_dropout part = whole;
    part.split = PART * WIDTH;
    part.shift[0] = AT * WIDTH;
    part.shift[1] = (WHOLE - PART + AT) * WIDTH;
    size_t n = 2 * PART * WIDTH, wrong = 0, host = 0;
    float x[2 * PART * WIDTH], y[2 * PART * WIDTH];
    for (size_t k = 0; k < n; k++) x[k] = 1.0f;
    cl_mem xm = test_buffer(n, x), ym = test_buffer(n, NULL);
    int rc = sc_dropout_forward(rt, &part, (sc_view){xm, 0}, (sc_view){ym, 0}, n);
    if (rc == SC_OK) rc = sc_download(rt, y, (sc_view){ym, 0}, n);
    sc_buffer_free(xm), sc_buffer_free(ym);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    for (size_t k = 0; k < n; k++) {
        size_t row = k / WIDTH, col = k % WIDTH;
        size_t whole_row = row < PART ? AT + row : WHOLE + AT + (row - PART);
        int keep = sc_dropout_kept(&whole, whole_row * WIDTH + col);
        host += keep != sc_dropout_kept(&part, k);
        wrong += y[k] != (keep ? 2.0f : 0.0f);
    }
    CHECK(host == 0, "%zu of the share's host masks are not the whole batch's", host);
    CHECK(wrong == 0, "%zu of the share's device masks are not the whole batch's", wrong);
}

/* Another seed or salt draws another mask; the same draws the same. */
static void mask_follows_seed_and_salt(void) {
    sc_dropout a = {0.5f, 42, 1, 0, {0, 0}}, b = a, c = a, same = a;
    b.seed = 43;
    c.salt = 2;
    size_t differ_seed = 0, differ_salt = 0, differ_same = 0;
    for (size_t k = 0; k < N; k++) {
        int ka = sc_dropout_kept(&a, k);
        differ_seed += ka != sc_dropout_kept(&b, k);
        differ_salt += ka != sc_dropout_kept(&c, k);
        differ_same += ka != sc_dropout_kept(&same, k);
    }
    /* independent masks at rate 0.5 differ in half the places */
    CHECK(differ_same == 0, "%zu", differ_same);
    CHECK(fabs(differ_seed / (double)N - 0.5) < 0.01, "seeds: %zu of %d differ", differ_seed, N);
    CHECK(fabs(differ_salt / (double)N - 0.5) < 0.01, "salts: %zu of %d differ", differ_salt, N);
}

/* Scoring (evaluation) never drops: a dropout model scores as the same model without. */
static void evaluation_does_not_drop(void) {
    enum { B = 6, W = 8 };
    sc_runtime *rt = test_runtime();
    sc_model_config mc = {.input = W, .nlayers = 3, .layers = {16, 16, 4}};
    mc.activation = SC_ACT_RELU;
    mc.head = SC_HEAD_MLP;
    mc.head_nlayers = 1;
    mc.head_layers[0] = 8;
    mc.head_activation = SC_ACT_RELU;
    sc_loss_config lc = {SC_LOSS_MSE, 0, 0, SC_MINING_NONE};
    float x[2 * B * W], y[B], s1[B], s2[B], s3[B];
    test_fill(x, 2 * B * W, -1, 1);
    test_fill(y, B, 0, 1);
    int32_t idx[2 * B];
    for (int i = 0; i < 2 * B; i++) idx[i] = i;
    sc_pairs p = {B, idx, idx + B, y, NULL, 0};
    sc_inputs in = {0};
    sc_pairs_dev pd = {0};
    sc_model *plain = NULL, *dropping = NULL;
    int rc = sc_inputs_dense(rt, x, 2 * B, W, &in);
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &p, &pd);
    if (rc == SC_OK) rc = sc_model_create(rt, &mc, &lc, B, 3, &plain);
    mc.dropout = 0.5f;
    if (rc == SC_OK) rc = sc_model_create(rt, &mc, &lc, B, 3, &dropping);
    sc_batch b = {&in, &pd, 0, B, NULL, 0, 9, 0, 0};
    if (rc == SC_OK) rc = sc_model_forward(plain, &b);
    if (rc == SC_OK) rc = sc_download(rt, s1, sc_model_scores(plain), B);
    if (rc == SC_OK) rc = sc_model_forward(dropping, &b);
    if (rc == SC_OK) rc = sc_download(rt, s2, sc_model_scores(dropping), B);
    /* a training pass drops: its scores differ */
    if (rc == SC_OK) rc = sc_model_train_pass(dropping, &b);
    if (rc == SC_OK) rc = sc_download(rt, s3, sc_model_scores(dropping), B);
    sc_model_free(plain), sc_model_free(dropping);
    sc_inputs_free(&in), sc_pairs_dev_free(&pd);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK(!memcmp(s1, s2, sizeof s1), "scoring with dropout set: %g vs %g", s1[0], s2[0]);
    CHECK(memcmp(s1, s3, sizeof s1), "a training pass dropped nothing");
}

TEST_MAIN(TEST(share_draws_the_whole_masks), TEST(mask_matches_host_and_rate),
          TEST(mask_follows_seed_and_salt), TEST(evaluation_does_not_drop))
