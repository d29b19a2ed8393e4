#include "siamcl/job.h"
#include "siamcl/overlap.h"

#include <string.h>

static const char *const bag_names[] = {"sum", "mean", NULL};
static const char *const pair_feature_names[] = {"none", "overlap", NULL};

static int read_act(sc_config *cfg, const char *key, sc_act def, sc_act *out) {
    int v;
    SC_TRY(sc_cfg_enum(cfg, "model", key, sc_act_names, def, &v));
    *out = (sc_act)v;
    return SC_OK;
}

int sc_model_config_read(sc_config *cfg, sc_model_config *mc) {
    long input;
    int v;
    double lo, hi;
    memset(mc, 0, sizeof *mc);
    SC_TRY(sc_cfg_int(cfg, "model", "input", 0, 0, 1L << 26, &input));
    mc->input = (int)input;
    SC_TRY(sc_cfg_int_list(cfg, "model", "layers", "256,128,64", 1, mc->layers, SC_MAX_LAYERS,
                           &mc->nlayers));
    SC_TRY(read_act(cfg, "activation", SC_ACT_RELU, &mc->activation));
    SC_TRY(read_act(cfg, "output_activation", SC_ACT_IDENTITY, &mc->output_activation));
    SC_TRY(sc_cfg_bool(cfg, "model", "normalize", 0, &mc->normalize));
    SC_TRY(sc_cfg_enum(cfg, "model", "head", sc_head_names, SC_HEAD_COSINE, &v));
    mc->head = (sc_head)v;
    if (mc->head == SC_HEAD_MLP) {
        SC_TRY(sc_cfg_int_list(cfg, "model", "head_layers", "64", 1, mc->head_layers, SC_MAX_LAYERS,
                               &mc->head_nlayers));
        SC_TRY(read_act(cfg, "head_activation", SC_ACT_RELU, &mc->head_activation));
        SC_TRY(sc_cfg_enum(cfg, "model", "pair_features", pair_feature_names, 0, &v));
        mc->pair_features = v ? SC_OVERLAP_FEATURES : 0;
    }
    SC_TRY(sc_cfg_float(cfg, "model", "dropout", 0.0, 0.0, 1.0, &lo));
    if (lo >= 1.0)
        return sc_cfg_invalid(cfg, "model", "dropout", "must be below 1 (a rate in [0, 1))");
    mc->dropout = (float)lo;
    SC_TRY(sc_cfg_enum(cfg, "model", "output", sc_output_names, SC_OUTPUT_RAW, &v));
    mc->output = (sc_output)v;
    mc->target_min = 0.0f;
    mc->target_max = 1.0f;
    if (mc->output == SC_OUTPUT_RANGE) {
        SC_TRY(sc_cfg_float(cfg, "model", "target_min", 0.0, -1e9, 1e9, &lo));
        SC_TRY(sc_cfg_float(cfg, "model", "target_max", 1.0, -1e9, 1e9, &hi));
        if (!(hi > lo)) return sc_cfg_invalid(cfg, "model", "target_max", "must exceed target_min");
        mc->target_min = (float)lo;
        mc->target_max = (float)hi;
    }
    return SC_OK;
}

int sc_model_bag_read(sc_config *cfg, sc_model_config *mc) {
    return sc_cfg_enum(cfg, "model", "bag", bag_names, 1, &mc->bag_mean);
}

int sc_model_config_check(const sc_config *cfg, const sc_model_config *mc,
                          const sc_loss_config *loss) {
    const char *where = sc_config_path(cfg) ? sc_config_path(cfg) : "config";
    const char *lname = sc_loss_names[loss->kind];
    if (loss->kind == SC_LOSS_MSE) return SC_OK;
    if (loss->kind == SC_LOSS_SOFTMAX && mc->head != SC_HEAD_COSINE)
        return sc_error(SC_EINPUT,
                        "%s: [train] loss = softmax scores in-batch cosines and needs [model] "
                        "head = cosine (not %s)",
                        where, sc_head_names[mc->head]);
    int distance = loss->kind == SC_LOSS_CONTRASTIVE || loss->kind == SC_LOSS_ONLINE_CONTRASTIVE ||
                   loss->kind == SC_LOSS_TRIPLET;
    if (distance && mc->head == SC_HEAD_MLP)
        return sc_error(SC_EINPUT,
                        "%s: [train] loss = %s needs a distance: [model] head = cosine "
                        "(d = 1 - cos) or euclidean, not mlp",
                        where, lname);
    if (mc->output == SC_OUTPUT_RANGE)
        return sc_error(SC_EINPUT,
                        "%s: [train] loss = %s works on the head's similarity; [model] output = "
                        "range is for mse",
                        where, lname);
    return SC_OK;
}
