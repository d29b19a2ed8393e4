#include "siamcl/checkpoint.h"
#include "siamcl/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the model's tensors, and a run's state beside them (run_state.c) */
#define MAX_TENSORS (2 * (2 * SC_MAX_LAYERS + 1) + 1 + SC_CHECKPOINT_EXTRA)

typedef struct tensor_list {
    sc_tensor t[MAX_TENSORS];
    char names[MAX_TENSORS][32];
    int n;
} tensor_list;

static void add_dense(tensor_list *l, const char *part, int index, const sc_dense *d,
                      const float *p) {
    snprintf(l->names[l->n], sizeof l->names[0], "%s.%d.weight", part, index);
    l->t[l->n] = (sc_tensor){l->names[l->n], p + d->w, 2, {d->out, d->in}};
    l->n++;
    snprintf(l->names[l->n], sizeof l->names[0], "%s.%d.bias", part, index);
    l->t[l->n] = (sc_tensor){l->names[l->n], p + d->b, 1, {d->out}};
    l->n++;
}

/* Every tensor of m, pointing into the host copy p of its parameters. */
static void list_tensors(const sc_model *m, const float *p, tensor_list *l) {
    l->n = 0;
    for (int i = 0; i < m->ntower; i++) add_dense(l, "tower", i, &m->tower[i], p);
    if (m->cfg.sparse_input) { /* the embedding table holds a row per feature */
        l->t[0].shape[0] = m->tower[0].in;
        l->t[0].shape[1] = m->tower[0].out;
    }
    for (int i = 0; i < m->nhead; i++) add_dense(l, "head", i, &m->head[i], p);
    if (m->ab >= 0) {
        snprintf(l->names[l->n], sizeof l->names[0], "range");
        l->t[l->n] = (sc_tensor){l->names[l->n], p + m->ab, 1, {2}};
        l->n++;
    }
}

/* dst (cols x rows) = src (rows x cols)^T. */
static void transpose(const float *src, float *dst, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}

/* The file keeps PyTorch's layouts, a dense weight (out x in) and an embedding table with a row
 * per feature; the model keeps a dense weight (in x out) (dense.h). Turns each dense weight in
 * p from the model's layout to the file's (to_file) or back. */
static int file_layout(const sc_model *m, float *p, int to_file) {
    for (int i = m->cfg.sparse_input ? 1 : 0; i < m->ntower + m->nhead; i++) {
        const sc_dense *d = i < m->ntower ? &m->tower[i] : &m->head[i - m->ntower];
        size_t in = (size_t)d->in, out = (size_t)d->out;
        float *t = malloc(in * out * sizeof *t);
        if (!t) return sc_error(SC_ERR, "out of memory");
        memcpy(t, p + d->w, in * out * sizeof *t);
        transpose(t, p + d->w, to_file ? in : out, to_file ? out : in);
        free(t);
    }
    return SC_OK;
}

int sc_checkpoint_write(sc_model *m, const sc_job *job, const char *path, const sc_tensor *extra,
                        int nextra, const sc_meta *extra_meta, int nmeta) {
    if (nextra > SC_CHECKPOINT_EXTRA || nmeta > SC_CHECKPOINT_EXTRA)
        return sc_error(SC_ERR, "%s: too many extra tensors or keys", path);
    float *p = malloc(m->nparams * sizeof *p);
    char *text = NULL, mean[32];
    snprintf(mean, sizeof mean, "%.9g", job->target_mean);
    int rc = p ? sc_config_text(job->cfg, &text) : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_model_get_params(m, p);
    if (rc == SC_OK) rc = file_layout(m, p, 1);
    if (rc == SC_OK) {
        tensor_list l;
        list_tensors(m, p, &l);
        for (int i = 0; i < nextra; i++) l.t[l.n++] = extra[i];
        sc_meta meta[3 + SC_CHECKPOINT_EXTRA] = {
            {"format", SC_CHECKPOINT_FORMAT}, {"config", text}, {"target_mean", mean}};
        int n = isnan(job->target_mean) ? 2 : 3;
        for (int i = 0; i < nmeta; i++) meta[n++] = extra_meta[i];
        rc = sc_safetensors_write(path, l.t, l.n, meta, n);
    }
    free(p);
    free(text);
    return rc;
}

int sc_checkpoint_save(sc_model *m, const sc_job *job, const char *path) {
    return sc_checkpoint_write(m, job, path, NULL, 0, NULL, 0);
}

/* Copies the file's tensors into p, each checked against the shape the model needs. */
static int read_tensors(const sc_safetensors *st, const char *path, const sc_model *m, float *p) {
    tensor_list l;
    list_tensors(m, p, &l);
    for (int i = 0; i < l.n; i++) {
        const sc_tensor *want = &l.t[i];
        const float *data;
        int ndims;
        int64_t shape[SC_TENSOR_MAX_DIMS];
        SC_TRY(sc_safetensors_tensor(st, want->name, &data, &ndims, shape));
        int same = ndims == want->ndims;
        for (int k = 0; same && k < ndims; k++) same = shape[k] == want->shape[k];
        if (!same)
            return sc_error(SC_EINPUT,
                            "%s: tensor %s has shape [%lld, %lld], but the model in its "
                            "metadata needs [%lld, %lld]",
                            path, want->name, (long long)shape[0],
                            (long long)(ndims > 1 ? shape[1] : 0), (long long)want->shape[0],
                            (long long)(want->ndims > 1 ? want->shape[1] : 0));
        size_t n = (size_t)want->shape[0] * (size_t)(want->ndims > 1 ? want->shape[1] : 1);
        memcpy((float *)want->data, data, n * sizeof *data);
    }
    return SC_OK;
}

/* The config of a checkpoint's metadata, read as a job. */
static int read_config(const sc_safetensors *st, const char *path, sc_config **cfg, sc_job *job) {
    const char *format = sc_safetensors_meta(st, "format");
    const char *text = sc_safetensors_meta(st, "config");
    if (!format || strcmp(format, SC_CHECKPOINT_FORMAT) || !text)
        return sc_error(SC_EINPUT,
                        "%s: a safetensors file, but not a siamcl checkpoint (its metadata has "
                        "no format \"%s\" and config)",
                        path, SC_CHECKPOINT_FORMAT);
    char origin[1100];
    snprintf(origin, sizeof origin, "%s (metadata)", path);
    SC_TRY(sc_config_parse(text, origin, cfg));
    int rc = sc_job_read(*cfg, job);
    const char *mean = sc_safetensors_meta(st, "target_mean");
    if (mean) job->target_mean = strtod(mean, NULL);
    if (rc == SC_OK && job->model.input <= 0)
        rc = sc_error(SC_EINPUT, "%s: the config in its metadata sets no [model] input", path);
    if (rc != SC_OK) {
        sc_config_free(*cfg);
        *cfg = NULL;
    }
    return rc;
}

int sc_checkpoint_params(const sc_safetensors *st, const char *path, sc_model *m) {
    /* calloc: the alignment padding between tensors (model.c) stays zero */
    float *p = calloc(m->nparams, sizeof *p);
    int rc = p ? read_tensors(st, path, m, p) : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = file_layout(m, p, 0);
    if (rc == SC_OK) rc = sc_model_set_params(m, p);
    free(p);
    return rc;
}

int sc_checkpoint_load(sc_runtime *rt, const char *path, size_t max_pairs, sc_config **cfg,
                       sc_job *job, sc_model **m) {
    sc_safetensors *st;
    *m = NULL;
    *cfg = NULL;
    SC_TRY(sc_safetensors_read(path, &st));
    int rc = read_config(st, path, cfg, job);
    if (rc == SC_OK && !max_pairs) max_pairs = sc_job_infer_batch();
    if (rc == SC_OK) rc = sc_model_create(rt, &job->model, &job->train.loss, max_pairs, 0, m);
    if (rc == SC_OK) rc = sc_checkpoint_params(st, path, *m);
    sc_safetensors_free(st);
    if (rc != SC_OK) {
        sc_model_free(*m);
        sc_config_free(*cfg);
        *m = NULL;
        *cfg = NULL;
    }
    return rc;
}
