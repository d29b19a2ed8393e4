// Optimizers: one launch updates the whole flat parameter buffer. scale[0] multiplies every
// gradient (the clipping factor, 1 without clipping).

// partial[k] = sum of g[i]^2 over i = k, k + P, k + 2P, ... (P work-items).
kernel void sumsq_partial(global const float *g, int g_off, int n, global float *partial) {
    int k = get_global_id(0), p = get_global_size(0);
    float s = 0.0f;
    for (int i = k; i < n; i += p) s += g[g_off + i] * g[g_off + i];
    partial[k] = s;
}

// scale[0] = min(1, max_norm / norm) and scale[1] = norm, the global gradient norm.
kernel void clip_scale(global const float *partial, int parts, float max_norm,
                       global float *scale) {
    if (get_global_id(0) != 0) return;
    float s = 0.0f;
    for (int k = 0; k < parts; k++) s += partial[k];
    float norm = sqrt(s);
    scale[0] = norm > max_norm ? max_norm / norm : 1.0f;
    scale[1] = norm;
}

// Moments that decay toward zero (Adam's m by 0.9 a step wherever the gradient stays zero, as
// for always-blank pixels) pass through the subnormal range, where a CPU takes a slow path on
// every operation: the default job trained 30-40% slower on PoCL. Below FLT_MIN a moment no
// longer changes an update, so it is stored as zero. The test is on the bits: written as
// fabs(x) < FLT_MIN, PoCL left the optimizer kernels unvectorized, 2.5x slower.
float flush_subnormal(float x) {
    int bits = as_int(x); // zero exponent bits: zero or subnormal
    return as_float(bits & 0x7f800000 ? bits : 0);
}

// AdamW: m, v the moment estimates; c1 = 1 / (1 - beta1^t), c2 = 1 / (1 - beta2^t); weight
// decay is decoupled: p -= lr (mhat / (sqrt(vhat) + eps) + wd p).
kernel void adam(global float *p, int p_off, global const float *g, int g_off, global float *m,
                 global float *v, global const float *scale, int n, float lr, float beta1,
                 float beta2, float eps, float wd, float c1, float c2) {
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[g_off + i] * scale[0];
    float mi = flush_subnormal(beta1 * m[i] + (1.0f - beta1) * gi);
    float vi = flush_subnormal(beta2 * v[i] + (1.0f - beta2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    float pi = p[p_off + i];
    p[p_off + i] = pi - lr * (mi * c1 / (sqrt(vi * c2) + eps) + wd * pi);
}

// SGD with momentum, weight decay as L2 on the gradient (as torch.optim.SGD):
// g' = g + wd p; buf = momentum buf + g'; p -= lr buf.
kernel void sgd(global float *p, int p_off, global const float *g, int g_off, global float *buf,
                global const float *scale, int n, float lr, float momentum, float wd) {
    int i = get_global_id(0);
    if (i >= n) return;
    float pi = p[p_off + i];
    float gi = g[g_off + i] * scale[0] + wd * pi;
    float b = flush_subnormal(momentum * buf[i] + gi);
    buf[i] = b;
    p[p_off + i] = pi - lr * b;
}
