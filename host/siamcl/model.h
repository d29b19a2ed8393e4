/* The Siamese model: a tower of dense layers shared by both sides of a pair, a head that scores
 * the pair, and an optional map of the score onto the target range. Parameters, gradients and
 * the batch workspace each live in one device buffer; layers find their part by offset. */
#ifndef SIAMCL_MODEL_H
#define SIAMCL_MODEL_H

#include "siamcl/dense.h"
#include "siamcl/gemm.h"
#include "siamcl/inputs.h"
#include "siamcl/loss.h"

#define SC_MAX_LAYERS 8

typedef enum { SC_HEAD_COSINE, SC_HEAD_EUCLIDEAN, SC_HEAD_MLP } sc_head;
extern const char *const sc_head_names[]; /* "cosine", "euclidean", "mlp", NULL */
typedef enum { SC_OUTPUT_RAW, SC_OUTPUT_RANGE } sc_output;
extern const char *const sc_output_names[]; /* "raw", "range", NULL */

typedef struct sc_model_config {
    int input;        /* input width; 0 until the data sets it */
    int sparse_input; /* text: the first layer is an embedding bag over input hashed features */
    int bag_mean;     /* text: the bag averages its rows (else sums them) */
    int nlayers;
    int layers[SC_MAX_LAYERS]; /* tower widths; the last is the embedding width */
    sc_act activation;         /* hidden tower layers */
    sc_act output_activation;  /* the last tower layer */
    int normalize;             /* L2-normalize embeddings */
    sc_head head;
    int head_nlayers;
    int head_layers[SC_MAX_LAYERS]; /* mlp: hidden widths before the single output */
    int pair_features; /* mlp: the pairs' own features beside [u, v, |u - v|, u * v] (0: none) */
    float dropout;     /* training: the rate of inverted dropout on hidden tower and head layers */
    sc_act head_activation;
    sc_output output;
    float target_min, target_max; /* range */
} sc_model_config;

/* "784-256-128-64 relu tower, cosine head, mse loss" and the like. */
void sc_model_describe(const sc_model_config *mc, const sc_loss_config *loss, char *out,
                       size_t size);

typedef struct sc_model {
    sc_runtime *rt;
    sc_model_config cfg;
    sc_loss_config loss;
    uint64_t seed; /* the initialization's, which also seeds dropout's masks */
    sc_dense tower[SC_MAX_LAYERS];
    sc_dense head[SC_MAX_LAYERS + 1];
    int ntower, nhead;
    long ab; /* offset of the range map's a and b, or -1 */
    size_t nparams;
    /* sparse input: the first layer, its table W at offset 0 (table floats, updated lazily by
     * sc_sparse_optimizer; the dense optimizer takes the rest) */
    sc_sparse_layer sparse;
    size_t table;
    cl_mem sparse_grad; /* the compact table gradient: sparse_rows x out */
    size_t sparse_rows;
    cl_mem whole_emb; /* data parallelism, batch-wise losses: the whole batch's embeddings */
    cl_mem params, grads, work;
    size_t max_pairs;
    struct {
        sc_view act[SC_MAX_LAYERS + 1];        /* act[0] is the input, 2B x input */
        sc_view emb, norm;                     /* embeddings, 2B x E (act[T] unless normalized) */
        sc_view dist, sim, score;              /* per pair */
        sc_view dsim, dscore, y;               /* per pair */
        sc_view feat, hact[SC_MAX_LAYERS + 1]; /* mlp head */
        sc_view tdrop[SC_MAX_LAYERS], hdrop[SC_MAX_LAYERS]; /* dropout: act[l], hact[l] dropped */
        sc_view grad_a, grad_b;                             /* ping-pong scratch for backward */
        sc_view unit, unit_norm; /* softmax: unit embeddings when not normalized */
        cl_mem terms, logits, dlogits, acc;
        cl_mem loss_work; /* triplet, cosent (sc_triplet_work, sc_cosent_work) */
        cl_mem keys;      /* softmax, triplet: the batch's 2B row keys */
    } ws;
} sc_model;

/* Creates a model for batches of up to max_pairs pairs, with parameters initialized from seed:
 * He-uniform for relu layers, Xavier-uniform otherwise, U(-1, 1) for a text model's embedding
 * table, zero biases, a = 1 and b = 0. A model
 * too large for the device is an SC_EINPUT error. */
int sc_model_create(sc_runtime *rt, const sc_model_config *mc, const sc_loss_config *loss,
                    size_t max_pairs, uint64_t seed, sc_model **out);
void sc_model_free(sc_model *m);

static inline int sc_model_embedding_width(const sc_model *m) {
    return m->cfg.layers[m->cfg.nlayers - 1];
}
static inline sc_view sc_model_params(const sc_model *m) {
    return (sc_view){m->params, 0};
}
static inline sc_view sc_model_grads(const sc_model *m) {
    return (sc_view){m->grads, 0};
}

/* A batch: pairs first .. first + n - 1 of pairs (indices of rows of in, and targets), n at most
 * the model's max_pairs. Training a sparse first layer also names the batch's step of the
 * epoch's plan (sc_model_plan); elsewhere plan is NULL. tick numbers a training step (dropout
 * draws its masks from it and the model's seed, so that a resumed run draws the same ones).
 * The model reads the batch during the call and keeps nothing of it. */
typedef struct sc_batch {
    const sc_inputs *in;
    const sc_pairs_dev *pairs;
    size_t first, n;
    const sc_sparse_plan_dev *plan;
    size_t step;
    uint64_t tick;
    /* A data-parallel rank's share of a batch of share_of pairs (0: the batch is whole): its
     * pairs are the whole's share_at .. share_at + n - 1, and dropout draws the masks that the
     * whole batch's pairs get, so that N ranks train as one process. */
    size_t share_at, share_of;
} sc_batch;

/* The epoch's plan for a sparse first layer: its pairs in batches of batch pairs (the sparse
 * layer's gradient reads it); the model's compact gradient grows to its widest step. A dense
 * model gets an empty plan. Free it with sc_sparse_plan_dev_free. */
int sc_model_plan(sc_model *m, const sc_inputs *in, const sc_pairs *pairs, size_t batch,
                  sc_sparse_plan_dev *out);
/* The plan of part `part` of `parts` data-parallel processes: each trains its share of every
 * batch (sc_pairs_share) and their compact gradients sum to the batch's (see
 * sc_sparse_plan_build_part). */
int sc_model_plan_part(sc_model *m, const sc_inputs *in, const sc_pairs *pairs, size_t batch,
                       int part, int parts, sc_sparse_plan_dev *out);
/* sc_model_plan_part in two halves: the plan built on the host (reads m and in, changes
 * nothing: another thread may build while the model trains; an empty plan for a dense first
 * layer), then uploaded (and the compact gradient grown to it). */
int sc_model_plan_build(const sc_model *m, const sc_inputs *in, const sc_pairs *pairs, size_t batch,
                        int part, int parts, sc_sparse_plan *out);
int sc_model_plan_upload(sc_model *m, const sc_sparse_plan *plan, sc_sparse_plan_dev *out);

/* Scores of the batch's pairs: sc_model_scores holds them afterwards (b->n floats). */
int sc_model_forward(sc_model *m, const sc_batch *b);
/* After sc_model_forward: the batch's loss against its targets, added to the running sum. */
int sc_model_loss(sc_model *m, size_t pairs);
/* A training step's pass over the batch: forward, the loss (added to the running sum, as
 * sc_model_loss does) and every parameter's gradient. */
int sc_model_train_pass(sc_model *m, const sc_batch *b);

/* Every rank's embeddings in one (data parallelism): given this rank's `rows` rows of width
 * floats (its share's left rows, then its right rows), fills whole with the whole batch's
 * (every share's left rows in order, then every share's right rows). */
typedef int (*sc_gather_rows)(void *ctx, const float *mine, size_t rows, float *whole,
                              size_t width);
/* A training pass of one rank's share of a batch under a batch-wise loss (softmax, triplet,
 * cosent, online_contrastive: each pair's term reads the others'): the tower on the share's
 * rows, the rows of every rank gathered, the head and the loss and their gradient over the
 * whole batch (on every rank alike: its running loss and the head's gradients are the whole
 * batch's), then the tower's backward pass on the share's rows of the embeddings' gradient.
 * Summing the ranks' tower gradients, and taking one rank's head gradients, gives the whole
 * batch's gradient. share is whole's share (share_at, share_of); an empty share takes part in
 * the gather and computes no gradient of the tower. */
int sc_model_train_pass_gathered(sc_model *m, const sc_batch *share, const sc_batch *whole,
                                 sc_gather_rows gather, void *ctx);
/* The parameters (floats from offset 0) of the tower, before the head's and the output map's. */
size_t sc_model_tower_params(const sc_model *m);
/* Embeddings of the rows ix names (at most 2 max_pairs rows): sc_model_embeddings holds them
 * afterwards (ix->n x E floats). */
int sc_model_embed(sc_model *m, const sc_inputs *in, const sc_row_index *ix);
/* The head and output map alone on n pairs of embeddings, left and right (n x E each, on the
 * device; n at most max_pairs), and, for a head that reads [model] pair_features, the pairs'
 * own features from row first of features (pair_features floats a pair; else NULL):
 * sc_model_scores holds the scores afterwards. */
int sc_model_score_embeddings(sc_model *m, sc_view left, sc_view right, size_t n, cl_mem features,
                              size_t first);

/* The results of the last call, in the model's workspace: read them, never write them. */
static inline sc_view sc_model_scores(const sc_model *m) {
    return m->ws.score;
}
static inline sc_view sc_model_embeddings(const sc_model *m) {
    return m->ws.emb;
}

/* The running loss since the last reset: the mean over the pairs (or positive weight), the
 * last batch's loss, and the first batch (1-based) whose loss was not finite, 0 if none. */
typedef struct sc_loss_total {
    double mean, last;
    long bad_batch;
} sc_loss_total;

/* One blocking read. */
int sc_model_loss_read(sc_model *m, sc_loss_total *out);
int sc_model_loss_reset(sc_model *m);
/* The running loss's state (SC_LOSS_ACC floats), to continue a run where it stopped. */
int sc_model_loss_get(sc_model *m, float *acc);
int sc_model_loss_set(sc_model *m, const float *acc);

/* Both optimizers of a model: the dense one over every parameter but a text model's embedding
 * table, and the lazy one over the rows of the table that a step touches. */
typedef struct sc_model_optimizer {
    sc_optimizer *dense;
    sc_sparse_optimizer *sparse; /* text input only */
} sc_model_optimizer;

int sc_model_optimizer_create(sc_model *m, const sc_optim_config *c, sc_model_optimizer *o);
void sc_model_optimizer_free(sc_model_optimizer *o);
/* After sc_model_train_pass of batch b: one update (the lazy one of b's step of the plan). */
int sc_model_optimizer_step(sc_model *m, sc_model_optimizer *o, const sc_batch *b);

/* Copies all parameters to or from the host (nparams floats). */
int sc_model_get_params(sc_model *m, float *host);
int sc_model_set_params(sc_model *m, const float *host);

/* The dense layers' matrix products of a step at `pairs` pairs: each layer's forward product
 * and, when training, its weight gradient and (but for the first layer) its input gradient.
 * At most SC_MAX_PRODUCTS; returns how many. */
enum { SC_MAX_PRODUCTS = 3 * (2 * SC_MAX_LAYERS + 1) };
int sc_model_products(const sc_model_config *mc, size_t pairs, int training, sc_gemm_shape *out);

#endif
