#include "siamcl/job.h"

int sc_loss_config_read(sc_config *cfg, sc_loss_config *out) {
    int kind, mining = SC_MINING_BATCH_HARD;
    double v;
    SC_TRY(sc_cfg_enum(cfg, "train", "loss", sc_loss_names, SC_LOSS_MSE, &kind));
    out->kind = (sc_loss_kind)kind;
    out->margin = 0.5f;
    out->scale = 20.0f;
    if (kind == SC_LOSS_CONTRASTIVE || kind == SC_LOSS_ONLINE_CONTRASTIVE ||
        kind == SC_LOSS_TRIPLET) {
        double def = kind == SC_LOSS_TRIPLET ? 0.2 : 0.5;
        SC_TRY(sc_cfg_float(cfg, "train", "margin", def, 0.0, 1e6, &v));
        out->margin = (float)v;
    }
    if (kind == SC_LOSS_SOFTMAX || kind == SC_LOSS_COSENT) {
        SC_TRY(sc_cfg_float(cfg, "train", "scale", 20.0, 1e-3, 1e3, &v));
        out->scale = (float)v;
    }
    if (kind == SC_LOSS_TRIPLET)
        SC_TRY(sc_cfg_enum(cfg, "train", "mining", sc_mining_names, SC_MINING_BATCH_HARD, &mining));
    out->mining = (sc_mining)mining;
    return SC_OK;
}

int sc_optim_config_read(sc_config *cfg, sc_optim_config *o) {
    int kind;
    double v;
    SC_TRY(sc_cfg_enum(cfg, "train", "optimizer", sc_optim_names, SC_OPT_ADAM, &kind));
    o->kind = (sc_optim_kind)kind;
    SC_TRY(sc_cfg_float(cfg, "train", "lr", kind == SC_OPT_ADAM ? 1e-3 : 1e-2, 0, 10, &v));
    o->lr = (float)v;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->momentum = 0.9f;
    if (kind == SC_OPT_ADAM) {
        SC_TRY(sc_cfg_float(cfg, "train", "beta1", 0.9, 0, 0.999999, &v));
        o->beta1 = (float)v;
        SC_TRY(sc_cfg_float(cfg, "train", "beta2", 0.999, 0, 0.999999, &v));
        o->beta2 = (float)v;
        SC_TRY(sc_cfg_float(cfg, "train", "eps", 1e-8, 1e-30, 1, &v));
        o->eps = (float)v;
    } else {
        SC_TRY(sc_cfg_float(cfg, "train", "momentum", 0.9, 0, 0.999999, &v));
        o->momentum = (float)v;
    }
    SC_TRY(sc_cfg_float(cfg, "train", "weight_decay", 0, 0, 1, &v));
    o->weight_decay = (float)v;
    SC_TRY(sc_cfg_float(cfg, "train", "clip_norm", 0, 0, 1e9, &v));
    o->clip_norm = (float)v;
    return SC_OK;
}
