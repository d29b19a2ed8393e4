#include "siamcl/task.h"
#include "siamcl/evaluate.h"
#include "siamcl/retrieval.h"
#include "siamcl/rng.h"

#include <math.h>
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

static void retrieval_row(sc_report *out, const char *name, const sc_retrieval *m) {
    int row = sc_report_row(out, name);
    double v[5] = {m->ndcg10, m->mrr10, m->recall[0], m->recall[1], m->recall[2]};
    for (int c = 0; c < 5; c++) out->rows[row].v[c] = v[c];
}

/* The mean metrics of 20 random orders. */
static int random_order(const uint32_t *group, size_t groups, const sc_pairs *tp, float *scores,
                        double threshold, double floor, sc_retrieval *mean) {
    sc_retrieval one;
    sc_rng rng;
    memset(mean, 0, sizeof *mean);
    for (int k = 0; k < 20; k++) {
        sc_rng_seed(&rng, 7, (uint64_t)k);
        for (size_t i = 0; i < tp->n; i++) scores[i] = sc_rng_uniform(&rng);
        SC_TRY(sc_retrieval_rank(group, groups, scores, tp->target, tp->n, threshold, floor, &one));
        mean->ndcg10 += one.ndcg10 / 20, mean->mrr10 += one.mrr10 / 20;
        for (int c = 0; c < 3; c++) mean->recall[c] += one.recall[c] / 20;
    }
    return SC_OK;
}

int sc_task_retrieval_report(sc_task *t, const sc_ensemble *e, const uint32_t *group, size_t groups,
                             const float *lexical, const char *lexical_name, double threshold,
                             const char *queries, const char *target, sc_report *out) {
    const sc_pairs *tp = &t->test.pairs;
    const sc_model_config *mc = &t->job->model;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < tp->n; i++) lo = fmin(lo, tp->target[i]), hi = fmax(hi, tp->target[i]);
    if (mc->output == SC_OUTPUT_RANGE) lo = mc->target_min, hi = mc->target_max;
    if (isnan(threshold)) threshold = (lo + hi) / 2;
    float *scores = malloc((tp->n ? tp->n : 1) * sizeof *scores);
    sc_retrieval m, other;
    int rc = scores ? sc_ensemble_score_pairs(e, t->test.in, &t->test.dev, scores)
                    : sc_error(SC_ERR, "out of memory");
    if (rc == SC_OK)
        rc = sc_retrieval_rank(group, groups, scores, tp->target, tp->n, threshold, lo, &m);
    memset(out, 0, sizeof *out);
    const char *cols[5][2] = {{"NDCG@10", "ndcg10"},
                              {"MRR@10", "mrr10"},
                              {"R@1", "recall1"},
                              {"R@5", "recall5"},
                              {"R@10", "recall10"}};
    for (int c = 0; c < 5; c++) sc_report_column(out, cols[c][0], cols[c][1]);
    if (rc == SC_OK) retrieval_row(out, "siamcl", &m);
    if (rc == SC_OK && lexical)
        rc = sc_retrieval_rank(group, groups, lexical, tp->target, tp->n, threshold, lo, &other);
    if (rc == SC_OK && lexical) retrieval_row(out, lexical_name, &other);
    if (rc == SC_OK) rc = random_order(group, groups, tp, scores, threshold, lo, &other);
    if (rc == SC_OK) retrieval_row(out, "random", &other);
    snprintf(out->title, sizeof out->title,
             "test: %zu queries (%s) ranking their %zu rows, %.1f each; relevant: %s > %g (%zu "
             "queries have one); NDCG gain: %s - %g",
             m.queries, queries, tp->n, m.queries ? (double)tp->n / (double)m.queries : 0.0, target,
             threshold, m.judged, target, lo);
    free(scores);
    return rc;
}
