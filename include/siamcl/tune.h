/* CLBlast GEMM parameters: stored per device by `siamcl tune`, applied when a runtime opens.
 * CLBlast takes overrides per device and kernel (not per shape), so one set of Xgemm and
 * XgemmDirect parameters and the direct/indirect switch point serve the model's mix of shapes. */
#ifndef SIAMCL_TUNE_H
#define SIAMCL_TUNE_H

#include "siamcl/runtime.h"

enum { SC_XGEMM_PARAMS = 16, SC_DIRECT_PARAMS = 10 };
extern const char *const sc_xgemm_names[SC_XGEMM_PARAMS];
extern const char *const sc_direct_names[SC_DIRECT_PARAMS];

typedef struct sc_gemm_params {
    size_t xgemm[SC_XGEMM_PARAMS];   /* in the order of sc_xgemm_names */
    size_t direct[SC_DIRECT_PARAMS]; /* in the order of sc_direct_names */
    size_t min_indirect;             /* XGEMM_MIN_INDIRECT_SIZE: smaller products go direct */
} sc_gemm_params;

/* The tuning file of a device: $SIAMCL_TUNING_DIR/<device>.ini, else
 * $HOME/.cache/siamcl/tuning/<device>.ini (the device name with anything but letters, digits,
 * '-' and '.' as '_'). */
void sc_tuning_path(const sc_device_desc *dev, char *out, size_t size);

int sc_gemm_params_apply(sc_runtime *rt, const sc_gemm_params *p);
/* Reads a tuning file ([Xgemm], [XgemmDirect], [GemmRoutine] sections); every key must be
 * present and a positive integer (XGEMM_MIN_INDIRECT_SIZE may be 0). */
int sc_gemm_params_load(const char *path, sc_gemm_params *p);
int sc_gemm_params_save(const char *path, const sc_gemm_params *p, const char *comment);

/* Applies the device's tuning file when there is one, and says so unless quiet. */
int sc_tuning_apply_stored(sc_runtime *rt, int quiet);

#endif
