#include "siamcl/task.h"

#include <stdlib.h>
#include <string.h>

extern const sc_task_kind sc_task_images, sc_task_texts, sc_task_vectors, sc_task_vector_pairs;

/* Every kind of data, by [data] format. */
static const sc_task_kind *const kinds[] = {&sc_task_images, &sc_task_texts, &sc_task_vectors,
                                            &sc_task_vector_pairs};

const sc_task_kind *sc_task_kind_of(const sc_job *job) {
    const char *format = sc_data_format_names[job->data.format];
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i]->format, format) && (!kinds[i]->serves || kinds[i]->serves(job)))
            return kinds[i];
    return NULL;
}

int sc_task_open(sc_runtime *rt, sc_job *job, const char *data, sc_task *t) {
    memset(t, 0, sizeof *t);
    t->rt = rt;
    t->job = job;
    t->kind = sc_task_kind_of(job);
    if (!t->kind) return sc_error(SC_ERR, "no task serves [data] format %d", (int)job->data.format);
    SC_TRY(t->kind->open(t, data));
    if (job->train.loss.kind == SC_LOSS_TRIPLET && t->train && !t->train->labeled)
        return sc_cfg_invalid(job->cfg, "train", "loss",
                              "triplet needs rows with class labels, which this [data] format "
                              "has none of");
    return SC_OK;
}

void sc_task_close(sc_task *t) {
    if (t->kind && t->state) t->kind->close(t);
    memset(t, 0, sizeof *t);
}

static const char *const member_names[SC_ENSEMBLE_MAX] = {
    "member_1", "member_2", "member_3", "member_4", "member_5",
    "member_6", "member_7", "member_8", "member_9", "member_10"};

int sc_task_report(sc_task *t, const sc_ensemble *e, sc_report *out) {
    SC_TRY(t->kind->report(t, e, out));
    if (e->n == 1) return SC_OK;
    if (out->nrows + e->n > SC_REPORT_ROWS)
        return sc_error(SC_ERR, "a report of %d rows exceeds %d", out->nrows + e->n,
                        SC_REPORT_ROWS);
    sc_report alone;
    memmove(&out->rows[1 + e->n], &out->rows[1], (size_t)(out->nrows - 1) * sizeof out->rows[0]);
    for (int k = 0; k < e->n; k++) {
        sc_ensemble one = {&e->m[k], 1};
        SC_TRY(t->kind->report(t, &one, &alone));
        out->rows[1 + k] = alone.rows[0];
        out->rows[1 + k].name = member_names[k];
    }
    out->nrows += e->n;
    size_t len = strlen(out->title);
    snprintf(out->title + len, sizeof out->title - len, "; siamcl: the mean of %d members' scores",
             e->n);
    return SC_OK;
}

uint64_t sc_task_draw_seed(const sc_task *t) {
    return t->job->train.seed + (uint64_t)t->job->train.member;
}

double sc_task_quality(const sc_task *t, const float *scores) {
    return t->quality(scores, t->val.pairs.target, t->val.pairs.n);
}

int sc_task_input_width(sc_task *t, size_t width, const char *path) {
    sc_model_config *mc = &t->job->model;
    if (mc->input == 0) {
        char set[64];
        snprintf(set, sizeof set, "model.input=%zu", width);
        mc->input = (int)width;
        return sc_config_override(t->job->cfg, set);
    }
    if ((size_t)mc->input != width)
        return sc_error(SC_EINPUT, "%s: rows of %zu values, but [model] input = %d", path, width,
                        mc->input);
    return SC_OK;
}

int sc_pair_set_upload(sc_runtime *rt, sc_pair_set *s) {
    return sc_pairs_upload(rt, &s->pairs, &s->dev);
}

void sc_pair_set_free(sc_pair_set *s) {
    sc_pairs_free(&s->pairs);
    sc_pairs_dev_free(&s->dev);
    s->in = NULL;
}

void sc_user_rows_free(sc_user_rows *r) {
    sc_inputs_free(&r->in);
    sc_csr_free(&r->csr);
    free(r->names);
    free(r->name_text);
    sc_csv_free(r->table);
    memset(r, 0, sizeof *r);
}
