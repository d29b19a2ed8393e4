/* Prints siamcl's features of each line of stdin as "bucket:weight ..." (one line per text),
 * by the [features] of CONFIG: what tools/siamcl_features.py must print too
 * (tests/onnx_test.sh compares them).
 * usage: features_dump CONFIG.ini < texts.txt */
#include "siamcl/config.h"
#include "siamcl/error.h"
#include "siamcl/features.h"
#include "siamcl/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    sc_config *cfg = NULL;
    sc_job job;
    if (argc != 2) return fprintf(stderr, "usage: features_dump CONFIG.ini < texts.txt\n"), 2;
    int rc = sc_config_load(argv[1], &cfg);
    if (rc == SC_OK) rc = sc_job_read(cfg, &job);
    char line[4096];
    while (rc == SC_OK && fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *texts[1] = {line};
        sc_csr row;
        rc = sc_featurize(&job.data.features, texts, 1, &row);
        for (uint32_t k = 0; rc == SC_OK && k < row.nnz; k++)
            printf("%s%u:%.6g", k ? " " : "", row.indices[k], (double)row.values[k]);
        printf("\n");
        if (rc == SC_OK) sc_csr_free(&row);
    }
    if (rc != SC_OK) fprintf(stderr, "features_dump: %s\n", sc_last_error());
    sc_config_free(cfg);
    return rc;
}
