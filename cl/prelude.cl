// The prelude: host/runtime.c puts this text before the source of every kernel file it builds,
// so that what several files need is written once. Helpers only, no kernels. A helper keeps the
// expressions of the code it replaced, statement for statement: PoCL fuses a * b + c into one
// rounding only within an expression, so splitting or joining expressions would change bits.

// Moments that decay toward zero (Adam's m by 0.9 a step wherever the gradient stays zero, as
// for always-blank pixels) pass through the subnormal range, where a CPU takes a slow path on
// every operation: the default job trained 30-40% slower on PoCL. Below FLT_MIN a moment no
// longer changes an update, so it is stored as zero. The test is on the bits: written as
// fabs(x) < FLT_MIN, PoCL left the optimizer kernels unvectorized, 2.5x slower.
float flush_subnormal(float x) {
    int bits = as_int(x); // zero exponent bits: zero or subnormal
    return as_float(bits & 0x7f800000 ? bits : 0);
}

// One element of AdamW (optim.cl's adam, sparse.cl's sparse_adam): gradient g * scale, m and v
// its moment estimates; c1 = 1 / (1 - beta1^t), c2 = 1 / (1 - beta2^t); weight decay is
// decoupled: p -= lr (mhat / (sqrt(vhat) + eps) + wd p).
void adam_step(global float *p, float g, float scale, global float *m, global float *v, float lr,
               float beta1, float beta2, float eps, float wd, float c1, float c2) {
    float gi = g * scale;
    float mi = flush_subnormal(beta1 * *m + (1.0f - beta1) * gi);
    float vi = flush_subnormal(beta2 * *v + (1.0f - beta2) * gi * gi);
    *m = mi;
    *v = vi;
    float pi = *p;
    *p = pi - lr * (mi * c1 / (sqrt(vi * c2) + eps) + wd * pi);
}

// One element of SGD with momentum (optim.cl's sgd, sparse.cl's sparse_sgd), weight decay as L2
// on the gradient (as torch.optim.SGD): g' = g scale + wd p; buf = momentum buf + g';
// p -= lr buf.
void sgd_step(global float *p, float g, float scale, global float *buf, float lr, float momentum,
              float wd) {
    float pi = *p;
    float gi = g * scale + wd * pi;
    float b = flush_subnormal(momentum * *buf + gi);
    *buf = b;
    *p = pi - lr * b;
}

// The losses of a pair (loss.cl on a score, similarity.cl's pair_loss from the embeddings):
// each returns the pair's term and sets its derivative with respect to the input.

// term = (score - y)^2; dscore = 2 (score - y).
float mse_term(float score, float y, float *dscore) {
    float r = score - y;
    *dscore = 2.0f * r;
    return r * r;
}

// Hadsell, Chopra and LeCun (2006): term = y d^2 + (1 - y) max(0, margin - d)^2 for a pair at
// distance d; dd = dterm/dd.
float contrastive_term(float d, float y, float margin, float *dd) {
    float gap = fmax(margin - d, 0.0f);
    *dd = 2.0f * y * d - 2.0f * (1.0f - y) * gap;
    return y * d * d + (1.0f - y) * gap * gap;
}

// The source row of row r of a batch (gather.cl's gathers, sparse.cl's bag): left[first + r]
// for r < split, else right[first + r - split]. A batch of pairs has split = pairs (left sides,
// then right sides); a list of rows has left = right and split = its length.
int source_row(global const int *left, global const int *right, int first, int split, int r) {
    return r < split ? left[first + r] : right[first + r - split];
}
