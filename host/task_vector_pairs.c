/* The vector task with a CSV of pairs ([data] format = npy, [data] pairs): left,right,target
 * row indices into the vectors (right ones into [data] right_vectors when set), split by group
 * into training, validation and test pairs as the text kind's rows are. */
#include "task_vectors.h"
#include "atomic_file.h"
#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
#include "siamcl/textdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each epoch's shuffle of the training pairs: the text kind's streams. */
enum { STREAM_EPOCH = 1000 };

typedef struct pairs_task {
    float *rows; /* on the host: the vectors, then right_vectors' (the raw cosine reads them) */
    size_t nleft, nright, width; /* nright: 0 without right_vectors */
    sc_inputs in;
    sc_csv *csv;
    sc_pairs all;   /* every CSV row's pair, right indices past the left rows when nright */
    uint8_t *split; /* SC_SPLIT_* of each CSV row */
    size_t count[3];
} pairs_task;

/* The vectors, with right_vectors' rows appended. */
static int read_vectors(const sc_data_config *d, pairs_task *x) {
    float *right = NULL, *both;
    size_t width;
    SC_TRY(sc_vectors_read_matrix(d->path, &x->rows, &x->nleft, &x->width));
    if (!*d->right_vectors) return SC_OK;
    SC_TRY(sc_vectors_read_matrix(d->right_vectors, &right, &x->nright, &width));
    int rc = SC_OK;
    if (width != x->width)
        rc = sc_error(SC_EINPUT, "%s: vectors of %zu values, but %s holds vectors of %zu",
                      d->right_vectors, width, d->path, x->width);
    size_t n = x->nleft + x->nright;
    if (rc == SC_OK && !(both = realloc(x->rows, n * x->width * sizeof *both)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) {
        x->rows = both;
        memcpy(x->rows + x->nleft * x->width, right, x->nright * x->width * sizeof *right);
    }
    free(right);
    return rc;
}

/* Field col of row r as a row index of file, which holds count rows. */
static int read_index(const sc_csv *t, size_t r, int col, const char *file, size_t count,
                      int32_t *out) {
    double v;
    SC_TRY(sc_csv_number(t, r, col, &v));
    if (v < 0 || v >= (double)count || v != floor(v))
        return sc_error(SC_EINPUT, "%s:%d: %s = %s is not a row index of %s (0..%zu)",
                        sc_csv_path(t), sc_csv_line(t, r), sc_csv_name(t, col),
                        sc_csv_field(t, r, col), file, count - 1);
    *out = (int32_t)v;
    return SC_OK;
}

/* Every row's pair: left into the vectors, right into right_vectors' rows when set. */
static int read_pair_rows(const sc_data_config *d, pairs_task *x) {
    int col[3];
    const char *right_file = x->nright ? d->right_vectors : d->path;
    size_t right_count = x->nright ? x->nright : x->nleft, offset = x->nright ? x->nleft : 0;
    SC_TRY(sc_csv_read(d->pairs, SC_UTF8, &x->csv));
    SC_TRY(sc_csv_column(x->csv, "left", &col[0]));
    SC_TRY(sc_csv_column(x->csv, "right", &col[1]));
    SC_TRY(sc_csv_column(x->csv, "target", &col[2]));
    size_t n = x->all.n = sc_csv_rows(x->csv);
    if (!n) return sc_error(SC_EINPUT, "%s: no data rows", d->pairs);
    SC_TRY(sc_pairs_alloc(&x->all, n));
    for (size_t r = 0; r < n; r++) {
        double target;
        SC_TRY(read_index(x->csv, r, col[0], d->path, x->nleft, &x->all.left[r]));
        SC_TRY(read_index(x->csv, r, col[1], right_file, right_count, &x->all.right[r]));
        SC_TRY(sc_csv_number(x->csv, r, col[2], &target));
        x->all.right[r] += (int32_t)offset;
        x->all.target[r] = (float)target;
    }
    return SC_OK;
}

/* The seeded split of the CSV's rows, by [data] group when set. */
static int split_rows(const sc_data_config *d, uint64_t seed, pairs_task *x) {
    int group = -1;
    size_t ngroups, n = x->all.n;
    if (*d->group) SC_TRY(sc_csv_column(x->csv, d->group, &group));
    if (!(x->split = malloc(n))) return sc_error(SC_ERR, "out of memory");
    SC_TRY(sc_group_split(x->csv, group, n, d->split, seed, x->split, x->count, &ngroups));
    if (!x->count[SC_SPLIT_TRAIN] || !x->count[SC_SPLIT_VAL])
        return sc_error(SC_EINPUT, "%s: %zu %s too few for [data] split = %d,%d,%d", d->pairs,
                        ngroups, group < 0 ? "rows are" : "groups are", d->split[0], d->split[1],
                        d->split[2]);
    return SC_OK;
}

/* The pairs of one split, in file order. */
static int split_pairs(const pairs_task *x, int split, sc_pairs *out) {
    return sc_pairs_select(&x->all, x->split, (uint8_t)split, out);
}

static double train_mean(const pairs_task *x) {
    double sum = 0;
    for (size_t r = 0; r < x->all.n; r++)
        if (x->split[r] == SC_SPLIT_TRAIN) sum += x->all.target[r];
    return sum / (double)x->count[SC_SPLIT_TRAIN];
}

/* Targets that are all 0 or 1 are judged by ROC-AUC, graded ones by Spearman. */
static int binary_targets(const sc_pairs *p) {
    for (size_t i = 0; i < p->n; i++)
        if (p->target[i] != 0.0f && p->target[i] != 1.0f) return 0;
    return 1;
}

static int open_pairs(sc_task *t, const char *data) {
    if (data) t->job->data.path = data;
    sc_job *job = t->job;
    const sc_data_config *d = &job->data;
    pairs_task *x = calloc(1, sizeof *x);
    if (!x) return sc_error(SC_ERR, "out of memory");
    t->state = x;
    SC_TRY(read_vectors(d, x));
    SC_TRY(sc_task_input_width(t, x->width, d->path));
    SC_TRY(read_pair_rows(d, x));
    SC_TRY(split_rows(d, job->train.seed, x));
    /* the constant baseline predicts the training targets' mean, kept in the checkpoint */
    if (isnan(job->target_mean)) job->target_mean = train_mean(x);
    SC_TRY(sc_inputs_dense(t->rt, x->rows, x->nleft + x->nright, x->width, &x->in));
    t->train = t->val.in = t->test.in = &x->in;
    SC_TRY(split_pairs(x, SC_SPLIT_VAL, &t->val.pairs));
    SC_TRY(split_pairs(x, SC_SPLIT_TEST, &t->test.pairs));
    SC_TRY(sc_pair_set_upload(t->rt, &t->val));
    SC_TRY(sc_pair_set_upload(t->rt, &t->test));
    t->epoch_size = x->count[SC_SPLIT_TRAIN];
    int binary = binary_targets(&x->all);
    t->quality_name = binary ? "AUC" : "Spearman";
    t->quality = binary ? sc_metric_auc : sc_metric_spearman;
    snprintf(t->summary, sizeof t->summary,
             "%s: %zu pairs of vectors of %zu values, %zu / %zu / %zu for training / validation "
             "/ test",
             d->pairs, x->all.n, x->width, x->count[0], x->count[1], x->count[2]);
    return SC_OK;
}

static void close_pairs(sc_task *t) {
    pairs_task *x = t->state;
    free(x->rows);
    sc_inputs_free(&x->in);
    sc_csv_free(x->csv);
    sc_pairs_free(&x->all);
    free(x->split);
    sc_pair_set_free(&t->val);
    sc_pair_set_free(&t->test);
    free(x);
    t->state = NULL;
}

/* The training pairs, shuffled anew each epoch. */
static int epoch_pairs(sc_task *t, int epoch, sc_pairs *out) {
    SC_TRY(split_pairs(t->state, SC_SPLIT_TRAIN, out));
    sc_pairs_shuffle(out, sc_task_draw_seed(t), STREAM_EPOCH + (uint64_t)epoch);
    return SC_OK;
}

/* Regression metrics on the test pairs beside the training targets' mean and the cosine of
 * the raw vectors. */
static int report_pairs(sc_task *t, const sc_ensemble *e, sc_report *out) {
    const pairs_task *x = t->state;
    const sc_pairs *tp = &t->test.pairs;
    memset(out, 0, sizeof *out);
    SC_TRY(sc_report_regression_test(out, e, t->test.in, tp, &t->test.dev, t->job->target_mean));
    snprintf(out->title, sizeof out->title, "test: %zu pairs", tp->n);
    float *s = malloc((tp->n ? tp->n : 1) * sizeof *s);
    if (!s) return sc_error(SC_ERR, "out of memory");
    sc_raw_cosine(x->rows, x->width, tp, s);
    sc_report_regression_row(out, "raw_cosine", s, tp->target, tp->n);
    free(s);
    return SC_OK;
}

/* split.csv: each data row of the pairs CSV with its split. */
static int write_pairs_files(const sc_task *t, const char *dir) {
    const pairs_task *x = t->state;
    char path[1100];
    sc_atomic_file f;
    snprintf(path, sizeof path, "%s/split.csv", dir);
    SC_TRY(sc_atomic_open(path, &f));
    fputs("row,split\n", f.file);
    for (size_t r = 0; r < x->all.n; r++)
        fprintf(f.file, "%zu,%s\n", r, sc_split_names[x->split[r]]);
    return sc_atomic_commit(&f);
}

static int by_pairs(const sc_job *job) {
    return *job->data.pairs != '\0';
}

/* The test pairs as a search: each query (a distinct left vector) ranks its pairs' right
 * vectors by the ensemble's scores. */
static int retrieval(sc_task *t, const sc_ensemble *e, double threshold, sc_report *out) {
    const pairs_task *x = t->state;
    const sc_pairs *tp = &t->test.pairs;
    uint32_t *group = malloc((tp->n ? tp->n : 1) * sizeof *group);
    uint32_t *id = malloc((x->nleft ? x->nleft : 1) * sizeof *id);
    int rc = group && id ? SC_OK : sc_error(SC_ERR, "out of memory");
    size_t groups = 0;
    for (size_t r = 0; rc == SC_OK && r < x->nleft; r++) id[r] = UINT32_MAX;
    for (size_t i = 0; rc == SC_OK && i < tp->n; i++) {
        uint32_t *g = &id[tp->left[i]];
        if (*g == UINT32_MAX) *g = (uint32_t)groups++;
        group[i] = *g;
    }
    if (rc == SC_OK)
        rc = sc_task_retrieval_report(t, e, group, groups, NULL, NULL, threshold,
                                      "the distinct left vectors", "target", out);
    free(group), free(id);
    return rc;
}

const sc_task_kind sc_task_vector_pairs = {
    .format = "npy",
    .serves = by_pairs,
    .searchable = 1,
    .open = open_pairs,
    .close = close_pairs,
    .epoch_pairs = epoch_pairs,
    .report = report_pairs,
    .write_files = write_pairs_files,
    .read_rows = sc_vectors_read_rows,
    .read_queries = sc_vectors_read_queries,
    .read_pairs = sc_vectors_read_pairs,
    .retrieval = retrieval,
};
