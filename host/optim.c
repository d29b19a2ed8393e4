#include "siamcl/optim.h"

#include <math.h>
#include <stdlib.h>

const char *const sc_optim_names[] = {"adam", "sgd", NULL};

/* Work-items for the partial sums of the gradient norm. */
#define NORM_PARTS 256

int sc_optimizer_create(sc_runtime *rt, const sc_optim_config *cfg, size_t n, sc_optimizer **out) {
    sc_optimizer *o = calloc(1, sizeof *o);
    *out = NULL;
    if (!o) return sc_error(SC_ERR, "out of memory");
    o->rt = rt;
    o->cfg = *cfg;
    o->n = n;
    int rc = sc_buffer_new(rt, n * sizeof(float), &o->m);
    if (rc == SC_OK && cfg->kind == SC_OPT_ADAM) rc = sc_buffer_new(rt, n * sizeof(float), &o->v);
    if (rc == SC_OK) rc = sc_buffer_new(rt, 2 * sizeof(float), &o->scale);
    if (rc == SC_OK && cfg->clip_norm > 0)
        rc = sc_buffer_new(rt, NORM_PARTS * sizeof(float), &o->partial);
    if (rc == SC_OK) rc = sc_optimizer_reset(o);
    if (rc != SC_OK) {
        sc_optimizer_free(o);
        return rc;
    }
    *out = o;
    return SC_OK;
}

void sc_optimizer_free(sc_optimizer *o) {
    if (!o) return;
    sc_buffer_free(o->m);
    sc_buffer_free(o->v);
    sc_buffer_free(o->scale);
    sc_buffer_free(o->partial);
    free(o);
}

int sc_optimizer_reset(sc_optimizer *o) {
    o->step = 0;
    SC_TRY(sc_fill(o->rt, (sc_view){o->m, 0}, 0.0f, o->n));
    if (o->v) SC_TRY(sc_fill(o->rt, (sc_view){o->v, 0}, 0.0f, o->n));
    return sc_fill(o->rt, (sc_view){o->scale, 0}, 1.0f, 2);
}

int sc_optimizer_get_state(sc_optimizer *o, float *m, float *v, long *step) {
    *step = o->step;
    SC_TRY(sc_download(o->rt, m, (sc_view){o->m, 0}, o->n));
    return o->v ? sc_download(o->rt, v, (sc_view){o->v, 0}, o->n) : SC_OK;
}

int sc_optimizer_set_state(sc_optimizer *o, const float *m, const float *v, long step) {
    o->step = step;
    SC_TRY(sc_upload(o->rt, (sc_view){o->m, 0}, m, o->n));
    return o->v ? sc_upload(o->rt, (sc_view){o->v, 0}, v, o->n) : SC_OK;
}

static int clip(sc_optimizer *o, sc_view grads) {
    SC_TRY(sc_launch1(o->rt, "optim", "sumsq_partial", NORM_PARTS, SC_VIEW(grads), SC_INT(o->n),
                      SC_MEM(o->partial)));
    return sc_launch1(o->rt, "optim", "clip_scale", 1, SC_MEM(o->partial), SC_INT(NORM_PARTS),
                      SC_FLT(o->cfg.clip_norm), SC_MEM(o->scale));
}

int sc_optimizer_step(sc_optimizer *o, sc_view params, sc_view grads) {
    const sc_optim_config *c = &o->cfg;
    o->step++;
    if (c->clip_norm > 0) SC_TRY(clip(o, grads));
    if (c->kind == SC_OPT_SGD)
        return sc_launch1(o->rt, "optim", "sgd", o->n, SC_VIEW(params), SC_VIEW(grads),
                          SC_MEM(o->m), SC_MEM(o->scale), SC_INT(o->n), SC_FLT(c->lr),
                          SC_FLT(c->momentum), SC_FLT(c->weight_decay));
    /* bias corrections in double on the host: beta^t underflows gracefully there */
    float c1 = (float)(1.0 / (1.0 - pow(c->beta1, (double)o->step)));
    float c2 = (float)(1.0 / (1.0 - pow(c->beta2, (double)o->step)));
    return sc_launch1(o->rt, "optim", "adam", o->n, SC_VIEW(params), SC_VIEW(grads), SC_MEM(o->m),
                      SC_MEM(o->v), SC_MEM(o->scale), SC_INT(o->n), SC_FLT(c->lr), SC_FLT(c->beta1),
                      SC_FLT(c->beta2), SC_FLT(c->eps), SC_FLT(c->weight_decay), SC_FLT(c1),
                      SC_FLT(c2));
}
