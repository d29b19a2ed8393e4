/* A training run's state, written beside its current weights to last.safetensors so that a
 * killed or interrupted run continues where it stopped and ends bit for bit as an
 * uninterrupted one would: the optimizers' moments and step counts (the lazy table's too), the
 * running loss of the epoch in progress, and the loop's bookkeeping. An epoch's pairs follow
 * from the seed and the epoch's number, so its position is all the pair draws need. The file
 * stays a checkpoint that eval, embed and score read. */
#ifndef SIAMCL_RUN_STATE_H
#define SIAMCL_RUN_STATE_H

#include "siamcl/job.h"

typedef struct sc_run_state {
    int epochs_done;        /* epochs finished */
    long step;              /* steps done of epoch epochs_done + 1 (0 at an epoch's start) */
    int best_epoch, waited; /* the best epoch so far (0: none), epochs since it */
    int stopped;            /* early stopping ended the run */
    double best_loss;       /* its validation loss (INFINITY before any) */
    double best_quality;    /* its validation figure */
    double seconds, pairs;  /* training time and pairs of the finished epochs */
} sc_run_state;

/* Writes m's weights, o's state, the running loss and s to path, atomically. */
int sc_run_state_save(const char *path, sc_model *m, sc_model_optimizer *o, const sc_job *job,
                      const sc_run_state *s);
/* Reads them back into m, o and s (m and o built from the same config). A file without a
 * run's state (a model checkpoint) or of another model is SC_EINPUT naming path. */
int sc_run_state_load(const char *path, sc_model *m, sc_model_optimizer *o, sc_run_state *s);

#endif
