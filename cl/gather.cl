// Batches gathered on the device from data that stays there: a step uploads nothing.

// Row r of x (n rows): rows[left[first + r]] for r < split, else rows[right[first + r - split]].
// A batch of pairs has split = pairs and n = 2 pairs (left sides, then right sides); a list of
// rows has left = right and split = n. A work-item copies 8 columns of a row (fewer at its
// end) as one vector: one element each, with a division and a remainder per element, it took
// a sixth of the default model's step on PoCL.
kernel void gather(global const float *rows, int width, global const int *left,
                   global const int *right, int first, int split, int n, global float *x,
                   int x_off) {
    int chunks = (width + 7) / 8, k = get_global_id(0);
    if (k >= n * chunks) return;
    int r = k / chunks, c = k % chunks * 8;
    global const float *from = rows + (size_t)source_row(left, right, first, split, r) * width + c;
    global float *to = x + x_off + (size_t)r * width + c;
    if (c + 8 <= width) {
        vstore8(vload8(0, from), 0, to);
        return;
    }
    for (int i = 0; c + i < width; i++) to[i] = from[i];
}

// Rows from .. from + nb - 1 of what gather gathers, feature-major: column r of x (width x nb)
// is that block's row r. Work-item k transposes an 8 x 8 tile (rows 8 (k % tiles) on, columns
// 8 (k / tiles) on) through registers: eight vector reads and eight vector writes. One element
// per work-item, strided writes made this a tenth of the inference pass on PoCL.
kernel void gather_fm(global const float *rows, int width, global const int *left,
                      global const int *right, int first, int split, int from, int nb,
                      global float *x, int x_off) {
    int tiles = (nb + 7) / 8, k = get_global_id(0);
    if (k >= tiles * ((width + 7) / 8)) return;
    int r = k % tiles * 8, c = k / tiles * 8, nr = min(8, nb - r), nc = min(8, width - c);
    global const float *src[8];
    for (int i = 0; i < 8; i++) {
        int g = from + r + min(i, nr - 1);
        src[i] = rows + (size_t)source_row(left, right, first, split, g) * width + c;
    }
    global float *to = x + x_off + (size_t)c * nb + r;
    if (nr == 8 && nc == 8) {
        float t[8][8];
        for (int i = 0; i < 8; i++) vstore8(vload8(0, src[i]), 0, t[i]);
        for (int j = 0; j < 8; j++)
            vstore8((float8)(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j], t[6][j], t[7][j]),
                    0, to + (size_t)j * nb);
        return;
    }
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nr; i++) to[(size_t)j * nb + i] = src[i][j];
}

// The index of each row gather would read, as a float (a key for rows without keys).
kernel void gather_index(global const int *left, global const int *right, int first, int split,
                         int n, global float *x, int x_off) {
    int r = get_global_id(0);
    if (r >= n) return;
    x[x_off + r] = (float)source_row(left, right, first, split, r);
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
