#include "siamcl/gemm.h"

#include <clblast_c.h>

int sc_gemm(sc_runtime *rt, int ta, int tb, size_t m, size_t n, size_t k, float alpha, sc_view a,
            sc_view b, float beta, sc_view c) {
    if (m == 0 || n == 0) return SC_OK;
    CLBlastStatusCode st =
        CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                     tb ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.off,
                     ta ? m : k, b.mem, b.off, tb ? k : n, beta, c.mem, c.off, n, &rt->queue, NULL);
    if (st != CLBlastSuccess)
        return sc_error(SC_ERR, "CLBlast SGEMM %zux%zux%zu failed with status %d%s", m, n, k,
                        (int)st, st < 0 ? (st > -100 ? " (an OpenCL error)" : "") : "");
    rt->launches++;
    return SC_OK;
}
