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

// In-batch softmax (DSSM; MultipleNegativesRankingLoss): logits is B x B, logits[i][j] the
// scaled cosine of left i and right j. Row i is a cross-entropy with the diagonal, weighted by
// its target y_i (1 for a positive pair, 0 for a pair that only serves as a negative):
// term_i = y_i (logsumexp_j logits[i][j] - logits[i][i]); the batch loss is sum term / sum y.
kernel void softmax_rows(global const float *logits, global const float *y, int y_off,
                         global float *terms, global float *dlogits, int pairs) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *row = logits + i * pairs;
    global float *drow = dlogits + i * pairs;
    float w = 0.0f;
    for (int j = 0; j < pairs; j++) w += y[y_off + j];
    float yi = y[y_off + i];
    float mx = row[0];
    for (int j = 1; j < pairs; j++) mx = fmax(mx, row[j]);
    float sum = 0.0f;
    for (int j = 0; j < pairs; j++) sum += exp(row[j] - mx);
    float lse = mx + log(sum);
    terms[i] = yi * (lse - row[i]);
    float g = w > 0.0f ? yi / w : 0.0f;
    for (int j = 0; j < pairs; j++) drow[j] = g * (exp(row[j] - lse) - (j == i ? 1.0f : 0.0f));
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
