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
    json_t *header;
    json_t *meta;   /* the "__metadata__" object of header (borrowed), or NULL */
    entry *tensors; /* sorted by begin */
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

/* {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}; NULL when out of memory. */
static json_t *entry_json(const sc_tensor *t, uint64_t begin, uint64_t end) {
    json_t *shape = json_array();
    for (int d = 0; shape && d < t->ndims; d++) {
        if (json_array_append_new(shape, json_integer(t->shape[d])) != 0) {
            json_decref(shape);
            shape = NULL;
        }
    }
    /* "o" hands shape over even when packing fails; offsets fit: the data is in memory */
    return json_pack("{s:s,s:o,s:[I,I]}", "dtype", "F32", "shape", shape, "data_offsets",
                     (json_int_t)begin, (json_int_t)end);
}

static json_t *meta_json(const sc_meta *m, int nmeta) {
    json_t *o = json_object();
    for (int i = 0; o && i < nmeta; i++) {
        if (json_object_set_new(o, m[i].key, json_string(m[i].value)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* The header as a tree, in the order given (jansson keeps insertion order); NULL when out of
 * memory. json_object_set_new takes the value even when it fails. */
static json_t *header_json(const sc_tensor *t, int ntensors, const sc_meta *m, int nmeta) {
    json_t *h = json_object();
    int failed = !h || (nmeta > 0 && json_object_set_new(h, metadata_key, meta_json(m, nmeta)));
    uint64_t offset = 0;
    for (int i = 0; i < ntensors && !failed; i++) {
        uint64_t bytes = sizeof(float) * (uint64_t)tensor_size(&t[i]);
        failed = json_object_set_new(h, t[i].name, entry_json(&t[i], offset, offset + bytes));
        offset += bytes;
    }
    if (!failed) return h;
    json_decref(h);
    return NULL;
}

/* The compact JSON header, padded with spaces so that the data after it starts at a multiple
 * of 8. */
static int build_header(const sc_tensor *t, int ntensors, const sc_meta *m, int nmeta, char **text,
                        size_t *len) {
    json_t *h = header_json(t, ntensors, m, nmeta);
    size_t n = h ? json_dumpb(h, NULL, 0, JSON_COMPACT) : 0;
    *len = (n + 7) / 8 * 8;
    *text = n ? malloc(*len) : NULL;
    int ok = *text && json_dumpb(h, *text, n, JSON_COMPACT) == n;
    json_decref(h);
    if (!ok) {
        free(*text);
        return out_of_memory();
    }
    memset(*text + n, ' ', *len - n);
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

/* The header length in the first 8 bytes of a file of size bytes, checked against the size and
 * the limit. */
static int header_length(const char *path, const unsigned char b[8], uint64_t size, uint64_t *len) {
    *len = 0;
    for (int i = 7; i >= 0; i--) *len = *len << 8 | b[i];
    if (*len > size - 8)
        return sc_error(SC_EINPUT,
                        "%s: not a safetensors file (header length %" PRIu64
                        " exceeds file size %" PRIu64 ")",
                        path, *len, size);
    if (*len > HEADER_LIMIT)
        return sc_error(SC_EINPUT, "%s: header length %" PRIu64 " exceeds the limit of %d bytes",
                        path, *len, HEADER_LIMIT);
    return SC_OK;
}

static int check_file_size(const char *path, uint64_t size) {
    if (size < 8)
        return sc_error(SC_EINPUT,
                        "%s: not a safetensors file (%" PRIu64
                        " bytes, too short for the 8-byte header length)",
                        path, size);
    return SC_OK;
}

static int parse_json(sc_safetensors *st, const char *text, size_t len) {
    char why[256];
    int rc = sc_json_parse(text, len, &st->header, why, sizeof why);
    if (rc == SC_EINPUT)
        return sc_error(SC_EINPUT, "%s: malformed header JSON (%s)", st->path, why);
    if (rc == SC_OK && !json_is_object(st->header))
        return sc_error(SC_EINPUT, "%s: header is not a JSON object", st->path);
    return rc;
}

static int find_metadata(sc_safetensors *st) {
    st->meta = json_object_get(st->header, metadata_key);
    if (!st->meta) return SC_OK;
    if (!json_is_object(st->meta))
        return sc_error(SC_EINPUT, "%s: %s is not a JSON object", st->path, metadata_key);
    const char *key;
    json_t *v;
    json_object_foreach(st->meta, key, v) {
        if (!json_is_string(v))
            return sc_error(SC_EINPUT, "%s: metadata '%s' is not a string", st->path, key);
    }
    return SC_OK;
}

/* Nonzero when v is an integer >= 0 (jansson refuses integers beyond int64_t). */
static int is_count(const json_t *v) {
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int parse_shape(const char *path, const json_t *shape, entry *e) {
    int ok = json_is_array(shape);
    size_t n = json_array_size(shape);
    for (size_t d = 0; ok && d < n; d++) ok = is_count(json_array_get(shape, d));
    if (!ok)
        return sc_error(SC_EINPUT, "%s: tensor '%s': shape is not a list of non-negative integers",
                        path, e->name);
    if (n > SC_TENSOR_MAX_DIMS)
        return sc_error(SC_EINPUT, "%s: tensor '%s' has %zu dimensions, at most %d are supported",
                        path, e->name, n, SC_TENSOR_MAX_DIMS);
    e->ndims = (int)n;
    for (int d = 0; d < SC_TENSOR_MAX_DIMS; d++)
        e->shape[d] = d < e->ndims ? json_integer_value(json_array_get(shape, (size_t)d)) : 1;
    return SC_OK;
}

static int parse_offsets(const char *path, const json_t *offsets, entry *e) {
    const json_t *begin = json_array_get(offsets, 0), *end = json_array_get(offsets, 1);
    if (json_array_size(offsets) != 2 || !is_count(begin) || !is_count(end) ||
        json_integer_value(begin) > json_integer_value(end))
        return sc_error(SC_EINPUT,
                        "%s: tensor '%s': data_offsets is not [begin, end] with 0 <= begin <= end",
                        path, e->name);
    e->begin = (uint64_t)json_integer_value(begin);
    e->end = (uint64_t)json_integer_value(end);
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

static int parse_entry(const char *path, const json_t *v, entry *e) {
    if (!json_is_object(v))
        return sc_error(SC_EINPUT, "%s: tensor '%s' is not described by a JSON object", path,
                        e->name);
    const json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
                 *offsets = json_object_get(v, "data_offsets");
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
    if (missing) return sc_error(SC_EINPUT, "%s: tensor '%s' has no %s", path, e->name, missing);
    if (!json_is_string(dtype))
        return sc_error(SC_EINPUT, "%s: tensor '%s': dtype is not a string", path, e->name);
    if (strcmp(json_string_value(dtype), "F32") != 0)
        return sc_error(SC_EINPUT, "%s: only F32 tensors are supported, tensor '%s' is %s", path,
                        e->name, json_string_value(dtype));
    SC_TRY(parse_shape(path, shape, e));
    SC_TRY(parse_offsets(path, offsets, e));
    return check_size(path, e);
}

static int find_tensors(sc_safetensors *st) {
    size_t n = json_object_size(st->header);
    st->tensors = calloc(n ? n : 1, sizeof *st->tensors);
    if (!st->tensors) return out_of_memory();
    const char *key;
    json_t *v;
    json_object_foreach(st->header, key, v) {
        if (!strcmp(key, metadata_key)) continue;
        entry *e = &st->tensors[st->ntensors++];
        e->name = key; /* owned by the header, as long as st */
        SC_TRY(parse_entry(st->path, v, e));
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

/* Every check on the header text, for a data section of data_len bytes after it: the file and
 * the memory reader share it. */
static int parse_header(sc_safetensors *st, const char *text, size_t len, uint64_t data_len) {
    SC_TRY(parse_json(st, text, len));
    SC_TRY(find_metadata(st));
    SC_TRY(find_tensors(st));
    return check_layout(st, data_len);
}

static int alloc_data(sc_safetensors *st, uint64_t len) {
    st->data = malloc(len ? (size_t)len : 1);
    return st->data ? SC_OK : out_of_memory();
}

static int load_file(FILE *f, sc_safetensors *st) {
    uint64_t size = 0, header_len = 0;
    unsigned char b[8];
    SC_TRY(sc_file_size(f, st->path, &size));
    SC_TRY(check_file_size(st->path, size));
    SC_TRY(sc_read_exact(f, st->path, b, sizeof b));
    SC_TRY(header_length(st->path, b, size, &header_len));
    uint64_t data_len = size - 8 - header_len;
    char *text = malloc(header_len ? (size_t)header_len : 1);
    if (!text) return out_of_memory();
    int rc = sc_read_exact(f, st->path, text, (size_t)header_len);
    if (rc == SC_OK) rc = parse_header(st, text, (size_t)header_len, data_len);
    free(text);
    SC_TRY(rc);
    SC_TRY(alloc_data(st, data_len));
    return sc_read_exact(f, st->path, st->data, (size_t)data_len);
}

static int load_memory(const unsigned char *bytes, size_t size, sc_safetensors *st) {
    uint64_t header_len = 0;
    SC_TRY(check_file_size(st->path, size));
    SC_TRY(header_length(st->path, bytes, size, &header_len));
    uint64_t data_len = size - 8 - header_len;
    SC_TRY(parse_header(st, (const char *)bytes + 8, (size_t)header_len, data_len));
    SC_TRY(alloc_data(st, data_len));
    if (data_len) memcpy(st->data, bytes + 8 + header_len, (size_t)data_len);
    return SC_OK;
}

/* A new st named path, or NULL when out of memory (recorded). */
static sc_safetensors *create(const char *path) {
    sc_safetensors *st = calloc(1, sizeof *st);
    if (st && (st->path = strdup(path))) return st;
    free(st);
    out_of_memory();
    return NULL;
}

/* Hands st to *out when rc is SC_OK, frees it otherwise. */
static int finish(int rc, sc_safetensors *st, sc_safetensors **out) {
    if (rc == SC_OK)
        *out = st;
    else
        sc_safetensors_free(st);
    return rc;
}

int sc_safetensors_read(const char *path, sc_safetensors **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    sc_safetensors *st = create(path);
    int rc = st ? load_file(f, st) : SC_ERR;
    fclose(f);
    return finish(rc, st, out);
}

int sc_safetensors_read_memory(const char *name, const void *bytes, size_t size,
                               sc_safetensors **out) {
    *out = NULL;
    sc_safetensors *st = create(name);
    return finish(st ? load_memory(bytes, size, st) : SC_ERR, st, out);
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

const char *sc_safetensors_name(const sc_safetensors *st, size_t i) {
    return i < st->ntensors ? st->tensors[i].name : NULL;
}

const char *sc_safetensors_meta(const sc_safetensors *st, const char *key) {
    return json_string_value(json_object_get(st->meta, key)); /* both take NULL */
}

void sc_safetensors_free(sc_safetensors *st) {
    if (!st) return;
    free(st->data);
    free(st->tensors);
    json_decref(st->header);
    free(st->path);
    free(st);
}
