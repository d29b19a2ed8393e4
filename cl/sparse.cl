// The sparse input layer (host/siamcl/sparse.h): an embedding bag over CSR rows, the compact
// gradient of its table, and lazy optimizer steps over the table rows a batch touches. W is
// (buckets x out), a row per feature. Work-items run over (c, row) of the result, dimension 0
// being the column c, so that neighbours read and write a row of W contiguously. The bag and
// its gradient loop over a row's entries; there a work-item takes 64 columns (the bag) or 8
// (the gradient) as float8s, which PoCL runs as SIMD where it left one column per work-item
// scalar (a row's last columns, fewer than 8, go one by one).

// z[r][c] without the bias, for rows from .. from + rows - 1 of a batch (prelude's source_row):
// row-major (rows x out), or feature-major (out x rows) when fm. In mean mode the sum is divided
// by the text's sum of values (an empty text keeps 0). Work-item (s, r) takes columns 64s ..
// 64s + 63 as eight float8, so that it reads each of a text's table rows in a 256-byte run,
// which the CPU's prefetchers follow: taking 8 columns, it read one cache line of each of the
// text's rows in turn, and the bag ran at two thirds of the speed (docs/PERFORMANCE.md).
kernel void sparse_forward(global const float *w, int w_off, global const uint *offsets,
                           global const uint *indices, global const float *values,
                           global const int *left, global const int *right, int first, int split,
                           int from, int rows, int out, int mean, int fm, global float *z,
                           int z_off) {
    int c = get_global_id(0) * 64, r = get_global_id(1);
    if (c >= out || r >= rows) return;
    int t = source_row(left, right, first, split, from + r);
    uint k0 = offsets[t], k1 = offsets[t + 1];
    w += w_off + c;
    float vsum = 0.0f;
    for (uint k = k0; k < k1; k++) vsum += values[k];
    int n = min(out - c, 64);
    float sum[64];
    if (n == 64) {
        float8 s[8];
        for (int i = 0; i < 8; i++) s[i] = 0.0f;
        for (uint k = k0; k < k1; k++) {
            global const float *row = w + (size_t)indices[k] * out;
            for (int i = 0; i < 8; i++) s[i] += values[k] * vload8(i, row);
        }
        for (int i = 0; i < 8; i++) vstore8(s[i], i, sum);
    } else { /* a row's last columns: 8 at a time, then one by one */
        int j = 0;
        for (; j + 8 <= n; j += 8) {
            float8 s = 0.0f;
            for (uint k = k0; k < k1; k++)
                s += values[k] * vload8(0, w + (size_t)indices[k] * out + j);
            vstore8(s, 0, sum + j);
        }
        for (; j < n; j++) {
            float s = 0.0f;
            for (uint k = k0; k < k1; k++) s += values[k] * w[(size_t)indices[k] * out + j];
            sum[j] = s;
        }
    }
    int divide = mean && vsum != 0.0f;
    size_t at = fm ? (size_t)c * rows + r : (size_t)r * out + c, step = fm ? rows : 1;
    for (int j = 0; j < n; j++) z[z_off + at + j * step] = divide ? sum[j] / vsum : sum[j];
}

// g[u][c] = sum of weights[e] dz[rows[e]][c] over the entries e of the step's feature u (the
// plan's feature fs + u), in the plan's order: the same sum on every run. Work-item (s, u)
// takes columns 8s .. 8s + 7.
kernel void sparse_grad(global const int *seg, global const int *rows, global const float *weights,
                        int fs, int nfeat, global const float *dz, int dz_off, int out,
                        global float *g, int g_off) {
    int c = get_global_id(0) * 8, u = get_global_id(1);
    if (c >= out || u >= nfeat) return;
    int e0 = seg[fs + u], e1 = seg[fs + u + 1];
    dz += dz_off + c;
    g += g_off + u * out + c;
    if (c + 8 <= out) {
        float8 s = 0.0f;
        for (int e = e0; e < e1; e++) s += weights[e] * vload8(0, dz + rows[e] * out);
        vstore8(s, 0, g);
        return;
    }
    for (int j = 0; j < out - c; j++) {
        float s = 0.0f;
        for (int e = e0; e < e1; e++) s += weights[e] * dz[rows[e] * out + j];
        g[j] = s;
    }
}

// Lazy AdamW on the rows of W named by features[fs .. fs + nfeat), from the compact gradient g:
// prelude.cl's adam_step (optim.cl's adam) on those rows and their moments only.
kernel void sparse_adam(global float *w, int w_off, global const float *g, int g_off,
                        global const uint *features, int fs, int nfeat, int out, global float *m,
                        global float *v, float lr, float beta1, float beta2, float eps, float wd,
                        float c1, float c2) {
    int c = get_global_id(0), u = get_global_id(1);
    if (c >= out || u >= nfeat) return;
    size_t j = (size_t)features[fs + u] * out + c;
    w += w_off;
    adam_step(&w[j], g[g_off + u * out + c], 1.0f, &m[j], &v[j], lr, beta1, beta2, eps, wd, c1,
              c2);
}

// Lazy SGD with momentum on the same rows: prelude.cl's sgd_step (L2 weight decay on the
// gradient).
kernel void sparse_sgd(global float *w, int w_off, global const float *g, int g_off,
                       global const uint *features, int fs, int nfeat, int out, global float *buf,
                       float lr, float momentum, float wd) {
    int c = get_global_id(0), u = get_global_id(1);
    if (c >= out || u >= nfeat) return;
    size_t j = (size_t)features[fs + u] * out + c;
    w += w_off;
    sgd_step(&w[j], g[g_off + u * out + c], 1.0f, &buf[j], lr, momentum, wd);
}
