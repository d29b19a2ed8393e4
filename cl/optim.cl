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

// AdamW (prelude.cl's adam_step) on every parameter.
kernel void adam(global float *p, int p_off, global const float *g, int g_off, global float *m,
                 global float *v, global const float *scale, int n, float lr, float beta1,
                 float beta2, float eps, float wd, float c1, float c2) {
    int i = get_global_id(0);
    if (i >= n) return;
    adam_step(&p[p_off + i], g[g_off + i], scale[0], &m[i], &v[i], lr, beta1, beta2, eps, wd, c1,
              c2);
}

// SGD with momentum (prelude.cl's sgd_step) on every parameter.
kernel void sgd(global float *p, int p_off, global const float *g, int g_off, global float *buf,
                global const float *scale, int n, float lr, float momentum, float wd) {
    int i = get_global_id(0);
    if (i >= n) return;
    sgd_step(&p[p_off + i], g[g_off + i], scale[0], &buf[i], lr, momentum, wd);
}
