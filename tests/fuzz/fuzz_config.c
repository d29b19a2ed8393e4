/* libFuzzer harness: INI configs with their whole validation, sc_config_parse then sc_job_read
 * (every section's reader, and the check for unread keys). The input is the INI text, then
 * after each NUL byte a command-line override (sc_config_override, "section.key=value"). A
 * config that parses also goes through sc_config_write and back, as checkpoints store it: the
 * text written must parse to the same config, which the job reader judges the same.
 *
 * clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 *   -fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror -Iinclude -Ihost \
 *   -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 -DCL_USE_DEPRECATED_OPENCL_1_2_APIS \
 *   tests/fuzz/fuzz_config.c host/config.c host/job.c host/job_model.c host/job_train.c \
 *   host/csv.c host/features.c host/csr.c host/model_config.c host/elementwise.c host/loss.c \
 *   host/optim.c host/runtime.c host/device.c host/error.c -linih -lclblast -lOpenCL -lm -o \
 *   build-fuzz/fuzz_config
 */
#include "fuzz_util.h"

#include "siamcl/config.h"
#include "siamcl/error.h"
#include "siamcl/job.h"

#include <stdint.h>

/* The config as sc_config_write prints it, in a new string. */
static char *written(const sc_config *cfg) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) abort();
    FUZZ_ASSERT(sc_config_write(cfg, f) == SC_OK);
    if (fclose(f) != 0) abort();
    return text;
}

static int job_status(sc_config *cfg) {
    sc_job job;
    int rc = sc_job_read(cfg, &job);
    if (rc == SC_OK) {
        FUZZ_ASSERT(job.train.batch_size >= 1 && job.train.epochs >= 1);
        FUZZ_ASSERT(job.model.nlayers >= 1 && job.model.nlayers <= SC_MAX_LAYERS);
        FUZZ_ASSERT(job.data.format != SC_DATA_CSV || sc_buckets_valid(job.data.features.buckets));
        FUZZ_ASSERT(job.data.path && job.out_dir[0]);
    } else {
        FUZZ_ASSERT(rc == SC_EINPUT && sc_last_error()[0]);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    sc_config *cfg = (sc_config *)1;
    int rc = sc_config_parse(text, "fuzz.ini", &cfg);
    if (rc != SC_OK) {
        FUZZ_ASSERT(rc == SC_EINPUT && !cfg && sc_last_error()[0]);
        free(text);
        return 0;
    }
    for (size_t i = strlen(text) + 1; i < size; i += strlen(text + i) + 1) {
        rc = sc_config_override(cfg, text + i);
        FUZZ_ASSERT(rc == SC_OK || (rc == SC_EINPUT && sc_last_error()[0]));
    }
    free(text);

    char *once = written(cfg);
    sc_config *again;
    rc = sc_config_parse(once, "fuzz.ini (written)", &again);
    if (rc != SC_OK) {
        fprintf(stderr, "the written config does not parse: %s\n%s", sc_last_error(), once);
        abort();
    }
    char *twice = written(again);
    if (strcmp(once, twice)) {
        fprintf(stderr, "the written config reads back another:\n%s\n---\n%s", once, twice);
        abort();
    }
    free(once);
    free(twice);
    FUZZ_ASSERT(job_status(cfg) == job_status(again));
    sc_config_free(again);
    sc_config_free(cfg);
    return 0;
}
