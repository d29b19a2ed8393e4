/* The vector task ([data] format = npy) on fixtures it writes itself: pairs from class labels
 * (labels mapped to classes, a test file or a seeded test split, the hold-out and pair counts,
 * epoch pairs fixed by the seed) and from a CSV of pairs (split counts, groups kept whole,
 * right_vectors' rows after the vectors'), and the messages for bad files and keys. */
#include "harness.h"

#include "siamcl/npy.h"
#include "siamcl/textdata.h"
#include "task_labels.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/siamcl_test_vectors_XXXXXX";

/* <dir>/<name>; the last eight results stay valid. */
static const char *at(const char *name) {
    static char bufs[8][320];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, sizeof bufs[0], "%s/%s", dir, name);
    return p;
}

/* n x width vectors: column 0 is first plus the row number plus 1 (so that a row can be
 * traced), the others small values that differ by row. */
static void write_vectors_from(const char *name, size_t n, size_t width, size_t first) {
    float *x = malloc(n * width * sizeof *x);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < width; c++)
            x[i * width + c] = c ? (float)((i * 7 + c * 3) % 11) / 10.0f : (float)(first + i + 1);
    if (sc_npy_write(at(name), x, n, width) != SC_OK) {
        fprintf(stderr, "%s\n", sc_last_error());
        exit(1);
    }
    free(x);
}

static void write_vectors(const char *name, size_t n, size_t width) {
    write_vectors_from(name, n, width, 0);
}

/* n labels as an int64 .npy (version 1.0, little-endian). */
static void write_labels(const char *name, const int64_t *v, size_t n) {
    char dict[128];
    unsigned char *b = malloc(128 + 8 * n);
    snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%zu,), }", n);
    size_t len = 118; /* 10 + 118: the data starts at byte 128 */
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)len, b[9] = 0;
    memset(b + 10, ' ', len);
    memcpy(b + 10, dict, strlen(dict));
    b[10 + len - 1] = '\n';
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++) b[128 + 8 * i + k] = (unsigned char)((uint64_t)v[i] >> 8 * k);
    test_write_bytes(at(name), b, 128 + 8 * n);
    free(b);
}

static void write_text(const char *name, const char *text) {
    test_write_bytes(at(name), text, strlen(text));
}

/* Labels cycling through values[0 .. k), n of them. */
static void write_cycle(const char *name, size_t n, const int64_t *values, size_t k) {
    int64_t *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = values[i % k];
    write_labels(name, v, n);
    free(v);
}

/* A pairs CSV of n rows: left r % nleft, right (7 r) % nright, target (r % 5) / 4 (graded) or
 * r % 2 (binary), group r % 20. */
static void write_pairs(const char *name, size_t n, size_t nleft, size_t nright, int binary) {
    size_t cap = 64 + 40 * n, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s, cap, "left,right,target,group\n");
    for (size_t r = 0; r < n; r++)
        len += (size_t)snprintf(s + len, cap - len, "%zu,%zu,%g,g%zu\n", r % nleft,
                                (7 * r) % nright, binary ? (double)(r % 2) : (r % 5) / 4.0, r % 20);
    write_text(name, s);
    free(s);
}

static const int64_t train_values[] = {40, -2, 7};    /* classes 2, 0, 1 */
static const int64_t test_values[] = {7, 40, -2, 99}; /* 99: class 3, unseen in training */

static void write_fixtures(void) {
    CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    write_vectors("v100.npy", 100, 4);
    write_cycle("l100.npy", 100, train_values, 3);
    write_cycle("l90.npy", 90, train_values, 3);
    write_vectors("t20.npy", 20, 4);
    write_cycle("tl20.npy", 20, test_values, 4);
    write_vectors("w20.npy", 20, 3);
    write_vectors("q3.npy", 3, 4);
    write_vectors("p40.npy", 40, 4);
    write_vectors_from("r12.npy", 12, 4, 100);
    write_vectors("r12w.npy", 12, 5);
    write_pairs("graded.csv", 100, 40, 40, 0);
    write_pairs("binary.csv", 100, 40, 40, 1);
    write_pairs("right.csv", 60, 40, 12, 1);
}

/* A job read from INI text, its task opened or not. */
typedef struct opened {
    sc_config *cfg;
    sc_job job;
    sc_task t;
} opened;

static int open_text(opened *o, const char *ini, int open_task) {
    memset(o, 0, sizeof *o);
    SC_TRY(sc_config_parse(ini, "test.ini", &o->cfg));
    SC_TRY(sc_job_read(o->cfg, &o->job));
    return open_task ? sc_task_open(test_runtime(), &o->job, NULL, &o->t) : SC_OK;
}

static void close_job(opened *o) {
    sc_task_close(&o->t);
    sc_config_free(o->cfg);
    memset(o, 0, sizeof *o);
}

/* [data] format = npy and the lines fmt gives (a later section may follow them), a small
 * model; the job read, and its task opened when open_task. */
static int job_of(opened *o, int open_task, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int job_of(opened *o, int open_task, const char *fmt, ...) {
    char data[2048], ini[2400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    snprintf(ini, sizeof ini, "[data]\nformat = npy\n%s\n[model]\nlayers = 8,4\n", data);
    return open_text(o, ini, open_task);
}

/* Labels with the test file; extra: more lines. */
static int open_labels(opened *o, const char *extra) {
    return job_of(o, 1, "path = %s\nlabels = %s\ntest = %s\ntest_labels = %s\n%s", at("v100.npy"),
                  at("l100.npy"), at("t20.npy"), at("tl20.npy"), extra);
}

/* The graded pairs CSV over p40.npy; extra: more lines. */
static int open_pairs(opened *o, const char *csv, const char *extra) {
    return job_of(o, 1, "path = %s\npairs = %s\n%s", at("p40.npy"), at(csv), extra);
}

static int same_pairs(const sc_pairs *a, const sc_pairs *b) {
    return a->n == b->n && !memcmp(a->left, b->left, a->n * sizeof *a->left) &&
           !memcmp(a->right, b->right, a->n * sizeof *a->right) &&
           !memcmp(a->target, b->target, a->n * sizeof *a->target);
}

/* The row number a vector of the fixtures carries in column 0. */
static size_t row_of(const sc_labelled_set *s, size_t i) {
    return (size_t)s->rows[i * s->width] - 1;
}

/* ---- pairs from class labels ---- */

static void labels_with_a_test_file(void) {
    opened o;
    int rc = open_labels(&o, "");
    const sc_labelled *L = o.t.state;
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    int mapped = 1;
    for (size_t i = 0; i < 100; i++) mapped &= L->train.labels[i] == (uint8_t[]){2, 0, 1}[i % 3];
    for (size_t i = 0; i < 20; i++) mapped &= L->test.labels[i] == (uint8_t[]){1, 2, 0, 3}[i % 4];
    size_t ntrain = L->train.n, ntest = L->test.n, held = L->nheld, anchors = L->nanchors;
    size_t epoch = o.t.epoch_size, val = o.t.val.pairs.n, test = o.t.test.pairs.n;
    int input = o.job.model.input, auc = !strcmp(o.t.quality_name, "AUC");
    close_job(&o);
    CHECK(mapped, "labels -2, 7, 40 (99 in the test file only) are classes 0, 1, 2 (3)");
    CHECK(ntrain == 100 && ntest == 20, "%zu training and %zu test vectors", ntrain, ntest);
    CHECK(held == 10 && anchors == 90, "validation 0.1 holds out %zu of 100", held);
    CHECK(epoch == 180 && val == 20 && test == 40, "pairs: %zu per epoch, %zu, %zu", epoch, val,
          test);
    CHECK(input == 4 && auc, "[model] input %d", input);
}

static void labels_epoch_pairs_follow_the_seed(void) {
    opened a, b, c;
    sc_pairs a1 = {0}, a1again = {0}, a2 = {0}, b1 = {0}, c1 = {0};
    int rc = open_labels(&a, "[train]\nseed = 5\n");
    if (rc == SC_OK) rc = open_labels(&b, "[train]\nseed = 5\n");
    if (rc == SC_OK) rc = open_labels(&c, "[train]\nseed = 6\n");
    if (rc == SC_OK) rc = a.t.kind->epoch_pairs(&a.t, 1, &a1);
    if (rc == SC_OK) rc = a.t.kind->epoch_pairs(&a.t, 1, &a1again);
    if (rc == SC_OK) rc = a.t.kind->epoch_pairs(&a.t, 2, &a2);
    if (rc == SC_OK) rc = b.t.kind->epoch_pairs(&b.t, 1, &b1);
    if (rc == SC_OK) rc = c.t.kind->epoch_pairs(&c.t, 1, &c1);
    int same = same_pairs(&a1, &a1again) && same_pairs(&a1, &b1);
    int differ = !same_pairs(&a1, &a2) && !same_pairs(&a1, &c1);
    size_t n = a1.n;
    sc_pairs_free(&a1), sc_pairs_free(&a1again), sc_pairs_free(&a2), sc_pairs_free(&b1),
        sc_pairs_free(&c1);
    close_job(&a), close_job(&b), close_job(&c);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    CHECK(n == 180 && same, "one seed, one epoch: the same pairs");
    CHECK(differ, "another epoch or another seed: other pairs");
}

/* Without a test file, test_fraction of the rows are the test set, chosen by the seed, and
 * split.csv says which. */
static void labels_test_split_of_the_rows(void) {
    opened o, other;
    const char *data = "path = %s\nlabels = %s\ntest_fraction = 0.25\n[train]\nseed = %d\n";
    int rc = job_of(&o, 1, data, at("v100.npy"), at("l100.npy"), 3);
    if (rc == SC_OK) rc = job_of(&other, 1, data, at("v100.npy"), at("l100.npy"), 4);
    if (rc == SC_OK) rc = o.t.kind->write_files(&o.t, dir);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    const sc_labelled *L = o.t.state, *M = other.t.state;
    int seen[100] = {0}, test_row[100] = {0}, differ = 0, whole = 1;
    for (size_t i = 0; i < L->train.n; i++) seen[row_of(&L->train, i)]++;
    for (size_t i = 0; i < L->test.n; i++)
        seen[row_of(&L->test, i)]++, test_row[row_of(&L->test, i)] = 1;
    for (size_t i = 0; i < 100; i++) whole &= seen[i] == 1;
    for (size_t i = 0; i < M->test.n; i++) differ |= !test_row[row_of(&M->test, i)];
    /* a row's label goes with it: class (row + 2) % 3 as the cycle 40, -2, 7 maps */
    for (size_t i = 0; i < L->test.n; i++)
        whole &= L->test.labels[i] == (uint8_t[]){2, 0, 1}[row_of(&L->test, i) % 3];
    size_t ntrain = L->train.n, ntest = L->test.n, held = L->nheld;
    close_job(&o), close_job(&other);
    CHECK(ntrain == 75 && ntest == 25 && held == 8, "%zu / %zu / %zu", ntrain, held, ntest);
    CHECK(whole, "every row once, in the training or the test set, with its label");
    CHECK(differ, "another seed holds out other rows");
    sc_csv *csv = NULL;
    int col = 0, counts[3] = {0}, agree = 1;
    CHECK_OK(sc_csv_read(at("split.csv"), SC_UTF8, &csv));
    rc = sc_csv_column(csv, "split", &col);
    for (size_t r = 0; rc == SC_OK && r < sc_csv_rows(csv); r++) {
        const char *s = sc_csv_field(csv, r, col);
        int k = !strcmp(s, "train") ? 0 : !strcmp(s, "validation") ? 1 : 2;
        counts[k]++;
        agree &= (k == 2) == test_row[r];
    }
    size_t rows = sc_csv_rows(csv);
    sc_csv_free(csv);
    unlink(at("split.csv")), unlink(at("val_pairs.csv")), unlink(at("test_pairs.csv"));
    CHECK(rc == SC_OK && rows == 100, "split.csv: %zu rows", rows);
    CHECK(counts[0] == 67 && counts[1] == 8 && counts[2] == 25 && agree,
          "split.csv: %d / %d / %d, test rows as the test set's", counts[0], counts[1], counts[2]);
}

/* Labels whose values the pair draws cannot hold in a byte: 256 classes at most. */
static void labels_at_most_256_classes(void) {
    int64_t v[257];
    for (int i = 0; i < 257; i++) v[i] = 1000 * i - 5000;
    write_vectors("v256.npy", 256, 2);
    write_labels("l256.npy", v, 256);
    write_vectors("v257.npy", 257, 2);
    write_labels("l257.npy", v, 257);
    opened o;
    const char *data = "path = %s\nlabels = %s\ntest_fraction = 0.5\n";
    int ok = job_of(&o, 1, data, at("v256.npy"), at("l256.npy")) == SC_OK;
    close_job(&o);
    int rc = job_of(&o, 1, data, at("v257.npy"), at("l257.npy"));
    close_job(&o);
    CHECK(ok, "256 classes -> %s", sc_last_error());
    CHECK(rc == SC_EINPUT && test_error_has("l257.npy: 257 distinct labels") &&
              test_error_has("at most 256 classes"),
          "-> %s", sc_last_error());
}

static void labels_bad_files(void) {
    opened o;
    int rc = job_of(&o, 1, "path = %s\nlabels = %s\n", at("v100.npy"), at("l90.npy"));
    close_job(&o);
    CHECK(rc == SC_EINPUT && test_error_has("l90.npy: 90 labels, but ") &&
              test_error_has("v100.npy holds 100 vectors"),
          "-> %s", sc_last_error());
    rc = job_of(&o, 1, "path = %s\nlabels = %s\ntest = %s\ntest_labels = %s\n", at("v100.npy"),
                at("l100.npy"), at("w20.npy"), at("tl20.npy"));
    close_job(&o);
    CHECK(rc == SC_EINPUT && test_error_has("w20.npy: vectors of 3 values, but ") &&
              test_error_has("v100.npy holds vectors of 4"),
          "-> %s", sc_last_error());
    rc = job_of(&o, 1, "path = %s\nlabels = %s\n", at("v100.npy"), at("v100.npy"));
    close_job(&o);
    CHECK(rc == SC_EINPUT && test_error_has("v100.npy: dtype '<f4' is not an integer type"),
          "-> %s", sc_last_error());
}

/* ---- pairs from a CSV ---- */

static void pairs_counts_per_split(void) {
    opened o;
    sc_pairs e = {0};
    int rc = open_pairs(&o, "graded.csv", "");
    if (rc == SC_OK) rc = o.t.kind->epoch_pairs(&o.t, 1, &e);
    double sum = 0;
    for (size_t i = 0; i < e.n; i++) sum += e.target[i];
    size_t epoch = o.t.epoch_size, val = o.t.val.pairs.n, test = o.t.test.pairs.n, n = e.n;
    double mean = o.job.target_mean;
    int spearman = rc == SC_OK && !strcmp(o.t.quality_name, "Spearman");
    int input = o.job.model.input;
    sc_pairs_free(&e);
    close_job(&o);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    CHECK(epoch == 70 && n == 70 && val == 10 && test == 20, "70,10,20: %zu / %zu / %zu", epoch,
          val, test);
    CHECK(spearman && input == 4, "graded targets: Spearman");
    CHECK(mean == sum / 70, "target_mean %g: the training targets' %g", mean, sum / 70);
    rc = open_pairs(&o, "binary.csv", "split = 80,20,0\n");
    int auc = rc == SC_OK && !strcmp(o.t.quality_name, "AUC");
    epoch = o.t.epoch_size, val = o.t.val.pairs.n, test = o.t.test.pairs.n;
    close_job(&o);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    CHECK(auc && epoch == 80 && val == 20 && test == 0, "0/1 targets: AUC; 80 / 20 / 0");
}

static void pairs_epochs_follow_the_seed(void) {
    opened a, b;
    sc_pairs a1 = {0}, a1again = {0}, a2 = {0}, b1 = {0};
    int rc = open_pairs(&a, "graded.csv", "[train]\nseed = 9\n");
    if (rc == SC_OK) rc = open_pairs(&b, "graded.csv", "[train]\nseed = 9\n");
    if (rc == SC_OK) rc = a.t.kind->epoch_pairs(&a.t, 1, &a1);
    if (rc == SC_OK) rc = a.t.kind->epoch_pairs(&a.t, 1, &a1again);
    if (rc == SC_OK) rc = a.t.kind->epoch_pairs(&a.t, 2, &a2);
    if (rc == SC_OK) rc = b.t.kind->epoch_pairs(&b.t, 1, &b1);
    /* an epoch is the training pairs reordered: the same sums */
    long s1 = 0, s2 = 0;
    for (size_t i = 0; i < a1.n; i++) s1 += a1.left[i] * 41 + a1.right[i];
    for (size_t i = 0; i < a2.n; i++) s2 += a2.left[i] * 41 + a2.right[i];
    int same = same_pairs(&a1, &a1again) && same_pairs(&a1, &b1);
    int reordered = a1.n == a2.n && s1 == s2 && !same_pairs(&a1, &a2);
    sc_pairs_free(&a1), sc_pairs_free(&a1again), sc_pairs_free(&a2), sc_pairs_free(&b1);
    close_job(&a), close_job(&b);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    CHECK(same, "one seed, one epoch: one order");
    CHECK(reordered, "epoch 2: the same pairs in another order");
}

/* group = group: the CSV's 20 groups of 5 rows are dealt out whole, 14 / 2 / 4. */
static void pairs_group_split_keeps_groups(void) {
    opened o;
    int rc = open_pairs(&o, "graded.csv", "group = group\nsplit = 70,10,20\n");
    if (rc == SC_OK) rc = o.t.kind->write_files(&o.t, dir);
    size_t val = o.t.val.pairs.n, test = o.t.test.pairs.n;
    close_job(&o);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    CHECK(val == 10 && test == 20, "2 and 4 groups of 5 rows: %zu, %zu", val, test);
    sc_csv *csv = NULL;
    int col = 0, whole = 1;
    CHECK_OK(sc_csv_read(at("split.csv"), SC_UTF8, &csv));
    rc = sc_csv_column(csv, "split", &col);
    size_t rows = sc_csv_rows(csv);
    for (size_t r = 0; rc == SC_OK && r < rows; r++)
        whole &= !strcmp(sc_csv_field(csv, r, col), sc_csv_field(csv, r % 20, col));
    int header = rc == SC_OK && sc_csv_columns(csv) == 2 && !strcmp(sc_csv_name(csv, 0), "row");
    sc_csv_free(csv);
    unlink(at("split.csv"));
    CHECK(header && rows == 100, "split.csv: row,split for each of 100 rows");
    CHECK(whole, "the rows of a group share a split");
}

/* right_vectors: right indices point into its rows, which follow the vectors' 40. */
static void pairs_right_vectors_follow_the_vectors(void) {
    opened o;
    sc_pairs e = {0};
    float row[4] = {0};
    int rc = job_of(&o, 1, "path = %s\npairs = %s\nright_vectors = %s\n", at("p40.npy"),
                    at("right.csv"), at("r12.npy"));
    if (rc == SC_OK) rc = o.t.kind->epoch_pairs(&o.t, 1, &e);
    if (rc == SC_OK) rc = sc_download(test_runtime(), row, (sc_view){o.t.train->dense, 40 * 4}, 4);
    int inside = rc == SC_OK;
    const sc_pairs *sets[] = {&e, rc == SC_OK ? &o.t.val.pairs : &e,
                              rc == SC_OK ? &o.t.test.pairs : &e};
    size_t total = 0;
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < sets[k]->n; i++)
            inside &= sets[k]->left[i] < 40 && sets[k]->right[i] >= 40 && sets[k]->right[i] < 52;
        total += sets[k]->n;
    }
    /* CSV row 1: left 1, right 7 */
    int found = 0;
    for (size_t i = 0; i < e.n; i++) found |= e.left[i] == 1 && e.right[i] == 40 + 7;
    for (size_t i = 0; i < o.t.val.pairs.n; i++)
        found |= o.t.val.pairs.left[i] == 1 && o.t.val.pairs.right[i] == 47;
    for (size_t i = 0; i < o.t.test.pairs.n; i++)
        found |= o.t.test.pairs.left[i] == 1 && o.t.test.pairs.right[i] == 47;
    size_t rows = rc == SC_OK ? o.t.train->n : 0;
    sc_pairs_free(&e);
    close_job(&o);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    CHECK(rows == 52 && row[0] == 101.0f, "40 + 12 rows, r12.npy's row 0 at row 40 (%g)", row[0]);
    CHECK(inside && total == 60 && found, "left in 0..39, right in 40..51");
}

/* A pairs CSV's bad index: the file, the line, the column and the range. */
static void pairs_bad_indices(void) {
    static const struct {
        const char *csv, *message;
    } cases[] = {
        {"left,right,target\n0,1,1\n0,40,0\n", "bad.csv:3: right = 40 is not a row index of "},
        {"left,right,target\n-1,1,1\n", "bad.csv:2: left = -1 is not a row index of "},
        {"left,right,target\n2.5,1,1\n", "bad.csv:2: left = 2.5 is not a row index of "},
        {"left,right,target\n1,x,1\n", "bad.csv:2: column 'right': 'x' is not a number"},
        {"left,right,target\n1,2,high\n", "bad.csv:2: column 'target': 'high' is not a number"},
        {"left,target\n1,2\n", "bad.csv: no column 'right'"},
        {"left,right,target\n", "bad.csv: no data rows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opened o;
        write_text("bad.csv", cases[i].csv);
        int rc = open_pairs(&o, "bad.csv", "");
        close_job(&o);
        CHECK(rc == SC_EINPUT && test_error_has(cases[i].message), "case %zu -> %s", i,
              sc_last_error());
    }
    opened o;
    write_text("bad.csv", "left,right,target\n0,12,1\n");
    int rc = job_of(&o, 1, "path = %s\npairs = %s\nright_vectors = %s\n", at("p40.npy"),
                    at("bad.csv"), at("r12.npy"));
    close_job(&o);
    CHECK(rc == SC_EINPUT && test_error_has("bad.csv:2: right = 12 is not a row index of ") &&
              test_error_has("r12.npy (0..11)"),
          "-> %s", sc_last_error());
    unlink(at("bad.csv"));
}

static void pairs_right_vectors_of_another_width(void) {
    opened o;
    int rc = job_of(&o, 1, "path = %s\npairs = %s\nright_vectors = %s\n", at("p40.npy"),
                    at("right.csv"), at("r12w.npy"));
    close_job(&o);
    CHECK(rc == SC_EINPUT && test_error_has("r12w.npy: vectors of 5 values, but ") &&
              test_error_has("p40.npy holds vectors of 4"),
          "-> %s", sc_last_error());
}

static void pairs_too_few_groups(void) {
    opened o;
    write_text("two.csv", "left,right,target\n0,1,1\n1,2,0\n");
    int rc = open_pairs(&o, "two.csv", "split = 60,20,20\n");
    close_job(&o);
    unlink(at("two.csv"));
    CHECK(rc == SC_EINPUT && test_error_has("two.csv: 2 rows are too few for [data] split"),
          "-> %s", sc_last_error());
}

/* ---- the keys ---- */

static void keys_choose_and_check(void) {
    static const struct {
        const char *data, *message;
    } cases[] = {
        {"path = v.npy\n", "format = npy needs [data] labels = FILE.npy"},
        {"path = v.npy\nlabels = l.npy\npairs = p.csv\n",
         "test.ini:5: [data] pairs = 'p.csv': [data] labels and pairs are two ways"},
        {"labels = l.npy\n", "[data] path: format = npy needs the .npy file of vectors"},
        {"path = v.npy\nlabels = l.npy\ntest = t.npy\n",
         "test.ini:5: [data] test = 't.npy': needs [data] test_labels"},
        {"path = v.npy\nlabels = l.npy\ntest_labels = t.npy\n",
         "test.ini:5: [data] test_labels = 't.npy': needs [data] test,"},
        {"path = v.npy\nlabels = l.npy\ntest = t.npy\ntest_labels = tl.npy\ntest_fraction = 0.3\n",
         "test.ini:7: unknown key [data] test_fraction"},
        {"path = v.npy\nlabels = l.npy\ntest_fraction = 0\n", "[data] test_fraction = '0'"},
        {"path = v.npy\nlabels = l.npy\ngroup = g\n", "test.ini:5: unknown key [data] group"},
        {"path = v.npy\nlabels = l.npy\nright_vectors = r.npy\n",
         "test.ini:5: unknown key [data] right_vectors"},
        {"path = v.npy\npairs = p.csv\nvalidation = 0.2\n",
         "test.ini:5: unknown key [data] validation"},
        {"path = v.npy\npairs = p.csv\ntest = t.npy\n", "test.ini:5: unknown key [data] test"},
        {"path = v.npy\npairs = p.csv\nsplit = 50,50\n", "[data] split = '50,50'"},
        {"path = v.npy\npairs = p.csv\nencoding = latin-1\n",
         "test.ini:5: unknown key [data] encoding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opened o;
        int rc = job_of(&o, 0, "%s", cases[i].data);
        close_job(&o);
        CHECK(rc == SC_EINPUT && test_error_has(cases[i].message), "case %zu -> %s", i,
              sc_last_error());
    }
    opened o;
    int rc = job_of(&o, 0, "path = v.npy\npairs = p.csv\n");
    int defaults = rc == SC_OK && o.job.data.split[0] == 70 && o.job.data.split[2] == 20 &&
                   !*o.job.data.group && !*o.job.data.right_vectors && !*o.job.data.labels;
    close_job(&o);
    CHECK(defaults, "pairs: split 70,10,20, no group -> %s", sc_last_error());
    rc = job_of(&o, 0, "path = v.npy\nlabels = l.npy\n");
    defaults = rc == SC_OK && o.job.data.validation == 0.1 && o.job.data.test_fraction == 0.2 &&
               !*o.job.data.test && !*o.job.data.pairs;
    close_job(&o);
    CHECK(defaults, "labels: validation 0.1, test_fraction 0.2 -> %s", sc_last_error());
}

/* ---- the commands' files: embed's and search's rows, search's queries, score's pairs ---- */

static void commands_read_vector_files(void) {
    opened o;
    sc_user_rows rows = {0}, queries = {0}, scored = {0};
    char t20[320], q3[320], w20[320], score[320];
    snprintf(t20, sizeof t20, "%s", at("t20.npy"));
    snprintf(q3, sizeof q3, "%s", at("q3.npy"));
    snprintf(w20, sizeof w20, "%s", at("w20.npy"));
    snprintf(score, sizeof score, "%s", at("score.csv"));
    sc_read_options none = {0}, column = {.column = "x"}, vectors = {.rows = t20};
    sc_pairs p = {0};
    sc_csv *table = NULL;
    const char *args[] = {t20, q3};
    int rc = open_labels(&o, "");
    const sc_task_kind *k = o.t.kind;
    sc_runtime *rt = test_runtime();
    if (rc == SC_OK) rc = k->read_rows(rt, &o.job, t20, &none, &rows);
    if (rc == SC_OK) rc = k->read_queries(rt, &o.job, args, 2, &queries);
    write_text("score.csv", "left,right\n0,19\n3,4\n");
    if (rc == SC_OK) rc = sc_csv_read(score, SC_UTF8, &table);
    if (rc == SC_OK) rc = k->read_pairs(rt, &o.job, table, &vectors, &scored, &p);
    CHECK(rc == SC_OK, "-> %s", sc_last_error());
    size_t len = strlen(args[1]);
    int named = rows.in.n == 20 && !strcmp(rows.names[19], "19") && queries.in.n == 23 &&
                !strcmp(queries.names[0] + strlen(args[0]), ":0") &&
                !strncmp(queries.names[22], args[1], len) && !strcmp(queries.names[22] + len, ":2");
    int paired = p.n == 2 && p.left[0] == 0 && p.right[0] == 19 && scored.in.n == 20;
    int searchable = k->searchable;
    sc_user_rows_free(&rows), sc_user_rows_free(&queries), sc_user_rows_free(&scored);
    sc_pairs_free(&p);
    CHECK(named, "rows named by number, queries FILE:ROW");
    CHECK(paired && searchable, "score's pairs index --vectors");
    int col = k->read_rows(rt, &o.job, t20, &column, &rows);
    sc_user_rows_free(&rows);
    CHECK(col == SC_EINPUT && test_error_has("--column and --encoding are for text models"));
    int wide = k->read_rows(rt, &o.job, w20, &none, &rows);
    sc_user_rows_free(&rows);
    CHECK(wide == SC_EINPUT &&
              test_error_has("w20.npy: vectors of 3 values, but the model takes 4"),
          "-> %s", sc_last_error());
    const char *wide_query[] = {q3, w20};
    wide = k->read_queries(rt, &o.job, wide_query, 2, &queries);
    sc_user_rows_free(&queries);
    CHECK(wide == SC_EINPUT && test_error_has("w20.npy: vectors of 3 values"));
    int bare = k->read_pairs(rt, &o.job, table, &none, &scored, &p);
    sc_user_rows_free(&scored), sc_pairs_free(&p);
    CHECK(bare == SC_EINPUT && test_error_has("score: a vector model needs --vectors FILE.npy"));
    write_text("score.csv", "left,right\n0,20\n");
    sc_csv_free(table);
    table = NULL;
    CHECK_OK(sc_csv_read(score, SC_UTF8, &table));
    int range = k->read_pairs(rt, &o.job, table, &vectors, &scored, &p);
    sc_user_rows_free(&scored), sc_pairs_free(&p);
    sc_csv_free(table);
    close_job(&o);
    unlink(score);
    CHECK(range == SC_EINPUT &&
              test_error_has("score.csv:2: right = 20 is not a row index (0..19)"),
          "-> %s", sc_last_error());
}

/* eval --data: other vectors for the config's [data] path. */
static void eval_data_replaces_the_path(void) {
    opened o;
    int rc = job_of(&o, 0, "path = %s\nlabels = %s\ntest = %s\ntest_labels = %s\n", at("w20.npy"),
                    at("l100.npy"), at("t20.npy"), at("tl20.npy"));
    if (rc == SC_OK) rc = sc_task_open(test_runtime(), &o.job, at("v100.npy"), &o.t);
    size_t n = rc == SC_OK ? ((const sc_labelled *)o.t.state)->train.n : 0;
    close_job(&o);
    CHECK(rc == SC_OK && n == 100, "-> %s", sc_last_error());
}

static void remove_temp_dir(void) {
    static const char *files[] = {"v100.npy",   "l100.npy",   "l90.npy",   "t20.npy",  "tl20.npy",
                                  "w20.npy",    "q3.npy",     "p40.npy",   "r12.npy",  "r12w.npy",
                                  "graded.csv", "binary.csv", "right.csv", "v256.npy", "l256.npy",
                                  "v257.npy",   "l257.npy"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(at(files[i]));
    CHECK(rmdir(dir) == 0, "%s: %s", dir, strerror(errno));
}

TEST_MAIN(TEST(write_fixtures), TEST(labels_with_a_test_file),
          TEST(labels_epoch_pairs_follow_the_seed), TEST(labels_test_split_of_the_rows),
          TEST(labels_at_most_256_classes), TEST(labels_bad_files), TEST(pairs_counts_per_split),
          TEST(pairs_epochs_follow_the_seed), TEST(pairs_group_split_keeps_groups),
          TEST(pairs_right_vectors_follow_the_vectors), TEST(pairs_bad_indices),
          TEST(pairs_right_vectors_of_another_width), TEST(pairs_too_few_groups),
          TEST(keys_choose_and_check), TEST(commands_read_vector_files),
          TEST(eval_data_replaces_the_path), TEST(remove_temp_dir))
