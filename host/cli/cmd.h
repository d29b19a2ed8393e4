/* The command line: shared option parsing and the subcommands of `siamcl`. */
#ifndef SIAMCL_CMD_H
#define SIAMCL_CMD_H

#include "siamcl/config.h"
#include "siamcl/job.h"
#include "siamcl/runtime.h"
#include "siamcl/task.h"

#define CMD_MAX_ARGS 16

/* A command's own option: --name (and -s when short is set). A flag sets *flag; an option
 * with a value stores it in *value. */
typedef struct cmd_option {
    const char *name;
    char short_name;
    const char **value;
    int *flag;
} cmd_option;

typedef struct cmd_args {
    const char *device;
    const char *overrides[CMD_MAX_ARGS];
    int noverrides;
    const char *positional[CMD_MAX_ARGS];
    int npositional;
    int help;
} cmd_args;

/* Parses argv (after the command name) into args: --device, -o, --help and the command's own
 * options. When the command has an option named "output", -o FILE (anything but
 * section.key=value) sets it too. An unknown option or a missing value is an SC_EINPUT error.
 * With --help (and nothing wrong) it prints help to stdout and sets args->help: the command
 * then has nothing more to do. */
int cmd_parse(int argc, char **argv, const char *command, const char *help,
              const cmd_option *options, cmd_args *args);

/* Sets [model] input from the job's data when the config leaves it out (bench, tune). */
int cmd_input_from_data(sc_runtime *rt, sc_job *job);

/* Loads a config (or an empty one for a NULL path) and applies the -o overrides. */
int cmd_load_config(const cmd_args *args, const char *path, sc_config **cfg);

/* The device SPEC: --device, else SIAMCL_DEVICE, else the config's [device] select, else
 * auto. cfg may be NULL. */
int cmd_device_spec(const cmd_args *args, sc_config *cfg, const char **spec);

/* Opens the runtime on the device chosen by --device, else SIAMCL_DEVICE, else the config's
 * [device] select, else auto. cfg may be NULL. */
int cmd_open_runtime(const cmd_args *args, sc_config *cfg, sc_runtime **rt);
/* The same for process nth of several on this machine (sc_runtime_open_nth); its line about
 * the device begins with who ("rank 1 of 2 ...: "). */
int cmd_open_runtime_nth(const cmd_args *args, sc_config *cfg, int nth, const char *who,
                         sc_runtime **rt);

/* Says on stderr how to tune the GEMMs when the device has no tuning file (train, bench). */
void cmd_tuning_hint(const sc_runtime *rt, const char *config);

int cmd_devices(int argc, char **argv);
extern const char cmd_devices_help[];
int cmd_train(int argc, char **argv);
extern const char cmd_train_help[];
int cmd_eval(int argc, char **argv);
extern const char cmd_eval_help[];
int cmd_embed(int argc, char **argv);
extern const char cmd_embed_help[];
int cmd_export(int argc, char **argv);
extern const char cmd_export_help[];
int cmd_score(int argc, char **argv);
extern const char cmd_score_help[];
int cmd_search(int argc, char **argv);
extern const char cmd_search_help[];
int cmd_tune(int argc, char **argv);
extern const char cmd_tune_help[];
int cmd_bench(int argc, char **argv);
extern const char cmd_bench_help[];

/* A trained model as the commands that use one open it: the runtime, the checkpoint's config
 * and job, and the model; for an ensemble's run directory, every member (m is the first). */
typedef struct cmd_model {
    char path[1100]; /* the checkpoint: the argument, or <run dir>/model.safetensors */
    sc_runtime *rt;
    sc_config *cfg;
    sc_job job;
    sc_model *m;
    const sc_task_kind *kind; /* the kind of data it takes */
    sc_model *members[SC_ENSEMBLE_MAX];
    char member_path[SC_ENSEMBLE_MAX][1100]; /* each member's checkpoint (0: path) */
    sc_config *member_cfg[SC_ENSEMBLE_MAX];
    sc_ensemble all; /* the members, or m alone */
} cmd_model;

/* Opens the model that args' first positional argument names (a .safetensors checkpoint or a
 * run directory, whose model.safetensors it opens, or whose member-1 .. member-K for an
 * ensemble) on the device args choose. cmd_model_close releases it, opened or not. */
int cmd_model_open(const cmd_args *args, cmd_model *cm);
void cmd_model_close(cmd_model *cm);
/* Refuses an ensemble for a command that takes one model (embed), naming a member. */
int cmd_model_single(const cmd_model *cm, const char *command);

#endif
