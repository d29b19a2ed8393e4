/* safetensors checkpoints and atomic writing: round trips, the exact byte layout, every kind of
 * malformed file, and failed writes that must leave an existing file as it was. */
#include "harness.h"

#include "atomic_file.h"
#include "json.h"
#include "siamcl/safetensors.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* dir/name in buf. */
static const char *in_dir(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* A file with the given header length field, header text and data_len zero bytes. */
static void craft_with_length(const char *path, uint64_t header_len, const char *header,
                              size_t data_len) {
    size_t n = strlen(header);
    unsigned char *bytes = calloc(8 + n + data_len, 1);
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)(header_len >> 8 * i);
    memcpy(bytes + 8, header, n);
    test_write_bytes(path, bytes, 8 + n + data_len);
    free(bytes);
}

static void craft(const char *path, const char *header, size_t data_len) {
    craft_with_length(path, strlen(header), header, data_len);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/siamcl_test_safetensors_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

/* Compares one tensor of st with what was written, bit for bit. */
static int same_tensor(const sc_safetensors *st, const sc_tensor *t) {
    const float *data;
    int ndims;
    int64_t shape[SC_TENSOR_MAX_DIMS];
    if (sc_safetensors_tensor(st, t->name, &data, &ndims, shape) != SC_OK) return 0;
    size_t n = 1;
    for (int d = 0; d < SC_TENSOR_MAX_DIMS; d++) {
        if (shape[d] != (d < t->ndims ? t->shape[d] : 1)) return 0;
        if (d < t->ndims) n *= (size_t)t->shape[d];
    }
    return ndims == t->ndims && (n == 0 || !memcmp(data, t->data, n * sizeof *data));
}

static void round_trip(void) {
    float w[3 * 5], b[7], s = 0.5f, q[2 * 1 * 3 * 2];
    test_fill(w, 15, -1, 1);
    test_fill(b, 7, -100, 100);
    test_fill(q, 12, -1e-3f, 1e-3f);
    w[0] = -0.0f;
    w[1] = INFINITY;
    w[2] = NAN;
    w[3] = FLT_MIN / 4;
    w[4] = FLT_MAX;
    const sc_tensor t[] = {
        {"tower.0.weight", w, 2, {3, 5}},     {"tower.0.bias", b, 1, {7}}, {"scale", &s, 0, {0}},
        {"head \"q\"\n", q, 4, {2, 1, 3, 2}}, {"empty", NULL, 2, {0, 4}},
    };
    const sc_meta m[] = {
        {"config", "[model]\nlayers = 256, 128\nname = \"siamese\" ; \\ back\tslash \x01\r\n"},
        {"unicode \xe2\x9c\x93", "caf\xc3\xa9 \xf0\x9f\x98\x80"},
        {"empty", ""},
    };
    char p[128];
    in_dir(p, sizeof p, "model.safetensors");
    CHECK_OK(sc_safetensors_write(p, t, 5, m, 3));
    sc_safetensors *st;
    CHECK_OK(sc_safetensors_read(p, &st));
    for (int i = 0; i < 5; i++) CHECK(same_tensor(st, &t[i]), "tensor %s", t[i].name);
    for (int i = 0; i < 3; i++) {
        const char *v = sc_safetensors_meta(st, m[i].key);
        CHECK(v && !strcmp(v, m[i].value), "metadata %s", m[i].key);
    }
    CHECK(sc_safetensors_meta(st, "missing") == NULL);
    const float *data;
    int ndims;
    int64_t shape[SC_TENSOR_MAX_DIMS];
    CHECK(sc_safetensors_tensor(st, "nope", &data, &ndims, shape) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("no tensor 'nope'"), "message: %s", sc_last_error());
    sc_safetensors_free(st);
    unlink(p);
}

/* The header is compact JSON padded with spaces to a multiple of 8; the data is raw <f4. */
static void layout_is_exact(void) {
    const float a[2] = {1.0f, -2.0f};
    const sc_tensor t[] = {{"a", a, 1, {2}}};
    const sc_meta m[] = {{"k", "v"}};
    const char *json = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                       "\"data_offsets\":[0,8]}}";
    const unsigned char data[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0};
    char p[128];
    in_dir(p, sizeof p, "layout.safetensors");
    CHECK_OK(sc_safetensors_write(p, t, 1, m, 1));
    unsigned char buf[256];
    long size = test_read_bytes(p, buf, sizeof buf);
    unlink(p);
    size_t len = strlen(json);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | buf[i];
    int aligned = (8 + header_len) % 8 == 0; /* where the data starts */
    CHECK(aligned && header_len >= len && header_len < len + 8, "header length %llu",
          (unsigned long long)header_len);
    CHECK(size == (long)(8 + header_len + 8), "size %ld", size);
    CHECK(!memcmp(buf + 8, json, len), "header %.*s", (int)header_len, (const char *)buf + 8);
    for (size_t i = len; i < header_len; i++) CHECK(buf[8 + i] == ' ');
    CHECK(!memcmp(buf + 8 + header_len, data, sizeof data));
}

static void empty_file_has_empty_header(void) {
    char p[128];
    in_dir(p, sizeof p, "empty.safetensors");
    CHECK_OK(sc_safetensors_write(p, NULL, 0, NULL, 0));
    unsigned char buf[64];
    CHECK(test_read_bytes(p, buf, sizeof buf) == 16);
    CHECK(!memcmp(buf, "\x08\0\0\0\0\0\0\0{}      ", 16));
    sc_safetensors *st;
    CHECK_OK(sc_safetensors_read(p, &st));
    CHECK(sc_safetensors_meta(st, "k") == NULL);
    sc_safetensors_free(st);
    unlink(p);
}

/* Another writer's file: whitespace, any key order, escapes, an unaligned data section. */
static void reads_any_valid_json(void) {
    const char *header = " {\n \"w\\u00e9\\ud83d\\ude00\" : { \"data_offsets\" : [ 0 , 4 ] ,"
                         " \"shape\" : [ 1 ], \"dtype\": \"F32\", \"extra\": [true, false, null,"
                         " -1.5e3, {}] } ,\n \"__metadata__\" : {\"a\\\"b\": \"line\\nnext \\\\ "
                         "\\/ \\u0041\\t\"} }\n ";
    const float value = 3.5f;
    size_t n = strlen(header);
    unsigned char bytes[512];
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)n >> 8 * i);
    memcpy(bytes + 8, header, n);
    memcpy(bytes + 8 + n, &value, 4);
    char p[128];
    in_dir(p, sizeof p, "foreign.safetensors");
    test_write_bytes(p, bytes, 8 + n + 4);
    sc_safetensors *st;
    CHECK_OK(sc_safetensors_read(p, &st));
    unlink(p);
    const float *data;
    int ndims;
    int64_t shape[SC_TENSOR_MAX_DIMS];
    CHECK_OK(sc_safetensors_tensor(st, "w\xc3\xa9\xf0\x9f\x98\x80", &data, &ndims, shape));
    CHECK(ndims == 1 && shape[0] == 1 && data[0] == 3.5f);
    const char *v = sc_safetensors_meta(st, "a\"b");
    CHECK(v && !strcmp(v, "line\nnext \\ / A\t"), "metadata: %s", v ? v : "(none)");
    sc_safetensors_free(st);
}

typedef struct bad_file {
    const char *header;
    size_t data_len;
    const char *expect;
} bad_file;

#define T(entry)            "{\"a\":{" entry "}}"
#define F32(shape, offsets) "\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":" offsets

static const bad_file bad_files[] = {
    {"", 0, "malformed header JSON (unexpected token near end of file at byte 0)"},
    {"{\"a\": ", 0, "malformed header JSON"},
    {"[1, 2]", 0, "header is not a JSON object"},
    {"{} x", 0, "end of file expected near 'x' at byte 4"},
    {"{\"a\" 1}", 0, "':' expected near '1' at byte 6"},
    {"{\"a\":1 \"b\":2}", 0, "'}' expected near '\"b\"'"},
    {T("\"shape\":[1],\"data_offsets\":[0,4]"), 4, "tensor 'a' has no dtype"},
    {T("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, "tensor 'a' has no shape"},
    {T("\"dtype\":\"F32\",\"shape\":[1]"), 4, "tensor 'a' has no data_offsets"},
    {"{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
     "only F32 tensors are supported, tensor 'x' is BF16"},
    {T("\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]"), 4, "dtype is not a string"},
    {"{\"a\":5}", 0, "tensor 'a' is not described by a JSON object"},
    {T(F32("[2,3]", "[0,20]")), 20, "its shape needs 24 bytes but data_offsets [0, 20] hold 20"},
    {T(F32("[2.5]", "[0,10]")), 10, "shape is not a list of non-negative integers"},
    {T(F32("[-1]", "[0,4]")), 4, "shape is not a list of non-negative integers"},
    {T(F32("{}", "[0,4]")), 4, "shape is not a list of non-negative integers"},
    {T(F32("[1,1,1,1,1]", "[0,4]")), 4, "5 dimensions, at most 4 are supported"},
    {T(F32("[4294967296,4294967296]", "[0,4]")), 4, "needs 18446744073709551615 bytes"},
    {T(F32("[1]", "[4,0]")), 4, "data_offsets is not [begin, end] with 0 <= begin <= end"},
    {T(F32("[1]", "[4]")), 4, "data_offsets is not [begin, end]"},
    {T(F32("[1]", "[0,99999999999999999999]")), 4, "too big integer near '99999999999999999999'"},
    {"{\"a\":{" F32("[2]", "[0,8]") "},\"b\":{" F32("[2]", "[4,12]") "}}", 12,
     "the data of tensors 'a' and 'b' overlap"},
    {"{\"a\":{" F32("[2]", "[0,8]") "},\"b\":{" F32("[2]", "[12,20]") "}}", 20,
     "4 bytes before tensor 'b' belong to no tensor"},
    {T(F32("[309]", "[0,1236]")), 1000,
     "truncated: header promises 1236 bytes of tensor data, file holds 1000"},
    {T(F32("[2]", "[0,8]")), 12, "4 bytes after the last tensor belong to no tensor"},
    {"{}", 4, "4 bytes after the last tensor"},
    {"{\"__metadata__\":{\"k\":1}}", 0, "metadata 'k' is not a string"},
    {"{\"__metadata__\":[]}", 0, "__metadata__ is not a JSON object"},
    {"{\"a\":{" F32("[1]", "[0,4]") "},\"a\":{" F32("[1]", "[4,8]") "}}", 8,
     "duplicate object key near '\"a\"'"},
    {"{\"a\\x\":1}", 0, "invalid escape near '\"a\\x'"},
    {"{\"a\\ud800\":1}", 0, "invalid Unicode '\\uD800'"},
    {"{\"a\\udc00\":1}", 0, "invalid Unicode '\\uDC00'"},
    {"{\"a\\u12G4\":1}", 0, "invalid escape near '\"a\\u12G'"},
    {"{\"a\\u12\":1}", 0, "invalid escape near '\"a\\u12\"'"},
    {"{\"a\\u0000\":1}", 0, "NUL byte in object key not supported"},
    {"{\"a\tb\":1}", 0, "control character 0x9"},
    {"{\"a\xff\":1}", 0, "unable to decode byte 0xff near '\"a' at byte 3"},
    {"{\"a\xc0\xaf\":1}", 0, "unable to decode byte 0xc0"},
    {"{\"a\xed\xa0\x80\":1}", 0, "unable to decode byte 0xed"},
    {"{\"abc", 0, "premature end of input near '\"abc'"},
    {"{\"a\\", 0, "invalid escape near '\"a\\'"},
    {"{\"a\":01}", 0, "invalid token near '0'"},
    {"{\"a\":-}", 0, "invalid token near '-'"},
    {"{\"a\":1.}", 0, "invalid token near '1.'"},
    {"{\"a\":1e+}", 0, "invalid token near '1e+'"},
    {"{\"a\":tru}", 0, "invalid token near 'tru'"},
    {"{\"a\":[1,]}", 0, "unexpected token near ']'"},
    {"{1:2}", 0, "string or '}' expected near '1'"},
    /* refused since the header is parsed by jansson */
    {"{\"__metadata__\":{\"k\":\"a\\u0000b\"}}", 0, "\\u0000 is not allowed"},
    {"{\"a\":1e400}", 0, "real number overflow near '1e400'"},
    {"{\"a\":-99999999999999999999}", 0, "too big negative integer"},
    {"\xef\xbb\xbf{}", 0, "invalid token"},
    {"{\"a\":NaN}", 0, "invalid token near 'NaN'"},
    {"{\"a\":\"x\ny\"}", 0, "unexpected newline"},
    {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate object key"},
    {T(F32("[1]", "[0.0,4]")), 4, "data_offsets is not [begin, end]"},
    {T(F32("[1]", "[-4,0]")), 4, "data_offsets is not [begin, end]"},
    {T(F32("[1]", "{}")), 4, "data_offsets is not [begin, end]"},
    {T(F32("[1e0]", "[0,4]")), 4, "shape is not a list of non-negative integers"},
};

static void rejects_malformed_files(void) {
    char p[128];
    in_dir(p, sizeof p, "bad.safetensors");
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        craft(p, bad_files[i].header, bad_files[i].data_len);
        sc_safetensors *st = (sc_safetensors *)1;
        int rc = sc_safetensors_read(p, &st);
        CHECK(rc == SC_EINPUT && st == NULL, "case %zu (%s): rc %d", i, bad_files[i].header, rc);
        CHECK(test_error_has(p) && test_error_has(bad_files[i].expect), "case %zu: message: %s", i,
              sc_last_error());
    }
    unlink(p);
}

/* The memory reader runs the same checks, with the same messages, as the file reader. */
static void memory_reader_matches_file_reader(void) {
    char p[128], file_msg[512];
    in_dir(p, sizeof p, "same.safetensors");
    unsigned char *bytes = malloc(2048);
    CHECK(bytes != NULL);
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        craft(p, bad_files[i].header, bad_files[i].data_len);
        sc_safetensors *st;
        CHECK(sc_safetensors_read(p, &st) == SC_EINPUT);
        snprintf(file_msg, sizeof file_msg, "%s", sc_last_error());
        long n = test_read_bytes(p, bytes, 2048);
        st = (sc_safetensors *)1;
        int rc = sc_safetensors_read_memory(p, bytes, (size_t)n, &st);
        CHECK(rc == SC_EINPUT && st == NULL, "case %zu: rc %d", i, rc);
        CHECK(!strcmp(sc_last_error(), file_msg), "case %zu: %s <> %s", i, sc_last_error(),
              file_msg);
    }
    sc_safetensors *st;
    CHECK(sc_safetensors_read_memory("short", bytes, 7, &st) == SC_EINPUT);
    CHECK(test_error_has("short: not a safetensors file (7 bytes"), "%s", sc_last_error());

    const float a[3] = {1, 2, 3}, b[2] = {4, 5};
    const sc_tensor t[] = {{"b", b, 1, {2}}, {"a", a, 2, {3, 1}}};
    const sc_meta m[] = {{"k", "v"}};
    CHECK_OK(sc_safetensors_write(p, t, 2, m, 1));
    long n = test_read_bytes(p, bytes, 2048);
    unlink(p);
    CHECK_OK(sc_safetensors_read_memory("mem", bytes, (size_t)n, &st));
    memset(bytes, 0, 2048); /* the reader keeps a copy */
    for (int i = 0; i < 2; i++) CHECK(same_tensor(st, &t[i]), "tensor %s", t[i].name);
    const char *v = sc_safetensors_meta(st, "k");
    CHECK(v && !strcmp(v, "v"));
    /* names in the order of the data */
    CHECK(!strcmp(sc_safetensors_name(st, 0), "b") && !strcmp(sc_safetensors_name(st, 1), "a"));
    CHECK(sc_safetensors_name(st, 2) == NULL);
    sc_safetensors_free(st);
    free(bytes);
}

/* Writers' strings: escapes, and text that is not UTF-8 made valid, so the JSON parses. */
static void json_strings_parse_back(void) {
    static const char *const in[] = {"plain", "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f",
                                     "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xe9 \xc3\xa9", ""};
    static const char *const out[] = {"plain", "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f",
                                      "caf\xc3\xa9 \xf0\x9f\x98\x80",
                                      "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd", ""};
    for (int i = 0; i < 5; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        CHECK(f != NULL);
        sc_json_write_string(f, in[i]);
        CHECK(!ferror(f) && fclose(f) == 0);
        json_t *j = NULL;
        char why[256] = "";
        int rc = sc_json_parse(text, len, &j, why, sizeof why);
        int same = rc == SC_OK && json_is_string(j) && !strcmp(json_string_value(j), out[i]);
        json_decref(j);
        CHECK(same, "case %d: %s (%s)", i, text, why);
        free(text);
    }
    CHECK(sc_json_utf8_valid("caf\xc3\xa9") && !sc_json_utf8_valid("caf\xe9"));
}

static void rejects_what_is_no_safetensors_file(void) {
    char p[128];
    sc_safetensors *st;
    in_dir(p, sizeof p, "x.bin");
    test_write_bytes(p, "abcde", 5);
    CHECK(sc_safetensors_read(p, &st) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("not a safetensors file (5 bytes, too short"), "%s",
          sc_last_error());
    craft_with_length(p, 8390880373482ULL, "", 44);
    CHECK(sc_safetensors_read(p, &st) == SC_EINPUT);
    CHECK(test_error_has(p) &&
              test_error_has(
                  ": not a safetensors file (header length 8390880373482 exceeds file size 52)"),
          "%s", sc_last_error());
    craft_with_length(p, 100000001, "", 0);
    CHECK(truncate(p, 100000016) == 0); /* sparse */
    CHECK(sc_safetensors_read(p, &st) == SC_EINPUT);
    CHECK(test_error_has(p) &&
              test_error_has("header length 100000001 exceeds the limit of 100000000 bytes"),
          "%s", sc_last_error());
    unlink(p);
    CHECK(sc_safetensors_read(p, &st) == SC_EINPUT);
    CHECK(test_error_has(p) && test_error_has("No such file"), "%s", sc_last_error());
    CHECK(sc_safetensors_read(dir, &st) == SC_EINPUT);
    CHECK(test_error_has(dir) && test_error_has("not a regular file"), "%s", sc_last_error());
}

static void rejects_deep_nesting(void) {
    char p[128];
    in_dir(p, sizeof p, "deep.safetensors");
    enum { DEPTH = 100000 };
    char *header = malloc(DEPTH + 1);
    memset(header, '[', DEPTH);
    header[DEPTH] = '\0';
    craft(p, header, 0);
    free(header);
    sc_safetensors *st;
    CHECK(sc_safetensors_read(p, &st) == SC_EINPUT);
    CHECK(test_error_has(p) &&
              test_error_has("maximum parsing depth reached near '[' at byte 2049"),
          "%s", sc_last_error());
    unlink(p);
}

static void writer_rejects_bad_tensors_and_metadata(void) {
    const float x[4] = {0};
    static const char *const expect[] = {
        "tensor 1 has no name",
        "duplicate tensor name 'x'",
        "the tensor name '__metadata__' is reserved",
        "tensor 'y' has 5 dimensions, at most 4 are supported",
        "tensor 'y' has a negative or too large dimension",
        "tensor 'y' has no data",
        "the name of tensor 1 is not valid UTF-8",
    };
    sc_tensor t[] = {{"x", x, 1, {4}}, {"y", x, 1, {4}}};
    char p[128];
    in_dir(p, sizeof p, "rejected.safetensors");
    for (int i = 0; i < 7; i++) {
        t[1] = (sc_tensor){"y", x, 1, {4}};
        if (i == 0) t[1].name = NULL;
        if (i == 1) t[1].name = "x";
        if (i == 2) t[1].name = "__metadata__";
        if (i == 3) t[1].ndims = 5;
        if (i == 4) t[1].shape[0] = -4;
        if (i == 5) t[1].data = NULL;
        if (i == 6) t[1].name = "\xc3";
        CHECK(sc_safetensors_write(p, t, 2, NULL, 0) == SC_EINPUT, "case %d", i);
        CHECK(test_error_has(p) && test_error_has(expect[i]), "case %d: %s", i, sc_last_error());
    }
    const sc_meta dup[] = {{"k", "1"}, {"k", "2"}}, bad[] = {{"k", "caf\xe9"}},
                  none[] = {{"k", NULL}};
    CHECK(sc_safetensors_write(p, t, 1, dup, 2) == SC_EINPUT);
    CHECK(test_error_has("duplicate metadata key 'k'"), "%s", sc_last_error());
    CHECK(sc_safetensors_write(p, t, 1, bad, 1) == SC_EINPUT);
    CHECK(test_error_has("metadata entry 0 is not valid UTF-8"), "%s", sc_last_error());
    CHECK(sc_safetensors_write(p, t, 1, none, 1) == SC_EINPUT);
    CHECK(test_error_has("metadata entry 0 has no key or no value"), "%s", sc_last_error());
    CHECK(access(p, F_OK) != 0 && test_temp_files(dir) == 0);
}

/* A write that fails at any stage leaves the old file byte for byte, and no temporary file. */
static void failed_writes_keep_the_old_file(void) {
    const float x[3] = {1, 2, 3};
    const sc_tensor good = {"x", x, 1, {3}}, bad = {"x", x, 5, {3}};
    char p[128], sub[128];
    in_dir(p, sizeof p, "keep.safetensors");
    CHECK_OK(sc_safetensors_write(p, &good, 1, NULL, 0));
    unsigned char before[256], after[256];
    long size = test_read_bytes(p, before, sizeof before);
    CHECK(size > 0);

    CHECK(sc_safetensors_write(p, &bad, 1, NULL, 0) == SC_EINPUT);
    sc_atomic_file f;
    CHECK_OK(sc_atomic_open(p, &f));
    fputs("half a file", f.file);
    CHECK(test_temp_files(dir) == 1);
    sc_atomic_abort(&f);
    sc_atomic_abort(&f); /* a second abort does nothing */
    CHECK(test_read_bytes(p, after, sizeof after) == size && !memcmp(before, after, (size_t)size));
    CHECK(test_temp_files(dir) == 0);

    CHECK(sc_safetensors_write("/nonexistent-siamcl/m.safetensors", &good, 1, NULL, 0) ==
          SC_EINPUT);
    CHECK(test_error_has("cannot write /nonexistent-siamcl/m.safetensors: No such file"), "%s",
          sc_last_error());

    /* the temporary file is written, but renaming it over a folder fails */
    in_dir(sub, sizeof sub, "folder.safetensors");
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(sc_safetensors_write(sub, &good, 1, NULL, 0) == SC_ERR);
    CHECK(test_error_has("cannot write") && test_error_has(sub), "%s", sc_last_error());
    CHECK(test_temp_files(dir) == 0);
    CHECK(rmdir(sub) == 0);
    unlink(p);
}

static void commit_replaces_the_old_file(void) {
    char p[128];
    in_dir(p, sizeof p, "replace.txt");
    test_write_bytes(p, "old", 3);
    sc_atomic_file f;
    CHECK_OK(sc_atomic_open(p, &f));
    fputs("new text", f.file);
    CHECK_OK(sc_atomic_commit(&f));
    sc_atomic_abort(&f); /* nothing left to abort */
    unsigned char buf[16];
    CHECK(test_read_bytes(p, buf, sizeof buf) == 8 && !memcmp(buf, "new text", 8));
    CHECK(test_temp_files(dir) == 0);
    unlink(p);
}

/* Runs last: the folder must be empty by now. */
static void nothing_left_behind(void) {
    CHECK(rmdir(dir) == 0, "%s is not empty", dir);
}

TEST_MAIN(TEST(setup), TEST(round_trip), TEST(layout_is_exact), TEST(empty_file_has_empty_header),
          TEST(reads_any_valid_json), TEST(rejects_malformed_files),
          TEST(memory_reader_matches_file_reader), TEST(json_strings_parse_back),
          TEST(rejects_what_is_no_safetensors_file), TEST(rejects_deep_nesting),
          TEST(writer_rejects_bad_tensors_and_metadata), TEST(failed_writes_keep_the_old_file),
          TEST(commit_replaces_the_old_file), TEST(nothing_left_behind))
