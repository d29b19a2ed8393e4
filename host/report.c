#include "siamcl/report.h"

#include <math.h>

int sc_report_column(sc_report *r, const char *label, const char *key) {
    r->cols[r->ncols].label = label;
    r->cols[r->ncols].key = key;
    return r->ncols++;
}

int sc_report_row(sc_report *r, const char *name) {
    r->rows[r->nrows].name = name;
    for (int c = 0; c < SC_REPORT_COLS; c++) r->rows[r->nrows].v[c] = NAN;
    return r->nrows++;
}

static void cell(FILE *out, double v) {
    if (isnan(v))
        fprintf(out, " %9s", "-");
    else
        fprintf(out, " %9.4f", v);
}

void sc_report_print(FILE *out, const sc_report *r) {
    fprintf(out, "%s\n%-14s", r->title, "");
    for (int c = 0; c < r->ncols; c++)
        if (r->cols[c].label) fprintf(out, " %9s", r->cols[c].label);
    fputc('\n', out);
    for (int i = 0; i < r->nrows; i++) {
        fprintf(out, "%-14s", r->rows[i].name);
        for (int c = 0; c < r->ncols; c++)
            if (r->cols[c].label) cell(out, r->rows[i].v[c]);
        fputc('\n', out);
    }
}

void sc_report_write_rows(FILE *out, const sc_report *r) {
    fputs("[", out);
    for (int i = 0; i < r->nrows; i++) {
        fprintf(out, "%s\n    {\"name\": \"%s\"", i ? "," : "", r->rows[i].name);
        for (int c = 0; c < r->ncols; c++) {
            double v = r->rows[i].v[c];
            if (isnan(v))
                fprintf(out, ", \"%s\": null", r->cols[c].key);
            else
                fprintf(out, ", \"%s\": %.6g", r->cols[c].key, v);
        }
        fputc('}', out);
    }
    fputs("\n  ]", out);
}
