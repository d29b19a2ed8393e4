/* The text task's data: grouped splits never share a group, follow the configured shares and
 * the seed, and a held-out file's rows are all test rows. */
#include "harness.h"

#include "siamcl/overlap.h"
#include "siamcl/textdata.h"

#include <string.h>

static sc_data_config tiny(void) {
    sc_data_config c;
    memset(&c, 0, sizeof c);
    c.format = SC_DATA_CSV;
    c.path = SC_TEST_DATA "/tiny_text.csv";
    c.encoding = SC_LATIN1;
    c.left = "search_term";
    c.right = "product_title";
    c.target = "relevance";
    c.group = "product_uid";
    c.split[0] = 60, c.split[1] = 20, c.split[2] = 20;
    c.features = (sc_features_config){1, 1, 0, 1024, SC_WEIGHT_COUNT};
    return c;
}

static void splits_never_share_a_group(void) {
    sc_data_config c = tiny();
    sc_text_data d;
    int col;
    CHECK_OK(sc_text_data_load(&c, 42, 0, &d));
    CHECK_OK(sc_csv_column(d.csv, "product_uid", &col));
    int ok = 1;
    for (size_t a = 0; a < d.n; a++)
        for (size_t b = a + 1; b < d.n; b++)
            if (!strcmp(sc_csv_field(d.csv, a, col), sc_csv_field(d.csv, b, col)))
                ok &= d.split[a] == d.split[b];
    size_t n = d.n, train = d.count[SC_SPLIT_TRAIN], val = d.count[SC_SPLIT_VAL];
    size_t texts = d.texts.rows;
    sc_text_data_free(&d);
    CHECK(ok, "two rows of one product landed in different splits");
    /* 30 products of 4 rows: 18 / 6 / 6 products */
    CHECK(n == 120 && train == 72 && val == 24, "%zu rows: %zu train, %zu validation", n, train,
          val);
    CHECK(texts == 240, "left and right texts of every row: %zu", texts);
}

static void split_follows_the_seed(void) {
    sc_data_config c = tiny();
    sc_text_data a, b, other;
    CHECK_OK(sc_text_data_load(&c, 7, 0, &a));
    CHECK_OK(sc_text_data_load(&c, 7, 0, &b));
    CHECK_OK(sc_text_data_load(&c, 8, 0, &other));
    int same = !memcmp(a.split, b.split, a.n), differ = !!memcmp(a.split, other.split, a.n);
    sc_text_data_free(&a), sc_text_data_free(&b), sc_text_data_free(&other);
    CHECK(same && differ);
}

static void held_out_file_is_all_test(void) {
    sc_data_config c = tiny();
    sc_text_data d;
    sc_pairs p;
    CHECK_OK(sc_text_data_load(&c, 1, 1, &d));
    CHECK_OK(sc_text_pairs(&d, SC_SPLIT_TEST, 0, &p));
    int ok = p.n == d.n && p.left[5] == 5 && p.right[5] == (int32_t)(d.n + 5) &&
             p.target[5] == d.targets[5];
    sc_pairs_free(&p);
    sc_text_data_free(&d);
    CHECK(ok, "every row a test pair (i, n + i)");
}

/* Whether every pair's features are its texts' overlap (pair k: rows left[k], right[k] - n). */
static int features_match_texts(const sc_text_data *d, const sc_pairs *p, int lc, int rc) {
    for (size_t k = 0; k < p->n; k++) {
        float f[SC_OVERLAP_FEATURES];
        size_t row = (size_t)p->left[k];
        sc_overlap_features(sc_csv_field(d->csv, row, lc), sc_csv_field(d->csv, row, rc), f);
        if (memcmp(f, p->features + k * SC_OVERLAP_FEATURES, sizeof f)) return 0;
    }
    return 1;
}

static void pairs_carry_their_overlap(void) {
    sc_data_config c = tiny();
    sc_text_data d;
    sc_pairs p;
    int lc, rc;
    CHECK_OK(sc_text_data_load(&c, 1, 0, &d));
    CHECK_OK(sc_text_pairs(&d, SC_SPLIT_TRAIN, 1, &p));
    CHECK_OK(sc_csv_column(d.csv, c.left, &lc));
    CHECK_OK(sc_csv_column(d.csv, c.right, &rc));
    double sum = 0;
    for (size_t i = 0; i < p.n * SC_OVERLAP_FEATURES; i++) sum += p.features[i];
    int in_order = p.nfeatures == SC_OVERLAP_FEATURES && features_match_texts(&d, &p, lc, rc);
    sc_pairs_shuffle(&p, 5, 0);
    int shuffled = features_match_texts(&d, &p, lc, rc);
    sc_pairs_free(&p);
    sc_text_data_free(&d);
    CHECK(sum > 0, "some texts overlap");
    CHECK(in_order && shuffled, "features follow their pairs (%d, after a shuffle %d)", in_order,
          shuffled);
}

TEST_MAIN(TEST(splits_never_share_a_group), TEST(split_follows_the_seed),
          TEST(held_out_file_is_all_test), TEST(pairs_carry_their_overlap))
