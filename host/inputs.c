#include "siamcl/inputs.h"

#include <string.h>

int sc_inputs_dense(sc_runtime *rt, const float *rows, size_t n, size_t width, sc_inputs *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    out->width = width;
    SC_TRY(sc_buffer_new(rt, n * width * sizeof(float), &out->dense));
    return sc_upload(rt, (sc_view){out->dense, 0}, rows, n * width);
}

int sc_inputs_sparse(sc_runtime *rt, const sc_csr *csr, size_t buckets, sc_inputs *out) {
    memset(out, 0, sizeof *out);
    out->n = csr->rows;
    out->width = buckets;
    out->csr = csr;
    return sc_csr_upload(rt, csr, &out->csr_dev);
}

int sc_inputs_keys(sc_runtime *rt, sc_inputs *in, const float *keys, int labeled) {
    sc_buffer_free(in->keys);
    in->keys = NULL;
    in->labeled = labeled;
    SC_TRY(sc_buffer_new(rt, (in->n ? in->n : 1) * sizeof(float), &in->keys));
    return sc_upload(rt, (sc_view){in->keys, 0}, keys, in->n);
}

void sc_inputs_free(sc_inputs *in) {
    sc_buffer_free(in->dense);
    sc_buffer_free(in->keys);
    sc_csr_dev_free(&in->csr_dev);
    memset(in, 0, sizeof *in);
}
