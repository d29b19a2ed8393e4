/* Evaluation of a model on the image-pair task, beside two baselines: a constant predictor of
 * the training targets' mean, and the cosine of the raw inputs. */
#ifndef SIAMCL_EVALUATE_H
#define SIAMCL_EVALUATE_H

#include "siamcl/dataset.h"
#include "siamcl/sparse.h"

/* Test queries for the raw-input 1-NN baseline: a full search over raw pixels costs 12x the
 * model's (784 vs 64 dimensions), so the baseline searches for the first 1000 test images. */
#define SC_RAW_KNN_QUERIES 1000

typedef struct sc_eval_row {
    const char *name;
    double mse, mae, auc;
    double accuracy, threshold; /* at the threshold that is best on the validation pairs */
    double knn;                 /* 1-NN accuracy (cosine); NaN when it does not apply */
} sc_eval_row;

typedef struct sc_report {
    sc_eval_row rows[3]; /* the model, constant mean, raw cosine */
    size_t test_pairs;
    size_t raw_queries; /* test images of the raw-input 1-NN search */
} sc_report;

/* Scores of every pair in p (p->n floats) and their mean loss. */
int sc_score_pairs(sc_model *m, const sc_images *im, const sc_pairs_dev *p, float *scores,
                   double *loss);
/* The same for text pairs: p's indices are rows of the texts x. */
int sc_score_text_pairs(sc_model *m, const sc_csr_dev *x, const sc_pairs_dev *p, float *scores,
                        double *loss);
/* Embeddings of the n texts of x into out (n x E floats on the device). */
int sc_embed_texts(sc_model *m, const sc_csr_dev *x, size_t n, cl_mem out);
/* Embeddings of images first .. first + n - 1 into out (n x E floats on the device). */
int sc_embed_images(sc_model *m, const sc_images *im, size_t first, size_t n, cl_mem out);
/* The model and both baselines on the test pairs. */
int sc_evaluate(sc_model *m, const sc_dataset *d, sc_report *out);

void sc_report_print(FILE *out, const sc_report *r);

/* Regression metrics of the text task: the model and the constant mean of the training
 * targets, on the test rows. */
typedef struct sc_regression_row {
    const char *name;
    double mse, rmse, mae, pearson, spearman; /* the correlations are NaN for a constant */
} sc_regression_row;

typedef struct sc_regression_report {
    sc_regression_row rows[2];
    size_t n;
} sc_regression_report;

void sc_regression_fill(const float *scores, const float *targets, size_t n, double train_mean,
                        sc_regression_report *r);
void sc_regression_print(FILE *out, const sc_regression_report *r);
void sc_regression_write_rows(FILE *out, const sc_regression_report *r);
/* The rows of whichever report is not NULL. */
void sc_write_rows(FILE *out, const sc_report *rep, const sc_regression_report *reg);
/* Writes the rows as a JSON array (the value of "rows" in metrics.json). */
void sc_report_write_rows(FILE *out, const sc_report *r);

#endif
