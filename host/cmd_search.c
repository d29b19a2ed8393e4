#include "cmd.h"

#include "siamcl/csv.h"
#include "siamcl/evaluate.h"
#include "siamcl/npy.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char cmd_search_help[] =
    "usage: siamcl search MODEL CATALOG.csv --column NAME [-k 10] [--encoding E] QUERY...\n"
    "\n"
    "Ranks the distinct texts of one column of a catalog against each query with a trained\n"
    "text model, and prints the best k with their scores.\n"
    "\n"
    "The catalog's embeddings are computed once and cached beside the model as\n"
    "<model>.search-<key>.npy; the key covers the model file, the catalog file (path, size and\n"
    "modification time) and the column, so a changed model or catalog is embedded afresh (and\n"
    "stale caches of the model are removed).\n"
    "\n"
    "  MODEL          a text model: a .safetensors checkpoint or a run directory\n"
    "  --column NAME  the catalog's column to search (e.g. product_title)\n"
    "  -k N           how many results per query (default 10)\n"
    "  --encoding E   utf-8 or latin-1 (default: the model's [data] encoding)\n";

/* The distinct texts of the column, in first-seen order. */
static int distinct_texts(const sc_csv *t, int col, const char ***out, size_t *n) {
    size_t rows = sc_csv_rows(t), cap = 16;
    while (cap < 2 * rows) cap *= 2;
    const char **texts = malloc((rows ? rows : 1) * sizeof *texts);
    const char **seen = calloc(cap, sizeof *seen);
    if (!texts || !seen) {
        free(texts), free(seen);
        return sc_error(SC_ERR, "out of memory");
    }
    *n = 0;
    for (size_t r = 0; r < rows; r++) {
        const char *s = sc_csv_field(t, r, col);
        size_t h = sc_fnv1a32(s, strlen(s), SC_FNV1A32_BASIS) & (cap - 1);
        while (seen[h] && strcmp(seen[h], s)) h = (h + 1) & (cap - 1);
        if (!seen[h]) seen[h] = texts[(*n)++] = s;
    }
    free(seen);
    *out = texts;
    return SC_OK;
}

/* <model without .safetensors>.search-<key>.npy, the key hashing what the embeddings depend on. */
static int cache_path(const char *model, const char *catalog, const char *column, char *out,
                      size_t size) {
    struct stat sm, sc;
    if (stat(model, &sm) || stat(catalog, &sc))
        return sc_error(SC_EINPUT, "%s: cannot stat", stat(model, &sm) ? model : catalog);
    char key[2048];
    snprintf(key, sizeof key, "%lld.%ld.%lld|%s|%lld.%ld.%lld|%s", (long long)sm.st_size,
             (long)sm.st_mtim.tv_sec, (long long)sm.st_mtim.tv_nsec, catalog, (long long)sc.st_size,
             (long)sc.st_mtim.tv_sec, (long long)sc.st_mtim.tv_nsec, column);
    uint32_t h1 = sc_fnv1a32(key, strlen(key), SC_FNV1A32_BASIS);
    uint32_t h2 = sc_fnv1a32(key, strlen(key), h1 ^ 0x9e3779b9u);
    size_t len = strlen(model);
    if (len > 12 && !strcmp(model + len - 12, ".safetensors")) len -= 12;
    snprintf(out, size, "%.*s.search-%08x%08x.npy", (int)len, model, h1, h2);
    return SC_OK;
}

/* Removes the model's other caches: <stem>.search-*.npy files beside keep. */
static void remove_stale(const char *keep) {
    const char *slash = strrchr(keep, '/'), *base = slash ? slash + 1 : keep;
    const char *mark = strstr(base, ".search-");
    if (!mark) return;
    size_t stem = (size_t)(mark - base) + strlen(".search-");
    char dir[1300];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - keep) : 1, slash ? keep : ".");
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, base, stem) || n < 4 || strcmp(e->d_name + n - 4, ".npy") ||
            !strcmp(e->d_name, base))
            continue;
        char path[1600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(d);
}

/* Embeddings of texts on the device (and on the host in *host), from the cache when valid. */
static int catalog_embeddings(sc_model *m, const sc_features_config *fc, const char **texts,
                              size_t n, const char *cache, float **host) {
    size_t rows, cols, E = (size_t)sc_model_embedding_width(m);
    struct stat st;
    if (stat(cache, &st) == 0) { /* a damaged cache is only rebuilt */
        sc_error_set_quiet(1);
        int rc = sc_npy_read(cache, host, &rows, &cols);
        sc_error_set_quiet(0);
        if (rc == SC_OK && rows == n && cols == E) return SC_OK;
    }
    free(*host);
    *host = NULL;
    sc_csr x;
    sc_csr_dev dev = {0};
    cl_mem out = NULL;
    SC_TRY(sc_featurize(fc, texts, n, &x));
    int rc = sc_csr_upload(m->rt, &x, &dev);
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, n * E * sizeof(float), &out);
    if (rc == SC_OK) rc = sc_embed_texts(m, &dev, n, out);
    if (rc == SC_OK && !(*host = malloc(n * E * sizeof **host)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_download(m->rt, *host, (sc_view){out, 0}, n * E);
    if (rc == SC_OK && sc_npy_write(cache, *host, n, E) == SC_OK) remove_stale(cache);
    sc_buffer_free(out);
    sc_csr_dev_free(&dev);
    sc_csr_free(&x);
    return rc;
}

static int embed_query(sc_model *m, const sc_features_config *fc, const char *query, float *q) {
    size_t E = (size_t)sc_model_embedding_width(m);
    sc_csr x;
    sc_csr_dev dev = {0};
    cl_mem out = NULL;
    SC_TRY(sc_featurize(fc, &query, 1, &x));
    int rc = sc_csr_upload(m->rt, &x, &dev);
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, E * sizeof(float), &out);
    if (rc == SC_OK) rc = sc_embed_texts(m, &dev, 1, out);
    if (rc == SC_OK) rc = sc_download(m->rt, q, (sc_view){out, 0}, E);
    sc_buffer_free(out);
    sc_csr_dev_free(&dev);
    sc_csr_free(&x);
    return rc;
}

/* Scores of the query embedding q against the n catalog embeddings through the model's head:
 * pairs (q, catalog row) of a batch are the workspace's embedding rows i and P + i. */
static int score_query(sc_model *m, const float *q, cl_mem catalog, size_t n, float *scores) {
    size_t E = (size_t)sc_model_embedding_width(m), P = m->max_pairs;
    float *rep = malloc(P * E * sizeof *rep);
    if (!rep) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < P; i++) memcpy(rep + i * E, q, E * sizeof *q);
    int rc = sc_upload(m->rt, m->ws.emb, rep, P * E);
    free(rep);
    for (size_t first = 0; first < n && rc == SC_OK; first += P) {
        size_t k = n - first < P ? n - first : P;
        rc = sc_copy(m->rt, sc_view_at(m->ws.emb, P * E), (sc_view){catalog, first * E}, k * E);
        if (rc == SC_OK) rc = sc_model_head_forward(m, P);
        if (rc == SC_OK) rc = sc_download(m->rt, scores + first, m->ws.score, k);
    }
    return rc;
}

static const float *rank_keys;

static int by_score(const void *a, const void *b) {
    float x = rank_keys[*(const size_t *)a], y = rank_keys[*(const size_t *)b];
    return (x < y) - (x > y);
}

static int print_top(const char *query, const char **texts, const float *scores, size_t n,
                     size_t k) {
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) order[i] = i;
    rank_keys = scores;
    qsort(order, n, sizeof *order, by_score);
    printf("query: %s\n", query);
    for (size_t i = 0; i < k && i < n; i++)
        printf("%3zu  %8.4f  %s\n", i + 1, scores[order[i]], texts[order[i]]);
    free(order);
    return SC_OK;
}

typedef struct search {
    cmd_model cm;
    sc_csv *catalog;
    const char **texts;
    size_t n;
    float *emb, *scores, *q;
    cl_mem emb_dev;
} search;

static int prepare(search *s, const cmd_args *args, const char *column, const char *encoding) {
    char cache[1200];
    const char *catalog = args->positional[1], *model = s->cm.path;
    int col;
    SC_TRY(cmd_model_open(args, &s->cm));
    if (!s->cm.job.model.sparse_input)
        return sc_error(SC_EINPUT, "%s: search needs a text model ([data] format = csv)", model);
    sc_encoding enc = s->cm.job.data.encoding;
    if (encoding && sc_encoding_parse(encoding, &enc) != SC_OK)
        return sc_error(SC_EINPUT, "search: --encoding %s: expected utf-8 or latin-1", encoding);
    SC_TRY(sc_csv_read(catalog, enc, &s->catalog));
    SC_TRY(sc_csv_column(s->catalog, column, &col));
    SC_TRY(distinct_texts(s->catalog, col, &s->texts, &s->n));
    if (!s->n) return sc_error(SC_EINPUT, "%s: no rows to search", catalog);
    SC_TRY(cache_path(model, catalog, column, cache, sizeof cache));
    size_t E = (size_t)sc_model_embedding_width(s->cm.m);
    SC_TRY(catalog_embeddings(s->cm.m, &s->cm.job.data.features, s->texts, s->n, cache, &s->emb));
    SC_TRY(sc_buffer_new(s->cm.rt, s->n * E * sizeof(float), &s->emb_dev));
    SC_TRY(sc_upload(s->cm.rt, (sc_view){s->emb_dev, 0}, s->emb, s->n * E));
    s->scores = malloc(s->n * sizeof *s->scores);
    s->q = malloc(E * sizeof *s->q);
    return s->scores && s->q ? SC_OK : sc_error(SC_ERR, "out of memory");
}

static void release(search *s) {
    free(s->scores), free(s->q), free(s->emb), free(s->texts);
    sc_buffer_free(s->emb_dev);
    sc_csv_free(s->catalog);
    cmd_model_close(&s->cm);
}

int cmd_search(int argc, char **argv) {
    const char *column = NULL, *k_arg = NULL, *encoding = NULL;
    cmd_option options[] = {{"column", 0, &column, NULL},
                            {"k", 'k', &k_arg, NULL},
                            {"encoding", 0, &encoding, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "search", cmd_search_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional < 3 || !column)
        return sc_error(SC_EINPUT, "search: expected MODEL CATALOG.csv --column NAME QUERY...");
    char *end = NULL;
    long k = k_arg ? strtol(k_arg, &end, 10) : 10;
    if (k_arg && (*end || k < 1))
        return sc_error(SC_EINPUT, "search: -k %s: expected a count", k_arg);
    search s = {0};
    int rc = prepare(&s, &args, column, encoding);
    for (int i = 2; i < args.npositional && rc == SC_OK; i++) {
        rc = embed_query(s.cm.m, &s.cm.job.data.features, args.positional[i], s.q);
        if (rc == SC_OK) rc = score_query(s.cm.m, s.q, s.emb_dev, s.n, s.scores);
        if (rc == SC_OK) rc = print_top(args.positional[i], s.texts, s.scores, s.n, (size_t)k);
    }
    release(&s);
    return rc;
}
