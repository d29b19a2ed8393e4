// Batches gathered on the device from data that stays there: a step uploads nothing.

// Row r of x: rows[left[first + r]] for r < pairs, then rows[right[first + r - pairs]].
kernel void gather_pairs(global const float *rows, int width, global const int *left,
                         global const int *right, int first, int pairs, global float *x,
                         int x_off) {
    int k = get_global_id(0);
    if (k >= 2 * pairs * width) return;
    int r = k / width, c = k % width;
    int src = r < pairs ? left[first + r] : right[first + r - pairs];
    x[x_off + k] = rows[(size_t)src * width + c];
}

// Row r of x: rows[first + r], for n rows.
kernel void gather_rows(global const float *rows, int width, int first, int n, global float *x,
                        int x_off) {
    int k = get_global_id(0);
    if (k >= n * width) return;
    x[x_off + k] = rows[(size_t)first * width + k];
}

// out[r] = the column of the largest value of row r (the first on ties).
kernel void row_argmax(global const float *s, int rows, int cols, global int *out) {
    int r = get_global_id(0);
    if (r >= rows) return;
    global const float *row = s + (size_t)r * cols;
    int best = 0;
    for (int c = 1; c < cols; c++)
        if (row[c] > row[best]) best = c;
    out[r] = best;
}
