#include "atomic_file.h"
#include "siamcl/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Closes and frees everything, removing the temporary file if asked. */
static void finish(sc_atomic_file *f, int remove_tmp) {
    if (f->file) fclose(f->file);
    if (remove_tmp && f->tmp) unlink(f->tmp);
    free(f->tmp);
    free(f->path);
    memset(f, 0, sizeof *f);
}

int sc_atomic_open(const char *path, sc_atomic_file *f) {
    memset(f, 0, sizeof *f);
    size_t n = strlen(path) + 32;
    f->path = strdup(path);
    f->tmp = malloc(n);
    if (!f->path || !f->tmp) {
        finish(f, 0);
        return sc_error(SC_ERR, "out of memory");
    }
    snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    f->file = fopen(f->tmp, "wb");
    if (!f->file) {
        int rc = sc_error(SC_EINPUT, "cannot write %s: %s", path, strerror(errno));
        finish(f, 0);
        return rc;
    }
    return SC_OK;
}

/* Syncs the folder that holds path, so that a rename in it survives a power cut. */
static const char *sync_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return strerror(errno);
    /* some file systems cannot sync a folder (EINVAL): the rename is then as durable as they
     * make it */
    const char *why = fsync(fd) != 0 && errno != EINVAL ? strerror(errno) : NULL;
    close(fd);
    return why;
}

int sc_atomic_commit(sc_atomic_file *f) {
    const char *why = NULL;
    if (ferror(f->file))
        why = errno ? strerror(errno) : "write error"; /* the failed write's reason */
    else if (fflush(f->file) != 0 || fsync(fileno(f->file)) != 0)
        why = strerror(errno);
    if (fclose(f->file) != 0 && !why) why = strerror(errno);
    f->file = NULL;
    if (!why && rename(f->tmp, f->path) != 0) why = strerror(errno);
    if (!why) why = sync_dir(f->path);
    int rc = why ? sc_error(SC_ERR, "cannot write %s: %s", f->path, why) : SC_OK;
    finish(f, why != NULL);
    return rc;
}

void sc_atomic_abort(sc_atomic_file *f) {
    finish(f, 1);
}

int sc_file_size(FILE *f, const char *path, uint64_t *size) {
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) return sc_error(SC_EINPUT, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return sc_error(SC_EINPUT, "%s: not a regular file", path);
    *size = (uint64_t)sb.st_size;
    return SC_OK;
}

int sc_read_exact(FILE *f, const char *path, void *buf, size_t n) {
    if (n > 0 && fread(buf, 1, n, f) != n) return sc_error(SC_EINPUT, "%s: read error", path);
    return SC_OK;
}
