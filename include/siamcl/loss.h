/* Losses (cl/loss.cl). Each writes per-pair terms and the gradient of the batch loss, a mean
 * over the batch; sc_loss_reduce adds the batch to a running sum kept on the device. */
#ifndef SIAMCL_LOSS_H
#define SIAMCL_LOSS_H

#include "siamcl/runtime.h"

typedef enum { SC_LOSS_MSE, SC_LOSS_CONTRASTIVE, SC_LOSS_SOFTMAX } sc_loss_kind;
extern const char *const sc_loss_names[]; /* "mse", "contrastive", "softmax", NULL */

typedef struct sc_loss_config {
    sc_loss_kind kind;
    float margin; /* contrastive */
    float scale;  /* softmax: logits are scale * cosine */
} sc_loss_config;

/* term = (score - y)^2, dscore = 2 (score - y) / B. */
int sc_mse(sc_runtime *rt, sc_view score, sc_view y, cl_mem terms, sc_view dscore, size_t pairs);
/* term = y d^2 + (1 - y) max(0, margin - d)^2 with d = 1 - x (is_cosine) or d = x; dx. */
int sc_contrastive(sc_runtime *rt, sc_view x, sc_view y, cl_mem terms, sc_view dx, size_t pairs,
                   float margin, int is_cosine);
/* Row-wise cross-entropy of the B x B logits with the diagonal, row i weighted by y_i. */
int sc_softmax_rows(sc_runtime *rt, cl_mem logits, sc_view y, cl_mem terms, cl_mem dlogits,
                    size_t pairs);
/* The running loss's floats on the device: sum, compensation, last batch, weight, first
 * non-finite batch, batches (see sc_loss_reduce). */
enum { SC_LOSS_ACC = 6 };

/* acc[0] += sum of terms (compensated by acc[1]); acc[2] = the batch loss; acc[3] += the
 * batch's weight (B, or sum y when weighted); acc[5] += 1, and acc[4] = acc[5] the first time
 * a batch's sum is not finite. */
int sc_loss_reduce(sc_runtime *rt, cl_mem terms, sc_view y, size_t pairs, int weighted, cl_mem acc);

#endif
