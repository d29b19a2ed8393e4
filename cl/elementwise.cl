// Elementwise kernels. Activation codes match sc_act in include/siamcl/elementwise.h.
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_TANH 2
#define ACT_SIGMOID 3

// The kernels below take 8 columns of a row per work-item as one float8: PoCL runs a vector
// type as SIMD, but left the one-element-per-work-item versions scalar (an i % cols per element,
// a loop over rows in the bias gradient): 3-4x slower. activate and act_grad exist for float
// (a row's last columns, fewer than 8) and float8.
#define ACTIVATIONS(T)                                                                          \
    inline T activate_##T(T x, int act) {                                                       \
        switch (act) {                                                                          \
        case ACT_RELU:                                                                          \
            return fmax(x, (T)0.0f);                                                            \
        case ACT_TANH:                                                                          \
            return tanh(x);                                                                     \
        case ACT_SIGMOID:                                                                       \
            return 1.0f / (1.0f + exp(-x));                                                     \
        default:                                                                                \
            return x;                                                                           \
        }                                                                                       \
    }                                                                                           \
    /* the activation's derivative from its output y = act(z) */                               \
    inline T act_grad_##T(T y, int act) {                                                       \
        switch (act) {                                                                          \
        case ACT_RELU:                                                                          \
            return select((T)0.0f, (T)1.0f, y > 0.0f);                                         \
        case ACT_TANH:                                                                          \
            return 1.0f - y * y;                                                                \
        case ACT_SIGMOID:                                                                       \
            return y * (1.0f - y);                                                              \
        default:                                                                                \
            return (T)1.0f;                                                                     \
        }                                                                                       \
    }
ACTIVATIONS(float)
ACTIVATIONS(float8)

// y[r][c] = act(y[r][c] + b[c]) over a rows x cols row-major matrix: work-item (s, r) takes
// columns 8s .. 8s + 7 of row r.
kernel void bias_act_forward(global float *y, int y_off, global const float *b, int b_off,
                             int rows, int cols, int act) {
    int c = get_global_id(0) * 8, r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    y += y_off + r * cols;
    b += b_off;
    if (c + 8 <= cols) {
        vstore8(activate_float8(vload8(0, y + c) + vload8(0, b + c), act), 0, y + c);
        return;
    }
    for (; c < cols; c++) y[c] = activate_float(y[c] + b[c], act);
}

// y[r][c] = act(y[r][c] + b[r]): bias_act_forward over a feature-major output (a row per
// feature, a column per batch row).
kernel void bias_act_forward_fm(global float *y, int y_off, global const float *b, int b_off,
                                int rows, int cols, int act) {
    int c = get_global_id(0) * 8, r = get_global_id(1);
    if (c >= cols || r >= rows) return;
    y += y_off + r * cols;
    float bias = b[b_off + r];
    if (c + 8 <= cols) {
        vstore8(activate_float8(vload8(0, y + c) + bias, act), 0, y + c);
        return;
    }
    for (; c < cols; c++) y[c] = activate_float(y[c] + bias, act);
}

// dz = dy * act'(z) in place, and db[c] = sum over rows of dz[r][c]. Work-item s takes columns
// 8s .. 8s + 7 down all rows, so the bias gradient is summed in a fixed order.
kernel void act_bias_backward(global float *dy, int dy_off, global const float *y, int y_off,
                              global float *db, int db_off, int rows, int cols, int act) {
    int c = get_global_id(0) * 8;
    if (c >= cols) return;
    dy += dy_off + c;
    y += y_off + c;
    db += db_off + c;
    if (c + 8 <= cols) {
        float8 sum = 0.0f;
        for (int r = 0; r < rows; r++) {
            float8 dz = vload8(0, dy + r * cols) * act_grad_float8(vload8(0, y + r * cols), act);
            vstore8(dz, 0, dy + r * cols);
            sum += dz;
        }
        vstore8(sum, 0, db);
        return;
    }
    for (int j = 0; j < cols - c; j++) {
        float sum = 0.0f;
        for (int r = 0; r < rows; r++) {
            float dz = dy[r * cols + j] * act_grad_float(y[r * cols + j], act);
            dy[r * cols + j] = dz;
            sum += dz;
        }
        db[j] = sum;
    }
}

// Inverted dropout, its mask drawn anew for every element of every training step without a
// buffer: element k is kept when a hash of (its place, the step's seed, the layer's salt)
// reaches rate * 2^32, and a kept value is scaled by 1 / (1 - rate). The backward pass draws
// the same mask. The hash is murmur3's finalizer over the words mixed in turn. The place is k
// + shift0 below split, else k + shift1: a data-parallel rank's share of a batch draws the
// whole batch's masks.
uint dropout_mix(uint h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    return h ^ (h >> 16);
}

float dropout_scale(int k, uint seed_lo, uint seed_hi, uint salt, uint threshold, float keep,
                    int split, int shift0, int shift1) {
    uint place = (uint)(k + (k < split ? shift0 : shift1));
    uint h = dropout_mix(place ^ dropout_mix(seed_lo ^ dropout_mix(seed_hi ^ dropout_mix(salt))));
    return h >= threshold ? keep : 0.0f;
}

// y = x * mask / (1 - rate); keep = 1 / (1 - rate).
kernel void dropout_forward(global const float *x, int x_off, global float *y, int y_off, int n,
                            uint seed_lo, uint seed_hi, uint salt, uint threshold, float keep,
                            int split, int shift0, int shift1) {
    int k = get_global_id(0);
    if (k >= n) return;
    y[y_off + k] = x[x_off + k] *
                   dropout_scale(k, seed_lo, seed_hi, salt, threshold, keep, split, shift0, shift1);
}

// dx = dy * mask / (1 - rate), in place.
kernel void dropout_backward(global float *d, int d_off, int n, uint seed_lo, uint seed_hi,
                             uint salt, uint threshold, float keep, int split, int shift0,
                             int shift1) {
    int k = get_global_id(0);
    if (k >= n) return;
    d[d_off + k] *= dropout_scale(k, seed_lo, seed_hi, salt, threshold, keep, split, shift0, shift1);
}
