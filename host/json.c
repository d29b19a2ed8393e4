#include "json.h"
#include "siamcl/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64 };

typedef struct parser {
    const char *text;
    size_t len, pos;
    int depth;
    char *why;
    size_t why_size;
} parser;

static int parse_value(parser *p, sc_json *v);

/* Sets why to the message and the byte where parsing stopped; returns SC_EINPUT. */
static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->why, p->why_size, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < p->why_size)
        snprintf(p->why + n, p->why_size - (size_t)n, " at byte %zu", p->pos);
    return SC_EINPUT;
}

static int out_of_memory(void) {
    return sc_error(SC_ERR, "out of memory");
}

/* The next byte, or -1 at the end of the text. */
static int peek(const parser *p) {
    return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void skip_space(parser *p) {
    for (int c = peek(p); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(p)) p->pos++;
}

/* Consumes c after optional whitespace; 0 when the next byte is something else. */
static int take(parser *p, char c) {
    skip_space(p);
    if (peek(p) != (unsigned char)c) return 0;
    p->pos++;
    return 1;
}

/* The length of the valid UTF-8 sequence at s (avail bytes readable), 0 when malformed. */
static size_t utf8_sequence(const char *s, size_t avail) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    size_t len;
    if (u[0] < 0x80) return 1;
    if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        len = 2;
    } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        len = 3;
        if (u[0] == 0xE0) lo = 0xA0; /* overlong */
        if (u[0] == 0xED) hi = 0x9F; /* surrogates */
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        len = 4;
        if (u[0] == 0xF0) lo = 0x90; /* overlong */
        if (u[0] == 0xF4) hi = 0x8F; /* beyond U+10FFFF */
    } else {
        return 0;
    }
    if (avail < len || u[1] < lo || u[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((u[i] & 0xC0) != 0x80) return 0;
    return len;
}

static char *put_utf8(char *o, unsigned long cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The value of four hex digits at p->pos when they lie before end, else -1. */
static long hex4(const parser *p, size_t end) {
    if (end - p->pos < 4) return -1;
    long v = 0;
    for (size_t i = 0; i < 4; i++) {
        int d = hex_digit(p->text[p->pos + i]);
        if (d < 0) return -1;
        v = 16 * v + d;
    }
    return v;
}

/* Decodes the XXXX of a \uXXXX escape, and the second half of a surrogate pair. */
static int unicode_escape(parser *p, size_t end, unsigned long *cp) {
    long hi = hex4(p, end);
    if (hi < 0) return fail(p, "expected four hex digits after \\u");
    if (hi == 0) return fail(p, "\\u0000 in a string is not supported");
    p->pos += 4;
    if (hi < 0xD800 || hi > 0xDFFF) {
        *cp = (unsigned long)hi;
        return SC_OK;
    }
    long lo = -1;
    if (hi <= 0xDBFF && end - p->pos >= 6 && !memcmp(p->text + p->pos, "\\u", 2)) {
        p->pos += 2;
        lo = hex4(p, end);
    }
    if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "unpaired UTF-16 surrogate in \\u escape");
    p->pos += 4;
    *cp = 0x10000 + ((unsigned long)(hi - 0xD800) << 10) + (unsigned long)(lo - 0xDC00);
    return SC_OK;
}

/* Decodes the escape after a backslash at p->pos, appending it at *o. */
static int escape(parser *p, size_t end, char **o) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    char c = p->text[p->pos];
    if (c == 'u') {
        unsigned long cp = 0;
        p->pos++;
        SC_TRY(unicode_escape(p, end, &cp));
        *o = put_utf8(*o, cp);
        return SC_OK;
    }
    const char *hit = c ? strchr(from, c) : NULL;
    if (!hit) return fail(p, "bad escape '\\%c'", c);
    *(*o)++ = to[hit - from];
    p->pos++;
    return SC_OK;
}

/* Decodes the characters from p->pos to the closing quote at end into s. */
static int decode_string(parser *p, size_t end, char *s) {
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '\\') {
            p->pos++;
            SC_TRY(escape(p, end, &s));
        } else if (c < 0x20) {
            return fail(p, "control character in a string");
        } else {
            size_t n = utf8_sequence(p->text + p->pos, end - p->pos);
            if (!n) return fail(p, "invalid UTF-8 in a string");
            memcpy(s, p->text + p->pos, n);
            s += n;
            p->pos += n;
        }
    }
    *s = '\0';
    p->pos++;
    return SC_OK;
}

/* Parses the string whose opening quote is at p->pos into a new buffer. */
static int parse_string(parser *p, char **out) {
    p->pos++;
    size_t end = p->pos;
    while (end < p->len && p->text[end] != '"') end += p->text[end] == '\\' ? 2 : 1;
    if (end >= p->len) return fail(p, "unterminated string");
    char *s = malloc(end - p->pos + 1); /* decoding never lengthens the text */
    if (!s) return out_of_memory();
    int rc = decode_string(p, end, s);
    if (rc != SC_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return SC_OK;
}

static size_t skip_digits(parser *p) {
    size_t n = 0;
    for (int c = peek(p); c >= '0' && c <= '9'; c = peek(p), n++) p->pos++;
    return n;
}

/* Converts the digits in [s, end) when they fit an int64_t. */
static int to_int64(const char *s, const char *end, int negative, int64_t *out) {
    uint64_t x = 0;
    for (; s < end; s++) {
        if (x > (UINT64_MAX - 9) / 10) return 0;
        x = 10 * x + (uint64_t)(*s - '0');
    }
    if (x > INT64_MAX) return 0;
    *out = negative ? -(int64_t)x : (int64_t)x;
    return 1;
}

static int parse_number(parser *p, sc_json *v) {
    int negative = peek(p) == '-';
    if (negative) p->pos++;
    size_t start = p->pos;
    if (peek(p) == '0')
        p->pos++;
    else if (!skip_digits(p))
        return fail(p, "expected a digit");
    size_t int_end = p->pos;
    int integral = 1;
    if (peek(p) == '.') {
        p->pos++;
        integral = 0;
        if (!skip_digits(p)) return fail(p, "expected a digit");
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        p->pos++;
        integral = 0;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!skip_digits(p)) return fail(p, "expected a digit");
    }
    v->type = SC_JSON_NUMBER;
    v->integral = integral && to_int64(p->text + start, p->text + int_end, negative, &v->integer);
    return SC_OK;
}

static int parse_literal(parser *p, const char *word, sc_json_type type, sc_json *v) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return fail(p, "unexpected character");
    p->pos += n;
    v->type = type;
    return SC_OK;
}

/* Appends a null item to an array or object; the storage doubles whenever the count reaches a
 * power of two, so no capacity needs keeping. */
static sc_json *append(sc_json *v) {
    size_t n = v->count;
    if ((n & (n - 1)) == 0) {
        size_t cap = n ? 2 * n : 1;
        sc_json *items = realloc(v->items, cap * sizeof *items);
        if (!items) return NULL;
        v->items = items;
        if (v->type == SC_JSON_OBJECT) {
            char **keys = realloc(v->keys, cap * sizeof *keys);
            if (!keys) return NULL;
            v->keys = keys;
        }
    }
    if (v->keys) v->keys[n] = NULL;
    memset(&v->items[n], 0, sizeof v->items[n]);
    v->count++;
    return &v->items[n];
}

static int parse_array(parser *p, sc_json *v) {
    v->type = SC_JSON_ARRAY;
    p->pos++;
    if (take(p, ']')) return SC_OK;
    for (;;) {
        sc_json *item = append(v);
        if (!item) return out_of_memory();
        SC_TRY(parse_value(p, item));
        if (take(p, ']')) return SC_OK;
        if (!take(p, ',')) return fail(p, "expected ',' or ']'");
    }
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rejects an object that repeats a key, by sorting a copy of its keys. */
static int check_unique_keys(parser *p, const sc_json *v) {
    if (v->count < 2) return SC_OK;
    char **sorted = malloc(v->count * sizeof *sorted);
    if (!sorted) return out_of_memory();
    memcpy(sorted, v->keys, v->count * sizeof *sorted);
    qsort(sorted, v->count, sizeof *sorted, by_string);
    const char *dup = NULL;
    for (size_t i = 1; i < v->count && !dup; i++)
        if (!strcmp(sorted[i - 1], sorted[i])) dup = sorted[i];
    int rc = dup ? fail(p, "duplicate key '%s' in the object ending", dup) : SC_OK;
    free(sorted);
    return rc;
}

static int parse_object(parser *p, sc_json *v) {
    v->type = SC_JSON_OBJECT;
    p->pos++;
    if (take(p, '}')) return SC_OK;
    for (;;) {
        sc_json *item = append(v);
        if (!item) return out_of_memory();
        skip_space(p);
        if (peek(p) != '"') return fail(p, "expected a string key");
        SC_TRY(parse_string(p, &v->keys[v->count - 1]));
        if (!take(p, ':')) return fail(p, "expected ':'");
        SC_TRY(parse_value(p, item));
        if (take(p, '}')) return check_unique_keys(p, v);
        if (!take(p, ',')) return fail(p, "expected ',' or '}'");
    }
}

static int parse_nested(parser *p, sc_json *v) {
    switch (peek(p)) {
    case '{':
        return parse_object(p, v);
    case '[':
        return parse_array(p, v);
    case '"':
        v->type = SC_JSON_STRING;
        return parse_string(p, &v->string);
    case 't':
        return parse_literal(p, "true", SC_JSON_TRUE, v);
    case 'f':
        return parse_literal(p, "false", SC_JSON_FALSE, v);
    case 'n':
        return parse_literal(p, "null", SC_JSON_NULL, v);
    case -1:
        return fail(p, "unexpected end");
    default:
        if (peek(p) == '-' || (peek(p) >= '0' && peek(p) <= '9')) return parse_number(p, v);
        return fail(p, "unexpected character");
    }
}

static int parse_value(parser *p, sc_json *v) {
    skip_space(p);
    if (p->depth == MAX_DEPTH) return fail(p, "nesting deeper than %d", MAX_DEPTH);
    p->depth++;
    int rc = parse_nested(p, v);
    p->depth--;
    return rc;
}

int sc_json_parse(const char *text, size_t len, sc_json **out, char *why, size_t why_size) {
    *out = NULL;
    parser p = {.text = text, .len = len, .why = why, .why_size = why_size};
    sc_json *root = calloc(1, sizeof *root);
    if (!root) return out_of_memory();
    int rc = parse_value(&p, root);
    skip_space(&p);
    if (rc == SC_OK && p.pos < p.len) rc = fail(&p, "unexpected text after the value");
    if (rc != SC_OK) {
        sc_json_free(root);
        return rc;
    }
    *out = root;
    return SC_OK;
}

static void free_contents(sc_json *v) {
    for (size_t i = 0; i < v->count; i++) {
        free_contents(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

void sc_json_free(sc_json *v) {
    if (!v) return;
    free_contents(v);
    free(v);
}

const sc_json *sc_json_get(const sc_json *v, const char *key) {
    if (v->type != SC_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (!strcmp(v->keys[i], key)) return &v->items[i];
    return NULL;
}

int sc_json_utf8_valid(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = utf8_sequence(s + i, n - i))) return 0;
    return 1;
}

void sc_json_write_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        const char *named = NULL;
        switch (*c) {
        case '"':
            named = "\\\"";
            break;
        case '\\':
            named = "\\\\";
            break;
        case '\n':
            named = "\\n";
            break;
        case '\r':
            named = "\\r";
            break;
        case '\t':
            named = "\\t";
            break;
        }
        if (named)
            fputs(named, f);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", *c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}
