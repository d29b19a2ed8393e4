#include "cmd.h"

#include "siamcl/checkpoint.h"
#include "siamcl/tune.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_option(const char *arg, const cmd_option *o) {
    if (arg[0] != '-') return 0;
    if (arg[1] == '-') return strcmp(arg + 2, o->name) == 0;
    return o->short_name && arg[1] == o->short_name && !arg[2];
}

static const cmd_option *find(const cmd_option *options, const char *name) {
    for (const cmd_option *o = options; o && o->name; o++)
        if (!strcmp(o->name, name)) return o;
    return NULL;
}

/* section.key=value, as opposed to a file name given to -o. */
static int is_assignment(const char *s) {
    const char *eq = strchr(s, '='), *dot = strchr(s, '.'), *slash = strchr(s, '/');
    return eq && dot && dot < eq && (!slash || slash > eq);
}

int cmd_parse(int argc, char **argv, const char *command, const char *help,
              const cmd_option *options, cmd_args *args) {
    memset(args, 0, sizeof *args);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args->help = 1;
            continue;
        }
        if (!strcmp(a, "-o") && next && !is_assignment(next) && find(options, "output")) {
            *find(options, "output")->value = next; /* -o FILE: the command's output */
            i++;
            continue;
        }
        if (!strcmp(a, "--device") || !strcmp(a, "-o")) {
            if (!next) return sc_error(SC_EINPUT, "%s: %s needs a value", command, a);
            if (a[1] == 'o') {
                if (args->noverrides == CMD_MAX_ARGS)
                    return sc_error(SC_EINPUT, "%s: too many -o options", command);
                args->overrides[args->noverrides++] = next;
            } else {
                args->device = next;
            }
            i++;
            continue;
        }
        const cmd_option *o = options;
        while (o && o->name && !is_option(a, o)) o++;
        if (o && o->name) {
            if (o->flag) {
                *o->flag = 1;
                continue;
            }
            if (!next) return sc_error(SC_EINPUT, "%s: %s needs a value", command, a);
            *o->value = next;
            i++;
            continue;
        }
        if (a[0] == '-' && a[1])
            return sc_error(SC_EINPUT, "%s: unknown option %s (see siamcl %s --help)", command, a,
                            command);
        if (args->npositional == CMD_MAX_ARGS)
            return sc_error(SC_EINPUT, "%s: too many arguments", command);
        args->positional[args->npositional++] = a;
    }
    if (args->help) fputs(help, stdout);
    return SC_OK;
}

int cmd_load_config(const cmd_args *args, const char *path, sc_config **cfg) {
    if (path) {
        SC_TRY(sc_config_load(path, cfg));
    } else if (!(*cfg = sc_config_new())) {
        return sc_error(SC_ERR, "out of memory");
    }
    for (int i = 0; i < args->noverrides; i++) {
        int rc = sc_config_override(*cfg, args->overrides[i]);
        if (rc != SC_OK) {
            sc_config_free(*cfg);
            *cfg = NULL;
            return rc;
        }
    }
    return SC_OK;
}

/* The members of the ensemble whose run directory is dir: [train] ensemble of its config.ini,
 * or 0 when dir holds a model.safetensors of its own (or no ensemble's config). */
static int ensemble_size(const char *dir, int *k) {
    char path[1100];
    struct stat st;
    *k = 0;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (stat(path, &st) == 0) return SC_OK;
    snprintf(path, sizeof path, "%s/config.ini", dir);
    sc_config *cfg;
    if (stat(path, &st) != 0 || sc_config_load(path, &cfg) != SC_OK) return SC_OK;
    long n;
    int rc = sc_cfg_int(cfg, "train", "ensemble", 1, 1, SC_ENSEMBLE_MAX, &n);
    sc_config_free(cfg);
    *k = rc == SC_OK && n > 1 ? (int)n : 0;
    return rc;
}

/* Members 2 .. k of the ensemble in dir (member 1 is cm->m). */
static int open_members(cmd_model *cm, const char *dir, int k) {
    for (int i = 1; i < k; i++) {
        char *path = cm->member_path[i];
        sc_job job;
        snprintf(path, sizeof cm->member_path[i], "%s/member-%d/model.safetensors", dir, i + 1);
        SC_TRY(sc_checkpoint_load(cm->rt, path, 0, &cm->member_cfg[i], &job, &cm->members[i]));
        cm->all.n = i + 1;
    }
    return SC_OK;
}

int cmd_model_open(const cmd_args *args, cmd_model *cm) {
    struct stat st;
    const char *arg = args->positional[0];
    int members = 0;
    memset(cm, 0, sizeof *cm);
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        SC_TRY(ensemble_size(arg, &members));
        snprintf(cm->path, sizeof cm->path,
                 members ? "%s/member-1/model.safetensors" : "%s/model.safetensors", arg);
    } else {
        snprintf(cm->path, sizeof cm->path, "%s", arg);
    }
    SC_TRY(cmd_open_runtime(args, NULL, &cm->rt));
    SC_TRY(sc_checkpoint_load(cm->rt, cm->path, 0, &cm->cfg, &cm->job, &cm->m));
    cm->members[0] = cm->m;
    snprintf(cm->member_path[0], sizeof cm->member_path[0], "%s", cm->path);
    cm->all = (sc_ensemble){cm->members, 1};
    cm->kind = sc_task_kind_of(&cm->job);
    return open_members(cm, arg, members);
}

int cmd_model_single(const cmd_model *cm, const char *command) {
    if (cm->all.n == 1) return SC_OK;
    return sc_error(SC_EINPUT,
                    "%s: %s takes one model, and this run directory is an ensemble of %d: name a "
                    "member's, e.g. %.*s/member-1",
                    command, command, cm->all.n,
                    (int)(strlen(cm->path) - strlen("/member-1/model.safetensors")), cm->path);
}

void cmd_model_close(cmd_model *cm) {
    for (int i = 1; i < cm->all.n; i++) {
        sc_model_free(cm->members[i]);
        sc_config_free(cm->member_cfg[i]);
    }
    sc_model_free(cm->m);
    sc_config_free(cm->cfg);
    sc_runtime_close(cm->rt);
    memset(cm, 0, sizeof *cm);
}

int cmd_device_spec(const cmd_args *args, sc_config *cfg, const char **spec) {
    *spec = "auto";
    if (cfg) SC_TRY(sc_cfg_str(cfg, "device", "select", "auto", spec));
    const char *env = getenv("SIAMCL_DEVICE");
    if (env && *env) *spec = env;
    if (args->device) *spec = args->device;
    return SC_OK;
}

static void print_note(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "siamcl: %s\n", line);
}

int cmd_open_runtime(const cmd_args *args, sc_config *cfg, sc_runtime **rt) {
    return cmd_open_runtime_nth(args, cfg, 0, "", rt);
}

int cmd_open_runtime_nth(const cmd_args *args, sc_config *cfg, int nth, const char *who,
                         sc_runtime **rt) {
    const char *spec;
    SC_TRY(cmd_device_spec(args, cfg, &spec));
    SC_TRY(sc_runtime_open_nth(rt, spec, nth));
    const sc_device_desc *d = &(*rt)->dev;
    fprintf(stderr, "siamcl: %sdevice: %s | %s | driver %s | %.1f GiB | %u compute units\n", who,
            d->platform, d->name, d->driver, d->global_mem / 1073741824.0, d->compute_units);
    (*rt)->note = print_note;
    return sc_gemm_params_choose(*rt);
}

void cmd_tuning_hint(const sc_runtime *rt, const char *config) {
    if (rt->gemm_params == SC_GEMM_CLBLAST)
        fprintf(stderr,
                "siamcl: CLBlast's default GEMM parameters; `siamcl tune %s` searches faster ones "
                "for this device once (on PoCL it doubled training speed)\n",
                config);
    else if (rt->gemm_params == SC_GEMM_BUILTIN)
        fprintf(stderr,
                "siamcl: `siamcl tune %s` searches GEMM parameters for this very device once "
                "(the built-in set was chosen on other CPUs)\n",
                config);
}

int cmd_input_from_data(sc_runtime *rt, sc_job *job) {
    if (job->model.input) return SC_OK;
    sc_task t;
    int rc = sc_task_open(rt, job, NULL, &t);
    sc_task_close(&t);
    return rc;
}
