/* siamcl's stable C API: load a model that `siamcl train` saved and use it from any program —
 * embed inputs, score pairs — on any OpenCL device. Link with `pkg-config --cflags --libs
 * siamcl`, or in CMake `find_package(siamcl)` and the target siamcl::siamcl.
 *
 * Handles: an sc_engine is one OpenCL device with siamcl's kernels; an sc_encoder is one model
 * loaded on an engine. Each handle belongs to one thread at a time (use a lock to share one);
 * two threads with their own handles, or two models on one engine, never interfere.
 *
 * Every function that can fail returns a status (siamcl/status.h): SC_OK, SC_EINPUT for bad
 * input (a file, an argument, a NULL handle), SC_ERR for a failure of the device or the
 * system; it then records a message, which sc_last_error gives to the same thread. Outputs
 * are the caller's buffers; nothing is kept of them. A failed load leaves *out NULL. A NULL
 * handle is refused; a freed one cannot be told from a live one (as with free), so a handle
 * is not used after it is freed.
 *
 * Example: docs/examples/top_matches.c. */
#ifndef SIAMCL_SIAMCL_H
#define SIAMCL_SIAMCL_H

#include <stddef.h>

#include "siamcl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library, as "MAJOR.MINOR.PATCH"; the SONAME changes with MAJOR.MINOR
 * while MAJOR is 0. */
SC_API const char *sc_version(void);

/* This thread's last message ("" before any) and its status. */
SC_API const char *sc_last_error(void);
SC_API int sc_last_error_code(void);

typedef struct sc_engine sc_engine;

/* Opens the device that spec names, as siamcl's --device: "auto" (or NULL: the fastest GPU,
 * else a CPU), "gpu", "cpu", an index into `siamcl devices`, or part of a device or platform
 * name. The kernels are found beside the installed library (SIAMCL_KERNEL_DIR overrides), and
 * GEMM parameters as siamcl's program finds them (a `siamcl tune` file, or siamcl's set for
 * PoCL CPU devices). */
SC_API int sc_engine_open(const char *spec, sc_engine **out);
/* The device's name ("" for NULL). */
SC_API const char *sc_engine_device(const sc_engine *e);
/* Frees the engine; its encoders must be freed first. NULL is ignored. */
SC_API void sc_engine_close(sc_engine *e);

typedef struct sc_encoder sc_encoder;

/* Loads the model of a checkpoint: a model.safetensors that `siamcl train` wrote, or the run
 * directory that holds it. An ensemble's run directory is refused: load one member's. */
SC_API int sc_encoder_load(sc_engine *e, const char *path, sc_encoder **out);
SC_API void sc_encoder_free(sc_encoder *enc);

/* 1 when the model reads texts (hashed into features as it was trained, from the settings in
 * the checkpoint), 0 when it reads rows of floats; -1 for NULL. */
SC_API int sc_encoder_reads_text(const sc_encoder *enc);
/* The floats of an input row (0 for a text model, or NULL). */
SC_API size_t sc_encoder_input_width(const sc_encoder *enc);
/* The floats of an embedding (0 for NULL). */
SC_API size_t sc_encoder_embedding_width(const sc_encoder *enc);

/* The embeddings of n rows of `width` floats each (row-major; width must be the model's input
 * width) into out (n x the embedding width floats), L2-normalized when the model normalizes. */
SC_API int sc_encoder_embed_rows(sc_encoder *enc, const float *rows, size_t n, size_t width,
                                 float *out);
/* The embeddings of n UTF-8 texts (NUL-terminated) into out (n x the embedding width). */
SC_API int sc_encoder_embed_texts(sc_encoder *enc, const char *const *texts, size_t n, float *out);

/* The model's scores of n pairs (left[i], right[i]), as `siamcl score` gives them: the head's
 * similarity, mapped onto the target range when the model was trained so. Rows: row i of each
 * side at rows + i * width. */
SC_API int sc_encoder_score_rows(sc_encoder *enc, const float *left, const float *right, size_t n,
                                 size_t width, float *scores);
SC_API int sc_encoder_score_texts(sc_encoder *enc, const char *const *left,
                                  const char *const *right, size_t n, float *scores);

#ifdef __cplusplus
}
#endif

#endif
