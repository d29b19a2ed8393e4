/* sc_gemm (CLBlast SGEMM) against a double-precision reference: odd sizes, every transpose,
 * alpha and beta, and offsets into larger buffers; and sc_nearest, a product then an argmax. */
#include "harness.h"

#include "siamcl/gather.h"
#include "siamcl/gemm.h"
#include "siamcl/tune.h"

#include <clblast_c.h>

#include <stdlib.h>
#include <string.h>

/* C = alpha op(A) op(B) + beta C in double precision. */
static void gemm_ref(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const float *a,
                     const float *b, double beta, const float *c0, double *c) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++)
                s +=
                    (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
            c[i * n + j] = alpha * s + beta * c0[i * n + j];
        }
    }
}

/* Operands at offset off in their buffers, C with GUARD floats after it: the product is
 * checked, and so is every float of C's buffer outside the product (left as it was). */
enum { GUARD = 40 };
static void check_gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, float beta,
                       size_t off) {
    sc_runtime *rt = test_runtime();
    size_t nc = off + m * n + GUARD;
    float *a = malloc((m * k + off) * sizeof *a), *b = malloc((k * n + off) * sizeof *b);
    float *c = malloc(nc * sizeof *c), *got = malloc(nc * sizeof *got);
    double *ref = malloc(m * n * sizeof *ref);
    test_fill(a, m * k + off, -1, 1);
    test_fill(b, k * n + off, -1, 1);
    test_fill(c, nc, -1, 1);
    gemm_ref(ta, tb, m, n, k, alpha, a + off, b + off, beta, c + off, ref);
    cl_mem am = test_buffer(m * k + off, a), bm = test_buffer(k * n + off, b);
    cl_mem cm = test_buffer(nc, c);
    int rc = sc_gemm(rt, ta, tb, m, n, k, alpha, (sc_view){am, off}, (sc_view){bm, off}, beta,
                     (sc_view){cm, off});
    if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){cm, 0}, nc);
    double err = test_rel_error(got + off, ref, m * n);
    int kept = !memcmp(got, c, off * sizeof *c) &&
               !memcmp(got + off + m * n, c + off + m * n, GUARD * sizeof *c);
    sc_buffer_free(am);
    sc_buffer_free(bm);
    sc_buffer_free(cm);
    free(a);
    free(b);
    free(c);
    free(got);
    free(ref);
    CHECK(rc == SC_OK, "%s", sc_last_error());
    CHECK_REL(err, 1e-5, "ta=%d tb=%d %zux%zux%zu alpha %g beta %g offset %zu", ta, tb, m, n, k,
              alpha, beta, off);
    CHECK(kept, "the product wrote outside C (offset %zu)", off);
}

/* Every size of {1, 7, 33, 257, 784} in every position, under all four transposes; with
 * SIAMCL_TEST_SMALL, sizes up to 33 (Oclgrind takes minutes for the large ones). */
static void odd_sizes_all_transposes(void) {
    static const size_t shapes[][3] = {{1, 7, 33},      {7, 33, 1},     {33, 1, 7},
                                       {257, 784, 33},  {784, 33, 257}, {33, 257, 784},
                                       {257, 257, 257}, {1, 784, 1},    {64, 256, 784}};
    static const size_t small[][3] = {{1, 7, 33}, {7, 33, 1}, {33, 1, 7}, {1, 33, 1}, {17, 9, 33}};
    int n = test_small() ? 5 : 9;
    for (int s = 0; s < n; s++) {
        const size_t *sh = test_small() ? small[s] : shapes[s];
        for (int t = 0; t < 4; t++) check_gemm(t & 1, t >> 1, sh[0], sh[1], sh[2], 1.0f, 0.0f, 0);
    }
}

static void alpha_beta_and_offsets(void) {
    check_gemm(0, 1, 33, 7, 257, 1.5f, 0.5f, 5);
    check_gemm(1, 0, 7, 257, 33, -0.25f, 1.0f, 11);
    check_gemm(1, 1, 257, 33, 7, 2.0f, -1.0f, 1);
}

/* Offsets on the device's base address alignment, where the operands go to CLBlast as
 * sub-buffers, against one float past it, where CLBlast copies them. */
static void aligned_offsets(void) {
    size_t align = test_runtime()->dev.base_align / sizeof(float);
    CHECK(align > 0, "the device reports no base address alignment");
    size_t big = test_small() ? 33 : 784, mid = test_small() ? 17 : 256;
    for (size_t off = align; off <= align + 1; off++) {
        check_gemm(0, 0, 64, mid, big, 1.0f, 0.0f, off);
        check_gemm(1, 0, big, mid, 64, 1.0f, 0.0f, 4 * off);
        check_gemm(0, 1, 64, 128, 64, -0.5f, 1.0f, off);
        check_gemm(1, 1, 33, 7, 257, 2.0f, 0.5f, off);
    }
}

/* Every product through the indirect kernel (which pads operands into scratch): still right,
 * and one scratch buffer serves them all, grown only for a larger need (the first product pads
 * to the most). The direct set is unused, and small: Oclgrind counts the local memory of the
 * four XgemmDirect kernels as Xgemm's. Runs last: CLBlast's parameters cannot be put back. */
static void indirect_products_share_one_scratch(void) {
    sc_runtime *rt = test_runtime();
    sc_gemm_params p = {
        {0, 1, 16, 2, 4, 4, 64, 4, 4, 64, 0, 0, 0, 0, 8, 8}, {2, 4, 4, 4, 4, 1, 1, 4, 4, 16}, 0};
    int rc = sc_gemm_params_apply(rt, &p);
    if (rc == SC_GEMM_SKIPPED) {
        printf("    skipped: %s\n", sc_last_error());
        return;
    }
    CHECK_OK(rc);
    if (test_small())
        check_gemm(0, 1, 65, 129, 33, 1.0f, 0.0f, 0);
    else
        check_gemm(0, 1, 257, 784, 33, 1.0f, 0.0f, 0);
    if (rt->gemm_fell_back) { /* CLBlast's copy kernels did not fit the device */
        printf("    skipped: every product went direct\n");
        return;
    }
    cl_mem scratch = rt->gemm_temp;
    size_t size = rt->gemm_temp_size;
    CHECK(scratch && size > 0, "an indirect product with padding used no scratch");
    check_gemm(1, 0, 33, 7, test_small() ? 65 : 257, 1.0f, 0.5f, 3);
    check_gemm(1, 1, 64, 128, 64, -1.0f, 0.0f, 0);
    CHECK(rt->gemm_temp == scratch && rt->gemm_temp_size == size,
          "smaller products reallocated the scratch (%zu -> %zu bytes)", size, rt->gemm_temp_size);
}

/* sc_nearest: a product, then row_argmax over each row of similarities. An index is right when
 * its dot product is the largest up to rounding (ties between floats are not the test). */
static void nearest_rows_match_reference(void) {
    enum { NREF = 37, NQ = 11, DIM = 5 };
    sc_runtime *rt = test_runtime();
    float ref[NREF * DIM], q[NQ * DIM];
    int32_t got[NQ];
    test_fill(ref, NREF * DIM, -1, 1);
    test_fill(q, NQ * DIM, -1, 1);
    cl_mem rm = test_buffer(NREF * DIM, ref), qm = test_buffer(NQ * DIM, q);
    int rc = sc_nearest(rt, (sc_view){rm, 0}, NREF, (sc_view){qm, 0}, NQ, DIM, got);
    sc_buffer_free(rm);
    sc_buffer_free(qm);
    CHECK_OK(rc);
    for (int i = 0; i < NQ; i++) {
        double best = -1e300, dot[NREF];
        for (int r = 0; r < NREF; r++) {
            dot[r] = 0;
            for (int d = 0; d < DIM; d++) dot[r] += (double)q[i * DIM + d] * ref[r * DIM + d];
            if (dot[r] > best) best = dot[r];
        }
        CHECK(got[i] >= 0 && got[i] < NREF, "query %d: index %d", i, (int)got[i]);
        CHECK(dot[got[i]] >= best - 1e-5, "query %d: row %d (%g), the best is %g", i, (int)got[i],
              dot[got[i]], best);
    }
}

/* The helper kernels siamcl counts for a product need the scratch CLBlast itself asks for:
 * the same floats, and kernels exactly when there is scratch. */
static void helper_count_matches_clblast_scratch(void) {
    sc_runtime *rt = test_runtime();
    if (!rt->gemm_applied) {
        printf("    skipped: CLBlast's own parameters, whose tiles siamcl does not know\n");
        return;
    }
    const size_t dims[][3] = {{64, 256, 784}, {784, 256, 64},  {13, 7, 33},
                              {128, 64, 64},  {256, 128, 512}, {512, 128, 256}};
    for (size_t d = 0; d < sizeof dims / sizeof *dims; d++) {
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            size_t m = dims[d][0], n = dims[d][1], k = dims[d][2], bytes = 0;
            sc_gemm_helpers h = sc_gemm_helpers_of(rt, ta, tb, m, n, k, 0.0f);
            CLBlastStatusCode st = CLBlastSGemmTempBufferSize(
                CLBlastLayoutColMajor, tb ? CLBlastTransposeYes : CLBlastTransposeNo,
                ta ? CLBlastTransposeYes : CLBlastTransposeNo, n, m, k, 0, tb ? k : n, 0,
                ta ? m : k, 0, n, &rt->queue, &bytes);
            CHECK(st == CLBlastSuccess, "status %d", (int)st);
            CHECK(bytes == h.scratch * sizeof(float) && (h.kernels > 0) == (bytes > 0),
                  "%zux%zux%zu ta %d tb %d: CLBlast %zu bytes, siamcl %zu floats, %u kernels", m, n,
                  k, ta, tb, bytes, h.scratch, h.kernels);
        }
    }
    /* the feature-major forward's products: W and x^T in CLBlast's order, on whole tiles */
    CHECK(sc_gemm_helpers_of(rt, 1, 0, 256, 512, 128, 0.0f).kernels == 0, "helpers needed");
}

TEST_MAIN(TEST(odd_sizes_all_transposes), TEST(alpha_beta_and_offsets), TEST(aligned_offsets),
          TEST(nearest_rows_match_reference), TEST(helper_count_matches_clblast_scratch),
          TEST(indirect_products_share_one_scratch))
