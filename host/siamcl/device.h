/* OpenCL devices: what is there, and which one a run uses. */
#ifndef SIAMCL_DEVICE_H
#define SIAMCL_DEVICE_H

#include <CL/cl.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sc_device_desc {
    cl_platform_id platform_id;
    cl_device_id device_id;
    cl_device_type type;
    char platform[128];
    char name[128];
    char driver[64];
    char version[64];
    unsigned compute_units;
    unsigned clock_mhz;
    uint64_t global_mem;
    uint64_t max_alloc;
    unsigned base_align; /* bytes; a sub-buffer's origin must be a multiple of it */
} sc_device_desc;

/* Every device of every platform, in platform order. No platform, or no device at all, is an
 * SC_EINPUT error whose message names the Debian packages that provide one. Free with free(). */
int sc_devices_list(sc_device_desc **devices, int *count);

/* Chooses a device: spec is "auto" (or NULL or empty), "gpu", "cpu", a decimal index into the
 * list, or a case-insensitive substring of the device or platform name. auto takes the GPU with
 * the most compute units x clock, else the best CPU, else the first device. A pure function of
 * its arguments; an unmatched spec is an SC_EINPUT error. */
int sc_device_select(const sc_device_desc *devices, int count, const char *spec, int *chosen);
/* As sc_device_select, for process nth of several on one machine (data parallelism): auto and
 * gpu take the (nth mod GPUs)-th GPU in that order of merit, so that each process has its own
 * GPU while there are enough; CPUs and named devices are shared. */
int sc_device_select_nth(const sc_device_desc *devices, int count, const char *spec, int nth,
                         int *chosen);

/* "GPU", "CPU", "ACCELERATOR" or "OTHER". */
const char *sc_device_type_name(cl_device_type type);

/* Prints the table of `siamcl devices`, marking the device the spec chooses. */
void sc_devices_print(FILE *out, const sc_device_desc *devices, int count, int chosen);

#endif
