#include "siamcl/gather.h"
#include "siamcl/gemm.h"

#include <stdlib.h>
#include <string.h>

int sc_pairs_upload(sc_runtime *rt, const sc_pairs *p, sc_pairs_dev *out) {
    memset(out, 0, sizeof *out);
    out->n = p->n;
    size_t ib = p->n * sizeof(int32_t), fb = p->n * sizeof(float);
    int rc = sc_buffer_new(rt, ib, &out->left);
    if (rc == SC_OK) rc = sc_buffer_new(rt, ib, &out->right);
    if (rc == SC_OK) rc = sc_buffer_new(rt, fb, &out->target);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->left, 0, p->left, ib);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->right, 0, p->right, ib);
    if (rc == SC_OK) rc = sc_upload_bytes(rt, out->target, 0, p->target, fb);
    out->nfeatures = p->nfeatures;
    if (rc == SC_OK && p->nfeatures) {
        size_t n = p->n * (size_t)p->nfeatures;
        rc = sc_buffer_new(rt, (n ? n : 1) * sizeof(float), &out->features);
        if (rc == SC_OK) rc = sc_upload(rt, (sc_view){out->features, 0}, p->features, n);
    }
    if (rc != SC_OK) sc_pairs_dev_free(out);
    return rc;
}

void sc_pairs_dev_free(sc_pairs_dev *p) {
    sc_buffer_free(p->left);
    sc_buffer_free(p->right);
    sc_buffer_free(p->target);
    sc_buffer_free(p->features);
    memset(p, 0, sizeof *p);
}

sc_row_index sc_pairs_index(const sc_pairs_dev *p, size_t first, size_t pairs) {
    return (sc_row_index){p->left, p->right, first, pairs, 2 * pairs};
}

sc_row_index sc_list_index(cl_mem index, size_t first, size_t n) {
    return (sc_row_index){index, index, first, n, n};
}

int sc_gather(sc_runtime *rt, cl_mem rows, size_t width, const sc_row_index *ix, sc_view x) {
    return sc_launch1(rt, "gather", "gather", ix->n * ((width + 7) / 8), SC_MEM(rows),
                      SC_INT(width), SC_MEM(ix->left), SC_MEM(ix->right), SC_INT(ix->first),
                      SC_INT(ix->split), SC_INT(ix->n), SC_VIEW(x));
}

int sc_gather_fm(sc_runtime *rt, cl_mem rows, size_t width, const sc_row_index *ix, size_t from,
                 size_t nb, sc_view x) {
    return sc_launch1(rt, "gather", "gather_fm", (nb + 7) / 8 * ((width + 7) / 8), SC_MEM(rows),
                      SC_INT(width), SC_MEM(ix->left), SC_MEM(ix->right), SC_INT(ix->first),
                      SC_INT(ix->split), SC_INT(from), SC_INT(nb), SC_VIEW(x));
}

int sc_gather_index(sc_runtime *rt, const sc_row_index *ix, sc_view x) {
    return sc_launch1(rt, "gather", "gather_index", ix->n, SC_MEM(ix->left), SC_MEM(ix->right),
                      SC_INT(ix->first), SC_INT(ix->split), SC_INT(ix->n), SC_VIEW(x));
}

/* Query rows per product: bounds the similarity block to about 64 MiB. */
static size_t chunk_rows(size_t nref) {
    size_t rows = ((size_t)16 << 20) / (nref ? nref : 1);
    return rows < 1 ? 1 : rows > 4096 ? 4096 : rows;
}

int sc_nearest(sc_runtime *rt, sc_view ref, size_t nref, sc_view query, size_t nq, size_t dim,
               int32_t *nearest) {
    size_t chunk = chunk_rows(nref);
    cl_mem sims = NULL, idx = NULL;
    int rc = sc_buffer_new(rt, chunk * nref * sizeof(float), &sims);
    if (rc == SC_OK) rc = sc_buffer_new(rt, chunk * sizeof(int32_t), &idx);
    for (size_t q = 0; q < nq && rc == SC_OK; q += chunk) {
        size_t n = nq - q < chunk ? nq - q : chunk;
        rc = sc_gemm(rt, 0, 1, n, nref, dim, 1.0f, sc_view_at(query, q * dim), ref, 0.0f,
                     (sc_view){sims, 0});
        if (rc == SC_OK)
            rc = sc_launch1(rt, "gather", "row_argmax", n, SC_MEM(sims), SC_INT(n), SC_INT(nref),
                            SC_MEM(idx));
        if (rc == SC_OK) rc = sc_download_bytes(rt, nearest + q, idx, 0, n * sizeof(int32_t));
    }
    sc_buffer_free(sims);
    sc_buffer_free(idx);
    return rc;
}
