/* Dense layers (CLBlast GEMMs with the bias + activation kernels) against a double-precision
 * reference, forward and backward, for every activation. */
#include "harness.h"
#include "reference.h"

#include "siamcl/dense.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Forward: float32 dot products of length <= 65 stay within 1e-5 of double, relative to the
 * size of the terms they sum (forward_error): a sum that cancels to near zero, as one output of
 * seven random terms can, has a large error relative to itself in any order. Backward: the
 * double central differences (h = 1e-6) are accurate to ~1e-9 and the float32 gradients to
 * ~1e-6, so 1e-4 leaves margin without hiding a wrong term (which errs by O(1)). */
#define FWD_BOUND 1e-5
#define BWD_BOUND 1e-4

typedef struct layer_ctx {
    sc_dense d; /* offsets relative to the parameter part of `in` */
    size_t rows;
} layer_ctx;

/* ||got - ref|| / ||mag||, mag the terms' sizes (ref_dense_magnitude): ||mag|| >= ||ref||. */
static double forward_error(const float *got, const double *ref, const double *mag, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = got[i] - ref[i];
        num += d * d, den += mag[i] * mag[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

/* in = [x (rows x in), W (out x in), b (out)] -> y (rows x out). */
static void dense_of_input(const double *in, double *y, void *vctx) {
    const layer_ctx *c = vctx;
    ref_dense(&c->d, in + c->rows * c->d.in, in, y, c->rows);
}

/* Whether some pre-activation of a relu layer lies within 1e-4 of its kink, where the central
 * differences (h = 1e-6) straddle it and are no reference (one draw in a few hundred); z is
 * scratch for the pre-activations. */
static int near_relu_kink(const layer_ctx *c, const double *in, double *z) {
    if (c->d.act != SC_ACT_RELU) return 0;
    sc_dense linear = c->d;
    linear.act = SC_ACT_IDENTITY;
    ref_dense(&linear, in + c->rows * c->d.in, in, z, c->rows);
    for (size_t i = 0; i < c->rows * (size_t)c->d.out; i++)
        if (fabs(z[i]) < 1e-4) return 1;
    return 0;
}

static void dense_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    /* rows, in, out; 1100 rows are products of 512-row blocks (dense.c), the last a part, and
     * dW their sum (not under Oclgrind: SIAMCL_TEST_SMALL) */
    const int shapes[][3] = {{1, 7, 1}, {66, 33, 17}, {14, 65, 64}, {1100, 6, 5}};
    int nshapes = getenv("SIAMCL_TEST_SMALL") ? 3 : 4;
    for (int a = 0; a < 4; a++) {
        for (int s = 0; s < nshapes; s++) {
            layer_ctx c = {{shapes[s][1], shapes[s][2], 3, 0, (sc_act)a}, (size_t)shapes[s][0]};
            c.d.b = c.d.w + (size_t)c.d.in * c.d.out; /* W at 3, b after it */
            size_t nx = c.rows * c.d.in, np = c.d.b + c.d.out, ny = c.rows * c.d.out;
            size_t nin = nx + np;
            float *in = malloc(nin * sizeof *in), *dy = malloc(ny * sizeof *dy);
            float *got = malloc(nin * sizeof *got);
            double *din = malloc(nin * sizeof *din), *ddy = malloc(ny * sizeof *ddy);
            double *ref = malloc(ny * sizeof *ref), *grad = malloc(nin * sizeof *grad);
            double *mag = malloc(ny * sizeof *mag);
            do {
                test_fill(in, nin, -1, 1);
                test_to_double(in, din, nin);
            } while (near_relu_kink(&c, din, ref));
            test_fill(dy, ny, -1, 1);
            test_to_double(dy, ddy, ny);
            dense_of_input(din, ref, &c);
            ref_dense_magnitude(&c.d, din + nx, din, mag, c.rows);
            test_fd_vjp(dense_of_input, &c, din, nin, ny, ddy, 1e-6, grad);
            cl_mem x = test_buffer(nx, in), p = test_buffer(np, in + nx), y = test_buffer(ny, NULL);
            cl_mem g = test_buffer(np, NULL), dym = test_buffer(ny, dy), dx = test_buffer(nx, NULL);
            sc_view P = {p, 0}, G = {g, 0};
            int rc = sc_dense_forward(rt, &c.d, P, (sc_view){x, 0}, (sc_view){y, 0}, c.rows);
            if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){y, 0}, ny);
            double ef = forward_error(got, ref, mag, ny);
            if (rc == SC_OK)
                rc = sc_dense_backward(rt, &c.d, P, G, (sc_view){x, 0}, (sc_view){y, 0},
                                       (sc_view){dym, 0}, (sc_view){dx, 0}, c.rows);
            if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){dx, 0}, nx);
            if (rc == SC_OK) rc = sc_download(rt, got + nx, G, np);
            memset(got + nx, 0, 3 * sizeof *got); /* the unused head of the buffers */
            double ex = test_rel_error(got, grad, nx);
            double ew = test_rel_error(got + nx + 3, grad + nx + 3, np - 3);
            for (cl_mem *m = (cl_mem[]){x, p, y, g, dym, dx}, *e = m + 6; m < e; m++)
                sc_buffer_free(*m);
            free(in), free(dy), free(got), free(din), free(ddy), free(ref), free(grad), free(mag);
            CHECK(rc == SC_OK, "%s", sc_last_error());
            CHECK_REL(ef, FWD_BOUND, "%-8s %dx%d->%d forward", sc_act_names[a], shapes[s][0],
                      c.d.in, c.d.out);
            CHECK_REL(ex, BWD_BOUND, "%-8s %dx%d->%d dx", sc_act_names[a], shapes[s][0], c.d.in,
                      c.d.out);
            CHECK_REL(ew, BWD_BOUND, "%-8s %dx%d->%d dW, db", sc_act_names[a], shapes[s][0], c.d.in,
                      c.d.out);
        }
    }
}

/* The feature-major forward (x^T in, y or y^T out) against the same reference, on blocks whose
 * sizes are and are not multiples of the vector width and of CLBlast's tiles. */
static void feature_major_forward_matches_reference(void) {
    sc_runtime *rt = test_runtime();
    const int shapes[][3] = {{1, 7, 1}, {13, 33, 17}, {64, 65, 64}, {512, 20, 9}};
    int nshapes = test_small() ? 3 : 4;
    for (int a = 0; a < 4; a++) {
        for (int s = 0; s < nshapes; s++) {
            for (int to_rows = 0; to_rows < 2; to_rows++) {
                size_t nb = (size_t)shapes[s][0], in = (size_t)shapes[s][1];
                size_t out = (size_t)shapes[s][2], np = 2 + in * out + out;
                sc_dense d = {(int)in, (int)out, 2, 2 + in * out, (sc_act)a};
                float *x = malloc(nb * in * sizeof *x), *xt = malloc(nb * in * sizeof *xt);
                float *p = malloc(np * sizeof *p), *got = malloc(nb * out * sizeof *got);
                double *dx = malloc(nb * in * sizeof *dx), *dp = malloc(np * sizeof *dp);
                double *ref = malloc(nb * out * sizeof *ref), *mag = malloc(nb * out * sizeof *mag);
                double *want = malloc(nb * out * sizeof *want);
                double *wmag = malloc(nb * out * sizeof *wmag);
                test_fill(x, nb * in, -1, 1);
                test_fill(p, np, -1, 1);
                for (size_t r = 0; r < nb; r++)
                    for (size_t c = 0; c < in; c++) xt[c * nb + r] = x[r * in + c];
                test_to_double(x, dx, nb * in);
                test_to_double(p, dp, np);
                ref_dense(&d, dp, dx, ref, nb);
                ref_dense_magnitude(&d, dp, dx, mag, nb);
                for (size_t r = 0; r < nb; r++)
                    for (size_t c = 0; c < out; c++) {
                        size_t at = to_rows ? r * out + c : c * nb + r;
                        want[at] = ref[r * out + c], wmag[at] = mag[r * out + c];
                    }
                cl_mem xm = test_buffer(nb * in, xt), pm = test_buffer(np, p);
                cl_mem ym = test_buffer(nb * out, NULL);
                int rc = sc_dense_forward_fm(rt, &d, (sc_view){pm, 0}, (sc_view){xm, 0},
                                             (sc_view){ym, 0}, nb, to_rows);
                if (rc == SC_OK) rc = sc_download(rt, got, (sc_view){ym, 0}, nb * out);
                double e = forward_error(got, want, wmag, nb * out);
                sc_buffer_free(xm), sc_buffer_free(pm), sc_buffer_free(ym);
                free(x), free(xt), free(p), free(got), free(dx), free(dp), free(ref), free(want);
                free(mag), free(wmag);
                CHECK(rc == SC_OK, "%s", sc_last_error());
                CHECK_REL(e, FWD_BOUND, "%-8s %zux%zu->%zu feature-major, %s", sc_act_names[a], nb,
                          in, out, to_rows ? "rows out" : "features out");
            }
        }
    }
}

TEST_MAIN(TEST(dense_matches_reference), TEST(feature_major_forward_matches_reference))
