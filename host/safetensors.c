#include "siamcl/safetensors.h"
#include "atomic_file.h"
#include "siamcl/error.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Tensor data is copied between memory and file unconverted. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian, and so must this host be"
#endif
_Static_assert(sizeof(float) == 4, "float must be IEEE 754 binary32");

enum { HEADER_LIMIT = 100000000 }; /* bytes, as in the reference implementation */
static const char metadata_key[] = "__metadata__";

typedef struct entry {
    const char *name; /* a key of the parsed header */
    int ndims;
    int64_t shape[SC_TENSOR_MAX_DIMS];
    uint64_t begin, end;
} entry;

struct sc_safetensors {
    char *path;
    sc_json *header;
    const sc_json *meta; /* the "__metadata__" object of header, or NULL */
    entry *tensors;      /* sorted by begin */
    size_t ntensors;
    float *data;
};

static int out_of_memory(void) {
    return sc_error(SC_ERR, "out of memory");
}

/* The number of values in t; -1 when a dimension is negative or the bytes overflow. */
static int64_t tensor_size(const sc_tensor *t) {
    int64_t n = 1;
    for (int d = 0; d < t->ndims; d++) {
        if (t->shape[d] < 0) return -1;
        if (t->shape[d] && n > INT64_MAX / 4 / t->shape[d]) return -1;
        n *= t->shape[d];
    }
    return n;
}

static int check_tensor(const char *path, const sc_tensor *t, int i) {
    const char *name = t[i].name;
    if (!name) return sc_error(SC_EINPUT, "%s: tensor %d has no name", path, i);
    if (!sc_json_utf8_valid(name))
        return sc_error(SC_EINPUT, "%s: the name of tensor %d is not valid UTF-8", path, i);
    if (!strcmp(name, metadata_key))
        return sc_error(SC_EINPUT, "%s: the tensor name '%s' is reserved", path, name);
    if (t[i].ndims < 0 || t[i].ndims > SC_TENSOR_MAX_DIMS)
        return sc_error(SC_EINPUT, "%s: tensor '%s' has %d dimensions, at most %d are supported",
                        path, name, t[i].ndims, SC_TENSOR_MAX_DIMS);
    int64_t n = tensor_size(&t[i]);
    if (n < 0)
        return sc_error(SC_EINPUT, "%s: tensor '%s' has a negative or too large dimension", path,
                        name);
    if (n > 0 && !t[i].data) return sc_error(SC_EINPUT, "%s: tensor '%s' has no data", path, name);
    for (int j = 0; j < i; j++)
        if (!strcmp(t[j].name, name))
            return sc_error(SC_EINPUT, "%s: duplicate tensor name '%s'", path, name);
    return SC_OK;
}

static int check_meta(const char *path, const sc_meta *m, int i) {
    if (!m[i].key || !m[i].value)
        return sc_error(SC_EINPUT, "%s: metadata entry %d has no key or no value", path, i);
    if (!sc_json_utf8_valid(m[i].key) || !sc_json_utf8_valid(m[i].value))
        return sc_error(SC_EINPUT, "%s: metadata entry %d is not valid UTF-8", path, i);
    for (int j = 0; j < i; j++)
        if (!strcmp(m[j].key, m[i].key))
            return sc_error(SC_EINPUT, "%s: duplicate metadata key '%s'", path, m[i].key);
    return SC_OK;
}

static void write_meta(FILE *f, const sc_meta *m, int nmeta) {
    fprintf(f, "\"%s\":{", metadata_key);
    for (int i = 0; i < nmeta; i++) {
        if (i > 0) fputc(',', f);
        sc_json_write_string(f, m[i].key);
        fputc(':', f);
        sc_json_write_string(f, m[i].value);
    }
    fputc('}', f);
}

static void write_entry(FILE *f, const sc_tensor *t, uint64_t begin, uint64_t end) {
    sc_json_write_string(f, t->name);
    fputs(":{\"dtype\":\"F32\",\"shape\":[", f);
    for (int d = 0; d < t->ndims; d++) fprintf(f, "%s%" PRId64, d ? "," : "", t->shape[d]);
    fprintf(f, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", begin, end);
}

/* The JSON header, padded with spaces so that the data after it starts at a multiple of 8. */
static int build_header(const sc_tensor *t, int ntensors, const sc_meta *m, int nmeta, char **text,
                        size_t *len) {
    FILE *f = open_memstream(text, len);
    if (!f) return out_of_memory();
    fputc('{', f);
    if (nmeta > 0) write_meta(f, m, nmeta);
    uint64_t offset = 0;
    for (int i = 0; i < ntensors; i++) {
        uint64_t bytes = sizeof(float) * (uint64_t)tensor_size(&t[i]);
        if (i > 0 || nmeta > 0) fputc(',', f);
        write_entry(f, &t[i], offset, offset + bytes);
        offset += bytes;
    }
    fputc('}', f);
    int failed = fflush(f) != 0; /* updates *len */
    if (!failed) fprintf(f, "%*s", (int)((8 - *len % 8) % 8), "");
    failed |= ferror(f);
    if (fclose(f) != 0 || failed) {
        free(*text);
        return out_of_memory();
    }
    return SC_OK;
}

static int write_file(const char *path, const char *header, size_t len, const sc_tensor *t,
                      int ntensors) {
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)len >> 8 * i);
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    fwrite(prefix, 1, sizeof prefix, f.file);
    fwrite(header, 1, len, f.file);
    for (int i = 0; i < ntensors; i++) {
        size_t n = (size_t)tensor_size(&t[i]);
        if (n > 0) fwrite(t[i].data, sizeof(float), n, f.file);
    }
    return sc_atomic_commit(&f);
}

int sc_safetensors_write(const char *path, const sc_tensor *tensors, int ntensors,
                         const sc_meta *meta, int nmeta) {
    for (int i = 0; i < ntensors; i++) SC_TRY(check_tensor(path, tensors, i));
    for (int i = 0; i < nmeta; i++) SC_TRY(check_meta(path, meta, i));
    char *header;
    size_t len;
    SC_TRY(build_header(tensors, ntensors, meta, nmeta, &header, &len));
    int rc = write_file(path, header, len, tensors, ntensors);
    free(header);
    return rc;
}

static int read_header_length(FILE *f, const char *path, uint64_t size, uint64_t *len) {
    unsigned char b[8];
    if (size < sizeof b)
        return sc_error(SC_EINPUT,
                        "%s: not a safetensors file (%" PRIu64
                        " bytes, too short for the 8-byte header length)",
                        path, size);
    SC_TRY(sc_read_exact(f, path, b, sizeof b));
    *len = 0;
    for (int i = 7; i >= 0; i--) *len = *len << 8 | b[i];
    if (*len > size - sizeof b)
        return sc_error(SC_EINPUT,
                        "%s: not a safetensors file (header length %" PRIu64
                        " exceeds file size %" PRIu64 ")",
                        path, *len, size);
    if (*len > HEADER_LIMIT)
        return sc_error(SC_EINPUT, "%s: header length %" PRIu64 " exceeds the limit of %d bytes",
                        path, *len, HEADER_LIMIT);
    return SC_OK;
}

static int read_header(FILE *f, sc_safetensors *st, size_t len) {
    char *text = malloc(len ? len : 1);
    if (!text) return out_of_memory();
    char why[256];
    int rc = sc_read_exact(f, st->path, text, len);
    if (rc == SC_OK) rc = sc_json_parse(text, len, &st->header, why, sizeof why);
    if (rc == SC_EINPUT && !st->header)
        rc = sc_error(SC_EINPUT, "%s: malformed header JSON (%s)", st->path, why);
    free(text);
    if (rc == SC_OK && st->header->type != SC_JSON_OBJECT)
        rc = sc_error(SC_EINPUT, "%s: header is not a JSON object", st->path);
    return rc;
}

static int find_metadata(sc_safetensors *st) {
    st->meta = sc_json_get(st->header, metadata_key);
    if (!st->meta) return SC_OK;
    if (st->meta->type != SC_JSON_OBJECT)
        return sc_error(SC_EINPUT, "%s: %s is not a JSON object", st->path, metadata_key);
    for (size_t i = 0; i < st->meta->count; i++)
        if (st->meta->items[i].type != SC_JSON_STRING)
            return sc_error(SC_EINPUT, "%s: metadata '%s' is not a string", st->path,
                            st->meta->keys[i]);
    return SC_OK;
}

/* Nonzero when v is an integer >= 0. */
static int is_count(const sc_json *v) {
    return v->type == SC_JSON_NUMBER && v->integral && v->integer >= 0;
}

static int parse_shape(const char *path, const sc_json *shape, entry *e) {
    int ok = shape->type == SC_JSON_ARRAY;
    for (size_t d = 0; ok && d < shape->count; d++) ok = is_count(&shape->items[d]);
    if (!ok)
        return sc_error(SC_EINPUT, "%s: tensor '%s': shape is not a list of non-negative integers",
                        path, e->name);
    if (shape->count > SC_TENSOR_MAX_DIMS)
        return sc_error(SC_EINPUT, "%s: tensor '%s' has %zu dimensions, at most %d are supported",
                        path, e->name, shape->count, SC_TENSOR_MAX_DIMS);
    e->ndims = (int)shape->count;
    for (int d = 0; d < SC_TENSOR_MAX_DIMS; d++)
        e->shape[d] = d < e->ndims ? shape->items[d].integer : 1;
    return SC_OK;
}

static int parse_offsets(const char *path, const sc_json *offsets, entry *e) {
    if (offsets->type != SC_JSON_ARRAY || offsets->count != 2 || !is_count(&offsets->items[0]) ||
        !is_count(&offsets->items[1]) || offsets->items[0].integer > offsets->items[1].integer)
        return sc_error(SC_EINPUT,
                        "%s: tensor '%s': data_offsets is not [begin, end] with 0 <= begin <= end",
                        path, e->name);
    e->begin = (uint64_t)offsets->items[0].integer;
    e->end = (uint64_t)offsets->items[1].integer;
    return SC_OK;
}

/* Checks that the shape accounts for exactly the bytes of the tensor's data_offsets. */
static int check_size(const char *path, const entry *e) {
    uint64_t bytes = sizeof(float);
    for (int d = 0; d < e->ndims; d++) {
        uint64_t dim = (uint64_t)e->shape[d];
        bytes = dim && bytes > UINT64_MAX / dim ? UINT64_MAX : bytes * dim; /* saturates */
    }
    if (bytes != e->end - e->begin)
        return sc_error(SC_EINPUT,
                        "%s: tensor '%s': its shape needs %" PRIu64
                        " bytes but data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64,
                        path, e->name, bytes, e->begin, e->end, e->end - e->begin);
    return SC_OK;
}

static int parse_entry(const char *path, const sc_json *v, entry *e) {
    if (v->type != SC_JSON_OBJECT)
        return sc_error(SC_EINPUT, "%s: tensor '%s' is not described by a JSON object", path,
                        e->name);
    const sc_json *dtype = sc_json_get(v, "dtype"), *shape = sc_json_get(v, "shape"),
                  *offsets = sc_json_get(v, "data_offsets");
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
    if (missing) return sc_error(SC_EINPUT, "%s: tensor '%s' has no %s", path, e->name, missing);
    if (dtype->type != SC_JSON_STRING)
        return sc_error(SC_EINPUT, "%s: tensor '%s': dtype is not a string", path, e->name);
    if (strcmp(dtype->string, "F32") != 0)
        return sc_error(SC_EINPUT, "%s: only F32 tensors are supported, tensor '%s' is %s", path,
                        e->name, dtype->string);
    SC_TRY(parse_shape(path, shape, e));
    SC_TRY(parse_offsets(path, offsets, e));
    return check_size(path, e);
}

static int find_tensors(sc_safetensors *st) {
    const sc_json *h = st->header;
    st->tensors = calloc(h->count ? h->count : 1, sizeof *st->tensors);
    if (!st->tensors) return out_of_memory();
    for (size_t i = 0; i < h->count; i++) {
        if (!strcmp(h->keys[i], metadata_key)) continue;
        entry *e = &st->tensors[st->ntensors++];
        e->name = h->keys[i];
        SC_TRY(parse_entry(st->path, &h->items[i], e));
    }
    return SC_OK;
}

static int by_offsets(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Checks that the tensors cover the data section exactly, without gaps or overlaps. */
static int check_layout(sc_safetensors *st, uint64_t data_len) {
    qsort(st->tensors, st->ntensors, sizeof *st->tensors, by_offsets);
    uint64_t pos = 0;
    for (size_t i = 0; i < st->ntensors; i++) {
        const entry *e = &st->tensors[i];
        if (e->begin < pos)
            return sc_error(SC_EINPUT, "%s: the data of tensors '%s' and '%s' overlap", st->path,
                            st->tensors[i - 1].name, e->name);
        if (e->begin > pos)
            return sc_error(SC_EINPUT,
                            "%s: %" PRIu64 " bytes before tensor '%s' belong to no tensor",
                            st->path, e->begin - pos, e->name);
        pos = e->end;
    }
    if (pos > data_len)
        return sc_error(SC_EINPUT,
                        "%s: truncated: header promises %" PRIu64
                        " bytes of tensor data, file holds %" PRIu64,
                        st->path, pos, data_len);
    if (pos < data_len)
        return sc_error(SC_EINPUT,
                        "%s: %" PRIu64 " bytes after the last tensor belong to no tensor", st->path,
                        data_len - pos);
    return SC_OK;
}

static int read_data(FILE *f, sc_safetensors *st, uint64_t len) {
    st->data = malloc(len ? (size_t)len : 1);
    if (!st->data) return out_of_memory();
    return sc_read_exact(f, st->path, st->data, (size_t)len);
}

static int load(FILE *f, sc_safetensors *st) {
    uint64_t size = 0, header_len = 0;
    SC_TRY(sc_file_size(f, st->path, &size));
    SC_TRY(read_header_length(f, st->path, size, &header_len));
    SC_TRY(read_header(f, st, (size_t)header_len));
    SC_TRY(find_metadata(st));
    SC_TRY(find_tensors(st));
    uint64_t data_len = size - 8 - header_len;
    SC_TRY(check_layout(st, data_len));
    return read_data(f, st, data_len);
}

int sc_safetensors_read(const char *path, sc_safetensors **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    sc_safetensors *st = calloc(1, sizeof *st);
    int rc = st && (st->path = strdup(path)) ? load(f, st) : out_of_memory();
    fclose(f);
    if (rc != SC_OK) {
        sc_safetensors_free(st);
        return rc;
    }
    *out = st;
    return SC_OK;
}

int sc_safetensors_tensor(const sc_safetensors *st, const char *name, const float **data,
                          int *ndims, int64_t shape[SC_TENSOR_MAX_DIMS]) {
    for (size_t i = 0; i < st->ntensors; i++) {
        const entry *e = &st->tensors[i];
        if (strcmp(e->name, name) != 0) continue;
        *data = st->data + e->begin / sizeof(float);
        *ndims = e->ndims;
        memcpy(shape, e->shape, sizeof e->shape);
        return SC_OK;
    }
    return sc_error(SC_EINPUT, "%s: no tensor '%s'", st->path, name);
}

const char *sc_safetensors_meta(const sc_safetensors *st, const char *key) {
    const sc_json *v = st->meta ? sc_json_get(st->meta, key) : NULL;
    return v ? v->string : NULL;
}

void sc_safetensors_free(sc_safetensors *st) {
    if (!st) return;
    free(st->data);
    free(st->tensors);
    sc_json_free(st->header);
    free(st->path);
    free(st);
}
