#include "epoch_prep.h"

#include <stdio.h>
#include <string.h>

void sc_epoch_prep_init(sc_epoch_prep *p, sc_task *t, const sc_model *m, size_t batch, int part,
                        int parts) {
    *p = (sc_epoch_prep){.task = t, .model = m, .batch = batch, .part = part, .parts = parts};
}

static int build(sc_epoch_prep *p, int e, sc_pairs *pairs, sc_sparse_plan *plan) {
    memset(plan, 0, sizeof *plan);
    SC_TRY(p->task->kind->epoch_pairs(p->task, e, pairs));
    int rc =
        sc_model_plan_build(p->model, p->task->train, pairs, p->batch, p->part, p->parts, plan);
    if (rc != SC_OK) sc_pairs_free(pairs);
    return rc;
}

static void *worker(void *arg) {
    sc_epoch_prep *p = arg;
    p->rc = build(p, p->epoch, &p->pairs, &p->plan);
    if (p->rc != SC_OK) /* errors are per thread: the taker raises it again */
        snprintf(p->error, sizeof p->error, "%s", sc_last_error());
    return NULL;
}

void sc_epoch_prep_start(sc_epoch_prep *p, int e) {
    sc_epoch_prep_close(p);
    p->epoch = e;
    if (pthread_create(&p->thread, NULL, worker, p) != 0) p->epoch = 0;
}

int sc_epoch_prep_take(sc_epoch_prep *p, int e, sc_pairs *pairs, sc_sparse_plan *plan) {
    if (p->epoch != e) {
        sc_epoch_prep_close(p);
        return build(p, e, pairs, plan);
    }
    pthread_join(p->thread, NULL);
    p->epoch = 0;
    if (p->rc != SC_OK) return sc_error(p->rc, "%s", p->error);
    *pairs = p->pairs, *plan = p->plan;
    memset(&p->pairs, 0, sizeof p->pairs);
    memset(&p->plan, 0, sizeof p->plan);
    return SC_OK;
}

void sc_epoch_prep_close(sc_epoch_prep *p) {
    if (!p->epoch) return;
    pthread_join(p->thread, NULL);
    p->epoch = 0;
    if (p->rc == SC_OK) sc_pairs_free(&p->pairs), sc_sparse_plan_free(&p->plan);
}
