/* The best matches of a query in a catalog of texts, by a text model that `siamcl train`
 * saved: a small program on siamcl's stable API (siamcl/siamcl.h).
 *
 *   top_matches [--embedding] MODEL CATALOG.txt QUERY [K]
 *
 * CATALOG.txt holds one text per line. Prints the K (default 5) lines the model scores highest
 * against QUERY, as rank, score and text, tab-separated; with --embedding, the query's
 * embedding first. The device is SIAMCL_DEVICE's (as siamcl's), else the fastest. Build it with
 *   cc top_matches.c $(pkg-config --cflags --libs siamcl) -o top_matches
 * or in CMake with find_package(siamcl) and target_link_libraries(top_matches siamcl::siamcl). */
#include <siamcl/siamcl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy(const char *s) {
    char *c = malloc(strlen(s) + 1);
    return c ? strcpy(c, s) : NULL;
}

/* The catalog's lines (without their newlines) in *lines, their count in *n. */
static int read_lines(const char *path, char ***lines, size_t *n) {
    FILE *f = fopen(path, "r");
    if (!f) return fprintf(stderr, "top_matches: cannot read %s\n", path), 0;
    char buf[4096];
    size_t cap = 0;
    *lines = NULL;
    *n = 0;
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(*lines, cap * sizeof *grown);
            if (!grown) break;
            *lines = grown;
        }
        (*lines)[(*n)++] = copy(buf);
    }
    fclose(f);
    return 1;
}

static const float *by_score;

static int higher_first(const void *a, const void *b) {
    float x = by_score[*(const size_t *)a], y = by_score[*(const size_t *)b];
    return (x < y) - (x > y);
}

/* Prints the query's embedding, then its k best matches among the n catalog lines. */
static int report(sc_encoder *enc, const char *query, char **lines, size_t n, size_t k,
                  int embedding) {
    size_t width = sc_encoder_embedding_width(enc);
    float *e = malloc(width * sizeof *e), *scores = malloc(n * sizeof *scores);
    const char **queries = malloc(n * sizeof *queries);
    size_t *order = malloc(n * sizeof *order);
    int rc = e && scores && queries && order ? SC_OK : SC_ERR;
    if (rc == SC_OK && embedding) rc = sc_encoder_embed_texts(enc, &query, 1, e);
    for (size_t i = 0; rc == SC_OK && embedding && i < width; i++)
        printf("%s%.7g", i ? " " : "embedding\t", e[i]);
    if (rc == SC_OK && embedding) printf("\n");
    for (size_t i = 0; i < n && queries && order; i++) queries[i] = query, order[i] = i;
    /* the query against every line, as pairs (query, line) */
    if (rc == SC_OK)
        rc = sc_encoder_score_texts(enc, queries, (const char *const *)lines, n, scores);
    by_score = scores;
    if (rc == SC_OK) qsort(order, n, sizeof *order, higher_first);
    for (size_t r = 0; rc == SC_OK && r < k && r < n; r++)
        printf("%zu\t%.7g\t%s\n", r + 1, scores[order[r]], lines[order[r]]);
    free(e), free(scores), free(queries), free(order);
    return rc;
}

int main(int argc, char **argv) {
    int embedding = argc > 1 && !strcmp(argv[1], "--embedding");
    argv += embedding, argc -= embedding;
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: top_matches [--embedding] MODEL CATALOG.txt QUERY [K]\n");
        return 2;
    }
    size_t k = argc == 5 ? (size_t)strtoul(argv[4], NULL, 10) : 5, n = 0;
    char **lines = NULL;
    if (!read_lines(argv[2], &lines, &n)) return 2;
    sc_engine *engine = NULL;
    sc_encoder *enc = NULL;
    int rc = sc_engine_open(getenv("SIAMCL_DEVICE"), &engine);
    if (rc == SC_OK) rc = sc_encoder_load(engine, argv[1], &enc);
    if (rc == SC_OK && sc_encoder_reads_text(enc) != 1) {
        fprintf(stderr, "top_matches: %s reads rows of floats, not texts\n", argv[1]);
        rc = SC_EINPUT;
    } else if (rc == SC_OK) {
        fprintf(stderr, "top_matches: siamcl %s on %s, %zu lines\n", sc_version(),
                sc_engine_device(engine), n);
        rc = report(enc, argv[3], lines, n, k, embedding);
    }
    if (rc != SC_OK && sc_last_error()[0]) fprintf(stderr, "top_matches: %s\n", sc_last_error());
    sc_encoder_free(enc);
    sc_engine_close(engine);
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
    return rc;
}
