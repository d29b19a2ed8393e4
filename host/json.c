#include "json.h"
#include "siamcl/error.h"

#include <stdlib.h>
#include <string.h>

int sc_json_parse(const char *text, size_t len, json_t **out, char *why, size_t why_size) {
    /* DECODE_ANY: a scalar is valid JSON; the caller checks the type it needs */
    json_error_t e;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (*out) return SC_OK;
    if (json_error_code(&e) == json_error_out_of_memory) return sc_error(SC_ERR, "out of memory");
    snprintf(why, why_size, "%s at byte %d", e.text, e.position);
    return SC_EINPUT;
}

int sc_json_utf8_valid(const char *s) {
    json_t *j = json_string(s); /* jansson checks UTF-8 but does not export the check */
    json_decref(j);
    return j != NULL;
}

/* A JSON string of s with each byte above 0x7F replaced by U+FFFD, which is then valid UTF-8. */
static json_t *ascii_string(const char *s) {
    char *t = malloc(3 * strlen(s) + 1), *o = t;
    if (!t) return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x80) {
            *o++ = (char)*c;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        }
    }
    *o = '\0';
    json_t *j = json_string(t);
    free(t);
    return j;
}

void sc_json_write_string(FILE *f, const char *s) {
    json_t *j = json_string(s);
    if (!j) j = ascii_string(s);
    if (!j) {
        sc_error(SC_ERR, "out of memory");
        fputs("null", f);
        return;
    }
    json_dumpf(j, f, JSON_ENCODE_ANY);
    json_decref(j);
}
