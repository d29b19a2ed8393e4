/* Overlap features of pairs of texts: hand-worked pairs, case, repeated words, texts without
 * words, UTF-8 bytes, long texts, a hash collision, and random pairs against a brute-force
 * reference that lists every word and trigram and compares them all. */
#include "harness.h"

#include "siamcl/error.h"
#include "siamcl/features.h"
#include "siamcl/overlap.h"

#include <stdio.h>
#include <string.h>

/* The brute-force reference: sets as explicit lists of strings, searched one by one. */
enum { REF_ITEMS = 4096, REF_BYTES = 40, REF_TEXT = 8192 };

typedef struct ref_set {
    char items[REF_ITEMS][REF_BYTES];
    int n;
} ref_set;

static void ref_add(ref_set *s, const char *x) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->items[i], x)) return;
    if (s->n == REF_ITEMS || strlen(x) >= REF_BYTES) {
        test_fail(__FILE__, __LINE__, "reference set too small for %s", x);
        return;
    }
    strcpy(s->items[s->n++], x);
}

/* How many items of a b has. */
static int ref_common(const ref_set *a, const ref_set *b) {
    int n = 0;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (!strcmp(a->items[i], b->items[j])) {
                n++;
                break;
            }
    return n;
}

/* The words and trigrams of text: the text lowercased with every separator made a NUL, whose
 * nonempty strings are the words. */
static void ref_sets(const char *text, ref_set *words, ref_set *tri) {
    static char buf[REF_TEXT + 1];
    size_t len = strlen(text);
    if (len > REF_TEXT) {
        test_fail(__FILE__, __LINE__, "reference text too long");
        len = REF_TEXT;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        int word = c >= 128 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        buf[i] = word ? (char)c : '\0';
    }
    buf[len] = '\0';
    words->n = tri->n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!buf[i] || (i > 0 && buf[i - 1])) continue;
        ref_add(words, buf + i);
        char marked[REF_BYTES + 2];
        snprintf(marked, sizeof marked, "#%s#", buf + i);
        for (size_t k = 0; k + 3 <= strlen(marked); k++) {
            char t[4] = {marked[k], marked[k + 1], marked[k + 2], '\0'};
            ref_add(tri, t);
        }
    }
}

static float ref_share(int part, int whole) {
    return whole ? (float)((double)part / whole) : 0.0f;
}

static void ref_features(const char *left, const char *right, float out[3]) {
    static ref_set wl, wr, tl, tr;
    ref_sets(left, &wl, &tl);
    ref_sets(right, &wr, &tr);
    int common = ref_common(&wl, &wr);
    out[0] = ref_share(common, wl.n);
    out[1] = ref_share(ref_common(&tl, &tr), tl.n);
    out[2] = ref_share(common, wr.n);
}

/* Whether the features of left against right are exactly f0, f1, f2. */
static int features_are(const char *left, const char *right, float f0, float f1, float f2) {
    float f[SC_OVERLAP_FEATURES];
    sc_overlap_features(left, right, f);
    if (f[0] == f0 && f[1] == f1 && f[2] == f2) return 1;
    printf("    \"%s\" ~ \"%s\": %.9g %.9g %.9g, want %.9g %.9g %.9g\n", left, right, f[0], f[1],
           f[2], f0, f1, f2);
    return 0;
}

#define FEATURES_ARE(left, right, f0, f1, f2)                                                      \
    CHECK(features_are(left, right, (float)(f0), (float)(f1), (float)(f2)))

/* {deck, screws} ~ {deck, screw, 2in}; trigrams #de dec eck ck# #sc scr cre rew ews ws# against
 * #de dec eck ck# #sc scr cre rew ew# #2i 2in in#: 8 shared, of 10 on the left, 12 on the
 * right. */
static void hand_worked_example(void) {
    FEATURES_ARE("Deck Screws", "deck screw 2in", 1.0 / 2, 8.0 / 10, 1.0 / 3);
    FEATURES_ARE("deck screw 2in", "Deck Screws", 1.0 / 3, 8.0 / 12, 1.0 / 2);
    FEATURES_ARE("deck screws", "deck screws", 1, 1, 1);
    FEATURES_ARE("deck", "screws", 0, 0, 0);
    /* "a" has the one trigram #a#; "ab" has #ab ab# */
    FEATURES_ARE("a b", "a", 1.0 / 2, 1.0 / 2, 1);
    FEATURES_ARE("ab", "a b", 0, 0, 0);
    FEATURES_ARE("ab", "ba", 0, 0, 0);
    /* deck, decks: #de dec eck shared of #de dec eck ck# */
    FEATURES_ARE("deck", "decks", 0, 3.0 / 4, 0);
}

static void case_is_ignored_for_ascii(void) {
    FEATURES_ARE("DECK Screws", "deck sCREWS", 1, 1, 1);
    FEATURES_ARE("M6X40", "m6x40 bolt", 1, 1, 1.0 / 2);
    /* bytes >= 0x80 are kept as they are: É (C3 89) is not é (C3 A9); caf\xC3 is shared */
    FEATURES_ARE("CAF\xC3\x89", "caf\xC3\xA9", 0, 3.0 / 5, 0);
}

static void repeated_words_count_once(void) {
    FEATURES_ARE("deck deck DECK screws", "deck", 1.0 / 2, 4.0 / 10, 1);
    FEATURES_ARE("deck", "deck deck screws screws", 1, 1, 1.0 / 2);
    /* aaaa: #aa aaa aaa aaa aa#, three distinct, of which aa has #aa aa# */
    FEATURES_ARE("aaaa", "aa", 0, 2.0 / 3, 0);
    FEATURES_ARE("aaaa aaaa", "aaaa", 1, 1, 1);
    /* abab: #ab aba bab ab#, distinct all four; ab has #ab ab# */
    FEATURES_ARE("abab", "ab", 0, 2.0 / 4, 0);
}

static void texts_without_words_give_zeros(void) {
    FEATURES_ARE("", "", 0, 0, 0);
    FEATURES_ARE("", "deck", 0, 0, 0);
    FEATURES_ARE("deck", "", 0, 0, 0);
    FEATURES_ARE(" -- / ", "!?", 0, 0, 0);
    FEATURES_ARE(" -- / ", "deck", 0, 0, 0);
    FEATURES_ARE("deck", "...", 0, 0, 0);
    /* punctuation separates words and is no part of them */
    FEATURES_ARE("(deck)", " ,deck,-deck ", 1, 1, 1);
    FEATURES_ARE("deck-screws", "screws/deck", 1, 1, 1);
    FEATURES_ARE("deck_screws", "deck screws", 1, 1, 1);
}

static void utf8_bytes_stay_in_words(void) {
    /* café is one word, cafe another; trigrams #ca caf #au au# shared of 5 + 2 + 4 */
    FEATURES_ARE("caf\xC3\xA9 au lait", "cafe au", 1.0 / 3, 4.0 / 11, 1.0 / 2);
    /* naïve is one word: the bytes of ï do not split it into na and ve */
    FEATURES_ARE("na\xC3\xAFve", "na ve", 0, 2.0 / 6, 0);
    FEATURES_ARE("na\xC3\xAFve", "NA\xC3\xAFVE", 1, 1, 1);
    /* a lone byte >= 0x80 makes a word of its own, with the trigram # C3 # */
    FEATURES_ARE("\xC3", "x \xC3 y", 1, 1, 1.0 / 3);
    /* digits are word bytes too */
    FEATURES_ARE("2in 10mm", "10mm", 1.0 / 2, 4.0 / 7, 1);
}

/* Words of equal FNV-1a (checked here) are still different words. */
static void equal_hashes_are_different_words(void) {
    CHECK(sc_fnv1a32("glbvs", 5, SC_FNV1A32_BASIS) == sc_fnv1a32("yacxa", 5, SC_FNV1A32_BASIS));
    FEATURES_ARE("glbvs", "yacxa", 0, 0, 0);
    FEATURES_ARE("glbvs yacxa", "yacxa", 1.0 / 2, 5.0 / 10, 1);
    FEATURES_ARE("yacxa glbvs", "glbvs", 1.0 / 2, 5.0 / 10, 1);
}

static void long_texts(void) {
    /* w0 .. w999 against the even ones: half the left's words, all the right's */
    static char left[REF_TEXT], right[REF_TEXT];
    size_t nl = 0, nr = 0;
    for (int i = 0; i < 1000; i++) {
        nl += (size_t)snprintf(left + nl, sizeof left - nl, "w%d ", i);
        if (i % 2 == 0) nr += (size_t)snprintf(right + nr, sizeof right - nr, "W%d, ", i);
    }
    CHECK(nl > 4000 && nl < sizeof left - 1, "%zu bytes", nl);
    float f[SC_OVERLAP_FEATURES], want[3];
    sc_overlap_features(left, right, f);
    ref_features(left, right, want);
    CHECK(f[0] == 0.5f && f[2] == 1.0f, "%g %g", f[0], f[2]);
    CHECK(f[1] == want[1] && f[1] > 0.5f && f[1] < 1.0f, "%g, reference %g", f[1], want[1]);
    FEATURES_ARE(left, left, 1, 1, 1);
    FEATURES_ARE(right, left, 1, 1, 0.5);
    /* one word of 5000 bytes: #aa aaa aa#; with a b in the middle, aab aba baa too */
    static char one[5001];
    memset(one, 'a', 5000);
    FEATURES_ARE(one, "aa", 0, 2.0 / 3, 0);
    FEATURES_ARE(one, "AAA a", 0, 1, 0);
    one[2500] = 'b';
    FEATURES_ARE(one, "aaba", 0, 3.0 / 6, 0);
    /* rows of long and short pairs in turn, through buffers that grow and are reused */
    const char *ls[] = {"deck", left, "a b", one, "Deck Screws"};
    const char *rs[] = {"deck", right, "a", "aaba", "deck screw 2in"};
    float rows[5][SC_OVERLAP_FEATURES];
    CHECK_OK(sc_overlap_rows(ls, rs, 5, &rows[0][0]));
    for (int i = 0; i < 5; i++) {
        sc_overlap_features(ls[i], rs[i], f);
        CHECK(!memcmp(rows[i], f, sizeof f), "row %d", i);
    }
    CHECK(rows[4][0] == 0.5f && rows[4][1] == 0.8f && rows[4][2] == (float)(1.0 / 3));
}

/* Random pairs of words from a small vocabulary (cases, repeats, UTF-8, short words that share
 * trigrams) and of random bytes, separated by punctuation; sc_overlap_rows against the
 * reference, and against sc_overlap_features pair by pair. */
static void rows_match_brute_force(void) {
    enum { N = 400 };
    static const char *const vocab[] = {
        "deck", "Deck", "DECK",     "decks",       "screw", "screws", "2in",
        "a",    "b",    "ab",       "ba",          "aaa",   "abab",   "caf\xC3\xA9",
        "cafe", "\xC3", "\xC3\xA9", "CAF\xC3\x89", "x1",    "1x",     "na\xC3\xAFve",
    };
    static const char *const separators[] = {" ", ", ", "-", "/", "  ", " (", ") ", "_"};
    static char buf[2 * N][256];
    const char *texts[2 * N];
    for (int t = 0; t < 2 * N; t++) {
        char *p = buf[t];
        size_t words = sc_rng_below(test_rng(), 12);
        for (size_t w = 0; w <= words; w++) {
            /* separators between words, and at either end of some texts */
            if ((w > 0 && w < words) || !sc_rng_below(test_rng(), 2))
                p += sprintf(p, "%s", separators[sc_rng_below(test_rng(), 8)]);
            if (w == words) break;
            if (sc_rng_below(test_rng(), 3)) {
                p +=
                    sprintf(p, "%s", vocab[sc_rng_below(test_rng(), sizeof vocab / sizeof *vocab)]);
            } else {
                size_t len = 1 + sc_rng_below(test_rng(), 5);
                for (size_t i = 0; i < len; i++)
                    *p++ = "abAB1\xC3\xA9"[sc_rng_below(test_rng(), 7)];
            }
        }
        *p = '\0';
        texts[t] = buf[t];
    }
    static float got[N][SC_OVERLAP_FEATURES];
    CHECK_OK(sc_overlap_rows(texts, texts + N, N, &got[0][0]));
    int partial = 0;
    for (int i = 0; i < N; i++) {
        float want[3], one[SC_OVERLAP_FEATURES];
        ref_features(texts[i], texts[N + i], want);
        sc_overlap_features(texts[i], texts[N + i], one);
        CHECK(!memcmp(got[i], want, sizeof want),
              "pair %d \"%s\" ~ \"%s\": %g %g %g, want %g %g %g", i, texts[i], texts[N + i],
              got[i][0], got[i][1], got[i][2], want[0], want[1], want[2]);
        CHECK(!memcmp(got[i], one, sizeof one), "pair %d: rows and one pair differ", i);
        partial += want[0] > 0 && want[0] < 1;
    }
    CHECK(partial > N / 10, "only %d pairs overlap in part", partial);
    /* no pairs: nothing written */
    float untouched = -1;
    CHECK_OK(sc_overlap_rows(NULL, NULL, 0, &untouched));
    CHECK(untouched == -1);
}

TEST_MAIN(TEST(hand_worked_example), TEST(case_is_ignored_for_ascii),
          TEST(repeated_words_count_once), TEST(texts_without_words_give_zeros),
          TEST(utf8_bytes_stay_in_words), TEST(equal_hashes_are_different_words), TEST(long_texts),
          TEST(rows_match_brute_force))
