/* The stable API of include/siamcl/siamcl.h over the library's modules: an engine is a
 * runtime with its GEMM parameters chosen; an encoder is a checkpoint's model and job (whose
 * [features] hash a text model's inputs). */
#include "siamcl/siamcl.h"
#include "siamcl/checkpoint.h"
#include "siamcl/config.h"
#include "siamcl/error.h"
#include "siamcl/evaluate.h"
#include "siamcl/features.h"
#include "siamcl/overlap.h"
#include "siamcl/tune.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sc_engine {
    sc_runtime *rt;
};

struct sc_encoder {
    sc_engine *engine;
    sc_config *cfg;
    sc_job job;
    sc_model *m;
};

const char *sc_version(void) {
    return SC_VERSION;
}

int sc_engine_open(const char *spec, sc_engine **out) {
    if (!out) return sc_error(SC_EINPUT, "sc_engine_open: out is NULL");
    *out = NULL;
    sc_engine *e = calloc(1, sizeof *e);
    if (!e) return sc_error(SC_ERR, "out of memory");
    int rc = sc_runtime_open(&e->rt, spec ? spec : "auto");
    if (rc == SC_OK) rc = sc_gemm_params_choose(e->rt);
    if (rc != SC_OK) {
        sc_engine_close(e);
        return rc;
    }
    *out = e;
    return SC_OK;
}

const char *sc_engine_device(const sc_engine *e) {
    return e ? e->rt->dev.name : "";
}

void sc_engine_close(sc_engine *e) {
    if (!e) return;
    sc_runtime_close(e->rt);
    free(e);
}

/* The checkpoint that path names: the file, or a run directory's model.safetensors. */
static int checkpoint_path(const char *path, char *out, size_t size) {
    struct stat st;
    if (stat(path, &st) != 0) return sc_error(SC_EINPUT, "%s: no such file or directory", path);
    if (!S_ISDIR(st.st_mode)) {
        snprintf(out, size, "%s", path);
        return SC_OK;
    }
    snprintf(out, size, "%s/member-1", path);
    if (stat(out, &st) == 0)
        return sc_error(SC_EINPUT,
                        "%s: an ensemble's run directory; load one member's model, e.g. "
                        "%s/member-1",
                        path, path);
    snprintf(out, size, "%s/model.safetensors", path);
    return SC_OK;
}

int sc_encoder_load(sc_engine *e, const char *path, sc_encoder **out) {
    if (!out) return sc_error(SC_EINPUT, "sc_encoder_load: out is NULL");
    *out = NULL;
    if (!e || !path) return sc_error(SC_EINPUT, "sc_encoder_load: a NULL engine or path");
    char file[1100];
    SC_TRY(checkpoint_path(path, file, sizeof file));
    sc_encoder *enc = calloc(1, sizeof *enc);
    if (!enc) return sc_error(SC_ERR, "out of memory");
    enc->engine = e;
    int rc = sc_checkpoint_load(e->rt, file, 0, &enc->cfg, &enc->job, &enc->m);
    if (rc != SC_OK) {
        sc_encoder_free(enc);
        return rc;
    }
    *out = enc;
    return SC_OK;
}

void sc_encoder_free(sc_encoder *enc) {
    if (!enc) return;
    sc_model_free(enc->m);
    sc_config_free(enc->cfg);
    free(enc);
}

int sc_encoder_reads_text(const sc_encoder *enc) {
    return enc ? enc->m->cfg.sparse_input : -1;
}

size_t sc_encoder_input_width(const sc_encoder *enc) {
    return enc && !enc->m->cfg.sparse_input ? (size_t)enc->m->cfg.input : 0;
}

size_t sc_encoder_embedding_width(const sc_encoder *enc) {
    return enc ? (size_t)sc_model_embedding_width(enc->m) : 0;
}

/* Whether the call fits the encoder: a handle, the input kind it reads, and rows of its
 * width; `what` names the call. */
static int check_call(const sc_encoder *enc, const char *what, int text, size_t width,
                      const void *a, const void *b) {
    if (!enc) return sc_error(SC_EINPUT, "%s: the encoder is NULL", what);
    if (!a || !b) return sc_error(SC_EINPUT, "%s: a NULL input or output", what);
    if (enc->m->cfg.sparse_input != text)
        return sc_error(SC_EINPUT, "%s: this model reads %s; use sc_encoder_%s_%s", what,
                        text ? "rows of floats" : "texts",
                        strstr(what, "score") ? "score" : "embed", text ? "rows" : "texts");
    if (!text && width != (size_t)enc->m->cfg.input)
        return sc_error(SC_EINPUT, "%s: rows of %zu floats; this model reads %d", what, width,
                        enc->m->cfg.input);
    return SC_OK;
}

/* The embeddings of every row of in (in->n) into out, on the host. */
static int embed_inputs(sc_encoder *enc, const sc_inputs *in, float *out) {
    sc_runtime *rt = enc->engine->rt;
    size_t n = in->n, E = (size_t)sc_model_embedding_width(enc->m);
    cl_mem dev = NULL;
    int rc = sc_buffer_new(rt, n * E * sizeof(float), &dev);
    if (rc == SC_OK) rc = sc_embed_rows(enc->m, in, 0, n, dev);
    if (rc == SC_OK) rc = sc_download(rt, out, (sc_view){dev, 0}, n * E);
    sc_buffer_free(dev);
    return rc;
}

/* n texts hashed as the model was trained, as the model's inputs (csr holds their rows). */
static int text_inputs(sc_encoder *enc, const char *const *texts, size_t n, sc_csr *csr,
                       sc_inputs *in) {
    for (size_t i = 0; i < n; i++)
        if (!texts[i]) return sc_error(SC_EINPUT, "text %zu is NULL", i);
    SC_TRY(sc_featurize(&enc->job.data.features, texts, n, csr));
    return sc_inputs_sparse(enc->engine->rt, csr, enc->job.data.features.buckets, in);
}

int sc_encoder_embed_rows(sc_encoder *enc, const float *rows, size_t n, size_t width, float *out) {
    SC_TRY(check_call(enc, "sc_encoder_embed_rows", 0, width, rows, out));
    if (!n) return SC_OK;
    sc_inputs in;
    SC_TRY(sc_inputs_dense(enc->engine->rt, rows, n, width, &in));
    int rc = embed_inputs(enc, &in, out);
    sc_inputs_free(&in);
    return rc;
}

int sc_encoder_embed_texts(sc_encoder *enc, const char *const *texts, size_t n, float *out) {
    SC_TRY(check_call(enc, "sc_encoder_embed_texts", 1, 0, texts, out));
    if (!n) return SC_OK;
    sc_csr csr = {0};
    sc_inputs in = {0};
    int rc = text_inputs(enc, texts, n, &csr, &in);
    if (rc == SC_OK) rc = embed_inputs(enc, &in, out);
    sc_inputs_free(&in);
    sc_csr_free(&csr);
    return rc;
}

/* Scores of the pairs (i, n + i) of in's 2n rows, with the pairs' own features (n x the
 * model's pair_features, or NULL). */
static int score_inputs(sc_encoder *enc, const sc_inputs *in, size_t n, const float *features,
                        float *scores) {
    sc_pairs p = {0};
    sc_pairs_dev pd = {0};
    int rc = sc_pairs_alloc(&p, n);
    for (size_t i = 0; rc == SC_OK && i < n; i++) {
        p.left[i] = (int32_t)i;
        p.right[i] = (int32_t)(n + i);
        p.target[i] = 0.0f;
    }
    int nf = enc->m->cfg.pair_features;
    if (rc == SC_OK && nf) rc = sc_pairs_alloc_features(&p, nf);
    if (rc == SC_OK && nf) memcpy(p.features, features, n * (size_t)nf * sizeof *features);
    if (rc == SC_OK) rc = sc_pairs_upload(enc->engine->rt, &p, &pd);
    if (rc == SC_OK) rc = sc_score_pairs(enc->m, in, &pd, scores, NULL);
    sc_pairs_dev_free(&pd);
    sc_pairs_free(&p);
    return rc;
}

int sc_encoder_score_rows(sc_encoder *enc, const float *left, const float *right, size_t n,
                          size_t width, float *scores) {
    SC_TRY(check_call(enc, "sc_encoder_score_rows", 0, width, left, scores));
    if (!right) return sc_error(SC_EINPUT, "sc_encoder_score_rows: right is NULL");
    if (enc->m->cfg.pair_features)
        return sc_error(SC_EINPUT,
                        "sc_encoder_score_rows: the model's head reads %d features "
                        "of each pair, which rows do not give",
                        enc->m->cfg.pair_features);
    if (!n) return SC_OK;
    float *both = malloc(2 * n * width * sizeof *both);
    if (!both) return sc_error(SC_ERR, "out of memory");
    memcpy(both, left, n * width * sizeof *both);
    memcpy(both + n * width, right, n * width * sizeof *both);
    sc_inputs in;
    int rc = sc_inputs_dense(enc->engine->rt, both, 2 * n, width, &in);
    free(both);
    if (rc != SC_OK) return rc;
    rc = score_inputs(enc, &in, n, NULL, scores);
    sc_inputs_free(&in);
    return rc;
}

int sc_encoder_score_texts(sc_encoder *enc, const char *const *left, const char *const *right,
                           size_t n, float *scores) {
    SC_TRY(check_call(enc, "sc_encoder_score_texts", 1, 0, left, scores));
    if (!right) return sc_error(SC_EINPUT, "sc_encoder_score_texts: right is NULL");
    if (!n) return SC_OK;
    int nf = enc->m->cfg.pair_features;
    if (nf && nf != SC_OVERLAP_FEATURES) return sc_error(SC_ERR, "a head of %d pair features", nf);
    const char **both = malloc(2 * n * sizeof *both);
    float *features = NULL;
    if (nf) features = malloc(n * (size_t)nf * sizeof *features);
    if (!both || (nf && !features)) {
        free(both), free(features);
        return sc_error(SC_ERR, "out of memory");
    }
    memcpy(both, left, n * sizeof *both);
    memcpy(both + n, right, n * sizeof *both);
    sc_csr csr = {0};
    sc_inputs in = {0};
    int rc = text_inputs(enc, both, 2 * n, &csr, &in);
    if (rc == SC_OK && nf) rc = sc_overlap_rows(left, right, n, features);
    if (rc == SC_OK) rc = score_inputs(enc, &in, n, features, scores);
    sc_inputs_free(&in);
    sc_csr_free(&csr);
    free(both);
    free(features);
    return rc;
}
