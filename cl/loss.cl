// Losses over a batch of B pairs. Each writes its per-pair terms and the gradient of the batch
// loss (a mean) with respect to its input; loss_reduce then adds the batch to a running sum on
// the device, so a training step need not read anything back.

// prelude.cl's mse_term: term = (score - y)^2; dscore = 2 (score - y) / B.
kernel void mse(global const float *score, int s_off, global const float *y, int y_off,
                global float *terms, global float *dscore, int ds_off, int pairs) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    float ds;
    terms[i] = mse_term(score[s_off + i], y[y_off + i], &ds);
    dscore[ds_off + i] = ds / pairs;
}

// prelude.cl's contrastive_term, where d is the head's distance: 1 - x for a cosine head
// (is_cosine), x itself for a euclidean distance. dx = dterm/dx / B.
kernel void contrastive(global const float *x, int x_off, global const float *y, int y_off,
                        global float *terms, global float *dx, int dx_off, int pairs, float margin,
                        int is_cosine) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    float xi = x[x_off + i], t = y[y_off + i];
    float d = is_cosine ? 1.0f - xi : xi;
    float dd;
    terms[i] = contrastive_term(d, t, margin, &dd);
    dx[dx_off + i] = (is_cosine ? -dd : dd) / pairs;
}

// Whether pair j's right side must not serve as a negative of pair i's left (i != j): the two
// pairs share their anchor, or their partner, or j's partner is of i's anchor's class. keys
// holds a key per row of the batch, the B left rows then the B right rows; equal keys mean
// the same text, or the same class.
bool same_item(global const float *keys, int i, int j, int pairs) {
    float li = keys[i], ri = keys[pairs + i], lj = keys[j], rj = keys[pairs + j];
    return j != i && (li == lj || li == rj || ri == rj);
}

// In-batch softmax (DSSM; MultipleNegativesRankingLoss): logits is B x B, logits[i][j] the
// scaled cosine of left i and right j. Row i is a cross-entropy with the diagonal over the
// columns that are true negatives (same_item masks the others, as sentence-transformers'
// no-duplicates sampler keeps them out of a batch), weighted by its target y_i (1 for a
// positive pair, 0 for a pair that only serves as a negative):
// term_i = y_i (logsumexp_j logits[i][j] - logits[i][i]); the batch loss is sum term / sum y.
kernel void softmax_rows(global const float *logits, global const float *y, int y_off,
                         global const float *keys, global float *terms, global float *dlogits,
                         int pairs) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *row = logits + i * pairs;
    global float *drow = dlogits + i * pairs;
    float w = 0.0f;
    for (int j = 0; j < pairs; j++) w += y[y_off + j];
    float yi = y[y_off + i];
    float mx = row[i];
    for (int j = 0; j < pairs; j++)
        if (!same_item(keys, i, j, pairs)) mx = fmax(mx, row[j]);
    float sum = 0.0f;
    for (int j = 0; j < pairs; j++)
        if (!same_item(keys, i, j, pairs)) sum += exp(row[j] - mx);
    float lse = mx + log(sum);
    terms[i] = yi * (lse - row[i]);
    float g = w > 0.0f ? yi / w : 0.0f;
    for (int j = 0; j < pairs; j++)
        drow[j] = same_item(keys, i, j, pairs) ? 0.0f
                                               : g * (exp(row[j] - lse) - (j == i ? 1.0f : 0.0f));
}

// Online contrastive (sentence-transformers' OnlineContrastiveLoss): the contrastive term of
// the batch's hard pairs only, the positives (y >= 0.5) farther apart than the nearest
// negative and the negatives nearer than the farthest positive; the others' terms are 0. A
// mean over the batch, as contrastive; d as there.
kernel void online_contrastive(global const float *x, int x_off, global const float *y, int y_off,
                               global float *terms, global float *dx, int dx_off, int pairs,
                               float margin, int is_cosine) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    float far_pos = -INFINITY, near_neg = INFINITY;
    for (int j = 0; j < pairs; j++) {
        float d = is_cosine ? 1.0f - x[x_off + j] : x[x_off + j];
        if (y[y_off + j] >= 0.5f) far_pos = fmax(far_pos, d);
        else near_neg = fmin(near_neg, d);
    }
    float t = y[y_off + i], d = is_cosine ? 1.0f - x[x_off + i] : x[x_off + i];
    int hard = t >= 0.5f ? d > near_neg : d < far_pos;
    float dd = 0.0f, term = hard ? contrastive_term(d, t >= 0.5f ? 1.0f : 0.0f, margin, &dd) : 0.0f;
    terms[i] = term;
    dx[dx_off + i] = hard ? (is_cosine ? -dd : dd) / pairs : 0.0f;
}

// CoSENT (Su 2022; AnglE): the batch loss log(1 + sum over pairs (i, j) with y_i > y_j of
// exp(scale (s_j - s_i))), a ranking of the batch's scores by their targets. Three passes of
// O(B) a work-item: cosent_max the largest exponent of each i's terms, cosent_sums (after a
// shift M, the largest exponent and at least 0, for exp's range) r_i = sum_{y_i > y_j}
// exp(scale (s_j - s_i) - M) and c_i = sum_{y_j > y_i} exp(scale (s_i - s_j) - M), and
// cosent_grad with Z = exp(-M) + sum r the loss M + log Z and ds_k = scale (c_k - r_k) / Z.
// work: B maxima, then B r, then B c. Every term of the batch is the batch loss, so that the
// running mean weighs batches by their pairs.
kernel void cosent_max(global const float *s, int s_off, global const float *y, int y_off,
                       global float *work, int pairs, float scale) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    float m = 0.0f, si = s[s_off + i], yi = y[y_off + i];
    for (int j = 0; j < pairs; j++)
        if (yi > y[y_off + j]) m = fmax(m, scale * (s[s_off + j] - si));
    work[i] = m;
}

float cosent_shift(global const float *work, int pairs) {
    float m = 0.0f;
    for (int j = 0; j < pairs; j++) m = fmax(m, work[j]);
    return m;
}

kernel void cosent_sums(global const float *s, int s_off, global const float *y, int y_off,
                        global float *work, int pairs, float scale) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    float m = cosent_shift(work, pairs), si = s[s_off + i], yi = y[y_off + i];
    float r = 0.0f, c = 0.0f;
    for (int j = 0; j < pairs; j++) {
        float yj = y[y_off + j], sj = s[s_off + j];
        if (yi > yj) r += exp(scale * (sj - si) - m);
        if (yj > yi) c += exp(scale * (si - sj) - m);
    }
    work[pairs + i] = r;
    work[2 * pairs + i] = c;
}

kernel void cosent_grad(global const float *work, global float *terms, global float *ds,
                        int ds_off, int pairs, float scale) {
    int k = get_global_id(0);
    if (k >= pairs) return;
    float m = cosent_shift(work, pairs), z = exp(-m);
    for (int j = 0; j < pairs; j++) z += work[pairs + j];
    terms[k] = m + log(z);
    ds[ds_off + k] = scale * (work[2 * pairs + k] - work[pairs + k]) / z;
}

// The triplet loss (Schroff et al. 2015; Hermans et al. 2017) over the R = 2B rows of a batch
// (embeddings x, R x E) with a class key each: pair_distances fills D (R x R) with the head's
// distance, 1 - cosine or euclidean; triplet_anchors takes each row a as an anchor and adds
// max(0, D[a][p] - D[a][n] + margin) over its triplets, by mining:
//   0 none: a left row whose pair is positive, its partner p and the first right row after it
//           (cyclically) of another class as n;
//   1 batch_hard: the farthest p of a's class and the nearest n of another;
//   2 batch_all: every p of a's class and every n of another.
// It writes a's sum of terms, its count (a triplet for none and batch_hard; the triplets of
// positive loss for batch_all, whose mean is over those) and row a of dD, the derivative of
// its sum with respect to D. triplet_total divides by the batch's count; triplet_backward
// takes dD, symmetrized, to the embeddings. work: D, dD, then R norms, R sums, R counts, and
// 1 / count.
kernel void pair_distances(global const float *x, int x_off, global float *work, int rows,
                           int dim, int is_cosine) {
    int k = get_global_id(0);
    if (k >= rows * rows) return;
    int a = k / rows, b = k % rows;
    global const float *xa = x + x_off + a * dim, *xb = x + x_off + b * dim;
    float dot = 0.0f, na = 0.0f, nb = 0.0f, sq = 0.0f;
    for (int e = 0; e < dim; e++) {
        dot += xa[e] * xb[e];
        na += xa[e] * xa[e];
        nb += xb[e] * xb[e];
        sq += (xa[e] - xb[e]) * (xa[e] - xb[e]);
    }
    na = sqrt(na);
    nb = sqrt(nb);
    work[k] = a == b ? 0.0f : is_cosine ? 1.0f - dot / fmax(na * nb, 1e-12f) : sqrt(sq);
    if (a == b) work[2 * rows * rows + a] = na;
}

// The row of a's triplet terms: adds t = D[a][p] - D[a][n] + margin when positive.
float triplet_term(global const float *D, global float *dD, int p, int n, float margin,
                   float *count) {
    float t = D[p] - D[n] + margin;
    if (t <= 0.0f) return 0.0f;
    dD[p] += 1.0f;
    dD[n] -= 1.0f;
    *count += 1.0f;
    return t;
}

kernel void triplet_anchors(global const float *keys, global float *work, int pairs, int mining,
                            float margin) {
    int a = get_global_id(0), rows = 2 * pairs;
    if (a >= rows) return;
    global const float *D = work + a * rows;
    global float *dD = work + rows * rows + a * rows, *tail = work + 2 * rows * rows;
    for (int b = 0; b < rows; b++) dD[b] = 0.0f;
    float ka = keys[a], sum = 0.0f, count = 0.0f, hits = 0.0f;
    if (mining == 0 && a < pairs && keys[pairs + a] == ka) {
        for (int s = 1; s <= pairs; s++) {
            int n = pairs + (a + s) % pairs;
            if (keys[n] == ka) continue;
            sum = triplet_term(D, dD, pairs + a, n, margin, &hits);
            count = 1.0f;
            break;
        }
    } else if (mining == 1) {
        int p = -1, n = -1;
        for (int b = 0; b < rows; b++) {
            if (b == a) continue;
            if (keys[b] == ka && (p < 0 || D[b] > D[p])) p = b;
            if (keys[b] != ka && (n < 0 || D[b] < D[n])) n = b;
        }
        if (p >= 0 && n >= 0) {
            sum = triplet_term(D, dD, p, n, margin, &hits);
            count = 1.0f;
        }
    } else if (mining == 2) {
        for (int p = 0; p < rows; p++) {
            if (p == a || keys[p] != ka) continue;
            for (int n = 0; n < rows; n++)
                if (keys[n] != ka) sum += triplet_term(D, dD, p, n, margin, &count);
        }
    }
    tail[rows + a] = sum;
    tail[2 * rows + a] = count;
}

// One work-item: the batch loss (0 when it has no triplet) into every term, 1 / count beside.
kernel void triplet_total(global float *work, global float *terms, int pairs) {
    if (get_global_id(0) != 0) return;
    int rows = 2 * pairs;
    global float *tail = work + 2 * rows * rows;
    float sum = 0.0f, count = 0.0f;
    for (int a = 0; a < rows; a++) {
        sum += tail[rows + a];
        count += tail[2 * rows + a];
    }
    float inv = count > 0.0f ? 1.0f / count : 0.0f;
    for (int i = 0; i < pairs; i++) terms[i] = sum * inv;
    tail[3 * rows] = inv;
}

// dx[a] = sum_b (dD[a][b] + dD[b][a]) dD_ab/dx_a / count, with dD_ab/dx_a =
// -(x_b / (|a| |b|) - cos_ab x_a / |a|^2) for 1 - cosine and (x_a - x_b) / D_ab for euclidean.
kernel void triplet_backward(global const float *x, int x_off, global const float *work,
                             global float *dx, int dx_off, int pairs, int dim, int is_cosine) {
    int k = get_global_id(0), rows = 2 * pairs;
    if (k >= rows * dim) return;
    int a = k / dim, e = k % dim;
    global const float *D = work, *dD = work + rows * rows, *norm = work + 2 * rows * rows;
    float inv = norm[3 * rows], xa = x[x_off + a * dim + e], g = 0.0f;
    for (int b = 0; b < rows; b++) {
        float w = dD[a * rows + b] + dD[b * rows + a];
        if (b == a || w == 0.0f) continue;
        float xb = x[x_off + b * dim + e], d = D[a * rows + b];
        if (is_cosine) {
            float nn = fmax(norm[a] * norm[b], 1e-12f);
            g -= w * (xb / nn - (1.0f - d) * xa / fmax(norm[a] * norm[a], 1e-12f));
        } else if (d > 0.0f) {
            g += w * (xa - xb) / d;
        }
    }
    dx[dx_off + k] = g * inv;
}

// acc[0] += sum of terms (Kahan-compensated in acc[1]); acc[2] = this batch's loss;
// acc[3] += the batch's weight (B, or sum y when weighted); acc[5] counts the batches, and
// acc[4] keeps the number of the first whose sum is not finite (0: none), so that a diverged
// run is seen in the loss the loop reads anyway. One work-item: a fixed order.
kernel void loss_reduce(global const float *terms, global const float *y, int y_off, int pairs,
                        int weighted, global float *acc) {
    if (get_global_id(0) != 0) return;
    float sum = 0.0f, w = 0.0f;
    for (int i = 0; i < pairs; i++) {
        sum += terms[i];
        w += weighted ? y[y_off + i] : 1.0f;
    }
    float yk = sum - acc[1];
    float t = acc[0] + yk;
    acc[1] = (t - acc[0]) - yk;
    acc[0] = t;
    acc[2] = w > 0.0f ? sum / w : 0.0f;
    acc[3] += w;
    acc[5] += 1.0f;
    if (!isfinite(sum) && acc[4] == 0.0f) acc[4] = acc[5];
}
