/* The text task ([data] format = csv): a CSV of (left text, right text, graded target) rows,
 * hashed into features (features.h), split into training, validation and test rows by group.
 * The model's first layer is an embedding bag over the features. */
#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
#include "siamcl/overlap.h"
#include "siamcl/task.h"
#include "siamcl/textdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct text_task {
    sc_text_data d;
    sc_inputs in; /* the 2n texts of d: left texts, then right texts */
} text_task;

/* Texts that featurize alike are one item to the in-batch losses. */
static int key_texts(sc_runtime *rt, sc_inputs *in) {
    float *keys = malloc((in->n ? in->n : 1) * sizeof *keys);
    if (!keys) return sc_error(SC_ERR, "out of memory");
    int rc = sc_csr_row_keys(in->csr, keys);
    if (rc == SC_OK) rc = sc_inputs_keys(rt, in, keys, 0);
    free(keys);
    return rc;
}

/* data (eval --data) names a CSV whose every row is a test row. */
static int open_texts(sc_task *t, const char *data) {
    text_task *x = calloc(1, sizeof *x);
    if (!x) return sc_error(SC_ERR, "out of memory");
    t->state = x;
    sc_job *job = t->job;
    if (data) job->data.path = data;
    SC_TRY(sc_text_data_load(&job->data, job->train.seed, data != NULL, &x->d));
    /* the constant baseline predicts the training targets' mean, kept in the checkpoint */
    if (isnan(job->target_mean) && !data) job->target_mean = sc_text_train_mean(&x->d);
    SC_TRY(sc_inputs_sparse(t->rt, &x->d.texts, job->data.features.buckets, &x->in));
    SC_TRY(key_texts(t->rt, &x->in));
    t->train = t->val.in = t->test.in = &x->in;
    int overlap = job->model.pair_features > 0;
    SC_TRY(sc_text_pairs(&x->d, SC_SPLIT_VAL, overlap, &t->val.pairs));
    SC_TRY(sc_text_pairs(&x->d, SC_SPLIT_TEST, overlap, &t->test.pairs));
    SC_TRY(sc_pair_set_upload(t->rt, &t->val));
    SC_TRY(sc_pair_set_upload(t->rt, &t->test));
    t->epoch_size = x->d.count[SC_SPLIT_TRAIN];
    t->quality_name = "Spearman";
    t->quality = sc_metric_spearman;
    snprintf(t->summary, sizeof t->summary,
             "%s: %zu rows, %zu / %zu / %zu for training / validation / test", job->data.path,
             x->d.n, x->d.count[0], x->d.count[1], x->d.count[2]);
    return SC_OK;
}

static void close_texts(sc_task *t) {
    text_task *x = t->state;
    sc_inputs_free(&x->in);
    sc_text_data_free(&x->d);
    sc_pair_set_free(&t->val);
    sc_pair_set_free(&t->test);
    free(x);
    t->state = NULL;
}

/* The training rows, shuffled anew each epoch. */
static int epoch_pairs(sc_task *t, int epoch, sc_pairs *out) {
    const text_task *x = t->state;
    SC_TRY(sc_text_pairs(&x->d, SC_SPLIT_TRAIN, t->job->model.pair_features > 0, out));
    sc_pairs_shuffle(out, sc_task_draw_seed(t), 1000 + (uint64_t)epoch);
    return SC_OK;
}

/* Regression metrics on the test rows beside the constant mean of the training targets. */
static int report(sc_task *t, const sc_ensemble *e, sc_report *out) {
    const sc_pairs *tp = &t->test.pairs;
    memset(out, 0, sizeof *out);
    SC_TRY(sc_report_regression_test(out, e, t->test.in, tp, &t->test.dev, t->job->target_mean));
    snprintf(out->title, sizeof out->title, "test: %zu rows", tp->n);
    return SC_OK;
}

/* id[r] = the number of names[r] among the distinct names of names[0 .. n), in first-seen
 * order; *count of them. */
static int distinct_ids(const char *const *names, size_t n, uint32_t *id, size_t *count) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    const char **seen = calloc(cap, sizeof *seen);
    uint32_t *slot = malloc(cap * sizeof *slot);
    if (!seen || !slot) return free(seen), free(slot), sc_error(SC_ERR, "out of memory");
    *count = 0;
    for (size_t r = 0; r < n; r++) {
        const char *s = names[r];
        size_t h = sc_fnv1a32(s, strlen(s), SC_FNV1A32_BASIS) & (cap - 1);
        while (seen[h] && strcmp(seen[h], s)) h = (h + 1) & (cap - 1);
        if (!seen[h]) seen[h] = s, slot[h] = (uint32_t)(*count)++;
        id[r] = slot[h];
    }
    free(seen), free(slot);
    return SC_OK;
}

/* Each test row's query: the number of its left text among the distinct left texts. */
static int query_groups(const sc_task *t, uint32_t *group, size_t *groups) {
    const text_task *x = t->state;
    const sc_pairs *tp = &t->test.pairs;
    int col;
    SC_TRY(sc_csv_column(x->d.csv, t->job->data.left, &col));
    const char **left = malloc((tp->n ? tp->n : 1) * sizeof *left);
    if (!left) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < tp->n; i++) left[i] = sc_csv_field(x->d.csv, (size_t)tp->left[i], col);
    int rc = distinct_ids(left, tp->n, group, groups);
    free(left);
    return rc;
}

/* The word-overlap baseline's scores: the share of the query's words the candidate has, then
 * of its trigrams (overlap.h's f0 and f1). */
static void overlap_scores(const sc_task *t, float *scores) {
    const text_task *x = t->state;
    const sc_pairs *tp = &t->test.pairs;
    int l = 0, r = 0;
    sc_csv_column(x->d.csv, t->job->data.left, &l);
    sc_csv_column(x->d.csv, t->job->data.right, &r);
    for (size_t i = 0; i < tp->n; i++) {
        float f[SC_OVERLAP_FEATURES];
        size_t row = (size_t)tp->left[i];
        sc_overlap_features(sc_csv_field(x->d.csv, row, l), sc_csv_field(x->d.csv, row, r), f);
        scores[i] = f[0] + 1e-3f * f[1];
    }
}

/* The test rows as a search: each query (a distinct left text) ranks its rows' right texts
 * by the ensemble's scores, beside word overlap. */
static int retrieval(sc_task *t, const sc_ensemble *e, double threshold, sc_report *out) {
    size_t n = t->test.pairs.n, groups = 0;
    uint32_t *group = malloc((n ? n : 1) * sizeof *group);
    float *lexical = malloc((n ? n : 1) * sizeof *lexical);
    int rc = group && lexical ? query_groups(t, group, &groups) : sc_error(SC_ERR, "out of memory");
    char what[160];
    snprintf(what, sizeof what, "the distinct %s texts", t->job->data.left);
    if (rc == SC_OK) overlap_scores(t, lexical);
    if (rc == SC_OK)
        rc = sc_task_retrieval_report(t, e, group, groups, lexical, "word_overlap", threshold, what,
                                      t->job->data.target, out);
    free(group), free(lexical);
    return rc;
}

static int write_files(const sc_task *t, const char *dir) {
    const text_task *x = t->state;
    char path[1100];
    snprintf(path, sizeof path, "%s/split.csv", dir);
    return sc_text_write_split(&x->d, path);
}

/* The CSV at path, read with --encoding or the model's [data] encoding. */
static int read_table(const sc_job *job, const char *path, const sc_read_options *o, sc_csv **out) {
    sc_encoding enc = job->data.encoding;
    if (o->encoding && sc_encoding_parse(o->encoding, &enc) != SC_OK)
        return sc_error(SC_EINPUT, "--encoding %s: expected utf-8 or latin-1", o->encoding);
    return sc_csv_read(path, enc, out);
}

/* The distinct texts of names[0 .. *n), in first-seen order, kept in place. */
static int keep_distinct(const char **names, size_t *n) {
    uint32_t *id = malloc((*n ? *n : 1) * sizeof *id);
    size_t kept = 0, count;
    int rc = id ? distinct_ids(names, *n, id, &count) : sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; rc == SC_OK && r < *n; r++)
        if (id[r] == kept) names[kept++] = names[r]; /* a name's first row */
    free(id);
    if (rc == SC_OK) *n = kept;
    return rc;
}

/* A CSV column's texts (embed; search: each distinct one once), featurized as in training. */
static int read_rows(sc_runtime *rt, const sc_job *job, const char *path, const sc_read_options *o,
                     sc_user_rows *out) {
    int col;
    if (o->distinct && !o->column)
        return sc_error(SC_EINPUT, "search: --column NAME names the catalog's column of texts");
    SC_TRY(read_table(job, path, o, &out->table));
    size_t n = sc_csv_rows(out->table);
    SC_TRY(sc_csv_column(out->table, o->column ? o->column : job->data.left, &col));
    if (!n) return sc_error(SC_EINPUT, "%s: no rows", path);
    if (!(out->names = malloc(n * sizeof *out->names))) return sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; r < n; r++) out->names[r] = sc_csv_field(out->table, r, col);
    if (o->distinct) SC_TRY(keep_distinct(out->names, &n));
    SC_TRY(sc_featurize(&job->data.features, out->names, n, &out->csr));
    return sc_inputs_sparse(rt, &out->csr, job->data.features.buckets, &out->in);
}

/* Each QUERY argument is a text. */
static int read_queries(sc_runtime *rt, const sc_job *job, const char *const *args, int n,
                        sc_user_rows *out) {
    if (!(out->names = malloc((size_t)n * sizeof *out->names)))
        return sc_error(SC_ERR, "out of memory");
    for (int i = 0; i < n; i++) out->names[i] = args[i];
    SC_TRY(sc_featurize(&job->data.features, out->names, (size_t)n, &out->csr));
    return sc_inputs_sparse(rt, &out->csr, job->data.features.buckets, &out->in);
}

/* Text pairs: the model's [data] left and right columns of each row; row r's texts are r and
 * n + r. */
static int read_pairs(sc_runtime *rt, const sc_job *job, const sc_csv *table,
                      const sc_read_options *o, sc_user_rows *rows, sc_pairs *out) {
    int cols[2];
    size_t n = sc_csv_rows(table);
    if (o->rows) return sc_error(SC_EINPUT, "score: a text model reads its texts from PAIRS.csv");
    SC_TRY(sc_csv_column(table, job->data.left, &cols[0]));
    SC_TRY(sc_csv_column(table, job->data.right, &cols[1]));
    const char **texts = malloc((n ? 2 * n : 1) * sizeof *texts);
    int rc = texts ? sc_pairs_alloc(out, n) : sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; rc == SC_OK && r < n; r++) {
        out->target[r] = 0.0f;
        texts[r] = sc_csv_field(table, r, cols[0]);
        texts[n + r] = sc_csv_field(table, r, cols[1]);
        out->left[r] = (int32_t)r;
        out->right[r] = (int32_t)(n + r);
    }
    if (rc == SC_OK) rc = sc_featurize(&job->data.features, texts, 2 * n, &rows->csr);
    if (rc == SC_OK) rc = sc_inputs_sparse(rt, &rows->csr, job->data.features.buckets, &rows->in);
    if (rc == SC_OK && job->model.pair_features)
        rc = sc_pairs_alloc_features(out, job->model.pair_features);
    if (rc == SC_OK && job->model.pair_features)
        rc = sc_text_overlap(table, cols[0], cols[1], n, out->features);
    free(texts);
    return rc;
}

const sc_task_kind sc_task_texts = {
    .format = "csv",
    .searchable = 1,
    .open = open_texts,
    .close = close_texts,
    .epoch_pairs = epoch_pairs,
    .report = report,
    .write_files = write_files,
    .read_rows = read_rows,
    .read_queries = read_queries,
    .read_pairs = read_pairs,
    .retrieval = retrieval,
};
