/* libFuzzer harness for the safetensors reader: the header is untrusted JSON (parsed by jansson)
 * followed by checks of sizes, offsets and layout. Each input goes through the memory reader and
 * the file reader, which must agree; a file both accept has every tensor and the checkpoint's
 * metadata read as sc_checkpoint_load reads them, and must survive a write and a read back. The
 * input's first bytes also go through sc_json_write_string and back.
 *
 * Build and run from the repository root (Debian's clang; jansson itself is not instrumented):
 *   mkdir -p build-fuzz && clang -std=c11 -D_POSIX_C_SOURCE=200809L \
 *     -DCL_TARGET_OPENCL_VERSION=120 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -Iinclude -Ihost tests/fuzz/fuzz_safetensors.c \
 *     host/safetensors.c host/json.c host/atomic_file.c host/error.c -ljansson \
 *     -o build-fuzz/fuzz_safetensors
 *   cd build-fuzz && mkdir -p corpus && ./fuzz_safetensors -runs=10000000 -jobs=1 corpus \
 *     ../tests/fuzz/safetensors   # the log goes to fuzz-0.log
 */
#include "fuzz_util.h"
#include "json.h"
#include "siamcl/error.h"
#include "siamcl/safetensors.h"

#include <stdint.h>

enum { MAX_TENSORS = 64 };

static const char *const checkpoint_keys[] = {"format", "config", "target_mean"};

/* The number of values of a tensor; the reader has checked that its bytes fit the file. */
static size_t values(int ndims, const int64_t shape[SC_TENSOR_MAX_DIMS]) {
    size_t n = 1;
    for (int d = 0; d < ndims; d++) n *= (size_t)shape[d];
    return n;
}

/* Looks up every tensor by name and reads all its bytes, so that ASan sees a bad pointer; the
 * first MAX_TENSORS go to t. Their number. */
static int read_tensors(const sc_safetensors *st, sc_tensor *t) {
    int count = 0;
    for (size_t i = 0; sc_safetensors_name(st, i); i++, count++) {
        sc_tensor spare, *x = count < MAX_TENSORS ? &t[count] : &spare;
        x->name = sc_safetensors_name(st, i);
        FUZZ_ASSERT(sc_safetensors_tensor(st, x->name, &x->data, &x->ndims, x->shape) == SC_OK);
        FUZZ_ASSERT(x->ndims >= 0 && x->ndims <= SC_TENSOR_MAX_DIMS);
        for (int d = x->ndims; d < SC_TENSOR_MAX_DIMS; d++) FUZZ_ASSERT(x->shape[d] == 1);
        volatile unsigned char sink = 0;
        const unsigned char *b = (const unsigned char *)x->data;
        for (size_t k = 0; k < values(x->ndims, x->shape) * sizeof(float); k++) sink ^= b[k];
        (void)sink;
    }
    return count;
}

/* The checkpoint's metadata keys that st has, as the writer takes them. */
static int read_meta(const sc_safetensors *st, sc_meta *m) {
    int n = 0;
    for (size_t i = 0; i < sizeof checkpoint_keys / sizeof checkpoint_keys[0]; i++) {
        const char *v = sc_safetensors_meta(st, checkpoint_keys[i]);
        if (v) m[n++] = (sc_meta){checkpoint_keys[i], v};
    }
    return n;
}

static int same_tensor(const sc_tensor *a, const sc_tensor *b) {
    size_t n = values(a->ndims, a->shape);
    return !strcmp(a->name, b->name) && a->ndims == b->ndims &&
           !memcmp(a->shape, b->shape, sizeof a->shape) &&
           (n == 0 || !memcmp(a->data, b->data, n * sizeof(float)));
}

/* What the reader accepted, the writer writes and the reader reads back unchanged. */
static void round_trip(const sc_tensor *t, int nt, const sc_meta *m, int nm) {
    const char *path = fuzz_path("again.safetensors");
    FUZZ_ASSERT(sc_safetensors_write(path, t, nt, m, nm) == SC_OK);
    sc_safetensors *st;
    FUZZ_ASSERT(sc_safetensors_read(path, &st) == SC_OK);
    sc_tensor back[MAX_TENSORS];
    int nb = read_tensors(st, back);
    FUZZ_ASSERT(nb == nt);
    for (int i = 0; i < nt; i++) {
        const sc_tensor *x = NULL;
        for (int j = 0; j < nb && !x; j++)
            if (!strcmp(back[j].name, t[i].name)) x = &back[j];
        FUZZ_ASSERT(x && same_tensor(x, &t[i]));
    }
    for (int i = 0; i < nm; i++) {
        const char *v = sc_safetensors_meta(st, m[i].key);
        FUZZ_ASSERT(v && !strcmp(v, m[i].value));
    }
    sc_safetensors_free(st);
}

/* The input up to its first NUL, as the writers' strings: what sc_json_write_string writes
 * parses back as a string, the same one when the text was UTF-8. */
static void string_round_trip(const uint8_t *data, size_t size) {
    char text[512], *out = NULL;
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1, len = 0;
    memcpy(text, data, n);
    text[n] = '\0';
    FILE *f = open_memstream(&out, &len);
    FUZZ_ASSERT(f != NULL);
    sc_json_write_string(f, text);
    FUZZ_ASSERT(!ferror(f) && fclose(f) == 0);
    json_t *j = NULL;
    char why[256];
    FUZZ_ASSERT(sc_json_parse(out, len, &j, why, sizeof why) == SC_OK && json_is_string(j));
    FUZZ_ASSERT(!sc_json_utf8_valid(text) || !strcmp(json_string_value(j), text));
    json_decref(j);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char message[4096];
    string_round_trip(data, size);
    const char *path = fuzz_write("in.safetensors", data, size);
    sc_safetensors *mem = (sc_safetensors *)1, *file = (sc_safetensors *)1;
    int rc = sc_safetensors_read_memory(path, data, size, &mem);
    FUZZ_ASSERT(rc == SC_OK ? mem != NULL : rc == SC_EINPUT && mem == NULL);
    snprintf(message, sizeof message, "%s", sc_last_error());
    /* the two readers share the checks, so they agree to the message */
    FUZZ_ASSERT(sc_safetensors_read(path, &file) == rc);
    FUZZ_ASSERT(rc == SC_OK ? file != NULL : !strcmp(message, sc_last_error()));
    if (rc != SC_OK) return 0;
    sc_tensor t[MAX_TENSORS], u[MAX_TENSORS];
    int nt = read_tensors(mem, t);
    FUZZ_ASSERT(read_tensors(file, u) == nt);
    for (int i = 0; i < nt && i < MAX_TENSORS; i++) FUZZ_ASSERT(same_tensor(&t[i], &u[i]));
    sc_meta m[3], n[3];
    int nm = read_meta(mem, m);
    FUZZ_ASSERT(read_meta(file, n) == nm);
    for (int i = 0; i < nm; i++) FUZZ_ASSERT(!strcmp(m[i].value, n[i].value));
    if (nt <= MAX_TENSORS) round_trip(t, nt, m, nm);
    sc_safetensors_free(file);
    sc_safetensors_free(mem);
    return 0;
}
