/* INI configuration: inih parses; these getters validate each value and mark its key used,
 * so that a key nobody read (a typo) is reported with its file and line. */
#ifndef SIAMCL_CONFIG_H
#define SIAMCL_CONFIG_H

#include <stdio.h>

typedef struct sc_config sc_config;

/* An empty configuration (every getter returns its default). */
sc_config *sc_config_new(void);
/* Reads an INI file; a missing or unreadable file, a malformed line or a duplicate key is an
 * SC_EINPUT error naming the file and line. */
int sc_config_load(const char *path, sc_config **cfg);
/* Parses INI text held in memory; origin names it in messages (a checkpoint, say). */
int sc_config_parse(const char *text, const char *origin, sc_config **cfg);
void sc_config_free(sc_config *cfg);
/* The file it was read from, or NULL. */
const char *sc_config_path(const sc_config *cfg);

/* Applies "section.key=value" from the command line, replacing a value from the file. */
int sc_config_override(sc_config *cfg, const char *assignment);

/* Getters: an absent key yields the default; a malformed or out-of-range value is an
 * SC_EINPUT error naming where it was set. */
int sc_cfg_str(sc_config *cfg, const char *section, const char *key, const char *def,
               const char **out);
int sc_cfg_int(sc_config *cfg, const char *section, const char *key, long def, long min, long max,
               long *out);
int sc_cfg_float(sc_config *cfg, const char *section, const char *key, double def, double min,
                 double max, double *out);
int sc_cfg_bool(sc_config *cfg, const char *section, const char *key, int def, int *out);
/* One of names (a NULL-terminated list); *out is its index. */
int sc_cfg_enum(sc_config *cfg, const char *section, const char *key, const char *const *names,
                int def, int *out);
/* A comma-separated list of integers >= min, at most max_count of them; def is used when the
 * key is absent (a string in the same syntax). */
int sc_cfg_int_list(sc_config *cfg, const char *section, const char *key, const char *def, long min,
                    int *values, int max_count, int *count);

/* Parses "a,b,c" (integers >= min, at most max_count); 0 when the syntax or a bound is
 * wrong. */
int sc_parse_int_list(const char *s, long min, int *values, int max_count, int *count);

/* An SC_EINPUT error for a value that the caller's own check rejected, naming where the key
 * was set (or only the key when it is unset). */
int sc_cfg_invalid(const sc_config *cfg, const char *section, const char *key, const char *why);

/* An SC_EINPUT error for the first key that no getter has read. */
int sc_config_check_unused(const sc_config *cfg);

/* Writes every key and value, section by section, as an INI file. */
int sc_config_write(const sc_config *cfg, FILE *out);
/* What sc_config_write writes, as one string (*out: free() it). */
int sc_config_text(const sc_config *cfg, char **out);

#endif
