/* Text features by word hashing (as in DSSM): each text becomes a sparse row of counts over a
 * fixed number of hash buckets.
 *
 * Exactly, for one text (bytes, UTF-8):
 * 1. ASCII 'A'..'Z' become 'a'..'z'. Words are the maximal runs of ASCII letters, digits and
 *    bytes >= 0x80 (so UTF-8 letters stay in words as they are); every other byte separates.
 * 2. Features, as byte strings, each a one-byte family tag then the feature's bytes:
 *    trigrams  't' + every 3 consecutive bytes of '#' + word + '#'
 *              ("deck": "t#de" "tdec" "teck" "tck#"; "a": "t#a#"; bytes, not characters)
 *    unigrams  'u' + word
 *    bigrams   'b' + word + ' ' + next word, for each pair of adjacent words
 * 3. bucket = FNV-1a(feature) & (buckets - 1), FNV-1a being the 32-bit hash
 *    h = 2166136261; for each byte: h = (h ^ byte) * 16777619 mod 2^32.
 * 4. The row holds each bucket that some feature hit, with the number of hits n (features of
 *    different families that collide add up) weighted as n (count), 1 + ln n (log) or 1 (binary).
 * In Python, for the UTF-8 bytes b of a text, every family on:
 *    def fnv(f):
 *        h = 2166136261
 *        for x in f: h = ((h ^ x) * 16777619) & 0xFFFFFFFF
 *        return h
 *    w = re.findall(rb"[a-z0-9\x80-\xff]+", b.lower())  # bytes.lower() maps only A-Z
 *    feats = [b"t" + (b"#" + x + b"#")[i:i + 3] for x in w for i in range(len(x))]
 *    feats += [b"u" + x for x in w]
 *    feats += [b"b" + x + b" " + y for x, y in zip(w, w[1:])]
 *    row = Counter(fnv(f) & (buckets - 1) for f in feats)
 * A text without words (empty, or only punctuation) gives an empty row, which a tower maps to
 * its output for a zero input: the biases alone. */
#ifndef SIAMCL_FEATURES_H
#define SIAMCL_FEATURES_H

#include "siamcl/csr.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sc_weighting { SC_WEIGHT_COUNT, SC_WEIGHT_LOG, SC_WEIGHT_BINARY } sc_weighting;

/* The weightings' names, indexed by sc_weighting and NULL-terminated. */
extern const char *const sc_weighting_names[];

#define SC_BUCKETS_MIN     (1u << 4)
#define SC_BUCKETS_MAX     (1u << 24)
#define SC_BUCKETS_DEFAULT (1u << 18)

typedef struct sc_features_config {
    int trigrams, unigrams, bigrams; /* families on (1) or off (0); at least one on */
    uint32_t buckets;                /* a power of two in SC_BUCKETS_MIN..SC_BUCKETS_MAX */
    sc_weighting weighting;
} sc_features_config;

/* Whether b is a bucket count siamcl takes: a power of two in SC_BUCKETS_MIN..SC_BUCKETS_MAX. */
int sc_buckets_valid(long b);

/* Featurizes n NUL-terminated texts into *out, one row each (free it with sc_csr_free). */
int sc_featurize(const sc_features_config *c, const char *const *texts, size_t n, sc_csr *out);

#define SC_FNV1A32_BASIS 2166136261u

/* 32-bit FNV-1a of n bytes, continuing from h (SC_FNV1A32_BASIS to start afresh). */
uint32_t sc_fnv1a32(const void *data, size_t n, uint32_t h);

#endif
