/* The vector task ([data] format = npy): the user's own feature vectors, a NumPy .npy file of
 * N x D float32 or float64 values, through the dense tower as images are. Pairs come from one
 * of two sources, chosen by which key the config sets:
 * - [data] labels: an integer label per row; pairs drawn by class as for images (the labelled
 *   core of task_labels.h), tested on [data] test or on a seeded share of the rows;
 * - [data] pairs: a CSV of left,right,target row indices (right ones into [data]
 *   right_vectors when set), split by group into training, validation and test rows as the
 *   text kind's. */
#include "task_labels.h"
#include "atomic_file.h"
#include "siamcl/evaluate.h"
#include "siamcl/metrics.h"
#include "siamcl/npy.h"
#include "siamcl/textdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* sc_split_holdout draws from one fixed stream of its seed, which the validation hold-out
 * uses; the test split of the rows takes a seed of its own, mixed from the job's. */
#define TEST_SPLIT_SEED_MIX 0x7e57ull

/* Each epoch's shuffle of the training pairs: the text kind's streams. */
enum { STREAM_EPOCH = 1000 };

static int by_pairs(const sc_task *t) {
    return *t->job->data.pairs != '\0';
}

/* A data file of vectors: at least one row of at least one value. */
static int read_matrix(const char *path, float **rows, size_t *n, size_t *width) {
    SC_TRY(sc_npy_read_matrix(path, rows, n, width));
    if (!*n || !*width)
        return sc_error(SC_EINPUT, "%s: no vectors (shape (%zu, %zu))", path, *n, *width);
    return SC_OK;
}

/* ---- pairs from class labels ---- */

/* Vectors and their labels as read from the files. */
typedef struct labelled_file {
    float *rows;
    size_t n, width;
    int64_t *labels;
} labelled_file;

static void labelled_file_free(labelled_file *f) {
    free(f->rows);
    free(f->labels);
    memset(f, 0, sizeof *f);
}

static int read_labelled(const char *vectors, const char *labels, labelled_file *f) {
    size_t nlabels;
    SC_TRY(read_matrix(vectors, &f->rows, &f->n, &f->width));
    SC_TRY(sc_npy_read_labels(labels, &f->labels, &nlabels));
    if (nlabels != f->n)
        return sc_error(SC_EINPUT, "%s: %zu labels, but %s holds %zu vectors", labels, nlabels,
                        vectors, f->n);
    return SC_OK;
}

static int compare_labels(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct values of a[0 .. n) and b[0 .. m), ascending: class k is the k-th value. */
static int distinct_labels(const int64_t *a, size_t n, const int64_t *b, size_t m, int64_t **values,
                           size_t *k) {
    int64_t *v = malloc((n + m ? n + m : 1) * sizeof *v);
    if (!v) return sc_error(SC_ERR, "out of memory");
    if (n) memcpy(v, a, n * sizeof *v);
    if (m) memcpy(v + n, b, m * sizeof *v);
    qsort(v, n + m, sizeof *v, compare_labels);
    size_t j = 0;
    for (size_t i = 0; i < n + m; i++)
        if (!j || v[i] != v[j - 1]) v[j++] = v[i];
    *values = v;
    *k = j;
    return SC_OK;
}

/* Class numbers of both files' labels; the pair draws take a byte per label. */
static int class_values(const sc_data_config *d, const labelled_file *train,
                        const labelled_file *test, int64_t **values, size_t *k) {
    SC_TRY(distinct_labels(train->labels, train->n, NULL, 0, values, k));
    if (*k > 256)
        return sc_error(SC_EINPUT, "%s: %zu distinct labels, but at most 256 classes are supported",
                        d->labels, *k);
    if (!test->n) return SC_OK;
    free(*values);
    SC_TRY(distinct_labels(train->labels, train->n, test->labels, test->n, values, k));
    if (*k > 256)
        return sc_error(SC_EINPUT,
                        "%s: %zu distinct labels with the training labels, but at most 256 "
                        "classes are supported",
                        d->test_labels, *k);
    return SC_OK;
}

/* Set s gets rows idx[0 .. m) of f (all of them, moved, when idx is NULL) with their classes. */
static int gather_set(labelled_file *f, const uint32_t *idx, size_t m, const int64_t *values,
                      size_t k, sc_labelled_set *s) {
    s->n = m;
    s->width = f->width;
    s->labels = malloc(m ? m : 1);
    if (!idx) {
        s->rows = f->rows;
        f->rows = NULL;
    } else {
        s->rows = malloc((m ? m : 1) * f->width * sizeof *s->rows);
    }
    if (!s->labels || !s->rows) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < m; i++) {
        size_t r = idx ? idx[i] : i;
        const int64_t *c = bsearch(&f->labels[r], values, k, sizeof *values, compare_labels);
        s->labels[i] = (uint8_t)(c - values);
        if (idx) memcpy(s->rows + i * f->width, f->rows + r * f->width, f->width * sizeof *s->rows);
    }
    return SC_OK;
}

/* The rows of [data] path that [data] test_fraction holds out for test (when there is no
 * test file), and the rest; both lists sorted. */
static int test_split(const sc_job *job, size_t n, uint32_t **kept, size_t *nkept, uint32_t **held,
                      size_t *nheld) {
    const sc_data_config *d = &job->data;
    SC_TRY(sc_split_holdout(n, d->test_fraction, job->train.seed ^ TEST_SPLIT_SEED_MIX, kept, nkept,
                            held, nheld));
    if (!*nheld || !*nkept)
        return sc_error(SC_EINPUT, "%s: [data] test_fraction = %g leaves no %s row of %zu", d->path,
                        d->test_fraction, *nheld ? "training" : "test", n);
    return SC_OK;
}

/* L's training and test sets: the two files, or the rows of one split in two. */
static int fill_sets(const sc_job *job, sc_labelled *L, labelled_file *train, labelled_file *test) {
    int64_t *values = NULL;
    uint32_t *kept = NULL, *held = NULL;
    size_t k = 0, nkept, nheld;
    int rc = class_values(&job->data, train, test, &values, &k);
    if (rc == SC_OK && test->n) {
        rc = gather_set(train, NULL, train->n, values, k, &L->train);
        if (rc == SC_OK) rc = gather_set(test, NULL, test->n, values, k, &L->test);
    } else if (rc == SC_OK) {
        rc = test_split(job, train->n, &kept, &nkept, &held, &nheld);
        if (rc == SC_OK) rc = gather_set(train, kept, nkept, values, k, &L->train);
        if (rc == SC_OK) rc = gather_set(train, held, nheld, values, k, &L->test);
    }
    free(values);
    free(kept);
    free(held);
    return rc;
}

static int open_labelled(sc_task *t) {
    const sc_data_config *d = &t->job->data;
    sc_labelled *L = calloc(1, sizeof *L);
    if (!L) return sc_error(SC_ERR, "out of memory");
    t->state = L;
    L->what = "vectors";
    labelled_file train = {0}, test = {0};
    int rc = read_labelled(d->path, d->labels, &train);
    if (rc == SC_OK && *d->test) rc = read_labelled(d->test, d->test_labels, &test);
    if (rc == SC_OK && *d->test && test.width != train.width)
        rc = sc_error(SC_EINPUT, "%s: vectors of %zu values, but %s holds vectors of %zu", d->test,
                      test.width, d->path, train.width);
    if (rc == SC_OK) rc = fill_sets(t->job, L, &train, &test);
    labelled_file_free(&train);
    labelled_file_free(&test);
    SC_TRY(rc);
    SC_TRY(sc_labelled_open(t, L, d->path, d->validation));
    snprintf(t->summary, sizeof t->summary,
             "%s: vectors of %zu values; %zu / %zu / %zu for training / validation / test (%s)",
             d->path, L->train.width, L->nanchors, L->nheld, L->test.n,
             *d->test ? d->test : "held out by [data] test_fraction");
    return SC_OK;
}

/* split.csv: each row of [data] path with its split (test only when held out of path). */
static int write_labelled_split(const sc_task *t, const char *path) {
    const sc_labelled *L = t->state;
    const sc_data_config *d = &t->job->data;
    size_t n = L->train.n + (*d->test ? 0 : L->test.n), nkept = n, nheld = 0;
    uint32_t *kept = NULL, *held = NULL;
    uint8_t *split = malloc(n ? n : 1);
    int rc = split ? SC_OK : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK && !*d->test) rc = test_split(t->job, n, &kept, &nkept, &held, &nheld);
    for (size_t i = 0; rc == SC_OK && i < nkept; i++) split[kept ? kept[i] : i] = SC_SPLIT_TRAIN;
    for (size_t i = 0; rc == SC_OK && i < nheld; i++) split[held[i]] = SC_SPLIT_TEST;
    for (size_t i = 0; rc == SC_OK && i < L->nheld; i++)
        split[kept ? kept[L->held[i]] : L->held[i]] = SC_SPLIT_VAL;
    sc_atomic_file f;
    if (rc == SC_OK) rc = sc_atomic_open(path, &f);
    if (rc == SC_OK) {
        fputs("row,split\n", f.file);
        for (size_t r = 0; r < n; r++) fprintf(f.file, "%zu,%s\n", r, sc_split_names[split[r]]);
        rc = sc_atomic_commit(&f);
    }
    free(split);
    free(kept);
    free(held);
    return rc;
}

static int write_labelled_files(const sc_task *t, const char *dir) {
    char path[1100];
    snprintf(path, sizeof path, "%s/split.csv", dir);
    SC_TRY(sc_labelled_write_files(t, dir));
    return write_labelled_split(t, path);
}

/* ---- pairs from a CSV of row indices ---- */

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
    SC_TRY(read_matrix(d->path, &x->rows, &x->nleft, &x->width));
    if (!*d->right_vectors) return SC_OK;
    SC_TRY(read_matrix(d->right_vectors, &right, &x->nright, &width));
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
    x->all.left = malloc(n * sizeof *x->all.left);
    x->all.right = malloc(n * sizeof *x->all.right);
    x->all.target = malloc(n * sizeof *x->all.target);
    if (!x->all.left || !x->all.right || !x->all.target) return sc_error(SC_ERR, "out of memory");
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
    size_t n = x->count[split], k = 0;
    memset(out, 0, sizeof *out);
    out->left = malloc((n ? n : 1) * sizeof *out->left);
    out->right = malloc((n ? n : 1) * sizeof *out->right);
    out->target = malloc((n ? n : 1) * sizeof *out->target);
    if (!out->left || !out->right || !out->target) {
        sc_pairs_free(out);
        return sc_error(SC_ERR, "out of memory");
    }
    for (size_t r = 0; r < x->all.n; r++) {
        if (x->split[r] != split) continue;
        out->left[k] = x->all.left[r];
        out->right[k] = x->all.right[r];
        out->target[k++] = x->all.target[r];
    }
    out->n = k;
    return SC_OK;
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

static int open_pairs(sc_task *t) {
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
static int epoch_pairs_of_csv(sc_task *t, int epoch, sc_pairs *out) {
    SC_TRY(split_pairs(t->state, SC_SPLIT_TRAIN, out));
    sc_pairs_shuffle(out, t->job->train.seed, STREAM_EPOCH + (uint64_t)epoch);
    return SC_OK;
}

/* Regression metrics on the test pairs beside the training targets' mean and the cosine of
 * the raw vectors. */
static int report_pairs(sc_task *t, sc_model *m, sc_report *out) {
    const pairs_task *x = t->state;
    const sc_pairs *tp = &t->test.pairs;
    float *s = malloc((tp->n ? tp->n : 1) * sizeof *s);
    double loss;
    memset(out, 0, sizeof *out);
    int rc = s ? SC_OK : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_score_pairs(m, t->test.in, &t->test.dev, s, &loss);
    if (rc == SC_OK) {
        snprintf(out->title, sizeof out->title, "test: %zu pairs", tp->n);
        sc_report_regression_columns(out);
        sc_report_regression_row(out, "siamcl", s, tp->target, tp->n);
        for (size_t i = 0; i < tp->n; i++) s[i] = (float)t->job->target_mean;
        sc_report_regression_row(out, "constant_mean", s, tp->target, tp->n);
        sc_raw_cosine(x->rows, x->width, tp, s);
        sc_report_regression_row(out, "raw_cosine", s, tp->target, tp->n);
    }
    free(s);
    return rc;
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

/* ---- the kind's operations ---- */

/* data (eval --data) names other vectors than the config's [data] path. */
static int open_vectors(sc_task *t, const char *data) {
    if (data) t->job->data.path = data;
    return by_pairs(t) ? open_pairs(t) : open_labelled(t);
}

static void close_vectors(sc_task *t) {
    if (by_pairs(t))
        close_pairs(t);
    else
        sc_labelled_close(t);
}

static int epoch_pairs(sc_task *t, int epoch, sc_pairs *out) {
    return by_pairs(t) ? epoch_pairs_of_csv(t, epoch, out) : sc_labelled_epoch_pairs(t, epoch, out);
}

static int report(sc_task *t, sc_model *m, sc_report *out) {
    return by_pairs(t) ? report_pairs(t, m, out) : sc_labelled_report(t, m, out);
}

static int write_files(const sc_task *t, const char *dir) {
    return by_pairs(t) ? write_pairs_files(t, dir) : write_labelled_files(t, dir);
}

/* A .npy of vectors as wide as the model's input (rows: a new array). */
static int read_model_rows(const sc_job *job, const char *path, float **rows, size_t *n) {
    size_t width;
    SC_TRY(sc_npy_read_matrix(path, rows, n, &width));
    if (width == (size_t)job->model.input) return SC_OK;
    free(*rows);
    *rows = NULL;
    return sc_error(SC_EINPUT, "%s: vectors of %zu values, but the model takes %d", path, width,
                    job->model.input);
}

/* The vectors of a .npy file, named by row number (embed, search's catalog, score). */
static int load_rows(sc_runtime *rt, const sc_job *job, const char *path, sc_user_rows *out) {
    float *rows;
    size_t n;
    SC_TRY(read_model_rows(job, path, &rows, &n));
    int rc = sc_inputs_dense(rt, rows, n, (size_t)job->model.input, &out->in);
    if (rc == SC_OK) rc = sc_row_number_names(out, n);
    free(rows);
    return rc;
}

static int read_rows(sc_runtime *rt, const sc_job *job, const char *path, const sc_read_options *o,
                     sc_user_rows *out) {
    if (o->column || o->encoding)
        return sc_error(SC_EINPUT, "--column and --encoding are for text models");
    return load_rows(rt, job, path, out);
}

/* Names "FILE:ROW" for the rows of the query files, count[i] rows from args[i]. */
static int query_names(const char *const *args, int n, const size_t *count, size_t total,
                       sc_user_rows *out) {
    size_t len = 0, at = 0, k = 0;
    for (int i = 0; i < n; i++) len += count[i] * (strlen(args[i]) + 22);
    out->names = malloc((total ? total : 1) * sizeof *out->names);
    out->name_text = malloc(len ? len : 1);
    if (!out->names || !out->name_text) return sc_error(SC_ERR, "out of memory");
    for (int i = 0; i < n; i++)
        for (size_t r = 0; r < count[i]; r++) {
            out->names[k++] = out->name_text + at;
            at += (size_t)snprintf(out->name_text + at, len - at, "%s:%zu", args[i], r) + 1;
        }
    return SC_OK;
}

/* Each QUERY argument is a .npy file whose every row is a query. */
static int read_queries(sc_runtime *rt, const sc_job *job, const char *const *args, int n,
                        sc_user_rows *out) {
    size_t width = (size_t)job->model.input, total = 0;
    size_t *count = calloc(n > 0 ? (size_t)n : 1, sizeof *count);
    float *all = NULL;
    int rc = count ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (int i = 0; rc == SC_OK && i < n; i++) {
        float *rows = NULL, *grown = NULL;
        rc = read_model_rows(job, args[i], &rows, &count[i]);
        size_t size = (total + count[i]) * width;
        if (rc == SC_OK && !(grown = realloc(all, (size ? size : 1) * sizeof *all)))
            rc = sc_error(SC_ERR, "out of memory");
        if (rc == SC_OK) {
            all = grown;
            if (count[i]) memcpy(all + total * width, rows, count[i] * width * sizeof *all);
            total += count[i];
        }
        free(rows);
    }
    if (rc == SC_OK) rc = query_names(args, n, count, total, out);
    if (rc == SC_OK) rc = sc_inputs_dense(rt, all, total, width, &out->in);
    free(all);
    free(count);
    return rc;
}

/* score: PAIRS.csv's left and right columns index the rows of --vectors. */
static int read_pairs(sc_runtime *rt, const sc_job *job, const sc_csv *table,
                      const sc_read_options *o, sc_user_rows *rows, sc_pairs *out) {
    if (!o->rows) return sc_error(SC_EINPUT, "score: a vector model needs --vectors FILE.npy");
    SC_TRY(load_rows(rt, job, o->rows, rows));
    return sc_read_index_pairs(table, rows->in.n, "a row index", out);
}

const sc_task_kind sc_task_vectors = {
    .format = "npy",
    .searchable = 1,
    .open = open_vectors,
    .close = close_vectors,
    .epoch_pairs = epoch_pairs,
    .report = report,
    .write_files = write_files,
    .read_rows = read_rows,
    .read_queries = read_queries,
    .read_pairs = read_pairs,
};
