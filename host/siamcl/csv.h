/* CSV and TSV tables (RFC 4180), read whole into memory and decoded to UTF-8.
 *
 * A field is quoted when it starts with '"'; inside quotes '""' is one '"', and delimiters,
 * CR and LF are data. Records end with LF or CRLF; the last one may lack it. A UTF-8 byte order
 * mark at the start is skipped, blank lines are skipped, and the first record is the header.
 * Every record must have as many fields as the header. Errors name the file and line. */
#ifndef SIAMCL_CSV_H
#define SIAMCL_CSV_H

#include <stddef.h>

/* How the file's bytes are text. utf-8: validated. latin-1: every byte is a code point
 * (ISO 8859-1), so a byte >= 0x80 becomes two bytes of UTF-8. */
typedef enum sc_encoding { SC_UTF8, SC_LATIN1 } sc_encoding;

/* The encodings' names, indexed by sc_encoding and NULL-terminated (for sc_cfg_enum). */
extern const char *const sc_encoding_names[];

/* "utf-8" or "latin-1"; anything else is an SC_EINPUT error. */
int sc_encoding_parse(const char *name, sc_encoding *out);

typedef struct sc_csv sc_csv;

/* Reads a table; the delimiter is '\t' when the path ends in ".tsv", else ','. */
int sc_csv_read(const char *path, sc_encoding enc, sc_csv **out);
/* Reads a table with the given delimiter (not '"', CR or LF). */
int sc_csv_read_delim(const char *path, sc_encoding enc, char delim, sc_csv **out);
void sc_csv_free(sc_csv *t);

const char *sc_csv_path(const sc_csv *t);
/* Data rows, the header not counted. */
size_t sc_csv_rows(const sc_csv *t);
int sc_csv_columns(const sc_csv *t);
/* The header's name of column col. */
const char *sc_csv_name(const sc_csv *t, int col);
/* The first column called name; none is an SC_EINPUT error listing the columns there are. */
int sc_csv_column(const sc_csv *t, const char *name, int *col);
/* A field as NUL-terminated UTF-8, valid until sc_csv_free (row < rows, col < columns). */
const char *sc_csv_field(const sc_csv *t, size_t row, int col);
/* The line of the file where a data row starts (1-based), for error messages. */
int sc_csv_line(const sc_csv *t, size_t row);
/* A field as a finite number; an empty or malformed field is an SC_EINPUT error naming the
 * file, line and column. */
int sc_csv_number(const sc_csv *t, size_t row, int col, double *out);

/* Whether text (n bytes, read from path) is well-formed UTF-8 without NUL bytes: SC_OK, or an
 * SC_EINPUT error naming path and the line. */
int sc_text_check(const char *path, const char *text, size_t n);

#endif
