#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
#include "siamcl/similarity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sc_score_pair_range(sc_model *m, const sc_inputs *in, const sc_pairs_dev *p, size_t first,
                        size_t n, float *scores, float *acc) {
    SC_TRY(sc_model_loss_reset(m));
    for (size_t done = 0; done < n; done += m->max_pairs) {
        size_t k = n - done < m->max_pairs ? n - done : m->max_pairs;
        sc_batch b = {in, p, first + done, k, NULL, 0, 0, 0, 0};
        SC_TRY(sc_model_forward(m, &b));
        if (acc) SC_TRY(sc_model_loss(m, k));
        SC_TRY(sc_download(m->rt, scores + done, sc_model_scores(m), k));
    }
    return acc ? sc_model_loss_get(m, acc) : SC_OK;
}

int sc_score_pairs(sc_model *m, const sc_inputs *in, const sc_pairs_dev *p, float *scores,
                   double *loss) {
    float acc[SC_LOSS_ACC];
    SC_TRY(sc_score_pair_range(m, in, p, 0, p->n, scores, loss ? acc : NULL));
    if (loss) *loss = acc[3] > 0 ? (double)acc[0] / acc[3] : 0.0;
    return SC_OK;
}

/* A device buffer of the row numbers first .. first + n - 1. */
static int row_numbers(sc_runtime *rt, size_t first, size_t n, cl_mem *out) {
    int32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) idx[i] = (int32_t)(first + i);
    int rc = sc_buffer_new(rt, (n ? n : 1) * sizeof *idx, out);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, *out, 0, idx, n * sizeof *idx);
    free(idx);
    return rc;
}

int sc_embed_rows(sc_model *m, const sc_inputs *in, size_t first, size_t n, cl_mem out) {
    size_t E = (size_t)sc_model_embedding_width(m), chunk = 2 * m->max_pairs;
    cl_mem idx = NULL;
    int rc = row_numbers(m->rt, first, n, &idx);
    for (size_t k = 0; k < n && rc == SC_OK; k += chunk) {
        sc_row_index ix = sc_list_index(idx, k, n - k < chunk ? n - k : chunk);
        rc = sc_model_embed(m, in, &ix);
        if (rc == SC_OK)
            rc = sc_copy(m->rt, (sc_view){out, k * E}, sc_model_embeddings(m), ix.n * E);
    }
    sc_buffer_free(idx);
    return rc;
}

/* The 1-NN accuracy of the query rows among the reference rows, both nref / nq x dim on the
 * device and normalized here in place. */
static int knn_accuracy(sc_runtime *rt, cl_mem ref, const uint8_t *ref_labels, size_t nref,
                        cl_mem query, const uint8_t *query_labels, size_t nq, size_t dim,
                        double *acc) {
    cl_mem norms;
    int32_t *nearest = malloc((nq ? nq : 1) * sizeof *nearest);
    if (!nearest) return sc_error(SC_ERR, "out of memory");
    int rc = sc_buffer_new(rt, (nref > nq ? nref : nq) * sizeof(float), &norms);
    sc_view r = {ref, 0}, q = {query, 0}, nv = {norms, 0};
    if (rc == SC_OK) rc = sc_normalize_forward(rt, r, r, nv, nref, dim);
    if (rc == SC_OK) rc = sc_normalize_forward(rt, q, q, nv, nq, dim);
    if (rc == SC_OK) rc = sc_nearest(rt, r, nref, q, nq, dim, nearest);
    size_t right = 0;
    for (size_t i = 0; rc == SC_OK && i < nq; i++)
        right += ref_labels[nearest[i]] == query_labels[i];
    *acc = (double)right / (double)nq;
    free(nearest);
    sc_buffer_free(norms);
    return rc;
}

int sc_ensemble_score_pairs(const sc_ensemble *e, const sc_inputs *in, const sc_pairs_dev *p,
                            float *scores) {
    if (e->n == 1) return sc_score_pairs(e->m[0], in, p, scores, NULL);
    float *s = malloc((p->n ? p->n : 1) * sizeof *s);
    if (!s) return sc_error(SC_ERR, "out of memory");
    int rc = SC_OK;
    for (size_t i = 0; i < p->n; i++) scores[i] = 0.0f;
    for (int k = 0; k < e->n && rc == SC_OK; k++) {
        rc = sc_score_pairs(e->m[k], in, p, s, NULL);
        for (size_t i = 0; rc == SC_OK && i < p->n; i++) scores[i] += s[i] / (float)e->n;
    }
    free(s);
    return rc;
}

/* The rows of in as the ensemble embeds them: each model's unit embeddings side by side
 * (n x the sum of their widths, on the device in *out), whose dot products are the sum of the
 * models' cosines. */
static int ensemble_embed(const sc_ensemble *e, const sc_inputs *in, cl_mem *out, size_t *dim) {
    sc_runtime *rt = e->m[0]->rt;
    size_t n = in->n, width = 0, at = 0;
    for (int k = 0; k < e->n; k++) width += (size_t)sc_model_embedding_width(e->m[k]);
    *dim = width;
    size_t total = n && width ? n * width : 1;
    float *all = malloc(total * sizeof *all), *one = NULL;
    cl_mem dev = NULL, norms = NULL;
    int rc = all ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (int k = 0; k < e->n && rc == SC_OK; k++) {
        size_t E = (size_t)sc_model_embedding_width(e->m[k]);
        free(one);
        one = malloc((n ? n : 1) * E * sizeof *one);
        sc_buffer_free(dev), sc_buffer_free(norms);
        dev = norms = NULL;
        rc = one ? sc_buffer_new(rt, (n ? n : 1) * E * sizeof(float), &dev)
                 : sc_error(SC_ERR, "out of memory");
        if (rc == SC_OK) rc = sc_buffer_new(rt, (n ? n : 1) * sizeof(float), &norms);
        if (rc == SC_OK) rc = sc_embed_rows(e->m[k], in, 0, n, dev);
        if (rc == SC_OK)
            rc = sc_normalize_forward(rt, (sc_view){dev, 0}, (sc_view){dev, 0}, (sc_view){norms, 0},
                                      n, E);
        if (rc == SC_OK) rc = sc_download(rt, one, (sc_view){dev, 0}, n * E);
        for (size_t r = 0; rc == SC_OK && r < n; r++)
            memcpy(all + r * width + at, one + r * E, E * sizeof *one);
        at += E;
    }
    sc_buffer_free(dev), sc_buffer_free(norms);
    if (rc == SC_OK) rc = sc_buffer_new(rt, total * sizeof(float), out);
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){*out, 0}, all, n * width);
    free(one);
    free(all);
    return rc;
}

int sc_ensemble_knn(const sc_ensemble *e, const sc_inputs *ref, const uint8_t *ref_labels,
                    const sc_inputs *query, const uint8_t *query_labels, double *acc) {
    sc_runtime *rt = e->m[0]->rt;
    size_t E = (size_t)sc_model_embedding_width(e->m[0]);
    cl_mem r = NULL, q = NULL;
    int rc = SC_OK;
    if (e->n == 1) { /* one model: its embeddings stay on the device */
        rc = sc_buffer_new(rt, ref->n * E * sizeof(float), &r);
        if (rc == SC_OK) rc = sc_buffer_new(rt, query->n * E * sizeof(float), &q);
        if (rc == SC_OK) rc = sc_embed_rows(e->m[0], ref, 0, ref->n, r);
        if (rc == SC_OK) rc = sc_embed_rows(e->m[0], query, 0, query->n, q);
    } else {
        rc = ensemble_embed(e, ref, &r, &E);
        if (rc == SC_OK) rc = ensemble_embed(e, query, &q, &E);
    }
    if (rc == SC_OK)
        rc = knn_accuracy(rt, r, ref_labels, ref->n, q, query_labels, query->n, E, acc);
    sc_buffer_free(r);
    sc_buffer_free(q);
    return rc;
}

int sc_raw_knn(sc_runtime *rt, const sc_inputs *ref, const uint8_t *ref_labels,
               const sc_inputs *query, const uint8_t *query_labels, size_t nq, double *acc) {
    size_t w = ref->width, nref = ref->n;
    cl_mem r = NULL, q = NULL;
    int rc = sc_buffer_new(rt, nref * w * sizeof(float), &r);
    if (rc == SC_OK) rc = sc_buffer_new(rt, nq * w * sizeof(float), &q);
    if (rc == SC_OK) rc = sc_copy(rt, (sc_view){r, 0}, (sc_view){ref->dense, 0}, nref * w);
    if (rc == SC_OK) rc = sc_copy(rt, (sc_view){q, 0}, (sc_view){query->dense, 0}, nq * w);
    if (rc == SC_OK) rc = knn_accuracy(rt, r, ref_labels, nref, q, query_labels, nq, w, acc);
    sc_buffer_free(r);
    sc_buffer_free(q);
    return rc;
}

void sc_raw_cosine(const float *rows, size_t width, const sc_pairs *p, float *s) {
    for (size_t i = 0; i < p->n; i++) {
        const float *u = rows + (size_t)p->left[i] * width;
        const float *v = rows + (size_t)p->right[i] * width;
        double uv = 0, uu = 0, vv = 0;
        for (size_t c = 0; c < width; c++) uv += u[c] * v[c], uu += u[c] * u[c], vv += v[c] * v[c];
        s[i] = (float)(uv / fmax(sqrt(uu * vv), 1e-8));
    }
}

enum { BIN_MSE, BIN_MAE, BIN_AUC, BIN_ACCURACY, BIN_THRESHOLD, BIN_KNN };

void sc_report_binary_columns(sc_report *r) {
    sc_report_column(r, "MSE", "mse");
    sc_report_column(r, "MAE", "mae");
    sc_report_column(r, "ROC-AUC", "auc");
    sc_report_column(r, "accuracy", "accuracy");
    sc_report_column(r, NULL, "threshold");
    sc_report_column(r, "1-NN", "knn_accuracy");
}

void sc_report_binary_row(sc_report *r, const char *name, const float *val, const sc_pairs *vp,
                          const float *test, const sc_pairs *tp, double knn) {
    double *v = r->rows[sc_report_row(r, name)].v, val_acc;
    v[BIN_MSE] = sc_metric_mse(test, tp->target, tp->n);
    v[BIN_MAE] = sc_metric_mae(test, tp->target, tp->n);
    v[BIN_AUC] = sc_metric_auc(test, tp->target, tp->n);
    v[BIN_THRESHOLD] = sc_best_threshold(val, vp->target, vp->n, &val_acc);
    v[BIN_ACCURACY] = sc_accuracy_at(test, tp->target, tp->n, v[BIN_THRESHOLD]);
    v[BIN_KNN] = knn;
}

void sc_report_regression_columns(sc_report *r) {
    sc_report_column(r, "MSE", "mse");
    sc_report_column(r, "RMSE", "rmse");
    sc_report_column(r, "MAE", "mae");
    sc_report_column(r, "Pearson", "pearson");
    sc_report_column(r, "Spearman", "spearman");
}

void sc_report_regression_row(sc_report *r, const char *name, const float *scores,
                              const float *targets, size_t n) {
    double *v = r->rows[sc_report_row(r, name)].v;
    v[0] = sc_metric_mse(scores, targets, n);
    v[1] = sqrt(v[0]);
    v[2] = sc_metric_mae(scores, targets, n);
    v[3] = sc_metric_pearson(scores, targets, n);
    v[4] = sc_metric_spearman(scores, targets, n);
}

int sc_report_regression_test(sc_report *r, const sc_ensemble *e, const sc_inputs *in,
                              const sc_pairs *p, const sc_pairs_dev *dev, double mean) {
    float *s = malloc((p->n ? p->n : 1) * sizeof *s);
    int rc = s ? SC_OK : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_ensemble_score_pairs(e, in, dev, s);
    if (rc == SC_OK) {
        sc_report_regression_columns(r);
        sc_report_regression_row(r, "siamcl", s, p->target, p->n);
        for (size_t i = 0; i < p->n; i++) s[i] = (float)mean;
        sc_report_regression_row(r, "constant_mean", s, p->target, p->n);
    }
    free(s);
    return rc;
}
