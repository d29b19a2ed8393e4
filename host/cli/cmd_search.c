#include "cmd.h"

#include "siamcl/evaluate.h"
#include "siamcl/npy.h"
#include "json.h"
#include "siamcl/csv.h"
#include "siamcl/search.h"
#include "siamcl/topk.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char cmd_search_help[] =
    "usage: siamcl search MODEL CATALOG.csv --column NAME [--id-column NAME] [-k 10]\n"
    "                     [--encoding E] [--format table|csv|jsonl] QUERY... | --queries FILE\n"
    "       siamcl search MODEL CATALOG.npy [--embeddings] [--ids FILE] [-k 10]\n"
    "                     [--format table|csv|jsonl] QUERIES.npy... | --queries QUERIES.npy\n"
    "\n"
    "Ranks a catalog against each query with a trained model and prints the best k with\n"
    "their scores: the model's score of the pair (query, row), as `siamcl score` gives it.\n"
    "Text models: the catalog is the distinct texts of one column of a CSV (its id: the\n"
    "--id-column of the first row that holds it, else that row's number), and each QUERY is\n"
    "a text. Vector models ([data] format = npy): the catalog is the rows of an .npy of\n"
    "vectors (ids: the lines of --ids FILE, else row numbers), and each QUERIES.npy holds one\n"
    "query per row (named FILE:ROW). --embeddings: CATALOG.npy holds the catalog's embeddings\n"
    "(as `siamcl embed` writes them, for a text or a vector model) instead of its inputs.\n"
    "--queries FILE: the queries of a file instead of arguments: text models one a line\n"
    "(UTF-8; - reads standard input), or the column --queries-column NAME of a CSV; vector\n"
    "models an .npy.\n"
    "\n"
    "The scores never leave the device but for each query's best k: a model with a cosine or\n"
    "euclidean head ranks batches of queries against chunks of the catalog by one matrix\n"
    "product each and scores its hits through the head; an mlp head (or an ensemble: the mean\n"
    "of its members' scores) scores each query against the catalog through the head.\n"
    "docs/PERFORMANCE.md times 1,000 queries against 100,000 and 1,000,000 rows.\n"
    "\n"
    "Output: a table (query, then rank, score, id and text), or --format csv (query, rank, id,\n"
    "text, score, similarity) or jsonl (an object of the same keys a line); similarity names\n"
    "the score: cosine, euclidean (exp(-distance)) or mlp, and the range it is mapped onto.\n"
    "\n"
    "The catalog's embeddings are computed once and cached beside the model as\n"
    "<model>.search-<key>.npy; the key covers the model file, the catalog file (path, size and\n"
    "modification time) and the column, so a changed model or catalog is embedded afresh (and\n"
    "stale caches of the model are removed).\n"
    "\n"
    "An ensemble's run directory ranks by the mean of its members' scores (each member's\n"
    "catalog embeddings cached beside its own checkpoint).\n"
    "\n"
    "  MODEL             a text or vector model: a .safetensors checkpoint or a run directory\n"
    "  --column NAME     text: the catalog's column to search (e.g. product_title)\n"
    "  --id-column NAME  text: the catalog's column of ids (e.g. product_uid)\n"
    "  --ids FILE        .npy catalogs: one id a line, a line for each row\n"
    "  --embeddings      CATALOG.npy holds embeddings, not inputs (a single model)\n"
    "  --queries FILE    the queries (see above); --queries-column NAME: of a CSV\n"
    "  -k N              results per query (default 10; past the catalog's rows: all of\n"
    "                    them; at most 128)\n"
    "  --format F        table (default), csv or jsonl\n"
    "  --encoding E      text: utf-8 or latin-1 (default: the model's [data] encoding)\n";

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

/* A file of lines (path, or standard input for "-"): its text, and its non-empty lines in it. */
typedef struct lines {
    char *text, **line;
    size_t n;
} lines;

typedef struct options {
    sc_read_options read;
    const char *id_column, *ids, *queries, *queries_column, *format;
    int embeddings;
    size_t k;
} options;

typedef struct search {
    cmd_model cm;
    sc_user_rows catalog, queries;
    size_t n;                    /* catalog rows */
    float *given;                /* --embeddings: the catalog's (n x E) */
    const char **ids;            /* an id per catalog row */
    char *id_text;               /* storage of ids made up or read */
    lines query_lines, id_lines; /* --queries FILE, --ids FILE */
    const char **column;         /* --queries-column's texts */
    cl_mem catalog_dev[SC_ENSEMBLE_MAX], queries_dev[SC_ENSEMBLE_MAX];
} search;

static void lines_free(lines *l) {
    free(l->text), free(l->line);
    memset(l, 0, sizeof *l);
}

/* The lines of path, valid UTF-8 (an error names the line). */
static int read_lines(const char *path, lines *out) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return sc_error(SC_EINPUT, "%s: cannot read", path);
    size_t cap = 1 << 16, len = 0, got;
    char *text = malloc(cap);
    int rc = text ? SC_OK : sc_error(SC_ERR, "out of memory");
    while (rc == SC_OK && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 < cap) continue;
        char *grown = realloc(text, cap *= 2);
        if (grown)
            text = grown;
        else
            rc = sc_error(SC_ERR, "out of memory");
    }
    if (f != stdin) fclose(f);
    out->text = text;
    if (rc != SC_OK) return rc;
    text[len] = '\0';
    SC_TRY(sc_text_check(strcmp(path, "-") ? path : "standard input", text, len));
    size_t count = 1;
    for (size_t i = 0; i < len; i++) count += text[i] == '\n';
    if (!(out->line = malloc(count * sizeof *out->line))) return sc_error(SC_ERR, "out of memory");
    for (char *p = text; *p;) {
        char *end = strchr(p, '\n');
        if (end) *end = '\0';
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r') p[--n] = '\0';
        if (n) out->line[out->n++] = p;
        if (!end) break;
        p = end + 1;
    }
    return SC_OK;
}

/* --queries FILE --queries-column NAME: the column's texts. */
static int read_query_column(search *s, const options *o) {
    sc_csv *t;
    int col;
    sc_encoding enc = s->cm.job.data.encoding;
    if (o->read.encoding && sc_encoding_parse(o->read.encoding, &enc) != SC_OK)
        return sc_error(SC_EINPUT, "--encoding %s: expected utf-8 or latin-1", o->read.encoding);
    SC_TRY(sc_csv_read(o->queries, enc, &t));
    int rc = sc_csv_column(t, o->queries_column, &col);
    size_t n = sc_csv_rows(t);
    if (rc == SC_OK && (!n || n > 0x7fffffff))
        rc = sc_error(SC_EINPUT, "%s: %zu queries", o->queries, n);
    if (rc == SC_OK && !(s->column = malloc(n * sizeof *s->column)))
        rc = sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; rc == SC_OK && r < n; r++) s->column[r] = sc_csv_field(t, r, col);
    /* the queries' names point into the table: read_queries copies nothing */
    if (rc == SC_OK)
        rc = s->cm.kind->read_queries(s->cm.rt, &s->cm.job, s->column, (int)n, &s->queries);
    if (rc == SC_OK)
        s->queries.table = t;
    else
        sc_csv_free(t);
    return rc;
}

/* The queries: the arguments after the catalog, or --queries. */
static int read_queries(search *s, const cmd_args *args, const options *o) {
    const sc_task_kind *kind = s->cm.kind;
    int text = s->cm.job.data.format == SC_DATA_CSV;
    if (o->queries && args->npositional > 2)
        return sc_error(SC_EINPUT, "search: queries as arguments or --queries FILE, not both");
    if (!o->queries && args->npositional < 3)
        return sc_error(SC_EINPUT, "search: expected MODEL CATALOG QUERY... (see --help)");
    if (o->queries_column && !(o->queries && text))
        return sc_error(SC_EINPUT,
                        "search: --queries-column NAME goes with a text model's --queries FILE");
    if (!o->queries)
        return kind->read_queries(s->cm.rt, &s->cm.job, (const char *const *)args->positional + 2,
                                  args->npositional - 2, &s->queries);
    if (!text) return kind->read_queries(s->cm.rt, &s->cm.job, &o->queries, 1, &s->queries);
    if (o->queries_column) return read_query_column(s, o);
    lines *l = &s->query_lines;
    SC_TRY(read_lines(o->queries, l));
    if (!l->n || l->n > 0x7fffffff) return sc_error(SC_EINPUT, "%s: %zu queries", o->queries, l->n);
    return kind->read_queries(s->cm.rt, &s->cm.job, (const char *const *)l->line, (int)l->n,
                              &s->queries);
}

/* Ids: row numbers, or for a text catalog the --id-column of each text's first row. */
static int catalog_ids(search *s, const options *o) {
    size_t n = s->n;
    if (!(s->ids = malloc(n * sizeof *s->ids)) || !(s->id_text = malloc(n * 21 + 1)))
        return sc_error(SC_ERR, "out of memory");
    if (o->id_column) {
        const sc_csv *t = s->catalog.table;
        int col, id;
        SC_TRY(sc_csv_column(t, o->read.column, &col));
        SC_TRY(sc_csv_column(t, o->id_column, &id));
        /* a name points into the table: its row is the one whose field it is */
        size_t r = 0, rows = sc_csv_rows(t);
        for (size_t i = 0; i < n; i++) {
            while (r < rows && sc_csv_field(t, r, col) != s->catalog.names[i]) r++;
            s->ids[i] = r < rows ? sc_csv_field(t, r, id) : "";
        }
        return SC_OK;
    }
    for (size_t i = 0, at = 0; i < n; i++) {
        s->ids[i] = s->id_text + at;
        at += (size_t)sprintf(s->id_text + at, "%zu", i) + 1;
    }
    return SC_OK;
}

/* --ids FILE: a line for each row. */
static int read_ids(search *s, const char *path) {
    SC_TRY(read_lines(path, &s->id_lines));
    if (s->id_lines.n != s->n)
        return sc_error(SC_EINPUT, "%s: %zu ids for a catalog of %zu rows", path, s->id_lines.n,
                        s->n);
    for (size_t i = 0; i < s->n; i++) s->ids[i] = s->id_lines.line[i];
    return SC_OK;
}

/* The catalog: its rows (or given embeddings) and ids. */
static int read_catalog(search *s, const cmd_args *args, const options *o) {
    const char *path = args->positional[1];
    int text = s->cm.job.data.format == SC_DATA_CSV;
    if (o->id_column && (!text || o->embeddings))
        return sc_error(SC_EINPUT, "search: --id-column NAME goes with a text model's CSV catalog");
    if (o->ids && !(o->embeddings || !text))
        return sc_error(SC_EINPUT, "search: --ids FILE goes with an .npy catalog");
    if (o->embeddings) {
        size_t cols, E = (size_t)sc_model_embedding_width(s->cm.m);
        if (s->cm.all.n > 1)
            return sc_error(SC_EINPUT, "search --embeddings: an ensemble's members embed apart; "
                                       "search a member's run directory");
        SC_TRY(sc_npy_read_matrix(path, &s->given, &s->n, &cols));
        if (cols != E)
            return sc_error(SC_EINPUT, "%s: rows of %zu values; the model's embeddings have %zu",
                            path, cols, E);
    } else {
        SC_TRY(s->cm.kind->read_rows(s->cm.rt, &s->cm.job, path, &o->read, &s->catalog));
        s->n = s->catalog.in.n;
    }
    if (!s->n) return sc_error(SC_EINPUT, "%s: no rows to search", path);
    SC_TRY(catalog_ids(s, o));
    return o->ids ? read_ids(s, o->ids) : SC_OK;
}

/* Member k's embeddings of the catalog (cached beside its checkpoint) and of the queries, on
 * the device. */
static int member_embed(search *s, int k, const char *catalog, const options *o) {
    sc_model *m = s->cm.all.m[k];
    size_t E = (size_t)sc_model_embedding_width(m), nq = s->queries.in.n;
    float *host = NULL;
    int rc = SC_OK;
    if (!s->given) {
        char cache[1200];
        rc = cache_path(s->cm.member_path[k], catalog, o->read.column ? o->read.column : "", cache,
                        sizeof cache);
        if (rc == SC_OK) rc = catalog_embeddings(m, &s->catalog.in, cache, &host);
    }
    if (rc == SC_OK) rc = sc_buffer_new(s->cm.rt, s->n * E * sizeof(float), &s->catalog_dev[k]);
    if (rc == SC_OK)
        rc = sc_upload(s->cm.rt, (sc_view){s->catalog_dev[k], 0}, s->given ? s->given : host,
                       s->n * E);
    free(host);
    if (rc == SC_OK)
        rc = sc_buffer_new(s->cm.rt, (nq ? nq : 1) * E * sizeof(float), &s->queries_dev[k]);
    if (rc == SC_OK) rc = sc_embed_rows(m, &s->queries.in, 0, nq, s->queries_dev[k]);
    return rc;
}

/* What the scores are, as the output names them. */
static void similarity(const sc_model *m, char *out, size_t size) {
    const char *head = m->cfg.head == SC_HEAD_COSINE      ? "cosine"
                       : m->cfg.head == SC_HEAD_EUCLIDEAN ? "euclidean exp(-distance)"
                                                          : "mlp";
    if (m->cfg.output == SC_OUTPUT_RANGE)
        snprintf(out, size, "%s mapped onto %g..%g", head, m->cfg.target_min, m->cfg.target_max);
    else
        snprintf(out, size, "%s", head);
}

static void csv_field(const char *v) {
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, stdout);
        return;
    }
    putchar('"');
    for (; *v; v++) {
        if (*v == '"') putchar('"');
        putchar(*v);
    }
    putchar('"');
}

/* The hits of every query, in the format asked for. */
static void print_hits(const search *s, const options *o, const sc_hit *hits) {
    char sim[96];
    similarity(s->cm.m, sim, sizeof sim);
    int csv = !strcmp(o->format, "csv"), jsonl = !strcmp(o->format, "jsonl");
    int text = s->cm.job.data.format == SC_DATA_CSV && !s->given;
    if (csv) printf("query,rank,id,text,score,similarity\n");
    if (!csv && !jsonl) printf("scores: %s\n", sim);
    for (size_t q = 0; q < s->queries.in.n; q++) {
        const char *query = s->queries.names[q];
        if (!csv && !jsonl) printf("query: %s\n", query);
        for (size_t r = 0; r < o->k && hits[q * o->k + r].row >= 0; r++) {
            sc_hit h = hits[q * o->k + r];
            const char *id = s->ids[h.row], *t = text ? s->catalog.names[h.row] : "";
            if (csv) {
                csv_field(query);
                printf(",%zu,", r + 1);
                csv_field(id);
                putchar(',');
                csv_field(t);
                printf(",%.6g,", (double)h.score);
                csv_field(sim);
                putchar('\n');
            } else if (jsonl) {
                fputs("{\"query\": ", stdout);
                sc_json_write_string(stdout, query);
                printf(", \"rank\": %zu, \"id\": ", r + 1);
                sc_json_write_string(stdout, id);
                fputs(", \"text\": ", stdout);
                sc_json_write_string(stdout, t);
                printf(", \"score\": %.6g, \"similarity\": ", (double)h.score);
                sc_json_write_string(stdout, sim);
                fputs("}\n", stdout);
            } else {
                printf("%3zu  %8.4f  %s%s%s\n", r + 1, (double)h.score, id, *t ? "  " : "", t);
            }
        }
    }
}

static int run_search(search *s, const cmd_args *args, const options *o) {
    SC_TRY(cmd_model_open(args, &s->cm));
    if (!s->cm.kind->searchable)
        return sc_error(
            SC_EINPUT,
            "%s: search needs a text model or a vector model ([data] format = csv or npy)",
            s->cm.path);
    SC_TRY(read_catalog(s, args, o));
    options own = *o;
    if (own.k > s->n) own.k = s->n; /* more than the catalog: all of it */
    if (own.k > SC_TOPK_MAX)
        return sc_error(SC_EINPUT, "search: -k %zu: at most %d results a query", o->k, SC_TOPK_MAX);
    SC_TRY(read_queries(s, args, o));
    for (int k = 0; k < s->cm.all.n; k++) SC_TRY(member_embed(s, k, args->positional[1], o));
    size_t nq = s->queries.in.n;
    sc_hit *hits = malloc((nq ? nq : 1) * own.k * sizeof *hits);
    if (!hits) return sc_error(SC_ERR, "out of memory");
    sc_search_input in = {&s->cm.all,
                          s->catalog_dev,
                          s->queries_dev,
                          s->n,
                          nq,
                          s->given ? NULL : s->catalog.names,
                          s->queries.names};
    if (s->cm.m->cfg.pair_features && s->given) {
        free(hits);
        return sc_error(SC_EINPUT, "search --embeddings: the model's head reads the texts' "
                                   "overlap, which embeddings do not give; search the CSV");
    }
    int rc = sc_search(&in, own.k, hits);
    if (rc == SC_OK) print_hits(s, &own, hits);
    free(hits);
    return rc;
}

static void release(search *s) {
    for (int k = 0; k < SC_ENSEMBLE_MAX; k++) {
        sc_buffer_free(s->catalog_dev[k]);
        sc_buffer_free(s->queries_dev[k]);
    }
    free(s->given), free(s->ids), free(s->id_text), free(s->column);
    lines_free(&s->query_lines);
    lines_free(&s->id_lines);
    sc_user_rows_free(&s->catalog);
    sc_user_rows_free(&s->queries);
    cmd_model_close(&s->cm);
}

int cmd_search(int argc, char **argv) {
    const char *k_arg = NULL;
    options o = {.read = {.distinct = 1}, .format = "table"};
    cmd_option options_[] = {{"column", 0, &o.read.column, NULL},
                             {"id-column", 0, &o.id_column, NULL},
                             {"ids", 0, &o.ids, NULL},
                             {"embeddings", 0, NULL, &o.embeddings},
                             {"queries", 0, &o.queries, NULL},
                             {"queries-column", 0, &o.queries_column, NULL},
                             {"k", 'k', &k_arg, NULL},
                             {"format", 0, &o.format, NULL},
                             {"encoding", 0, &o.read.encoding, NULL},
                             {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "search", cmd_search_help, options_, &args));
    if (args.help) return SC_OK;
    if (args.npositional < 2)
        return sc_error(SC_EINPUT, "search: expected MODEL CATALOG QUERY... (see --help)");
    char *end = NULL;
    long k = k_arg ? strtol(k_arg, &end, 10) : 10;
    if (k_arg && (!*k_arg || *end || k < 1))
        return sc_error(SC_EINPUT, "search: -k %s: expected a count of at least 1", k_arg);
    o.k = (size_t)k;
    if (strcmp(o.format, "table") && strcmp(o.format, "csv") && strcmp(o.format, "jsonl"))
        return sc_error(SC_EINPUT, "search: --format %s: expected table, csv or jsonl", o.format);
    search s = {0};
    int rc = run_search(&s, &args, &o);
    release(&s);
    return rc;
}
