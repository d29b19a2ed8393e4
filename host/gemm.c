#include "siamcl/gemm.h"
#include "siamcl/tune.h"

#include <clblast_c.h>

/* CLBlast's indirect kernel copies operands into padded scratch. Left to itself it allocates
 * that scratch on every call; one buffer kept by the runtime and grown on demand made training
 * steps at batch 256 about 12% faster on PoCL. */
static int gemm_scratch(sc_runtime *rt, size_t bytes) {
    if (bytes <= rt->gemm_temp_size) return SC_OK;
    sc_buffer_free(rt->gemm_temp);
    rt->gemm_temp = NULL, rt->gemm_temp_size = 0;
    SC_TRY(sc_buffer_new(rt, bytes, &rt->gemm_temp));
    rt->gemm_temp_size = bytes;
    return SC_OK;
}

/* The floats of scratch an operand of CLBlast's indirect kernel goes through (a copy, pad or
 * transpose kernel), 0 for none: none when it is stored as the kernel reads it, on whole tiles
 * (one x two, of one_i x two_i), with a tight leading dimension and at offset 0 (CLBlast's
 * rule, xgemm.hpp). */
static size_t scratch(size_t one, size_t one_i, size_t two, size_t two_i, size_t ld, size_t off,
                      int transpose) {
    int none = one == one_i && two == two_i && ld == one && off == 0 && !transpose;
    return none ? 0 : one_i * two_i;
}

static size_t ceil_to(size_t x, size_t tile) {
    return (x + tile - 1) / tile * tile;
}

/* The helpers of the column-major call C' (M x N) = op(A') op(B') that gemm_views makes
 * (A' = B with bt, B' = A with at; offsets in floats): a kernel per operand through scratch,
 * C's copied out after and, unless beta is 0, in before. */
static sc_gemm_helpers helpers(const sc_runtime *rt, int at, int bt, size_t M, size_t N, size_t k,
                               size_t lda, size_t ldb, size_t a_off, size_t b_off, float beta,
                               size_t c_off) {
    const size_t *t = rt->gemm_tile;
    sc_gemm_helpers h = {0, 0};
    unsigned long long v = (unsigned long long)M * N * k, s = rt->gemm_switch;
    if (v < s * s * s) return h;
    int gemmk = t[3] == 1, a_rot = bt, b_rot = at;
    size_t mc = ceil_to(M, t[0]), nc = ceil_to(N, t[1]), kc = ceil_to(k, t[2]);
    size_t sa = scratch(a_rot ? k : M, gemmk ? kc : mc, a_rot ? M : k, gemmk ? mc : kc, ldb, b_off,
                        a_rot != gemmk);
    size_t sb = scratch(b_rot ? N : k, nc, b_rot ? k : N, kc, lda, a_off, !b_rot);
    size_t sc = scratch(M, gemmk ? nc : mc, N, gemmk ? mc : nc, M, c_off, gemmk);
    h.kernels = (sa > 0) + (sb > 0) + (sc > 0) * (beta != 0.0f ? 2 : 1);
    h.scratch = sa + sb + sc;
    return h;
}

sc_gemm_helpers sc_gemm_helpers_of(const sc_runtime *rt, int ta, int tb, size_t m, size_t n,
                                   size_t k, float beta) {
    return helpers(rt, ta, tb, n, m, k, ta ? m : k, tb ? k : n, 0, 0, beta, 0);
}

/* *status: CLBlast's, when it failed. */
static int gemm_views(sc_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
                      sc_view a, sc_view b, float beta, sc_view c, int *status) {
    /* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T over the same memory.
     * CLBlast's indirect kernel keeps C column-major, so asking in row-major would cost a
     * transposing copy of C on the way in and out of every call. */
    CLBlastTranspose at = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose bt = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t lda = ta ? m : k, ldb = tb ? k : n, need = 0;
    CLBlastStatusCode st = CLBlastSGemmTempBufferSize(CLBlastLayoutColMajor, bt, at, n, m, k, b.off,
                                                      ldb, a.off, lda, c.off, n, &rt->queue, &need);
    if (st == CLBlastSuccess) SC_TRY(gemm_scratch(rt, need));
    if (st == CLBlastSuccess) /* a NULL scratch (none needed yet) lets CLBlast allocate */
        st = CLBlastSgemmWithTempBuffer(CLBlastLayoutColMajor, bt, at, n, m, k, alpha, b.mem, b.off,
                                        ldb, a.mem, a.off, lda, beta, c.mem, c.off, n, &rt->queue,
                                        NULL, rt->gemm_temp);
    *status = (int)st;
    if (st != CLBlastSuccess)
        return sc_error(SC_ERR, "CLBlast SGEMM %zux%zux%zu failed with status %d%s", m, n, k,
                        (int)st, st < 0 ? (st > -100 ? " (an OpenCL error)" : "") : "");
    rt->launches++;
    if (rt->gemm_applied)
        rt->gemm_helpers +=
            helpers(rt, ta, tb, n, m, k, lda, ldb, a.off, b.off, beta, c.off).kernels;
    return SC_OK;
}

/* CLBlast's indirect kernel also copies an operand that does not start its buffer into scratch
 * (and C back after). Where the device allows a sub-buffer at the operand (its origin a multiple
 * of the base address alignment), *v becomes that sub-buffer at offset 0, which the caller
 * releases: OpenCL keeps it until the commands that use it are done. Operands at offset 0 are
 * wrapped too: OpenCL leaves a kernel undefined that reads a buffer while it writes a
 * sub-buffer of it, and C is often a sub-buffer of the buffer that holds A or B. */
static cl_mem own_buffer(const sc_runtime *rt, sc_view *v, size_t floats) {
    size_t origin = v->off * sizeof(float), align = rt->dev.base_align;
    if (align == 0 || origin % align) return NULL;
    cl_buffer_region region = {origin, floats * sizeof(float)};
    cl_int err;
    cl_mem sub = clCreateSubBuffer(v->mem, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    if (err != CL_SUCCESS) return NULL; /* the copy path still works */
    *v = (sc_view){sub, 0};
    return sub;
}

/* Whether CLBlast refused a launch for the device's limits, before running it: local memory,
 * work-group size, work-item sizes. */
static int refused_for_limits(int status) {
    return status == CLBlastInvalidLocalMemUsage || status == CL_INVALID_WORK_GROUP_SIZE ||
           status == CL_INVALID_WORK_ITEM_SIZE || status == CL_INVALID_WORK_DIMENSION;
}

/* What CLBlast runs with cannot all be read or set through its C API: its own Xgemm and
 * XgemmDirect sets where siamcl applied none, and always the sets of the copy, pad and transpose
 * kernels that the indirect path runs around Xgemm. They are checked the one way left: CLBlast
 * refuses, before running it, a launch beyond the device's limits. Then, once, every product
 * is sent through XgemmDirect, with siamcl's fallback set (checked against the limits), and the
 * product is retried. */
static int fall_back(sc_runtime *rt, int status) {
    if (rt->gemm_fell_back || !refused_for_limits(status)) return 0;
    sc_gemm_params p;
    int own = !rt->gemm_applied;
    if (!sc_gemm_fallback(&rt->limits, &p) || sc_gemm_params_apply(rt, &p) != SC_OK) return 0;
    sc_note(rt,
            "%s do not fit %s (CLBlast status %d): every product goes through XgemmDirect, with "
            "siamcl's small set",
            own ? "CLBlast's own GEMM parameters"
                : "the parameters of CLBlast's copy, pad and transpose kernels",
            rt->dev.name, status);
    rt->gemm_params = SC_GEMM_FALLBACK;
    rt->gemm_fell_back = 1;
    return 1;
}

int sc_gemm(sc_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k, float alpha, sc_view a,
            sc_view b, float beta, sc_view c) {
    if (m == 0 || n == 0) return SC_OK;
    cl_mem subs[] = {own_buffer(rt, &a, m * k), own_buffer(rt, &b, k * n),
                     own_buffer(rt, &c, m * n)};
    int status = 0, rc = gemm_views(rt, ta, tb, m, n, k, alpha, a, b, beta, c, &status);
    if (rc != SC_OK && fall_back(rt, status))
        rc = gemm_views(rt, ta, tb, m, n, k, alpha, a, b, beta, c, &status);
    for (int i = 0; i < 3; i++)
        if (subs[i]) clReleaseMemObject(subs[i]);
    return rc;
}
