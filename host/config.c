#include "siamcl/config.h"
#include "siamcl/error.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The longest line inih's buffer holds, besides its "\n" and NUL. */
enum { LINE_CHARS = INI_MAX_LINE - 2 };

typedef struct entry {
    char *section, *key, *value;
    const char *origin; /* a file path, or "command line" */
    int line;           /* 0 for the command line */
    int used;
} entry;

struct sc_config {
    char *path;
    entry *entries;
    int count, cap;
};

/* State while inih parses one file. */
typedef struct parse_state {
    sc_config *cfg;
    FILE *file;
    int line;      /* the line the reader returned last */
    int bad_line;  /* our own first error, 0 if none */
    char why[256]; /* what is wrong with bad_line */
} parse_state;

sc_config *sc_config_new(void) {
    return calloc(1, sizeof(sc_config));
}

const char *sc_config_path(const sc_config *cfg) {
    return cfg->path;
}

void sc_config_free(sc_config *cfg) {
    if (!cfg) return;
    for (int i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    free(cfg->path);
    free(cfg);
}

static entry *find(const sc_config *cfg, const char *section, const char *key) {
    for (int i = 0; i < cfg->count; i++)
        if (!strcmp(cfg->entries[i].section, section) && !strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

static entry *append(sc_config *cfg, const char *section, const char *key, const char *value) {
    if (cfg->count == cfg->cap) {
        int cap = cfg->cap ? 2 * cfg->cap : 32;
        entry *grown = realloc(cfg->entries, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        cfg->entries = grown;
        cfg->cap = cap;
    }
    entry *e = &cfg->entries[cfg->count];
    memset(e, 0, sizeof *e);
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    if (!e->section || !e->key || !e->value) {
        free(e->section);
        free(e->key);
        free(e->value);
        return NULL;
    }
    cfg->count++;
    return e;
}

/* inih's line reader: counts lines, and refuses lines longer than inih's buffer and NUL bytes
 * (fgets would hide both: the rest of such a line would be read as a line of its own). */
static char *read_line(char *str, int num, void *stream) {
    parse_state *st = stream;
    int c = EOF, n = 0, nul = 0;
    while (n < num - 1 && (c = getc(st->file)) != EOF) {
        nul |= c == '\0';
        str[n++] = (char)c;
        if (c == '\n') break;
    }
    if (!n) return NULL;
    str[n] = '\0';
    st->line++;
    const char *why = NULL;
    char too_long[64];
    if (c != '\n' && n == num - 1) {
        snprintf(too_long, sizeof too_long, "line longer than %d characters", num - 2);
        why = too_long;
        while ((c = getc(st->file)) != EOF && c != '\n') {
        }
    } else if (nul) {
        why = "NUL byte (not a text file?)";
    }
    if (why) {
        if (!st->bad_line) {
            st->bad_line = st->line;
            snprintf(st->why, sizeof st->why, "%s", why);
        }
        str[0] = '\0';
    }
    return str;
}

static int on_value(void *user, const char *section, const char *key, const char *value) {
    parse_state *st = user;
    const char *why = NULL;
    if (!*section)
        why = "key outside any [section]";
    else if (find(st->cfg, section, key))
        why = "duplicate key";
    if (why) {
        if (!st->bad_line) {
            st->bad_line = st->line;
            snprintf(st->why, sizeof st->why, "%s [%s] %s", why, section, key);
        }
        return 1;
    }
    entry *e = append(st->cfg, section, key, value);
    if (!e) return 0;
    e->origin = st->cfg->path;
    e->line = st->line;
    return 1;
}

/* Parses an open INI stream; origin names it in messages. */
static int parse_stream(FILE *f, const char *origin, sc_config **out) {
    sc_config *cfg = sc_config_new();
    if (!cfg || !(cfg->path = strdup(origin))) {
        sc_config_free(cfg);
        return sc_error(SC_ERR, "out of memory");
    }
    parse_state st = {.cfg = cfg, .file = f};
    ini_allow_multiline = false; /* an indented line is a mistake, not a continuation */
    int rc = ini_parse_stream(read_line, &st, on_value, &st);
    int status = SC_OK;
    if (ferror(f))
        status = sc_error(SC_EINPUT, "config %s: read error", origin);
    else if (rc == -2)
        status = sc_error(SC_ERR, "out of memory");
    else if (st.bad_line && (rc <= 0 || st.bad_line <= rc))
        status = sc_error(SC_EINPUT, "%s:%d: %s", origin, st.bad_line, st.why);
    else if (rc != 0)
        status = sc_error(SC_EINPUT, "%s:%d: malformed line (expected [section] or key = value)",
                          origin, rc);
    if (status != SC_OK) {
        sc_config_free(cfg);
        return status;
    }
    *out = cfg;
    return SC_OK;
}

int sc_config_load(const char *path, sc_config **out) {
    struct stat sb;
    *out = NULL;
    if (stat(path, &sb) != 0) return sc_error(SC_EINPUT, "config %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return sc_error(SC_EINPUT, "config %s: is a directory", path);
    FILE *f = fopen(path, "r");
    if (!f) return sc_error(SC_EINPUT, "config %s: %s", path, strerror(errno));
    int rc = parse_stream(f, path, out);
    fclose(f);
    return rc;
}

int sc_config_parse(const char *text, const char *origin, sc_config **out) {
    *out = NULL;
    if (!*text) { /* fmemopen refuses an empty buffer */
        *out = sc_config_new();
        return *out ? SC_OK : sc_error(SC_ERR, "out of memory");
    }
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f) return sc_error(SC_ERR, "%s: cannot read the config text", origin);
    int rc = parse_stream(f, origin, out);
    fclose(f);
    return rc;
}

/* Whether sc_config_write puts spaces around '=': not when a value starts with ';' (a space
 * before it would start a comment), nor when they would take the line past the reader's limit.
 * Either way inih reads the line back as it was. */
static int spaced(const char *key, const char *value) {
    return value[0] != ';' && strlen(key) + strlen(value) + 3 <= LINE_CHARS;
}

/* Sets *same to whether [section] key = value, as sc_config_write writes it, reads back the
 * same. A config travels as text (checkpoints store it), so an override must be something its
 * file could have said: no line break, no spaces at either end, no " ;" (a comment), no ':' in
 * the key. */
static int reads_back(const char *section, const char *key, const char *value, int *same) {
    char text[512];
    int n = snprintf(text, sizeof text, "[%s]\n%s%s%s\n", section, key,
                     spaced(key, value) ? " = " : "=", value);
    *same = 0;
    if (n < 0 || (size_t)n >= sizeof text) return SC_OK;
    sc_config *cfg;
    int rc = sc_config_parse(text, "override", &cfg);
    if (rc != SC_OK) return rc == SC_EINPUT ? SC_OK : rc;
    const entry *e = cfg->entries;
    *same = cfg->count == 1 && !strcmp(e->section, section) && !strcmp(e->key, key) &&
            !strcmp(e->value, value);
    sc_config_free(cfg);
    return SC_OK;
}

int sc_config_override(sc_config *cfg, const char *assignment) {
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    if (!dot || !eq || dot > eq || dot == assignment || eq == dot + 1)
        return sc_error(SC_EINPUT, "-o %s: expected section.key=value", assignment);
    char section[64], key[64];
    int ns = (int)(dot - assignment), nk = (int)(eq - dot - 1);
    if (ns >= (int)sizeof section || nk >= (int)sizeof key)
        return sc_error(SC_EINPUT, "-o %s: section or key too long", assignment);
    snprintf(section, sizeof section, "%.*s", ns, assignment);
    snprintf(key, sizeof key, "%.*s", nk, dot + 1);
    int same;
    SC_TRY(reads_back(section, key, eq + 1, &same));
    if (!same)
        return sc_error(SC_EINPUT,
                        "-o %s: a config file cannot say this (a line break, spaces at either "
                        "end, ' ;', ':' in the key, or over %d characters)",
                        assignment, LINE_CHARS);
    entry *e = find(cfg, section, key);
    if (e) {
        char *v = strdup(eq + 1);
        if (!v) return sc_error(SC_ERR, "out of memory");
        free(e->value);
        e->value = v;
    } else if (!(e = append(cfg, section, key, eq + 1))) {
        return sc_error(SC_ERR, "out of memory");
    }
    e->origin = "command line";
    e->line = 0;
    return SC_OK;
}

/* Reports a bad value where it was set: "file:line: [s] k = 'v': why". */
static int bad_value(const entry *e, const char *why) {
    if (e->line)
        return sc_error(SC_EINPUT, "%s:%d: [%s] %s = '%s': %s", e->origin, e->line, e->section,
                        e->key, e->value, why);
    return sc_error(SC_EINPUT, "command line -o %s.%s=%s: %s", e->section, e->key, e->value, why);
}

static entry *lookup(sc_config *cfg, const char *section, const char *key) {
    entry *e = find(cfg, section, key);
    if (e) e->used = 1;
    return e;
}

int sc_cfg_str(sc_config *cfg, const char *section, const char *key, const char *def,
               const char **out) {
    entry *e = lookup(cfg, section, key);
    *out = e ? e->value : def;
    return SC_OK;
}

static int parse_long(const char *s, long *v) {
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *s && !*end && errno == 0;
}

int sc_cfg_int(sc_config *cfg, const char *section, const char *key, long def, long min, long max,
               long *out) {
    entry *e = lookup(cfg, section, key);
    *out = def;
    if (!e) return SC_OK;
    if (!parse_long(e->value, out)) return bad_value(e, "expected an integer");
    if (*out < min || *out > max) {
        char why[96];
        snprintf(why, sizeof why, "expected an integer in %ld..%ld", min, max);
        return bad_value(e, why);
    }
    return SC_OK;
}

int sc_cfg_float(sc_config *cfg, const char *section, const char *key, double def, double min,
                 double max, double *out) {
    entry *e = lookup(cfg, section, key);
    *out = def;
    if (!e) return SC_OK;
    char *end;
    errno = 0;
    *out = strtod(e->value, &end);
    if (!*e->value || *end || errno || !isfinite(*out)) return bad_value(e, "expected a number");
    if (*out < min || *out > max) {
        char why[96];
        snprintf(why, sizeof why, "expected a number in %g..%g", min, max);
        return bad_value(e, why);
    }
    return SC_OK;
}

int sc_cfg_bool(sc_config *cfg, const char *section, const char *key, int def, int *out) {
    static const char *const names[] = {"false", "true", "no", "yes", "off", "on", "0", "1", NULL};
    int i;
    SC_TRY(sc_cfg_enum(cfg, section, key, names, def, &i));
    *out = i % 2;
    return SC_OK;
}

int sc_cfg_enum(sc_config *cfg, const char *section, const char *key, const char *const *names,
                int def, int *out) {
    entry *e = lookup(cfg, section, key);
    *out = def;
    if (!e) return SC_OK;
    char why[256] = "expected one of";
    for (int i = 0; names[i]; i++) {
        if (!strcmp(e->value, names[i])) {
            *out = i;
            return SC_OK;
        }
        size_t n = strlen(why);
        snprintf(why + n, sizeof why - n, "%s %s", i ? "," : "", names[i]);
    }
    return bad_value(e, why);
}

int sc_parse_int_list(const char *s, long min, int *values, int max_count, int *count) {
    *count = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        while (*p == ' ' || *p == '\t') p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) p[--n] = '\0';
        long v;
        if (*count == max_count || !parse_long(p, &v) || v < min || v > 1L << 30) return 0;
        values[(*count)++] = (int)v;
        if (!comma) return 1;
        p = comma + 1;
    }
}

int sc_cfg_int_list(sc_config *cfg, const char *section, const char *key, const char *def, long min,
                    int *values, int max_count, int *count) {
    entry *e = lookup(cfg, section, key);
    const char *s = e ? e->value : def;
    if (sc_parse_int_list(s, min, values, max_count, count)) return SC_OK;
    char why[128];
    snprintf(why, sizeof why, "expected a comma-separated list of 1 to %d integers >= %ld",
             max_count, min);
    if (e) return bad_value(e, why);
    return sc_error(SC_ERR, "[%s] %s: bad default '%s'", section, key, def);
}

int sc_cfg_invalid(const sc_config *cfg, const char *section, const char *key, const char *why) {
    const entry *e = find(cfg, section, key);
    if (e) return bad_value(e, why);
    return sc_error(SC_EINPUT, "[%s] %s: %s", section, key, why);
}

int sc_config_check_unused(const sc_config *cfg) {
    for (int i = 0; i < cfg->count; i++) {
        const entry *e = &cfg->entries[i];
        if (e->used) continue;
        if (e->line)
            return sc_error(SC_EINPUT,
                            "%s:%d: unknown key [%s] %s (misspelt, or not used with these "
                            "settings)",
                            e->origin, e->line, e->section, e->key);
        return sc_error(SC_EINPUT,
                        "command line -o %s.%s: unknown key (misspelt, or not used with these "
                        "settings)",
                        e->section, e->key);
    }
    return SC_OK;
}

int sc_config_write(const sc_config *cfg, FILE *out) {
    for (int i = 0; i < cfg->count; i++) {
        const char *s = cfg->entries[i].section;
        int first = 1;
        for (int j = 0; j < i && first; j++) first = strcmp(cfg->entries[j].section, s) != 0;
        if (!first) continue;
        fprintf(out, "%s[%s]\n", i ? "\n" : "", s);
        for (int j = i; j < cfg->count; j++)
            if (!strcmp(cfg->entries[j].section, s))
                fprintf(out, "%s%s%s\n", cfg->entries[j].key,
                        spaced(cfg->entries[j].key, cfg->entries[j].value) ? " = " : "=",
                        cfg->entries[j].value);
    }
    return ferror(out) ? sc_error(SC_ERR, "writing the config failed") : SC_OK;
}

int sc_config_text(const sc_config *cfg, char **out) {
    size_t size = 0;
    *out = NULL;
    FILE *f = open_memstream(out, &size);
    if (!f) return sc_error(SC_ERR, "out of memory");
    int rc = sc_config_write(cfg, f);
    if (fclose(f) != 0 && rc == SC_OK) rc = sc_error(SC_ERR, "out of memory");
    if (rc != SC_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}
