/* An ensemble ([train] ensemble = K): K member runs in RUN_DIR/member-1 .. member-K, each an
 * ordinary run (its own config.ini with [train] ensemble = 1 and member = k - 1, history,
 * checkpoints and state, so that each resumes, evaluates and scores alone), trained one after
 * the other with seeds seed .. seed + K - 1 on the split of seed; then the members together on
 * the test pairs: RUN_DIR/metrics.json has the ensemble's row (the mean of the members'
 * scores), each member's row and the baselines. */
#include "atomic_file.h"
#include "dist.h"
#include "json.h"
#include "run_dir.h"
#include "siamcl/checkpoint.h"
#include "siamcl/task.h"
#include "siamcl/train.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A member's folder in the ensemble's run directory (k from 0). */
static void member_dir(const sc_job *job, int k, char *out, size_t n) {
    snprintf(out, n, "%s/member-%d", job->out_dir, k + 1);
}

/* The member's config: the ensemble's, as one run of its own in its own folder. */
static int member_config(sc_config *cfg, const sc_job *job, int k, sc_config **out) {
    char *text, set[1200];
    int rc = sc_config_text(cfg, &text);
    if (rc == SC_OK) rc = sc_config_parse(text, sc_config_path(cfg), out);
    free(text);
    if (rc == SC_OK) rc = sc_config_override(*out, "train.ensemble=1");
    snprintf(set, sizeof set, "train.member=%d", k);
    if (rc == SC_OK) rc = sc_config_override(*out, set);
    char dir[1100];
    member_dir(job, k, dir, sizeof dir);
    snprintf(set, sizeof set, "output.dir=%s", dir);
    if (rc == SC_OK) rc = sc_config_override(*out, set);
    return rc;
}

/* Trains member k, or continues it when the ensemble resumes and the member saved a state. */
static int train_member(sc_runtime *rt, sc_config *cfg, const sc_job *job, int k,
                        const sc_train_options *o, int *agreed) {
    sc_config *mcfg = NULL;
    sc_job mjob;
    sc_train_result res;
    char last[1200];
    struct stat st;
    int rc = member_config(cfg, job, k, &mcfg);
    if (rc == SC_OK) rc = sc_job_read(mcfg, &mjob);
    snprintf(last, sizeof last, "%s/last.safetensors", mjob.out_dir);
    sc_train_options mo = *o;
    mo.resume = o->resume && stat(last, &st) == 0;
    if (rc == SC_OK) {
        fprintf(o->log, "siamcl: ensemble member %d of %d (seed %llu) in %s\n", k + 1,
                job->train.ensemble, (unsigned long long)(job->train.seed + (uint64_t)k),
                mjob.out_dir);
        rc = sc_train(rt, mcfg, &mjob, &mo, &res);
        *agreed = res.agreed;
    }
    sc_config_free(mcfg);
    return rc;
}

typedef struct members {
    sc_model *m[SC_ENSEMBLE_MAX];
    sc_config *cfg[SC_ENSEMBLE_MAX];
    int n;
} members;

static void members_free(members *ms) {
    for (int k = 0; k < ms->n; k++) {
        sc_model_free(ms->m[k]);
        sc_config_free(ms->cfg[k]);
    }
    ms->n = 0;
}

static int load_members(sc_runtime *rt, const sc_job *job, members *ms) {
    char path[1200];
    for (int k = 0; k < job->train.ensemble; k++) {
        sc_job mjob;
        member_dir(job, k, path, sizeof path);
        strncat(path, "/model.safetensors", sizeof path - strlen(path) - 1);
        SC_TRY(sc_checkpoint_load(rt, path, 0, &ms->cfg[k], &mjob, &ms->m[k]));
        ms->n++;
    }
    return SC_OK;
}

static int write_metrics(const sc_job *job, const sc_runtime *rt, const sc_report *rep) {
    char path[1100];
    sc_atomic_file f;
    snprintf(path, sizeof path, "%s/metrics.json", job->out_dir);
    SC_TRY(sc_atomic_open(path, &f));
    fputs("{\n  \"device\": ", f.file);
    sc_json_write_string(f.file, rt->dev.name);
    fprintf(f.file, ",\n  \"ensemble\": %d,\n  \"rows\": ", job->train.ensemble);
    sc_report_write_rows(f.file, rep);
    fputs("\n}\n", f.file);
    return sc_atomic_commit(&f);
}

/* The members on the test pairs, and the task's files beside them. */
static int test_members(sc_runtime *rt, sc_job *job, const sc_train_options *o,
                        sc_train_result *out) {
    sc_task t;
    members ms = {0};
    int rc = sc_task_open(rt, job, NULL, &t);
    if (rc == SC_OK) rc = t.kind->write_files(&t, job->out_dir);
    if (rc == SC_OK) rc = load_members(rt, job, &ms);
    if (rc == SC_OK && t.test.pairs.n) {
        fprintf(o->log, "siamcl: evaluating the %d members on the test pairs\n", ms.n);
        sc_ensemble all = {ms.m, ms.n};
        rc = sc_task_report(&t, &all, &out->report);
        out->tested = rc == SC_OK;
        if (rc == SC_OK) rc = write_metrics(job, rt, &out->report);
    }
    members_free(&ms);
    sc_task_close(&t);
    return rc;
}

/* Rank 0 of a data-parallel run holds the run directory and tests the members; every rank
 * trains them. */
int sc_train_ensemble(sc_runtime *rt, sc_config *cfg, sc_job *job, const sc_train_options *o,
                      sc_train_result *out) {
    sc_run_dir dir = {-1};
    sc_dist d = {o->rank, o->ranks, 0, 1};
    memset(out, 0, sizeof *out);
    int rc = o->rank ? SC_OK : sc_run_dir_open(job->out_dir, &dir);
    if (rc == SC_OK && !o->rank) rc = sc_run_dir_write_config(job->out_dir, cfg);
    rc = sc_dist_agree(&d, rc);
    out->agreed = rc != SC_OK;
    for (int k = 0; k < job->train.ensemble && rc == SC_OK; k++)
        rc = train_member(rt, cfg, job, k, o, &out->agreed);
    if (rc == SC_OK && !o->rank) rc = test_members(rt, job, o, out);
    sc_run_dir_close(&dir);
    return rc;
}
