#include "cmd.h"

#include "siamcl/evaluate.h"
#include "siamcl/npy.h"
#include "siamcl/overlap.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char cmd_search_help[] =
    "usage: siamcl search MODEL CATALOG.csv --column NAME [-k 10] [--encoding E] QUERY...\n"
    "       siamcl search MODEL CATALOG.npy [-k 10] QUERIES.npy...\n"
    "\n"
    "Ranks a catalog against each query with a trained model, through its head, and prints\n"
    "the best k with their scores. Text models: the catalog is the distinct texts of one\n"
    "column of a CSV, and each QUERY is a text. Vector models ([data] format = npy): the\n"
    "catalog is the rows of an .npy of vectors, printed by row number, and each QUERIES.npy\n"
    "holds one query per row (named FILE:ROW).\n"
    "\n"
    "The catalog's embeddings are computed once and cached beside the model as\n"
    "<model>.search-<key>.npy; the key covers the model file, the catalog file (path, size and\n"
    "modification time) and the column, so a changed model or catalog is embedded afresh (and\n"
    "stale caches of the model are removed).\n"
    "\n"
    "An ensemble's run directory ranks by the mean of its members' scores (each member's\n"
    "catalog embeddings cached beside its own checkpoint).\n"
    "\n"
    "  MODEL          a text or vector model: a .safetensors checkpoint or a run directory\n"
    "  --column NAME  text: the catalog's column to search (e.g. product_title)\n"
    "  -k N           how many results per query (default 10)\n"
    "  --encoding E   text: utf-8 or latin-1 (default: the model's [data] encoding)\n";

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

/* The catalog's embeddings on the host (n x E), from the cache when it is valid. */
static int catalog_embeddings(sc_model *m, const sc_inputs *in, const char *cache, float **host) {
    size_t rows, cols, n = in->n, E = (size_t)sc_model_embedding_width(m);
    struct stat st;
    /* a damaged or stale cache is only rebuilt */
    if (stat(cache, &st) == 0 && sc_npy_read(cache, host, &rows, &cols) == SC_OK && rows == n &&
        cols == E)
        return SC_OK;
    free(*host);
    *host = NULL;
    cl_mem out = NULL;
    int rc = sc_buffer_new(m->rt, n * E * sizeof(float), &out);
    if (rc == SC_OK) rc = sc_embed_rows(m, in, 0, n, out);
    if (rc == SC_OK && !(*host = malloc(n * E * sizeof **host)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_download(m->rt, *host, (sc_view){out, 0}, n * E);
    if (rc == SC_OK && sc_npy_write(cache, *host, n, E) == SC_OK) remove_stale(cache);
    sc_buffer_free(out);
    return rc;
}

/* The overlap features of query text q with each of the n catalog texts, on the device, for a
 * head that reads them ([model] pair_features); *out stays NULL for one that does not. */
static int query_overlap(sc_model *m, const char *q, const char *const *names, size_t n,
                         cl_mem *out) {
    size_t F = (size_t)m->cfg.pair_features;
    *out = NULL;
    if (!F) return SC_OK;
    const char **left = malloc(n * sizeof *left);
    float *f = malloc(n * F * sizeof *f);
    int rc = left && f ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; rc == SC_OK && i < n; i++) left[i] = q;
    if (rc == SC_OK) rc = sc_overlap_rows(left, names, n, f);
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, n * F * sizeof *f, out);
    if (rc == SC_OK) rc = sc_upload(m->rt, (sc_view){*out, 0}, f, n * F);
    free(left);
    free(f);
    return rc;
}

/* Scores of query q (a row of E floats on the host; its text qtext) against the n catalog
 * embeddings (texts names), through the model's head: batches of pairs (q, catalog row). */
static int score_query(sc_model *m, const float *q, const char *qtext, cl_mem catalog,
                       const char *const *names, size_t n, cl_mem rep, float *scores) {
    size_t E = (size_t)sc_model_embedding_width(m), P = m->max_pairs;
    float *rows = malloc(P * E * sizeof *rows);
    if (!rows) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < P; i++) memcpy(rows + i * E, q, E * sizeof *q);
    int rc = sc_upload(m->rt, (sc_view){rep, 0}, rows, P * E);
    free(rows);
    cl_mem overlap = NULL;
    if (rc == SC_OK) rc = query_overlap(m, qtext, names, n, &overlap);
    for (size_t first = 0; first < n && rc == SC_OK; first += P) {
        size_t k = n - first < P ? n - first : P;
        rc = sc_model_score_embeddings(m, (sc_view){rep, 0}, (sc_view){catalog, first * E}, k,
                                       overlap, first);
        if (rc == SC_OK) rc = sc_download(m->rt, scores + first, sc_model_scores(m), k);
    }
    sc_buffer_free(overlap);
    return rc;
}

static const float *rank_keys;

static int by_score(const void *a, const void *b) {
    float x = rank_keys[*(const size_t *)a], y = rank_keys[*(const size_t *)b];
    return (x < y) - (x > y);
}

static int print_top(const char *query, const char *const *names, const float *scores, size_t n,
                     size_t k) {
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < n; i++) order[i] = i;
    rank_keys = scores;
    qsort(order, n, sizeof *order, by_score);
    printf("query: %s\n", query);
    for (size_t i = 0; i < k && i < n; i++)
        printf("%3zu  %8.4f  %s\n", i + 1, scores[order[i]], names[order[i]]);
    free(order);
    return SC_OK;
}

typedef struct search {
    cmd_model cm;
    sc_user_rows catalog, queries;
    float *scores; /* queries x catalog rows: the members' mean */
} search;

/* One model's embeddings of the catalog (host and device) and of the queries, and its
 * repeated-query buffer. */
typedef struct member {
    float *emb, *q, *s;
    cl_mem emb_dev, rep;
} member;

static void member_free(member *e) {
    free(e->emb), free(e->q), free(e->s);
    sc_buffer_free(e->emb_dev);
    sc_buffer_free(e->rep);
}

/* The embeddings model k needs: the catalog's (cached beside its checkpoint) and the queries'. */
static int member_embed(search *s, int k, const char *catalog, const sc_read_options *o,
                        member *e) {
    char cache[1200];
    sc_model *m = s->cm.all.m[k];
    size_t E = (size_t)sc_model_embedding_width(m), n = s->catalog.in.n, nq = s->queries.in.n;
    SC_TRY(
        cache_path(s->cm.member_path[k], catalog, o->column ? o->column : "", cache, sizeof cache));
    SC_TRY(catalog_embeddings(m, &s->catalog.in, cache, &e->emb));
    SC_TRY(sc_buffer_new(s->cm.rt, n * E * sizeof(float), &e->emb_dev));
    SC_TRY(sc_upload(s->cm.rt, (sc_view){e->emb_dev, 0}, e->emb, n * E));
    cl_mem qdev = NULL;
    int rc = sc_buffer_new(s->cm.rt, (nq ? nq : 1) * E * sizeof(float), &qdev);
    if (rc == SC_OK) rc = sc_embed_rows(m, &s->queries.in, 0, nq, qdev);
    if (rc == SC_OK && !(e->q = malloc((nq ? nq : 1) * E * sizeof *e->q)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_download(s->cm.rt, e->q, (sc_view){qdev, 0}, nq * E);
    sc_buffer_free(qdev);
    SC_TRY(rc);
    if (!(e->s = malloc(n * sizeof *e->s))) return sc_error(SC_ERR, "out of memory");
    return sc_buffer_new(s->cm.rt, m->max_pairs * E * sizeof(float), &e->rep);
}

/* Adds model k's scores of every query against the catalog, over the members, to s->scores. */
static int member_scores(search *s, int k, const char *catalog, const sc_read_options *o) {
    member e = {0};
    sc_model *m = s->cm.all.m[k];
    size_t E = (size_t)sc_model_embedding_width(m), n = s->catalog.in.n;
    int rc = member_embed(s, k, catalog, o, &e);
    for (size_t i = 0; rc == SC_OK && i < s->queries.in.n; i++) {
        rc = score_query(m, e.q + i * E, s->queries.names[i], e.emb_dev, s->catalog.names, n, e.rep,
                         e.s);
        for (size_t j = 0; rc == SC_OK && j < n; j++)
            s->scores[i * n + j] += e.s[j] / (float)s->cm.all.n;
    }
    member_free(&e);
    return rc;
}

/* The model (every member of an ensemble), the catalog and the queries, all scored. */
static int prepare(search *s, const cmd_args *args, const sc_read_options *o) {
    const char *catalog = args->positional[1];
    SC_TRY(cmd_model_open(args, &s->cm));
    if (!s->cm.kind->searchable)
        return sc_error(
            SC_EINPUT,
            "%s: search needs a text model or a vector model ([data] format = csv or npy)",
            s->cm.path);
    SC_TRY(s->cm.kind->read_rows(s->cm.rt, &s->cm.job, catalog, o, &s->catalog));
    if (!s->catalog.in.n) return sc_error(SC_EINPUT, "%s: no rows to search", catalog);
    SC_TRY(s->cm.kind->read_queries(s->cm.rt, &s->cm.job, (const char *const *)args->positional + 2,
                                    args->npositional - 2, &s->queries));
    size_t cells = s->queries.in.n * s->catalog.in.n;
    if (!(s->scores = calloc(cells ? cells : 1, sizeof *s->scores)))
        return sc_error(SC_ERR, "out of memory");
    for (int k = 0; k < s->cm.all.n; k++) SC_TRY(member_scores(s, k, catalog, o));
    return SC_OK;
}

static void release(search *s) {
    free(s->scores);
    sc_user_rows_free(&s->catalog);
    sc_user_rows_free(&s->queries);
    cmd_model_close(&s->cm);
}

int cmd_search(int argc, char **argv) {
    const char *k_arg = NULL;
    sc_read_options o = {.distinct = 1};
    cmd_option options[] = {{"column", 0, &o.column, NULL},
                            {"k", 'k', &k_arg, NULL},
                            {"encoding", 0, &o.encoding, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "search", cmd_search_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional < 3)
        return sc_error(SC_EINPUT, "search: expected MODEL CATALOG QUERY... (see --help)");
    char *end = NULL;
    long k = k_arg ? strtol(k_arg, &end, 10) : 10;
    if (k_arg && (*end || k < 1))
        return sc_error(SC_EINPUT, "search: -k %s: expected a count", k_arg);
    search s = {0};
    int rc = prepare(&s, &args, &o);
    size_t n = s.catalog.in.n;
    for (size_t i = 0; rc == SC_OK && i < s.queries.in.n; i++)
        rc = print_top(s.queries.names[i], s.catalog.names, s.scores + i * n, n, (size_t)k);
    release(&s);
    return rc;
}
