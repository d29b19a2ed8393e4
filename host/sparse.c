#include "siamcl/sparse.h"
#include "siamcl/pairs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The kernels run over (column, row) of a result of `out` columns, in work-groups of LOCAL
 * columns of one row, a fixed size (the kernels check their bounds): the row count, for the
 * gradient and the optimizer the step's feature count, changes every step, and PoCL compiles a
 * kernel anew for each work-group size, which it would otherwise derive from the launch size. */
#define LOCAL 64
#define launch(rt, name, cols, rows, ...)                                                          \
    sc_launch_args(rt, "sparse", name, 2, (size_t[]){(size_t)(cols), (rows)},                      \
                   (size_t[]){LOCAL, 1}, SC_ARGS(__VA_ARGS__))
/* The gradient takes 8 columns per work-item (cl/sparse.cl): 8 x 8 work-groups. */
#define launch8(rt, name, cols, rows, ...)                                                         \
    sc_launch_args(rt, "sparse", name, 2, (size_t[]){((size_t)(cols) + 7) / 8, (rows)},            \
                   (size_t[]){8, 8}, SC_ARGS(__VA_ARGS__))

int sc_csr_upload(sc_runtime *rt, const sc_csr *m, sc_csr_dev *out) {
    memset(out, 0, sizeof *out);
    out->rows = m->rows;
    out->nnz = m->nnz;
    size_t ob = (m->rows + 1) * sizeof(uint32_t), ib = m->nnz * sizeof(uint32_t);
    size_t vb = m->nnz * sizeof(float);
    int rc = sc_buffer_new(rt, ob, &out->offsets);
    if (rc == SC_OK) rc = sc_buffer_new(rt, ib, &out->indices);
    if (rc == SC_OK) rc = sc_buffer_new(rt, vb, &out->values);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->offsets, 0, m->offsets, ob);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->indices, 0, m->indices, ib);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->values, 0, m->values, vb);
    if (rc != SC_OK) sc_csr_dev_free(out);
    return rc;
}

void sc_csr_dev_free(sc_csr_dev *m) {
    sc_buffer_free(m->offsets);
    sc_buffer_free(m->indices);
    sc_buffer_free(m->values);
    memset(m, 0, sizeof *m);
}

int sc_sparse_forward(sc_runtime *rt, const sc_sparse_layer *l, sc_view params, const sc_csr_dev *x,
                      const sc_row_index *ix, sc_view y) {
    return sc_sparse_forward_block(rt, l, params, x, ix, 0, ix->n, y, 1);
}

/* The bag takes 64 columns per work-item (cl/sparse.cl), in work-groups of 4 x 4: a text's
 * 256 columns in one go on the models of this work. */
int sc_sparse_forward_block(sc_runtime *rt, const sc_sparse_layer *l, sc_view params,
                            const sc_csr_dev *x, const sc_row_index *ix, size_t from, size_t nb,
                            sc_view y, int to_rows) {
    SC_TRY(sc_launch_args(rt, "sparse", "sparse_forward", 2,
                          (size_t[]){((size_t)l->out + 63) / 64, nb}, (size_t[]){4, 4},
                          SC_ARGS(SC_VIEW(sc_view_at(params, l->w)), SC_MEM(x->offsets),
                                  SC_MEM(x->indices), SC_MEM(x->values), SC_MEM(ix->left),
                                  SC_MEM(ix->right), SC_INT(ix->first), SC_INT(ix->split),
                                  SC_INT(from), SC_INT(nb), SC_INT(l->out), SC_INT(l->mean),
                                  SC_INT(!to_rows), SC_VIEW(y))));
    sc_view b = sc_view_at(params, l->b);
    return to_rows ? sc_bias_act_forward(rt, y, b, nb, (size_t)l->out, l->act)
                   : sc_bias_act_forward_fm(rt, y, b, (size_t)l->out, nb, l->act);
}

/* The pairs of a step (the last one may be short). */
static size_t step_pairs(size_t pairs, size_t batch, size_t step) {
    size_t n = pairs - step * batch;
    return n < batch ? n : batch;
}

/* The share of step s's pairs whose rows the plan holds: [*first, *first + *count) of them. */
static void step_share(size_t pairs, size_t batch, int part, int parts, size_t s, size_t *first,
                       size_t *count) {
    sc_pairs_share(step_pairs(pairs, batch, s), part, parts, first, count);
    *first += s * batch;
}

/* The text of batch row r of the step whose first pair is first and that has n pairs. */
static int32_t text_of(const int32_t *left, const int32_t *right, size_t first, size_t n,
                       size_t r) {
    return r < n ? left[first + r] : right[first + r - n];
}

/* Validates the epoch's texts and features; *entries = their feature occurrences. */
static int plan_check(const sc_sparse_layer *l, const sc_csr *x, const int32_t *left,
                      const int32_t *right, size_t pairs, size_t *entries) {
    size_t total = 0;
    for (size_t i = 0; i < 2 * pairs; i++) {
        int32_t t = text_of(left, right, 0, pairs, i);
        if (t < 0 || (size_t)t >= x->rows)
            return sc_error(SC_EINPUT, "sparse plan: pair %zu names text %d of %zu", i % pairs,
                            (int)t, x->rows);
        for (uint32_t k = x->offsets[t]; k < x->offsets[t + 1]; k++)
            if (x->indices[k] >= l->buckets)
                return sc_error(SC_EINPUT, "sparse plan: text %d has feature %u of %u buckets",
                                (int)t, x->indices[k], l->buckets);
        total += x->offsets[t + 1] - x->offsets[t];
    }
    if (total > INT32_MAX)
        return sc_error(SC_EINPUT, "sparse plan: %zu feature occurrences in one epoch (at most %d)",
                        total, INT32_MAX);
    *entries = total;
    return SC_OK;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A text's sum of values, summed as sparse_forward sums it. */
static float value_sum(const sc_csr *x, int32_t t) {
    float sum = 0.0f;
    for (uint32_t k = x->offsets[t]; k < x->offsets[t + 1]; k++) sum += x->values[k];
    return sum;
}

/* Plans step s after the steps before it. slot (buckets entries) is -1 for every feature on
 * entry and on return; within the step it holds a feature's rank, then its next entry. */
static void plan_step(sc_sparse_plan *p, const sc_csr *x, const int32_t *left, const int32_t *right,
                      int mean, size_t s, int32_t *slot) {
    size_t first = s * p->batch, n = step_pairs(p->pairs, p->batch, s), base = p->feat_off[s];
    uint32_t *feat = p->features + base;
    int32_t *seg = p->seg + base;
    size_t u = 0, mine, c;
    step_share(p->pairs, p->batch, p->part, p->parts, s, &mine, &c);
    for (size_t r = 0; r < 2 * n; r++) { /* the features of all the step's pairs */
        int32_t t = text_of(left, right, first, n, r);
        for (uint32_t k = x->offsets[t]; k < x->offsets[t + 1]; k++) {
            uint32_t f = x->indices[k];
            if (slot[f] < 0) {
                slot[f] = 0;
                feat[u++] = f;
            }
        }
    }
    qsort(feat, u, sizeof *feat, cmp_u32);
    for (size_t j = 0; j < u; j++) {
        slot[feat[j]] = (int32_t)j;
        seg[j + 1] = 0;
    }
    for (size_t r = 0; r < 2 * c; r++) { /* the entries of the part's share */
        int32_t t = text_of(left, right, mine, c, r);
        for (uint32_t k = x->offsets[t]; k < x->offsets[t + 1]; k++) seg[slot[x->indices[k]] + 1]++;
    }
    for (size_t j = 0; j < u; j++) {
        seg[j + 1] += seg[j];
        slot[feat[j]] = seg[j];
    }
    /* rows in ascending order within each feature: the gradient's fixed summation order */
    for (size_t r = 0; r < 2 * c; r++) {
        int32_t t = text_of(left, right, mine, c, r);
        float sum = mean ? value_sum(x, t) : 0.0f;
        for (uint32_t k = x->offsets[t]; k < x->offsets[t + 1]; k++) {
            int32_t e = slot[x->indices[k]]++;
            p->rows[e] = (int32_t)r;
            p->weights[e] = sum != 0.0f ? x->values[k] / sum : x->values[k];
        }
    }
    for (size_t j = 0; j < u; j++) slot[feat[j]] = -1;
    p->feat_off[s + 1] = base + u;
    if (u > p->max_features) p->max_features = u;
}

int sc_sparse_plan_build(const sc_sparse_layer *l, const sc_csr *x, const int32_t *left,
                         const int32_t *right, size_t pairs, size_t batch, sc_sparse_plan *out) {
    return sc_sparse_plan_build_part(l, x, left, right, pairs, batch, 0, 1, out);
}

int sc_sparse_plan_build_part(const sc_sparse_layer *l, const sc_csr *x, const int32_t *left,
                              const int32_t *right, size_t pairs, size_t batch, int part, int parts,
                              sc_sparse_plan *out) {
    memset(out, 0, sizeof *out);
    if (batch == 0) return sc_error(SC_EINPUT, "sparse plan: a batch of 0 pairs");
    if (parts < 1 || part < 0 || part >= parts)
        return sc_error(SC_EINPUT, "sparse plan: part %d of %d", part, parts);
    size_t entries = 0;
    SC_TRY(plan_check(l, x, left, right, pairs, &entries));
    out->steps = (pairs + batch - 1) / batch;
    out->batch = batch;
    out->pairs = pairs;
    out->part = part;
    out->parts = parts;
    out->feat_off = calloc(out->steps + 1, sizeof *out->feat_off);
    out->features = malloc((entries + 1) * sizeof *out->features); /* at most one per entry */
    out->seg = calloc(entries + 1, sizeof *out->seg);
    out->rows = malloc((entries + 1) * sizeof *out->rows);
    out->weights = malloc((entries + 1) * sizeof *out->weights);
    int32_t *slot = malloc((size_t)l->buckets * sizeof *slot);
    if (!out->feat_off || !out->features || !out->seg || !out->rows || !out->weights || !slot) {
        free(slot);
        sc_sparse_plan_free(out);
        return sc_error(SC_ERR, "sparse plan: out of memory");
    }
    memset(slot, 0xff, (size_t)l->buckets * sizeof *slot); /* -1: not in the step */
    for (size_t s = 0; s < out->steps; s++) plan_step(out, x, left, right, l->mean, s, slot);
    free(slot);
    return SC_OK;
}

void sc_sparse_plan_free(sc_sparse_plan *p) {
    free(p->feat_off);
    free(p->features);
    free(p->seg);
    free(p->rows);
    free(p->weights);
    memset(p, 0, sizeof *p);
}

int sc_sparse_plan_upload(sc_runtime *rt, const sc_sparse_plan *p, sc_sparse_plan_dev *out) {
    memset(out, 0, sizeof *out);
    out->steps = p->steps;
    out->batch = p->batch;
    out->pairs = p->pairs;
    out->part = p->part;
    out->parts = p->parts;
    out->max_features = p->max_features;
    size_t nf = p->feat_off[p->steps], ne = (size_t)p->seg[nf];
    size_t fb = nf * sizeof(uint32_t), sb = (nf + 1) * sizeof(int32_t);
    size_t rb = ne * sizeof(int32_t), wb = ne * sizeof(float);
    out->feat_off = malloc((p->steps + 1) * sizeof *out->feat_off);
    int rc = out->feat_off ? SC_OK : sc_error(SC_ERR, "sparse plan: out of memory");
    if (rc == SC_OK) memcpy(out->feat_off, p->feat_off, (p->steps + 1) * sizeof *out->feat_off);
    if (rc == SC_OK) rc = sc_buffer_new(rt, fb, &out->features);
    if (rc == SC_OK) rc = sc_buffer_new(rt, sb, &out->seg);
    if (rc == SC_OK) rc = sc_buffer_new(rt, rb, &out->rows);
    if (rc == SC_OK) rc = sc_buffer_new(rt, wb, &out->weights);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->features, 0, p->features, fb);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->seg, 0, p->seg, sb);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->rows, 0, p->rows, rb);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->weights, 0, p->weights, wb);
    if (rc != SC_OK) sc_sparse_plan_dev_free(out);
    return rc;
}

void sc_sparse_plan_dev_free(sc_sparse_plan_dev *p) {
    free(p->feat_off);
    sc_buffer_free(p->features);
    sc_buffer_free(p->seg);
    sc_buffer_free(p->rows);
    sc_buffer_free(p->weights);
    memset(p, 0, sizeof *p);
}

static int check_step(const sc_sparse_plan_dev *p, size_t step) {
    if (step < p->steps) return SC_OK;
    return sc_error(SC_EINPUT, "sparse layer: step %zu of a plan of %zu steps", step, p->steps);
}

int sc_sparse_backward(sc_runtime *rt, const sc_sparse_layer *l, const sc_sparse_plan_dev *p,
                       size_t step, sc_view grads, sc_view y, sc_view dy, sc_view g) {
    SC_TRY(check_step(p, step));
    size_t first, count;
    step_share(p->pairs, p->batch, p->part, p->parts, step, &first, &count);
    size_t rows = 2 * count;
    size_t fs = p->feat_off[step], nfeat = p->feat_off[step + 1] - fs;
    SC_TRY(sc_act_bias_backward(rt, dy, y, sc_view_at(grads, l->b), rows, l->out, l->act));
    return launch8(rt, "sparse_grad", l->out, nfeat, SC_MEM(p->seg), SC_MEM(p->rows),
                   SC_MEM(p->weights), SC_INT(fs), SC_INT(nfeat), SC_VIEW(dy), SC_INT(l->out),
                   SC_VIEW(g));
}

int sc_sparse_optimizer_create(sc_runtime *rt, const sc_optim_config *cfg, const sc_sparse_layer *l,
                               sc_sparse_optimizer **out) {
    *out = NULL;
    if (cfg->clip_norm > 0)
        return sc_error(SC_EINPUT, "clip_norm is not supported with a sparse input layer");
    sc_sparse_optimizer *o = calloc(1, sizeof *o);
    if (!o) return sc_error(SC_ERR, "out of memory");
    o->rt = rt;
    o->cfg = *cfg;
    o->layer = *l;
    size_t bytes = (size_t)l->buckets * (size_t)l->out * sizeof(float);
    int rc = sc_buffer_new(rt, bytes, &o->m);
    if (rc == SC_OK && cfg->kind == SC_OPT_ADAM) rc = sc_buffer_new(rt, bytes, &o->v);
    if (rc == SC_OK) rc = sc_sparse_optimizer_reset(o);
    if (rc != SC_OK) {
        sc_sparse_optimizer_free(o);
        return rc;
    }
    *out = o;
    return SC_OK;
}

void sc_sparse_optimizer_free(sc_sparse_optimizer *o) {
    if (!o) return;
    sc_buffer_free(o->m);
    sc_buffer_free(o->v);
    free(o);
}

int sc_sparse_optimizer_reset(sc_sparse_optimizer *o) {
    size_t n = (size_t)o->layer.buckets * (size_t)o->layer.out;
    o->step = 0;
    SC_TRY(sc_fill(o->rt, (sc_view){o->m, 0}, 0.0f, n));
    return o->v ? sc_fill(o->rt, (sc_view){o->v, 0}, 0.0f, n) : SC_OK;
}

int sc_sparse_optimizer_get_state(sc_sparse_optimizer *o, float *m, float *v, long *step) {
    size_t n = (size_t)o->layer.buckets * (size_t)o->layer.out;
    *step = o->step;
    SC_TRY(sc_download(o->rt, m, (sc_view){o->m, 0}, n));
    return o->v ? sc_download(o->rt, v, (sc_view){o->v, 0}, n) : SC_OK;
}

int sc_sparse_optimizer_set_state(sc_sparse_optimizer *o, const float *m, const float *v,
                                  long step) {
    size_t n = (size_t)o->layer.buckets * (size_t)o->layer.out;
    o->step = step;
    SC_TRY(sc_upload(o->rt, (sc_view){o->m, 0}, m, n));
    return o->v ? sc_upload(o->rt, (sc_view){o->v, 0}, v, n) : SC_OK;
}

int sc_sparse_optimizer_step(sc_sparse_optimizer *o, sc_view params, const sc_sparse_plan_dev *p,
                             size_t step, sc_view g) {
    const sc_optim_config *c = &o->cfg;
    const sc_sparse_layer *l = &o->layer;
    SC_TRY(check_step(p, step));
    size_t fs = p->feat_off[step], nfeat = p->feat_off[step + 1] - fs;
    sc_view w = sc_view_at(params, l->w);
    o->step++;
    if (c->kind == SC_OPT_SGD)
        return launch(o->rt, "sparse_sgd", l->out, nfeat, SC_VIEW(w), SC_VIEW(g),
                      SC_MEM(p->features), SC_INT(fs), SC_INT(nfeat), SC_INT(l->out), SC_MEM(o->m),
                      SC_FLT(c->lr), SC_FLT(c->momentum), SC_FLT(c->weight_decay));
    /* bias corrections in double on the host, as sc_optimizer_step */
    float c1 = (float)(1.0 / (1.0 - pow(c->beta1, (double)o->step)));
    float c2 = (float)(1.0 / (1.0 - pow(c->beta2, (double)o->step)));
    return launch(o->rt, "sparse_adam", l->out, nfeat, SC_VIEW(w), SC_VIEW(g), SC_MEM(p->features),
                  SC_INT(fs), SC_INT(nfeat), SC_INT(l->out), SC_MEM(o->m), SC_MEM(o->v),
                  SC_FLT(c->lr), SC_FLT(c->beta1), SC_FLT(c->beta2), SC_FLT(c->eps),
                  SC_FLT(c->weight_decay), SC_FLT(c1), SC_FLT(c2));
}
