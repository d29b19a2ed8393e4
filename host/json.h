/* JSON through jansson: strict parsing of untrusted text, and quoted strings for writers. */
#ifndef SIAMCL_JSON_H
#define SIAMCL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Parses len bytes holding one JSON value with optional whitespace around it, strictly
 * (RFC 8259; a duplicate key in an object, "\u0000" in a string, an integer beyond int64_t, a
 * number beyond double and nesting deeper than jansson's 2048 levels are refused too). Failure
 * is SC_EINPUT with why (at most why_size bytes) saying what and at which byte, e.g. "':'
 * expected near '1' at byte 6"; the caller reports it with the name of the file. Out of memory
 * is SC_ERR. Free *out with json_decref. */
int sc_json_parse(const char *text, size_t len, json_t **out, char *why, size_t why_size);

/* Nonzero when s is valid UTF-8 (JSON text must be); running out of memory reads as invalid. */
int sc_json_utf8_valid(const char *s);

/* Writes s as a quoted JSON string with the necessary escapes. Text that is not UTF-8 (a path
 * can be any bytes) is written with U+FFFD for each byte above 0x7F, so the file stays valid
 * JSON. Write errors show in ferror(f); out of memory writes null and records the error. */
void sc_json_write_string(FILE *f, const char *s);

#endif
