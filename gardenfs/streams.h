/* The pure part of gardenfs/streams.c, for its unit test. */
#ifndef GFS_FRONT_STREAMS_H
#define GFS_FRONT_STREAMS_H

#include "lib/err.h"

/* A write to procs/N/tty: `COLUMNS ROWS`, each 1 to 65535, one space
 * between, nothing else (the front has taken the newline off). */
int gfs_tty_parse(const char *line, int *columns, int *rows, gfs_err *err);

#endif
