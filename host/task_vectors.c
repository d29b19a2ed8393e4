/* The vector task with class labels ([data] format = npy, [data] labels): the user's own
 * feature vectors, a NumPy .npy of N x D float32 or float64 values, through the dense tower as
 * images are, paired by class as images are (the labelled core of task_labels.h), tested on
 * [data] test or on a seeded share of the rows. task_vector_pairs.c serves [data] pairs. */
#include "task_vectors.h"
#include "atomic_file.h"
#include "siamcl/npy.h"
#include "siamcl/textdata.h"
#include "task_labels.h"

#include <stdlib.h>
#include <string.h>

/* sc_split_holdout draws from one fixed stream of its seed, which the validation hold-out
 * uses; the test split of the rows takes a seed of its own, mixed from the job's. */
#define TEST_SPLIT_SEED_MIX 0x7e57ull

/* A data file of vectors: at least one row of at least one value. */
int sc_vectors_read_matrix(const char *path, float **rows, size_t *n, size_t *width) {
    SC_TRY(sc_npy_read_matrix(path, rows, n, width));
    if (!*n || !*width)
        return sc_error(SC_EINPUT, "%s: no vectors (shape (%zu, %zu))", path, *n, *width);
    return SC_OK;
}

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
    SC_TRY(sc_vectors_read_matrix(vectors, &f->rows, &f->n, &f->width));
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

/* data (eval --data) names other vectors than the config's [data] path. */
static int open_vectors(sc_task *t, const char *data) {
    if (data) t->job->data.path = data;
    return open_labelled(t);
}

static int by_labels(const sc_job *job) {
    return *job->data.labels != '\0';
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

int sc_vectors_read_rows(sc_runtime *rt, const sc_job *job, const char *path,
                         const sc_read_options *o, sc_user_rows *out) {
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
int sc_vectors_read_queries(sc_runtime *rt, const sc_job *job, const char *const *args, int n,
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
int sc_vectors_read_pairs(sc_runtime *rt, const sc_job *job, const sc_csv *table,
                          const sc_read_options *o, sc_user_rows *rows, sc_pairs *out) {
    if (!o->rows) return sc_error(SC_EINPUT, "score: a vector model needs --vectors FILE.npy");
    SC_TRY(load_rows(rt, job, o->rows, rows));
    return sc_read_index_pairs(table, rows->in.n, "a row index", out);
}

const sc_task_kind sc_task_vectors = {
    .format = "npy",
    .serves = by_labels,
    .searchable = 1,
    .open = open_vectors,
    .close = sc_labelled_close,
    .epoch_pairs = sc_labelled_epoch_pairs,
    .report = sc_labelled_report,
    .write_files = write_labelled_files,
    .read_rows = sc_vectors_read_rows,
    .read_queries = sc_vectors_read_queries,
    .read_pairs = sc_vectors_read_pairs,
};
