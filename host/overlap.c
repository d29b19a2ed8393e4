#include "siamcl/overlap.h"
#include "siamcl/error.h"
#include "siamcl/features.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Which texts of the pair have a word or a trigram: a bit each, both when both bits are set. */
enum { SIDE_RIGHT = 1, SIDE_LEFT = 2, SIDE_BOTH = 3 };

/* A distinct word of the pair: its lowercased bytes (in scratch.lower), their FNV-1a, and the
 * texts that have it. */
typedef struct word {
    const char *bytes;
    size_t len;
    uint32_t hash;
    unsigned sides;
} word;

/* Buffers reused from pair to pair, for a pair of at most cap bytes of text together:
 * - lower: both texts lowercased, the right one first;
 * - words: the pair's distinct words, at most cap / 2 + 1 (a text of n bytes has at most
 *   (n + 1) / 2 words);
 * - word_slots, tri_slots: two open-addressing sets of table_size(cap) slots, filled at most
 *   half. A word slot holds 1 + the word's index, a trigram slot the trigram's three bytes
 *   packed in 24 bits and its sides above them; 0 is an empty slot (no trigram is three zero
 *   bytes). Each pair uses and clears only table_size of its own length. */
typedef struct scratch {
    char *lower;
    word *words;
    uint32_t *word_slots, *tri_slots;
    size_t cap, nwords, mask;
} scratch;

/* Distinct words and trigrams of each side (index SIDE_*) and of both. */
typedef struct counts {
    size_t words[4], tri[4];
} counts;

/* The power of two, at least 2 * len + 2, that holds a pair of len bytes at most half full: it
 * has at most len trigrams (one per byte of a word) and len / 2 + 1 words. */
static size_t table_size(size_t len) {
    size_t size = 2;
    while (size < 2 * len + 2) size *= 2;
    return size;
}

/* Makes room for a pair of len bytes together; over 1 GiB is refused as out of memory (word
 * slots hold 32-bit indices). */
static int reserve(scratch *s, size_t len) {
    if (s->lower && len <= s->cap) return SC_OK;
    if (len > UINT32_MAX / 4)
        return sc_error(SC_ERR, "overlap: out of memory for a pair of %zu bytes", len);
    size_t cap = len > 2 * s->cap ? len : 2 * s->cap;
    if (cap > UINT32_MAX / 4) cap = len;
    size_t slots = table_size(cap);
    char *lower = realloc(s->lower, cap + 1);
    if (lower) s->lower = lower;
    word *words = realloc(s->words, (cap / 2 + 1) * sizeof *words);
    if (words) s->words = words;
    uint32_t *word_slots = realloc(s->word_slots, slots * sizeof *word_slots);
    if (word_slots) s->word_slots = word_slots;
    uint32_t *tri_slots = realloc(s->tri_slots, slots * sizeof *tri_slots);
    if (tri_slots) s->tri_slots = tri_slots;
    if (!lower || !words || !word_slots || !tri_slots)
        return sc_error(SC_ERR, "overlap: out of memory for a pair of %zu bytes", len);
    s->cap = cap;
    return SC_OK;
}

static void scratch_free(scratch *s) {
    free(s->lower);
    free(s->words);
    free(s->word_slots);
    free(s->tri_slots);
}

/* The sides of a word or trigram that had the sides was and that side has too; counts it in n
 * (indexed by side, and SIDE_BOTH) when side is new to it. */
static unsigned mark(unsigned was, unsigned side, size_t n[4]) {
    if (was & side) return was;
    n[side]++;
    if ((was | side) == SIDE_BOTH) n[SIDE_BOTH]++;
    return was | side;
}

/* The slot of the word w of n bytes and hash h: the one holding it, or the empty one where it
 * goes. Equal hashes are checked byte by byte. */
static uint32_t *word_slot(scratch *s, const char *w, size_t n, uint32_t h) {
    for (size_t i = h & s->mask;; i = (i + 1) & s->mask) {
        uint32_t k = s->word_slots[i];
        if (!k) return &s->word_slots[i];
        const word *x = &s->words[k - 1];
        if (x->hash == h && x->len == n && !memcmp(x->bytes, w, n)) return &s->word_slots[i];
    }
}

static void add_trigram(scratch *s, uint32_t key, unsigned side, counts *c) {
    uint32_t h = key * 0x9E3779B1u;
    for (size_t i = (h ^ (h >> 16)) & s->mask;; i = (i + 1) & s->mask) {
        uint32_t k = s->tri_slots[i];
        if (k && (k & 0xFFFFFFu) != key) continue;
        s->tri_slots[i] = key | (uint32_t)mark(k >> 24, side, c->tri) << 24;
        return;
    }
}

/* Adds the word w of n lowercased bytes, and its trigrams the first time side has it. */
static void add_word(scratch *s, const char *w, size_t n, unsigned side, counts *c) {
    uint32_t h = sc_fnv1a32(w, n, SC_FNV1A32_BASIS);
    uint32_t *slot = word_slot(s, w, n, h);
    if (!*slot) {
        s->words[s->nwords] = (word){w, n, h, 0};
        *slot = (uint32_t)++s->nwords;
    }
    word *x = &s->words[*slot - 1];
    if (x->sides & side) return; /* a repeated word: its trigrams are in already */
    x->sides = mark(x->sides, side, c->words);
    for (size_t i = 0; i < n; i++) {
        unsigned char a = i ? (unsigned char)w[i - 1] : '#', b = (unsigned char)w[i];
        unsigned char z = i + 1 < n ? (unsigned char)w[i + 1] : '#';
        add_trigram(s, (uint32_t)a << 16 | (uint32_t)b << 8 | z, side, c);
    }
}

static int is_word_byte(unsigned char c) {
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

/* Lowercases the text of len bytes into lower and adds its words (features.h step 1). */
static void add_text(scratch *s, const char *text, size_t len, char *lower, unsigned side,
                     counts *c) {
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + ('a' - 'A') : text[i]);
    for (size_t i = 0; i < len;) {
        if (!is_word_byte((unsigned char)lower[i])) {
            i++;
            continue;
        }
        size_t n = 1;
        while (i + n < len && is_word_byte((unsigned char)lower[i + n])) n++;
        add_word(s, lower + i, n, side, c);
        i += n;
    }
}

static float share(size_t part, size_t whole) {
    return whole ? (float)((double)part / (double)whole) : 0.0f;
}

static int pair_features(scratch *s, const char *left, const char *right, float *out) {
    size_t nl = strlen(left), nr = strlen(right);
    SC_TRY(reserve(s, nl + nr));
    size_t slots = table_size(nl + nr);
    memset(s->word_slots, 0, slots * sizeof *s->word_slots);
    memset(s->tri_slots, 0, slots * sizeof *s->tri_slots);
    s->mask = slots - 1;
    s->nwords = 0;
    counts c = {{0}, {0}};
    add_text(s, right, nr, s->lower, SIDE_RIGHT, &c);
    add_text(s, left, nl, s->lower + nr, SIDE_LEFT, &c);
    out[0] = share(c.words[SIDE_BOTH], c.words[SIDE_LEFT]);
    out[1] = share(c.tri[SIDE_BOTH], c.tri[SIDE_LEFT]);
    out[2] = share(c.words[SIDE_BOTH], c.words[SIDE_RIGHT]);
    return SC_OK;
}

void sc_overlap_features(const char *left, const char *right, float out[SC_OVERLAP_FEATURES]) {
    scratch s = {0};
    if (pair_features(&s, left, right, out) != SC_OK)
        for (int k = 0; k < SC_OVERLAP_FEATURES; k++) out[k] = NAN;
    scratch_free(&s);
}

int sc_overlap_rows(const char *const *left, const char *const *right, size_t n, float *out) {
    scratch s = {0};
    int rc = SC_OK;
    for (size_t i = 0; i < n && rc == SC_OK; i++)
        rc = pair_features(&s, left[i], right[i], out + i * SC_OVERLAP_FEATURES);
    scratch_free(&s);
    return rc;
}
