#include "cmd.h"

#include "siamcl/onnx_export.h"

const char cmd_export_help[] =
    "usage: siamcl export MODEL -o MODEL.onnx [--pairs] [--device SPEC]\n"
    "\n"
    "Writes a trained model as an ONNX graph (opset 17) that other runtimes (onnxruntime,\n"
    "and through it Python, Java, C#, the browser) run without siamcl.\n"
    "\n"
    "The tower: image and vector models take \"rows\" (N x input floats); text models take\n"
    "the hashed features of N texts as \"ids\" (int64: each text's feature indices, one text\n"
    "after another), \"weights\" (float: their values) and \"offsets\" (int64, N: where each\n"
    "text's ids begin), as torch.nn.EmbeddingBag takes them. The output \"embeddings\"\n"
    "(N x E) is L2-normalized when the model normalizes. With --pairs, the whole scorer:\n"
    "each input twice, prefixed left_ and right_ (and \"pair_features\", N x F, for a head\n"
    "that reads them), then the head and the range map; the output \"scores\" (N) is what\n"
    "`siamcl score` gives.\n"
    "\n"
    "The metadata holds the model's config (\"siamcl.config\"): its [features] section says\n"
    "how a text is hashed into ids and weights (tools/siamcl_features.py does it in Python),\n"
    "and \"siamcl.inputs\" names the inputs. tools/check_onnx compares onnxruntime's outputs\n"
    "with siamcl's.\n"
    "\n"
    "  MODEL   a .safetensors checkpoint, or a run directory with model.safetensors (an\n"
    "          ensemble: export each member's)\n"
    "  -o, --output MODEL.onnx  where to write the graph (written whole or not at all)\n"
    "  --pairs  the scorer of pairs instead of the tower\n";

int cmd_export(int argc, char **argv) {
    const char *out = NULL;
    int pairs = 0;
    cmd_option options[] = {{"output", 'o', &out, NULL}, {"pairs", 0, NULL, &pairs}, {0}};
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "export", cmd_export_help, options, &args));
    if (args.help) return SC_OK;
    if (args.npositional != 1 || !out)
        return sc_error(SC_EINPUT, "export: expected MODEL -o MODEL.onnx (see --help)");
    cmd_model cm;
    int rc = cmd_model_open(&args, &cm);
    if (rc == SC_OK) rc = cmd_model_single(&cm, "export");
    if (rc == SC_OK) rc = sc_onnx_export(cm.m, cm.cfg, pairs, out);
    if (rc == SC_OK)
        fprintf(stderr, "siamcl: %s written: the %s of %s\n", out, pairs ? "scorer" : "tower",
                cm.path);
    cmd_model_close(&cm);
    return rc;
}
