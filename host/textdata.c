#include "siamcl/textdata.h"
#include "atomic_file.h"
#include "siamcl/error.h"
#include "siamcl/overlap.h"
#include "siamcl/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const sc_split_names[] = {"train", "validation", "test"};

typedef struct columns {
    int left, right, target, group; /* group -1: none */
} columns;

static int find_columns(const sc_data_config *c, const sc_csv *t, columns *col) {
    SC_TRY(sc_csv_column(t, c->left, &col->left));
    SC_TRY(sc_csv_column(t, c->right, &col->right));
    SC_TRY(sc_csv_column(t, c->target, &col->target));
    col->group = -1;
    return *c->group ? sc_csv_column(t, c->group, &col->group) : SC_OK;
}

static int featurize(const sc_data_config *c, const sc_csv *t, const columns *col, size_t n,
                     sc_csr *out) {
    const char **texts = malloc((n ? 2 * n : 1) * sizeof *texts);
    if (!texts) return sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; r < n; r++) {
        texts[r] = sc_csv_field(t, r, col->left);
        texts[n + r] = sc_csv_field(t, r, col->right);
    }
    int rc = sc_featurize(&c->features, texts, 2 * n, out);
    free(texts);
    return rc;
}

int sc_text_overlap(const sc_csv *t, int left, int right, size_t n, float *out) {
    const char **texts = malloc((n ? 2 * n : 1) * sizeof *texts);
    if (!texts) return sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; r < n; r++) {
        texts[r] = sc_csv_field(t, r, left);
        texts[n + r] = sc_csv_field(t, r, right);
    }
    int rc = sc_overlap_rows(texts, texts + n, n, out);
    free(texts);
    return rc;
}

/* Group number of each row: equal group fields share one (a hash table of first rows). */
static int group_rows(const sc_csv *t, int col, size_t n, uint32_t *group, size_t *ngroups) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    int64_t *first = malloc(cap * sizeof *first); /* the first row of each group, or -1 */
    if (!first) return sc_error(SC_ERR, "out of memory");
    memset(first, 0xff, cap * sizeof *first);
    *ngroups = 0;
    for (size_t r = 0; r < n; r++) {
        if (col < 0) {
            group[r] = (uint32_t)(*ngroups)++;
            continue;
        }
        const char *key = sc_csv_field(t, r, col);
        size_t h = sc_fnv1a32(key, strlen(key), SC_FNV1A32_BASIS) & (cap - 1);
        while (first[h] >= 0 && strcmp(sc_csv_field(t, (size_t)first[h], col), key))
            h = (h + 1) & (cap - 1);
        if (first[h] < 0) {
            first[h] = (int64_t)r;
            group[r] = (uint32_t)(*ngroups)++;
        } else {
            group[r] = group[first[h]];
        }
    }
    free(first);
    return SC_OK;
}

/* Shuffles the groups with seed and deals them out in the shares of split. */
static int split_groups(const int split[3], const uint32_t *group, size_t ngroups, uint64_t seed,
                        size_t n, uint8_t *which_row, size_t count[3]) {
    uint32_t *order = malloc((ngroups ? ngroups : 1) * sizeof *order);
    uint8_t *which = malloc(ngroups ? ngroups : 1);
    if (!order || !which) {
        free(order), free(which);
        return sc_error(SC_ERR, "out of memory");
    }
    sc_rng r;
    sc_rng_seed(&r, seed, 0x591);
    for (size_t i = 0; i < ngroups; i++) order[i] = (uint32_t)i;
    for (size_t i = ngroups; i > 1; i--) {
        size_t j = sc_rng_below(&r, (uint32_t)i);
        uint32_t x = order[i - 1];
        order[i - 1] = order[j];
        order[j] = x;
    }
    size_t ntrain = (size_t)llround(ngroups * split[0] / 100.0);
    size_t nval = (size_t)llround(ngroups * split[1] / 100.0);
    for (size_t i = 0; i < ngroups; i++)
        which[order[i]] = i < ntrain          ? SC_SPLIT_TRAIN
                          : i < ntrain + nval ? SC_SPLIT_VAL
                                              : SC_SPLIT_TEST;
    memset(count, 0, 3 * sizeof *count);
    for (size_t row = 0; row < n; row++) count[which_row[row] = which[group[row]]]++;
    free(order);
    free(which);
    return SC_OK;
}

int sc_group_split(const sc_csv *t, int col, size_t n, const int split[3], uint64_t seed,
                   uint8_t *which, size_t count[3], size_t *ngroups) {
    uint32_t *group = malloc((n ? n : 1) * sizeof *group);
    if (!group) return sc_error(SC_ERR, "out of memory");
    int rc = group_rows(t, col, n, group, ngroups);
    if (rc == SC_OK) rc = split_groups(split, group, *ngroups, seed, n, which, count);
    free(group);
    return rc;
}

static int read_targets(const sc_csv *t, int col, size_t n, float *targets) {
    for (size_t r = 0; r < n; r++) {
        double v;
        SC_TRY(sc_csv_number(t, r, col, &v));
        targets[r] = (float)v;
    }
    return SC_OK;
}

int sc_text_data_load(const sc_data_config *c, uint64_t seed, int all_test, sc_text_data *d) {
    columns col;
    size_t ngroups = 0;
    memset(d, 0, sizeof *d);
    SC_TRY(sc_csv_read(c->path, c->encoding, &d->csv));
    size_t n = d->n = sc_csv_rows(d->csv);
    int rc = find_columns(c, d->csv, &col);
    if (rc == SC_OK && n == 0) rc = sc_error(SC_EINPUT, "%s: no data rows", c->path);
    d->targets = malloc((n ? n : 1) * sizeof *d->targets);
    d->split = malloc(n ? n : 1);
    d->overlap = malloc((n ? n : 1) * SC_OVERLAP_FEATURES * sizeof *d->overlap);
    if (rc == SC_OK && (!d->targets || !d->split || !d->overlap))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = read_targets(d->csv, col.target, n, d->targets);
    if (rc == SC_OK && all_test) {
        memset(d->split, SC_SPLIT_TEST, n);
        d->count[SC_SPLIT_TEST] = n;
    }
    if (rc == SC_OK && !all_test)
        rc = sc_group_split(d->csv, col.group, n, c->split, seed, d->split, d->count, &ngroups);
    if (rc == SC_OK && !all_test && (!d->count[SC_SPLIT_TRAIN] || !d->count[SC_SPLIT_VAL]))
        rc = sc_error(SC_EINPUT, "%s: %zu groups are too few for [data] split = %d,%d,%d", c->path,
                      ngroups, c->split[0], c->split[1], c->split[2]);
    if (rc == SC_OK) rc = featurize(c, d->csv, &col, n, &d->texts);
    if (rc == SC_OK) rc = sc_text_overlap(d->csv, col.left, col.right, n, d->overlap);
    if (rc != SC_OK) sc_text_data_free(d);
    return rc;
}

void sc_text_data_free(sc_text_data *d) {
    sc_csv_free(d->csv);
    sc_csr_free(&d->texts);
    free(d->targets);
    free(d->split);
    free(d->overlap);
    memset(d, 0, sizeof *d);
}

int sc_text_pairs(const sc_text_data *d, int split, int overlap, sc_pairs *out) {
    size_t k = 0, F = SC_OVERLAP_FEATURES;
    memset(out, 0, sizeof *out);
    SC_TRY(sc_pairs_alloc(out, d->count[split]));
    if (overlap) SC_TRY(sc_pairs_alloc_features(out, SC_OVERLAP_FEATURES));
    for (size_t r = 0; r < d->n; r++) {
        if (d->split[r] != split) continue;
        if (overlap) memcpy(out->features + k * F, d->overlap + r * F, F * sizeof(float));
        out->left[k] = (int32_t)r;
        out->right[k] = (int32_t)(d->n + r);
        out->target[k++] = d->targets[r];
    }
    return SC_OK;
}

double sc_text_train_mean(const sc_text_data *d) {
    double sum = 0;
    for (size_t r = 0; r < d->n; r++)
        if (d->split[r] == SC_SPLIT_TRAIN) sum += d->targets[r];
    return sum / (double)d->count[SC_SPLIT_TRAIN];
}

int sc_text_write_split(const sc_text_data *d, const char *path) {
    int id_col = -1;
    sc_atomic_file f;
    if (sc_csv_column(d->csv, "id", &id_col) != SC_OK) id_col = -1; /* the row number serves */
    SC_TRY(sc_atomic_open(path, &f));
    fputs("row,id,split\n", f.file);
    for (size_t r = 0; r < d->n; r++) {
        if (id_col >= 0)
            fprintf(f.file, "%zu,%s,%s\n", r, sc_csv_field(d->csv, r, id_col),
                    sc_split_names[d->split[r]]);
        else
            fprintf(f.file, "%zu,%zu,%s\n", r, r, sc_split_names[d->split[r]]);
    }
    return sc_atomic_commit(&f);
}
