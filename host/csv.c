#include "siamcl/csv.h"
#include "siamcl/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const sc_encoding_names[] = {"utf-8", "latin-1", NULL};

struct sc_csv {
    char *path;
    char *text;    /* the decoded file; parsing rewrites it into NUL-terminated fields */
    size_t *field; /* offset in text of every field, record by record, the header first */
    int *line;     /* the line where each record starts */
    size_t records, nfields;
    int cols;
};

/* Where the parser is in the text it rewrites in place: fields shrink (quotes go, delimiters
 * become NULs), so the write position never passes the read position. */
typedef struct parser {
    sc_csv *t;
    char *s;
    size_t n, r, w; /* text length, read and write positions */
    int line;
    char delim;
} parser;

int sc_encoding_parse(const char *name, sc_encoding *out) {
    for (int i = 0; sc_encoding_names[i]; i++) {
        if (!strcmp(name, sc_encoding_names[i])) {
            *out = (sc_encoding)i;
            return SC_OK;
        }
    }
    return sc_error(SC_EINPUT, "unknown encoding '%s' (expected utf-8 or latin-1)", name);
}

/* Reads a whole file into *data, which has at least one byte to spare past *n. */
static int slurp(const char *path, char **data, size_t *n) {
    struct stat sb;
    *data = NULL;
    *n = 0;
    if (stat(path, &sb) != 0) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return sc_error(SC_EINPUT, "%s: is a directory", path);
    FILE *f = fopen(path, "rb");
    if (!f) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = (size_t)sb.st_size + 4096, len = 0;
    for (;;) {
        char *grown = realloc(buf, cap);
        if (!grown) {
            free(buf);
            fclose(f);
            return sc_error(SC_ERR, "%s: out of memory", path);
        }
        buf = grown;
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return sc_error(SC_EINPUT, "%s: read error", path);
    }
    *data = buf;
    *n = len;
    return SC_OK;
}

/* Converts latin-1 to UTF-8 in a new buffer with a byte to spare; NULL when out of memory. */
static char *latin1_to_utf8(const char *in, size_t n, size_t *out_n) {
    const unsigned char *s = (const unsigned char *)in;
    size_t high = 0;
    for (size_t i = 0; i < n; i++) high += s[i] >> 7;
    unsigned char *out = malloc(n + high + 1), *w = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            *w++ = s[i];
        } else {
            *w++ = (unsigned char)(0xC0 | s[i] >> 6);
            *w++ = (unsigned char)(0x80 | (s[i] & 0x3F));
        }
    }
    *out_n = n + high;
    return (char *)out;
}

/* The length of the well-formed UTF-8 sequence starting s[0..n), 0 if there is none (stray
 * continuation bytes, overlong forms, surrogates, code points past U+10FFFF, truncation). */
static size_t utf8_length(const unsigned char *s, size_t n) {
    unsigned lo = 0x80, hi = 0xBF;
    size_t len;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        if (s[0] == 0xE0) lo = 0xA0;
        if (s[0] == 0xED) hi = 0x9F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        if (s[0] == 0xF0) lo = 0x90;
        if (s[0] == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return len;
}

int sc_text_check(const char *path, const char *text, size_t n) {
    const unsigned char *s = (const unsigned char *)text;
    int line = 1;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_length(s + i, n - i);
        if (!len)
            return sc_error(SC_EINPUT,
                            "%s:%d: invalid UTF-8 (byte 0x%02X); if the file is latin-1, read "
                            "it as latin-1",
                            path, line, s[i]);
        if (!s[i]) return sc_error(SC_EINPUT, "%s:%d: NUL byte (not a text file?)", path, line);
        if (s[i] == '\n') line++;
        i += len;
    }
    return SC_OK;
}

/* Fills t->text with the file as UTF-8, without a byte order mark, NUL at the end. */
static int load_text(sc_csv *t, sc_encoding enc, size_t *n) {
    char *raw;
    SC_TRY(slurp(t->path, &raw, n));
    if (*n >= 3 && !memcmp(raw, "\xEF\xBB\xBF", 3)) {
        *n -= 3;
        memmove(raw, raw + 3, *n);
    }
    if (enc == SC_LATIN1) {
        t->text = latin1_to_utf8(raw, *n, n);
        free(raw);
        if (!t->text) return sc_error(SC_ERR, "%s: out of memory", t->path);
    } else {
        t->text = raw;
    }
    t->text[*n] = '\0';
    return sc_text_check(t->path, t->text, *n);
}

/* Sizes the field and record arrays for the most the text can hold. */
static int reserve(sc_csv *t, size_t n, char delim) {
    size_t delims = 0, newlines = 0;
    for (size_t i = 0; i < n; i++) {
        delims += t->text[i] == delim;
        newlines += t->text[i] == '\n';
    }
    t->field = malloc((delims + newlines + 1) * sizeof *t->field);
    t->line = malloc((newlines + 1) * sizeof *t->line);
    if (!t->field || !t->line) return sc_error(SC_ERR, "%s: out of memory", t->path);
    return SC_OK;
}

/* The length of the line end (LF or CRLF) at the read position, 0 if there is none. */
static size_t line_end(const parser *p) {
    if (p->r >= p->n) return 0;
    if (p->s[p->r] == '\n') return 1;
    return p->s[p->r] == '\r' && p->r + 1 < p->n && p->s[p->r + 1] == '\n' ? 2 : 0;
}

static void skip_blank_lines(parser *p) {
    for (size_t end; (end = line_end(p)) > 0; p->line++) p->r += end;
}

static void plain_field(parser *p) {
    while (p->r < p->n && p->s[p->r] != p->delim && !line_end(p)) p->s[p->w++] = p->s[p->r++];
}

static int quoted_field(parser *p) {
    int open = p->line;
    for (p->r++;;) {
        if (p->r == p->n)
            return sc_error(SC_EINPUT, "%s:%d: quoted field never closed (it opens on this line)",
                            p->t->path, open);
        char c = p->s[p->r++];
        if (c == '"' && (p->r == p->n || p->s[p->r] != '"')) break;
        if (c == '"')
            p->r++; /* the second of a doubled quote */
        else if (c == '\n')
            p->line++;
        p->s[p->w++] = c;
    }
    if (p->r < p->n && p->s[p->r] != p->delim && !line_end(p))
        return sc_error(SC_EINPUT,
                        "%s:%d: text after a closing quote (a '\"' inside a quoted field must be "
                        "doubled)",
                        p->t->path, p->line);
    return SC_OK;
}

static int parse_record(parser *p) {
    sc_csv *t = p->t;
    int line = p->line;
    size_t first = t->nfields;
    t->line[t->records++] = line;
    for (;;) {
        t->field[t->nfields++] = p->w;
        if (p->r < p->n && p->s[p->r] == '"')
            SC_TRY(quoted_field(p));
        else
            plain_field(p);
        int more = p->r < p->n && p->s[p->r] == p->delim;
        size_t skip = more ? 1 : line_end(p);
        p->s[p->w++] = '\0'; /* may overwrite the delimiter or line end, already seen */
        p->r += skip;
        if (!more) {
            p->line += skip > 0;
            break;
        }
    }
    size_t count = t->nfields - first;
    if (t->records == 1) {
        t->cols = (int)count;
    } else if (count != (size_t)t->cols) {
        return sc_error(SC_EINPUT, "%s:%d: %zu fields, but the header has %d", t->path, line, count,
                        t->cols);
    }
    return SC_OK;
}

static int parse(sc_csv *t, size_t n, char delim) {
    SC_TRY(reserve(t, n, delim));
    parser p = {.t = t, .s = t->text, .n = n, .line = 1, .delim = delim};
    for (skip_blank_lines(&p); p.r < n; skip_blank_lines(&p)) SC_TRY(parse_record(&p));
    if (!t->records) return sc_error(SC_EINPUT, "%s: empty file", t->path);
    return SC_OK;
}

int sc_csv_read_delim(const char *path, sc_encoding enc, char delim, sc_csv **out) {
    *out = NULL;
    if (delim == '"' || delim == '\r' || delim == '\n' || delim == '\0')
        return sc_error(SC_EINPUT, "%s: a delimiter cannot be a quote, CR, LF or NUL", path);
    sc_csv *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        sc_csv_free(t);
        return sc_error(SC_ERR, "%s: out of memory", path);
    }
    size_t n;
    int rc = load_text(t, enc, &n);
    if (rc == SC_OK) rc = parse(t, n, delim);
    if (rc != SC_OK) {
        sc_csv_free(t);
        return rc;
    }
    *out = t;
    return SC_OK;
}

int sc_csv_read(const char *path, sc_encoding enc, sc_csv **out) {
    size_t n = strlen(path);
    int tsv = n >= 4 && !strcmp(path + n - 4, ".tsv");
    return sc_csv_read_delim(path, enc, tsv ? '\t' : ',', out);
}

void sc_csv_free(sc_csv *t) {
    if (!t) return;
    free(t->path);
    free(t->text);
    free(t->field);
    free(t->line);
    free(t);
}

const char *sc_csv_path(const sc_csv *t) {
    return t->path;
}

size_t sc_csv_rows(const sc_csv *t) {
    return t->records - 1;
}

int sc_csv_columns(const sc_csv *t) {
    return t->cols;
}

const char *sc_csv_name(const sc_csv *t, int col) {
    return t->text + t->field[col];
}

const char *sc_csv_field(const sc_csv *t, size_t row, int col) {
    return t->text + t->field[(row + 1) * (size_t)t->cols + (size_t)col];
}

int sc_csv_line(const sc_csv *t, size_t row) {
    return t->line[row + 1];
}

int sc_csv_column(const sc_csv *t, const char *name, int *col) {
    for (int c = 0; c < t->cols; c++) {
        if (!strcmp(sc_csv_name(t, c), name)) {
            *col = c;
            return SC_OK;
        }
    }
    char list[1024] = "";
    for (int c = 0; c < t->cols; c++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s'%s'", c ? ", " : "", sc_csv_name(t, c));
    }
    return sc_error(SC_EINPUT, "%s: no column '%s' (the columns are %s)", t->path, name, list);
}

int sc_csv_number(const sc_csv *t, size_t row, int col, double *out) {
    const char *s = sc_csv_field(t, row, col);
    char *end;
    *out = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end != s && !*end && isfinite(*out)) return SC_OK;
    if (!*s)
        return sc_error(SC_EINPUT, "%s:%d: column '%s' is empty (expected a number)", t->path,
                        sc_csv_line(t, row), sc_csv_name(t, col));
    return sc_error(SC_EINPUT, "%s:%d: column '%s': '%.60s' is not a number", t->path,
                    sc_csv_line(t, row), sc_csv_name(t, col), s);
}
