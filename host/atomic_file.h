/* Files: atomic replacement for writers, and size and exact reads for readers.
 *
 * Atomic file replacement: a writer fills a temporary file beside the destination, and only a
 * complete, synced file is renamed over it (and the folder synced, so that the rename lasts),
 * so a crash or an error never leaves a half-written file behind and an existing file stays as
 * it was. */
#ifndef SIAMCL_ATOMIC_FILE_H
#define SIAMCL_ATOMIC_FILE_H

#include <stdint.h>
#include <stdio.h>

typedef struct sc_atomic_file {
    FILE *file; /* write the contents here */
    char *path; /* the destination */
    char *tmp;  /* "<path>.tmp.<pid>" */
} sc_atomic_file;

/* Creates the temporary file; SC_EINPUT naming path when it cannot be created (a missing
 * folder, no permission). On failure nothing is left to abort. */
int sc_atomic_open(const char *path, sc_atomic_file *f);

/* Flushes and syncs the temporary file and renames it over the destination; on any failure
 * removes the temporary file, leaves the destination untouched and returns SC_ERR naming
 * path. Either way f is finished: a later sc_atomic_abort does nothing. */
int sc_atomic_commit(sc_atomic_file *f);

/* Closes and removes the temporary file; the destination is untouched. */
void sc_atomic_abort(sc_atomic_file *f);

/* Readers' helpers: the size of an open regular file (anything else is SC_EINPUT naming path),
 * and exactly n bytes from it (a short read is SC_EINPUT). */
int sc_file_size(FILE *f, const char *path, uint64_t *size);
int sc_read_exact(FILE *f, const char *path, void *buf, size_t n);

#endif
