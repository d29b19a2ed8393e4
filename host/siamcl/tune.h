/* CLBlast GEMM parameters: stored per device by `siamcl tune`, applied when a runtime opens.
 * CLBlast takes overrides per device and kernel, not per shape, and an override costs about
 * 0.6 ms (it rebuilds CLBlast's parameter database), too much to switch between products. So
 * the shapes are served by two sets: XgemmDirect for the products below a switch point, Xgemm
 * for the rest, each set and the switch chosen from per-product timings. */
#ifndef SIAMCL_TUNE_H
#define SIAMCL_TUNE_H

#include "siamcl/gemm.h"
#include "siamcl/runtime.h"

enum { SC_XGEMM_PARAMS = 16, SC_DIRECT_PARAMS = 10 };

/* The largest XGEMM_MIN_INDIRECT_SIZE: CLBlast sends a product direct when m n k is below its
 * cube, computed in 64 bits, so anything larger wraps (2^30 sends everything indirect). */
#define SC_GEMM_ALL_DIRECT ((size_t)1 << 21)
extern const char *const sc_xgemm_names[SC_XGEMM_PARAMS];
extern const char *const sc_direct_names[SC_DIRECT_PARAMS];

typedef struct sc_gemm_params {
    size_t xgemm[SC_XGEMM_PARAMS];   /* in the order of sc_xgemm_names */
    size_t direct[SC_DIRECT_PARAMS]; /* in the order of sc_direct_names */
    size_t min_indirect;             /* XGEMM_MIN_INDIRECT_SIZE: smaller products go direct */
} sc_gemm_params;

/* Whether CLBlast sends the product to XgemmDirect: m n k below min_indirect^3. */
int sc_gemm_goes_direct(const sc_gemm_shape *s, size_t min_indirect);

/* A pair of candidate sets, x of Xgemm and d of XgemmDirect (-1: none), and the switch. */
typedef struct sc_tune_choice {
    int x, d;
    size_t min_indirect;
    double seconds; /* the sum of the products' times; INFINITY when no pair serves them all */
} sc_tune_choice;

/* From per-product timings to the fastest pair and switch. Candidate c is of XgemmDirect when
 * direct[c]; cost[c * stride + i] is its seconds for product i, NaN when c was not tried and
 * INFINITY when it gave wrong results. The switches tried: all indirect, all direct, and
 * direct below each product's volume. */
sc_tune_choice sc_tune_choose(const sc_gemm_shape *s, int n, const int *direct, const double *cost,
                              int stride, int ncand);

/* The tuning file of a device: $SIAMCL_TUNING_DIR/<device>.ini, else
 * $HOME/.cache/siamcl/tuning/<device>.ini (the device name with anything but letters, digits,
 * '-' and '.' as '_'). */
void sc_tuning_path(const sc_device_desc *dev, char *out, size_t size);

/* sc_gemm_params_apply's status for a set that does not fit the device: nothing was applied and
 * sc_last_error() says why in one line. Not a failure: the caller goes on with the parameters
 * in force (the command line prints the line). */
enum { SC_GEMM_SKIPPED = 3 };

/* Whether CLBlast can run p on a device with these limits: each kernel's work-group (MDIMC x
 * NDIMC for Xgemm, MDIMCD x NDIMCD for XgemmDirect) within the work-group and work-item sizes,
 * its local memory (SA, SB: KWG x MWG and KWG x NWG floats; WGD x (WGD + PADA) and
 * WGD x (WGD + PADB) floats) within the device's, and CLBlast's divisibility constraints on
 * the tile sizes. 1 when it fits; else 0 and why (one line naming the kernel and numbers). */
int sc_gemm_params_fit(const sc_device_limits *lim, const sc_gemm_params *p, char *why,
                       size_t size);

/* What sc_gemm_params_apply gives CLBlast for p: p, except that the kernel no product reaches
 * (XgemmDirect when the switch is 0, Xgemm when it is SC_GEMM_ALL_DIRECT) gets a small set
 * that fits lim. CLBlast builds both kernels' program whatever the switch, and PoCL compiles a
 * kernel with a required work-group size (all of CLBlast's) when the program is built: the
 * four XgemmDirect kernels of the built-in set took 30 of the 37 seconds of a first start, for
 * no product. */
sc_gemm_params sc_gemm_params_in_force(const sc_device_limits *lim, const sc_gemm_params *p);

/* Applies p for rt's device when it fits (SC_OK), else SC_GEMM_SKIPPED; SC_ERR when CLBlast
 * refuses it. */
int sc_gemm_params_apply(sc_runtime *rt, const sc_gemm_params *p);

/* A small set that fits the limits (every product through XgemmDirect, whose one kernel needs
 * neither padding nor copies): what runs where CLBlast's own parameters do not fit. 0 when not
 * even that fits. */
int sc_gemm_fallback(const sc_device_limits *lim, sc_gemm_params *out);

/* Reads a tuning file ([Xgemm], [XgemmDirect], [GemmRoutine] sections); every key must be
 * present and a positive integer (XGEMM_MIN_INDIRECT_SIZE may be 0, and at most
 * SC_GEMM_ALL_DIRECT). */
int sc_gemm_params_load(const char *path, sc_gemm_params *p);
int sc_gemm_params_save(const char *path, const sc_gemm_params *p, const char *comment);

/* siamcl's own set for devices whose CLBlast defaults are known to be slow (PoCL CPU devices):
 * 1 and *out filled when d has one, else 0. */
int sc_gemm_builtin(const sc_device_desc *d, sc_gemm_params *out);

/* The device's tuning file when there is one, else siamcl's built-in set where it has one,
 * else CLBlast's own: applies it, records which in rt->gemm_params and says so through
 * rt->note. A set that does not fit the device is skipped with a note that says why. */
int sc_gemm_params_choose(sc_runtime *rt);

#endif
