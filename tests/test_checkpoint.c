/* Checkpoints: a saved model loads back bit for bit with its config, and files that are not
 * siamcl checkpoints of the model their metadata describes are refused by name. */
#include "harness.h"
#include "reference.h"

#include "siamcl/checkpoint.h"
#include "siamcl/safetensors.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *config_text = "[model]\ninput = 12\nlayers = 8,4\nhead = mlp\nhead_layers = 5\n"
                                 "output = range\ntarget_min = 1\ntarget_max = 3\n";

static void path_for(char *path, size_t n, const char *name) {
    snprintf(path, n, "/tmp/siamcl_ckpt_%d_%s.safetensors", (int)getpid(), name);
}

/* A model built from config_text with random parameters, saved to path. */
static int save_model(const char *path, sc_model **m, sc_config **cfg) {
    sc_job job;
    SC_TRY(sc_config_parse(config_text, "test config", cfg));
    SC_TRY(sc_job_read(*cfg, &job));
    SC_TRY(sc_model_create(test_runtime(), &job.model, &job.train.loss, 4, 99, m));
    job.target_mean = 2.25;
    return sc_checkpoint_save(*m, &job, path);
}

static void round_trip(void) {
    char path[128];
    path_for(path, sizeof path, "round");
    sc_model *a = NULL, *b = NULL;
    sc_config *cfg = NULL, *loaded = NULL;
    sc_job job;
    CHECK_OK(save_model(path, &a, &cfg));
    int rc = sc_checkpoint_load(test_runtime(), path, 0, &loaded, &job, &b);
    unlink(path);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    size_t n = a->nparams;
    float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    CHECK_OK(sc_model_get_params(a, pa));
    CHECK_OK(sc_model_get_params(b, pb));
    int same = b->nparams == n && !memcmp(pa, pb, n * sizeof *pa);
    int shape = job.model.head == SC_HEAD_MLP && job.model.layers[1] == 4 &&
                job.model.head_layers[0] == 5 && job.model.target_max == 3 &&
                job.target_mean == 2.25;
    free(pa), free(pb);
    sc_model_free(a), sc_model_free(b);
    sc_config_free(cfg), sc_config_free(loaded);
    CHECK(same, "parameters differ after loading");
    CHECK(shape, "the config did not come back");
}

/* Whether the file's tensor `name` is d's weight in PyTorch's layout (out x in), given the
 * model's parameters p, which keep it (in x out). */
static int weight_in_file_layout(const sc_safetensors *st, const char *name, const sc_dense *d,
                                 const float *p) {
    const float *data;
    int ndims;
    int64_t shape[SC_TENSOR_MAX_DIMS];
    if (sc_safetensors_tensor(st, name, &data, &ndims, shape) != SC_OK || ndims != 2 ||
        shape[0] != d->out || shape[1] != d->in)
        return 0;
    for (int o = 0; o < d->out; o++)
        for (int i = 0; i < d->in; i++)
            if (data[o * d->in + i] != p[d->w + (size_t)i * d->out + o]) return 0;
    return 1;
}

static void file_keeps_pytorch_layout(void) {
    char path[128];
    path_for(path, sizeof path, "layout");
    sc_model *m = NULL;
    sc_config *cfg = NULL;
    sc_safetensors *st = NULL;
    CHECK_OK(save_model(path, &m, &cfg));
    float *p = malloc(m->nparams * sizeof *p);
    CHECK_OK(sc_model_get_params(m, p));
    int rc = sc_safetensors_read(path, &st);
    unlink(path);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    int ok = weight_in_file_layout(st, "tower.0.weight", &m->tower[0], p) &&
             weight_in_file_layout(st, "tower.1.weight", &m->tower[1], p) &&
             weight_in_file_layout(st, "head.0.weight", &m->head[0], p) &&
             weight_in_file_layout(st, "head.1.weight", &m->head[1], p);
    sc_safetensors_free(st);
    free(p);
    sc_model_free(m);
    sc_config_free(cfg);
    CHECK(ok, "a dense weight in the file is not the model's, transposed to (out x in)");
}

static void other_shape_is_refused(void) {
    char path[128], bad[128];
    path_for(path, sizeof path, "shape");
    path_for(bad, sizeof bad, "shape_bad");
    sc_model *m = NULL, *b = NULL;
    sc_config *cfg = NULL, *loaded = NULL;
    sc_job job;
    CHECK_OK(save_model(path, &m, &cfg));
    /* the same tensors under a config whose first layer is wider */
    float *p = malloc(m->nparams * sizeof *p);
    CHECK_OK(sc_model_get_params(m, p));
    sc_tensor t[] = {{"tower.0.weight", p, 2, {8, 12}}, {"tower.0.bias", p + 96, 1, {8}}};
    sc_meta meta[] = {{"format", SC_CHECKPOINT_FORMAT},
                      {"config", "[model]\ninput = 12\nlayers = 9,4\n"}};
    int rc = sc_safetensors_write(bad, t, 2, meta, 2);
    if (rc == SC_OK) rc = sc_checkpoint_load(test_runtime(), bad, 0, &loaded, &job, &b);
    unlink(path), unlink(bad);
    free(p);
    sc_model_free(m);
    sc_config_free(cfg);
    CHECK(rc == SC_EINPUT && b == NULL && loaded == NULL, "rc %d", rc);
    CHECK(test_error_has(bad) && test_error_has("tower.0.weight") && test_error_has("[8, 12]") &&
              test_error_has("[9, 12]"),
          "%s", sc_last_error());
}

/* Writes a safetensors file of the given tensors and metadata and loads it as a checkpoint;
 * the model must not come back. */
static int load_crafted(const char *name, const sc_tensor *t, int nt, const sc_meta *meta,
                        int nmeta) {
    char path[128];
    path_for(path, sizeof path, name);
    sc_model *m = NULL;
    sc_config *cfg = NULL;
    sc_job job;
    int rc = sc_safetensors_write(path, t, nt, meta, nmeta);
    if (rc == SC_OK) rc = sc_checkpoint_load(test_runtime(), path, 0, &cfg, &job, &m);
    unlink(path);
    if (m || cfg) {
        sc_model_free(m);
        sc_config_free(cfg);
        return SC_OK; /* loaded: the caller's check fails */
    }
    return rc;
}

static void foreign_safetensors_are_refused(void) {
    float x[2] = {1, 2};
    sc_tensor t[] = {{"embeddings", x, 1, {2}}};
    sc_meta meta[] = {{"format", "pt"}};
    int rc = load_crafted("foreign", t, 1, meta, 1);
    CHECK(rc == SC_EINPUT, "rc %d", rc);
    CHECK(test_error_has("not a siamcl checkpoint"), "%s", sc_last_error());
}

static void bad_config_in_metadata_names_it(void) {
    float x[2] = {1, 2};
    sc_tensor t[] = {{"range", x, 1, {2}}};
    sc_meta meta[] = {{"format", SC_CHECKPOINT_FORMAT}, {"config", "[model]\nlayrs = 8\n"}};
    int rc = load_crafted("meta", t, 1, meta, 2);
    CHECK(rc == SC_EINPUT, "rc %d", rc);
    CHECK(test_error_has("(metadata):2: unknown key [model] layrs"), "%s", sc_last_error());
}

TEST_MAIN(TEST(round_trip), TEST(file_keeps_pytorch_layout), TEST(other_shape_is_refused),
          TEST(foreign_safetensors_are_refused), TEST(bad_config_in_metadata_names_it))
