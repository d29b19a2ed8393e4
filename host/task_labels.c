#include "task_labels.h"
#include "atomic_file.h"
#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Streams of the job's seed, one per independent draw. */
enum { STREAM_VALIDATION = 1, STREAM_EPOCH = 1000, STREAM_SHUFFLE = 1u << 20 };

/* The rows, keyed by their class labels. */
static int upload(sc_runtime *rt, sc_labelled_set *s) {
    SC_TRY(sc_inputs_dense(rt, s->rows, s->n, s->width, &s->in));
    float *keys = malloc((s->n ? s->n : 1) * sizeof *keys);
    if (!keys) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < s->n; i++) keys[i] = s->labels[i];
    int rc = sc_inputs_keys(rt, &s->in, keys, 1);
    free(keys);
    return rc;
}

/* The fixed pairs: validation among the held-out training rows, test among all test rows. */
static int draw_fixed_pairs(sc_task *t, sc_labelled *L, const char *path, double validation) {
    uint64_t seed = t->job->train.seed;
    SC_TRY(sc_split_holdout(L->train.n, validation, seed, &L->anchors, &L->nanchors, &L->held,
                            &L->nheld));
    if (L->nheld == 0)
        return sc_error(SC_EINPUT, "%s: [data] validation = %g holds out no row of %zu", path,
                        validation, L->train.n);
    SC_TRY(
        sc_pairs_draw(L->train.labels, L->held, L->nheld, seed, STREAM_VALIDATION, &t->val.pairs));
    uint32_t *all = malloc((L->test.n ? L->test.n : 1) * sizeof *all);
    if (!all) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < L->test.n; i++) all[i] = (uint32_t)i;
    int rc = sc_pairs_draw(L->test.labels, all, L->test.n, SC_TEST_PAIRS_SEED, 0, &t->test.pairs);
    free(all);
    return rc;
}

int sc_labelled_open(sc_task *t, sc_labelled *L, const char *path, double validation) {
    t->state = L;
    if (L->test.width != L->train.width)
        return sc_error(SC_EINPUT, "%s: test rows have %zu values, training rows %zu", path,
                        L->test.width, L->train.width);
    SC_TRY(sc_task_input_width(t, L->train.width, path));
    SC_TRY(upload(t->rt, &L->train));
    SC_TRY(upload(t->rt, &L->test));
    SC_TRY(draw_fixed_pairs(t, L, path, validation));
    t->train = &L->train.in;
    t->val.in = &L->train.in;
    t->test.in = &L->test.in;
    SC_TRY(sc_pair_set_upload(t->rt, &t->val));
    SC_TRY(sc_pair_set_upload(t->rt, &t->test));
    t->epoch_size = 2 * L->nanchors;
    t->quality_name = "AUC";
    t->quality = sc_metric_auc;
    return SC_OK;
}

static void free_set(sc_labelled_set *s) {
    free(s->rows);
    free(s->labels);
    sc_inputs_free(&s->in);
}

void sc_labelled_close(sc_task *t) {
    sc_labelled *L = t->state;
    free_set(&L->train);
    free_set(&L->test);
    free(L->anchors);
    free(L->held);
    sc_pair_set_free(&t->val);
    sc_pair_set_free(&t->test);
    free(L);
    t->state = NULL;
}

int sc_labelled_epoch_pairs(sc_task *t, int epoch, sc_pairs *out) {
    const sc_labelled *L = t->state;
    uint64_t seed = sc_task_draw_seed(t);
    SC_TRY(sc_pairs_draw(L->train.labels, L->anchors, L->nanchors, seed,
                         STREAM_EPOCH + (uint64_t)epoch, out));
    sc_pairs_shuffle(out, seed, STREAM_SHUFFLE + (uint64_t)epoch);
    return SC_OK;
}

/* The baselines: a constant (training pairs hold one positive and one negative per anchor, so
 * the targets' mean is 0.5) and the cosine of the raw rows with their 1-NN accuracy. */
static int baselines(sc_task *t, float *val, float *test, sc_report *out) {
    const sc_labelled *L = t->state;
    const sc_pairs *vp = &t->val.pairs, *tp = &t->test.pairs;
    for (size_t i = 0; i < vp->n; i++) val[i] = 0.5f;
    for (size_t i = 0; i < tp->n; i++) test[i] = 0.5f;
    sc_report_binary_row(out, "constant_mean", val, vp, test, tp, NAN);
    sc_raw_cosine(L->train.rows, L->train.width, vp, val);
    sc_raw_cosine(L->test.rows, L->test.width, tp, test);
    size_t nq = L->test.n < SC_RAW_KNN_QUERIES ? L->test.n : SC_RAW_KNN_QUERIES;
    double knn;
    SC_TRY(sc_raw_knn(t->rt, &L->train.in, L->train.labels, &L->test.in, L->test.labels, nq, &knn));
    sc_report_binary_row(out, "raw_cosine", val, vp, test, tp, knn);
    snprintf(out->title, sizeof out->title,
             "test: %zu pairs; threshold chosen on validation; 1-NN by cosine against the "
             "training %s (raw cosine: first %zu test %s)",
             tp->n, L->what, nq, L->what);
    return SC_OK;
}

int sc_labelled_report(sc_task *t, const sc_ensemble *e, sc_report *out) {
    const sc_labelled *L = t->state;
    size_t nv = t->val.pairs.n, nt = t->test.pairs.n;
    float *val = malloc((nv ? nv : 1) * sizeof *val), *test = malloc((nt ? nt : 1) * sizeof *test);
    double knn;
    int rc = val && test ? SC_OK : sc_error(SC_ERR, "out of memory");
    memset(out, 0, sizeof *out);
    sc_report_binary_columns(out);
    if (rc == SC_OK) rc = sc_ensemble_score_pairs(e, t->val.in, &t->val.dev, val);
    if (rc == SC_OK) rc = sc_ensemble_score_pairs(e, t->test.in, &t->test.dev, test);
    if (rc == SC_OK)
        rc = sc_ensemble_knn(e, &L->train.in, L->train.labels, &L->test.in, L->test.labels, &knn);
    if (rc == SC_OK)
        sc_report_binary_row(out, "siamcl", val, &t->val.pairs, test, &t->test.pairs, knn);
    if (rc == SC_OK) rc = baselines(t, val, test, out);
    free(val);
    free(test);
    return rc;
}

static int write_pairs(const char *dir, const char *file, const sc_pairs *p) {
    char path[1100];
    sc_atomic_file f;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    SC_TRY(sc_atomic_open(path, &f));
    fputs("left,right,target\n", f.file);
    for (size_t i = 0; i < p->n; i++)
        fprintf(f.file, "%d,%d,%g\n", (int)p->left[i], (int)p->right[i], p->target[i]);
    return sc_atomic_commit(&f);
}

int sc_labelled_write_files(const sc_task *t, const char *dir) {
    SC_TRY(write_pairs(dir, "val_pairs.csv", &t->val.pairs));
    return write_pairs(dir, "test_pairs.csv", &t->test.pairs);
}

int sc_read_index_pairs(const sc_csv *t, size_t count, const char *what, sc_pairs *p) {
    int cols[2];
    SC_TRY(sc_csv_column(t, "left", &cols[0]));
    SC_TRY(sc_csv_column(t, "right", &cols[1]));
    size_t n = sc_csv_rows(t);
    SC_TRY(sc_pairs_alloc(p, n));
    for (size_t r = 0; r < n; r++) {
        p->target[r] = 0.0f;
        for (int k = 0; k < 2; k++) {
            double v;
            SC_TRY(sc_csv_number(t, r, cols[k], &v));
            if (v < 0 || v >= (double)count || v != floor(v))
                return sc_error(SC_EINPUT, "%s:%d: %s = %s is not %s (0..%zu)", sc_csv_path(t),
                                sc_csv_line(t, r), k ? "right" : "left",
                                sc_csv_field(t, r, cols[k]), what, count - 1);
            (k ? p->right : p->left)[r] = (int32_t)v;
        }
    }
    return SC_OK;
}

int sc_row_number_names(sc_user_rows *r, size_t n) {
    r->names = malloc((n ? n : 1) * sizeof *r->names);
    r->name_text = malloc((n ? n : 1) * 21);
    if (!r->names || !r->name_text) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) {
        snprintf(r->name_text + 21 * i, 21, "%zu", i);
        r->names[i] = r->name_text + 21 * i;
    }
    return SC_OK;
}
