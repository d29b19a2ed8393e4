/* Model checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
 * a little-endian u64 header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the tensors' data. Only F32 tensors of up to 4 dimensions are supported. */
#ifndef SIAMCL_SAFETENSORS_H
#define SIAMCL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

enum { SC_TENSOR_MAX_DIMS = 4 };

typedef struct sc_tensor {
    const char *name;
    const float *data; /* shape[0] x ... x shape[ndims - 1] values, row-major */
    int ndims;         /* 0 (a scalar) to SC_TENSOR_MAX_DIMS */
    int64_t shape[SC_TENSOR_MAX_DIMS];
} sc_tensor;

typedef struct sc_meta {
    const char *key, *value; /* any UTF-8 text */
} sc_meta;

/* Writes the tensors, in the order given, and the metadata (atomically: an existing file is
 * replaced only by a complete one). A duplicate or reserved ("__metadata__") name, a bad
 * shape or text that is not UTF-8 is SC_EINPUT naming path. */
int sc_safetensors_write(const char *path, const sc_tensor *tensors, int ntensors,
                         const sc_meta *meta, int nmeta);

/* A loaded file. */
typedef struct sc_safetensors sc_safetensors;

/* Reads and validates a whole file; anything malformed is SC_EINPUT naming path and the
 * problem. */
int sc_safetensors_read(const char *path, sc_safetensors **out);

/* The same for a file already in memory (size bytes at bytes, copied): name stands for the
 * file in messages. Both readers run the same checks. */
int sc_safetensors_read_memory(const char *name, const void *bytes, size_t size,
                               sc_safetensors **out);

/* The tensor called name: its data (owned by st), its number of dimensions and its shape
 * (unused dimensions are set to 1). SC_EINPUT naming the file and the tensor when absent. */
int sc_safetensors_tensor(const sc_safetensors *st, const char *name, const float **data,
                          int *ndims, int64_t shape[SC_TENSOR_MAX_DIMS]);

/* The name of the i-th tensor in the order of their data; NULL when there are i or fewer. */
const char *sc_safetensors_name(const sc_safetensors *st, size_t i);

/* The metadata value for key, or NULL when absent. */
const char *sc_safetensors_meta(const sc_safetensors *st, const char *key);

void sc_safetensors_free(sc_safetensors *st);

#endif
