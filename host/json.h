/* A minimal JSON reader that parses a text into a tree, and a helper for writing strings. */
#ifndef SIAMCL_JSON_H
#define SIAMCL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum sc_json_type {
    SC_JSON_NULL,
    SC_JSON_FALSE,
    SC_JSON_TRUE,
    SC_JSON_NUMBER,
    SC_JSON_STRING,
    SC_JSON_ARRAY,
    SC_JSON_OBJECT
} sc_json_type;

typedef struct sc_json {
    sc_json_type type;
    int integral;          /* NUMBER: an integer literal within int64_t, held in integer */
    int64_t integer;       /* other numbers are checked for syntax but not converted */
    char *string;          /* STRING: decoded UTF-8 */
    size_t count;          /* ARRAY, OBJECT: the number of items */
    struct sc_json *items; /* ARRAY, OBJECT: the values, in the order of the text */
    char **keys;           /* OBJECT: keys[i] names items[i] */
} sc_json;

/* Parses len bytes holding one JSON value with optional whitespace around it. Malformed text,
 * a duplicate key in an object, nesting deeper than 64 and "\u0000" in a string are SC_EINPUT
 * with why (at most why_size bytes) saying what and at which byte, e.g. "expected ':' at
 * byte 37"; the caller reports it with the name of the file. Out of memory is SC_ERR. */
int sc_json_parse(const char *text, size_t len, sc_json **out, char *why, size_t why_size);
void sc_json_free(sc_json *v);

/* The value of key in an object; NULL when absent or v is not an object. */
const sc_json *sc_json_get(const sc_json *v, const char *key);

/* Nonzero when s is valid UTF-8 (JSON text must be). */
int sc_json_utf8_valid(const char *s);

/* Writes s as a quoted JSON string with the necessary escapes; errors show in ferror(f). */
void sc_json_write_string(FILE *f, const char *s);

#endif
