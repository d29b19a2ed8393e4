/* A sparse matrix in compressed rows, on the host: what the featurizer makes of texts and the
 * sparse input layer reads. */
#ifndef SIAMCL_CSR_H
#define SIAMCL_CSR_H

#include <stddef.h>
#include <stdint.h>

/* Row r holds indices[offsets[r] .. offsets[r + 1]), in ascending order and each once, with
 * values alongside. */
typedef struct sc_csr {
    size_t rows, nnz;
    uint32_t *offsets; /* rows + 1 */
    uint32_t *indices;
    float *values;
} sc_csr;

void sc_csr_free(sc_csr *m);

/* keys[r] = the first row identical to row r (the same indices and values): texts the
 * featurizer cannot tell apart get one key. */
int sc_csr_row_keys(const sc_csr *m, float *keys);

#endif
