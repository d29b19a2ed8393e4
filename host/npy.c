#include "siamcl/npy.h"
#include "atomic_file.h"
#include "siamcl/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The writer and the readers' '<f4' fast path copy data between memory and file unconverted;
 * other dtypes are decoded byte by byte, in either order. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "'<f4' data is little-endian, and so must this host be"
#endif
_Static_assert(sizeof(float) == 4, "float must be IEEE 754 binary32");
_Static_assert(sizeof(double) == 8, "double must be IEEE 754 binary64");

static const char magic[] = "\x93NUMPY";
enum {
    MAGIC_LEN = sizeof magic - 1,
    ALIGN = 64,             /* data starts at a multiple of this, as NumPy writes */
    HEADER_LIMIT = 1 << 20, /* NumPy itself refuses headers over 10000 bytes by default */
    MAX_DIMS = 64,          /* NumPy's own limit */
    CHUNK = 1 << 14         /* bytes read at a time when values need converting */
};

int sc_npy_write(const char *path, const float *data, size_t rows, size_t cols) {
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return sc_error(SC_EINPUT, "%s: %zu x %zu floats are too many", path, rows, cols);
    if (rows * cols > 0 && !data) return sc_error(SC_EINPUT, "%s: no data", path);
    char dict[128]; /* room for two 20-digit sizes */
    int n = snprintf(dict, sizeof dict,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", rows, cols);
    size_t header_len = (size_t)n + 1; /* the dict, spaces, '\n' */
    header_len += (ALIGN - (MAGIC_LEN + 4 + header_len) % ALIGN) % ALIGN;
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    fwrite(magic, 1, MAGIC_LEN, f.file);
    const unsigned char version_and_len[4] = {1, 0, header_len & 0xFF, header_len >> 8};
    fwrite(version_and_len, 1, sizeof version_and_len, f.file);
    fprintf(f.file, "%-*s\n", (int)header_len - 1, dict);
    if (rows * cols > 0) fwrite(data, sizeof(float), rows * cols, f.file);
    return sc_atomic_commit(&f);
}

/* Reads magic, version and header length; *start is where the header begins. */
static int read_prefix(FILE *f, const char *path, uint64_t size, uint64_t *header_len,
                       uint64_t *start) {
    unsigned char b[12];
    if (size < 10 || fread(b, 1, 10, f) != 10 || memcmp(b, magic, MAGIC_LEN) != 0)
        return sc_error(SC_EINPUT, "%s: not a .npy file (bad magic)", path);
    if (b[6] == 1 && b[7] == 0) {
        *header_len = (uint64_t)b[8] | (uint64_t)b[9] << 8;
        *start = 10;
    } else if ((b[6] == 2 || b[6] == 3) && b[7] == 0) { /* 3.0: 2.0 with a UTF-8 header */
        if (size < 12) return sc_error(SC_EINPUT, "%s: truncated: no header length", path);
        SC_TRY(sc_read_exact(f, path, b + 10, 2));
        *header_len =
            (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
        *start = 12;
    } else {
        return sc_error(SC_EINPUT,
                        "%s: .npy version %d.%d is not supported (only 1.0, 2.0 and 3.0)", path,
                        b[6], b[7]);
    }
    if (*header_len > size - *start)
        return sc_error(SC_EINPUT, "%s: truncated: header length %" PRIu64 " exceeds the file",
                        path, *header_len);
    if (*header_len > HEADER_LIMIT)
        return sc_error(SC_EINPUT, "%s: header length %" PRIu64 " exceeds the limit of %d bytes",
                        path, *header_len, HEADER_LIMIT);
    return SC_OK;
}

/* The header dict: a Python literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } */
typedef struct header {
    char descr[16];
    int fortran; /* -1 until seen */
    int ndims;   /* -1 until seen */
    uint64_t dims[MAX_DIMS];
} header;

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n')) c->p++;
}

/* Consumes ch after optional whitespace; 0 when the next byte is something else. */
static int take(cursor *c, char ch) {
    skip_space(c);
    if (c->p == c->end || *c->p != ch) return 0;
    c->p++;
    return 1;
}

static int take_word(cursor *c, const char *word) {
    size_t n = strlen(word);
    skip_space(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
    c->p += n;
    return 1;
}

/* A string in single or double quotes, without escapes or control characters (which would
 * end up in messages), copied to out (size bytes). */
static int take_quoted(cursor *c, char *out, size_t size) {
    skip_space(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char quote = *c->p++;
    size_t n = 0;
    for (; c->p < c->end && *c->p != quote; c->p++) {
        unsigned char ch = (unsigned char)*c->p;
        if (n + 1 == size || ch == '\\' || ch < ' ' || ch == 0x7f) return 0;
        out[n++] = (char)ch;
    }
    if (c->p == c->end) return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

/* A decimal size; Python 2 wrote longs with a suffix, "3L". */
static int take_size(cursor *c, uint64_t *v) {
    skip_space(c);
    if (c->p == c->end || *c->p < '0' || *c->p > '9') return 0;
    for (*v = 0; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        if (*v > (UINT64_MAX - 9) / 10) return 0;
        *v = 10 * *v + (uint64_t)(*c->p - '0');
    }
    if (c->p < c->end && *c->p == 'L') c->p++;
    return 1;
}

/* A tuple of sizes: "()", "(n,)", "(r, c)", ... */
static int take_shape(cursor *c, header *h) {
    if (!take(c, '(')) return 0;
    h->ndims = 0;
    while (!take(c, ')')) {
        if (h->ndims == MAX_DIMS || !take_size(c, &h->dims[h->ndims])) return 0;
        h->ndims++;
        if (!take(c, ',')) return h->ndims > 1 && take(c, ')'); /* "(n)" is no tuple */
    }
    return 1;
}

static int take_bool(cursor *c, int *v) {
    if (take_word(c, "False"))
        *v = 0;
    else if (take_word(c, "True"))
        *v = 1;
    else
        return 0;
    return 1;
}

static int take_value(cursor *c, const char *key, header *h) {
    if (!strcmp(key, "descr")) return take_quoted(c, h->descr, sizeof h->descr);
    if (!strcmp(key, "fortran_order")) return take_bool(c, &h->fortran);
    if (!strcmp(key, "shape")) return take_shape(c, h);
    return 0;
}

/* Parses the dict; 0 when it is malformed, lacks a key or has another. */
static int parse_header(const char *text, size_t len, header *h) {
    cursor c = {text, text + len};
    h->fortran = h->ndims = -1;
    if (!take(&c, '{')) return 0;
    while (!take(&c, '}')) {
        char key[16];
        if (!take_quoted(&c, key, sizeof key) || !take(&c, ':') || !take_value(&c, key, h))
            return 0;
        if (take(&c, ',')) continue;
        if (!take(&c, '}')) return 0;
        break;
    }
    skip_space(&c);
    return c.p == c.end && h->descr[0] && h->fortran >= 0 && h->ndims >= 0;
}

static int read_header(FILE *f, const char *path, size_t len, header *h) {
    char *text = malloc(len ? len : 1);
    if (!text) return sc_error(SC_ERR, "%s: out of memory for a header of %zu bytes", path, len);
    int rc = sc_read_exact(f, path, text, len);
    if (rc == SC_OK && !parse_header(text, len, h))
        rc = sc_error(SC_EINPUT,
                      "%s: malformed header (expected a dict of 'descr', 'fortran_order' and "
                      "'shape')",
                      path);
    free(text);
    return rc;
}

/* An element type: '<f8', '>i2', '|u1', ... */
typedef struct dtype {
    char kind; /* 'f', 'i' or 'u' */
    int size;  /* bytes per element */
    int big;   /* big-endian (single bytes have no order) */
} dtype;

/* 0 for any dtype other than a float32, float64 or integer of 1, 2, 4 or 8 bytes. */
static int parse_dtype(const char *descr, dtype *t) {
    if (strlen(descr) != 3 || !strchr("<>|", descr[0]) || !strchr("fiu", descr[1])) return 0;
    t->kind = descr[1];
    t->size = descr[2] - '0';
    t->big = descr[0] == '>' && t->size > 1;
    int sized = t->kind == 'f' ? t->size == 4 || t->size == 8
                               : t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8;
    return sized && (descr[0] != '|' || t->size == 1); /* '|f4' leaves the order unsaid */
}

static int float_dtype(const char *path, const char *descr, dtype *t) {
    if (!parse_dtype(descr, t) || t->kind != 'f')
        return sc_error(SC_EINPUT,
                        "%s: dtype '%s' is not supported (only '<f4' and '<f8', float32 and "
                        "float64, or their big-endian forms '>f4' and '>f8')",
                        path, descr);
    return SC_OK;
}

static int int_dtype(const char *path, const char *descr, dtype *t) {
    if (!parse_dtype(descr, t) || t->kind == 'f')
        return sc_error(SC_EINPUT,
                        "%s: dtype '%s' is not an integer type (labels must be '|i1', '|u1', "
                        "'<i2', '<u2', '<i4', '<u4', '<i8' or '<u8', or big-endian '>i2' ...)",
                        path, descr);
    return SC_OK;
}

/* What a reader accepts: 2-D or 1-D read as a column, exactly 2-D, or labels. */
typedef enum layout { ROWS_OR_VECTOR, MATRIX, LABELS } layout;

/* "(2, 3)", "(5,)", "()" as Python writes tuples. */
static const char *format_shape(const header *h, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < h->ndims && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%" PRIu64, i ? ", " : "", h->dims[i]);
    if (n < size) snprintf(buf + n, size - n, h->ndims == 1 ? ",)" : ")");
    return buf;
}

static int check_shape(const char *path, const header *h, layout want, uint64_t *rows,
                       uint64_t *cols) {
    char shape[MAX_DIMS * 22 + 4];
    int ok = want == MATRIX   ? h->ndims == 2
             : want == LABELS ? h->ndims == 1 || (h->ndims == 2 && h->dims[1] == 1)
                              : h->ndims == 1 || h->ndims == 2;
    if (!ok && want == MATRIX)
        return sc_error(SC_EINPUT, "%s: expected a 2-D array (rows x columns), found shape %s",
                        path, format_shape(h, shape, sizeof shape));
    if (!ok && want == LABELS)
        return sc_error(SC_EINPUT,
                        "%s: expected a 1-D array of labels (or shape (n, 1)), found shape %s",
                        path, format_shape(h, shape, sizeof shape));
    if (!ok)
        return sc_error(SC_EINPUT, "%s: %d-dimensional arrays are not supported (only 1-D and 2-D)",
                        path, h->ndims);
    *rows = h->dims[0];
    *cols = h->ndims == 2 ? h->dims[1] : 1;
    return SC_OK;
}

/* A checked array, its stream at the data. */
typedef struct array {
    header h;
    dtype t;
    size_t rows, cols, count;
} array;

/* That the data exactly fills the rest of the file, and that out_size bytes per value fit in
 * memory; sizes saturate rather than wrap. */
static int check_size(const char *path, array *a, uint64_t rows, uint64_t cols, size_t out_size,
                      uint64_t data_len) {
    uint64_t count = cols && rows > UINT64_MAX / cols ? UINT64_MAX : rows * cols;
    uint64_t size = (uint64_t)a->t.size;
    uint64_t needed = count > UINT64_MAX / size ? UINT64_MAX : count * size;
    if (needed > data_len)
        return sc_error(SC_EINPUT,
                        "%s: truncated: shape needs %" PRIu64 " bytes of data, file holds %" PRIu64,
                        path, needed, data_len);
    if (needed < data_len)
        return sc_error(SC_EINPUT, "%s: %" PRIu64 " bytes after the array data", path,
                        data_len - needed);
    if (rows > SIZE_MAX || cols > SIZE_MAX || count > SIZE_MAX / out_size)
        return sc_error(SC_EINPUT, "%s: %" PRIu64 " x %" PRIu64 " values do not fit in memory",
                        path, rows, cols);
    a->rows = (size_t)rows;
    a->cols = (size_t)cols;
    a->count = (size_t)count;
    return SC_OK;
}

/* Reads and checks everything before the data. */
static int open_array(FILE *f, const char *path, layout want, array *a) {
    uint64_t size = 0, header_len = 0, start = 0, rows, cols;
    SC_TRY(sc_file_size(f, path, &size));
    SC_TRY(read_prefix(f, path, size, &header_len, &start));
    SC_TRY(read_header(f, path, (size_t)header_len, &a->h));
    SC_TRY(want == LABELS ? int_dtype(path, a->h.descr, &a->t)
                          : float_dtype(path, a->h.descr, &a->t));
    if (a->h.fortran)
        return sc_error(SC_EINPUT, "%s: Fortran-order arrays are not supported", path);
    SC_TRY(check_shape(path, &a->h, want, &rows, &cols));
    size_t out_size = want == LABELS ? sizeof(int64_t) : sizeof(float);
    return check_size(path, a, rows, cols, out_size, size - start - header_len);
}

/* Where decoded values go: floats or ints, and the first value that does not fit. */
typedef struct sink {
    float *floats;
    int64_t *ints;
    size_t bad; /* SIZE_MAX: none */
} sink;

static uint64_t load_bits(const unsigned char *p, const dtype *t) {
    uint64_t v = 0;
    for (int k = 0; k < t->size; k++) v |= (uint64_t)p[t->big ? t->size - 1 - k : k] << 8 * k;
    return v;
}

/* 0 when a finite float64 value overflows float32 (it still converts, to an infinity). */
static int put_float(const dtype *t, uint64_t bits, float *out) {
    if (t->size == 4) {
        uint32_t b = (uint32_t)bits;
        memcpy(out, &b, sizeof b);
        return 1;
    }
    double d;
    memcpy(&d, &bits, sizeof d);
    *out = (float)d;
    return !isfinite(d) || isfinite(*out);
}

/* 0 when an unsigned value exceeds INT64_MAX. */
static int put_int(const dtype *t, uint64_t v, int64_t *out) {
    int bits = 8 * t->size;
    if (t->kind == 'u') {
        *out = v <= INT64_MAX ? (int64_t)v : INT64_MAX;
        return v <= INT64_MAX;
    }
    if (bits < 64 && (v >> (bits - 1) & 1)) v |= UINT64_MAX << bits; /* sign-extend */
    *out = v <= INT64_MAX ? (int64_t)v : -(int64_t)(UINT64_MAX - v) - 1;
    return 1;
}

static void decode(const dtype *t, const unsigned char *raw, size_t first, size_t n, sink *s) {
    for (size_t j = 0; j < n; j++) {
        uint64_t bits = load_bits(raw + j * (size_t)t->size, t);
        size_t i = first + j;
        int fits = s->floats ? put_float(t, bits, s->floats + i) : put_int(t, bits, s->ints + i);
        if (!fits && s->bad == SIZE_MAX) s->bad = i;
    }
}

/* Reads and converts the data a chunk at a time, so that float64 needs no second copy. */
static int read_values(FILE *f, const char *path, const array *a, sink *s) {
    if (s->floats && a->t.size == 4 && !a->t.big) /* '<f4' is this host's float */
        return sc_read_exact(f, path, s->floats, a->count * sizeof(float));
    unsigned char raw[CHUNK];
    size_t per = CHUNK / (size_t)a->t.size;
    for (size_t i = 0; i < a->count; i += per) {
        size_t n = a->count - i < per ? a->count - i : per;
        SC_TRY(sc_read_exact(f, path, raw, n * (size_t)a->t.size));
        decode(&a->t, raw, i, n, s);
    }
    return SC_OK;
}

static int check_finite(const char *path, const array *a, const float *x, size_t overflow) {
    for (size_t i = 0; i < a->count; i++) {
        if (isfinite(x[i])) continue;
        if (i == overflow)
            return sc_error(SC_EINPUT,
                            "%s: row %zu holds a value beyond the float32 range (column %zu)", path,
                            i / a->cols, i % a->cols);
        return sc_error(SC_EINPUT, "%s: row %zu holds a non-finite value (%g in column %zu)", path,
                        i / a->cols, (double)x[i], i % a->cols);
    }
    return SC_OK;
}

static int load_floats(FILE *f, const char *path, layout want, float **data, size_t *rows,
                       size_t *cols) {
    array a = {0};
    SC_TRY(open_array(f, path, want, &a));
    float *x = malloc(a.count ? a.count * sizeof *x : sizeof *x);
    if (!x) return sc_error(SC_ERR, "%s: out of memory for %zu values", path, a.count);
    sink s = {x, NULL, SIZE_MAX};
    int rc = read_values(f, path, &a, &s);
    if (rc == SC_OK && want == MATRIX) rc = check_finite(path, &a, x, s.bad);
    if (rc != SC_OK) {
        free(x);
        return rc;
    }
    *data = x;
    *rows = a.rows;
    *cols = a.cols;
    return SC_OK;
}

static int load_labels(FILE *f, const char *path, int64_t **labels, size_t *n) {
    array a = {0};
    SC_TRY(open_array(f, path, LABELS, &a));
    int64_t *y = malloc(a.count ? a.count * sizeof *y : sizeof *y);
    if (!y) return sc_error(SC_ERR, "%s: out of memory for %zu labels", path, a.count);
    sink s = {NULL, y, SIZE_MAX};
    int rc = read_values(f, path, &a, &s);
    if (rc == SC_OK && s.bad != SIZE_MAX)
        rc = sc_error(SC_EINPUT, "%s: label %zu exceeds the int64 range (above %" PRId64 ")", path,
                      s.bad, INT64_MAX);
    if (rc != SC_OK) {
        free(y);
        return rc;
    }
    *labels = y;
    *n = a.count;
    return SC_OK;
}

static FILE *open_file(const char *path, int *rc) {
    FILE *f = fopen(path, "rb");
    *rc = f ? SC_OK : sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    return f;
}

static int read_floats(const char *path, layout want, float **data, size_t *rows, size_t *cols) {
    *data = NULL;
    int rc;
    FILE *f = open_file(path, &rc);
    if (!f) return rc;
    rc = load_floats(f, path, want, data, rows, cols);
    fclose(f);
    return rc;
}

int sc_npy_read(const char *path, float **data, size_t *rows, size_t *cols) {
    return read_floats(path, ROWS_OR_VECTOR, data, rows, cols);
}

int sc_npy_read_matrix(const char *path, float **data, size_t *rows, size_t *cols) {
    return read_floats(path, MATRIX, data, rows, cols);
}

int sc_npy_read_labels(const char *path, int64_t **labels, size_t *n) {
    *labels = NULL;
    int rc;
    FILE *f = open_file(path, &rc);
    if (!f) return rc;
    rc = load_labels(f, path, labels, n);
    fclose(f);
    return rc;
}
