/* A run directory while one training process owns it: created, locked against a second
 * process (an advisory lock the system drops when its holder dies, so a killed run never
 * blocks its resume), and cleared of the temporary files a killed writer left. */
#ifndef SIAMCL_RUN_DIR_H
#define SIAMCL_RUN_DIR_H

#include "siamcl/config.h"

#include <stdio.h>

typedef struct sc_run_dir {
    int lock; /* the open lock file, -1 when not held */
} sc_run_dir;

/* Creates dir (and its parents), takes its lock, removes its leftover temporary files. A lock
 * held by another process is SC_EINPUT naming it. */
int sc_run_dir_open(const char *dir, sc_run_dir *d);
void sc_run_dir_close(sc_run_dir *d);

/* Writes cfg to dir/config.ini, atomically. */
int sc_run_dir_write_config(const char *dir, const sc_config *cfg);

/* A resumed run's history.csv: its header and the rows of epochs 1 .. epochs (rows of an
 * epoch whose state was never saved go), reopened for appending. */
int sc_history_reopen(const char *path, int epochs, FILE **out);

#endif
