/* Word-hashing features: the hash, the features of hand-worked texts derived from their feature
 * strings, families, weightings, the CSR layout, and the [features] config. */
#include "harness.h"
#include "reference.h"

#include "siamcl/features.h"
#include "siamcl/job.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sc_features_config all_on = {1, 1, 1, SC_BUCKETS_DEFAULT, SC_WEIGHT_COUNT};

static int one_text(const sc_features_config *c, const char *text, sc_csr *m) {
    return sc_featurize(c, &text, 1, m);
}

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Whether row r of m holds, with their counts, the buckets of the feature strings (family tag
 * and bytes each, repeated as often as the text has them). */
static int row_is(const sc_csr *m, size_t r, const char *const *feats, size_t n, uint32_t buckets) {
    uint32_t want[64];
    for (size_t i = 0; i < n; i++)
        want[i] = sc_fnv1a32(feats[i], strlen(feats[i]), SC_FNV1A32_BASIS) & (buckets - 1);
    qsort(want, n, sizeof *want, compare_u32);
    uint32_t k = m->offsets[r];
    for (size_t i = 0, j; i < n; i = j, k++) {
        for (j = i + 1; j < n && want[j] == want[i];) j++;
        if (k == m->offsets[r + 1] || m->indices[k] != want[i] || m->values[k] != (float)(j - i))
            return 0;
    }
    return k == m->offsets[r + 1];
}

#define ROW_IS(m, r, buckets, ...)                                                                 \
    do {                                                                                           \
        static const char *const feats_[] = {__VA_ARGS__};                                         \
        CHECK(row_is(m, r, feats_, sizeof feats_ / sizeof *feats_, buckets), "row %d", r);         \
    } while (0)

static void fnv1a_known_values(void) {
    CHECK(sc_fnv1a32("", 0, SC_FNV1A32_BASIS) == 0x811c9dc5u);
    CHECK(sc_fnv1a32("a", 1, SC_FNV1A32_BASIS) == 0xe40c292cu);
    CHECK(sc_fnv1a32("foobar", 6, SC_FNV1A32_BASIS) == 0xbf9cf968u);
    CHECK(sc_fnv1a32("bar", 3, sc_fnv1a32("foo", 3, SC_FNV1A32_BASIS)) == 0xbf9cf968u);
}

static void hand_worked_example(void) {
    sc_csr m;
    CHECK_OK(one_text(&all_on, "Deck Screws, deck-SCREWS!", &m));
    CHECK(m.rows == 1 && m.offsets[0] == 0 && m.nnz == 14, "nnz %zu", m.nnz);
    ROW_IS(&m, 0, SC_BUCKETS_DEFAULT, "t#de", "tdec", "teck", "tck#", "t#sc", "tscr", "tcre",
           "trew", "tews", "tws#", "t#de", "tdec", "teck", "tck#", "t#sc", "tscr", "tcre", "trew",
           "tews", "tws#", "udeck", "uscrews", "udeck", "uscrews", "bdeck screws", "bscrews deck",
           "bdeck screws");
    sc_csr_free(&m);
}

static void short_and_non_ascii_words(void) {
    sc_csr m;
    const char *texts[] = {"a", "Caf\xC3\xA9 AU", "\xC3\x89T\xC3\x89"};
    CHECK_OK(sc_featurize(&all_on, texts, 3, &m));
    CHECK(m.rows == 3);
    ROW_IS(&m, 0, SC_BUCKETS_DEFAULT, "t#a#", "ua");
    ROW_IS(&m, 1, SC_BUCKETS_DEFAULT, "t#ca", "tcaf", "taf\xC3", "tf\xC3\xA9", "t\xC3\xA9#", "t#au",
           "tau#", "ucaf\xC3\xA9", "uau", "bcaf\xC3\xA9 au");
    ROW_IS(&m, 2, SC_BUCKETS_DEFAULT, "t#\xC3\x89", "t\xC3\x89t", "t\x89t\xC3", "tt\xC3\x89",
           "t\xC3\x89#", "u\xC3\x89t\xC3\x89");
    sc_csr_free(&m);
}

static void texts_without_words_give_empty_rows(void) {
    sc_csr m;
    const char *texts[] = {"", "deck", " -- / ", "x"};
    CHECK_OK(sc_featurize(&all_on, texts, 4, &m));
    CHECK(m.rows == 4 && m.offsets[0] == 0);
    CHECK(m.offsets[1] == 0, "an empty text must give an empty row");
    CHECK(m.offsets[2] - m.offsets[1] == 5);
    CHECK(m.offsets[3] == m.offsets[2], "a text of separators must give an empty row");
    CHECK(m.offsets[4] - m.offsets[3] == 2 && m.nnz == m.offsets[4]);
    sc_csr_free(&m);
    CHECK_OK(sc_featurize(&all_on, NULL, 0, &m));
    CHECK(m.rows == 0 && m.nnz == 0 && m.offsets[0] == 0);
    sc_csr_free(&m);
}

static void families_switch_on_and_off(void) {
    sc_features_config c = {1, 0, 0, 1u << 20, SC_WEIGHT_COUNT};
    const char *texts[] = {"deck screws", "deck"};
    sc_csr m;
    CHECK_OK(sc_featurize(&c, texts, 2, &m));
    ROW_IS(&m, 0, 1u << 20, "t#de", "tdec", "teck", "tck#", "t#sc", "tscr", "tcre", "trew", "tews",
           "tws#");
    sc_csr_free(&m);
    c = (sc_features_config){0, 1, 0, 1u << 20, SC_WEIGHT_COUNT};
    CHECK_OK(sc_featurize(&c, texts, 2, &m));
    ROW_IS(&m, 0, 1u << 20, "udeck", "uscrews");
    ROW_IS(&m, 1, 1u << 20, "udeck");
    sc_csr_free(&m);
    c = (sc_features_config){0, 0, 1, 1u << 20, SC_WEIGHT_COUNT};
    CHECK_OK(sc_featurize(&c, texts, 2, &m));
    ROW_IS(&m, 0, 1u << 20, "bdeck screws");
    CHECK(m.offsets[2] == m.offsets[1], "one word has no bigram");
    sc_csr_free(&m);
}

static void weightings(void) {
    sc_features_config c = {0, 1, 0, 1u << 10, SC_WEIGHT_COUNT};
    const float want[] = {3.0f, 1.0f + logf(3.0f), 1.0f};
    for (int w = SC_WEIGHT_COUNT; w <= SC_WEIGHT_BINARY; w++) {
        c.weighting = (sc_weighting)w;
        sc_csr m;
        CHECK_OK(one_text(&c, "deck DECK deck", &m));
        CHECK(m.nnz == 1 && m.values[0] == want[w], "%s gave %g", sc_weighting_names[w],
              m.values[0]);
        CHECK(m.indices[0] == (sc_fnv1a32("udeck", 5, SC_FNV1A32_BASIS) & 1023u));
        sc_csr_free(&m);
    }
}

/* Random texts of short words over a small alphabet, into few buckets so that they collide. */
static void deterministic_sorted_and_merged(void) {
    enum { N = 200 };
    static char buf[N][64];
    const char *texts[N];
    size_t features = 0;
    for (int t = 0; t < N; t++) {
        char *p = buf[t];
        size_t words = sc_rng_below(test_rng(), 6);
        for (size_t w = 0; w < words; w++) {
            size_t len = 1 + sc_rng_below(test_rng(), 5);
            for (size_t i = 0; i < len; i++) *p++ = "abAB1\xC3"[sc_rng_below(test_rng(), 6)];
            *p++ = " ,-"[sc_rng_below(test_rng(), 3)];
            features += len + 1 + (w > 0);
        }
        *p = '\0';
        texts[t] = buf[t];
    }
    sc_features_config c = {1, 1, 1, 16, SC_WEIGHT_COUNT};
    sc_csr a, b;
    CHECK_OK(sc_featurize(&c, texts, N, &a));
    CHECK_OK(sc_featurize(&c, texts, N, &b));
    CHECK(a.nnz == b.nnz && !memcmp(a.offsets, b.offsets, (N + 1) * sizeof *a.offsets) &&
          !memcmp(a.indices, b.indices, a.nnz * sizeof *a.indices) &&
          !memcmp(a.values, b.values, a.nnz * sizeof *a.values));
    double total = 0;
    for (size_t r = 0; r < N; r++) {
        for (uint32_t k = a.offsets[r]; k < a.offsets[r + 1]; k++) {
            CHECK(a.indices[k] < 16);
            CHECK(k == a.offsets[r] || a.indices[k - 1] < a.indices[k], "row %zu unsorted", r);
            total += a.values[k];
        }
    }
    CHECK(total == (double)features, "counts add to %g, features %zu", total, features);
    sc_csr_free(&a);
    sc_csr_free(&b);
}

static void config_defaults_and_values(void) {
    sc_config *cfg = sc_config_new();
    sc_features_config c;
    CHECK_OK(sc_features_config_read(cfg, &c));
    CHECK(c.trigrams && c.unigrams && !c.bigrams && c.buckets == 262144 &&
          c.weighting == SC_WEIGHT_COUNT);
    sc_config_free(cfg);
    CHECK_OK(ref_config_from("[features]\ntrigrams = false\nbigrams = true\nbuckets = 16777216\n"
                             "weighting = log\n",
                             &cfg));
    CHECK_OK(sc_features_config_read(cfg, &c));
    CHECK(!c.trigrams && c.unigrams && c.bigrams && c.buckets == 1u << 24 &&
          c.weighting == SC_WEIGHT_LOG);
    CHECK_OK(sc_config_check_unused(cfg));
    sc_config_free(cfg);
}

static void bad_configs_name_the_key(void) {
    static const struct {
        const char *text, *key, *why;
    } bad[] = {
        {"buckets = 0", "buckets", "power of two in 16..16777216"},
        {"buckets = 1000", "buckets", "power of two"},
        {"buckets = 8", "buckets", "power of two"},
        {"buckets = 33554432", "buckets", "power of two"},
        {"buckets = -16", "buckets", "power of two"},
        {"buckets = many", "buckets", "integer"},
        {"trigrams = false\nunigrams = no", "trigrams", "all off"},
        {"weighting = tfidf", "weighting", "count, log, binary"},
        {"bigrams = sometimes", "bigrams", "expected one of"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "[features]\n%s\n", bad[i].text);
        sc_config *cfg;
        CHECK_OK(ref_config_from(text, &cfg));
        sc_features_config c;
        CHECK(sc_features_config_read(cfg, &c) == SC_EINPUT, "case %zu", i);
        CHECK(test_error_has(ref_config_path()) && test_error_has(":2:") &&
                  test_error_has(bad[i].key) && test_error_has(bad[i].why),
              "message: %s", sc_last_error());
        sc_config_free(cfg);
    }
    sc_config *cfg = sc_config_new();
    CHECK_OK(sc_config_override(cfg, "features.buckets=100"));
    sc_features_config c;
    CHECK(sc_features_config_read(cfg, &c) == SC_EINPUT);
    CHECK(test_error_has("command line") && test_error_has("features.buckets=100"), "message: %s",
          sc_last_error());
    sc_config_free(cfg);
}

static void featurize_checks_its_config(void) {
    sc_csr m;
    sc_features_config c = all_on;
    c.buckets = 100;
    CHECK(one_text(&c, "x", &m) == SC_EINPUT);
    CHECK(test_error_has("100 buckets") && m.offsets == NULL, "message: %s", sc_last_error());
    c = (sc_features_config){0, 0, 0, 1024, SC_WEIGHT_COUNT};
    CHECK(one_text(&c, "x", &m) == SC_EINPUT);
    CHECK(test_error_has("all off"), "message: %s", sc_last_error());
}

/* Texts that featurize alike share a key (the first such row); any other text has its own. */
static void row_keys_name_identical_rows(void) {
    sc_features_config c = {1, 1, 0, 1u << 12, SC_WEIGHT_COUNT};
    const char *texts[] = {"deck screws", "Deck  Screws!", "deck screw", "", "?", "deck screws"};
    sc_csr m;
    float keys[6];
    CHECK_OK(sc_featurize(&c, texts, 6, &m));
    int rc = sc_csr_row_keys(&m, keys);
    sc_csr_free(&m);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    const float want[6] = {0, 0, 2, 3, 3, 0}; /* case and punctuation hash alike; no words too */
    for (int i = 0; i < 6; i++)
        CHECK(keys[i] == want[i], "text %d: key %g, not %g", i, keys[i], want[i]);
}

TEST_MAIN(TEST(fnv1a_known_values), TEST(row_keys_name_identical_rows), TEST(hand_worked_example),
          TEST(short_and_non_ascii_words), TEST(texts_without_words_give_empty_rows),
          TEST(families_switch_on_and_off), TEST(weightings), TEST(deterministic_sorted_and_merged),
          TEST(config_defaults_and_values), TEST(bad_configs_name_the_key),
          TEST(featurize_checks_its_config))
