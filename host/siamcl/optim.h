/* Optimizers over the flat parameter buffer (cl/optim.cl): one launch per step updates every
 * parameter, after an optional clip of the global gradient norm computed on the device. */
#ifndef SIAMCL_OPTIM_H
#define SIAMCL_OPTIM_H

#include "siamcl/runtime.h"

typedef enum { SC_OPT_ADAM, SC_OPT_SGD } sc_optim_kind;
extern const char *const sc_optim_names[]; /* "adam", "sgd", NULL */

typedef struct sc_optim_config {
    sc_optim_kind kind;
    float lr;
    float beta1, beta2, eps; /* adam */
    float momentum;          /* sgd */
    float weight_decay;      /* adam: decoupled (AdamW); sgd: L2 added to the gradient */
    float clip_norm;         /* 0: no clipping */
} sc_optim_config;

typedef struct sc_optimizer {
    sc_runtime *rt;
    sc_optim_config cfg;
    size_t n;
    long step;
    cl_mem m, v;    /* adam's moments; sgd's momentum buffer is m */
    cl_mem scale;   /* [0] the gradient scale of the step, [1] the gradient norm (when clipping) */
    cl_mem partial; /* partial sums of squares for the norm */
} sc_optimizer;

int sc_optimizer_create(sc_runtime *rt, const sc_optim_config *cfg, size_t nparams,
                        sc_optimizer **out);
void sc_optimizer_free(sc_optimizer *opt);
/* Zeroes the state, as for a fresh run. */
int sc_optimizer_reset(sc_optimizer *opt);
/* The state a run continues from: the moments (n floats each; v only for adam, else NULL)
 * and the step count. */
int sc_optimizer_get_state(sc_optimizer *opt, float *m, float *v, long *step);
int sc_optimizer_set_state(sc_optimizer *opt, const float *m, const float *v, long step);
/* One update of params from grads (both nparams floats). */
int sc_optimizer_step(sc_optimizer *opt, sc_view params, sc_view grads);

#endif
