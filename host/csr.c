#include "siamcl/csr.h"
#include "siamcl/error.h"

#include <stdlib.h>
#include <string.h>

void sc_csr_free(sc_csr *m) {
    free(m->offsets);
    free(m->indices);
    free(m->values);
    memset(m, 0, sizeof *m);
}

static uint64_t row_hash(const sc_csr *m, size_t r) {
    uint64_t h = 1469598103934665603u;
    for (uint32_t k = m->offsets[r]; k < m->offsets[r + 1]; k++) {
        uint32_t v;
        memcpy(&v, &m->values[k], sizeof v);
        h = (h ^ m->indices[k]) * 1099511628211u;
        h = (h ^ v) * 1099511628211u;
    }
    return h ^ (m->offsets[r + 1] - m->offsets[r]);
}

static int same_row(const sc_csr *m, size_t a, size_t b) {
    uint32_t na = m->offsets[a + 1] - m->offsets[a], nb = m->offsets[b + 1] - m->offsets[b];
    return na == nb &&
           !memcmp(m->indices + m->offsets[a], m->indices + m->offsets[b], na * sizeof(uint32_t)) &&
           !memcmp(m->values + m->offsets[a], m->values + m->offsets[b], na * sizeof(float));
}

/* An open-addressing table of row numbers, twice the rows in size (a power of two). */
int sc_csr_row_keys(const sc_csr *m, float *keys) {
    if (m->rows >= (1u << 24)) return sc_error(SC_EINPUT, "%zu rows exceed 2^24 keys", m->rows);
    size_t cap = 2;
    while (cap < 2 * m->rows) cap *= 2;
    int64_t *slot = malloc(cap * sizeof *slot);
    if (!slot) return sc_error(SC_ERR, "out of memory");
    for (size_t i = 0; i < cap; i++) slot[i] = -1;
    for (size_t r = 0; r < m->rows; r++) {
        size_t i = row_hash(m, r) & (cap - 1);
        while (slot[i] >= 0 && !same_row(m, (size_t)slot[i], r)) i = (i + 1) & (cap - 1);
        if (slot[i] < 0) slot[i] = (int64_t)r;
        keys[r] = (float)slot[i];
    }
    free(slot);
    return SC_OK;
}
