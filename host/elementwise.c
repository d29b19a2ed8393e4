#include "siamcl/elementwise.h"

const char *const sc_act_names[] = {"identity", "relu", "tanh", "sigmoid", NULL};

/* The kernels take 8 columns of a row per work-item (cl/elementwise.cl). */
static size_t column_groups(size_t cols) {
    return (cols + 7) / 8;
}

/* bias + activation kernel `name` over rows x cols, in work-groups of rt->group as
 * sc_launch1's */
static int bias_act(sc_runtime *rt, const char *name, sc_view y, sc_view b, size_t rows,
                    size_t cols, sc_act act) {
    size_t across = rt->group < 8 ? rt->group : 8;
    size_t global[] = {column_groups(cols), rows}, local[] = {across, rt->group / across};
    return sc_launch_args(rt, "elementwise", name, 2, global, local,
                          SC_ARGS(SC_VIEW(y), SC_VIEW(b), SC_INT(rows), SC_INT(cols), SC_INT(act)));
}

int sc_bias_act_forward(sc_runtime *rt, sc_view y, sc_view b, size_t rows, size_t cols,
                        sc_act act) {
    return bias_act(rt, "bias_act_forward", y, b, rows, cols, act);
}

int sc_bias_act_forward_fm(sc_runtime *rt, sc_view y, sc_view b, size_t rows, size_t cols,
                           sc_act act) {
    return bias_act(rt, "bias_act_forward_fm", y, b, rows, cols, act);
}

int sc_act_bias_backward(sc_runtime *rt, sc_view dy, sc_view y, sc_view db, size_t rows,
                         size_t cols, sc_act act) {
    return sc_launch1(rt, "elementwise", "act_bias_backward", column_groups(cols), SC_VIEW(dy),
                      SC_VIEW(y), SC_VIEW(db), SC_INT(rows), SC_INT(cols), SC_INT(act));
}

/* The rate as the hash value an element must reach to be kept. */
static cl_uint threshold(float rate) {
    double t = (double)rate * 4294967296.0;
    return t >= 4294967295.0 ? 4294967295u : (cl_uint)t;
}

static uint32_t mix(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    return h ^ (h >> 16);
}

int sc_dropout_kept(const sc_dropout *d, size_t k) {
    uint32_t lo = (uint32_t)d->seed, hi = (uint32_t)(d->seed >> 32);
    size_t place = k + d->shift[k >= d->split];
    return mix((uint32_t)place ^ mix(lo ^ mix(hi ^ mix(d->salt)))) >= threshold(d->rate);
}

#define DROPOUT_ARGS(d)                                                                            \
    SC_UINT((cl_uint)(d)->seed), SC_UINT((cl_uint)((d)->seed >> 32)), SC_UINT((d)->salt),          \
        SC_UINT(threshold((d)->rate)), SC_FLT(1.0f / (1.0f - (d)->rate)), SC_INT((d)->split),      \
        SC_INT((d)->shift[0]), SC_INT((d)->shift[1])

int sc_dropout_forward(sc_runtime *rt, const sc_dropout *d, sc_view x, sc_view y, size_t n) {
    return sc_launch1(rt, "elementwise", "dropout_forward", n, SC_VIEW(x), SC_VIEW(y), SC_INT(n),
                      DROPOUT_ARGS(d));
}

int sc_dropout_backward(sc_runtime *rt, const sc_dropout *d, sc_view dy, size_t n) {
    return sc_launch1(rt, "elementwise", "dropout_backward", n, SC_VIEW(dy), SC_INT(n),
                      DROPOUT_ARGS(d));
}
