#include "cmd.h"

#include "siamcl/checkpoint.h"
#include "siamcl/evaluate.h"
#include "siamcl/npy.h"

#include <stdlib.h>

const char cmd_embed_help[] =
    "usage: siamcl embed MODEL INPUT -o OUT.npy [--device SPEC]\n"
    "\n"
    "Writes the embedding of every input row as a float32 NumPy array (N x D), one row per\n"
    "input, in input order.\n"
    "\n"
    "  MODEL  a .safetensors checkpoint, or a run directory with model.safetensors\n"
    "  INPUT  an IDX images file (plain or .gz), such as t10k-images-idx3-ubyte.gz\n"
    "  -o, --output OUT.npy  where to write the embeddings\n";

int cmd_embed(int argc, char **argv) {
    const char *out = NULL;
    cmd_option options[] = {{"output", 'o', &out, NULL}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "embed", options, &args));
    if (args.help) {
        fputs(cmd_embed_help, stdout);
        return SC_OK;
    }
    if (args.npositional != 2 || !out)
        return sc_error(SC_EINPUT, "embed: expected MODEL INPUT -o OUT.npy (see --help)");
    char buf[1100];
    const char *path = cmd_model_path(args.positional[0], buf, sizeof buf);
    sc_runtime *rt = NULL;
    sc_config *cfg = NULL;
    sc_job job;
    sc_model *m = NULL;
    sc_images im = {0};
    float *emb = NULL;
    int rc = cmd_open_runtime(&args, NULL, &rt);
    if (rc == SC_OK) rc = sc_checkpoint_load(rt, path, 0, &cfg, &job, &m);
    if (rc == SC_OK)
        rc = sc_idx_load_images(args.positional[1], &im.set.pixels, &im.set.count, &im.set.rows,
                                &im.set.cols);
    im.width = im.set.rows * im.set.cols;
    if (rc == SC_OK && im.width != (size_t)job.model.input)
        rc = sc_error(SC_EINPUT, "%s: images of %zu values, but the model takes %d",
                      args.positional[1], im.width, job.model.input);
    size_t n = im.set.count, E = rc == SC_OK ? (size_t)sc_model_embedding_width(m) : 0;
    cl_mem dev = NULL;
    if (rc == SC_OK) rc = sc_buffer_new(rt, n * im.width * sizeof(float), &im.rows);
    if (rc == SC_OK) rc = sc_upload(rt, (sc_view){im.rows, 0}, im.set.pixels, n * im.width);
    if (rc == SC_OK) rc = sc_buffer_new(rt, n * E * sizeof(float), &dev);
    if (rc == SC_OK) rc = sc_embed_images(m, &im, 0, n, dev);
    if (rc == SC_OK && !(emb = malloc(n * E * sizeof *emb))) rc = sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK) rc = sc_download(rt, emb, (sc_view){dev, 0}, n * E);
    if (rc == SC_OK) rc = sc_npy_write(out, emb, n, E);
    if (rc == SC_OK)
        fprintf(stderr, "siamcl: %zu embeddings of %zu values written to %s\n", n, E, out);
    free(emb);
    free(im.set.pixels);
    sc_buffer_free(im.rows);
    sc_buffer_free(dev);
    sc_model_free(m);
    sc_config_free(cfg);
    sc_runtime_close(rt);
    return rc;
}
