/* The OpenCL runtime of a process: one device, one context, one in-order queue, and the
 * kernels built from the .cl files in cl/ on first use. */
#ifndef SIAMCL_RUNTIME_H
#define SIAMCL_RUNTIME_H

#include "siamcl/device.h"
#include "siamcl/error.h"

#include <stddef.h>

#define SC_MAX_PROGRAMS 16
#define SC_MAX_KERNELS  96

/* Whose GEMM parameters CLBlast runs with (tune.h); FALLBACK: CLBlast refused a launch for the
 * device's limits, and every product now goes through XgemmDirect (sc_gemm). */
typedef enum { SC_GEMM_CLBLAST, SC_GEMM_BUILTIN, SC_GEMM_STORED, SC_GEMM_FALLBACK } sc_gemm_source;

/* What a device allows a launch, read when the runtime opens. */
typedef struct sc_device_limits {
    size_t max_group;    /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_items[3]; /* CL_DEVICE_MAX_WORK_ITEM_SIZES */
    size_t local_mem;    /* CL_DEVICE_LOCAL_MEM_SIZE, bytes */
    /* Oclgrind 21.10 gives a kernel the local memory of every kernel whose name starts with its
     * own (it matches "Xgemm" against "XgemmDirectNN.alm"): CLBlast then sees Xgemm need its
     * own local memory plus that of the four XgemmDirect kernels. */
    int local_by_prefix;
} sc_device_limits;

/* A line the library has to say without failing (GEMM parameters that CLBlast refused, replaced
 * by sc_gemm); the command line sets one that prints the line, and without one it is dropped. */
typedef void (*sc_note_fn)(void *ctx, const char *line);

typedef struct sc_runtime {
    sc_device_desc dev;
    cl_context ctx;
    cl_command_queue queue;
    char kernel_dir[1024];
    struct {
        char file[32];
        cl_program program;
    } programs[SC_MAX_PROGRAMS];
    struct {
        char name[48];
        cl_kernel kernel;
        size_t max_group;       /* CL_KERNEL_WORK_GROUP_SIZE: may be below the device's */
        unsigned long launches; /* of this kernel since open */
    } kernels[SC_MAX_KERNELS];
    int nprograms, nkernels;
    sc_device_limits limits;
    size_t group;            /* work-group size of one-dimensional launches: a power of two */
    unsigned long launches;  /* kernel launches, ours and CLBlast's, since open */
    unsigned long transfers; /* host<->device copies since open */
    cl_mem gemm_temp;        /* CLBlast's scratch for indirect products, grown on demand */
    size_t gemm_temp_size;
    sc_gemm_source gemm_params;
    int gemm_applied;   /* a set of siamcl's is in force (sc_gemm_params_apply), not CLBlast's */
    int gemm_fell_back; /* since then, every product goes direct (sc_gemm): a launch was refused */
    /* The set in force when gemm_applied: Xgemm's MWG, NWG, KWG x KREG and GEMMK, and the
     * direct/indirect switch; what sc_gemm counts CLBlast's helper kernels by. */
    size_t gemm_tile[4], gemm_switch;
    unsigned long gemm_helpers; /* copy, pad and transpose kernels CLBlast ran since open */
    sc_note_fn note;
    void *note_ctx;
} sc_runtime;

/* Opens the device that spec chooses (see sc_device_select) and finds the kernel directory.
 * CLBlast runs with its own GEMM parameters until the caller applies others (tune.h). */
int sc_runtime_open(sc_runtime **rt, const char *spec);
/* The same for process nth of several on one machine (see sc_device_select_nth). */
int sc_runtime_open_nth(sc_runtime **rt, const char *spec, int nth);
/* Also empties CLBlast's cache of programs (of every runtime: there is one per process). */
void sc_runtime_close(sc_runtime *rt);

/* The kernel directory: the first of SIAMCL_KERNEL_DIR, the build tree's cl/ (for an installed
 * siamcl: the share/siamcl/cl beside it), the configured prefix's share/siamcl/cl, that holds
 * elementwise.cl. A set SIAMCL_KERNEL_DIR that lacks it is an error
 * rather than a silent fallback. env, build and install may be NULL. */
int sc_kernel_dir_find(const char *env, const char *build, const char *install, char *out,
                       size_t size);

/* The kernel directory's prelude: helpers shared by the kernel files, whose text the runtime
 * puts before each file's source. */
#define SC_PRELUDE_FILE "prelude.cl"

/* Builds one .cl file for the runtime's device, its source preceded by the text of the kernel
 * directory's prelude (a missing prelude is SC_EINPUT). A failed build reports the file and the
 * device's build log, whose lines are counted in each file apart (prelude.cl:N, file.cl:N). */
int sc_program_build_file(sc_runtime *rt, const char *path, cl_program *program);

/* The kernel `name` from cl/<file>.cl, building the file on its first use. */
int sc_kernel_get(sc_runtime *rt, const char *file, const char *name, cl_kernel *kernel);

/* A float array on the device: a buffer and an offset in floats. */
typedef struct sc_view {
    cl_mem mem;
    size_t off;
} sc_view;

static inline sc_view sc_view_at(sc_view v, size_t floats) {
    v.off += floats;
    return v;
}

int sc_buffer_new(sc_runtime *rt, size_t bytes, cl_mem *mem);
void sc_buffer_free(cl_mem mem);
int sc_upload(sc_runtime *rt, sc_view dst, const float *src, size_t n);
int sc_download(sc_runtime *rt, float *dst, sc_view src, size_t n);
int sc_upload_bytes(sc_runtime *rt, cl_mem dst, size_t offset, const void *src, size_t bytes);
int sc_download_bytes(sc_runtime *rt, void *dst, cl_mem src, size_t offset, size_t bytes);
int sc_fill(sc_runtime *rt, sc_view dst, float value, size_t n);
/* A copy on the device, n floats. */
int sc_copy(sc_runtime *rt, sc_view dst, sc_view src, size_t n);
int sc_finish(sc_runtime *rt);

/* One kernel argument: its size and a pointer to its value (NULL for local memory). */
typedef struct sc_arg {
    size_t size;
    const void *value;
} sc_arg;

#define SC_MEM(v)       ((sc_arg){sizeof(cl_mem), &(cl_mem){(v)}})
#define SC_INT(v)       ((sc_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define SC_UINT(v)      ((sc_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define SC_FLT(v)       ((sc_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define SC_LOCAL(bytes) ((sc_arg){(bytes), NULL})
/* A view passes as two arguments: the buffer and the offset. */
#define SC_VIEW(v) SC_MEM((v).mem), SC_INT((v).off)

/* Launches cl/<file>.cl's kernel `name` over dims dimensions. A NULL local size leaves the
 * work-group size to the runtime; a local size is first shrunk to what the kernel and device
 * allow (sc_group_fit), and the global size is rounded up to a multiple of it (kernels check
 * their bounds, and none depends on its work-group size). */
int sc_launch_args(sc_runtime *rt, const char *file, const char *name, int dims,
                   const size_t *global, const size_t *local, const sc_arg *args, int nargs);

#define SC_ARGS(...)                                                                               \
    (sc_arg[]){__VA_ARGS__}, (int)(sizeof((sc_arg[]){__VA_ARGS__}) / sizeof(sc_arg))

/* The work-group size a launch of dims dimensions asks for (want), shrunk until it fits: at
 * most kernel_max work-items in all, and items[d] in dimension d. Halves the largest
 * dimension (the later one on a tie) each time, so that powers of two stay powers of two. */
void sc_group_fit(int dims, const size_t *want, size_t kernel_max, const size_t *items,
                  size_t *out);

/* Passes a line to rt->note, if any (printf-like). */
void sc_note(const sc_runtime *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A one-dimensional launch of n work-items, in work-groups of rt->group: a fixed size, so that
 * runtimes that compile per work-group size (PoCL) compile once whatever n is. */
#define sc_launch1(rt, file, name, n, ...)                                                         \
    sc_launch_args(rt, file, name, 1, (size_t[]){(n)}, &(rt)->group, SC_ARGS(__VA_ARGS__))

#endif
