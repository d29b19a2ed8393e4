/* libFuzzer harness: the featurizer (sc_featurize) on arbitrary bytes as UTF-8 text. The first
 * byte of an input chooses the families (any of the 7 settings) and a small bucket count (16 to
 * 256); the rest, cut at NUL bytes, is the texts, featurized under each weighting. Each row is
 * checked against the hit count of features.h's definition, and the weightings against each
 * other.
 *
 * clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 *   -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -Iinclude -Ihost \
 *   -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 tests/fuzz/fuzz_features.c \
 *   host/features.c host/csr.c host/error.c -lm -o build-fuzz/fuzz_features
 */
#include "fuzz_util.h"

#include "siamcl/error.h"
#include "siamcl/features.h"

#include <math.h>
#include <stdint.h>

enum { MAX_TEXTS = 64 };

static int word_byte(unsigned char c) {
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The number of features of text as features.h defines them. */
static size_t feature_count(const sc_features_config *c, const char *text) {
    size_t words = 0, bytes = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        if (!word_byte(*p)) {
            p++;
            continue;
        }
        words++;
        while (*p && word_byte(*p)) p++, bytes++;
    }
    return (c->trigrams ? bytes : 0) + (c->unigrams ? words : 0) +
           (c->bigrams && words ? words - 1 : 0);
}

static void check(const sc_features_config *c, const char *const *texts, size_t n,
                  const sc_csr *m) {
    FUZZ_ASSERT(m->rows == n && m->offsets[0] == 0 && m->offsets[n] == m->nnz);
    for (size_t r = 0; r < n; r++) {
        uint32_t lo = m->offsets[r], hi = m->offsets[r + 1];
        FUZZ_ASSERT(lo <= hi);
        double hits = 0;
        for (uint32_t k = lo; k < hi; k++) {
            FUZZ_ASSERT(m->indices[k] < c->buckets);
            FUZZ_ASSERT(k == lo || m->indices[k - 1] < m->indices[k]);
            float v = m->values[k];
            FUZZ_ASSERT(isfinite(v) && v >= 1.0f);
            if (c->weighting == SC_WEIGHT_BINARY) FUZZ_ASSERT(v == 1.0f);
            if (c->weighting == SC_WEIGHT_COUNT) FUZZ_ASSERT(v == floorf(v));
            hits += v;
        }
        size_t want = feature_count(c, texts[r]);
        if (c->weighting == SC_WEIGHT_COUNT) FUZZ_ASSERT(hits == (double)want);
        FUZZ_ASSERT((hi > lo) == (want > 0));
        FUZZ_ASSERT(hi - lo <= want);
    }
}

/* Longer inputs add time, not paths: some 300 bytes of words pass the 256 hits from which the
 * featurizer sorts with qsort, and the texts siamcl featurizes are fields of a CSV. */
enum { MAX_INPUT = 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size || size > MAX_INPUT) return 0;
    /* the first byte chooses the families and the buckets, the rest is the texts */
    int families = 1 + data[0] % 7;
    uint32_t buckets = 16u << (data[0] / 7 % 5);
    char *buf = malloc(size);
    if (!buf) abort();
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    const char *texts[MAX_TEXTS];
    size_t n = 0;
    for (size_t i = 0; n < MAX_TEXTS; i += strlen(buf + i) + 1) {
        texts[n++] = buf + i;
        if (i + strlen(buf + i) >= size - 1) break;
    }
    sc_csr m[3];
    for (int w = 0; w < 3; w++) {
        sc_features_config c = {families & 1, families >> 1 & 1, families >> 2 & 1, buckets,
                                (sc_weighting)w};
        FUZZ_ASSERT(sc_featurize(&c, texts, n, &m[w]) == SC_OK);
        check(&c, texts, n, &m[w]);
    }
    /* the weightings differ only in the values: log is 1 + ln(count), binary 1 */
    FUZZ_ASSERT(m[1].nnz == m[0].nnz && m[2].nnz == m[0].nnz);
    FUZZ_ASSERT(!memcmp(m[1].offsets, m[0].offsets, (n + 1) * sizeof *m[0].offsets));
    FUZZ_ASSERT(!memcmp(m[2].offsets, m[0].offsets, (n + 1) * sizeof *m[0].offsets));
    for (size_t k = 0; k < m[0].nnz; k++) {
        FUZZ_ASSERT(m[1].indices[k] == m[0].indices[k] && m[2].indices[k] == m[0].indices[k]);
        FUZZ_ASSERT(m[1].values[k] == 1.0f + logf(m[0].values[k]));
    }
    for (int w = 0; w < 3; w++) sc_csr_free(&m[w]);
    free(buf);
    return 0;
}
