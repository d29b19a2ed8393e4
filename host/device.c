#include "siamcl/device.h"
#include "siamcl/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NO_PLATFORM_HINT                                                                           \
    "install an OpenCL driver: pocl-opencl-icd for the CPU, or your GPU vendor's ICD "             \
    "(mesa-opencl-icd, intel-opencl-icd, nvidia-opencl-icd, or ROCm's)"

static void describe(sc_device_desc *d, cl_platform_id p, cl_device_id id) {
    cl_uint u;
    cl_ulong ul;
    memset(d, 0, sizeof *d);
    d->platform_id = p;
    d->device_id = id;
    clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof d->platform - 1, d->platform, NULL);
    clGetDeviceInfo(id, CL_DEVICE_NAME, sizeof d->name - 1, d->name, NULL);
    clGetDeviceInfo(id, CL_DRIVER_VERSION, sizeof d->driver - 1, d->driver, NULL);
    clGetDeviceInfo(id, CL_DEVICE_VERSION, sizeof d->version - 1, d->version, NULL);
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof d->type, &d->type, NULL);
    if (clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS)
        d->compute_units = u;
    if (clGetDeviceInfo(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL) == CL_SUCCESS)
        d->clock_mhz = u;
    if (clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        d->global_mem = ul;
    if (clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        d->max_alloc = ul;
    if (clGetDeviceInfo(id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof u, &u, NULL) == CL_SUCCESS)
        d->base_align = u / 8;
}

int sc_devices_list(sc_device_desc **devices, int *count) {
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    *devices = NULL;
    *count = 0;
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0))
        return sc_error(SC_EINPUT, "no OpenCL platform found: %s", NO_PLATFORM_HINT);
    SC_CL_CHECK(err);
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) return sc_error(SC_ERR, "out of memory");
    int rc = SC_OK;
    err = clGetPlatformIDs(np, plats, NULL);
    for (cl_uint p = 0; p < np && err == CL_SUCCESS; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue; /* a platform without devices is not an error */
        cl_device_id ids[64];
        if (nd > 64) nd = 64;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL) != CL_SUCCESS) continue;
        sc_device_desc *grown = realloc(*devices, (*count + nd) * sizeof **devices);
        if (!grown) {
            rc = sc_error(SC_ERR, "out of memory");
            break;
        }
        *devices = grown;
        for (cl_uint i = 0; i < nd; i++) describe(&grown[(*count)++], plats[p], ids[i]);
    }
    free(plats);
    if (rc == SC_OK && err != CL_SUCCESS)
        rc = sc_cl_fail(err, "clGetPlatformIDs", __FILE__, __LINE__);
    if (rc == SC_OK && *count == 0)
        rc = sc_error(SC_EINPUT, "OpenCL platforms found, but no device: %s", NO_PLATFORM_HINT);
    if (rc != SC_OK) {
        free(*devices);
        *devices = NULL;
        *count = 0;
    }
    return rc;
}

static double score(const sc_device_desc *d) {
    return (double)d->compute_units * d->clock_mhz;
}

/* The best device of a type by compute units x clock, -1 when there is none. */
static int best_of_type(const sc_device_desc *devs, int n, cl_device_type type) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if ((devs[i].type & type) && (best < 0 || score(&devs[i]) > score(&devs[best]))) best = i;
    return best;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return 0;
}

static int all_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

/* The nth best device of a type (counting round again past the last), -1 when there is none:
 * by compute units x clock, ties in the list's order. */
static int nth_of_type(const sc_device_desc *devs, int n, cl_device_type type, int nth) {
    int count = 0;
    for (int i = 0; i < n; i++) count += (devs[i].type & type) != 0;
    if (count == 0) return -1;
    int want = nth % count, best = -1;
    for (int i = 0; i < n; i++) {
        if (!(devs[i].type & type)) continue;
        int place = 0; /* the devices of the type that come before this one */
        for (int j = 0; j < n; j++)
            if ((devs[j].type & type) && j != i &&
                (score(&devs[j]) > score(&devs[i]) ||
                 (score(&devs[j]) == score(&devs[i]) && j < i)))
                place++;
        if (place == want) best = i;
    }
    return best;
}

int sc_device_select(const sc_device_desc *devs, int n, const char *spec, int *chosen) {
    return sc_device_select_nth(devs, n, spec, 0, chosen);
}

int sc_device_select_nth(const sc_device_desc *devs, int n, const char *spec, int nth,
                         int *chosen) {
    *chosen = -1;
    if (n <= 0) return sc_error(SC_EINPUT, "no OpenCL device to choose from");
    if (nth < 0) nth = 0;
    if (!spec || !*spec || strcmp(spec, "auto") == 0) {
        int i = nth_of_type(devs, n, CL_DEVICE_TYPE_GPU, nth);
        if (i < 0) i = best_of_type(devs, n, CL_DEVICE_TYPE_CPU);
        *chosen = i < 0 ? 0 : i;
        return SC_OK;
    }
    if (strcmp(spec, "gpu") == 0 || strcmp(spec, "cpu") == 0) {
        cl_device_type t = spec[0] == 'g' ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_CPU;
        *chosen = t == CL_DEVICE_TYPE_GPU ? nth_of_type(devs, n, t, nth) : best_of_type(devs, n, t);
        if (*chosen < 0)
            return sc_error(SC_EINPUT, "device '%s': no %s device found (see `siamcl devices`)",
                            spec, sc_device_type_name(t));
        return SC_OK;
    }
    if (all_digits(spec)) {
        long i = strtol(spec, NULL, 10);
        if (i >= n)
            return sc_error(SC_EINPUT, "device index %s out of range: %d device%s (0..%d)", spec, n,
                            n == 1 ? "" : "s", n - 1);
        *chosen = (int)i;
        return SC_OK;
    }
    for (int i = 0; i < n; i++) {
        if (contains_nocase(devs[i].name, spec) || contains_nocase(devs[i].platform, spec)) {
            *chosen = i;
            return SC_OK;
        }
    }
    return sc_error(SC_EINPUT,
                    "device '%s' matches no device name (use auto, gpu, cpu, an index or a name "
                    "substring; see `siamcl devices`)",
                    spec);
}

const char *sc_device_type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "ACCELERATOR";
    return "OTHER";
}

void sc_devices_print(FILE *out, const sc_device_desc *devs, int n, int chosen) {
    fprintf(out, "  %-5s %-11s %9s %5s %6s  %-40s %s\n", "index", "type", "memory", "CUs", "MHz",
            "device", "platform (driver)");
    for (int i = 0; i < n; i++) {
        const sc_device_desc *d = &devs[i];
        fprintf(out, "%c %-5d %-11s %6.1f GiB %5u %6u  %-40.40s %s (%s)\n", i == chosen ? '*' : ' ',
                i, sc_device_type_name(d->type), d->global_mem / 1073741824.0, d->compute_units,
                d->clock_mhz, d->name, d->platform, d->driver);
    }
}
