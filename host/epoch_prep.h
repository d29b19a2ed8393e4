/* The host's part of an epoch's set-up, built on a worker thread while the epoch before it
 * trains: its training pairs in order and, for a sparse first layer, its plan (about 2.3 ms a
 * step of the Home Depot model, which would stall a GPU between epochs). The worker reads the
 * task and the model and changes neither; what it builds is what the epoch would build itself,
 * so results do not depend on it. */
#ifndef SIAMCL_EPOCH_PREP_H
#define SIAMCL_EPOCH_PREP_H

#include "siamcl/model.h"
#include "siamcl/task.h"

#include <pthread.h>

typedef struct sc_epoch_prep {
    sc_task *task;
    const sc_model *model;
    size_t batch;
    int part, parts; /* data parallelism: this process's share of each batch */
    int epoch;       /* the epoch the worker builds; 0: none started */
    pthread_t thread;
    int rc; /* the worker's status, and its error message */
    char error[1024];
    sc_pairs pairs;
    sc_sparse_plan plan;
} sc_epoch_prep;

void sc_epoch_prep_init(sc_epoch_prep *p, sc_task *t, const sc_model *m, size_t batch, int part,
                        int parts);
/* Starts building epoch e on a worker thread (where no thread can start, sc_epoch_prep_take
 * builds it then). */
void sc_epoch_prep_start(sc_epoch_prep *p, int e);
/* Epoch e's pairs and plan, the caller's to free: the worker's when it built e, else built
 * now. */
int sc_epoch_prep_take(sc_epoch_prep *p, int e, sc_pairs *pairs, sc_sparse_plan *plan);
/* Waits for a worker still running and frees what it built. */
void sc_epoch_prep_close(sc_epoch_prep *p);

#endif
