#include "siamcl/features.h"
#include "siamcl/error.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const sc_weighting_names[] = {"count", "log", "binary", NULL};

/* Buffers reused from text to text: the lowercased text and its features' buckets. */
typedef struct scratch {
    char *lower;
    uint32_t *hits;
    size_t nhits, cap; /* cap: bytes of lower; hits has room for 2 * cap + 1 */
} scratch;

uint32_t sc_fnv1a32(const void *data, size_t n, uint32_t h) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

int sc_buckets_valid(long b) {
    return b >= (long)SC_BUCKETS_MIN && b <= (long)SC_BUCKETS_MAX && !(b & (b - 1));
}

static int check_config(const sc_features_config *c) {
    if (!sc_buckets_valid((long)c->buckets))
        return sc_error(SC_EINPUT, "features: %u buckets is not a power of two in 16..16777216",
                        c->buckets);
    if (!c->trigrams && !c->unigrams && !c->bigrams)
        return sc_error(SC_EINPUT, "features: trigrams, unigrams and bigrams are all off");
    if ((unsigned)c->weighting > SC_WEIGHT_BINARY)
        return sc_error(SC_EINPUT, "features: unknown weighting %d", (int)c->weighting);
    return SC_OK;
}

/* Makes room for a text of len bytes and all its features, at most 2 * len + 1: one trigram per
 * byte of a word, and a unigram and a bigram per word, words being at most (len + 1) / 2. */
static int reserve(scratch *s, size_t len) {
    if (len < s->cap) return SC_OK;
    size_t cap = len + 1 > 2 * s->cap ? len + 1 : 2 * s->cap;
    char *lower = realloc(s->lower, cap);
    if (lower) s->lower = lower;
    uint32_t *hits = realloc(s->hits, (2 * cap + 1) * sizeof *hits);
    if (hits) s->hits = hits;
    if (!lower || !hits) return sc_error(SC_ERR, "features: out of memory");
    s->cap = cap;
    return SC_OK;
}

static int is_word_byte(unsigned char c) {
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static uint32_t tagged(char tag, const char *bytes, size_t n) {
    return sc_fnv1a32(bytes, n, sc_fnv1a32(&tag, 1, SC_FNV1A32_BASIS));
}

static void add_trigrams(scratch *s, const char *w, size_t n, uint32_t mask) {
    for (size_t i = 0; i < n; i++) {
        char f[4] = {'t', i ? w[i - 1] : '#', w[i], i + 1 < n ? w[i + 1] : '#'};
        s->hits[s->nhits++] = sc_fnv1a32(f, 4, SC_FNV1A32_BASIS) & mask;
    }
}

static uint32_t bigram(const char *a, size_t na, const char *b, size_t nb) {
    return sc_fnv1a32(b, nb, sc_fnv1a32(" ", 1, tagged('b', a, na)));
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Insertion sort for the short lists of most texts, where qsort's calls cost several times
 * more; qsort for long ones. */
static void sort_u32(uint32_t *x, size_t n) {
    if (n > 256) {
        qsort(x, n, sizeof *x, compare_u32);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint32_t v = x[i];
        size_t j = i;
        for (; j > 0 && x[j - 1] > v; j--) x[j] = x[j - 1];
        x[j] = v;
    }
}

/* Fills s->hits with the bucket of every feature of text, in ascending order. */
static int text_features(const sc_features_config *c, const char *text, scratch *s) {
    size_t len = strlen(text);
    SC_TRY(reserve(s, len));
    for (size_t i = 0; i < len; i++)
        s->lower[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + ('a' - 'A') : text[i]);
    uint32_t mask = c->buckets - 1;
    const char *prev = NULL;
    size_t prev_len = 0;
    s->nhits = 0;
    for (size_t i = 0; i < len;) {
        if (!is_word_byte((unsigned char)s->lower[i])) {
            i++;
            continue;
        }
        const char *w = s->lower + i;
        size_t n = 1;
        while (i + n < len && is_word_byte((unsigned char)w[n])) n++;
        i += n;
        if (c->trigrams) add_trigrams(s, w, n, mask);
        if (c->unigrams) s->hits[s->nhits++] = tagged('u', w, n) & mask;
        if (c->bigrams && prev) s->hits[s->nhits++] = bigram(prev, prev_len, w, n) & mask;
        prev = w;
        prev_len = n;
    }
    sort_u32(s->hits, s->nhits);
    return SC_OK;
}

static float weight(sc_weighting w, uint32_t count) {
    switch (w) {
    case SC_WEIGHT_LOG:
        return 1.0f + logf((float)count);
    case SC_WEIGHT_BINARY:
        return 1.0f;
    default:
        return (float)count;
    }
}

/* Appends a row of the sorted buckets hits, each once with its weighted count. */
static int append_row(sc_csr *m, size_t *cap, const uint32_t *hits, size_t n, sc_weighting w) {
    if (m->nnz + n > UINT32_MAX)
        return sc_error(SC_EINPUT,
                        "features: over 2^32 - 1 nonzeros; featurize fewer texts at once");
    if (m->nnz + n > *cap) {
        size_t grown = m->nnz + n > 2 * *cap ? m->nnz + n : 2 * *cap;
        uint32_t *indices = realloc(m->indices, grown * sizeof *indices);
        if (indices) m->indices = indices;
        float *values = realloc(m->values, grown * sizeof *values);
        if (values) m->values = values;
        if (!indices || !values) return sc_error(SC_ERR, "features: out of memory");
        *cap = grown;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && hits[j] == hits[i]) j++;
        m->indices[m->nnz] = hits[i];
        m->values[m->nnz++] = weight(w, (uint32_t)(j - i));
        i = j;
    }
    return SC_OK;
}

int sc_featurize(const sc_features_config *c, const char *const *texts, size_t n, sc_csr *out) {
    memset(out, 0, sizeof *out);
    SC_TRY(check_config(c));
    out->rows = n;
    out->offsets = calloc(n + 1, sizeof *out->offsets);
    int rc = out->offsets ? SC_OK : sc_error(SC_ERR, "features: out of memory");
    scratch s = {0};
    size_t cap = 0;
    for (size_t r = 0; r < n && rc == SC_OK; r++) {
        rc = text_features(c, texts[r], &s);
        if (rc == SC_OK) rc = append_row(out, &cap, s.hits, s.nhits, c->weighting);
        out->offsets[r + 1] = (uint32_t)out->nnz;
    }
    free(s.lower);
    free(s.hits);
    if (rc != SC_OK) sc_csr_free(out);
    return rc;
}
