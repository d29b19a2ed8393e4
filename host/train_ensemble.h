/* sc_train of a job with [train] ensemble above 1 (train_ensemble.c). */
#ifndef SIAMCL_TRAIN_ENSEMBLE_H
#define SIAMCL_TRAIN_ENSEMBLE_H

#include "siamcl/train.h"

int sc_train_ensemble(sc_runtime *rt, sc_config *cfg, sc_job *job, const sc_train_options *o,
                      sc_train_result *out);

#endif
