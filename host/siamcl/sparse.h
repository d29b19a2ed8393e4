/* The sparse input layer for text pairs (cl/sparse.cl): an embedding bag over hashed features,
 * as DSSM's first layer, with a gradient and an optimizer step whose cost follows the rows a
 * batch touches rather than the size of the table.
 *
 * Batch row r < B is text left[first + r] of the pairs, row B + r is text right[first + r] (or
 * any list of rows, as sc_gather takes them), and
 *     z[r][c] = b[c] + sum over the text's features k of value[k] W[index[k]][c]
 *     y = act(z)
 * with W (buckets x out, a row per feature) and b (out) in the flat parameter buffer. In mean
 * mode the sum is divided by the text's sum of values; an empty text gives z = b.
 *
 * Training precomputes, once per epoch, each step's transposed batch (a plan): the step's
 * features, sorted and unique, and for each the batch rows holding it. The gradient of W is then
 * compact (one row per feature of the step) and summed in a fixed order, so runs repeat bit for
 * bit, and the lazy optimizer updates only those rows of W and of its moments. */
#ifndef SIAMCL_SPARSE_H
#define SIAMCL_SPARSE_H

#include "siamcl/elementwise.h"
#include "siamcl/csr.h"
#include "siamcl/gather.h"
#include "siamcl/optim.h"

/* A CSR matrix on the device (see sc_csr): uint32 offsets and indices, float values. */
typedef struct sc_csr_dev {
    size_t rows, nnz;
    cl_mem offsets, indices, values;
} sc_csr_dev;

int sc_csr_upload(sc_runtime *rt, const sc_csr *m, sc_csr_dev *out);
void sc_csr_dev_free(sc_csr_dev *m);

typedef struct sc_sparse_layer {
    uint32_t buckets; /* rows of W: the feature indices' range */
    int out;
    size_t w, b; /* offsets (floats) of W and b in the parameter and gradient buffers */
    sc_act act;
    int mean; /* 1: divide by the text's sum of values */
} sc_sparse_layer;

/* y (ix->n x out) = act(z) for the rows of x that ix names (as sc_gather's). */
int sc_sparse_forward(sc_runtime *rt, const sc_sparse_layer *l, sc_view params, const sc_csr_dev *x,
                      const sc_row_index *ix, sc_view y);
/* The same for rows from .. from + nb - 1 of them: y (nb x out) when to_rows, else
 * feature-major, y^T (out x nb), as sc_dense_forward_fm reads it. */
int sc_sparse_forward_block(sc_runtime *rt, const sc_sparse_layer *l, sc_view params,
                            const sc_csr_dev *x, const sc_row_index *ix, size_t from, size_t nb,
                            sc_view y, int to_rows);

/* An epoch's plan: step s covers pairs s batch .. (s + 1) batch - 1 (the last step may be
 * short) and has the features features[feat_off[s] .. feat_off[s + 1]), ascending. Feature k's
 * entries are seg[k] .. seg[k + 1] - 1 of rows (batch rows, ascending) and weights (the value,
 * or in mean mode the value divided by its text's sum of values). */
typedef struct sc_sparse_plan {
    size_t steps, batch, pairs;
    int part, parts;     /* the rows of part `part` of each step's pairs (sc_pairs_share) */
    size_t max_features; /* the most features of one step: the compact gradient's rows */
    size_t *feat_off;    /* steps + 1 */
    uint32_t *features;
    int32_t *seg; /* feat_off[steps] + 1 */
    int32_t *rows;
    float *weights;
} sc_sparse_plan;

/* Plans the epoch whose pairs are left[i], right[i] (rows of x), i < pairs, in batches of
 * batch pairs. An index outside x or a feature outside the layer's buckets is SC_EINPUT. */
int sc_sparse_plan_build(const sc_sparse_layer *l, const sc_csr *x, const int32_t *left,
                         const int32_t *right, size_t pairs, size_t batch, sc_sparse_plan *out);
/* The plan of one of `parts` processes that share every step's pairs (data parallelism): step
 * s has the features of all its pairs, as sc_sparse_plan_build's, but the entries of the
 * process's share of them alone, in its own batch rows (row r < count is the left text of the
 * share's pair r, count + r its right one). The processes' compact gradients then have the same
 * rows, and their sum is the whole step's. */
int sc_sparse_plan_build_part(const sc_sparse_layer *l, const sc_csr *x, const int32_t *left,
                              const int32_t *right, size_t pairs, size_t batch, int part, int parts,
                              sc_sparse_plan *out);
void sc_sparse_plan_free(sc_sparse_plan *p);

/* A plan on the device; feat_off stays on the host too, for the launches' sizes. */
typedef struct sc_sparse_plan_dev {
    size_t steps, batch, pairs, max_features;
    int part, parts;
    size_t *feat_off;
    cl_mem features, seg, rows, weights;
} sc_sparse_plan_dev;

int sc_sparse_plan_upload(sc_runtime *rt, const sc_sparse_plan *p, sc_sparse_plan_dev *out);
void sc_sparse_plan_dev_free(sc_sparse_plan_dev *p);

/* For step s of the plan, after sc_sparse_forward of the same batch into y: given dy = dL/dy
 * (overwritten with dL/dz), writes db at the layer's offset in grads and the compact gradient
 * g (features of the step x out): g[u] = dL/dW[feature u]. The input has no gradient. */
int sc_sparse_backward(sc_runtime *rt, const sc_sparse_layer *l, const sc_sparse_plan_dev *p,
                       size_t step, sc_view grads, sc_view y, sc_view dy, sc_view g);

/* The lazy optimizer of W: a step updates only the rows of W that its batch touches, and their
 * moments (as torch.optim.SparseAdam); other rows keep their weights and moments. Adam's bias
 * corrections use the optimizer's step count t; weight decay (AdamW, or L2 for SGD) applies to
 * the touched rows only. Clipping is not supported (the global norm would need every
 * gradient). */
typedef struct sc_sparse_optimizer {
    sc_runtime *rt;
    sc_optim_config cfg;
    sc_sparse_layer layer;
    long step;
    cl_mem m, v; /* buckets x out each; sgd's momentum buffer is m */
} sc_sparse_optimizer;

int sc_sparse_optimizer_create(sc_runtime *rt, const sc_optim_config *cfg, const sc_sparse_layer *l,
                               sc_sparse_optimizer **out);
void sc_sparse_optimizer_free(sc_sparse_optimizer *o);
/* Zeroes the moments and the step count, as for a fresh run. */
int sc_sparse_optimizer_reset(sc_sparse_optimizer *o);
/* The state a run continues from: the moments of every row (buckets x out floats each; v only
 * for adam, else NULL) and the step count. */
int sc_sparse_optimizer_get_state(sc_sparse_optimizer *o, float *m, float *v, long *step);
int sc_sparse_optimizer_set_state(sc_sparse_optimizer *o, const float *m, const float *v,
                                  long step);
/* Updates W in params from the compact gradient g of step s of the plan. */
int sc_sparse_optimizer_step(sc_sparse_optimizer *o, sc_view params, const sc_sparse_plan_dev *p,
                             size_t step, sc_view g);

#endif
