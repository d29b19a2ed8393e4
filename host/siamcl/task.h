/* A task: one kind of data ([data] format) behind one interface, so that training, evaluation
 * and the commands never ask which kind they have. A task loads the job's data onto the
 * device, draws each epoch's training pairs, holds the fixed validation and test pairs, judges
 * validation scores, builds the test report and writes its files to the run directory. For the
 * commands that take a user's own files (embed, score, search), a kind also reads inputs that
 * are not the job's data.
 *
 * Kinds (task_<kind>.c, listed in task.c): idx (image files with class labels), csv (text
 * pairs with graded targets), npy (vectors: task_vectors.c paired by labels, task_vector_pairs.c
 * by a CSV of pairs). A new kind is one file and one line of task.c's table. */
#ifndef SIAMCL_TASK_H
#define SIAMCL_TASK_H

#include "siamcl/evaluate.h"
#include "siamcl/job.h"
#include "siamcl/model.h"
#include "siamcl/report.h"

/* Fixed pairs (validation or test) and the inputs their indices point into. */
typedef struct sc_pair_set {
    const sc_inputs *in;
    sc_pairs pairs;
    sc_pairs_dev dev;
} sc_pair_set;

/* Options of the commands that read a user's files; a kind refuses those it has no use for. */
typedef struct sc_read_options {
    const char *column;   /* text: the CSV column of the texts (embed, search) */
    const char *encoding; /* text: utf-8 or latin-1 instead of the job's [data] encoding */
    const char *rows;     /* score: the file of rows that a pairs CSV's indices point into */
    int distinct;         /* search: each distinct text once */
} sc_read_options;

/* Rows read from a user's file: the inputs, and a name for each row (search prints them). */
typedef struct sc_user_rows {
    sc_inputs in;
    sc_csr csr;         /* sparse rows on the host, which in refers to */
    const char **names; /* a name per row */
    char *name_text;    /* storage of names made up (row numbers) */
    sc_csv *table;      /* the CSV that names point into */
} sc_user_rows;

typedef struct sc_task sc_task;

typedef struct sc_task_kind {
    const char *format; /* the [data] format it serves */
    /* NULL, or whether it serves a job of its format (a format read two ways has two kinds) */
    int (*serves)(const sc_job *job);
    int searchable; /* search takes its catalogs and queries (read_rows) */
    /* Loads the job's data: sets t's public fields and t->state. data, when not NULL, is eval's
     * --data (the kind says in cmd_eval's help what it means). */
    int (*open)(sc_task *t, const char *data);
    void (*close)(sc_task *t);
    /* Epoch e's training pairs (indices into t->train), in training order. */
    int (*epoch_pairs)(sc_task *t, int epoch, sc_pairs *out);
    /* The model (an ensemble's mean score) and the baselines on the test pairs. */
    int (*report)(sc_task *t, const sc_ensemble *e, sc_report *out);
    /* NULL, or the test pairs as a search (eval --retrieval): each query's candidates ranked
     * by the ensemble's scores, beside baselines (retrieval.h); threshold NaN: the midpoint
     * of the target range */
    int (*retrieval)(sc_task *t, const sc_ensemble *e, double threshold, sc_report *out);
    /* The task's own files in the run directory dir. */
    int (*write_files)(const sc_task *t, const char *dir);
    /* A user's file of inputs for the model (embed, search), each with a name; NULL when the
     * kind has none to read (the command says so). */
    int (*read_rows)(sc_runtime *rt, const sc_job *job, const char *path, const sc_read_options *o,
                     sc_user_rows *out);
    /* search: the queries that the command line's QUERY arguments give, each with a name. */
    int (*read_queries)(sc_runtime *rt, const sc_job *job, const char *const *args, int n,
                        sc_user_rows *out);
    /* score: the pairs a CSV table names (its rows in order), and the inputs they point into. */
    int (*read_pairs)(sc_runtime *rt, const sc_job *job, const sc_csv *table,
                      const sc_read_options *o, sc_user_rows *rows, sc_pairs *out);
} sc_task_kind;

struct sc_task {
    const sc_task_kind *kind;
    sc_runtime *rt;
    sc_job *job;            /* [model] input and target_mean are set from the data */
    const sc_inputs *train; /* what the training pairs point into */
    sc_pair_set val, test;
    size_t epoch_size;        /* training pairs per epoch */
    const char *quality_name; /* the validation figure: "AUC" or "Spearman" */
    double (*quality)(const float *scores, const float *targets, size_t n);
    char summary[256]; /* a line on the data, for the training log (may be empty) */
    void *state;       /* the kind's own */
};

/* The kind that serves the job's [data] format. */
const sc_task_kind *sc_task_kind_of(const sc_job *job);

/* Opens the job's task: loads its data (see sc_task_kind.open) and sets the job's [model] input
 * from it, or checks the job's against it. sc_task_close releases it, opened or not. */
int sc_task_open(sc_runtime *rt, sc_job *job, const char *data, sc_task *t);
void sc_task_close(sc_task *t);

/* The seed of t's epoch draws: [train] seed, plus an ensemble member's number, so that members
 * see their own orders of the same split (the split follows [train] seed alone). */
uint64_t sc_task_draw_seed(const sc_task *t);
/* The kind's report of the ensemble's mean scores; with more than one model, each model's own
 * row follows the ensemble's (named member_1 ..). */
int sc_task_report(sc_task *t, const sc_ensemble *e, sc_report *out);
/* A kind's retrieval report (eval --retrieval) of the test pairs grouped into queries
 * (group[i] of groups): the ensemble's ranking beside the lexical scores' (NULL: none, named
 * lexical) and a random order's (the mean of 20); threshold NaN: the middle of the target
 * range ([model] target_min .. target_max, else the test targets'). queries says what a query
 * is and target names the target, for the title. */
int sc_task_retrieval_report(sc_task *t, const sc_ensemble *e, const uint32_t *group, size_t groups,
                             const float *lexical, const char *lexical_name, double threshold,
                             const char *queries, const char *target, sc_report *out);
/* The validation figure of scores of t's validation pairs. */
double sc_task_quality(const sc_task *t, const float *scores);

/* For kinds: sets the job's input width from the data's (dense rows), or checks it. */
int sc_task_input_width(sc_task *t, size_t width, const char *path);
/* For kinds: uploads a pair set's pairs (pairs already filled, in set). */
int sc_pair_set_upload(sc_runtime *rt, sc_pair_set *s);
void sc_pair_set_free(sc_pair_set *s);
void sc_user_rows_free(sc_user_rows *r);

#endif
