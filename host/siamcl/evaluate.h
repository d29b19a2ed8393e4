/* Evaluation helpers on a model and inputs: scoring pairs and embedding rows in batches,
 * 1-nearest-neighbour accuracy, and the rows of a test report (report.h) for pairs with 0/1
 * targets and for graded targets. Tasks build their reports from these. */
#ifndef SIAMCL_EVALUATE_H
#define SIAMCL_EVALUATE_H

#include "siamcl/model.h"
#include "siamcl/report.h"

/* Test queries for the raw-input 1-NN baseline: a full search over raw pixels costs 12x the
 * model's (784 vs 64 dimensions), so the baseline searches for the first 1000 test rows. */
#define SC_RAW_KNN_QUERIES 1000

/* Models scored together ([train] ensemble): a pair's score is the mean of the members'; 1-NN
 * searches by the mean of the members' cosines. One model is an ensemble of one. The models
 * are the caller's. */
enum { SC_ENSEMBLE_MAX = 10 };
typedef struct sc_ensemble {
    sc_model *const *m;
    int n;
} sc_ensemble;

/* Scores of every pair in p (p->n floats; indices are rows of in) and, unless loss is NULL,
 * their mean loss. */
int sc_score_pairs(sc_model *m, const sc_inputs *in, const sc_pairs_dev *p, float *scores,
                   double *loss);
/* Scores of pairs first .. first + n - 1 of p (into scores[0 .. n - 1]) and, unless acc is
 * NULL, the running state of their loss (SC_LOSS_ACC floats, as sc_model_loss_get): the part
 * of the pairs that one of several data-parallel processes scores. */
int sc_score_pair_range(sc_model *m, const sc_inputs *in, const sc_pairs_dev *p, size_t first,
                        size_t n, float *scores, float *acc);
/* Embeddings of rows first .. first + n - 1 of in into out (n x E floats on the device). */
int sc_embed_rows(sc_model *m, const sc_inputs *in, size_t first, size_t n, cl_mem out);

/* The ensemble's scores of every pair in p: the mean of its models'. */
int sc_ensemble_score_pairs(const sc_ensemble *e, const sc_inputs *in, const sc_pairs_dev *p,
                            float *scores);
/* The share of query rows whose nearest reference row by cosine has the query's label: by the
 * ensemble's embeddings of both (the mean of its models' cosines; sc_ensemble_knn), or by the
 * raw dense rows, the first nq queries (sc_raw_knn). */
int sc_ensemble_knn(const sc_ensemble *e, const sc_inputs *ref, const uint8_t *ref_labels,
                    const sc_inputs *query, const uint8_t *query_labels, double *acc);
int sc_raw_knn(sc_runtime *rt, const sc_inputs *ref, const uint8_t *ref_labels,
               const sc_inputs *query, const uint8_t *query_labels, size_t nq, double *acc);
/* Cosine of the raw dense rows (rows x width floats on the host) of each pair. */
void sc_raw_cosine(const float *rows, size_t width, const sc_pairs *p, float *s);

/* Pairs with 0/1 targets: columns MSE, MAE, ROC-AUC, accuracy at the threshold that is best
 * on the validation scores (and the threshold itself, JSON only), 1-NN. */
void sc_report_binary_columns(sc_report *r);
/* A row from validation and test scores; knn is NaN when it does not apply. */
void sc_report_binary_row(sc_report *r, const char *name, const float *val, const sc_pairs *vp,
                          const float *test, const sc_pairs *tp, double knn);
/* Graded targets: columns MSE, RMSE, MAE, Pearson, Spearman. */
void sc_report_regression_columns(sc_report *r);
/* A row from test scores (the correlations are NaN for a constant). */
void sc_report_regression_row(sc_report *r, const char *name, const float *scores,
                              const float *targets, size_t n);
/* The graded-target columns, then the rows "siamcl" (the model's scores of the test pairs p,
 * rows of in, p's copy on the device dev) and "constant_mean" (mean for every pair). */
int sc_report_regression_test(sc_report *r, const sc_ensemble *e, const sc_inputs *in,
                              const sc_pairs *p, const sc_pairs_dev *dev, double mean);

#endif
