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
