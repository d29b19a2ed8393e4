/* Overlap features of a pair of texts: how much of one text's words and letter trigrams the other
 * text has. Unlike the word-hashing features of features.h, which describe one text, these
 * describe a pair: each feature sees both texts, so they cannot be computed inside one tower;
 * they are inputs for whatever looks at the pair as a whole (a head, a baseline, a reranker).
 *
 * Exactly, for a pair of texts L (left) and R (right), bytes, UTF-8:
 * 1. Words as in features.h step 1: ASCII 'A'..'Z' become 'a'..'z'; words are the maximal runs
 *    of ASCII letters, digits and bytes >= 0x80 (UTF-8 letters stay in words as they are, and
 *    are not case-folded); every other byte separates. words(T) is the SET of distinct words of
 *    T: a word that a text repeats counts once.
 * 2. tri(T) is the SET of distinct trigrams of T: every 3 consecutive bytes of '#' + word + '#'
 *    over every word of T (features.h's trigram family without its family tag: "deck" gives
 *    "#de" "dec" "eck" "ck#", "a" gives "#a#"; bytes, not characters).
 * 3. With |S| the size of a set and the quotients rounded to float:
 *    f0 = |words(L) & words(R)| / |words(L)|   the share of L's words that R has
 *    f1 = |tri(L) & tri(R)| / |tri(L)|         the share of L's letter trigrams that R has
 *    f2 = |words(L) & words(R)| / |words(R)|   the share of R's words that L has
 *    each 0 when its denominator is 0 (a text without words: empty, or only punctuation).
 *    The features are in [0, 1], and not symmetric: swapping L and R swaps f0 and f2, and
 *    f1 looks from L alone.
 * In Python, for the UTF-8 bytes l and r of the texts:
 *    def words(b): return set(re.findall(rb"[a-z0-9\x80-\xff]+", b.lower()))
 *    def tri(b): return {(b"#" + w + b"#")[i:i + 3] for w in words(b) for i in range(len(w))}
 *    def share(a, b): return len(a & b) / len(a) if a else 0.0
 *    f = [share(words(l), words(r)), share(tri(l), tri(r)), share(words(r), words(l))]
 * "Deck Screws" against "deck screw 2in": words {deck, screws} and {deck, screw, 2in} share
 * {deck}, so f0 = 1/2 and f2 = 1/3; of the 10 trigrams of the left text the right one has all
 * but "ews" and "ws#", so f1 = 8/10.
 *
 * Both take time and memory linear in the texts' lengths. */
#ifndef SIAMCL_OVERLAP_H
#define SIAMCL_OVERLAP_H

#include <stddef.h>

enum { SC_OVERLAP_FEATURES = 3 };

/* The overlap features f0, f1, f2 (above) of the NUL-terminated texts left and right. Should
 * memory run out (texts of many megabytes), writes NaNs and records the error (sc_last_error). */
void sc_overlap_features(const char *left, const char *right, float out[SC_OVERLAP_FEATURES]);

/* The overlap features of n pairs (left[i], right[i]) into out, n x SC_OVERLAP_FEATURES floats,
 * row-major (row i: f0, f1, f2 of pair i). Returns SC_OK, or SC_ERR when memory runs out (out
 * is then only partly written). */
int sc_overlap_rows(const char *const *left, const char *const *right, size_t n, float *out);

#endif
