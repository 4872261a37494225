/* Images as overlay lower dirs.  A directory is used in place by
 * privileged containers.  An unprivileged container's user namespace maps
 * container root to id_base, so it gets a copy with every owner shifted by
 * id_base (root-owned files then show as root inside); one copy per image,
 * cached under DEPOT/images and made in a temporary directory that is
 * renamed into place, so no create ever sees half a copy. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <pthread.h>

#include "lib/buf.h"
#include "runtime/image.h"
#include "runtime/rt_priv.h"

struct shift {
	uid_t base;
	uint32_t count;
};

static uint32_t shifted(const struct shift *s, uint32_t id)
{
	/* ids outside the map become the container's nobody */
	if (id >= s->count)
		id = s->count > 65534 ? 65534 : 0;
	return s->base + id;
}

static int copy_data(int in, int out)
{
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
		    errno != EOPNOTSUPP)
			return -errno;
		break;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				return -errno;
			if (w > 0)
				off += w;
		}
	}
}

static int copy_tree(int sfd, int dfd, const struct shift *sh, int depth,
		     gfs_err *err);

static int copy_entry(int sfd, int dfd, const char *name,
		      const struct shift *sh, int depth, gfs_err *err)
{
	struct stat st;
	int r = 0;

	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return gfs_error_sys(err, errno, "stat %s", name);
	uid_t uid = shifted(sh, st.st_uid);
	gid_t gid = shifted(sh, st.st_gid);
	mode_t mode = st.st_mode & 07777;

	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (mkdirat(dfd, name, 0700) < 0)
			return gfs_error_sys(err, errno, "mkdir %s", name);
		cleanup_close int s2 = openat(
		    sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		cleanup_close int d2 = openat(
		    dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0 || d2 < 0)
			return gfs_error_sys(err, errno, "opening %s", name);
		r = copy_tree(s2, d2, sh, depth + 1, err);
		if (r < 0)
			return gfs_error_wrap(err, "%s", name);
		if (fchown(d2, uid, gid) < 0 || fchmod(d2, mode) < 0)
			return gfs_error_sys(err, errno, "chown/chmod %s",
					     name);
		break;
	}
	case S_IFREG: {
		cleanup_close int in =
		    openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return gfs_error_sys(err, errno, "opening %s", name);
		cleanup_close int out = openat(
		    dfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return gfs_error_sys(err, errno, "creating %s", name);
		r = copy_data(in, out);
		if (r < 0)
			return gfs_error_sys(err, -r, "copying %s", name);
		/* chmod after chown: chown clears setuid and setgid */
		if (fchown(out, uid, gid) < 0 || fchmod(out, mode) < 0)
			return gfs_error_sys(err, errno, "chown/chmod %s",
					     name);
		break;
	}
	case S_IFLNK: {
		char target[4096];
		ssize_t n = readlinkat(sfd, name, target, sizeof target - 1);
		if (n < 0)
			return gfs_error_sys(err, errno, "readlink %s", name);
		target[n] = '\0';
		if (symlinkat(target, dfd, name) < 0 ||
		    fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return gfs_error_sys(err, errno, "symlink %s", name);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		if (mknodat(dfd, name, st.st_mode, st.st_rdev) < 0 ||
		    fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dfd, name, mode, 0) < 0)
			return gfs_error_sys(err, errno, "mknod %s", name);
		break;
	default:
		return 0; /* sockets mean nothing in an image */
	}
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int copy_tree(int sfd, int dfd, const struct shift *sh, int depth,
		     gfs_err *err)
{
	if (depth > 256)
		return gfs_error(err, ELOOP, "image tree too deep");
	int fd = dup(sfd);
	if (fd < 0)
		return gfs_error_sys(err, errno, "dup");
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return gfs_error_sys(err, errno, "opendir");
	}
	rewinddir(d);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		r = copy_entry(sfd, dfd, de->d_name, sh, depth, err);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

/* The shifted copy of dir (made once) under cache. */
static int shifted_copy(const char *dir, const struct stat *st,
			const char *cache, uid_t base, uint32_t count,
			char **out, gfs_err *err)
{
	static unsigned seq;
	struct shift sh = {base, count};
	uint64_t h = 14695981039346656037ULL;

	/* keyed by where it is and when it last changed */
	h = fnv(h, dir, strlen(dir));
	h = fnv(h, &st->st_dev, sizeof st->st_dev);
	h = fnv(h, &st->st_ino, sizeof st->st_ino);
	h = fnv(h, &st->st_mtim, sizeof st->st_mtim);
	h = fnv(h, &st->st_ctim, sizeof st->st_ctim);
	h = fnv(h, &base, sizeof base);
	h = fnv(h, &count, sizeof count);
	cleanup_free char *name =
	    xasprintf("shift-%016llx", (unsigned long long)h);
	cleanup_free char *final = xasprintf("%s/%s", cache, name);
	if (access(final, F_OK) == 0) {
		*out = steal_ptr(final);
		return 0;
	}
	cleanup_free char *tmpname =
	    xasprintf(".tmp-%s-%d-%u", name, (int)getpid(),
		      __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
	cleanup_close int cfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int sfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0 || sfd < 0)
		return gfs_error_sys(err, errno, "opening %s or %s", cache,
				     dir);
	if (mkdirat(cfd, tmpname, 0700) < 0)
		return gfs_error_sys(err, errno, "mkdir %s/%s", cache, tmpname);
	cleanup_close int dfd =
	    openat(cfd, tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = dfd < 0 ? gfs_error_sys(err, errno, "opening %s", tmpname)
			: copy_tree(sfd, dfd, &sh, 0, err);
	if (r == 0 && (fchown(dfd, shifted(&sh, st->st_uid),
			      shifted(&sh, st->st_gid)) < 0 ||
		       fchmod(dfd, st->st_mode & 07777) < 0))
		r = gfs_error_sys(err, errno, "chown %s", tmpname);
	if (r == 0 && renameat(cfd, tmpname, cfd, name) < 0) {
		/* someone else made it first: theirs is as good */
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = gfs_error_sys(err, errno, "renaming %s", tmpname);
		rt_rm_tree_at(cfd, tmpname);
	} else if (r < 0) {
		rt_rm_tree_at(cfd, tmpname);
		return gfs_error_wrap(err, "copying image %s", dir);
	}
	if (r < 0)
		return r;
	*out = steal_ptr(final);
	return 0;
}

void rt_image_free(struct rt_image *img)
{
	free(img->lower);
	gfs_strv_free(img->env);
	free(img->workdir);
	free(img->user);
	memset(img, 0, sizeof *img);
}

static int prepare(const char *spec, const char *cache, bool shift, uid_t base,
		   uint32_t count, struct rt_image *out, gfs_err *err)
{
	struct stat st;
	cleanup_free char *dir = NULL;
	int r;

	memset(out, 0, sizeof out[0]);
	if (!spec || !*spec)
		return gfs_error(err, EINVAL, "no image given");
	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
		dir = realpath(spec, NULL);
		if (!dir)
			return gfs_error_sys(err, errno, "image %s", spec);
		out->env = xcalloc(1, sizeof(char *));
	} else {
		r = rt_image_unpack(spec, cache, &dir, out, err);
		if (r < 0)
			return r;
		if (!out->env)
			out->env = xcalloc(1, sizeof(char *));
		if (stat(dir, &st) < 0) {
			r = gfs_error_sys(err, errno, "image %s", dir);
			rt_image_free(out);
			return r;
		}
	}
	if (!shift) {
		out->lower = steal_ptr(dir);
		return 0;
	}
	r = shifted_copy(dir, &st, cache, base, count, &out->lower, err);
	if (r < 0) {
		rt_image_free(out);
		return r;
	}
	return 0;
}

/* Creates run on worker threads.  Two of the same image wait for each
 * other (the second then finds the cache made); creates of other images
 * never wait behind a slow unpack. */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cond = PTHREAD_COND_INITIALIZER;
static char **busy;
static size_t nbusy;

static bool is_busy(const char *key)
{
	for (size_t i = 0; i < nbusy; i++)
		if (strcmp(busy[i], key) == 0)
			return true;
	return false;
}

int rt_image_prepare(const char *spec, const char *cache, bool shift,
		     uid_t base, uint32_t count, struct rt_image *out,
		     gfs_err *err)
{
	cleanup_free char *key = xasprintf("%d:%s", shift, spec ? spec : "");
	pthread_mutex_lock(&busy_lock);
	while (is_busy(key))
		pthread_cond_wait(&busy_cond, &busy_lock);
	busy = xrealloc(busy, (nbusy + 1) * sizeof *busy);
	busy[nbusy++] = key;
	pthread_mutex_unlock(&busy_lock);

	int r = prepare(spec, cache, shift, base, count, out, err);

	pthread_mutex_lock(&busy_lock);
	for (size_t i = 0; i < nbusy; i++)
		if (busy[i] == key) {
			busy[i] = busy[--nbusy];
			break;
		}
	pthread_cond_broadcast(&busy_cond);
	pthread_mutex_unlock(&busy_lock);
	return r;
}
