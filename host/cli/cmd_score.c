#include "cmd.h"

#include "atomic_file.h"
#include "siamcl/evaluate.h"

#include <stdlib.h>
#include <string.h>

const char cmd_score_help[] =
    "usage: siamcl score MODEL PAIRS.csv -o SCORES.csv [--images IDX | --vectors NPY]\n"
    "                    [--encoding E]\n"
    "\n"
    "Scores pairs with a trained model and writes PAIRS.csv's columns with a score column\n"
    "added (the model's output: its similarity, or the value mapped to the target range).\n"
    "\n"
    "  MODEL         a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  PAIRS.csv     image models: columns left and right, 0-based row indices into IDX (a\n"
    "                run's test_pairs.csv is such a file), or into NPY for vector models;\n"
    "                text models: the two text columns of the model's [data] left and right\n"
    "                (search_term, product_title)\n"
    "  --images IDX  image models: the IDX images file the indices point into\n"
    "  --vectors NPY vector models: the .npy of vectors (N x D) the indices point into\n"
    "  --encoding E  text: utf-8 or latin-1 (default: the model's [data] encoding)\n"
    "  -o, --output SCORES.csv  where to write the scores\n";

static void write_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_scores(const char *path, const sc_csv *t, const float *scores) {
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    int cols = sc_csv_columns(t);
    for (int c = 0; c < cols; c++) write_field(f.file, sc_csv_name(t, c)), fputc(',', f.file);
    fputs("score\n", f.file);
    for (size_t r = 0; r < sc_csv_rows(t); r++) {
        for (int c = 0; c < cols; c++)
            write_field(f.file, sc_csv_field(t, r, c)), fputc(',', f.file);
        fprintf(f.file, "%.7g\n", scores[r]);
    }
    return sc_atomic_commit(&f);
}

/* The scores of the pairs the table names. */
static int score_table(cmd_model *cm, const sc_csv *t, const sc_read_options *o, float **scores) {
    sc_user_rows rows = {0};
    sc_pairs p = {0};
    sc_pairs_dev dev = {0};
    int rc = cm->kind->read_pairs(cm->rt, &cm->job, t, o, &rows, &p);
    if (rc == SC_OK) rc = sc_pairs_upload(cm->rt, &p, &dev);
    if (rc == SC_OK && !(*scores = malloc((p.n ? p.n : 1) * sizeof **scores)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_ensemble_score_pairs(&cm->all, &rows.in, &dev, *scores);
    sc_pairs_dev_free(&dev);
    sc_pairs_free(&p);
    sc_user_rows_free(&rows);
    return rc;
}

int cmd_score(int argc, char **argv) {
    const char *out = NULL, *images = NULL, *vectors = NULL, *encoding = NULL;
    cmd_option options[] = {{"output", 'o', &out, NULL},
                            {"images", 0, &images, NULL},
                            {"vectors", 0, &vectors, NULL},
                            {"encoding", 0, &encoding, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "score", cmd_score_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 2 || !out)
        return sc_error(SC_EINPUT, "score: expected MODEL PAIRS.csv -o SCORES.csv (see --help)");
    if (images && vectors) return sc_error(SC_EINPUT, "score: --images or --vectors, not both");
    cmd_model cm;
    sc_csv *t = NULL;
    float *scores = NULL;
    sc_read_options o = {.rows = images ? images : vectors};
    int rc = cmd_model_open(&args, &cm);
    sc_encoding enc = cm.job.data.encoding;
    if (rc == SC_OK && encoding && sc_encoding_parse(encoding, &enc) != SC_OK)
        rc = sc_error(SC_EINPUT, "score: --encoding %s: expected utf-8 or latin-1", encoding);
    if (rc == SC_OK) rc = sc_csv_read(args.positional[1], enc, &t);
    if (rc == SC_OK) rc = score_table(&cm, t, &o, &scores);
    if (rc == SC_OK) rc = write_scores(out, t, scores);
    if (rc == SC_OK) fprintf(stderr, "siamcl: %zu scores written to %s\n", sc_csv_rows(t), out);
    free(scores);
    sc_csv_free(t);
    cmd_model_close(&cm);
    return rc;
}
