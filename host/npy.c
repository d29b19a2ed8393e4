#include "siamcl/npy.h"
#include "siamcl/atomic_file.h"
#include "siamcl/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Array data is copied between memory and file unconverted as '<f4'. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "'<f4' data is little-endian, and so must this host be"
#endif
_Static_assert(sizeof(float) == 4, "float must be IEEE 754 binary32");

static const char magic[] = "\x93NUMPY";
enum {
    MAGIC_LEN = sizeof magic - 1,
    ALIGN = 64,             /* data starts at a multiple of this, as NumPy writes */
    HEADER_LIMIT = 1 << 20, /* NumPy itself refuses headers over 10000 bytes by default */
    MAX_DIMS = 64           /* NumPy's own limit */
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
    } else if (b[6] == 2 && b[7] == 0 && size >= 12) {
        SC_TRY(sc_read_exact(f, path, b + 10, 2));
        *header_len =
            (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
        *start = 12;
    } else {
        return sc_error(SC_EINPUT, "%s: .npy version %d.%d is not supported (only 1.0 and 2.0)",
                        path, b[6], b[7]);
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
    uint64_t dims[2];
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

/* A string in single or double quotes, without escapes, copied to out (size bytes). */
static int take_quoted(cursor *c, char *out, size_t size) {
    skip_space(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char quote = *c->p++;
    size_t n = 0;
    for (; c->p < c->end && *c->p != quote; c->p++) {
        if (n + 1 == size || *c->p == '\\') return 0;
        out[n++] = *c->p;
    }
    if (c->p == c->end) return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

static int take_size(cursor *c, uint64_t *v) {
    skip_space(c);
    if (c->p == c->end || *c->p < '0' || *c->p > '9') return 0;
    for (*v = 0; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        if (*v > (UINT64_MAX - 9) / 10) return 0;
        *v = 10 * *v + (uint64_t)(*c->p - '0');
    }
    return 1;
}

/* A tuple of sizes: "()", "(n,)", "(r, c)", ...; counts them all and keeps the first two. */
static int take_shape(cursor *c, header *h) {
    if (!take(c, '(')) return 0;
    h->ndims = 0;
    while (!take(c, ')')) {
        uint64_t v;
        if (h->ndims == MAX_DIMS || !take_size(c, &v)) return 0;
        if (h->ndims < 2) h->dims[h->ndims] = v;
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
    if (!text) return sc_error(SC_ERR, "out of memory");
    int rc = sc_read_exact(f, path, text, len);
    if (rc == SC_OK && !parse_header(text, len, h))
        rc = sc_error(SC_EINPUT,
                      "%s: malformed header (expected a dict of 'descr', 'fortran_order' and "
                      "'shape')",
                      path);
    free(text);
    return rc;
}

/* Checks the dtype, the order, the shape, and that the data fills the rest of the file. */
static int check_header(const char *path, const header *h, uint64_t data_len) {
    if (strcmp(h->descr, "<f4") != 0)
        return sc_error(SC_EINPUT,
                        "%s: dtype '%s' is not supported (only '<f4', little-endian float32)", path,
                        h->descr);
    if (h->fortran) return sc_error(SC_EINPUT, "%s: Fortran-order arrays are not supported", path);
    if (h->ndims < 1 || h->ndims > 2)
        return sc_error(SC_EINPUT, "%s: %d-dimensional arrays are not supported (only 1-D and 2-D)",
                        path, h->ndims);
    uint64_t rows = h->dims[0], cols = h->ndims == 2 ? h->dims[1] : 1;
    uint64_t needed = cols && rows > UINT64_MAX / 4 / cols ? UINT64_MAX : 4 * rows * cols;
    if (needed > data_len)
        return sc_error(SC_EINPUT,
                        "%s: truncated: shape needs %" PRIu64 " bytes of data, file holds %" PRIu64,
                        path, needed, data_len);
    if (needed < data_len)
        return sc_error(SC_EINPUT, "%s: %" PRIu64 " bytes after the array data", path,
                        data_len - needed);
    return SC_OK;
}

static int load(FILE *f, const char *path, float **data, size_t *rows, size_t *cols) {
    uint64_t size = 0, header_len = 0, start = 0;
    header h = {0};
    SC_TRY(sc_file_size(f, path, &size));
    SC_TRY(read_prefix(f, path, size, &header_len, &start));
    SC_TRY(read_header(f, path, (size_t)header_len, &h));
    SC_TRY(check_header(path, &h, size - start - header_len));
    size_t r = (size_t)h.dims[0], c = h.ndims == 2 ? (size_t)h.dims[1] : 1;
    size_t bytes = r * c * sizeof(float);
    float *x = malloc(bytes ? bytes : sizeof(float));
    if (!x) return sc_error(SC_ERR, "out of memory");
    int rc = sc_read_exact(f, path, x, bytes);
    if (rc != SC_OK) {
        free(x);
        return rc;
    }
    *data = x;
    *rows = r;
    *cols = c;
    return SC_OK;
}

int sc_npy_read(const char *path, float **data, size_t *rows, size_t *cols) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    int rc = load(f, path, data, rows, cols);
    fclose(f);
    return rc;
}
