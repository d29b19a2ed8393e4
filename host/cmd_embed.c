#include "cmd.h"

#include "siamcl/csv.h"
#include "siamcl/evaluate.h"
#include "siamcl/npy.h"

#include <stdlib.h>

const char cmd_embed_help[] =
    "usage: siamcl embed MODEL INPUT -o OUT.npy [--column NAME] [--encoding E] [--device SPEC]\n"
    "\n"
    "Writes the embedding of every input as a float32 NumPy array (N x D), one row per input,\n"
    "in input order.\n"
    "\n"
    "  MODEL  a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  INPUT  image models: an IDX images file (plain or .gz), such as\n"
    "         t10k-images-idx3-ubyte.gz; text models: a CSV, one text per row\n"
    "  -o, --output OUT.npy  where to write the embeddings\n"
    "  --column NAME  text: the CSV column to embed (default: the model's [data] left)\n"
    "  --encoding E   text: utf-8 or latin-1 (default: the model's [data] encoding)\n";

/* The embeddings of an IDX images file, on the device in *out (*n rows). */
static int embed_images(sc_model *m, const char *path, cl_mem *out, size_t *n) {
    sc_images im;
    size_t E = (size_t)sc_model_embedding_width(m);
    int rc = cmd_images_load(path, m, &im);
    *n = im.set.count;
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, *n * E * sizeof(float), out);
    if (rc == SC_OK) rc = sc_embed_images(m, &im, 0, *n, *out);
    sc_images_free(&im);
    return rc;
}

/* The embeddings of a CSV column's texts, on the device in *out (*n rows). */
static int embed_column(sc_model *m, const sc_job *job, const char *path, const char *column,
                        const char *encoding, cl_mem *out, size_t *n) {
    sc_encoding enc = job->data.encoding;
    if (encoding && sc_encoding_parse(encoding, &enc) != SC_OK)
        return sc_error(SC_EINPUT, "embed: --encoding %s: expected utf-8 or latin-1", encoding);
    sc_csv *t;
    int col;
    SC_TRY(sc_csv_read(path, enc, &t));
    *n = sc_csv_rows(t);
    const char **texts = malloc((*n ? *n : 1) * sizeof *texts);
    sc_csr x = {0};
    sc_csr_dev dev = {0};
    size_t E = (size_t)sc_model_embedding_width(m);
    int rc = texts ? sc_csv_column(t, column ? column : job->data.left, &col)
                   : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK && !*n) rc = sc_error(SC_EINPUT, "%s: no rows to embed", path);
    for (size_t r = 0; rc == SC_OK && r < *n; r++) texts[r] = sc_csv_field(t, r, col);
    if (rc == SC_OK) rc = sc_featurize(&job->data.features, texts, *n, &x);
    if (rc == SC_OK) rc = sc_csr_upload(m->rt, &x, &dev);
    if (rc == SC_OK) rc = sc_buffer_new(m->rt, *n * E * sizeof(float), out);
    if (rc == SC_OK) rc = sc_embed_texts(m, &dev, *n, *out);
    sc_csr_dev_free(&dev);
    sc_csr_free(&x);
    free(texts);
    sc_csv_free(t);
    return rc;
}

int cmd_embed(int argc, char **argv) {
    const char *out = NULL, *column = NULL, *encoding = NULL;
    cmd_option options[] = {{"output", 'o', &out, NULL},
                            {"column", 0, &column, NULL},
                            {"encoding", 0, &encoding, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "embed", cmd_embed_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 2 || !out)
        return sc_error(SC_EINPUT, "embed: expected MODEL INPUT -o OUT.npy (see --help)");
    const char *input = args.positional[1];
    cmd_model cm;
    cl_mem dev = NULL;
    float *emb = NULL;
    size_t n = 0, E = 0;
    int rc = cmd_model_open(&args, &cm);
    int text = rc == SC_OK && cm.job.model.sparse_input;
    if (rc == SC_OK && !text && (column || encoding))
        rc = sc_error(SC_EINPUT, "embed: --column and --encoding are for text models");
    if (rc == SC_OK)
        rc = text ? embed_column(cm.m, &cm.job, input, column, encoding, &dev, &n)
                  : embed_images(cm.m, input, &dev, &n);
    if (rc == SC_OK) E = (size_t)sc_model_embedding_width(cm.m);
    if (rc == SC_OK && !(emb = malloc(n * E * sizeof *emb))) rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_download(cm.rt, emb, (sc_view){dev, 0}, n * E);
    if (rc == SC_OK) rc = sc_npy_write(out, emb, n, E);
    if (rc == SC_OK)
        fprintf(stderr, "siamcl: %zu embeddings of %zu values written to %s\n", n, E, out);
    free(emb);
    sc_buffer_free(dev);
    cmd_model_close(&cm);
    return rc;
}
