/* Device choice as a pure function over described device lists. */
#include "harness.h"

#include "siamcl/device.h"

#include <string.h>

static sc_device_desc dev(cl_device_type type, const char *name, const char *platform, unsigned cus,
                          unsigned mhz) {
    sc_device_desc d;
    memset(&d, 0, sizeof d);
    d.type = type;
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.platform, sizeof d.platform, "%s", platform);
    d.compute_units = cus;
    d.clock_mhz = mhz;
    return d;
}

static const sc_device_desc *mixed(int *n) {
    static sc_device_desc d[4];
    d[0] = dev(CL_DEVICE_TYPE_CPU, "pthread-skylake", "Portable Computing Language", 16, 3000);
    d[1] = dev(CL_DEVICE_TYPE_GPU, "Intel(R) UHD Graphics 620", "Intel(R) OpenCL HD Graphics", 24,
               1150);
    d[2] = dev(CL_DEVICE_TYPE_GPU, "gfx1030", "AMD Accelerated Parallel Processing", 40, 2500);
    d[3] = dev(CL_DEVICE_TYPE_ACCELERATOR, "FPGA emulator", "Intel(R) FPGA", 1, 100);
    *n = 4;
    return d;
}

static void auto_prefers_fastest_gpu(void) {
    int n, i;
    const sc_device_desc *d = mixed(&n);
    CHECK_OK(sc_device_select(d, n, "auto", &i));
    CHECK(i == 2, "chose %d", i);
    CHECK_OK(sc_device_select(d, n, NULL, &i));
    CHECK(i == 2, "chose %d for NULL", i);
    CHECK_OK(sc_device_select(d, n, "gpu", &i));
    CHECK(i == 2, "chose %d for gpu", i);
}

static void auto_falls_back_to_cpu(void) {
    sc_device_desc d[3] = {
        dev(CL_DEVICE_TYPE_ACCELERATOR, "FPGA emulator", "Intel(R) FPGA", 1, 100),
        dev(CL_DEVICE_TYPE_CPU, "slow cpu", "A", 2, 1000),
        dev(CL_DEVICE_TYPE_CPU, "fast cpu", "B", 8, 3000),
    };
    int i;
    CHECK_OK(sc_device_select(d, 3, "auto", &i));
    CHECK(i == 2, "chose %d", i);
    CHECK_OK(sc_device_select(d, 1, "auto", &i));
    CHECK(i == 0, "only an accelerator: chose %d", i);
    CHECK(sc_device_select(d, 3, "gpu", &i) == SC_EINPUT, "gpu without a GPU must fail");
    CHECK(strstr(sc_last_error(), "no GPU device"), "message: %s", sc_last_error());
}

static void cpu_by_type(void) {
    int n, i;
    const sc_device_desc *d = mixed(&n);
    CHECK_OK(sc_device_select(d, n, "cpu", &i));
    CHECK(i == 0, "chose %d", i);
}

/* Data-parallel processes on one machine: one GPU each in order of merit, round again past the
 * last; a CPU, an index or a name is the same device for all of them. */
static void nth_process_takes_its_own_gpu(void) {
    int n, i;
    const sc_device_desc *d = mixed(&n);
    int want[] = {2, 1, 2, 1};
    for (int k = 0; k < 4; k++) {
        CHECK_OK(sc_device_select_nth(d, n, "auto", k, &i));
        CHECK(i == want[k], "process %d chose %d, not %d", k, i, want[k]);
        CHECK_OK(sc_device_select_nth(d, n, "gpu", k, &i));
        CHECK(i == want[k], "gpu: process %d chose %d, not %d", k, i, want[k]);
        CHECK_OK(sc_device_select_nth(d, n, "cpu", k, &i));
        CHECK(i == 0, "cpu: process %d chose %d", k, i);
        CHECK_OK(sc_device_select_nth(d, n, "AMD", k, &i));
        CHECK(i == 2, "a name: process %d chose %d", k, i);
    }
    sc_device_desc same[3] = {dev(CL_DEVICE_TYPE_GPU, "gpu a", "P", 10, 1000),
                              dev(CL_DEVICE_TYPE_CPU, "cpu", "P", 4, 1000),
                              dev(CL_DEVICE_TYPE_GPU, "gpu b", "P", 10, 1000)};
    CHECK_OK(sc_device_select_nth(same, 3, "auto", 1, &i));
    CHECK(i == 2, "equal GPUs go in the list's order: process 1 chose %d", i);
    sc_device_desc cpus[1] = {dev(CL_DEVICE_TYPE_CPU, "cpu", "P", 4, 1000)};
    CHECK_OK(sc_device_select_nth(cpus, 1, "auto", 3, &i));
    CHECK(i == 0, "no GPU: process 3 chose %d", i);
}

static void by_index(void) {
    int n, i;
    const sc_device_desc *d = mixed(&n);
    CHECK_OK(sc_device_select(d, n, "1", &i));
    CHECK(i == 1, "chose %d", i);
    CHECK(sc_device_select(d, n, "4", &i) == SC_EINPUT, "index 4 of 4 must fail");
    CHECK(strstr(sc_last_error(), "out of range"), "message: %s", sc_last_error());
}

static void by_substring(void) {
    int n, i;
    const sc_device_desc *d = mixed(&n);
    CHECK_OK(sc_device_select(d, n, "uhd", &i));
    CHECK(i == 1, "device name: chose %d", i);
    CHECK_OK(sc_device_select(d, n, "portable", &i));
    CHECK(i == 0, "platform name: chose %d", i);
    CHECK(sc_device_select(d, n, "nvidia", &i) == SC_EINPUT, "unknown name must fail");
    CHECK(strstr(sc_last_error(), "'nvidia'"), "message: %s", sc_last_error());
}

static void empty_list_is_an_error(void) {
    int i;
    CHECK(sc_device_select(NULL, 0, "auto", &i) == SC_EINPUT);
}

TEST_MAIN(TEST(auto_prefers_fastest_gpu), TEST(auto_falls_back_to_cpu), TEST(cpu_by_type),
          TEST(by_index), TEST(by_substring), TEST(nth_process_takes_its_own_gpu),
          TEST(empty_list_is_an_error))
