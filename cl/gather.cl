// Batches gathered on the device from data that stays there: a step uploads nothing.

// Row r of x (n rows): rows[left[first + r]] for r < split, else rows[right[first + r - split]].
// A batch of pairs has split = pairs and n = 2 pairs (left sides, then right sides); a list of
// rows has left = right and split = n.
kernel void gather(global const float *rows, int width, global const int *left,
                   global const int *right, int first, int split, int n, global float *x,
                   int x_off) {
    int k = get_global_id(0);
    if (k >= n * width) return;
    int r = k / width, c = k % width;
    int src = r < split ? left[first + r] : right[first + r - split];
    x[x_off + k] = rows[(size_t)src * width + c];
}

// The index of each row gather would read, as a float (a key for rows without keys).
kernel void gather_index(global const int *left, global const int *right, int first, int split,
                         int n, global float *x, int x_off) {
    int r = get_global_id(0);
    if (r >= n) return;
    x[x_off + r] = (float)(r < split ? left[first + r] : right[first + r - split]);
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
