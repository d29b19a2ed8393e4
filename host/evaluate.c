#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
#include "siamcl/similarity.h"

#include <math.h>
#include <stdlib.h>

/* Scores pairs batch by batch, either images (im) or texts (x). */
static int score(sc_model *m, const sc_images *im, const sc_csr_dev *x, const sc_pairs_dev *p,
                 float *scores, double *loss) {
    double last;
    SC_TRY(sc_model_loss_reset(m));
    for (size_t first = 0; first < p->n; first += m->max_pairs) {
        size_t n = p->n - first < m->max_pairs ? p->n - first : m->max_pairs;
        if (im)
            SC_TRY(sc_gather_pairs(m->rt, im->rows, im->width, p, first, n, sc_model_input(m),
                                   sc_model_targets(m)));
        else
            SC_TRY(sc_model_text_batch(m, x, p, first, NULL, 0));
        if (!im) SC_TRY(sc_copy(m->rt, sc_model_targets(m), (sc_view){p->target, first}, n));
        SC_TRY(sc_model_forward(m, n));
        SC_TRY(sc_model_loss(m, n));
        SC_TRY(sc_download(m->rt, scores + first, m->ws.score, n));
    }
    return sc_model_loss_read(m, loss, &last);
}

int sc_score_pairs(sc_model *m, const sc_images *im, const sc_pairs_dev *p, float *scores,
                   double *loss) {
    return score(m, im, NULL, p, scores, loss);
}

int sc_score_text_pairs(sc_model *m, const sc_csr_dev *x, const sc_pairs_dev *p, float *scores,
                        double *loss) {
    return score(m, NULL, x, p, scores, loss);
}

int sc_embed_images(sc_model *m, const sc_images *im, size_t first, size_t n, cl_mem out) {
    size_t E = (size_t)sc_model_embedding_width(m), chunk = 2 * m->max_pairs;
    for (size_t k = 0; k < n; k += chunk) {
        size_t r = n - k < chunk ? n - k : chunk;
        SC_TRY(sc_gather_rows(m->rt, im->rows, im->width, first + k, r, sc_model_input(m)));
        SC_TRY(sc_model_embed(m, r));
        SC_TRY(sc_copy(m->rt, (sc_view){out, k * E}, m->ws.emb, r * E));
    }
    return SC_OK;
}

int sc_embed_texts(sc_model *m, const sc_csr_dev *x, size_t n, cl_mem out) {
    size_t E = (size_t)sc_model_embedding_width(m), P = m->max_pairs;
    size_t chunks = (n + 2 * P - 1) / (2 * P), np = chunks * P;
    /* as pairs: chunk c's pairs c P .. c P + P - 1 are its texts 2 c P + i and 2 c P + P + i,
     * so a batch's rows are its chunk's texts in order (clamped at the last text) */
    int32_t *idx = malloc(2 * (np ? np : 1) * sizeof *idx);
    if (!idx) return sc_error(SC_ERR, "out of memory");
    for (size_t j = 0; j < np; j++) {
        size_t t = 2 * P * (j / P) + j % P;
        idx[j] = (int32_t)(t < n ? t : n - 1);
        idx[np + j] = (int32_t)(t + P < n ? t + P : n - 1);
    }
    sc_pairs_dev dev = {np, NULL, NULL, NULL};
    int rc = sc_buffer_new(m->rt, np * sizeof(int32_t), &dev.left);
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, np * sizeof(int32_t), &dev.right);
    if (rc == SC_OK) rc = sc_upload_bytes(m->rt, dev.left, 0, idx, np * sizeof(int32_t));
    if (rc == SC_OK) rc = sc_upload_bytes(m->rt, dev.right, 0, idx + np, np * sizeof(int32_t));
    for (size_t c = 0; c < chunks && rc == SC_OK; c++) {
        size_t first = 2 * P * c, rows = n - first < 2 * P ? n - first : 2 * P;
        rc = sc_model_text_batch(m, x, &dev, c * P, NULL, 0);
        if (rc == SC_OK) rc = sc_model_embed(m, 2 * P);
        if (rc == SC_OK) rc = sc_copy(m->rt, (sc_view){out, first * E}, m->ws.emb, rows * E);
    }
    sc_buffer_free(dev.left);
    sc_buffer_free(dev.right);
    free(idx);
    return rc;
}

/* The share of queries whose nearest reference row (by cosine) has the query's label. Both
 * matrices are normalized in place. */
static int knn_accuracy(sc_runtime *rt, cl_mem ref, const uint8_t *ref_labels, size_t nref,
                        cl_mem query, const uint8_t *query_labels, size_t nq, size_t dim,
                        double *acc) {
    cl_mem norms;
    int32_t *nearest = malloc(nq * sizeof *nearest);
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

static int model_knn(sc_model *m, const sc_dataset *d, double *acc) {
    size_t E = (size_t)sc_model_embedding_width(m), ntr = d->train.set.count;
    size_t nte = d->test.set.count;
    cl_mem tr = NULL, te = NULL;
    int rc = sc_buffer_new(m->rt, ntr * E * sizeof(float), &tr);
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, nte * E * sizeof(float), &te);
    if (rc == SC_OK) rc = sc_embed_images(m, &d->train, 0, ntr, tr);
    if (rc == SC_OK) rc = sc_embed_images(m, &d->test, 0, nte, te);
    if (rc == SC_OK)
        rc = knn_accuracy(m->rt, tr, d->train.set.labels, ntr, te, d->test.set.labels, nte, E, acc);
    sc_buffer_free(tr);
    sc_buffer_free(te);
    return rc;
}

static int raw_knn(sc_runtime *rt, const sc_dataset *d, size_t nq, double *acc) {
    size_t w = d->train.width, ntr = d->train.set.count;
    cl_mem tr = NULL, te = NULL;
    int rc = sc_buffer_new(rt, ntr * w * sizeof(float), &tr);
    if (rc == SC_OK) rc = sc_buffer_new(rt, nq * w * sizeof(float), &te);
    if (rc == SC_OK) rc = sc_copy(rt, (sc_view){tr, 0}, (sc_view){d->train.rows, 0}, ntr * w);
    if (rc == SC_OK) rc = sc_copy(rt, (sc_view){te, 0}, (sc_view){d->test.rows, 0}, nq * w);
    if (rc == SC_OK)
        rc = knn_accuracy(rt, tr, d->train.set.labels, ntr, te, d->test.set.labels, nq, w, acc);
    sc_buffer_free(tr);
    sc_buffer_free(te);
    return rc;
}

/* Cosine of the raw inputs of each pair. */
static void raw_cosine(const sc_images *im, const sc_pairs *p, float *s) {
    for (size_t i = 0; i < p->n; i++) {
        const float *u = im->set.pixels + (size_t)p->left[i] * im->width;
        const float *v = im->set.pixels + (size_t)p->right[i] * im->width;
        double uv = 0, uu = 0, vv = 0;
        for (size_t c = 0; c < im->width; c++)
            uv += u[c] * v[c], uu += u[c] * u[c], vv += v[c] * v[c];
        s[i] = (float)(uv / fmax(sqrt(uu * vv), 1e-8));
    }
}

/* Pair metrics of test scores, with the threshold chosen on the validation scores. */
static void fill_row(sc_eval_row *row, const float *val, const sc_pairs *vp, const float *test,
                     const sc_pairs *tp) {
    double val_acc;
    row->mse = sc_metric_mse(test, tp->target, tp->n);
    row->mae = sc_metric_mae(test, tp->target, tp->n);
    row->auc = sc_metric_auc(test, tp->target, tp->n);
    row->threshold = sc_best_threshold(val, vp->target, vp->n, &val_acc);
    row->accuracy = sc_accuracy_at(test, tp->target, tp->n, row->threshold);
}

int sc_evaluate(sc_model *m, const sc_dataset *d, sc_report *out) {
    size_t nv = d->val.n, nt = d->tests.n;
    float *val = malloc(nv * sizeof *val), *test = malloc(nt * sizeof *test);
    double loss, mean = 0;
    int rc = val && test ? SC_OK : sc_error(SC_ERR, "out of memory");
    out->test_pairs = nt;
    if (rc == SC_OK) rc = sc_score_pairs(m, &d->train, &d->val_dev, val, &loss);
    if (rc == SC_OK) rc = sc_score_pairs(m, &d->test, &d->test_dev, test, &loss);
    if (rc == SC_OK) {
        out->rows[0].name = "siamcl";
        fill_row(&out->rows[0], val, &d->val, test, &d->tests);
        rc = model_knn(m, d, &out->rows[0].knn);
    }
    if (rc == SC_OK) { /* training pairs hold one positive and one negative per anchor */
        mean = 0.5;
        for (size_t i = 0; i < nv; i++) val[i] = (float)mean;
        for (size_t i = 0; i < nt; i++) test[i] = (float)mean;
        out->rows[1].name = "constant_mean";
        fill_row(&out->rows[1], val, &d->val, test, &d->tests);
        out->rows[1].knn = NAN;
        raw_cosine(&d->train, &d->val, val);
        raw_cosine(&d->test, &d->tests, test);
        out->rows[2].name = "raw_cosine";
        fill_row(&out->rows[2], val, &d->val, test, &d->tests);
        out->raw_queries =
            d->test.set.count < SC_RAW_KNN_QUERIES ? d->test.set.count : SC_RAW_KNN_QUERIES;
        rc = raw_knn(m->rt, d, out->raw_queries, &out->rows[2].knn);
    }
    free(val);
    free(test);
    return rc;
}

static void regression_row(sc_regression_row *row, const char *name, const float *s, const float *y,
                           size_t n) {
    row->name = name;
    row->mse = sc_metric_mse(s, y, n);
    row->rmse = sqrt(row->mse);
    row->mae = sc_metric_mae(s, y, n);
    row->pearson = sc_metric_pearson(s, y, n);
    row->spearman = sc_metric_spearman(s, y, n);
}

void sc_regression_fill(const float *scores, const float *targets, size_t n, double train_mean,
                        sc_regression_report *r) {
    float *mean = malloc((n ? n : 1) * sizeof *mean);
    r->n = n;
    regression_row(&r->rows[0], "siamcl", scores, targets, n);
    for (size_t i = 0; mean && i < n; i++) mean[i] = (float)train_mean;
    if (mean) regression_row(&r->rows[1], "constant_mean", mean, targets, n);
    free(mean);
}

static void cell(FILE *out, double v) {
    if (isnan(v))
        fprintf(out, " %9s", "-");
    else
        fprintf(out, " %9.4f", v);
}

void sc_report_print(FILE *out, const sc_report *r) {
    fprintf(out,
            "test: %zu pairs; threshold chosen on validation; 1-NN by cosine against the "
            "training images (raw cosine: first %zu test images)\n",
            r->test_pairs, r->raw_queries);
    fprintf(out, "%-14s %9s %9s %9s %9s %9s\n", "", "MSE", "MAE", "ROC-AUC", "accuracy", "1-NN");
    for (int i = 0; i < 3; i++) {
        const sc_eval_row *row = &r->rows[i];
        fprintf(out, "%-14s", row->name);
        cell(out, row->mse), cell(out, row->mae), cell(out, row->auc);
        cell(out, row->accuracy), cell(out, row->knn);
        fputc('\n', out);
    }
}

/* One row of a JSON array of metrics: {"name": ..., key: value, ...}. */
static void json_row(FILE *out, int first, const char *name, const char *const *keys,
                     const double *values, int n) {
    fprintf(out, "%s\n    {\"name\": \"%s\"", first ? "" : ",", name);
    for (int k = 0; k < n; k++) {
        if (isnan(values[k]))
            fprintf(out, ", \"%s\": null", keys[k]);
        else
            fprintf(out, ", \"%s\": %.6g", keys[k], values[k]);
    }
    fputc('}', out);
}

void sc_report_write_rows(FILE *out, const sc_report *r) {
    static const char *const keys[] = {"mse",      "mae",       "auc",
                                       "accuracy", "threshold", "knn_accuracy"};
    fputs("[", out);
    for (int i = 0; i < 3; i++) {
        const sc_eval_row *row = &r->rows[i];
        double v[] = {row->mse, row->mae, row->auc, row->accuracy, row->threshold, row->knn};
        json_row(out, !i, row->name, keys, v, 6);
    }
    fputs("\n  ]", out);
}

void sc_regression_print(FILE *out, const sc_regression_report *r) {
    fprintf(out, "test: %zu rows\n%-14s %9s %9s %9s %9s %9s\n", r->n, "", "MSE", "RMSE", "MAE",
            "Pearson", "Spearman");
    for (int i = 0; i < 2; i++) {
        const sc_regression_row *row = &r->rows[i];
        fprintf(out, "%-14s", row->name);
        cell(out, row->mse), cell(out, row->rmse), cell(out, row->mae);
        cell(out, row->pearson), cell(out, row->spearman);
        fputc('\n', out);
    }
}

void sc_regression_write_rows(FILE *out, const sc_regression_report *r) {
    static const char *const keys[] = {"mse", "rmse", "mae", "pearson", "spearman"};
    fputs("[", out);
    for (int i = 0; i < 2; i++) {
        const sc_regression_row *row = &r->rows[i];
        double v[] = {row->mse, row->rmse, row->mae, row->pearson, row->spearman};
        json_row(out, !i, row->name, keys, v, 5);
    }
    fputs("\n  ]", out);
}

void sc_write_rows(FILE *out, const sc_report *rep, const sc_regression_report *reg) {
    if (rep)
        sc_report_write_rows(out, rep);
    else
        sc_regression_write_rows(out, reg);
}
