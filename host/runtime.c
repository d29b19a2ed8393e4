#define _GNU_SOURCE /* dladdr, MADV_HUGEPAGE */
#include "siamcl/runtime.h"

#include <clblast_c.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef SC_BUILD_KERNEL_DIR
#define SC_BUILD_KERNEL_DIR NULL
#endif
#ifndef SC_INSTALL_KERNEL_DIR
#define SC_INSTALL_KERNEL_DIR NULL
#endif

/* The kernels beside an installed siamcl, wherever its prefix was moved: PREFIX/share/siamcl/cl
 * when the code running is PREFIX/lib.../libsiamcl.so or PREFIX/bin/siamcl. 0 when it is not
 * an installed one (the build tree's, say). */
static int beside_this_code(char *out, size_t size) {
#if defined(SC_INSTALL_LIBDIR) && defined(SC_INSTALL_BINDIR) && defined(SC_INSTALL_DATADIR)
    Dl_info info;
    char dir[1024];
    if (!dladdr((void *)beside_this_code, &info) || !info.dli_fname) return 0;
    snprintf(dir, sizeof dir, "%s", info.dli_fname);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    *slash = '\0';
    const char *subs[] = {SC_INSTALL_LIBDIR, SC_INSTALL_BINDIR};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(dir), k = strlen(subs[i]);
        if (n > k && dir[n - k - 1] == '/' && !strcmp(dir + n - k, subs[i])) {
            dir[n - k - 1] = '\0';
            snprintf(out, size, "%s/%s/siamcl/cl", dir, SC_INSTALL_DATADIR);
            return 1;
        }
    }
#else
    (void)out;
    (void)size;
#endif
    return 0;
}

static int has_kernels(const char *dir) {
    char path[1100];
    struct stat st;
    snprintf(path, sizeof path, "%s/elementwise.cl", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int sc_kernel_dir_find(const char *env, const char *build, const char *install, char *out,
                       size_t size) {
    if (env && *env) {
        if (!has_kernels(env))
            return sc_error(SC_EINPUT, "SIAMCL_KERNEL_DIR=%s holds no elementwise.cl", env);
        snprintf(out, size, "%s", env);
        return SC_OK;
    }
    const char *dirs[] = {build, install};
    for (int i = 0; i < 2; i++) {
        if (dirs[i] && has_kernels(dirs[i])) {
            snprintf(out, size, "%s", dirs[i]);
            return SC_OK;
        }
    }
    return sc_error(SC_EINPUT,
                    "kernel sources not found in %s or %s; set SIAMCL_KERNEL_DIR to siamcl's cl/ "
                    "folder",
                    build ? build : "(no build tree)", install ? install : "(no install prefix)");
}

static void read_limits(sc_runtime *rt) {
    sc_device_limits *l = &rt->limits;
    cl_device_id id = rt->dev.device_id;
    cl_ulong local = 0;
    cl_uint dims = 0;
    size_t items[16] = {0};
    l->max_group = 1;
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof l->max_group, &l->max_group, NULL);
    if (clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims, NULL) !=
            CL_SUCCESS ||
        dims > 16 ||
        clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, dims * sizeof *items, items, NULL) !=
            CL_SUCCESS)
        dims = 0;
    for (int d = 0; d < 3; d++) /* unknown sizes: the group limit alone */
        l->max_items[d] = d < (int)dims ? items[d] : dims ? 1 : l->max_group;
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    l->local_mem = (size_t)local;
    l->local_by_prefix = strstr(rt->dev.platform, "Oclgrind") != NULL;
}

int sc_runtime_open(sc_runtime **out, const char *spec) {
    return sc_runtime_open_nth(out, spec, 0);
}

int sc_runtime_open_nth(sc_runtime **out, const char *spec, int nth) {
    sc_device_desc *devs;
    int n, chosen;
    *out = NULL;
    SC_TRY(sc_devices_list(&devs, &n));
    int rc = sc_device_select_nth(devs, n, spec, nth, &chosen);
    if (rc != SC_OK) {
        free(devs);
        return rc;
    }
    sc_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        free(devs);
        return sc_error(SC_ERR, "out of memory");
    }
    rt->dev = devs[chosen];
    free(devs);
    /* an installed siamcl reads its own kernels, never a build tree's */
    char beside[1100];
    int installed = beside_this_code(beside, sizeof beside);
    rc = sc_kernel_dir_find(getenv("SIAMCL_KERNEL_DIR"), installed ? beside : SC_BUILD_KERNEL_DIR,
                            SC_INSTALL_KERNEL_DIR, rt->kernel_dir, sizeof rt->kernel_dir);
    cl_int err = CL_SUCCESS;
    if (rc == SC_OK) {
        rt->ctx = clCreateContext(NULL, 1, &rt->dev.device_id, NULL, NULL, &err);
        if (err == CL_SUCCESS)
            rt->queue = clCreateCommandQueue(rt->ctx, rt->dev.device_id, 0, &err);
        if (err != CL_SUCCESS) rc = sc_cl_fail(err, "creating the context", __FILE__, __LINE__);
    }
    if (rc != SC_OK) {
        sc_runtime_close(rt);
        return rc;
    }
    read_limits(rt);
    /* 64, or the largest power of two the device allows: sumsq_partial's 256 work-items stay a
     * multiple of it */
    for (rt->group = 64; rt->group > 1; rt->group /= 2)
        if (rt->group <= rt->limits.max_group && rt->group <= rt->limits.max_items[0]) break;
    *out = rt;
    return SC_OK;
}

void sc_runtime_close(sc_runtime *rt) {
    if (!rt) return;
    /* an error can leave commands queued: they end before what they use is released (rusticl
     * crashed releasing buffers under running kernels) */
    if (rt->queue) clFinish(rt->queue);
    /* CLBlast caches its programs, which hold the context, until the process exits; released
     * then, after the driver's own thread-local state is gone, they wrote to freed memory in
     * Oclgrind (an abort at exit: "corrupted double-linked list"). */
    if (rt->queue) CLBlastClearCache();
    sc_buffer_free(rt->gemm_temp);
    for (int i = 0; i < rt->nkernels; i++) clReleaseKernel(rt->kernels[i].kernel);
    for (int i = 0; i < rt->nprograms; i++) clReleaseProgram(rt->programs[i].program);
    if (rt->queue) clReleaseCommandQueue(rt->queue);
    if (rt->ctx) clReleaseContext(rt->ctx);
    free(rt);
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            *len = fread(buf, 1, (size_t)n, f);
            buf[*len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static void report_build_log(sc_runtime *rt, cl_program prog, const char *path, cl_int err) {
    size_t n = 0;
    clGetProgramBuildInfo(prog, rt->dev.device_id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = malloc(n + 1);
    if (log && clGetProgramBuildInfo(prog, rt->dev.device_id, CL_PROGRAM_BUILD_LOG, n, log, NULL) ==
                   CL_SUCCESS)
        log[n] = '\0';
    else if (log)
        log[0] = '\0';
    sc_error(SC_ERR, "%s: kernel build failed (%s) on %s; build log:\n%s", path,
             sc_cl_error_name(err), rt->dev.name, log ? log : "(out of memory)");
    free(log);
}

/* `#line 1 "name"` for the basename of path, so that the build log names the file and counts its
 * own lines. A character that would need escaping in the string becomes '_' (the error message
 * names the whole path anyway). */
static void line_directive(const char *path, char *out, size_t size) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char name[256];
    size_t n = 0;
    for (; base[n] && n + 1 < sizeof name; n++) {
        unsigned char c = (unsigned char)base[n];
        name[n] = c == '"' || c == '\\' || c < 0x20 ? '_' : (char)c;
    }
    name[n] = '\0';
    snprintf(out, size, "#line 1 \"%s\"\n", name);
}

int sc_program_build_file(sc_runtime *rt, const char *path, cl_program *program) {
    char prelude_path[1200];
    size_t prelude_len = 0, len = 0;
    *program = NULL;
    snprintf(prelude_path, sizeof prelude_path, "%s/%s", rt->kernel_dir, SC_PRELUDE_FILE);
    char *prelude = read_text(prelude_path, &prelude_len);
    if (!prelude)
        return sc_error(
            SC_EINPUT,
            "%s: cannot read the kernel prelude (helpers every kernel file is built with)",
            prelude_path);
    char *src = read_text(path, &len);
    if (!src) {
        free(prelude);
        return sc_error(SC_EINPUT, "%s: cannot read kernel source", path);
    }
    /* The prelude's text is part of the source, not an #include: a runtime that caches binaries
     * by source (PoCL) then rebuilds whenever either file changes. The seam starts on a line of
     * its own, whether or not the prelude ends with a newline. */
    char seam[300] = "\n";
    line_directive(path, seam + 1, sizeof seam - 1);
    const char *srcs[] = {"#line 1 \"" SC_PRELUDE_FILE "\"\n", prelude, seam, src};
    size_t lens[] = {strlen(srcs[0]), prelude_len, strlen(seam), len};
    cl_int err;
    cl_program prog = clCreateProgramWithSource(rt->ctx, 4, srcs, lens, &err);
    free(prelude);
    free(src);
    if (err != CL_SUCCESS) return sc_cl_fail(err, path, __FILE__, __LINE__);
    err = clBuildProgram(prog, 1, &rt->dev.device_id, "-cl-std=CL1.2", NULL, NULL);
    if (err != CL_SUCCESS) {
        report_build_log(rt, prog, path, err);
        clReleaseProgram(prog);
        return SC_ERR;
    }
    *program = prog;
    return SC_OK;
}

static int program_get(sc_runtime *rt, const char *file, cl_program *program) {
    for (int i = 0; i < rt->nprograms; i++) {
        if (strcmp(rt->programs[i].file, file) == 0) {
            *program = rt->programs[i].program;
            return SC_OK;
        }
    }
    if (rt->nprograms == SC_MAX_PROGRAMS) return sc_error(SC_ERR, "too many kernel programs");
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.cl", rt->kernel_dir, file);
    SC_TRY(sc_program_build_file(rt, path, program));
    snprintf(rt->programs[rt->nprograms].file, sizeof rt->programs[0].file, "%s", file);
    rt->programs[rt->nprograms++].program = *program;
    return SC_OK;
}

/* The index in rt->kernels of the kernel `name` from cl/<file>.cl, created on first use with
 * its work-group limit. */
static int kernel_slot(sc_runtime *rt, const char *file, const char *name, int *slot) {
    for (int i = 0; i < rt->nkernels; i++) {
        if (strcmp(rt->kernels[i].name, name) == 0) {
            *slot = i;
            return SC_OK;
        }
    }
    if (rt->nkernels == SC_MAX_KERNELS) return sc_error(SC_ERR, "too many kernels");
    cl_program prog;
    SC_TRY(program_get(rt, file, &prog));
    cl_int err;
    cl_kernel k = clCreateKernel(prog, name, &err);
    if (err != CL_SUCCESS)
        return sc_error(SC_ERR, "kernel '%s' in %s/%s.cl: %s", name, rt->kernel_dir, file,
                        sc_cl_error_name(err));
    size_t max_group = rt->limits.max_group;
    clGetKernelWorkGroupInfo(k, rt->dev.device_id, CL_KERNEL_WORK_GROUP_SIZE, sizeof max_group,
                             &max_group, NULL);
    *slot = rt->nkernels++;
    snprintf(rt->kernels[*slot].name, sizeof rt->kernels[0].name, "%s", name);
    rt->kernels[*slot].kernel = k;
    rt->kernels[*slot].max_group = max_group ? max_group : 1;
    rt->kernels[*slot].launches = 0;
    return SC_OK;
}

int sc_kernel_get(sc_runtime *rt, const char *file, const char *name, cl_kernel *kernel) {
    int i;
    SC_TRY(kernel_slot(rt, file, name, &i));
    *kernel = rt->kernels[i].kernel;
    return SC_OK;
}

void sc_group_fit(int dims, const size_t *want, size_t kernel_max, const size_t *items,
                  size_t *out) {
    size_t total = 1;
    for (int d = 0; d < dims; d++) {
        out[d] = want[d] ? want[d] : 1;
        while (out[d] > 1 && out[d] > items[d]) out[d] /= 2;
        total *= out[d];
    }
    while (total > kernel_max && total > 1) {
        int big = 0;
        for (int d = 1; d < dims; d++)
            if (out[d] >= out[big]) big = d;
        total /= out[big];
        out[big] /= 2;
        total *= out[big];
    }
}

void sc_note(const sc_runtime *rt, const char *fmt, ...) {
    if (!rt->note) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    rt->note(rt->note_ctx, line);
}

int sc_launch_args(sc_runtime *rt, const char *file, const char *name, int dims,
                   const size_t *global, const size_t *local, const sc_arg *args, int nargs) {
    int ki;
    SC_TRY(kernel_slot(rt, file, name, &ki));
    cl_kernel k = rt->kernels[ki].kernel;
    for (int i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS)
            return sc_error(SC_ERR, "%s: argument %d: %s", name, i, sc_cl_error_name(err));
    }
    size_t g[3], l[3];
    if (local) sc_group_fit(dims, local, rt->kernels[ki].max_group, rt->limits.max_items, l);
    for (int d = 0; d < dims; d++) {
        if (global[d] == 0) return SC_OK; /* nothing to do */
        g[d] = local ? (global[d] + l[d] - 1) / l[d] * l[d] : global[d];
    }
    cl_int err = clEnqueueNDRangeKernel(rt->queue, k, (cl_uint)dims, NULL, g, local ? l : NULL, 0,
                                        NULL, NULL);
    if (err != CL_SUCCESS) return sc_error(SC_ERR, "launching %s: %s", name, sc_cl_error_name(err));
    rt->launches++;
    rt->kernels[ki].launches++;
    return SC_OK;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* Memory for a buffer of a CPU device: whole 2 MiB pages, advised for transparent huge pages.
 * The embedding bag and the gathers read random rows of tables of hundreds of MB; on 4 KiB
 * pages nearly every row read misses the TLB and walks the page table. PoCL's own allocations
 * get huge pages only where the system gives them to every mapping, not where it leaves them
 * to madvise (a common default). NULL: out of memory, and the device allocates instead. */
static void *huge_page_memory(size_t bytes) {
    size_t size = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, size);
    /* advice, Linux's: where refused or unknown, small pages serve */
#ifdef MADV_HUGEPAGE
    if (p) madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

static void CL_CALLBACK free_host_memory(cl_mem mem, void *p) {
    (void)mem;
    free(p);
}

int sc_buffer_new(sc_runtime *rt, size_t bytes, cl_mem *mem) {
    cl_int err;
    int cpu = (rt->dev.type & CL_DEVICE_TYPE_CPU) != 0;
    void *host = cpu && bytes >= HUGE_PAGE ? huge_page_memory(bytes) : NULL;
    if (host) {
        *mem = clCreateBuffer(rt->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, host, &err);
        if (err == CL_SUCCESS &&
            clSetMemObjectDestructorCallback(*mem, free_host_memory, host) == CL_SUCCESS)
            return SC_OK;
        if (err == CL_SUCCESS) clReleaseMemObject(*mem);
        free(host); /* the device's own memory, then */
    }
    *mem = clCreateBuffer(rt->ctx, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    if (err != CL_SUCCESS)
        return sc_error(SC_ERR, "cannot allocate %zu bytes on %s: %s", bytes, rt->dev.name,
                        sc_cl_error_name(err));
    return SC_OK;
}

void sc_buffer_free(cl_mem mem) {
    if (mem) clReleaseMemObject(mem);
}

int sc_upload_bytes(sc_runtime *rt, cl_mem dst, size_t offset, const void *src, size_t bytes) {
    if (bytes == 0) return SC_OK;
    SC_CL_CHECK(clEnqueueWriteBuffer(rt->queue, dst, CL_TRUE, offset, bytes, src, 0, NULL, NULL));
    rt->transfers++;
    return SC_OK;
}

int sc_download_bytes(sc_runtime *rt, void *dst, cl_mem src, size_t offset, size_t bytes) {
    if (bytes == 0) return SC_OK;
    SC_CL_CHECK(clEnqueueReadBuffer(rt->queue, src, CL_TRUE, offset, bytes, dst, 0, NULL, NULL));
    rt->transfers++;
    return SC_OK;
}

int sc_upload(sc_runtime *rt, sc_view dst, const float *src, size_t n) {
    return sc_upload_bytes(rt, dst.mem, dst.off * sizeof(float), src, n * sizeof(float));
}

int sc_download(sc_runtime *rt, float *dst, sc_view src, size_t n) {
    return sc_download_bytes(rt, dst, src.mem, src.off * sizeof(float), n * sizeof(float));
}

int sc_fill(sc_runtime *rt, sc_view dst, float value, size_t n) {
    if (n == 0) return SC_OK;
    SC_CL_CHECK(clEnqueueFillBuffer(rt->queue, dst.mem, &value, sizeof value,
                                    dst.off * sizeof(float), n * sizeof(float), 0, NULL, NULL));
    rt->launches++;
    return SC_OK;
}

int sc_copy(sc_runtime *rt, sc_view dst, sc_view src, size_t n) {
    if (n == 0) return SC_OK;
    SC_CL_CHECK(clEnqueueCopyBuffer(rt->queue, src.mem, dst.mem, src.off * sizeof(float),
                                    dst.off * sizeof(float), n * sizeof(float), 0, NULL, NULL));
    rt->launches++;
    return SC_OK;
}

int sc_finish(sc_runtime *rt) {
    SC_CL_CHECK(clFinish(rt->queue));
    return SC_OK;
}
