#include "cmd.h"

#include <stdlib.h>

const char cmd_devices_help[] =
    "usage: siamcl devices [CONFIG] [--device SPEC] [-o section.key=value]\n"
    "\n"
    "Lists every OpenCL platform and device with its index, type, memory and compute units,\n"
    "and marks with '*' the device a run would use: --device, else SIAMCL_DEVICE, else the\n"
    "config's [device] select, else auto (the fastest GPU, else a CPU, else the first device).\n"
    "\n"
    "SPEC: auto | gpu | cpu | an index from this table | a substring of a device or platform\n"
    "name (case-insensitive).\n";

int cmd_devices(int argc, char **argv) {
    cmd_args args;
    SC_TRY(cmd_parse(argc, argv, "devices", cmd_devices_help, NULL, &args));
    if (args.help) return SC_OK;
    if (args.npositional > 1) return sc_error(SC_EINPUT, "devices: at most one CONFIG argument");
    sc_config *cfg;
    SC_TRY(cmd_load_config(&args, args.npositional ? args.positional[0] : NULL, &cfg));
    sc_device_desc *devs = NULL;
    int n = 0, chosen = -1;
    const char *spec;
    int rc = cmd_device_spec(&args, cfg, &spec);
    if (rc == SC_OK) rc = sc_devices_list(&devs, &n);
    if (rc == SC_OK) rc = sc_device_select(devs, n, spec, &chosen);
    if (rc == SC_OK) {
        sc_devices_print(stdout, devs, n, chosen);
        printf("\n* = chosen by '%s'\n", spec);
    }
    free(devs);
    sc_config_free(cfg);
    return rc;
}
