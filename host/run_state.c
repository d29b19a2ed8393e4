#include "siamcl/run_state.h"
#include "siamcl/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The state's tensors, on the host: the running loss, and each optimizer's moments. The lazy
 * table optimizer's moments stay zero on every row no step has touched, most of a hashed
 * vocabulary's (90% of the Home Depot recipe's 2^18 rows after two epochs), so the file keeps
 * only the other rows: "state.table_rows" says of each row whether it is kept (1) or zero (0),
 * and "state.table_m" and "state.table_v" hold the kept rows in order. That took the recipe's
 * last.safetensors from 806 to 325 MB, written at every epoch's end. */
typedef struct state_tensors {
    float loss[SC_LOSS_ACC];
    float *m, *v;             /* dense optimizer: n floats each (v: adam only) */
    float *table_m, *table_v; /* the lazy table optimizer: buckets x width each */
    float *table_rows;        /* buckets: 1 where a row is kept */
    size_t n, buckets, width, kept;
    long step, table_step;
} state_tensors;

static void tensors_free(state_tensors *t) {
    free(t->m), free(t->v), free(t->table_m), free(t->table_v), free(t->table_rows);
}

static int tensors_alloc(const sc_model_optimizer *o, state_tensors *t) {
    memset(t, 0, sizeof *t);
    t->n = o->dense->n;
    int adam = o->dense->cfg.kind == SC_OPT_ADAM;
    t->m = malloc(t->n * sizeof *t->m);
    t->v = adam ? malloc(t->n * sizeof *t->v) : NULL;
    if (o->sparse) {
        t->buckets = o->sparse->layer.buckets;
        t->width = (size_t)o->sparse->layer.out;
        size_t n = t->buckets * t->width;
        t->table_m = malloc(n * sizeof *t->table_m);
        t->table_v = adam ? malloc(n * sizeof *t->table_v) : NULL;
        t->table_rows = malloc(t->buckets * sizeof *t->table_rows);
    }
    if (!t->m || (adam && !t->v) ||
        (o->sparse && (!t->table_m || (adam && !t->table_v) || !t->table_rows)))
        return sc_error(SC_ERR, "out of memory for the optimizer's state");
    return SC_OK;
}

/* Whether any of the n floats at x has a bit set (-0 counts: a resumed run is exact). */
static int any_bits(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], sizeof b);
        if (b) return 1;
    }
    return 0;
}

/* Moves the table's kept rows (those with a moment not zero) to its front, in order. */
static void compact_table(state_tensors *t) {
    size_t w = t->width;
    t->kept = 0;
    for (size_t r = 0; r < t->buckets; r++) {
        float *m = t->table_m + r * w, *v = t->table_v ? t->table_v + r * w : NULL;
        int keep = any_bits(m, w) || (v && any_bits(v, w));
        t->table_rows[r] = (float)keep;
        if (!keep) continue;
        memmove(t->table_m + t->kept * w, m, w * sizeof *m);
        if (v) memmove(t->table_v + t->kept * w, v, w * sizeof *v);
        t->kept++;
    }
}

static sc_tensor vector(const char *name, const float *data, size_t n) {
    return (sc_tensor){name, data, 1, {(int64_t)n}};
}

/* The state's tensors as a list, those present. */
static int list(const state_tensors *t, sc_tensor *out) {
    int k = 0;
    out[k++] = vector("state.loss", t->loss, SC_LOSS_ACC);
    out[k++] = vector("state.m", t->m, t->n);
    if (t->v) out[k++] = vector("state.v", t->v, t->n);
    if (t->table_rows) out[k++] = vector("state.table_rows", t->table_rows, t->buckets);
    if (t->table_m) out[k++] = vector("state.table_m", t->table_m, t->kept * t->width);
    if (t->table_v) out[k++] = vector("state.table_v", t->table_v, t->kept * t->width);
    return k;
}

static int download(sc_model *m, sc_model_optimizer *o, state_tensors *t) {
    SC_TRY(sc_model_loss_get(m, t->loss));
    SC_TRY(sc_optimizer_get_state(o->dense, t->m, t->v, &t->step));
    if (!o->sparse) return SC_OK;
    return sc_sparse_optimizer_get_state(o->sparse, t->table_m, t->table_v, &t->table_step);
}

/* The metadata keys, in the order of the values save writes. */
enum { NKEYS = 11 };
static const char *const keys[NKEYS] = {
    "state.epochs_done", "state.step",           "state.best_epoch",   "state.waited",
    "state.stopped",     "state.best_loss",      "state.best_quality", "state.seconds",
    "state.pairs",       "state.optimizer_step", "state.table_step"};

int sc_run_state_save(const char *path, sc_model *m, sc_model_optimizer *o, const sc_job *job,
                      const sc_run_state *s) {
    state_tensors t;
    char v[NKEYS][40];
    int rc = tensors_alloc(o, &t);
    if (rc == SC_OK) rc = download(m, o, &t);
    if (rc == SC_OK && t.table_m) compact_table(&t);
    if (rc == SC_OK) {
        /* %.17g: doubles come back exactly */
        snprintf(v[0], sizeof v[0], "%d", s->epochs_done);
        snprintf(v[1], sizeof v[1], "%ld", s->step);
        snprintf(v[2], sizeof v[2], "%d", s->best_epoch);
        snprintf(v[3], sizeof v[3], "%d", s->waited);
        snprintf(v[4], sizeof v[4], "%d", s->stopped);
        snprintf(v[5], sizeof v[5], "%.17g", s->best_loss);
        snprintf(v[6], sizeof v[6], "%.17g", s->best_quality);
        snprintf(v[7], sizeof v[7], "%.17g", s->seconds);
        snprintf(v[8], sizeof v[8], "%.17g", s->pairs);
        snprintf(v[9], sizeof v[9], "%ld", t.step);
        snprintf(v[10], sizeof v[10], "%ld", t.table_step);
        sc_meta meta[NKEYS];
        for (int i = 0; i < NKEYS; i++) meta[i] = (sc_meta){keys[i], v[i]};
        sc_tensor tensors[6];
        rc = sc_checkpoint_write(m, job, path, tensors, list(&t, tensors), meta, NKEYS);
    }
    tensors_free(&t);
    return rc;
}

/* A number from the metadata; absent or malformed is SC_EINPUT. */
static int number(const sc_safetensors *st, const char *path, const char *key, double *out) {
    const char *s = sc_safetensors_meta(st, key);
    char *end;
    errno = 0;
    *out = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno == ERANGE)
        return sc_error(SC_EINPUT, "%s: no run state (metadata %s %s): not a last.safetensors",
                        path, key, s ? "malformed" : "missing");
    return SC_OK;
}

static int read_numbers(const sc_safetensors *st, const char *path, sc_run_state *s,
                        state_tensors *t) {
    double v[NKEYS];
    for (int i = 0; i < NKEYS; i++) SC_TRY(number(st, path, keys[i], &v[i]));
    s->epochs_done = (int)v[0];
    s->step = (long)v[1];
    s->best_epoch = (int)v[2];
    s->waited = (int)v[3];
    s->stopped = (int)v[4];
    s->best_loss = v[5];
    s->best_quality = v[6];
    s->seconds = v[7];
    s->pairs = v[8];
    t->step = (long)v[9];
    t->table_step = (long)v[10];
    if (s->epochs_done < 0 || s->step < 0 || t->step < 0 || t->table_step < 0)
        return sc_error(SC_EINPUT, "%s: a run state with negative counts", path);
    return SC_OK;
}

/* Copies tensor name (n floats) into out, checking its shape. */
static int copy(const sc_safetensors *st, const char *path, const char *name, float *out,
                size_t n) {
    const float *data;
    int ndims;
    int64_t shape[SC_TENSOR_MAX_DIMS];
    SC_TRY(sc_safetensors_tensor(st, name, &data, &ndims, shape));
    if (ndims != 1 || (uint64_t)shape[0] != n)
        return sc_error(SC_EINPUT, "%s: %s holds %lld values, the model's state needs %zu", path,
                        name, (long long)shape[0], n);
    memcpy(out, data, n * sizeof *out);
    return SC_OK;
}

/* Tensor name's kept rows (as compact_table left them) back to their places in out. */
static int expand(const sc_safetensors *st, const char *path, const char *name,
                  const state_tensors *t, float *out) {
    SC_TRY(copy(st, path, name, out, t->kept * t->width));
    for (size_t r = t->buckets, k = t->kept; r-- > 0;) { /* from the end: rows only move up */
        float *row = out + r * t->width;
        if (t->table_rows[r] == 0.0f)
            memset(row, 0, t->width * sizeof *row);
        else if (--k != r)
            memmove(row, out + k * t->width, t->width * sizeof *row);
    }
    return SC_OK;
}

static int has_tensor(const sc_safetensors *st, const char *name) {
    const char *s;
    for (size_t i = 0; (s = sc_safetensors_name(st, i)); i++)
        if (!strcmp(s, name)) return 1;
    return 0;
}

/* The table's moments: their kept rows, or every row (a file from before rows were kept). */
static int read_table(const sc_safetensors *st, const char *path, state_tensors *t) {
    if (has_tensor(st, "state.table_rows"))
        SC_TRY(copy(st, path, "state.table_rows", t->table_rows, t->buckets));
    else /* the older layout: every row kept */
        for (size_t r = 0; r < t->buckets; r++) t->table_rows[r] = 1.0f;
    t->kept = 0;
    for (size_t r = 0; r < t->buckets; r++) {
        if (t->table_rows[r] != 0.0f && t->table_rows[r] != 1.0f)
            return sc_error(SC_EINPUT, "%s: state.table_rows holds %g for row %zu, not 0 or 1",
                            path, (double)t->table_rows[r], r);
        t->kept += t->table_rows[r] == 1.0f;
    }
    SC_TRY(expand(st, path, "state.table_m", t, t->table_m));
    return t->table_v ? expand(st, path, "state.table_v", t, t->table_v) : SC_OK;
}

static int read_tensors(const sc_safetensors *st, const char *path, state_tensors *t) {
    SC_TRY(copy(st, path, "state.loss", t->loss, SC_LOSS_ACC));
    SC_TRY(copy(st, path, "state.m", t->m, t->n));
    if (t->v) SC_TRY(copy(st, path, "state.v", t->v, t->n));
    return t->table_m ? read_table(st, path, t) : SC_OK;
}

static int upload(sc_model *m, sc_model_optimizer *o, const state_tensors *t) {
    SC_TRY(sc_model_loss_set(m, t->loss));
    SC_TRY(sc_optimizer_set_state(o->dense, t->m, t->v, t->step));
    if (!o->sparse) return SC_OK;
    return sc_sparse_optimizer_set_state(o->sparse, t->table_m, t->table_v, t->table_step);
}

int sc_run_state_load(const char *path, sc_model *m, sc_model_optimizer *o, sc_run_state *s) {
    sc_safetensors *st;
    state_tensors t;
    SC_TRY(sc_safetensors_read(path, &st));
    int rc = tensors_alloc(o, &t);
    if (rc == SC_OK) rc = read_numbers(st, path, s, &t);
    if (rc == SC_OK) rc = read_tensors(st, path, &t);
    if (rc == SC_OK) rc = sc_checkpoint_params(st, path, m);
    if (rc == SC_OK) rc = upload(m, o, &t);
    tensors_free(&t);
    sc_safetensors_free(st);
    return rc;
}
