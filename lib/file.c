/* Files of the daemon's own state: atomic writes (a temporary file renamed
 * into place, so a crash leaves the old content or the new, never half)
 * and whole reads of small files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"

int gfs_write_file(const char *path, const void *buf, size_t len, gfs_err *err)
{
	const char *data = buf;
	cleanup_free char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return gfs_error_sys(err, errno, "creating %s", tmp);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return gfs_error_sys(err, e, "writing %s", tmp);
		}
		off += (size_t)w;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return gfs_error_sys(err, e, "renaming %s", tmp);
	}
	return 0;
}

int gfs_read_file(const char *path, size_t max, char **out, size_t *len,
		  gfs_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	sbuf b = SBUF_INIT;
	char chunk[4096];

	if (fd < 0)
		return gfs_error_sys(err, errno, "opening %s", path);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			sbuf_free(&b);
			return gfs_error_sys(err, e, "reading %s", path);
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			sbuf_free(&b);
			return gfs_error(err, EFBIG, "%s is too big", path);
		}
		sbuf_add(&b, chunk, (size_t)r);
	}
	if (len)
		*len = b.len;
	*out = sbuf_steal(&b);
	return 0;
}
