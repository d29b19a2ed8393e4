/* The stable API (include/siamcl/siamcl.h): a saved model's embeddings and scores through it
 * are the library's own, two threads with their own engines agree bit for bit, and every bad
 * call is refused with SC_EINPUT and a message, never a crash. */
#include "harness.h"

#include "siamcl/siamcl.h"
#include "siamcl/checkpoint.h"
#include "siamcl/config.h"
#include "siamcl/evaluate.h"
#include "siamcl/gather.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INPUT 12
#define ROWS  37 /* more than a scoring batch of the model's (8) */
#define WIDTH 4

static const char *config_text = "[model]\ninput = 12\nlayers = 8,4\nhead = mlp\nhead_layers = 5\n"
                                 "output = range\ntarget_min = 1\ntarget_max = 3\n"
                                 "[train]\nbatch_size = 8\n";
static char model_path[128];
static float rows[2 * ROWS * INPUT];

/* A model with random parameters saved to model_path; its embeddings of rows (2 ROWS) and
 * its scores of the pairs (i, ROWS + i), as the library computes them. */
static int save_model(float *emb, float *scores) {
    sc_runtime *rt = test_runtime();
    sc_config *cfg;
    sc_job job;
    sc_model *m = NULL;
    sc_inputs in = {0};
    sc_pairs p = {0};
    sc_pairs_dev pd = {0};
    cl_mem dev = NULL;
    snprintf(model_path, sizeof model_path, "/tmp/siamcl_api_%d.safetensors", (int)getpid());
    test_fill(rows, 2 * ROWS * INPUT, -1, 1);
    SC_TRY(sc_config_parse(config_text, "test config", &cfg));
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK) rc = sc_model_create(rt, &job.model, &job.train.loss, 8, 7, &m);
    if (rc == SC_OK) rc = sc_checkpoint_save(m, &job, model_path);
    if (rc == SC_OK) rc = sc_inputs_dense(rt, rows, 2 * ROWS, INPUT, &in);
    if (rc == SC_OK) rc = sc_buffer_new(rt, 2 * ROWS * WIDTH * sizeof(float), &dev);
    if (rc == SC_OK) rc = sc_embed_rows(m, &in, 0, 2 * ROWS, dev);
    if (rc == SC_OK) rc = sc_download(rt, emb, (sc_view){dev, 0}, 2 * ROWS * WIDTH);
    if (rc == SC_OK) rc = sc_pairs_alloc(&p, ROWS);
    for (size_t i = 0; rc == SC_OK && i < ROWS; i++) {
        p.left[i] = (int32_t)i;
        p.right[i] = (int32_t)(ROWS + i);
        p.target[i] = 0;
    }
    if (rc == SC_OK) rc = sc_pairs_upload(rt, &p, &pd);
    if (rc == SC_OK) rc = sc_score_pairs(m, &in, &pd, scores, NULL);
    sc_pairs_dev_free(&pd);
    sc_pairs_free(&p);
    sc_buffer_free(dev);
    sc_inputs_free(&in);
    sc_model_free(m);
    sc_config_free(cfg);
    return rc;
}

/* emb (2 ROWS x WIDTH) and scores (ROWS) of rows through the API, on its own engine. */
static int through_api(float *emb, float *scores) {
    sc_engine *e = NULL;
    sc_encoder *enc = NULL;
    int rc = sc_engine_open(getenv("SIAMCL_DEVICE"), &e);
    if (rc == SC_OK) rc = sc_encoder_load(e, model_path, &enc);
    if (rc == SC_OK && (sc_encoder_reads_text(enc) != 0 || sc_encoder_input_width(enc) != INPUT ||
                        sc_encoder_embedding_width(enc) != WIDTH))
        rc = SC_ERR;
    if (rc == SC_OK) rc = sc_encoder_embed_rows(enc, rows, 2 * ROWS, INPUT, emb);
    if (rc == SC_OK)
        rc = sc_encoder_score_rows(enc, rows, rows + ROWS * INPUT, ROWS, INPUT, scores);
    sc_encoder_free(enc);
    sc_engine_close(e);
    return rc;
}

static void embeds_and_scores_as_the_library(void) {
    static float want_emb[2 * ROWS * WIDTH], want[ROWS], emb[2 * ROWS * WIDTH], scores[ROWS];
    CHECK_OK(save_model(want_emb, want));
    CHECK_OK(through_api(emb, scores));
    double ref_emb[2 * ROWS * WIDTH], ref[ROWS];
    for (size_t i = 0; i < 2 * ROWS * WIDTH; i++) ref_emb[i] = want_emb[i];
    for (size_t i = 0; i < ROWS; i++) ref[i] = want[i];
    /* the same kernels on the same rows: equal, up to a device that differs between contexts */
    CHECK_REL(test_rel_error(emb, ref_emb, 2 * ROWS * WIDTH), 1e-6, "embeddings");
    CHECK_REL(test_rel_error(scores, ref, ROWS), 1e-6, "scores");
}

typedef struct worker {
    pthread_t thread;
    float emb[2 * ROWS * WIDTH], scores[ROWS];
    int rc;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    w->rc = through_api(w->emb, w->scores);
    return NULL;
}

/* Two threads, each with its own engine and encoder, at once. */
static void two_threads_agree(void) {
    static worker w[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&w[i].thread, NULL, work, &w[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(w[i].thread, NULL);
    CHECK(w[0].rc == SC_OK && w[1].rc == SC_OK, "statuses %d, %d", w[0].rc, w[1].rc);
    CHECK(!memcmp(w[0].emb, w[1].emb, sizeof w[0].emb) &&
              !memcmp(w[0].scores, w[1].scores, sizeof w[0].scores),
          "two threads' results differ");
}

/* status is SC_EINPUT and the message holds text. */
static void refused(int status, const char *text, const char *what) {
    CHECK(status == SC_EINPUT && sc_last_error_code() == SC_EINPUT, "%s: status %d", what, status);
    CHECK(strstr(sc_last_error(), text), "%s: message '%s' lacks '%s'", what, sc_last_error(),
          text);
}

static void bad_calls_are_refused(void) {
    float out[2 * ROWS * WIDTH];
    const char *texts[] = {"a"};
    sc_engine *e = NULL;
    sc_encoder *enc = NULL;
    refused(sc_engine_open("no such device", &e), "matches no device", "an unknown device");
    CHECK(e == NULL, "a failed open left a handle");
    refused(sc_engine_open(NULL, NULL), "out is NULL", "a NULL out");
    CHECK_OK(sc_engine_open(getenv("SIAMCL_DEVICE"), &e));
    refused(sc_encoder_load(e, "/nonexistent/model", &enc), "no such file", "a missing file");
    refused(sc_encoder_load(NULL, model_path, &enc), "NULL engine", "a NULL engine");
    refused(sc_encoder_load(e, SC_TEST_DATA "/tiny_text.csv", &enc), "tiny_text.csv",
            "a file that is not a checkpoint");
    CHECK(enc == NULL, "a failed load left a handle");
    CHECK_OK(sc_encoder_load(e, model_path, &enc));
    refused(sc_encoder_embed_rows(NULL, rows, 1, INPUT, out), "encoder is NULL", "NULL encoder");
    refused(sc_encoder_embed_rows(enc, rows, 1, INPUT + 1, out), "rows of 13 floats",
            "a wrong-width row");
    refused(sc_encoder_embed_rows(enc, NULL, 1, INPUT, out), "NULL input", "NULL rows");
    refused(sc_encoder_embed_texts(enc, texts, 1, out), "reads rows of floats",
            "texts to a model of rows");
    refused(sc_encoder_score_rows(enc, rows, NULL, 1, INPUT, out), "right is NULL",
            "a NULL right side");
    CHECK(sc_encoder_reads_text(NULL) == -1 && sc_encoder_embedding_width(NULL) == 0 &&
              sc_encoder_input_width(NULL) == 0 && !strcmp(sc_engine_device(NULL), ""),
          "NULL handles' queries");
    CHECK_OK(sc_encoder_embed_rows(enc, rows, 0, INPUT, out)); /* nothing to do */
    CHECK(strlen(sc_version()) >= 5, "version '%s'", sc_version());
    sc_encoder_free(enc);
    sc_engine_close(e);
    sc_encoder_free(NULL);
    sc_engine_close(NULL);
    unlink(model_path);
}

TEST_MAIN(TEST(embeds_and_scores_as_the_library), TEST(two_threads_agree),
          TEST(bad_calls_are_refused))
