/* libFuzzer harness: the GEMM tuning file (sc_gemm_params_load: an INI file read by
 * sc_config_load). tune.c calls CLBlast to apply the parameters and the runtime to say which
 * it applied, so it links CLBlast, OpenCL and the runtime, but the reader under test calls
 * none of them.
 *
 * clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 *   -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -Iinclude -Ihost \
 *   -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 -DCL_USE_DEPRECATED_OPENCL_1_2_APIS \
 *   tests/fuzz/fuzz_tune.c host/tune.c host/config.c host/atomic_file.c host/error.c \
 *   host/runtime.c host/device.c -linih \
 *   -lclblast -lOpenCL -lm -o build-fuzz/fuzz_tune
 */
#include "fuzz_util.h"

#include "siamcl/error.h"
#include "siamcl/tune.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("tuning.ini", data, size);
    sc_gemm_params p;
    memset(&p, 0xA5, sizeof p);
    int rc = sc_gemm_params_load(path, &p);
    if (rc != SC_OK) {
        FUZZ_ASSERT(rc == SC_EINPUT && sc_last_error()[0]);
        return 0;
    }
    for (int i = 0; i < SC_XGEMM_PARAMS; i++) FUZZ_ASSERT(p.xgemm[i] <= (size_t)1 << 30);
    for (int i = 0; i < SC_DIRECT_PARAMS; i++) FUZZ_ASSERT(p.direct[i] <= (size_t)1 << 30);
    FUZZ_ASSERT(p.min_indirect <= SC_GEMM_ALL_DIRECT);
    return 0;
}
