/* A process's working directory, made when missing.  The child runs this
 * as container root before it becomes the process's user, so every step
 * is on descriptors: each component opened with O_NOFOLLOW|O_DIRECTORY
 * relative to the one before, a missing one made with mkdirat and handed
 * over with fchown on its own descriptor.  Nothing is ever resolved by
 * path twice, and a symlink planted in the path (by a user who owns a
 * directory on it) cannot point root's mkdir and chown somewhere else. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/init/harden.h"

int gfs_path_components(const char *path, char *buf, size_t buflen,
			const char **comps, int max)
{
	size_t len = strlen(path);
	int n = 0;

	if (path[0] != '/')
		return -EINVAL;
	if (len >= buflen)
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf; *p;) {
		while (*p == '/')
			*p++ = '\0';
		if (!*p)
			break;
		char *c = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = '\0';
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return -EINVAL;
		if (n == max)
			return -ENAMETOOLONG;
		comps[n++] = c;
	}
	return n;
}

#define DIR_MAX_DEPTH 128

int init_make_dir(const char *dir, uid_t uid, gid_t gid, gfs_err *err)
{
	char buf[4096];
	const char *comps[DIR_MAX_DEPTH];

	/* already there (however it is reached): nothing to create, and
	 * the chdir as the user decides whether it may go in */
	cleanup_close int there = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (there >= 0)
		return 0;
	int n = gfs_path_components(dir, buf, sizeof buf, comps, DIR_MAX_DEPTH);
	if (n < 0)
		return gfs_error(err, -n,
				 n == -EINVAL
				     ? "dir %s: must be absolute, without .."
				     : "dir %s: too long",
				 dir);
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "opening /");
	int i, e = 0;
	for (i = 0; i < n; i++) {
		bool made = false;
		int next =
		    openat(fd, comps[i],
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(fd, comps[i], 0755) == 0)
				made = true;
			else if (errno != EEXIST) /* a racing mkdir is fine */
				break;
			next = openat(fd, comps[i],
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					  O_CLOEXEC);
		}
		if (next < 0)
			break;
		close(fd);
		fd = next;
		if (made && fchown(fd, uid, gid) < 0) {
			e = errno;
			close(fd);
			return gfs_error_sys(err, e, "dir %s: chown of %s", dir,
					     comps[i]);
		}
	}
	if (i == n) {
		close(fd);
		return 0;
	}
	e = errno;
	/* O_DIRECTORY|O_NOFOLLOW says ENOTDIR for a symlink too: tell them
	 * apart, a symlink is the attack */
	struct stat st;
	bool link = fstatat(fd, comps[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode);
	close(fd);
	if (link)
		return gfs_error(err, ELOOP,
				 "dir %s: %s is a symlink; missing directories "
				 "are only created under real ones",
				 dir, comps[i]);
	if (e == ENOTDIR)
		return gfs_error(err, e, "dir %s: %s is not a directory", dir,
				 comps[i]);
	return gfs_error_sys(err, e, "dir %s: creating %s", dir, comps[i]);
}
