// Elementwise kernels. Activation codes match sc_act in include/siamcl/elementwise.h.
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_TANH 2
#define ACT_SIGMOID 3

inline float activate(float x, int act) {
    switch (act) {
    case ACT_RELU:
        return fmax(x, 0.0f);
    case ACT_TANH:
        return tanh(x);
    case ACT_SIGMOID:
        return 1.0f / (1.0f + exp(-x));
    default:
        return x;
    }
}

// y[r][c] = act(y[r][c] + b[c]) over a row-major matrix with `cols` columns.
kernel void bias_act_forward(global float *y, int y_off, global const float *b, int b_off,
                             int cols, int n, int act) {
    int i = get_global_id(0);
    if (i >= n) return;
    y += y_off;
    y[i] = activate(y[i] + b[b_off + i % cols], act);
}

// The activation's derivative from its output y = act(z).
inline float act_grad(float y, int act) {
    switch (act) {
    case ACT_RELU:
        return y > 0.0f ? 1.0f : 0.0f;
    case ACT_TANH:
        return 1.0f - y * y;
    case ACT_SIGMOID:
        return y * (1.0f - y);
    default:
        return 1.0f;
    }
}

// dz = dy * act'(z) in place, and db[c] = sum over rows of dz[r][c]. One work-item per column,
// so the bias gradient is summed in a fixed order.
kernel void act_bias_backward(global float *dy, int dy_off, global const float *y, int y_off,
                              global float *db, int db_off, int rows, int cols, int act) {
    int c = get_global_id(0);
    if (c >= cols) return;
    dy += dy_off;
    y += y_off;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++) {
        int i = r * cols + c;
        float dz = dy[i] * act_grad(y[i], act);
        dy[i] = dz;
        sum += dz;
    }
    db[db_off + c] = sum;
}
