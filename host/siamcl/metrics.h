/* Evaluation metrics over scores s and targets y (host arrays of n values). */
#ifndef SIAMCL_METRICS_H
#define SIAMCL_METRICS_H

#include <stddef.h>

double sc_metric_mse(const float *s, const float *y, size_t n);
double sc_metric_mae(const float *s, const float *y, size_t n);
/* ROC-AUC of s for the positives y > 0.5 (rank-based; tied scores share their mean rank).
 * NaN when either class is absent. */
double sc_metric_auc(const float *s, const float *y, size_t n);
/* The accuracy of predicting y > 0.5 from s >= t. */
double sc_accuracy_at(const float *s, const float *y, size_t n, double t);
/* The threshold (a midpoint between consecutive distinct scores, or below them all) that
 * maximizes sc_accuracy_at; *acc gets that accuracy. */
double sc_best_threshold(const float *s, const float *y, size_t n, double *acc);
/* Pearson's and Spearman's correlation (Spearman: Pearson of mean ranks). NaN for constants. */
double sc_metric_pearson(const float *s, const float *y, size_t n);
double sc_metric_spearman(const float *s, const float *y, size_t n);

#endif
