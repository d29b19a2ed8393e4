/* siamcl: train and run Siamese networks on OpenCL devices. */
#include "cmd.h"

#include "siamcl/train.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"train", "train a model from a config file", cmd_train, cmd_train_help},
    {"eval", "evaluate a trained model on its test pairs, beside baselines", cmd_eval,
     cmd_eval_help},
    {"embed", "write the embeddings of inputs as a .npy file", cmd_embed, cmd_embed_help},
    {"score", "score pairs of inputs with a trained model", cmd_score, cmd_score_help},
    {"export", "write a trained model as an ONNX graph", cmd_export, cmd_export_help},
    {"search", "rank a catalog's texts against queries with a text model", cmd_search,
     cmd_search_help},
    {"bench", "time training and inference steps of a model", cmd_bench, cmd_bench_help},
    {"tune", "search CLBlast's GEMM parameters for a model on this device", cmd_tune,
     cmd_tune_help},
    {"devices", "list OpenCL devices and the one a run would use", cmd_devices, cmd_devices_help},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
    fprintf(out, "usage: siamcl COMMAND [ARGS] [--device SPEC] [-o section.key=value]...\n\n"
                 "Siamese neural networks for similarity learning on OpenCL devices.\n\n"
                 "commands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\noptions of every command:\n"
                 "  --device SPEC   auto | gpu | cpu | index | name substring (see devices)\n"
                 "  -o s.k=v        set key k of section [s], overriding the config file\n"
                 "  -h, --help      the command's own help\n"
                 "  --version       siamcl's version (alone, before any command)\n"
                 "\nenvironment:\n"
                 "  SIAMCL_DEVICE      device SPEC when --device is not given\n"
                 "  SIAMCL_KERNEL_DIR  folder of the .cl kernel sources\n"
                 "  SIAMCL_TUNING_DIR  folder of the GEMM tuning files (siamcl tune; default\n"
                 "                     ~/.cache/siamcl/tuning)\n"
                 "\nexit status: 0 success, 1 a failure of the device or the OpenCL runtime,\n"
                 "2 bad input (a file, a config, a device choice), 3 training diverged (a loss\n"
                 "that is not finite), 130 interrupted (train --resume continues).\n"
                 "\n`siamcl help COMMAND` or `siamcl COMMAND --help` describes a command.\n");
}

/* A failed command's one message: the library records errors, and this is where they are said. */
static int report(int rc) {
    if (rc != SC_OK && rc != SC_INTERRUPTED && sc_last_error()[0])
        fprintf(stderr, "siamcl: %s\n", sc_last_error());
    return rc;
}

static const command *find_command(const char *name) {
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return SC_EINPUT;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        return SC_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("siamcl %s\n", SC_VERSION);
        return SC_OK;
    }
    if (!strcmp(name, "help")) {
        const command *c = argc > 2 ? find_command(argv[2]) : NULL;
        if (argc > 2 && !c)
            return report(sc_error(SC_EINPUT, "help: unknown command '%s'", argv[2]));
        if (c)
            fputs(c->help, stdout);
        else
            usage(stdout);
        return SC_OK;
    }
    const command *c = find_command(name);
    if (!c) {
        report(sc_error(SC_EINPUT, "unknown command '%s'", name));
        usage(stderr);
        return SC_EINPUT;
    }
    return report(c->run(argc - 2, argv + 2));
}
