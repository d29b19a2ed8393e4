#include "siamcl/topk.h"

#define LANES 64 /* cl/topk.cl's TOPK_LANES */

int sc_topk_scratch_new(sc_runtime *rt, size_t rows, size_t k, sc_topk_scratch *out) {
    *out = (sc_topk_scratch){rows, k, NULL, NULL};
    size_t cells = (rows ? rows : 1) * LANES * (k ? k : 1);
    int rc = sc_buffer_new(rt, cells * sizeof(float), &out->vals);
    if (rc == SC_OK) rc = sc_buffer_new(rt, cells * sizeof(cl_int), &out->idx);
    if (rc != SC_OK) sc_topk_scratch_free(out);
    return rc;
}

void sc_topk_scratch_free(sc_topk_scratch *s) {
    sc_buffer_free(s->vals);
    sc_buffer_free(s->idx);
    s->vals = s->idx = NULL;
}

int sc_topk(sc_runtime *rt, sc_view s, size_t rows, size_t cols, sc_view bias, size_t k,
            const sc_topk_scratch *scratch, cl_mem out_v, cl_mem out_i) {
    if (k < 1 || k > SC_TOPK_MAX || k > scratch->k || rows > scratch->rows)
        return sc_error(SC_EINPUT,
                        "top-k: %zu of %zu rows, past the scratch's %zu of %zu (at "
                        "most %d)",
                        k, rows, scratch->k, scratch->rows, SC_TOPK_MAX);
    if (!rows) return SC_OK;
    int has_bias = bias.mem != NULL;
    /* a kernel argument may not be NULL on every driver: the scores stand in for a bias */
    sc_view b = has_bias ? bias : s;
    SC_TRY(sc_launch1(rt, "topk", "topk_lanes", rows * LANES, SC_VIEW(s), SC_INT(rows),
                      SC_INT(cols), SC_VIEW(b), SC_INT(has_bias), SC_INT(k), SC_MEM(scratch->vals),
                      SC_MEM(scratch->idx)));
    return sc_launch1(rt, "topk", "topk_merge", rows, SC_INT(rows), SC_INT(k),
                      SC_MEM(scratch->vals), SC_MEM(scratch->idx), SC_MEM(out_v), SC_MEM(out_i));
}
