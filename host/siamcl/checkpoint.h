/* Model checkpoints: the parameters as safetensors, with the config that builds the model in
 * the metadata, so that the file alone rebuilds it. Tensors: tower.<l>.weight (out x in),
 * tower.<l>.bias, head.<l>.weight, head.<l>.bias (mlp head), range (a, b; range output). A
 * text model's tower.0.weight is its embedding table, buckets x out. */
#ifndef SIAMCL_CHECKPOINT_H
#define SIAMCL_CHECKPOINT_H

#include "siamcl/job.h"
#include "siamcl/safetensors.h"

/* Metadata: "format" = SC_CHECKPOINT_FORMAT, "config" = the INI text, and "target_mean" (the
 * training targets' mean, for the constant baseline) when the job knows it. */
#define SC_CHECKPOINT_FORMAT "siamcl-1"

/* Writes m's parameters and the job's config (whose [model] input must be set) to path,
 * atomically. */
int sc_checkpoint_save(sc_model *m, const sc_job *job, const char *path);

/* At most this many extra tensors and metadata keys beside a checkpoint's own. */
enum { SC_CHECKPOINT_EXTRA = 16 };
/* The same with extra tensors and metadata (a run's state: run_state.h); the file stays a
 * checkpoint every reader of one takes. */
int sc_checkpoint_write(sc_model *m, const sc_job *job, const char *path, const sc_tensor *extra,
                        int nextra, const sc_meta *extra_meta, int nmeta);
/* Sets m's parameters from a loaded checkpoint file (path names it in messages). */
int sc_checkpoint_params(const sc_safetensors *st, const char *path, sc_model *m);
/* Reads a checkpoint: *cfg is the config from its metadata (the caller frees it), *job read
 * from it, and *m the model it describes, for batches of up to max_pairs pairs (0: the
 * inference batch, sc_job_infer_batch), with the
 * saved parameters. A file that is not a siamcl checkpoint, is truncated, or holds tensors of
 * another shape than its config's model is an SC_EINPUT error. */
int sc_checkpoint_load(sc_runtime *rt, const char *path, size_t max_pairs, sc_config **cfg,
                       sc_job *job, sc_model **m);

#endif
