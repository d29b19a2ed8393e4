// The best k columns of each row of a score matrix, on the device, so that a search never
// copies its rows x catalog scores to the host. topk_lanes: each of TOPK_LANES work-items of a
// row keeps the best k of the columns it strides over (an insertion sort into its own slice of
// scratch); topk_merge: one work-item a row merges the row's slices. The order is total
// (higher score first, then lower column; NaN last), so the result does not depend on how the
// columns were dealt out. A column's score is s[row][col] - bias[col] when a bias is given (a
// search by euclidean distance ranks 2 q.c - |c|^2).

#define TOPK_LANES 64

int topk_better(float a, int ia, float b, int ib) {
    return a > b || (a == b && ia < ib) || (isnan(b) && !isnan(a));
}

// Inserts (v, i) into the sorted list (vals, idx) of *n entries, at most k kept.
void topk_insert(global float *vals, global int *idx, int *n, int k, float v, int i) {
    int at = *n;
    if (at == k) {
        if (!topk_better(v, i, vals[k - 1], idx[k - 1])) return;
        at = k - 1;
    } else {
        (*n)++;
    }
    while (at > 0 && topk_better(v, i, vals[at - 1], idx[at - 1])) {
        vals[at] = vals[at - 1];
        idx[at] = idx[at - 1];
        at--;
    }
    vals[at] = v;
    idx[at] = i;
}

// scratch: rows x TOPK_LANES slices of k floats and k ints; an unused entry's column is -1.
kernel void topk_lanes(global const float *s, int s_off, int rows, int cols,
                       global const float *bias, int bias_off, int has_bias, int k,
                       global float *scratch_v, global int *scratch_i) {
    int gid = get_global_id(0), row = gid / TOPK_LANES, lane = gid % TOPK_LANES;
    if (row >= rows) return;
    global float *vals = scratch_v + (size_t)gid * k;
    global int *idx = scratch_i + (size_t)gid * k;
    global const float *x = s + s_off + (size_t)row * cols;
    int n = 0;
    for (int c = lane; c < cols; c += TOPK_LANES)
        topk_insert(vals, idx, &n, k, has_bias ? x[c] - bias[bias_off + c] : x[c], c);
    for (int j = n; j < k; j++) idx[j] = -1;
}

// out: rows x k values and columns; a row of fewer than k columns ends with -INFINITY, -1.
kernel void topk_merge(int rows, int k, global const float *scratch_v,
                       global const int *scratch_i, global float *out_v, global int *out_i) {
    int row = get_global_id(0);
    if (row >= rows) return;
    int head[TOPK_LANES];
    for (int g = 0; g < TOPK_LANES; g++) head[g] = 0;
    global const float *v = scratch_v + (size_t)row * TOPK_LANES * k;
    global const int *ix = scratch_i + (size_t)row * TOPK_LANES * k;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int g = 0; g < TOPK_LANES; g++) {
            int e = g * k + head[g];
            if (head[g] >= k || ix[e] < 0) continue;
            if (best < 0 || topk_better(v[e], ix[e], v[best], ix[best])) best = e;
        }
        out_v[(size_t)row * k + j] = best < 0 ? -INFINITY : v[best];
        out_i[(size_t)row * k + j] = best < 0 ? -1 : ix[best];
        if (best >= 0) head[best / k]++;
    }
}
