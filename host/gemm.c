#include "siamcl/gemm.h"

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

static int gemm_views(sc_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
                      sc_view a, sc_view b, float beta, sc_view c) {
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
    if (st != CLBlastSuccess)
        return sc_error(SC_ERR, "CLBlast SGEMM %zux%zux%zu failed with status %d%s", m, n, k,
                        (int)st, st < 0 ? (st > -100 ? " (an OpenCL error)" : "") : "");
    rt->launches++;
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

int sc_gemm(sc_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k, float alpha, sc_view a,
            sc_view b, float beta, sc_view c) {
    if (m == 0 || n == 0) return SC_OK;
    cl_mem subs[] = {own_buffer(rt, &a, m * k), own_buffer(rt, &b, k * n),
                     own_buffer(rt, &c, m * n)};
    int rc = gemm_views(rt, ta, tb, m, n, k, alpha, a, b, beta, c);
    for (int i = 0; i < 3; i++)
        if (subs[i]) clReleaseMemObject(subs[i]);
    return rc;
}
