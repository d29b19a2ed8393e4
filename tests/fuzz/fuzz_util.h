/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): the readers under test take paths,
 * so each execution writes its input to a file in a directory of this process's own (on
 * /dev/shm when there is one, so that the writes cost little), removed at exit. */
#ifndef SIAMCL_FUZZ_UTIL_H
#define SIAMCL_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FUZZ_MAX_FILES = 8 };

static char fuzz_dir[256];
static char fuzz_files[FUZZ_MAX_FILES][320];
static int fuzz_nfiles;

static inline void fuzz_cleanup(void) {
    for (int i = 0; i < fuzz_nfiles; i++) unlink(fuzz_files[i]);
    if (fuzz_dir[0]) rmdir(fuzz_dir);
}

/* The path of file name in this process's directory, created on first use. */
static inline const char *fuzz_path(const char *name) {
    if (!fuzz_dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/siamcl_fuzz_XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    for (int i = 0; i < fuzz_nfiles; i++) {
        const char *slash = strrchr(fuzz_files[i], '/');
        if (!strcmp(slash + 1, name)) return fuzz_files[i];
    }
    if (fuzz_nfiles == FUZZ_MAX_FILES) abort();
    snprintf(fuzz_files[fuzz_nfiles], sizeof fuzz_files[0], "%s/%s", fuzz_dir, name);
    return fuzz_files[fuzz_nfiles++];
}

/* Replaces the file name with n bytes; its path. */
static inline const char *fuzz_write(const char *name, const void *data, size_t n) {
    const char *path = fuzz_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror("fuzz: writing the input");
        abort();
    }
    return path;
}

/* Stops with a message libFuzzer reports as a crash: a property of the output failed. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
