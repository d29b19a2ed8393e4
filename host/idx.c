#include "siamcl/idx.h"
#include "siamcl/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

enum { MAX_DIMS = 3, PATH_CAP = 4096 };

#define READ_CHUNK   ((size_t)1 << 20)
#define FIRST_BUFFER ((size_t)1 << 20)

/* Reports the error zlib recorded, without the "path: " that zlib puts before its message. */
static int gz_fail(gzFile gz, const char *path) {
    int err;
    const char *why = gzerror(gz, &err);
    size_t n = strlen(path);
    if (!strncmp(why, path, n) && !strncmp(why + n, ": ", 2)) why += n + 2;
    if (err == Z_MEM_ERROR) return sc_error(SC_ERR, "%s: out of memory", path);
    if (err == Z_ERRNO) return sc_error(SC_EINPUT, "%s: read error: %s", path, why);
    return sc_error(SC_EINPUT, "%s: corrupt gzip data (%s)", path, why);
}

/* Reads until n bytes have come or the data ends; *got says how many came. */
static int read_up_to(gzFile gz, const char *path, uint8_t *buf, size_t n, size_t *got) {
    *got = 0;
    while (*got < n) {
        size_t ask = n - *got < READ_CHUNK ? n - *got : READ_CHUNK;
        int r = gzread(gz, buf + *got, (unsigned)ask);
        int err = Z_OK;
        /* gzip data that stops early reads as a plain end; only gzerror tells. */
        if (r == 0) gzerror(gz, &err);
        if (r < 0 || err != Z_OK) return gz_fail(gz, path);
        if (r == 0) break;
        *got += (size_t)r;
    }
    return SC_OK;
}

static uint32_t be32(const uint8_t *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Reads the header of a file of unsigned bytes in ndims dimensions. */
static int read_header(gzFile gz, const char *path, const char *kind, int ndims, uint32_t *dims) {
    uint8_t h[4 + 4 * MAX_DIMS];
    size_t need = 4 + 4 * (size_t)ndims, got;
    uint32_t magic = 0x800u | (uint32_t)ndims; /* type 0x08 is unsigned byte */
    SC_TRY(read_up_to(gz, path, h, need, &got));
    if (got >= 4 && be32(h) != magic)
        return sc_error(SC_EINPUT,
                        "%s: magic number 0x%08" PRIx32 ", expected 0x%08" PRIx32
                        " for %s (unsigned bytes, %d dimension%s)",
                        path, be32(h), magic, kind, ndims, ndims > 1 ? "s" : "");
    if (got < need)
        return sc_error(SC_EINPUT, "%s: truncated: the header needs %zu bytes, file holds %zu",
                        path, need, got);
    for (int i = 0; i < ndims; i++) dims[i] = be32(h + 4 + 4 * i);
    return SC_OK;
}

static void format_shape(const uint32_t *dims, int ndims, char *buf, size_t n) {
    size_t used = 0;
    for (int i = 0; i < ndims && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRIu32, i ? " x " : "", dims[i]);
}

/* The data bytes the dimensions promise; there must be room for as many floats, too. */
static int data_size(const char *path, const uint32_t *dims, int ndims, size_t *size) {
    char shape[64];
    format_shape(dims, ndims, shape, sizeof shape);
    for (int i = 0; i < ndims; i++)
        if (dims[i] == 0) return sc_error(SC_EINPUT, "%s: zero dimension in %s", path, shape);
    *size = 1;
    for (int i = 0; i < ndims; i++) {
        if (*size > SIZE_MAX / sizeof(float) / dims[i])
            return sc_error(SC_EINPUT, "%s: dimensions %s are too large", path, shape);
        *size *= dims[i];
    }
    return SC_OK;
}

/* Counts the bytes left before the end of the data. */
static int count_rest(gzFile gz, const char *path, size_t *rest) {
    uint8_t scratch[1 << 14];
    size_t got;
    *rest = 0;
    do {
        SC_TRY(read_up_to(gz, path, scratch, sizeof scratch, &got));
        *rest += got;
    } while (got == sizeof scratch);
    return SC_OK;
}

/* Reads exactly the size bytes that the header promises. The buffer grows as data arrives, so
 * that a corrupt header cannot demand a huge allocation before the file proves it short. */
static int read_data(gzFile gz, const char *path, size_t size, uint8_t **out) {
    uint8_t *data = NULL;
    size_t have = 0, got = 0, rest = 0;
    int rc = SC_OK;
    while (have < size) {
        size_t step = have > FIRST_BUFFER ? have : FIRST_BUFFER;
        if (step > size - have) step = size - have;
        uint8_t *grown = realloc(data, have + step);
        if (!grown) {
            rc = sc_error(SC_ERR, "%s: out of memory for %zu bytes", path, have + step);
            break;
        }
        data = grown;
        rc = read_up_to(gz, path, data + have, step, &got);
        have += got;
        if (rc != SC_OK || got < step) break;
    }
    if (rc == SC_OK && have == size) rc = count_rest(gz, path, &rest);
    if (rc == SC_OK && (have < size || rest))
        rc = sc_error(SC_EINPUT, "%s: %s: header promises %zu bytes of data, file holds %zu", path,
                      rest ? "trailing bytes" : "truncated", size, have + rest);
    if (rc != SC_OK) {
        free(data);
        return rc;
    }
    *out = data;
    return SC_OK;
}

/* Reads an IDX file of unsigned bytes in ndims dimensions; zlib's gzopen recognises gzip by
 * its 1f 8b magic and reads any other file as it is. */
static int load_idx(const char *path, const char *kind, int ndims, uint32_t *dims, uint8_t **data,
                    size_t *size) {
    gzFile gz = gzopen(path, "rb");
    if (!gz) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    int rc = read_header(gz, path, kind, ndims, dims);
    if (rc == SC_OK) rc = data_size(path, dims, ndims, size);
    if (rc == SC_OK) rc = read_data(gz, path, *size, data);
    gzclose(gz);
    return rc;
}

int sc_idx_load_images(const char *path, float **pixels, size_t *count, size_t *rows,
                       size_t *cols) {
    uint32_t dims[3] = {0};
    uint8_t *bytes;
    size_t n = 0;
    *pixels = NULL;
    *count = *rows = *cols = 0;
    SC_TRY(load_idx(path, "images", 3, dims, &bytes, &n));
    float *p = malloc(n * sizeof *p);
    if (!p) {
        free(bytes);
        return sc_error(SC_ERR, "%s: out of memory for %zu pixels", path, n);
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)bytes[i] / 255.0f;
    free(bytes);
    *pixels = p;
    *count = dims[0];
    *rows = dims[1];
    *cols = dims[2];
    return SC_OK;
}

int sc_idx_load_labels(const char *path, uint8_t **labels, size_t *count) {
    uint32_t dims[1] = {0};
    size_t n = 0;
    *labels = NULL;
    *count = 0;
    SC_TRY(load_idx(path, "labels", 1, dims, labels, &n));
    *count = n;
    return SC_OK;
}

/* The file <base>-<name> if it exists (or cannot be looked at), else <base>-<name>.gz. */
static int find_file(const char *base, const char *name, char *path, size_t cap) {
    struct stat sb;
    int n = snprintf(path, cap, "%s-%s", base, name);
    if (n < 0 || (size_t)n + sizeof ".gz" > cap)
        return sc_error(SC_EINPUT, "%s-%s: path too long", base, name);
    if (stat(path, &sb) == 0 || errno != ENOENT) return SC_OK;
    strcpy(path + n, ".gz");
    if (stat(path, &sb) == 0 || errno != ENOENT) return SC_OK;
    path[n] = '\0';
    return sc_error(SC_EINPUT, "%s: no such file (nor with .gz)", path);
}

/* <path>/<split> for a directory, else path itself. */
static int set_base(const char *path, const char *split, char *base, size_t cap) {
    struct stat sb;
    int n = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? snprintf(base, cap, "%s/%s", path, split)
                                                        : snprintf(base, cap, "%s", path);
    if (n < 0 || (size_t)n >= cap) return sc_error(SC_EINPUT, "%s: path too long", path);
    return SC_OK;
}

int sc_image_set_load(const char *path, const char *split, sc_image_set *out) {
    char base[PATH_CAP], images[PATH_CAP], labels[PATH_CAP];
    size_t nlabels;
    *out = (sc_image_set){0};
    SC_TRY(set_base(path, split, base, sizeof base));
    struct stat sb;
    if (stat(path, &sb) != 0 && find_file(base, "images-idx3-ubyte", images, sizeof images))
        return sc_error(SC_EINPUT, "%s: no such folder, nor files %s-images-idx3-ubyte[.gz]", path,
                        path);
    SC_TRY(find_file(base, "images-idx3-ubyte", images, sizeof images));
    SC_TRY(find_file(base, "labels-idx1-ubyte", labels, sizeof labels));
    SC_TRY(sc_idx_load_labels(labels, &out->labels, &nlabels));
    int rc = sc_idx_load_images(images, &out->pixels, &out->count, &out->rows, &out->cols);
    if (rc == SC_OK && nlabels != out->count)
        rc = sc_error(SC_EINPUT, "%s holds %zu images but %s holds %zu labels", images, out->count,
                      labels, nlabels);
    if (rc != SC_OK) sc_image_set_free(out);
    return rc;
}

void sc_image_set_free(sc_image_set *s) {
    if (!s) return;
    free(s->pixels);
    free(s->labels);
    *s = (sc_image_set){0};
}
