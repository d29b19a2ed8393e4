#include "cmd.h"

#include "siamcl/atomic_file.h"
#include "siamcl/csv.h"
#include "siamcl/evaluate.h"
#include "siamcl/features.h"
#include "siamcl/sparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char cmd_score_help[] =
    "usage: siamcl score MODEL PAIRS.csv -o SCORES.csv [--images IDX] [--encoding E]\n"
    "\n"
    "Scores pairs with a trained model and writes PAIRS.csv's columns with a score column\n"
    "added (the model's output: its similarity, or the value mapped to the target range).\n"
    "\n"
    "  MODEL         a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  PAIRS.csv     image models: columns left and right, 0-based row indices into IDX (a\n"
    "                run's test_pairs.csv is such a file); text models: the two text columns\n"
    "                of the model's [data] left and right (search_term, product_title)\n"
    "  --images IDX  image models: the IDX images file the indices point into\n"
    "  --encoding E  text: utf-8 or latin-1 (default: the model's [data] encoding)\n"
    "  -o, --output SCORES.csv  where to write the scores\n";

/* Reads the left and right index columns, each in 0 .. count - 1. */
static int read_pairs(const sc_csv *t, size_t count, sc_pairs *p) {
    int cols[2];
    SC_TRY(sc_csv_column(t, "left", &cols[0]));
    SC_TRY(sc_csv_column(t, "right", &cols[1]));
    size_t n = sc_csv_rows(t);
    p->n = n;
    p->left = malloc((n ? n : 1) * sizeof *p->left);
    p->right = malloc((n ? n : 1) * sizeof *p->right);
    p->target = calloc(n ? n : 1, sizeof *p->target);
    if (!p->left || !p->right || !p->target) return sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; r < n; r++) {
        for (int k = 0; k < 2; k++) {
            double v;
            SC_TRY(sc_csv_number(t, r, cols[k], &v));
            if (v < 0 || v >= (double)count || v != floor(v))
                return sc_error(SC_EINPUT, "%s:%d: %s = %s is not an image index (0..%zu)",
                                sc_csv_path(t), sc_csv_line(t, r), k ? "right" : "left",
                                sc_csv_field(t, r, cols[k]), count - 1);
            (k ? p->right : p->left)[r] = (int32_t)v;
        }
    }
    return SC_OK;
}

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

/* Image pairs: PAIRS' left and right columns index the IDX images. */
static int score_images(sc_model *m, const sc_csv *t, const char *images, float **scores) {
    sc_images im;
    sc_pairs p = {0};
    sc_pairs_dev dev = {0};
    double loss;
    int rc = cmd_images_load(images, m, &im);
    if (rc == SC_OK) rc = read_pairs(t, im.set.count, &p);
    if (rc == SC_OK) rc = sc_pairs_upload(m->rt, &p, &dev);
    if (rc == SC_OK && !(*scores = malloc((p.n ? p.n : 1) * sizeof **scores)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_score_pairs(m, &im, &dev, *scores, &loss);
    sc_pairs_dev_free(&dev);
    sc_pairs_free(&p);
    sc_images_free(&im);
    return rc;
}

/* Text pairs: the model's [data] left and right columns, featurized as in training. */
static int score_texts(sc_model *m, const sc_job *job, const sc_csv *t, float **scores) {
    int cols[2];
    size_t n = sc_csv_rows(t);
    SC_TRY(sc_csv_column(t, job->data.left, &cols[0]));
    SC_TRY(sc_csv_column(t, job->data.right, &cols[1]));
    const char **texts = malloc((n ? 2 * n : 1) * sizeof *texts);
    int32_t *idx = malloc((n ? 2 * n : 1) * sizeof *idx);
    sc_csr x = {0};
    sc_csr_dev xd = {0};
    sc_pairs_dev dev = {0};
    double loss;
    int rc = texts && idx ? SC_OK : sc_error(SC_ERR, "out of memory");
    for (size_t r = 0; rc == SC_OK && r < n; r++) {
        texts[r] = sc_csv_field(t, r, cols[0]);
        texts[n + r] = sc_csv_field(t, r, cols[1]);
        idx[r] = (int32_t)r;
        idx[n + r] = (int32_t)(n + r);
    }
    sc_pairs p = {n, idx, idx + n, NULL};
    if (rc == SC_OK && !(p.target = calloc(n ? n : 1, sizeof *p.target)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_featurize(&job->data.features, texts, 2 * n, &x);
    if (rc == SC_OK) rc = sc_csr_upload(m->rt, &x, &xd);
    if (rc == SC_OK) rc = sc_pairs_upload(m->rt, &p, &dev);
    if (rc == SC_OK && !(*scores = malloc((n ? n : 1) * sizeof **scores)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_score_text_pairs(m, &xd, &dev, *scores, &loss);
    sc_pairs_dev_free(&dev);
    sc_csr_dev_free(&xd);
    sc_csr_free(&x);
    free(p.target);
    free(idx);
    free(texts);
    return rc;
}

int cmd_score(int argc, char **argv) {
    const char *out = NULL, *images = NULL, *encoding = NULL;
    cmd_option options[] = {{"output", 'o', &out, NULL},
                            {"images", 0, &images, NULL},
                            {"encoding", 0, &encoding, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "score", cmd_score_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 2 || !out)
        return sc_error(SC_EINPUT, "score: expected MODEL PAIRS.csv -o SCORES.csv (see --help)");
    cmd_model cm;
    sc_csv *t = NULL;
    float *scores = NULL;
    int rc = cmd_model_open(&args, &cm);
    int text = rc == SC_OK && cm.job.model.sparse_input;
    sc_encoding enc = text ? cm.job.data.encoding : SC_UTF8;
    if (rc == SC_OK && !text && !images)
        rc = sc_error(SC_EINPUT, "score: an image model needs --images IDX");
    if (rc == SC_OK && encoding && sc_encoding_parse(encoding, &enc) != SC_OK)
        rc = sc_error(SC_EINPUT, "score: --encoding %s: expected utf-8 or latin-1", encoding);
    if (rc == SC_OK) rc = sc_csv_read(args.positional[1], enc, &t);
    if (rc == SC_OK)
        rc = text ? score_texts(cm.m, &cm.job, t, &scores) : score_images(cm.m, t, images, &scores);
    if (rc == SC_OK) rc = write_scores(out, t, scores);
    if (rc == SC_OK) fprintf(stderr, "siamcl: %zu scores written to %s\n", sc_csv_rows(t), out);
    free(scores);
    sc_csv_free(t);
    cmd_model_close(&cm);
    return rc;
}
