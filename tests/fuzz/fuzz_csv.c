/* libFuzzer harness: CSV and TSV tables (sc_csv_read, sc_csv_read_delim), each input read in
 * both encodings with both delimiters, then every accessor run over the table.
 *
 * clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 *   -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -Iinclude -Ihost \
 *   -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 tests/fuzz/fuzz_csv.c host/csv.c \
 *   host/error.c -lm -o build-fuzz/fuzz_csv
 */
#include "fuzz_util.h"

#include "siamcl/csv.h"
#include "siamcl/error.h"

#include <stdint.h>

/* Walks the whole table; ASan sees any field read past its end. */
static void walk(const sc_csv *t) {
    int cols = sc_csv_columns(t);
    size_t rows = sc_csv_rows(t);
    FUZZ_ASSERT(cols >= 1);
    int col;
    for (int c = 0; c < cols; c++) {
        FUZZ_ASSERT(sc_csv_column(t, sc_csv_name(t, c), &col) == SC_OK && col <= c);
        FUZZ_ASSERT(strlen(sc_csv_name(t, c)) < 1u << 20);
    }
    /* (most likely) no such column: the message lists them all */
    if (sc_csv_column(t, "\x01none", &col) == SC_OK)
        FUZZ_ASSERT(!strcmp(sc_csv_name(t, col), "\x01none"));
    else
        FUZZ_ASSERT(strstr(sc_last_error(), "no column"));
    int prev = 0;
    for (size_t r = 0; r < rows; r++) {
        int line = sc_csv_line(t, r);
        FUZZ_ASSERT(line > prev);
        prev = line;
        for (int c = 0; c < cols; c++) {
            double v;
            (void)strlen(sc_csv_field(t, r, c));
            int rc = sc_csv_number(t, r, c, &v);
            FUZZ_ASSERT(rc == SC_OK || rc == SC_EINPUT);
        }
    }
}

static void read_one(const char *path, sc_encoding enc, int delim) {
    sc_csv *t = (sc_csv *)1;
    int rc = delim ? sc_csv_read_delim(path, enc, (char)delim, &t) : sc_csv_read(path, enc, &t);
    if (rc != SC_OK) {
        FUZZ_ASSERT(rc == SC_EINPUT && !t && sc_last_error()[0]);
        return;
    }
    walk(t);
    sc_csv_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *csv = fuzz_write("in.csv", data, size);
    const char *tsv = fuzz_write("in.tsv", data, size);
    for (int e = 0; e < 2; e++) {
        sc_encoding enc = e ? SC_LATIN1 : SC_UTF8;
        read_one(csv, enc, 0); /* ',' by the name */
        read_one(tsv, enc, 0); /* '\t' by the name */
        read_one(csv, enc, ';');
    }
    return 0;
}
