// Embedding normalization and the pair heads. Embeddings of a batch of B pairs are one
// 2B x D row-major matrix: row i is the left side of pair i, row B + i its right side.

#define NORM_EPS 1e-12f
#define COSINE_EPS 1e-8f
#define DIST_EPS 1e-12f

// e[r] = y[r] / max(|y[r]|, NORM_EPS); norm[r] = |y[r]|.
kernel void normalize_forward(global const float *y, int y_off, global float *e, int e_off,
                              global float *norm, int n_off, int rows, int cols) {
    int r = get_global_id(0);
    if (r >= rows) return;
    y += y_off + r * cols;
    e += e_off + r * cols;
    float s = 0.0f;
    for (int c = 0; c < cols; c++) s += y[c] * y[c];
    float n = sqrt(s);
    norm[n_off + r] = n;
    float inv = 1.0f / fmax(n, NORM_EPS);
    for (int c = 0; c < cols; c++) e[c] = y[c] * inv;
}

// dy = (de - e (e . de)) / |y|; below NORM_EPS the map is y / NORM_EPS.
kernel void normalize_backward(global const float *e, int e_off, global const float *norm,
                               int n_off, global const float *de, int de_off, global float *dy,
                               int dy_off, int rows, int cols) {
    int r = get_global_id(0);
    if (r >= rows) return;
    e += e_off + r * cols;
    de += de_off + r * cols;
    dy += dy_off + r * cols;
    float n = norm[n_off + r];
    if (n < NORM_EPS) {
        for (int c = 0; c < cols; c++) dy[c] = de[c] / NORM_EPS;
        return;
    }
    float dot = 0.0f;
    for (int c = 0; c < cols; c++) dot += e[c] * de[c];
    for (int c = 0; c < cols; c++) dy[c] = (de[c] - e[c] * dot) / n;
}

// The sums a cosine needs: u.v, |u|^2 and |v|^2.
float3 cosine_sums(global const float *u, global const float *v, int dim) {
    float uv = 0.0f, uu = 0.0f, vv = 0.0f;
    for (int c = 0; c < dim; c++) {
        uv += u[c] * v[c];
        uu += u[c] * u[c];
        vv += v[c] * v[c];
    }
    return (float3)(uv, uu, vv);
}

float cosine_of(float3 s) {
    return s.x / fmax(sqrt(s.y) * sqrt(s.z), COSINE_EPS);
}

// du = g (v / (|u||v|) - cos u / |u|^2), and symmetrically for dv.
void cosine_grad(global const float *u, global const float *v, float3 s, float g,
                 global float *du, global float *dv, int dim) {
    float nn = sqrt(s.y) * sqrt(s.z);
    if (nn < COSINE_EPS) {
        for (int c = 0; c < dim; c++) {
            du[c] = g * v[c] / COSINE_EPS;
            dv[c] = g * u[c] / COSINE_EPS;
        }
        return;
    }
    float cs = s.x / nn, a = g / nn;
    for (int c = 0; c < dim; c++) {
        du[c] = a * v[c] - g * cs * u[c] / s.y;
        dv[c] = a * u[c] - g * cs * v[c] / s.z;
    }
}

// sqrt(|u - v|^2 + DIST_EPS).
float distance_of(global const float *u, global const float *v, int dim) {
    float s = 0.0f;
    for (int c = 0; c < dim; c++) s += (u[c] - v[c]) * (u[c] - v[c]);
    return sqrt(s + DIST_EPS);
}

// From dd, the gradient of the distance d: du = dd (u - v) / d, dv = -du.
void distance_grad(global const float *u, global const float *v, float d, float dd,
                   global float *du, global float *dv, int dim) {
    float a = dd / d;
    for (int c = 0; c < dim; c++) {
        float x = a * (u[c] - v[c]);
        du[c] = x;
        dv[c] = -x;
    }
}

// sim[i] = u.v / max(|u| |v|, COSINE_EPS).
kernel void cosine_forward(global const float *emb, int e_off, global float *sim, int s_off,
                           int pairs, int dim) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *u = emb + e_off + i * dim, *v = u + pairs * dim;
    sim[s_off + i] = cosine_of(cosine_sums(u, v, dim));
}

kernel void cosine_backward(global const float *emb, int e_off, global const float *ds,
                            int ds_off, global float *demb, int de_off, int pairs, int dim) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *u = emb + e_off + i * dim, *v = u + pairs * dim;
    global float *du = demb + de_off + i * dim;
    cosine_grad(u, v, cosine_sums(u, v, dim), ds[ds_off + i], du, du + pairs * dim, dim);
}

// dist[i] = sqrt(|u - v|^2 + DIST_EPS); sim[i] = exp(-dist[i]).
kernel void euclidean_forward(global const float *emb, int e_off, global float *dist, int d_off,
                              global float *sim, int s_off, int pairs, int dim) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *u = emb + e_off + i * dim, *v = u + pairs * dim;
    float d = distance_of(u, v, dim);
    dist[d_off + i] = d;
    sim[s_off + i] = exp(-d);
}

// The gradient g is with respect to sim (g_is_sim) or to dist.
kernel void euclidean_backward(global const float *emb, int e_off, global const float *dist,
                               int d_off, global const float *g, int g_off, int g_is_sim,
                               global float *demb, int de_off, int pairs, int dim) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *u = emb + e_off + i * dim, *v = u + pairs * dim;
    global float *du = demb + de_off + i * dim;
    float d = dist[d_off + i], dd = g[g_off + i];
    if (g_is_sim) dd *= -exp(-d);
    distance_grad(u, v, d, dd, du, du + pairs * dim, dim);
}

// A training step's head and loss in one pass, for a cosine or euclidean head with raw output
// and the mse or contrastive loss (prelude.cl's, as cl/loss.cl on a precomputed score):
// term[i] and the gradient of the batch's mean loss with respect to the embeddings.
kernel void pair_loss(global const float *emb, int e_off, global const float *y, int y_off,
                      global float *terms, global float *demb, int de_off, int pairs, int dim,
                      int euclidean, int contrastive, float margin) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    global const float *u = emb + e_off + i * dim, *v = u + pairs * dim;
    global float *du = demb + de_off + i * dim, *dv = du + pairs * dim;
    float t = y[y_off + i], n = pairs;
    float3 s = euclidean ? (float3)(0.0f) : cosine_sums(u, v, dim);
    float cs = euclidean ? 0.0f : cosine_of(s);
    float d = euclidean ? distance_of(u, v, dim) : 1.0f - cs; // the head's distance
    float dd; // the gradient of the term with respect to d
    if (contrastive) {
        terms[i] = contrastive_term(d, t, margin, &dd);
    } else {
        float sim = euclidean ? exp(-d) : cs, dsim;
        terms[i] = mse_term(sim, t, &dsim);
        dd = dsim * (euclidean ? -sim : -1.0f);
    }
    if (euclidean)
        distance_grad(u, v, d, dd / n, du, dv, dim);
    else
        cosine_grad(u, v, s, -dd / n, du, dv, dim);
}

// score = lo + (hi - lo) sigmoid(a sim + b), with a, b = p[ab_off], p[ab_off + 1], or a = 1,
// b = 0 when ab_off < 0.
kernel void range_forward(global const float *sim, int s_off, global const float *p, int ab_off,
                          global float *score, int sc_off, int pairs, float lo, float hi) {
    int i = get_global_id(0);
    if (i >= pairs) return;
    float a = ab_off < 0 ? 1.0f : p[ab_off], b = ab_off < 0 ? 0.0f : p[ab_off + 1];
    score[sc_off + i] = lo + (hi - lo) / (1.0f + exp(-(a * sim[s_off + i] + b)));
}

// dsim = dscore (hi - lo) s' a; and, when a and b are learned, their gradients summed over the
// batch in a fixed order (a single work-item: the batch is small).
kernel void range_backward(global const float *sim, int s_off, global const float *p, int ab_off,
                           global const float *dscore, int dsc_off, global float *dsim,
                           int dsim_off, global float *grad, int pairs, float lo, float hi) {
    if (get_global_id(0) != 0) return;
    float a = ab_off < 0 ? 1.0f : p[ab_off], b = ab_off < 0 ? 0.0f : p[ab_off + 1];
    float ga = 0.0f, gb = 0.0f;
    for (int i = 0; i < pairs; i++) {
        float s = sim[s_off + i];
        float sg = 1.0f / (1.0f + exp(-(a * s + b)));
        float dt = dscore[dsc_off + i] * (hi - lo) * sg * (1.0f - sg);
        dsim[dsim_off + i] = dt * a;
        ga += dt * s;
        gb += dt;
    }
    if (ab_off >= 0) {
        grad[ab_off] = ga;
        grad[ab_off + 1] = gb;
    }
}

// Row i of the B x width feature matrix: [u, v, |u - v|, u * v] in its first 4D columns (the
// pairs' own features follow, pair_columns). One work-item per (i, c).
kernel void pair_features_forward(global const float *emb, int e_off, global float *f, int f_off,
                                  int pairs, int dim, int width) {
    int k = get_global_id(0);
    if (k >= pairs * dim) return;
    int i = k / dim, c = k % dim;
    float u = emb[e_off + i * dim + c], v = emb[e_off + (pairs + i) * dim + c];
    global float *row = f + f_off + i * width;
    row[c] = u;
    row[dim + c] = v;
    row[2 * dim + c] = fabs(u - v);
    row[3 * dim + c] = u * v;
}

kernel void pair_features_backward(global const float *emb, int e_off, global const float *df,
                                   int df_off, global float *demb, int de_off, int pairs, int dim,
                                   int width) {
    int k = get_global_id(0);
    if (k >= pairs * dim) return;
    int i = k / dim, c = k % dim;
    float u = emb[e_off + i * dim + c], v = emb[e_off + (pairs + i) * dim + c];
    global const float *row = df + df_off + i * width;
    float sg = u > v ? 1.0f : (u < v ? -1.0f : 0.0f);
    float dabs = row[2 * dim + c] * sg, dprod = row[3 * dim + c];
    demb[de_off + i * dim + c] = row[c] + dabs + dprod * v;
    demb[de_off + (pairs + i) * dim + c] = row[dim + c] - dabs + dprod * u;
}

// Columns 4D .. 4D + nf - 1 of the feature matrix's rows: pairs first .. first + B - 1's own
// features (cols, nf a pair).
kernel void pair_columns(global const float *cols, int first, int nf, global float *f, int f_off,
                         int pairs, int dim, int width) {
    int k = get_global_id(0);
    if (k >= pairs * nf) return;
    int i = k / nf, c = k % nf;
    f[f_off + i * width + 4 * dim + c] = cols[(first + i) * nf + c];
}
