/* Small files of the daemon's own state (lib/file.c). */
#ifndef GFS_FILE_H
#define GFS_FILE_H

#include <stddef.h>

#include "lib/err.h"

/* Writes path atomically: PATH.tmp, then renamed over path. */
int gfs_write_file(const char *path, const void *buf, size_t len, gfs_err *err);
/* Reads a whole small file (at most max bytes, else EFBIG), without
 * blocking on a FIFO; *out NUL-terminated, *len (when not NULL) its
 * length. */
int gfs_read_file(const char *path, size_t max, char **out, size_t *len,
		  gfs_err *err);

#endif
