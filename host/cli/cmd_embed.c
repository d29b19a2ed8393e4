#include "cmd.h"

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
    "         t10k-images-idx3-ubyte.gz; text models: a CSV, one text per row; vector\n"
    "         models: an .npy of vectors (N x D, float32 or float64)\n"
    "  -o, --output OUT.npy  where to write the embeddings\n"
    "  --column NAME  text: the CSV column to embed (default: the model's [data] left)\n"
    "  --encoding E   text: utf-8 or latin-1 (default: the model's [data] encoding)\n";

int cmd_embed(int argc, char **argv) {
    const char *out = NULL;
    sc_read_options o = {0};
    cmd_option options[] = {{"output", 'o', &out, NULL},
                            {"column", 0, &o.column, NULL},
                            {"encoding", 0, &o.encoding, NULL},
                            {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "embed", cmd_embed_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 2 || !out)
        return sc_error(SC_EINPUT, "embed: expected MODEL INPUT -o OUT.npy (see --help)");
    cmd_model cm;
    sc_user_rows rows = {0};
    cl_mem dev = NULL;
    float *emb = NULL;
    size_t n = 0, E = 0;
    int rc = cmd_model_open(&args, &cm);
    if (rc == SC_OK) rc = cmd_model_single(&cm, "embed");
    if (rc == SC_OK) rc = cm.kind->read_rows(cm.rt, &cm.job, args.positional[1], &o, &rows);
    if (rc == SC_OK) {
        n = rows.in.n;
        E = (size_t)sc_model_embedding_width(cm.m);
        rc = sc_buffer_new(cm.rt, n * E * sizeof(float), &dev);
    }
    if (rc == SC_OK) rc = sc_embed_rows(cm.m, &rows.in, 0, n, dev);
    if (rc == SC_OK && !(emb = malloc((n ? n * E : 1) * sizeof *emb)))
        rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_download(cm.rt, emb, (sc_view){dev, 0}, n * E);
    if (rc == SC_OK) rc = sc_npy_write(out, emb, n, E);
    if (rc == SC_OK)
        fprintf(stderr, "siamcl: %zu embeddings of %zu values written to %s\n", n, E, out);
    free(emb);
    sc_buffer_free(dev);
    sc_user_rows_free(&rows);
    cmd_model_close(&cm);
    return rc;
}
