#include "siamcl/search.h"
#include "siamcl/gemm.h"
#include "siamcl/overlap.h"
#include "siamcl/similarity.h"
#include "siamcl/topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_BATCH   256  /* queries of one product */
#define CATALOG_CHUNK 8192 /* catalog rows of one product */

int sc_search_by_product(const sc_ensemble *e) {
    const sc_model *m = e->m[0];
    return e->n == 1 && m->cfg.head != SC_HEAD_MLP && !m->cfg.pair_features;
}

static int better(sc_hit a, sc_hit b) {
    return a.row >= 0 && (b.row < 0 || a.score > b.score || (a.score == b.score && a.row < b.row));
}

/* Merges the k candidates (vals, rows) into the sorted list best (k hits). */
static void merge(sc_hit *best, const float *vals, const int32_t *rows, size_t k, size_t offset) {
    for (size_t j = 0; j < k && rows[j] >= 0; j++) {
        sc_hit h = {vals[j], (int32_t)(rows[j] + (int32_t)offset)};
        if (!better(h, best[k - 1])) continue;
        size_t at = k - 1;
        while (at > 0 && better(h, best[at - 1])) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = h;
    }
}

/* rows x E unit rows of x (the cosine head's ranking), or for euclidean x itself and the
 * squared norms. */
typedef struct prepared {
    cl_mem rows, norms;
    float *bias; /* euclidean: |c|^2 of the catalog's rows, on the host */
} prepared;

static int prepare(sc_runtime *rt, int cosine, cl_mem x, size_t n, size_t E, prepared *p) {
    memset(p, 0, sizeof *p);
    SC_TRY(sc_buffer_new(rt, (n ? n : 1) * E * sizeof(float), &p->rows));
    SC_TRY(sc_buffer_new(rt, (n ? n : 1) * sizeof(float), &p->norms));
    if (cosine)
        return sc_normalize_forward(rt, (sc_view){x, 0}, (sc_view){p->rows, 0},
                                    (sc_view){p->norms, 0}, n, E);
    return sc_copy(rt, (sc_view){p->rows, 0}, (sc_view){x, 0}, n * E);
}

static void prepared_free(prepared *p) {
    sc_buffer_free(p->rows);
    sc_buffer_free(p->norms);
    free(p->bias);
}

/* The squared norms |c|^2 of the catalog's rows, as the euclidean ranking's column bias. */
static int catalog_bias(sc_runtime *rt, cl_mem catalog, size_t n, size_t E, cl_mem *out) {
    float *c = malloc((n ? n : 1) * E * sizeof *c), *b = malloc((n ? n : 1) * sizeof *b);
    int rc = c && b ? sc_download(rt, c, (sc_view){catalog, 0}, n * E)
                    : sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; rc == SC_OK && i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < E; j++) s += (double)c[i * E + j] * c[i * E + j];
        b[i] = (float)s;
    }
    if (rc == SC_OK) rc = sc_buffer_new(rt, (n ? n : 1) * sizeof *b, out);
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){*out, 0}, b, n);
    free(c), free(b);
    return rc;
}

/* The best k rows of queries q0 .. q0 + nq - 1 by products with every chunk of the catalog:
 * the ranking scores (cosine, or 2 q.c - |c|^2) in best. */
static int rank_by_product(const sc_search_input *in, const prepared *q, const prepared *c,
                           cl_mem bias, size_t q0, size_t nq, size_t k, cl_mem s,
                           const sc_topk_scratch *scratch, cl_mem tv, cl_mem ti, sc_hit *best) {
    sc_model *m = in->e->m[0];
    sc_runtime *rt = m->rt;
    size_t E = (size_t)sc_model_embedding_width(m);
    int cosine = m->cfg.head == SC_HEAD_COSINE;
    float *vals = malloc(nq * k * sizeof *vals);
    int32_t *rows = malloc(nq * k * sizeof *rows);
    int rc = vals && rows ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < nq * k; i++) best[i] = (sc_hit){-INFINITY, -1};
    for (size_t c0 = 0; rc == SC_OK && c0 < in->n; c0 += CATALOG_CHUNK) {
        size_t cn = in->n - c0 < CATALOG_CHUNK ? in->n - c0 : CATALOG_CHUNK;
        rc = sc_gemm(rt, 0, 1, nq, cn, E, cosine ? 1.0f : 2.0f, (sc_view){q->rows, q0 * E},
                     (sc_view){c->rows, c0 * E}, 0.0f, (sc_view){s, 0});
        size_t kk = k < cn ? k : cn;
        if (rc == SC_OK)
            rc = sc_topk(rt, (sc_view){s, 0}, nq, cn, (sc_view){cosine ? NULL : bias, c0}, kk,
                         scratch, tv, ti);
        if (rc == SC_OK) rc = sc_download(rt, vals, (sc_view){tv, 0}, nq * kk);
        if (rc == SC_OK) rc = sc_download_bytes(rt, rows, ti, 0, nq * kk * sizeof *rows);
        for (size_t i = 0; rc == SC_OK && i < nq; i++)
            merge(best + i * k, vals + i * kk, rows + i * kk, kk, c0);
    }
    free(vals), free(rows);
    return rc;
}

/* The model's own scores of query i's hits (through its head and output map): the query's
 * and the hits' embeddings gathered side by side (idx: room for 2 k row numbers). */
static int rescore(const sc_search_input *in, size_t i, size_t k, sc_hit *hits, cl_mem idx,
                   cl_mem left, cl_mem right) {
    sc_model *m = in->e->m[0];
    size_t E = (size_t)sc_model_embedding_width(m), found = 0;
    int32_t rows[2 * SC_TOPK_MAX];
    for (; found < k && hits[found].row >= 0; found++) {
        rows[found] = (int32_t)i;
        rows[k + found] = hits[found].row;
    }
    if (!found) return SC_OK;
    SC_TRY(sc_upload_bytes(m->rt, idx, 0, rows, 2 * k * sizeof *rows));
    sc_row_index query = sc_list_index(idx, 0, found), hit = sc_list_index(idx, k, found);
    SC_TRY(sc_gather(m->rt, in->queries[0], E, &query, (sc_view){left, 0}));
    SC_TRY(sc_gather(m->rt, in->catalog[0], E, &hit, (sc_view){right, 0}));
    float s[SC_TOPK_MAX];
    for (size_t j = 0; j < found; j += m->max_pairs) { /* a model of small batches: in parts */
        size_t n = found - j < m->max_pairs ? found - j : m->max_pairs;
        SC_TRY(sc_model_score_embeddings(m, (sc_view){left, j * E}, (sc_view){right, j * E}, n,
                                         NULL, 0));
        SC_TRY(sc_download(m->rt, s + j, sc_model_scores(m), n));
    }
    for (size_t j = 0; j < found; j++) hits[j].score = s[j];
    /* the head's rounding may part near ties otherwise than the product's: best first again */
    for (size_t j = 1; j < found; j++)
        for (size_t at = j; at > 0 && better(hits[at], hits[at - 1]); at--) {
            sc_hit t = hits[at];
            hits[at] = hits[at - 1];
            hits[at - 1] = t;
        }
    return SC_OK;
}

static int search_by_product(const sc_search_input *in, size_t k, sc_hit *hits) {
    sc_model *m = in->e->m[0];
    sc_runtime *rt = m->rt;
    size_t E = (size_t)sc_model_embedding_width(m);
    int cosine = m->cfg.head == SC_HEAD_COSINE;
    prepared q, c;
    cl_mem s = NULL, bias = NULL, tv = NULL, ti = NULL, left = NULL, right = NULL, idx = NULL;
    sc_topk_scratch scratch = {0};
    size_t qb = in->nq < QUERY_BATCH ? in->nq : QUERY_BATCH;
    size_t cb = in->n < CATALOG_CHUNK ? in->n : CATALOG_CHUNK;
    int rc = prepare(rt, cosine, in->queries[0], in->nq, E, &q);
    if (rc == SC_OK) rc = prepare(rt, cosine, in->catalog[0], in->n, E, &c);
    if (rc == SC_OK && !cosine) rc = catalog_bias(rt, in->catalog[0], in->n, E, &bias);
    if (rc == SC_OK) rc = sc_buffer_new(rt, qb * cb * sizeof(float), &s);
    if (rc == SC_OK) rc = sc_topk_scratch_new(rt, qb, k, &scratch);
    if (rc == SC_OK) rc = sc_buffer_new(rt, qb * k * sizeof(float), &tv);
    if (rc == SC_OK) rc = sc_buffer_new(rt, qb * k * sizeof(int32_t), &ti);
    if (rc == SC_OK) rc = sc_buffer_new(rt, k * E * sizeof(float), &left);
    if (rc == SC_OK) rc = sc_buffer_new(rt, k * E * sizeof(float), &right);
    if (rc == SC_OK) rc = sc_buffer_new(rt, 2 * k * sizeof(int32_t), &idx);
    for (size_t q0 = 0; rc == SC_OK && q0 < in->nq; q0 += QUERY_BATCH) {
        size_t nq = in->nq - q0 < QUERY_BATCH ? in->nq - q0 : QUERY_BATCH;
        rc = rank_by_product(in, &q, &c, bias, q0, nq, k, s, &scratch, tv, ti, hits + q0 * k);
        for (size_t i = q0; rc == SC_OK && i < q0 + nq; i++)
            rc = rescore(in, i, k, hits + i * k, idx, left, right);
    }
    prepared_free(&q);
    prepared_free(&c);
    sc_topk_scratch_free(&scratch);
    for (cl_mem *b = (cl_mem[]){s, bias, tv, ti, left, right, idx}, *e = b + 7; b < e; b++)
        sc_buffer_free(*b);
    return rc;
}

/* The overlap features of query text qt with each catalog text, on the device. */
static int query_overlap(sc_runtime *rt, const sc_search_input *in, const char *qt, size_t F,
                         cl_mem *out) {
    const char **left = malloc(in->n * sizeof *left);
    float *f = malloc(in->n * F * sizeof *f);
    int rc = left && f ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; rc == SC_OK && i < in->n; i++) left[i] = qt;
    if (rc == SC_OK) rc = sc_overlap_rows(left, in->catalog_texts, in->n, f);
    if (rc == SC_OK) rc = sc_buffer_new(rt, in->n * F * sizeof *f, out);
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){*out, 0}, f, in->n * F);
    free(left), free(f);
    return rc;
}

/* Query i's scores against the whole catalog through member k's head, added (weighted by
 * 1 / members) into acc; rep: scratch for the repeated query. */
static int member_scores(const sc_search_input *in, int k, size_t i, cl_mem acc, cl_mem rep,
                         cl_mem one) {
    sc_model *m = in->e->m[k];
    size_t E = (size_t)sc_model_embedding_width(m), P = m->max_pairs;
    float *rows = malloc(P * E * sizeof *rows);
    if (!rows) return sc_error(SC_ERR, "out of memory");
    int got = sc_download(m->rt, rows, (sc_view){in->queries[k], i * E}, E);
    for (size_t j = 1; got == SC_OK && j < P; j++) memcpy(rows + j * E, rows, E * sizeof *rows);
    if (got == SC_OK) got = sc_upload(m->rt, (sc_view){rep, 0}, rows, P * E);
    free(rows);
    SC_TRY(got);
    cl_mem overlap = NULL;
    size_t F = (size_t)m->cfg.pair_features;
    int rc = F ? query_overlap(m->rt, in, in->query_texts[i], F, &overlap) : SC_OK;
    for (size_t first = 0; rc == SC_OK && first < in->n; first += P) {
        size_t n = in->n - first < P ? in->n - first : P;
        rc = sc_model_score_embeddings(m, (sc_view){rep, 0}, (sc_view){in->catalog[k], first * E},
                                       n, overlap, first);
        /* acc += scores / members: a product of a 1 x 1 weight and the 1 x n scores */
        if (rc == SC_OK)
            rc = sc_gemm(m->rt, 0, 0, 1, n, 1, 1.0f / (float)in->e->n, (sc_view){one, 0},
                         sc_model_scores(m), 1.0f, (sc_view){acc, first});
    }
    sc_buffer_free(overlap);
    return rc;
}

static int search_through_head(const sc_search_input *in, size_t k, sc_hit *hits) {
    sc_runtime *rt = in->e->m[0]->rt;
    size_t width = 0, P = 0;
    for (int j = 0; j < in->e->n; j++) {
        size_t E = (size_t)sc_model_embedding_width(in->e->m[j]);
        width = E > width ? E : width;
        P = in->e->m[j]->max_pairs > P ? in->e->m[j]->max_pairs : P;
    }
    cl_mem acc = NULL, rep = NULL, one = NULL, tv = NULL, ti = NULL;
    sc_topk_scratch scratch = {0};
    size_t kk = k < in->n ? k : in->n;
    float w = 1.0f, vals[SC_TOPK_MAX];
    int32_t rows[SC_TOPK_MAX];
    int rc = sc_buffer_new(rt, in->n * sizeof(float), &acc);
    if (rc == SC_OK) rc = sc_buffer_new(rt, P * width * sizeof(float), &rep);
    if (rc == SC_OK) rc = sc_buffer_new(rt, sizeof w, &one);
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){one, 0}, &w, 1);
    if (rc == SC_OK) rc = sc_topk_scratch_new(rt, 1, k, &scratch);
    if (rc == SC_OK) rc = sc_buffer_new(rt, k * sizeof(float), &tv);
    if (rc == SC_OK) rc = sc_buffer_new(rt, k * sizeof(int32_t), &ti);
    for (size_t i = 0; rc == SC_OK && i < in->nq; i++) {
        rc = sc_fill(rt, (sc_view){acc, 0}, 0.0f, in->n);
        for (int j = 0; rc == SC_OK && j < in->e->n; j++)
            rc = member_scores(in, j, i, acc, rep, one);
        if (rc == SC_OK)
            rc = sc_topk(rt, (sc_view){acc, 0}, 1, in->n, (sc_view){NULL, 0}, kk, &scratch, tv, ti);
        if (rc == SC_OK) rc = sc_download(rt, vals, (sc_view){tv, 0}, kk);
        if (rc == SC_OK) rc = sc_download_bytes(rt, rows, ti, 0, kk * sizeof *rows);
        for (size_t j = 0; rc == SC_OK && j < k; j++)
            hits[i * k + j] = j < kk ? (sc_hit){vals[j], rows[j]} : (sc_hit){-INFINITY, -1};
    }
    sc_topk_scratch_free(&scratch);
    for (cl_mem *b = (cl_mem[]){acc, rep, one, tv, ti}, *e = b + 5; b < e; b++) sc_buffer_free(*b);
    return rc;
}

int sc_search(const sc_search_input *in, size_t k, sc_hit *hits) {
    if (k < 1 || k > SC_TOPK_MAX)
        return sc_error(SC_EINPUT, "search: %zu results a query (1 .. %d)", k, SC_TOPK_MAX);
    if (!in->n || !in->nq) return SC_OK;
    return sc_search_by_product(in->e) ? search_by_product(in, k, hits)
                                       : search_through_head(in, k, hits);
}
