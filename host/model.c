#include "siamcl/model.h"
#include "siamcl/dense.h"
#include "siamcl/gemm.h"
#include "siamcl/optim.h"
#include "siamcl/rng.h"
#include "siamcl/similarity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Floats at which the device allows a sub-buffer to start (at least 16): matrices placed there
 * reach CLBlast without a copy (gemm.c). */
static size_t align_floats(const sc_model *m) {
    size_t a = m->rt->dev.base_align / sizeof(float);
    return a > 16 ? a : 16;
}

static size_t align_up(size_t n, size_t a) {
    return (n + a - 1) / a * a;
}

/* Gives a dense layer its place in the flat parameter buffer, after *n floats: W on the
 * alignment a, b right after it. */
static void place(sc_dense *d, int in, int out, sc_act act, size_t a, size_t *n) {
    d->in = in;
    d->out = out;
    d->act = act;
    d->w = align_up(*n, a);
    *n = d->w;
    *n += (size_t)in * out;
    d->b = *n;
    *n += (size_t)out;
}

static size_t layout_params(sc_model *m) {
    const sc_model_config *c = &m->cfg;
    size_t n = 0, a = align_floats(m);
    int in = c->input;
    for (int l = 0; l < c->nlayers; l++) {
        sc_act act = l + 1 == c->nlayers ? c->output_activation : c->activation;
        place(&m->tower[l], in, c->layers[l], act, a, &n); /* the sparse table is in x out too */
        in = c->layers[l];
    }
    if (c->sparse_input) {
        m->sparse = (sc_sparse_layer){(uint32_t)c->input, c->layers[0],    m->tower[0].w,
                                      m->tower[0].b,      m->tower[0].act, c->bag_mean};
        m->table = (size_t)c->input * c->layers[0];
    }
    m->ntower = c->nlayers;
    m->nhead = 0;
    if (c->head == SC_HEAD_MLP) {
        in = 4 * in + c->pair_features; /* [u, v, |u - v|, u * v, the pair's own] */
        for (int l = 0; l < c->head_nlayers; l++) {
            place(&m->head[l], in, c->head_layers[l], c->head_activation, a, &n);
            in = c->head_layers[l];
        }
        place(&m->head[c->head_nlayers], in, 1, SC_ACT_IDENTITY, a, &n);
        m->nhead = c->head_nlayers + 1;
    }
    m->ab = -1;
    if (c->output == SC_OUTPUT_RANGE && c->head != SC_HEAD_MLP) {
        m->ab = (long)n;
        n += 2;
    }
    return n;
}

/* Where the workspace's next view goes: mem (NULL to only measure), floats used so far, and the
 * alignment every view starts on. */
typedef struct cursor {
    cl_mem mem;
    size_t used, align;
} cursor;

/* The next n floats of the workspace. */
static sc_view take(cursor *w, size_t n) {
    sc_view v = {w->mem, w->used};
    w->used += align_up(n, w->align);
    return v;
}

static size_t max_width(const int *w, int n) {
    size_t mx = 0;
    for (int i = 0; i < n; i++)
        if ((size_t)w[i] > mx) mx = (size_t)w[i];
    return mx;
}

/* Lays out the batch workspace in mem (NULL to only measure it); returns its size in floats. */
static size_t plan_workspace(sc_model *m, cl_mem mem) {
    const sc_model_config *c = &m->cfg;
    size_t B = m->max_pairs, R = 2 * B, E = (size_t)sc_model_embedding_width(m);
    cursor w = {mem, 0, align_floats(m)};
    m->ws.act[0] = take(&w, c->sparse_input ? 0 : R * c->input);
    for (int l = 0; l < c->nlayers; l++) m->ws.act[l + 1] = take(&w, R * c->layers[l]);
    for (int l = 1; c->dropout > 0 && l < c->nlayers; l++)
        m->ws.tdrop[l] = take(&w, R * c->layers[l - 1]);
    m->ws.emb = m->ws.act[c->nlayers];
    if (c->normalize) {
        m->ws.emb = take(&w, R * E);
        m->ws.norm = take(&w, R);
    }
    m->ws.dist = take(&w, B);
    m->ws.sim = take(&w, B);
    m->ws.dsim = take(&w, B);
    m->ws.y = take(&w, B);
    m->ws.score = m->ws.sim;
    m->ws.dscore = m->ws.dsim;
    if (c->output == SC_OUTPUT_RANGE) {
        m->ws.score = take(&w, B);
        m->ws.dscore = take(&w, B);
    }
    size_t scratch = R * max_width(c->layers, c->nlayers);
    if (c->head == SC_HEAD_MLP) {
        size_t feat = B * (4 * E + (size_t)c->pair_features);
        m->ws.feat = take(&w, feat);
        for (int l = 0; l < c->head_nlayers; l++) m->ws.hact[l] = take(&w, B * c->head_layers[l]);
        for (int l = 0; c->dropout > 0 && l < c->head_nlayers; l++)
            m->ws.hdrop[l] = take(&w, B * c->head_layers[l]);
        m->ws.hact[c->head_nlayers] = m->ws.sim;
        size_t h = B * max_width(c->head_layers, c->head_nlayers);
        if (feat > scratch) scratch = feat;
        if (h > scratch) scratch = h;
    }
    m->ws.grad_a = take(&w, scratch);
    m->ws.grad_b = take(&w, scratch);
    if (m->loss.kind == SC_LOSS_SOFTMAX && !c->normalize) {
        m->ws.unit = take(&w, R * E);
        m->ws.unit_norm = take(&w, R);
    }
    return w.used;
}

/* Whether the loss reads a key per row of the batch (which rows are the same item). */
static int needs_keys(const sc_model *m) {
    return m->loss.kind == SC_LOSS_SOFTMAX || m->loss.kind == SC_LOSS_TRIPLET;
}

/* Floats of the loss's own work buffer: the softmax's logits and their gradient, the
 * triplet's distances, CoSENT's sums. */
static size_t loss_work(const sc_model *m) {
    size_t B = m->max_pairs;
    switch (m->loss.kind) {
    case SC_LOSS_SOFTMAX:
        return 2 * B * B;
    case SC_LOSS_TRIPLET:
        return sc_triplet_work(B);
    case SC_LOSS_COSENT:
        return sc_cosent_work(B);
    default:
        return 0;
    }
}

/* Refuses a model the device cannot hold, before any allocation. */
static int check_fits(const sc_model *m, size_t work) {
    const sc_device_desc *d = &m->rt->dev;
    size_t B = m->max_pairs;
    size_t logits = loss_work(m);
    /* parameters, gradients and two optimizer moments */
    double bytes = 4.0 * (4.0 * (double)m->nparams + (double)work + (double)logits);
    double largest = 4.0 * (double)(work > m->nparams ? work : m->nparams);
    if (4.0 * (double)logits > largest) largest = 4.0 * (double)logits;
    if (bytes <= (double)d->global_mem && largest <= (double)d->max_alloc &&
        largest / 4.0 < 2147483647.0)
        return SC_OK;
    return sc_error(SC_EINPUT,
                    "model does not fit on %s: %zu parameters with batches of %zu pairs need "
                    "%.0f MiB (%.0f MiB in one buffer); the device has %.0f MiB (%.0f MiB per "
                    "buffer): reduce [model] layers or [train] batch_size",
                    d->name, m->nparams, B, bytes / 1048576.0, largest / 1048576.0,
                    (double)d->global_mem / 1048576.0, (double)d->max_alloc / 1048576.0);
}

/* The parameters of layer d drawn uniformly from the range that suits its activation. */
static void init_dense(const sc_dense *d, float *p, sc_rng *r) {
    /* He-uniform keeps relu activations' variance; Xavier-uniform suits the others */
    double fan = d->act == SC_ACT_RELU ? d->in : d->in + d->out;
    float lim = (float)sqrt(6.0 / fan);
    for (size_t i = 0; i < (size_t)d->in * d->out; i++) p[d->w + i] = sc_rng_range(r, -lim, lim);
}

static int init_params(sc_model *m, uint64_t seed) {
    float *p = calloc(m->nparams, sizeof *p);
    if (!p) return sc_error(SC_ERR, "out of memory");
    sc_rng r;
    sc_rng_seed(&r, seed, 1);
    for (int l = 0; l < m->ntower; l++) init_dense(&m->tower[l], p, &r);
    /* an embedding table's fan-in is the features of a text, not its 2^18 rows: rows of unit
     * scale (as PyTorch's EmbeddingBag) averaged by the bag keep the tower out of its flat
     * start; Xavier over the buckets would start it near zero */
    for (size_t i = 0; i < m->table; i++) p[i] = sc_rng_range(&r, -1.0f, 1.0f);
    for (int l = 0; l < m->nhead; l++) init_dense(&m->head[l], p, &r);
    if (m->ab >= 0) p[m->ab] = 1.0f;
    int rc = sc_model_set_params(m, p);
    free(p);
    return rc;
}

static int allocate(sc_model *m) {
    size_t B = m->max_pairs, work = plan_workspace(m, NULL);
    SC_TRY(check_fits(m, work));
    SC_TRY(sc_buffer_new(m->rt, m->nparams * sizeof(float), &m->params));
    SC_TRY(sc_buffer_new(m->rt, m->nparams * sizeof(float), &m->grads));
    SC_TRY(sc_buffer_new(m->rt, work * sizeof(float), &m->work));
    SC_TRY(sc_buffer_new(m->rt, B * sizeof(float), &m->ws.terms));
    SC_TRY(sc_buffer_new(m->rt, SC_LOSS_ACC * sizeof(float), &m->ws.acc));
    if (m->loss.kind == SC_LOSS_SOFTMAX) {
        SC_TRY(sc_buffer_new(m->rt, B * B * sizeof(float), &m->ws.logits));
        SC_TRY(sc_buffer_new(m->rt, B * B * sizeof(float), &m->ws.dlogits));
    } else if (loss_work(m)) {
        SC_TRY(sc_buffer_new(m->rt, loss_work(m) * sizeof(float), &m->ws.loss_work));
    }
    if (needs_keys(m)) SC_TRY(sc_buffer_new(m->rt, 2 * B * sizeof(float), &m->ws.keys));
    plan_workspace(m, m->work);
    SC_TRY(sc_fill(m->rt, sc_model_grads(m), 0.0f, m->nparams));
    return sc_model_loss_reset(m);
}

int sc_model_create(sc_runtime *rt, const sc_model_config *mc, const sc_loss_config *loss,
                    size_t max_pairs, uint64_t seed, sc_model **out) {
    *out = NULL;
    if (mc->input <= 0) return sc_error(SC_EINPUT, "[model] input: the input width is not set");
    if (max_pairs == 0) return sc_error(SC_EINPUT, "batch size must be at least 1");
    sc_model *m = calloc(1, sizeof *m);
    if (!m) return sc_error(SC_ERR, "out of memory");
    m->rt = rt;
    m->cfg = *mc;
    m->loss = *loss;
    m->seed = seed;
    m->max_pairs = max_pairs;
    m->nparams = layout_params(m);
    int rc = allocate(m);
    if (rc == SC_OK) rc = init_params(m, seed);
    if (rc != SC_OK) {
        sc_model_free(m);
        return rc;
    }
    *out = m;
    return SC_OK;
}

void sc_model_free(sc_model *m) {
    if (!m) return;
    sc_buffer_free(m->params);
    sc_buffer_free(m->grads);
    sc_buffer_free(m->work);
    sc_buffer_free(m->ws.terms);
    sc_buffer_free(m->ws.acc);
    sc_buffer_free(m->ws.logits);
    sc_buffer_free(m->ws.dlogits);
    sc_buffer_free(m->ws.loss_work);
    sc_buffer_free(m->ws.keys);
    sc_buffer_free(m->sparse_grad);
    sc_buffer_free(m->whole_emb);
    free(m);
}

int sc_model_plan(sc_model *m, const sc_inputs *in, const sc_pairs *pairs, size_t batch,
                  sc_sparse_plan_dev *out) {
    return sc_model_plan_part(m, in, pairs, batch, 0, 1, out);
}

int sc_model_plan_part(sc_model *m, const sc_inputs *in, const sc_pairs *pairs, size_t batch,
                       int part, int parts, sc_sparse_plan_dev *out) {
    sc_sparse_plan plan;
    memset(out, 0, sizeof *out);
    SC_TRY(sc_model_plan_build(m, in, pairs, batch, part, parts, &plan));
    int rc = sc_model_plan_upload(m, &plan, out);
    sc_sparse_plan_free(&plan);
    return rc;
}

int sc_model_plan_build(const sc_model *m, const sc_inputs *in, const sc_pairs *pairs, size_t batch,
                        int part, int parts, sc_sparse_plan *out) {
    memset(out, 0, sizeof *out);
    if (!m->cfg.sparse_input) return SC_OK;
    return sc_sparse_plan_build_part(&m->sparse, in->csr, pairs->left, pairs->right, pairs->n,
                                     batch, part, parts, out);
}

int sc_model_plan_upload(sc_model *m, const sc_sparse_plan *plan, sc_sparse_plan_dev *out) {
    memset(out, 0, sizeof *out);
    if (!m->cfg.sparse_input) return SC_OK;
    int rc = sc_sparse_plan_upload(m->rt, plan, out);
    size_t rows = plan->max_features;
    if (rc != SC_OK || rows <= m->sparse_rows) return rc;
    sc_buffer_free(m->sparse_grad);
    m->sparse_grad = NULL;
    m->sparse_rows = 0;
    SC_TRY(sc_buffer_new(m->rt, rows * m->sparse.out * sizeof(float), &m->sparse_grad));
    m->sparse_rows = rows;
    return SC_OK;
}

/* The first layer's output for the rows ix names: dense rows gathered into the input and
 * multiplied, or the embedding bag of sparse rows. */
static int first_layer_forward(sc_model *m, const sc_inputs *in, const sc_row_index *ix) {
    if (m->cfg.sparse_input)
        return sc_sparse_forward(m->rt, &m->sparse, sc_model_params(m), &in->csr_dev, ix,
                                 m->ws.act[1]);
    SC_TRY(sc_gather(m->rt, in->dense, in->width, ix, m->ws.act[0]));
    return sc_dense_forward(m->rt, &m->tower[0], sc_model_params(m), m->ws.act[0], m->ws.act[1],
                            ix->n);
}

/* Dropout's mask of training step tick in the layer salt names (the tower's output l: l; the
 * head's hidden layer l: 64 + l). */
static sc_dropout mask(const sc_model *m, const sc_batch *b, uint32_t salt, size_t width,
                       int sides) {
    sc_dropout d = {m->cfg.dropout, b->tick ^ (m->seed * 0x9e3779b97f4a7c15u), salt, 0, {0, 0}};
    if (!b->share_of) return d;
    /* a share of the whole batch: its left rows (or pairs) from row share_at of the whole's,
     * its right rows from row share_of + share_at */
    d.split = b->n * width;
    d.shift[0] = b->share_at * width;
    d.shift[1] = sides == 2 ? (b->share_of - b->n + b->share_at) * width : 0;
    return d;
}

/* A hidden layer's output as the next layer reads it: dropped (into drop) when training. */
static int hidden_output(const sc_model *m, const sc_batch *train, uint32_t salt, sc_view act,
                         sc_view drop, size_t width, int sides, sc_view *out) {
    *out = act;
    if (!train || m->cfg.dropout <= 0) return SC_OK;
    sc_dropout d = mask(m, train, salt, width, sides);
    size_t n = (size_t)sides * train->n * width;
    *out = drop;
    return sc_dropout_forward(m->rt, &d, act, drop, n);
}

/* A tower's output for inference: block by block of rows, each gathered feature-major (or for
 * a sparse first layer, its embedding bag written so) and kept so through the hidden layers (in
 * the backward pass's scratch), which CLBlast then multiplies without transposing copies; the
 * last layer writes the block's rows of the output. A block's operands stay in the caches
 * through the whole tower. */
static int tower_infer(sc_model *m, const sc_inputs *in, const sc_row_index *ix) {
    sc_view fm[2] = {m->ws.grad_a, m->ws.grad_b}, out = m->ws.act[m->ntower];
    size_t E = (size_t)sc_model_embedding_width(m);
    for (size_t r0 = 0; r0 < ix->n; r0 += SC_DENSE_BLOCK_ROWS) {
        size_t nb = ix->n - r0 < SC_DENSE_BLOCK_ROWS ? ix->n - r0 : SC_DENSE_BLOCK_ROWS;
        sc_view x = m->ws.act[0], rows = sc_view_at(out, r0 * E);
        int l = 0, last = m->ntower == 1;
        if (m->cfg.sparse_input) { /* layer 0 is the bag */
            x = last ? rows : fm[0];
            SC_TRY(sc_sparse_forward_block(m->rt, &m->sparse, sc_model_params(m), &in->csr_dev, ix,
                                           r0, nb, x, last));
            l = 1;
        } else {
            SC_TRY(sc_gather_fm(m->rt, in->dense, in->width, ix, r0, nb, x));
        }
        for (; l < m->ntower; l++) {
            last = l == m->ntower - 1;
            sc_view y = last ? rows : fm[l % 2];
            SC_TRY(sc_dense_forward_fm(m->rt, &m->tower[l], sc_model_params(m), x, y, nb, last));
            x = y;
        }
    }
    return SC_OK;
}

/* The tower's layers on the rows ix names; train: a training step's batch, which drops, or
 * NULL. */
static int tower_layers(sc_model *m, const sc_inputs *in, const sc_row_index *ix,
                        const sc_batch *train) {
    if (ix->n > 2 * m->max_pairs)
        return sc_error(SC_ERR, "a batch of %zu rows exceeds the model's %zu", ix->n,
                        2 * m->max_pairs);
    if (!train) return tower_infer(m, in, ix);
    size_t rows = ix->n;
    SC_TRY(first_layer_forward(m, in, ix));
    for (int l = 1; l < m->ntower; l++) {
        sc_view x;
        SC_TRY(hidden_output(m, train, (uint32_t)l, m->ws.act[l], m->ws.tdrop[l],
                             (size_t)m->tower[l].in, 2, &x));
        SC_TRY(
            sc_dense_forward(m->rt, &m->tower[l], sc_model_params(m), x, m->ws.act[l + 1], rows));
    }
    return SC_OK;
}

/* The tower on the rows ix names (embeddings in ws.emb); train as for tower_layers. */
static int tower_forward(sc_model *m, const sc_inputs *in, const sc_row_index *ix,
                         const sc_batch *train) {
    SC_TRY(tower_layers(m, in, ix, train));
    size_t rows = ix->n;
    if (!m->cfg.normalize) return SC_OK;
    return sc_normalize_forward(m->rt, m->ws.act[m->ntower], m->ws.emb, m->ws.norm, rows,
                                (size_t)sc_model_embedding_width(m));
}

int sc_model_embed(sc_model *m, const sc_inputs *in, const sc_row_index *ix) {
    return tower_forward(m, in, ix, NULL);
}

/* The batch's targets, and its rows' keys when the loss reads them (the rows' indices where
 * the inputs have no keys), in the workspace. */
static int batch_targets(sc_model *m, const sc_batch *b) {
    sc_row_index ix = sc_pairs_index(b->pairs, b->first, b->n);
    if (needs_keys(m)) {
        sc_view keys = {m->ws.keys, 0};
        if (m->loss.kind == SC_LOSS_TRIPLET && !b->in->labeled)
            return sc_error(SC_EINPUT, "the triplet loss needs rows with class labels");
        SC_TRY(b->in->keys ? sc_gather(m->rt, b->in->keys, 1, &ix, keys)
                           : sc_gather_index(m->rt, &ix, keys));
    }
    return sc_copy(m->rt, m->ws.y, (sc_view){b->pairs->target, b->first}, b->n);
}

/* The batch's embeddings (training: with dropout), targets and keys, in the workspace. */
static int embed_batch(sc_model *m, const sc_batch *b, int training) {
    sc_row_index ix = sc_pairs_index(b->pairs, b->first, b->n);
    if (b->pairs->nfeatures != m->cfg.pair_features)
        return sc_error(SC_EINPUT,
                        "the model's head reads %d features of each pair; the pairs have %d",
                        m->cfg.pair_features, b->pairs->nfeatures);
    SC_TRY(tower_forward(m, b->in, &ix, training ? b : NULL));
    return batch_targets(m, b);
}

/* cols: the pairs' own features, the batch's from pair first on (NULL: none); train as
 * tower_forward's. */
static int mlp_forward(sc_model *m, cl_mem cols, size_t first, size_t pairs, size_t dim,
                       const sc_batch *train) {
    SC_TRY(sc_pair_features_forward(m->rt, m->ws.emb, m->ws.feat, pairs, dim, cols, first,
                                    m->cfg.pair_features));
    sc_view x = m->ws.feat;
    for (int l = 0; l < m->nhead; l++) {
        SC_TRY(sc_dense_forward(m->rt, &m->head[l], sc_model_params(m), x, m->ws.hact[l], pairs));
        x = m->ws.hact[l];
        if (l + 1 < m->nhead)
            SC_TRY(hidden_output(m, train, 64 + (uint32_t)l, x, m->ws.hdrop[l],
                                 (size_t)m->head[l].out, 1, &x));
    }
    return SC_OK;
}

/* The head and output map on the embeddings in the workspace; an mlp head also reads the
 * pairs' own features from cols (as mlp_forward), and drops when train is set. */
static int head_forward(sc_model *m, cl_mem cols, size_t first, size_t pairs,
                        const sc_batch *train) {
    size_t dim = (size_t)sc_model_embedding_width(m);
    switch (m->cfg.head) {
    case SC_HEAD_COSINE:
        SC_TRY(sc_cosine_forward(m->rt, m->ws.emb, m->ws.sim, pairs, dim));
        break;
    case SC_HEAD_EUCLIDEAN:
        SC_TRY(sc_euclidean_forward(m->rt, m->ws.emb, m->ws.dist, m->ws.sim, pairs, dim));
        break;
    case SC_HEAD_MLP:
        SC_TRY(mlp_forward(m, cols, first, pairs, dim, train));
        break;
    }
    if (m->cfg.output == SC_OUTPUT_RAW) return SC_OK;
    return sc_range_forward(m->rt, m->ws.sim, sc_model_params(m), m->ab, m->ws.score, pairs,
                            m->cfg.target_min, m->cfg.target_max);
}

int sc_model_forward(sc_model *m, const sc_batch *b) {
    SC_TRY(embed_batch(m, b, 0));
    return head_forward(m, b->pairs->features, b->first, b->n, NULL);
}

int sc_model_score_embeddings(sc_model *m, sc_view left, sc_view right, size_t n, cl_mem features,
                              size_t first) {
    size_t E = (size_t)sc_model_embedding_width(m);
    if (n > m->max_pairs)
        return sc_error(SC_ERR, "%zu pairs exceed the model's batch of %zu", n, m->max_pairs);
    /* the head reads pair i's sides at rows i and n + i */
    SC_TRY(sc_copy(m->rt, m->ws.emb, left, n * E));
    SC_TRY(sc_copy(m->rt, sc_view_at(m->ws.emb, n * E), right, n * E));
    return head_forward(m, features, first, n, NULL);
}

static void swap(sc_view *a, sc_view *b) {
    sc_view t = *a;
    *a = *b;
    *b = t;
}

/* Backward of hidden_output: the gradient d of the dropped layer's output, in place. */
static int hidden_backward(const sc_model *m, const sc_batch *b, uint32_t salt, sc_view d,
                           size_t width, int sides) {
    if (m->cfg.dropout <= 0) return SC_OK;
    sc_dropout mk = mask(m, b, salt, width, sides);
    return sc_dropout_backward(m->rt, &mk, d, (size_t)sides * b->n * width);
}

/* The input the head's layer l read in training (dropped or not). */
static sc_view head_input(const sc_model *m, int l) {
    if (!l) return m->ws.feat;
    return m->cfg.dropout > 0 ? m->ws.hdrop[l - 1] : m->ws.hact[l - 1];
}

/* From the gradient g of the head's output (sim, or dist when !g_is_sim) to the embeddings'
 * gradient, left in *cur; *other is free scratch afterwards. */
static int head_backward(sc_model *m, const sc_batch *b, sc_view g, int g_is_sim, sc_view *cur,
                         sc_view *other) {
    size_t pairs = b->n;
    size_t dim = (size_t)sc_model_embedding_width(m);
    if (m->cfg.head == SC_HEAD_COSINE)
        return sc_cosine_backward(m->rt, m->ws.emb, g, *cur, pairs, dim);
    if (m->cfg.head == SC_HEAD_EUCLIDEAN)
        return sc_euclidean_backward(m->rt, m->ws.emb, m->ws.dist, g, g_is_sim, *cur, pairs, dim);
    sc_view dy = g;
    for (int l = m->nhead - 1; l >= 0; l--) {
        SC_TRY(sc_dense_backward(m->rt, &m->head[l], sc_model_params(m), sc_model_grads(m),
                                 head_input(m, l), m->ws.hact[l], dy, *cur, pairs));
        dy = *cur;
        swap(cur, other);
        if (l) SC_TRY(hidden_backward(m, b, 63 + (uint32_t)l, dy, (size_t)m->head[l].in, 1));
    }
    /* dy holds the features' gradient, in *other after the last swap */
    SC_TRY(sc_pair_features_backward(m->rt, m->ws.emb, dy, *cur, pairs, dim, m->cfg.pair_features));
    return SC_OK;
}

/* In-batch softmax: the unit embeddings (the normalized ones, or a normalized copy) and the
 * B x B logits of scaled cosines. */
static int softmax_logits(sc_model *m, size_t B, sc_view *u) {
    size_t E = (size_t)sc_model_embedding_width(m);
    *u = m->ws.emb;
    if (!m->cfg.normalize) {
        *u = m->ws.unit;
        SC_TRY(sc_normalize_forward(m->rt, m->ws.emb, *u, m->ws.unit_norm, 2 * B, E));
    }
    return sc_gemm(m->rt, 0, 1, B, B, E, m->loss.scale, *u, sc_view_at(*u, B * E), 0.0f,
                   (sc_view){m->ws.logits, 0});
}

/* The softmax loss's gradient with respect to the embeddings, left in *cur. */
static int softmax_backward(sc_model *m, size_t B, sc_view *cur, sc_view *other) {
    size_t E = (size_t)sc_model_embedding_width(m);
    float s = m->loss.scale;
    sc_view u = m->cfg.normalize ? m->ws.emb : m->ws.unit, v = sc_view_at(u, B * E);
    sc_view dlogits = {m->ws.dlogits, 0};
    sc_view du = m->cfg.normalize ? *cur : *other;
    SC_TRY(sc_gemm(m->rt, 0, 0, B, E, B, s, dlogits, v, 0.0f, du));
    SC_TRY(sc_gemm(m->rt, 1, 0, B, E, B, s, dlogits, u, 0.0f, sc_view_at(du, B * E)));
    if (m->cfg.normalize) return SC_OK;
    return sc_normalize_backward(m->rt, u, m->ws.unit_norm, du, *cur, 2 * B, E);
}

/* Adds the batch's terms to the running loss. */
static int reduce_loss(sc_model *m, size_t pairs) {
    return sc_loss_reduce(m->rt, m->ws.terms, m->ws.y, pairs, m->loss.kind == SC_LOSS_SOFTMAX,
                          m->ws.acc);
}

int sc_model_loss(sc_model *m, size_t pairs) {
    sc_runtime *rt = m->rt;
    sc_view y = m->ws.y, u, keys = {m->ws.keys, 0};
    int cosine = m->cfg.head == SC_HEAD_COSINE;
    size_t E = (size_t)sc_model_embedding_width(m);
    const sc_loss_config *l = &m->loss;
    switch (l->kind) {
    case SC_LOSS_MSE:
        SC_TRY(sc_mse(rt, m->ws.score, y, m->ws.terms, m->ws.dscore, pairs));
        break;
    case SC_LOSS_CONTRASTIVE:
        SC_TRY(sc_contrastive(rt, cosine ? m->ws.sim : m->ws.dist, y, m->ws.terms, m->ws.dsim,
                              pairs, l->margin, cosine));
        break;
    case SC_LOSS_ONLINE_CONTRASTIVE:
        SC_TRY(sc_online_contrastive(rt, cosine ? m->ws.sim : m->ws.dist, y, m->ws.terms,
                                     m->ws.dsim, pairs, l->margin, cosine));
        break;
    case SC_LOSS_SOFTMAX:
        SC_TRY(softmax_logits(m, pairs, &u));
        SC_TRY(sc_softmax_rows(rt, m->ws.logits, y, keys, m->ws.terms, m->ws.dlogits, pairs));
        break;
    case SC_LOSS_TRIPLET:
        SC_TRY(sc_triplet(rt, m->ws.emb, keys, m->ws.loss_work, m->ws.terms, pairs, E, cosine,
                          l->mining, l->margin));
        break;
    case SC_LOSS_COSENT:
        SC_TRY(sc_cosent(rt, m->ws.score, y, m->ws.loss_work, m->ws.terms, m->ws.dscore, pairs,
                         l->scale));
        break;
    }
    return reduce_loss(m, pairs);
}

/* After sc_model_loss: the embeddings' gradient, left in *cur. */
static int loss_backward(sc_model *m, const sc_batch *b, sc_view *cur, sc_view *other) {
    size_t pairs = b->n;
    switch (m->loss.kind) {
    case SC_LOSS_MSE:
    case SC_LOSS_COSENT:
        if (m->cfg.output == SC_OUTPUT_RANGE)
            SC_TRY(sc_range_backward(m->rt, m->ws.sim, sc_model_params(m), m->ab, m->ws.dscore,
                                     m->ws.dsim, sc_model_grads(m), pairs, m->cfg.target_min,
                                     m->cfg.target_max));
        return head_backward(m, b, m->ws.dsim, 1, cur, other);
    case SC_LOSS_CONTRASTIVE:
    case SC_LOSS_ONLINE_CONTRASTIVE:
        return head_backward(m, b, m->ws.dsim, 0, cur, other);
    case SC_LOSS_SOFTMAX:
        return softmax_backward(m, pairs, cur, other);
    case SC_LOSS_TRIPLET:
        return sc_triplet_backward(m->rt, m->ws.emb, m->ws.loss_work, *cur, pairs,
                                   (size_t)sc_model_embedding_width(m),
                                   m->cfg.head == SC_HEAD_COSINE);
    }
    return sc_error(SC_ERR, "unknown loss %d", (int)m->loss.kind);
}

/* From the embeddings' gradient in cur (other: scratch) to every tower parameter's. */
static int tower_backward(sc_model *m, const sc_batch *b, sc_view cur, sc_view other) {
    size_t pairs = b->n;
    size_t R = 2 * pairs, E = (size_t)sc_model_embedding_width(m);
    if (m->cfg.normalize) {
        SC_TRY(sc_normalize_backward(m->rt, m->ws.emb, m->ws.norm, cur, other, R, E));
        swap(&cur, &other);
    }
    for (int l = m->ntower - 1; l >= 1; l--) {
        sc_view x = m->cfg.dropout > 0 ? m->ws.tdrop[l] : m->ws.act[l]; /* as the forward read */
        SC_TRY(sc_dense_backward(m->rt, &m->tower[l], sc_model_params(m), sc_model_grads(m), x,
                                 m->ws.act[l + 1], cur, other, R));
        swap(&cur, &other);
        SC_TRY(hidden_backward(m, b, (uint32_t)l, cur, (size_t)m->tower[l].in, 2));
    }
    /* the first layer: no gradient for the input */
    if (!m->cfg.sparse_input)
        return sc_dense_backward(m->rt, &m->tower[0], sc_model_params(m), sc_model_grads(m),
                                 m->ws.act[0], m->ws.act[1], cur, (sc_view){NULL, 0}, R);
    if (!b->plan) return sc_error(SC_ERR, "training a sparse first layer needs the epoch's plan");
    return sc_sparse_backward(m->rt, &m->sparse, b->plan, b->step, sc_model_grads(m), m->ws.act[1],
                              cur, (sc_view){m->sparse_grad, 0});
}

/* A cosine or euclidean head with raw output under mse or contrastive: one kernel takes the
 * embeddings to the loss terms and back to their gradient. */
static int fused_head_loss(const sc_model *m) {
    return m->cfg.head != SC_HEAD_MLP && m->cfg.output == SC_OUTPUT_RAW &&
           (m->loss.kind == SC_LOSS_MSE || m->loss.kind == SC_LOSS_CONTRASTIVE);
}

int sc_model_train_pass(sc_model *m, const sc_batch *b) {
    sc_view cur = m->ws.grad_a, other = m->ws.grad_b;
    size_t pairs = b->n;
    SC_TRY(embed_batch(m, b, 1));
    if (fused_head_loss(m)) {
        SC_TRY(sc_pair_loss(m->rt, m->ws.emb, m->ws.y, m->ws.terms, cur, pairs,
                            (size_t)sc_model_embedding_width(m), m->cfg.head == SC_HEAD_EUCLIDEAN,
                            m->loss.kind == SC_LOSS_CONTRASTIVE, m->loss.margin));
        SC_TRY(reduce_loss(m, pairs));
    } else {
        SC_TRY(head_forward(m, b->pairs->features, b->first, pairs, b));
        SC_TRY(sc_model_loss(m, pairs));
        SC_TRY(loss_backward(m, b, &cur, &other));
    }
    return tower_backward(m, b, cur, other);
}

/* The head, the loss and their backward pass over the whole batch, whose embeddings are in
 * ws.emb: the embeddings' gradient in *cur. */
static int whole_loss(sc_model *m, const sc_batch *whole, sc_view *cur, sc_view *other) {
    SC_TRY(batch_targets(m, whole));
    SC_TRY(head_forward(m, whole->pairs->features, whole->first, whole->n, whole));
    SC_TRY(sc_model_loss(m, whole->n));
    return loss_backward(m, whole, cur, other);
}

/* Rows first .. first + n - 1 and whole + first .. of src (rows of width floats) into dst. */
static int copy_share_rows(sc_runtime *rt, sc_view src, size_t whole, size_t first, size_t n,
                           size_t width, sc_view dst) {
    SC_TRY(sc_copy(rt, dst, sc_view_at(src, first * width), n * width));
    return sc_copy(rt, sc_view_at(dst, n * width), sc_view_at(src, (whole + first) * width),
                   n * width);
}

/* This rank's embeddings, downloaded, gathered from every rank and uploaded as the whole
 * batch's into m->whole_emb. */
static int gather_embeddings(sc_model *m, size_t rows, size_t whole_rows, sc_gather_rows gather,
                             void *ctx) {
    size_t E = (size_t)sc_model_embedding_width(m);
    if (!m->whole_emb)
        SC_TRY(sc_buffer_new(m->rt, 2 * m->max_pairs * E * sizeof(float), &m->whole_emb));
    float *mine = malloc((rows * E + 1) * sizeof *mine),
          *all = malloc((whole_rows * E + 1) * sizeof *all);
    int rc = mine && all ? SC_OK : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK && rows) rc = sc_download(m->rt, mine, m->ws.emb, rows * E);
    if (rc == SC_OK) rc = gather(ctx, mine, rows, all, E);
    if (rc == SC_OK) rc = sc_upload(m->rt, (sc_view){m->whole_emb, 0}, all, whole_rows * E);
    free(mine);
    free(all);
    return rc;
}

int sc_model_train_pass_gathered(sc_model *m, const sc_batch *share, const sc_batch *whole,
                                 sc_gather_rows gather, void *ctx) {
    sc_view cur = m->ws.grad_a, other = m->ws.grad_b, own = m->ws.emb;
    size_t E = (size_t)sc_model_embedding_width(m), n = share->n;
    if (n) SC_TRY(embed_batch(m, share, 1));
    SC_TRY(gather_embeddings(m, 2 * n, 2 * whole->n, gather, ctx));
    m->ws.emb = (sc_view){m->whole_emb, 0}; /* the head and the loss read the whole batch's */
    int rc = whole_loss(m, whole, &cur, &other);
    m->ws.emb = own;
    SC_TRY(rc);
    if (!n) return SC_OK;
    /* the share's rows of the embeddings' gradient, then the tower's backward pass on them */
    SC_TRY(copy_share_rows(m->rt, cur, whole->n, share->share_at, n, E, other));
    return tower_backward(m, share, other, cur);
}

size_t sc_model_tower_params(const sc_model *m) {
    if (m->nhead) return m->head[0].w;
    return m->ab >= 0 ? (size_t)m->ab : m->nparams;
}

int sc_model_loss_read(sc_model *m, sc_loss_total *out) {
    float acc[SC_LOSS_ACC];
    SC_TRY(sc_model_loss_get(m, acc));
    out->mean = acc[3] > 0 ? (double)acc[0] / acc[3] : 0.0;
    out->last = acc[2];
    out->bad_batch = (long)acc[4];
    return SC_OK;
}

int sc_model_loss_reset(sc_model *m) {
    return sc_fill(m->rt, (sc_view){m->ws.acc, 0}, 0.0f, SC_LOSS_ACC);
}

int sc_model_loss_get(sc_model *m, float *acc) {
    return sc_download(m->rt, acc, (sc_view){m->ws.acc, 0}, SC_LOSS_ACC);
}

int sc_model_loss_set(sc_model *m, const float *acc) {
    return sc_upload(m->rt, (sc_view){m->ws.acc, 0}, acc, SC_LOSS_ACC);
}

int sc_model_get_params(sc_model *m, float *host) {
    return sc_download(m->rt, host, sc_model_params(m), m->nparams);
}

int sc_model_set_params(sc_model *m, const float *host) {
    return sc_upload(m->rt, sc_model_params(m), host, m->nparams);
}

int sc_model_optimizer_create(sc_model *m, const sc_optim_config *c, sc_model_optimizer *o) {
    o->dense = NULL;
    o->sparse = NULL;
    int rc = sc_optimizer_create(m->rt, c, m->nparams - m->table, &o->dense);
    if (rc == SC_OK && m->cfg.sparse_input)
        rc = sc_sparse_optimizer_create(m->rt, c, &m->sparse, &o->sparse);
    if (rc != SC_OK) sc_model_optimizer_free(o);
    return rc;
}

void sc_model_optimizer_free(sc_model_optimizer *o) {
    sc_optimizer_free(o->dense);
    sc_sparse_optimizer_free(o->sparse);
    o->dense = NULL;
    o->sparse = NULL;
}

int sc_model_optimizer_step(sc_model *m, sc_model_optimizer *o, const sc_batch *b) {
    SC_TRY(sc_optimizer_step(o->dense, sc_view_at(sc_model_params(m), m->table),
                             sc_view_at(sc_model_grads(m), m->table)));
    if (!o->sparse) return SC_OK;
    if (!b->plan) return sc_error(SC_ERR, "a sparse first layer's step needs the epoch's plan");
    return sc_sparse_optimizer_step(o->sparse, sc_model_params(m), b->plan, b->step,
                                    (sc_view){m->sparse_grad, 0});
}

/* The products of a dense layer of `rows` rows: forward, then when training the weights'
 * gradient and (unless first) the input's. */
static void layer_products(size_t rows, size_t in, size_t out, int first, int training,
                           sc_gemm_shape *s, int *n) {
    s[(*n)++] = (sc_gemm_shape){rows, out, in, 0, 0};
    if (!training) return;
    s[(*n)++] = (sc_gemm_shape){in, out, rows, 1, 0};
    if (!first) s[(*n)++] = (sc_gemm_shape){rows, in, out, 0, 1};
}

int sc_model_products(const sc_model_config *mc, size_t pairs, int training, sc_gemm_shape *s) {
    int n = 0;
    size_t in = (size_t)mc->input;
    for (int l = 0; l < mc->nlayers; l++) {
        if (!(l == 0 && mc->sparse_input)) /* an embedding bag has no product */
            layer_products(2 * pairs, in, (size_t)mc->layers[l], l == 0, training, s, &n);
        in = (size_t)mc->layers[l];
    }
    if (mc->head != SC_HEAD_MLP) return n;
    in = 4 * in + (size_t)mc->pair_features;
    for (int l = 0; l <= mc->head_nlayers; l++) {
        size_t out = l < mc->head_nlayers ? (size_t)mc->head_layers[l] : 1;
        layer_products(pairs, in, out, 0, training, s, &n);
        in = out;
    }
    return n;
}
