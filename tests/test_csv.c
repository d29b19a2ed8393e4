/* CSV and TSV reading: RFC 4180 quoting, line ends, encodings, and bad input naming its place. */
#include "harness.h"

#include "siamcl/csv.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char path[256];

/* Writes n bytes to a fresh temporary file with the given extension and reads it. */
static int csv_from_bytes(const char *bytes, size_t n, const char *ext, sc_encoding enc,
                          sc_csv **t) {
    snprintf(path, sizeof path, "/tmp/siamcl_test_csv_%d%s", (int)getpid(), ext);
    FILE *f = fopen(path, "wb");
    if (!f) return SC_ERR;
    fwrite(bytes, 1, n, f);
    fclose(f);
    int rc = sc_csv_read(path, enc, t);
    unlink(path);
    return rc;
}

static int read_text(const char *text, sc_csv **t) {
    return csv_from_bytes(text, strlen(text), ".csv", SC_UTF8, t);
}

static int field_is(const sc_csv *t, size_t row, int col, const char *want) {
    return !strcmp(sc_csv_field(t, row, col), want);
}

static void plain_rows_and_columns(void) {
    sc_csv *t;
    CHECK_OK(read_text("id,term,relevance\n1,deck screws,3\n2,,2.5\n", &t));
    CHECK(sc_csv_rows(t) == 2 && sc_csv_columns(t) == 3);
    CHECK(!strcmp(sc_csv_name(t, 1), "term"));
    int col;
    CHECK_OK(sc_csv_column(t, "relevance", &col));
    CHECK(col == 2);
    CHECK(field_is(t, 0, 1, "deck screws") && field_is(t, 1, 1, "") && field_is(t, 1, 2, "2.5"));
    CHECK(sc_csv_line(t, 0) == 2 && sc_csv_line(t, 1) == 3);
    CHECK(!strcmp(sc_csv_path(t), path));
    sc_csv_free(t);
}

static void quoted_fields(void) {
    sc_csv *t;
    CHECK_OK(read_text("\"a\",\"b\"\n"
                       "\"x, y\",\"say \"\"hi\"\"\"\n"
                       "\"two\nlines\",\"\"\n"
                       "plain,\"\"\"\"\n",
                       &t));
    CHECK(sc_csv_rows(t) == 3);
    CHECK(!strcmp(sc_csv_name(t, 0), "a"));
    CHECK(field_is(t, 0, 0, "x, y") && field_is(t, 0, 1, "say \"hi\""));
    CHECK(field_is(t, 1, 0, "two\nlines") && field_is(t, 1, 1, ""));
    CHECK(field_is(t, 2, 0, "plain") && field_is(t, 2, 1, "\""));
    CHECK(sc_csv_line(t, 1) == 3 && sc_csv_line(t, 2) == 5, "lines %d %d", sc_csv_line(t, 1),
          sc_csv_line(t, 2));
    sc_csv_free(t);
}

static void crlf_bom_and_no_final_newline(void) {
    sc_csv *t;
    CHECK_OK(read_text("\xEF\xBB\xBFid,text\r\n1,\"a\r\nb\"\r\n\r\n2,last", &t));
    int col;
    CHECK_OK(sc_csv_column(t, "id", &col));
    CHECK(col == 0, "the BOM must not be part of the first name");
    CHECK(sc_csv_rows(t) == 2);
    CHECK(field_is(t, 0, 1, "a\r\nb") && field_is(t, 1, 1, "last"));
    CHECK(sc_csv_line(t, 1) == 5);
    sc_csv_free(t);
}

static void blank_lines_are_skipped(void) {
    sc_csv *t;
    CHECK_OK(read_text("\na,b\n\n1,2\n\n\n", &t));
    CHECK(sc_csv_rows(t) == 1 && sc_csv_line(t, 0) == 4);
    sc_csv_free(t);
}

static void tsv_by_extension_or_argument(void) {
    sc_csv *t;
    const char *text = "a\tb,c\n1\t\"x\ty\"\n";
    CHECK_OK(csv_from_bytes(text, strlen(text), ".tsv", SC_UTF8, &t));
    CHECK(sc_csv_columns(t) == 2 && !strcmp(sc_csv_name(t, 1), "b,c"));
    CHECK(field_is(t, 0, 1, "x\ty"));
    sc_csv_free(t);
    snprintf(path, sizeof path, "/tmp/siamcl_test_csv_%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("a;b\n1;2\n", f);
    fclose(f);
    int rc = sc_csv_read_delim(path, SC_UTF8, ';', &t);
    unlink(path);
    CHECK_OK(rc);
    CHECK(sc_csv_columns(t) == 2 && field_is(t, 0, 1, "2"));
    sc_csv_free(t);
    CHECK(sc_csv_read_delim(path, SC_UTF8, '"', &t) == SC_EINPUT);
}

static void latin1_becomes_utf8(void) {
    sc_csv *t;
    const char text[] = "name\ncaf\xE9 \xA0\xFF\x80x\n";
    CHECK_OK(csv_from_bytes(text, sizeof text - 1, ".csv", SC_LATIN1, &t));
    CHECK(field_is(t, 0, 0, "caf\xC3\xA9 \xC2\xA0\xC3\xBF\xC2\x80x"), "got %s",
          sc_csv_field(t, 0, 0));
    sc_csv_free(t);
}

static void valid_utf8_is_kept(void) {
    sc_csv *t;
    /* é, €, U+10FFFF and an emoji: 2, 3, 4 and 4 bytes */
    const char *word = "\xC3\xA9\xE2\x82\xAC\xF4\x8F\xBF\xBF\xF0\x9F\x98\x80";
    char text[64];
    snprintf(text, sizeof text, "w\n%s\n", word);
    CHECK_OK(read_text(text, &t));
    CHECK(field_is(t, 0, 0, word));
    sc_csv_free(t);
}

static void invalid_utf8_is_an_error(void) {
    static const char *const bad[] = {
        "w\nok\ncaf\xE9\n",          /* a latin-1 byte */
        "w\nok\n\xC0\x80\n",         /* overlong NUL */
        "w\nok\n\xED\xA0\x80\n",     /* a surrogate */
        "w\nok\n\xF4\x90\x80\x80\n", /* past U+10FFFF */
        "w\nok\n\x80\n",             /* a stray continuation byte */
        "w\nok\n\xE2\x82",           /* cut off at the end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_csv *t = NULL;
        CHECK(read_text(bad[i], &t) == SC_EINPUT, "case %zu", i);
        CHECK(t == NULL);
        CHECK(test_error_has(path) && test_error_has(":3:") && test_error_has("invalid UTF-8") &&
                  test_error_has("latin-1"),
              "message: %s", sc_last_error());
    }
}

static void nul_byte_is_an_error(void) {
    sc_csv *t;
    CHECK(csv_from_bytes("a\nb\0c\n", 6, ".csv", SC_UTF8, &t) == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("NUL"), "message: %s", sc_last_error());
}

static void unterminated_quote_names_where_it_opens(void) {
    sc_csv *t;
    CHECK(read_text("a,b\n1,2\n3,\"open\nstill\nopen\n", &t) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has(":3:") && test_error_has("never closed"),
          "message: %s", sc_last_error());
    CHECK(read_text("a,b\n1,\"x\"y\n", &t) == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("closing quote"), "message: %s", sc_last_error());
}

static void wrong_field_count_is_an_error(void) {
    sc_csv *t;
    CHECK(read_text("a,b,c\n1,2,3\n\"x\ny\",2\n", &t) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has(":3:") && test_error_has("2 fields") &&
              test_error_has("header has 3"),
          "message: %s", sc_last_error());
    CHECK(read_text("a,b\n1,2,3\n", &t) == SC_EINPUT);
    CHECK(test_error_has(":2:") && test_error_has("3 fields") && test_error_has("header has 2"),
          "message: %s", sc_last_error());
}

static void empty_file_and_header_only(void) {
    sc_csv *t;
    CHECK(read_text("", &t) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has("empty file"), "message: %s", sc_last_error());
    CHECK(read_text("\xEF\xBB\xBF\r\n\n", &t) == SC_EINPUT);
    CHECK(test_error_has("empty file"), "message: %s", sc_last_error());
    CHECK_OK(read_text("id,title", &t));
    CHECK(sc_csv_rows(t) == 0 && sc_csv_columns(t) == 2);
    sc_csv_free(t);
}

static void missing_file_and_column(void) {
    sc_csv *t;
    CHECK(sc_csv_read("/nonexistent/train.csv", SC_UTF8, &t) == SC_EINPUT);
    CHECK(test_error_has("/nonexistent/train.csv") && test_error_has("No such file"), "message: %s",
          sc_last_error());
    CHECK(sc_csv_read("/tmp", SC_UTF8, &t) == SC_EINPUT);
    CHECK(test_error_has("is a directory"), "message: %s", sc_last_error());
    CHECK_OK(read_text("id,product_title,search_term\n1,x,y\n", &t));
    int col;
    CHECK(sc_csv_column(t, "relevance", &col) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has("'relevance'") &&
              test_error_has("'id', 'product_title', 'search_term'"),
          "message: %s", sc_last_error());
    sc_csv_free(t);
}

static void numbers(void) {
    sc_csv *t;
    CHECK_OK(read_text("id,relevance\n1,3\n2,2.33\n3, 1e0 \n4,abc\n5,\n6,nan\n7,inf\n8,1.5x\n"
                       "9,1e999\n",
                       &t));
    double v;
    CHECK_OK(sc_csv_number(t, 0, 1, &v));
    CHECK(v == 3);
    CHECK_OK(sc_csv_number(t, 1, 1, &v));
    CHECK(v == 2.33);
    CHECK_OK(sc_csv_number(t, 2, 1, &v));
    CHECK(v == 1);
    CHECK(sc_csv_number(t, 3, 1, &v) == SC_EINPUT);
    CHECK(test_error_has(path) && test_error_has(":5: column 'relevance': 'abc' is not a number"),
          "message: %s", sc_last_error());
    CHECK(sc_csv_number(t, 4, 1, &v) == SC_EINPUT);
    CHECK(test_error_has(":6: column 'relevance' is empty"), "message: %s", sc_last_error());
    for (size_t row = 5; row < 9; row++) {
        CHECK(sc_csv_number(t, row, 1, &v) == SC_EINPUT, "row %zu", row);
        CHECK(test_error_has("is not a number"), "message: %s", sc_last_error());
    }
    sc_csv_free(t);
}

static void encoding_names(void) {
    sc_encoding e;
    CHECK_OK(sc_encoding_parse("latin-1", &e));
    CHECK(e == SC_LATIN1 && !strcmp(sc_encoding_names[e], "latin-1"));
    CHECK_OK(sc_encoding_parse("utf-8", &e));
    CHECK(e == SC_UTF8);
    CHECK(sc_encoding_parse("cp1252", &e) == SC_EINPUT);
    CHECK(test_error_has("'cp1252'") && test_error_has("utf-8 or latin-1"), "message: %s",
          sc_last_error());
}

TEST_MAIN(TEST(plain_rows_and_columns), TEST(quoted_fields), TEST(crlf_bom_and_no_final_newline),
          TEST(blank_lines_are_skipped), TEST(tsv_by_extension_or_argument),
          TEST(latin1_becomes_utf8), TEST(valid_utf8_is_kept), TEST(invalid_utf8_is_an_error),
          TEST(nul_byte_is_an_error), TEST(unterminated_quote_names_where_it_opens),
          TEST(wrong_field_count_is_an_error), TEST(empty_file_and_header_only),
          TEST(missing_file_and_column), TEST(numbers), TEST(encoding_names))
