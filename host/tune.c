#include "siamcl/tune.h"
#include "atomic_file.h"
#include "siamcl/config.h"

#include <clblast_c.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
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

/* Parameters by name, in the order of sc_xgemm_names and sc_direct_names. */
enum { GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB };
enum { KWID, MDIMAD, MDIMCD, NDIMBD, NDIMCD, PADA, PADB, VWMD, VWND, WGD };
enum { VWM = 14, VWN = 15 };

/* a * b and a + b, saturated: the values come from a file and may be up to 2^30 each */
static size_t mul(size_t a, size_t b) {
    return a && b > SIZE_MAX / a ? SIZE_MAX : a * b;
}

static size_t add(size_t a, size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Whether x is a multiple of y (a zero y is no divisor). */
static int multiple(size_t x, size_t y) {
    return y && x % y == 0;
}

static int fit_group(const sc_device_limits *lim, const char *kernel, size_t m, size_t n, char *why,
                     size_t size) {
    if (m && n && mul(m, n) <= lim->max_group && m <= lim->max_items[0] && n <= lim->max_items[1])
        return 1;
    snprintf(why, size,
             "%s: work-groups of %zu x %zu work-items, the device allows %zu (%zu x %zu at most)",
             kernel, m, n, lim->max_group, lim->max_items[0], lim->max_items[1]);
    return 0;
}

/* The bytes of local memory of one XgemmDirect kernel and of Xgemm (4-byte floats). */
static size_t direct_local(const size_t *d) {
    size_t w = d[WGD];
    return mul(4, add(mul(w, add(w, d[PADA])), mul(w, add(w, d[PADB]))));
}

static size_t xgemm_local(const size_t *x) {
    return mul(4, add(x[SA] ? mul(x[KWG], x[MWG]) : 0, x[SB] ? mul(x[KWG], x[NWG]) : 0));
}

static int fit_local(const sc_device_limits *lim, const char *kernel, size_t bytes, const char *how,
                     char *why, size_t size) {
    if (bytes <= lim->local_mem) return 1;
    snprintf(why, size, "%s: %zu bytes of local memory%s, the device has %zu", kernel, bytes, how,
             lim->local_mem);
    return 0;
}

/* CLBlast's own constraints on a set (its tuner's, src/tuning/kernels/xgemm*.hpp): whole
 * numbers of work-items per tile and of loads per work-item. */
static int fit_shape(const sc_gemm_params *p, char *why, size_t size) {
    const size_t *x = p->xgemm, *d = p->direct;
    const char *bad = NULL;
    if (!multiple(x[KWG], x[KWI]))
        bad = "Xgemm: KWG is not a multiple of KWI";
    else if (!multiple(x[MWG], mul(x[MDIMC], x[VWM])) || !multiple(x[MWG], mul(x[MDIMA], x[VWM])))
        bad = "Xgemm: MWG is not a multiple of MDIMC x VWM and MDIMA x VWM";
    else if (!multiple(x[NWG], mul(x[NDIMC], x[VWN])) || !multiple(x[NWG], mul(x[NDIMB], x[VWN])))
        bad = "Xgemm: NWG is not a multiple of NDIMC x VWN and NDIMB x VWN";
    else if (x[GEMMK] == 0 &&
             (!x[MDIMA] || !x[NDIMB] || !multiple(x[KWG], mul(x[MDIMC], x[NDIMC]) / x[MDIMA]) ||
              !multiple(x[KWG], mul(x[MDIMC], x[NDIMC]) / x[NDIMB])))
        bad = "Xgemm: KWG is not a multiple of MDIMC x NDIMC / MDIMA and / NDIMB";
    else if (x[GEMMK] == 1 && !multiple(x[KREG], x[VWN]))
        bad = "Xgemm: KREG is not a multiple of VWN";
    else if (x[GEMMK] > 1)
        bad = "Xgemm: GEMMK is neither 0 nor 1";
    else if (!multiple(d[WGD], d[KWID]))
        bad = "XgemmDirect: WGD is not a multiple of KWID";
    else if (!multiple(d[WGD], mul(d[MDIMCD], d[VWMD])) ||
             !multiple(d[WGD], mul(d[MDIMAD], d[VWMD])) ||
             !multiple(d[WGD], mul(d[NDIMCD], d[VWND])) ||
             !multiple(d[WGD], mul(d[NDIMBD], d[VWND])))
        bad = "XgemmDirect: WGD is not a multiple of the work-items times the vector widths";
    else if (!d[MDIMAD] || !d[NDIMBD] || !multiple(d[WGD], mul(d[MDIMCD], d[NDIMCD]) / d[MDIMAD]) ||
             !multiple(d[WGD], mul(d[MDIMCD], d[NDIMCD]) / d[NDIMBD]))
        bad = "XgemmDirect: WGD is not a multiple of MDIMCD x NDIMCD / MDIMAD and / NDIMBD";
    if (bad) snprintf(why, size, "%s", bad);
    return bad == NULL;
}

int sc_gemm_params_fit(const sc_device_limits *lim, const sc_gemm_params *p, char *why,
                       size_t size) {
    const size_t *x = p->xgemm, *d = p->direct;
    size_t direct = direct_local(d), xgemm = xgemm_local(x);
    const char *how = "";
    if (lim->local_by_prefix) {
        xgemm = add(xgemm, mul(4, direct));
        how = " (with the four XgemmDirect kernels', as Oclgrind counts)";
    }
    return fit_shape(p, why, size) && fit_group(lim, "Xgemm", x[MDIMC], x[NDIMC], why, size) &&
           fit_group(lim, "XgemmDirect", d[MDIMCD], d[NDIMCD], why, size) &&
           fit_local(lim, "Xgemm", xgemm, how, why, size) &&
           fit_local(lim, "XgemmDirect", direct, "", why, size);
}

int sc_gemm_fallback(const sc_device_limits *lim, sc_gemm_params *out) {
    for (size_t wgd = 16; wgd >= 4; wgd /= 2) {
        for (size_t t = 8; t >= 1; t /= 2) {
            size_t x[] = {0, 1, 16, 2, t, t, 16, t, t, 16, 0, 0, 0, 0, 1, 1};
            size_t d[] = {2, t, t, t, t, 1, 1, 1, 1, wgd};
            memcpy(out->xgemm, x, sizeof x);
            memcpy(out->direct, d, sizeof d);
            out->min_indirect = SC_GEMM_ALL_DIRECT;
            char why[256];
            if (sc_gemm_params_fit(lim, out, why, sizeof why)) return 1;
        }
    }
    return 0;
}

/* 1 x 1 of C per work-item, no vectors: the smallest code CLBlast's kernels compile to. */
sc_gemm_params sc_gemm_params_in_force(const sc_device_limits *lim, const sc_gemm_params *p) {
    sc_gemm_params small = {{0, 1, 8, 1, 8, 8, 8, 8, 8, 8, 0, 0, 0, 0, 1, 1},
                            {1, 8, 8, 8, 8, 0, 0, 1, 1, 8},
                            0},
                   out = *p;
    char why[256];
    if (!sc_gemm_params_fit(lim, &small, why, sizeof why) && !sc_gemm_fallback(lim, &small))
        return out;
    if (p->min_indirect == 0) memcpy(out.direct, small.direct, sizeof out.direct);
    if (p->min_indirect == SC_GEMM_ALL_DIRECT) memcpy(out.xgemm, small.xgemm, sizeof out.xgemm);
    return out;
}

int sc_gemm_params_apply(sc_runtime *rt, const sc_gemm_params *given) {
    char why[256];
    if (!sc_gemm_params_fit(&rt->limits, given, why, sizeof why))
        return sc_error(SC_GEMM_SKIPPED, "GEMM parameters do not fit %s: %s", rt->dev.name, why);
    sc_gemm_params used = sc_gemm_params_in_force(&rt->limits, given), *p = &used;
    SC_TRY(override(rt, "Xgemm", sc_xgemm_names, SC_XGEMM_PARAMS, p->xgemm));
    SC_TRY(override(rt, "XgemmDirect", sc_direct_names, SC_DIRECT_PARAMS, p->direct));
    SC_TRY(override(rt, "GemmRoutine", routine_names, 1, &p->min_indirect));
    size_t tile[] = {p->xgemm[MWG], p->xgemm[NWG], p->xgemm[KWG] * p->xgemm[KREG], p->xgemm[GEMMK]};
    memcpy(rt->gemm_tile, tile, sizeof tile);
    rt->gemm_switch = p->min_indirect;
    rt->gemm_applied = 1;
    rt->gemm_fell_back = 0;
    return SC_OK;
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
    if (rc == SC_OK && p->min_indirect > SC_GEMM_ALL_DIRECT)
        rc = sc_cfg_invalid(cfg, "GemmRoutine", routine_names[0],
                            "above 2097152, whose cube CLBlast's 64-bit test wraps");
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

/* CLBlast's own defaults suit GPUs; on PoCL's CPU device they ran the default job at half the
 * speed of a tuned set. 64x64 tiles over 4x8 work-items: each work-item keeps a 16x8 block of C,
 * 16 float8 accumulators, which fit the 32 vector registers PoCL's 256-bit code has (16x16
 * spilled to the stack in the inner loop); see docs/PERFORMANCE.md. */
static const sc_gemm_params pocl_cpu = {
    {0, 1, 16, 2, 4, 4, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}, {2, 4, 4, 4, 4, 1, 1, 8, 8, 32}, 0};

static int is_pocl_cpu(const sc_device_desc *d) {
    return (d->type & CL_DEVICE_TYPE_CPU) && strstr(d->platform, "Portable Computing Language");
}

int sc_gemm_builtin(const sc_device_desc *d, sc_gemm_params *out) {
    if (!is_pocl_cpu(d)) return 0;
    *out = pocl_cpu;
    return 1;
}

static unsigned long long volume(const sc_gemm_shape *s) {
    return (unsigned long long)s->m * s->n * s->k;
}

int sc_gemm_goes_direct(const sc_gemm_shape *s, size_t min_indirect) {
    unsigned long long t = min_indirect;
    return volume(s) < t * t * t;
}

/* The largest T with T^3 <= v. */
static size_t cube_root(unsigned long long v) {
    size_t t = (size_t)cbrt((double)v);
    while ((unsigned long long)(t + 1) * (t + 1) * (t + 1) <= v) t++;
    while (t > 0 && (unsigned long long)t * t * t > v) t--;
    return t;
}

/* The candidate of one kind with the least time over the products on its side of the switch;
 * -1 when none was tried right, which costs nothing only if that side is empty. */
static int best_of_kind(const sc_gemm_shape *s, int n, const int *direct, const double *cost,
                        int stride, int ncand, int kind, size_t min_indirect, double *seconds) {
    int best = -1, used = 0;
    *seconds = INFINITY;
    for (int i = 0; i < n; i++) used |= sc_gemm_goes_direct(&s[i], min_indirect) == kind;
    for (int c = 0; c < ncand; c++) {
        if (!direct[c] != !kind || isnan(cost[c * stride])) continue;
        double sum = 0;
        for (int i = 0; i < n; i++)
            if (sc_gemm_goes_direct(&s[i], min_indirect) == kind) sum += cost[c * stride + i];
        if (sum < *seconds) best = c, *seconds = sum;
    }
    if (!used) *seconds = 0;
    return best;
}

sc_tune_choice sc_tune_choose(const sc_gemm_shape *s, int n, const int *direct, const double *cost,
                              int stride, int ncand) {
    sc_tune_choice best = {-1, -1, 0, INFINITY};
    for (int j = -1; j <= n; j++) {
        sc_tune_choice c = {-1, -1, 0, 0};
        c.min_indirect = j < 0 ? 0 : j == n ? SC_GEMM_ALL_DIRECT : cube_root(volume(&s[j]));
        double xs, ds;
        c.x = best_of_kind(s, n, direct, cost, stride, ncand, 0, c.min_indirect, &xs);
        c.d = best_of_kind(s, n, direct, cost, stride, ncand, 1, c.min_indirect, &ds);
        c.seconds = xs + ds;
        if (c.seconds < best.seconds) best = c;
    }
    return best;
}

int sc_gemm_params_choose(sc_runtime *rt) {
    char path[1200];
    struct stat st;
    sc_gemm_params p;
    sc_tuning_path(&rt->dev, path, sizeof path);
    if (stat(path, &st) == 0) {
        SC_TRY(sc_gemm_params_load(path, &p));
        int rc = sc_gemm_params_apply(rt, &p);
        if (rc == SC_OK) {
            rt->gemm_params = SC_GEMM_STORED;
            sc_note(rt, "GEMM parameters from %s (siamcl tune)", path);
            return SC_OK;
        }
        if (rc != SC_GEMM_SKIPPED) return rc;
        sc_note(rt, "skipped %s: %s", path, sc_last_error());
    }
    if (!sc_gemm_builtin(&rt->dev, &p)) return SC_OK;
    int rc = sc_gemm_params_apply(rt, &p);
    if (rc == SC_OK) {
        rt->gemm_params = SC_GEMM_BUILTIN;
        sc_note(rt, "GEMM parameters: siamcl's set for PoCL CPU devices");
    } else if (rc == SC_GEMM_SKIPPED) {
        sc_note(rt, "skipped siamcl's set for PoCL CPU devices: %s", sc_last_error());
        rc = SC_OK;
    }
    return rc;
}
