#include "run_dir.h"
#include "atomic_file.h"
#include "siamcl/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_dirs(const char *dir) {
    char path[1024];
    if (!*dir) return sc_error(SC_EINPUT, "an empty run directory name");
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return sc_error(SC_EINPUT, "cannot create %s: %s", path, strerror(errno));
        if (!c) return SC_OK;
        *p = c;
    }
}

/* dir/.lock, locked; it holds the holder's pid, for the message another process gives. */
static int take_lock(const char *dir, sc_run_dir *d) {
    char path[1100], pid[32] = "";
    snprintf(path, sizeof path, "%s/.lock", dir);
    d->lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->lock < 0) return sc_error(SC_EINPUT, "cannot write %s: %s", path, strerror(errno));
    if (flock(d->lock, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = read(d->lock, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(d->lock);
        d->lock = -1;
        return sc_error(SC_EINPUT,
                        "%s: another siamcl train (pid %s) is using this run directory; wait "
                        "for it, or give this run another [output] dir",
                        dir, *pid ? pid : "unknown");
    }
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(d->lock, 0) != 0 || pwrite(d->lock, pid, strlen(pid), 0) < 0)
        return sc_error(SC_EINPUT, "cannot write %s: %s", path, strerror(errno));
    return SC_OK;
}

/* Removes the temporary files (atomic_file.h's "<name>.tmp.<pid>") that a killed writer left:
 * with the lock held, no other process is writing here. */
static void remove_leftovers(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strstr(e->d_name, ".tmp.")) continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int sc_run_dir_open(const char *dir, sc_run_dir *d) {
    d->lock = -1;
    SC_TRY(make_dirs(dir));
    SC_TRY(take_lock(dir, d));
    remove_leftovers(dir);
    return SC_OK;
}

void sc_run_dir_close(sc_run_dir *d) {
    if (d->lock >= 0) close(d->lock); /* closing drops the lock */
    d->lock = -1;
}

int sc_history_reopen(const char *path, int epochs, FILE **out) {
    FILE *in = fopen(path, "r");
    if (!in) return sc_error(SC_EINPUT, "cannot read %s: %s", path, strerror(errno));
    sc_atomic_file f;
    int rc = sc_atomic_open(path, &f);
    char line[4096];
    for (int row = 0; rc == SC_OK && fgets(line, sizeof line, in); row++)
        if (row == 0 || atoi(line) <= epochs) fputs(line, f.file);
    fclose(in);
    if (rc == SC_OK) rc = sc_atomic_commit(&f);
    if (rc == SC_OK && !(*out = fopen(path, "a")))
        rc = sc_error(SC_EINPUT, "cannot write %s: %s", path, strerror(errno));
    return rc;
}

int sc_run_dir_write_config(const char *dir, const sc_config *cfg) {
    char path[1100];
    sc_atomic_file f;
    snprintf(path, sizeof path, "%s/config.ini", dir);
    SC_TRY(sc_atomic_open(path, &f));
    int rc = sc_config_write(cfg, f.file);
    if (rc != SC_OK) {
        sc_atomic_abort(&f);
        return rc;
    }
    return sc_atomic_commit(&f);
}
