#include "siamcl/tune.h"
#include "siamcl/atomic_file.h"
#include "siamcl/config.h"

#include <clblast_c.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const sc_xgemm_names[SC_XGEMM_PARAMS] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
const char *const sc_direct_names[SC_DIRECT_PARAMS] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};
static const char *const routine_names[] = {"XGEMM_MIN_INDIRECT_SIZE"};

void sc_tuning_path(const sc_device_desc *dev, char *out, size_t size) {
    char name[160];
    size_t n = 0;
    for (const char *c = dev->name; *c && n + 1 < sizeof name; c++)
        name[n++] = isalnum((unsigned char)*c) || *c == '-' || *c == '.' ? *c : '_';
    name[n] = '\0';
    const char *dir = getenv("SIAMCL_TUNING_DIR"), *home = getenv("HOME");
    if (dir && *dir)
        snprintf(out, size, "%s/%s.ini", dir, name);
    else
        snprintf(out, size, "%s/.cache/siamcl/tuning/%s.ini", home ? home : ".", name);
}

static int override(sc_runtime *rt, const char *kernel, const char *const *names, size_t n,
                    const size_t *values) {
    const char *list[SC_XGEMM_PARAMS]; /* CLBlast's prototype wants a non-const array */
    memcpy(list, names, n * sizeof *list);
    CLBlastStatusCode st = CLBlastOverrideParameters(rt->dev.device_id, kernel,
                                                     CLBlastPrecisionSingle, n, list, values);
    if (st != CLBlastSuccess)
        return sc_error(SC_ERR, "CLBlast refused the %s parameters (status %d)", kernel, (int)st);
    return SC_OK;
}

int sc_gemm_params_apply(sc_runtime *rt, const sc_gemm_params *p) {
    SC_TRY(override(rt, "Xgemm", sc_xgemm_names, SC_XGEMM_PARAMS, p->xgemm));
    SC_TRY(override(rt, "XgemmDirect", sc_direct_names, SC_DIRECT_PARAMS, p->direct));
    return override(rt, "GemmRoutine", routine_names, 1, &p->min_indirect);
}

static int read_section(sc_config *cfg, const char *section, const char *const *names, size_t n,
                        size_t *values, long min) {
    for (size_t i = 0; i < n; i++) {
        long v;
        SC_TRY(sc_cfg_int(cfg, section, names[i], -1, -1, 1L << 30, &v));
        if (v < min) return sc_cfg_invalid(cfg, section, names[i], "missing or out of range");
        values[i] = (size_t)v;
    }
    return SC_OK;
}

int sc_gemm_params_load(const char *path, sc_gemm_params *p) {
    sc_config *cfg;
    SC_TRY(sc_config_load(path, &cfg));
    int rc = read_section(cfg, "Xgemm", sc_xgemm_names, SC_XGEMM_PARAMS, p->xgemm, 0);
    if (rc == SC_OK)
        rc = read_section(cfg, "XgemmDirect", sc_direct_names, SC_DIRECT_PARAMS, p->direct, 0);
    if (rc == SC_OK) rc = read_section(cfg, "GemmRoutine", routine_names, 1, &p->min_indirect, 0);
    if (rc == SC_OK) rc = sc_config_check_unused(cfg);
    sc_config_free(cfg);
    return rc;
}

static void write_section(FILE *f, const char *section, const char *const *names, size_t n,
                          const size_t *values) {
    fprintf(f, "\n[%s]\n", section);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s = %zu\n", names[i], values[i]);
}

int sc_gemm_params_save(const char *path, const sc_gemm_params *p, const char *comment) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) { /* create the folders: a first tune makes ~/.cache/siamcl/tuning */
        *slash = '\0';
        for (char *c = dir + 1; *c; c++)
            if (*c == '/') *c = '\0', mkdir(dir, 0777), *c = '/';
        mkdir(dir, 0777);
    }
    sc_atomic_file f;
    SC_TRY(sc_atomic_open(path, &f));
    fprintf(f.file, "; %s\n", comment);
    write_section(f.file, "Xgemm", sc_xgemm_names, SC_XGEMM_PARAMS, p->xgemm);
    write_section(f.file, "XgemmDirect", sc_direct_names, SC_DIRECT_PARAMS, p->direct);
    write_section(f.file, "GemmRoutine", routine_names, 1, &p->min_indirect);
    return sc_atomic_commit(&f);
}

int sc_tuning_apply_stored(sc_runtime *rt, int quiet) {
    char path[1200];
    struct stat st;
    sc_gemm_params p;
    sc_tuning_path(&rt->dev, path, sizeof path);
    if (stat(path, &st) != 0) return SC_OK;
    SC_TRY(sc_gemm_params_load(path, &p));
    SC_TRY(sc_gemm_params_apply(rt, &p));
    if (!quiet) fprintf(stderr, "siamcl: GEMM parameters from %s (siamcl tune)\n", path);
    return SC_OK;
}
