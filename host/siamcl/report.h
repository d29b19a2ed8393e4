/* A table of test metrics: a row per predictor (the model, then its baselines), a column per
 * metric, printed for people and written as JSON rows (metrics.json, eval --json). */
#ifndef SIAMCL_REPORT_H
#define SIAMCL_REPORT_H

#include <stdio.h>

enum { SC_REPORT_COLS = 8, SC_REPORT_ROWS = 16 }; /* rows: an ensemble's members too */

typedef struct sc_report {
    char title[256]; /* the line above the table: what was tested, and how */
    int ncols, nrows;
    struct {
        const char *label; /* the printed header; NULL: in the JSON rows only */
        const char *key;   /* the JSON key */
    } cols[SC_REPORT_COLS];
    struct {
        const char *name;
        double v[SC_REPORT_COLS]; /* NaN: does not apply (printed "-", JSON null) */
    } rows[SC_REPORT_ROWS];
} sc_report;

/* Appends a column; returns its index. */
int sc_report_column(sc_report *r, const char *label, const char *key);
/* Appends a row of NaNs named name; returns its index. */
int sc_report_row(sc_report *r, const char *name);

void sc_report_print(FILE *out, const sc_report *r);
/* The rows as a JSON array of {"name": ..., key: value, ...}. */
void sc_report_write_rows(FILE *out, const sc_report *r);

#endif
