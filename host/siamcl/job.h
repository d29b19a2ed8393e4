/* A job: everything a config file says about data, model, training and output, read and
 * validated in one place so that every command rejects the same typos. */
#ifndef SIAMCL_JOB_H
#define SIAMCL_JOB_H

#include "siamcl/config.h"
#include "siamcl/data_config.h"
#include "siamcl/model.h"
#include "siamcl/optim.h"

#include <stdint.h>

typedef struct sc_train_config {
    size_t batch_size;
    int epochs;
    int patience;        /* epochs without improvement before stopping; 0 never stops early */
    double min_delta;    /* the least fall of the validation loss that counts as improvement */
    int monitor_quality; /* judge epochs by the validation figure (AUC, Spearman), not loss */
    uint64_t seed;
    int ensemble; /* models trained with seeds seed .. seed + ensemble - 1, scored together */
    int member;   /* an ensemble's member run: its number, 0 .. ensemble - 1 (seed + member) */
    long checkpoint_every; /* steps between the run's state saves; 0: each epoch and 5 minutes */
    sc_loss_config loss;
    sc_optim_config optim;
} sc_train_config;

typedef struct sc_job {
    sc_config *cfg; /* not owned */
    sc_data_config data;
    sc_model_config model;
    sc_train_config train;
    char out_dir[1024]; /* [output] dir, by default runs/<config name> */
    double target_mean; /* the training targets' mean once known (text), else NaN */
} sc_job;

/* The readers of each part of a config (job_*.c). Keys that only one choice uses (a head, a
 * loss, an optimizer) are read only with it; a bad value is an SC_EINPUT error naming the file,
 * line and key. */
/* Reads section [features]: trigrams (true), unigrams (true), bigrams (false),
 * buckets (262144), weighting (count | log | binary). A bad value, a bucket count that is not a
 * power of two in 16..16777216, or every family off is an SC_EINPUT error naming the key. */
int sc_features_config_read(sc_config *cfg, sc_features_config *out);
/* Reads [model]. */
int sc_model_config_read(sc_config *cfg, sc_model_config *out);
/* Reads [model] bag = sum | mean (default mean), for text input only. */
int sc_model_bag_read(sc_config *cfg, sc_model_config *mc);
/* Rejects a loss that does not fit the model (e.g. softmax without a cosine head); the message
 * names the config file and both keys. */
int sc_model_config_check(const sc_config *cfg, const sc_model_config *mc,
                          const sc_loss_config *loss);
/* Reads [train] loss, margin (contrastive, online_contrastive: 0.5; triplet: 0.2), scale
 * (softmax, cosent: 20) and mining (triplet: batch_hard). */
int sc_loss_config_read(sc_config *cfg, sc_loss_config *out);
/* Reads [train] optimizer, lr, beta1, beta2, eps (adam), momentum (sgd), weight_decay,
 * clip_norm. */
int sc_optim_config_read(sc_config *cfg, sc_optim_config *out);

/* Reads every section of cfg and rejects any key left unread. */
int sc_job_read(sc_config *cfg, sc_job *job);

/* Pairs per batch when training scores its validation pairs: larger than training batches for
 * speed, except for the losses whose value depends on the batch (in-batch negatives, mining,
 * ranking), which the validation loss must batch as training does. */
size_t sc_job_eval_batch(const sc_job *job);
/* Pairs per batch of a trained model's scores and embeddings (eval, embed, score, search,
 * export, the library), which compute no loss: 256, whatever the training batch, so that a
 * batch's rows are one block of the dense layers (SC_DENSE_BLOCK_ROWS) and stay in the caches
 * from the input to the score. siamcl bench on PoCL (2-core AMD EPYC), inference pairs/s at
 * 32 / 256 / 4096: the default model 100k / 112-141k / 122-138k, the text model 65k / 100k /
 * 80k. */
size_t sc_job_infer_batch(void);

#endif
