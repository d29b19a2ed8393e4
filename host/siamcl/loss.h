/* Losses (cl/loss.cl). Each writes per-pair terms and the gradient of the batch loss, a mean
 * over the batch; sc_loss_reduce adds the batch to a running sum kept on the device. */
#ifndef SIAMCL_LOSS_H
#define SIAMCL_LOSS_H

#include "siamcl/runtime.h"

typedef enum {
    SC_LOSS_MSE,
    SC_LOSS_CONTRASTIVE,
    SC_LOSS_SOFTMAX,
    SC_LOSS_TRIPLET,
    SC_LOSS_COSENT,
    SC_LOSS_ONLINE_CONTRASTIVE
} sc_loss_kind;
/* "mse", "contrastive", "softmax", "triplet", "cosent", "online_contrastive", NULL */
extern const char *const sc_loss_names[];

/* triplet: which triplets of a batch count (see sc_triplet) */
typedef enum { SC_MINING_NONE, SC_MINING_BATCH_HARD, SC_MINING_BATCH_ALL } sc_mining;
extern const char *const sc_mining_names[]; /* "none", "batch_hard", "batch_all", NULL */

typedef struct sc_loss_config {
    sc_loss_kind kind;
    float margin; /* contrastive, online_contrastive, triplet */
    float scale;  /* softmax: logits are scale * cosine; cosent: exp(scale * score difference) */
    sc_mining mining; /* triplet */
} sc_loss_config;

/* Whether the loss's value depends on which pairs share a batch (in-batch negatives, mining,
 * ranking): it is then always measured in batches of the training batch size. */
int sc_loss_is_batchwise(sc_loss_kind kind);

/* term = (score - y)^2, dscore = 2 (score - y) / B. */
int sc_mse(sc_runtime *rt, sc_view score, sc_view y, cl_mem terms, sc_view dscore, size_t pairs);
/* term = y d^2 + (1 - y) max(0, margin - d)^2 with d = 1 - x (is_cosine) or d = x; dx. */
int sc_contrastive(sc_runtime *rt, sc_view x, sc_view y, cl_mem terms, sc_view dx, size_t pairs,
                   float margin, int is_cosine);
/* Row-wise cross-entropy of the B x B logits with the diagonal, row i weighted by y_i, over
 * the columns that are true negatives: keys (2B floats, the left rows' then the right rows')
 * mask column j of row i when pairs i and j share their left or right row's key, or j's right
 * key is i's left key (the same anchor, the same partner, or a partner of the anchor's class). */
int sc_softmax_rows(sc_runtime *rt, cl_mem logits, sc_view y, sc_view keys, cl_mem terms,
                    cl_mem dlogits, size_t pairs);
/* The contrastive term of the batch's hard pairs only (positives, y >= 0.5, farther than the
 * nearest negative; negatives nearer than the farthest positive), 0 for the others; d as
 * sc_contrastive's. */
int sc_online_contrastive(sc_runtime *rt, sc_view x, sc_view y, cl_mem terms, sc_view dx,
                          size_t pairs, float margin, int is_cosine);
/* CoSENT: the batch loss log(1 + sum_{y_i > y_j} exp(scale (s_j - s_i))) in every term, and
 * its gradient with respect to the scores s; work holds sc_cosent_work(pairs) floats. */
int sc_cosent(sc_runtime *rt, sc_view s, sc_view y, cl_mem work, cl_mem terms, sc_view ds,
              size_t pairs, float scale);
static inline size_t sc_cosent_work(size_t pairs) {
    return 3 * pairs;
}
/* The triplet loss over the 2B rows of a batch's embeddings x (2B x dim; the left rows, then
 * the right) with a class key each (keys, 2B floats): with distance D (1 - cosine when
 * is_cosine, else euclidean) and triplets (a, p, n) of an anchor a, a p of its class and an n
 * of another, the mean of max(0, D(a, p) - D(a, n) + margin) over
 *   SC_MINING_NONE: each positive pair's left row, its partner, and the first right row after
 *                   it (cyclically) of another class;
 *   SC_MINING_BATCH_HARD: every row, its farthest p and its nearest n;
 *   SC_MINING_BATCH_ALL: every triplet, the mean taken over those of positive loss.
 * The batch loss goes into every term; work (sc_triplet_work(pairs) floats) keeps what
 * sc_triplet_backward then needs to put the loss's gradient with respect to x into dx. */
int sc_triplet(sc_runtime *rt, sc_view x, sc_view keys, cl_mem work, cl_mem terms, size_t pairs,
               size_t dim, int is_cosine, sc_mining mining, float margin);
int sc_triplet_backward(sc_runtime *rt, sc_view x, cl_mem work, sc_view dx, size_t pairs,
                        size_t dim, int is_cosine);
static inline size_t sc_triplet_work(size_t pairs) {
    return 8 * pairs * pairs + 6 * pairs + 1;
}
/* The running loss's floats on the device: sum, compensation, last batch, weight, first
 * non-finite batch, batches (see sc_loss_reduce). */
enum { SC_LOSS_ACC = 6 };

/* acc[0] += sum of terms (compensated by acc[1]); acc[2] = the batch loss; acc[3] += the
 * batch's weight (B, or sum y when weighted); acc[5] += 1, and acc[4] = acc[5] the first time
 * a batch's sum is not finite. */
int sc_loss_reduce(sc_runtime *rt, cl_mem terms, sc_view y, size_t pairs, int weighted, cl_mem acc);

#endif
