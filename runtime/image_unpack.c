/* Unpacking tarballs and OCI image layouts into the image cache.
 *
 * A tree is built in a hidden temporary directory of the cache (a btrfs
 * subvolume when the cache is on btrfs, so that it can be snapshotted
 * later) and renamed to its content key when complete: no container ever
 * sees half an image, and a refused image leaves nothing behind.
 *
 * Keys: a tarball's is the sha256 of its bytes, hashed while it is read
 * (one pass); a small symlink .key-<stat hash> -> <sha256> remembers it, so
 * a later create from the same unchanged file opens nothing.  An OCI
 * image's key is its manifest's digest, which names every layer.
 *
 * Entries are made with *at() calls relative to the tree, never by
 * joining strings: names that are absolute or hold "..", parents that are
 * symlinks, hard links to outside the tree, and device nodes (unless
 * allowed) are refused with EINVAL and the entry's name. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/buf.h"
#include "quota/quota.h"
#include "runtime/image_names.h"
#include "runtime/image_unpack.h"
#include "runtime/rt_priv.h"
#include "runtime/sha256.h"

/* index.json, manifests and configs are small; a bigger one is hostile */
#define MAX_JSON (4 << 20)
#define REF_NAME "org.opencontainers.image.ref.name"

#if defined(__x86_64__)
#define OCI_ARCH "amd64"
#elif defined(__aarch64__)
#define OCI_ARCH "arm64"
#elif defined(__i386__)
#define OCI_ARCH "386"
#else
#define OCI_ARCH ""
#endif

/* The paths one OCI layer has made: its whiteouts hide lower layers'
 * files, never its own.  Open addressing; cap is a power of two. */
struct strset {
	char **v;
	size_t n, cap;
};

static size_t str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static bool strset_has(const struct strset *s, const char *k)
{
	if (!s->cap)
		return false;
	for (size_t i = str_hash(k) & (s->cap - 1); s->v[i];
	     i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->v[i], k))
			return true;
	return false;
}

static void strset_add(struct strset *s, const char *k)
{
	if (strset_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct strset g = {
		    xcalloc(s->cap ? s->cap * 2 : 64, sizeof(char *)), 0,
		    s->cap ? s->cap * 2 : 64};
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i]) {
				size_t j = str_hash(s->v[i]) & (g.cap - 1);
				while (g.v[j])
					j = (j + 1) & (g.cap - 1);
				g.v[j] = s->v[i];
				g.n++;
			}
		free(s->v);
		*s = g;
	}
	size_t i = str_hash(k) & (s->cap - 1);
	while (s->v[i])
		i = (i + 1) & (s->cap - 1);
	s->v[i] = xstrdup(k);
	s->n++;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

struct unpacker {
	int root;	    /* the tree being built */
	bool allow_devices; /* privileged: make device nodes */
	bool saw_devices;   /* and some were made */
	bool oci;	    /* entries are layer entries: whiteouts apply */
	struct strset made; /* OCI: this layer's paths */
	uint64_t entries;
};

static int sys_openat2(int dirfd, const char *path, uint64_t flags,
		       uint64_t resolve)
{
	struct open_how how = {.flags = flags, .resolve = resolve};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Opens directory path (clean, relative) of the tree, making missing
 * directories when create.  Symlinks and non-directories on the way are
 * refused: a well-formed image never writes through them, and a hostile
 * one uses them to escape. */
static int open_dir(struct unpacker *u, const char *path, bool create,
		    const char *entry, gfs_err *err)
{
	if (!*path) {
		int fd = fcntl(u->root, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? gfs_error_sys(err, errno, "dup") : fd;
	}
	int fd = sys_openat2(u->root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				 RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR || errno == EXDEV)
		return gfs_error(err, EINVAL,
				 "entry %s: %s is a symlink or not a directory",
				 entry, path);
	if (errno != ENOENT && errno != ENOSYS)
		return gfs_error_sys(err, errno, "entry %s: opening %s", entry,
				     path);
	/* missing parents (or no openat2): one component at a time */
	cleanup_free char *copy = xstrdup(path);
	int cur = fcntl(u->root, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return gfs_error_sys(err, errno, "dup");
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (create && mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(cur);
			return gfs_error_sys(err, e, "entry %s: mkdir %s",
					     entry, c);
		}
		int next = openat(
		    cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(cur);
		if (next < 0 && (e == ELOOP || e == ENOTDIR))
			return gfs_error(
			    err, EINVAL,
			    "entry %s: %s is a symlink or not a directory",
			    entry, path);
		if (next < 0)
			return gfs_error_sys(err, e, "entry %s: opening %s",
					     entry, path);
		cur = next;
	}
	return cur;
}

static int owner(struct archive_entry *e, const char *entry, uid_t *uid,
		 gid_t *gid, gfs_err *err)
{
	int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);
	if (u < 0 || u >= UINT32_MAX || g < 0 || g >= UINT32_MAX)
		return gfs_error(err, EINVAL, "entry %s: bad owner %lld:%lld",
				 entry, (long long)u, (long long)g);
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* Owner, then mode (a chown clears setuid bits), then extended attributes
 * (a chown clears file capabilities). */
static int set_meta(int fd, struct archive_entry *e, const char *entry,
		    gfs_err *err)
{
	uid_t uid;
	gid_t gid;
	if (owner(e, entry, &uid, &gid, err) < 0)
		return -EINVAL;
	if (fchown(fd, uid, gid) < 0 ||
	    fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return gfs_error_sys(err, errno, "entry %s: chown/chmod",
				     entry);
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) ==
	       ARCHIVE_OK) {
		/* attributes this file system cannot keep are dropped, as
		 * tar does; anything else is an error */
		if (fsetxattr(fd, name, value, size, 0) < 0 &&
		    errno != ENOTSUP && errno != EPERM)
			return gfs_error_sys(err, errno, "entry %s: xattr %s",
					     entry, name);
	}
	return 0;
}

static void set_times(int dfd, const char *name, struct archive_entry *e)
{
	struct timespec ts[2];
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	ts[0] = ts[1];
	utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int no_space(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

static int write_file(struct unpacker *u, struct archive *a,
		      struct archive_entry *e, int pfd, const char *base,
		      const char *entry, gfs_err *err)
{
	(void)u;
	cleanup_close int fd =
	    openat(pfd, base,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return gfs_error_sys(err, errno, "entry %s: creating", entry);
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return gfs_error(err, EINVAL, "entry %s: %s", entry,
					 archive_error_string(a));
		/* blocks come with offsets: holes of sparse files stay holes */
		for (size_t done = 0; done < size;) {
			ssize_t w = pwrite(fd, (const char *)buf + done,
					   size - done, off + (off_t)done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && no_space(errno))
				return gfs_error(err, ENOSPC,
						 "entry %s: no space left for "
						 "the image",
						 entry);
			if (w < 0)
				return gfs_error_sys(
				    err, errno, "entry %s: writing", entry);
			done += (size_t)w;
		}
	}
	if (archive_entry_size_is_set(e) &&
	    ftruncate(fd, archive_entry_size(e)) < 0)
		return gfs_error_sys(err, no_space(errno) ? ENOSPC : errno,
				     "entry %s: sizing", entry);
	int r = set_meta(fd, e, entry, err);
	if (r < 0)
		return r;
	struct timespec ts[2];
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	ts[0] = ts[1];
	futimens(fd, ts);
	return 0;
}

static int make_hardlink(struct unpacker *u, int pfd, const char *base,
			 const char *target, const char *entry, gfs_err *err)
{
	char t[PATH_MAX];
	if (rt_name_clean(target, t, sizeof t) < 0 || !*t)
		return gfs_error(err, EINVAL,
				 "entry %s: hard link to %s, outside the image",
				 entry, target);
	char *slash = strrchr(t, '/');
	const char *tbase = slash ? slash + 1 : t;
	if (slash)
		*slash = '\0';
	int tfd = open_dir(u, slash ? t : "", false, entry, err);
	if (tfd == -ENOENT)
		return gfs_error(err, EINVAL,
				 "entry %s: hard link to missing %s", entry,
				 target);
	if (tfd < 0)
		return tfd;
	int r = linkat(tfd, tbase, pfd, base, 0);
	int e = errno;
	close(tfd);
	if (r == 0)
		return 0;
	if (e == ENOENT || e == EPERM)
		return gfs_error(err, EINVAL,
				 "entry %s: hard link to missing or to a "
				 "directory %s",
				 entry, target);
	return gfs_error_sys(err, no_space(e) ? ENOSPC : e, "entry %s: linking",
			     entry);
}

/* Empties directory fd (path dir in the tree) of what lower layers put
 * there. */
static int make_opaque(struct unpacker *u, int fd, const char *dir)
{
	int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = d2 < 0 ? NULL : fdopendir(d2);
	if (!d) {
		if (d2 >= 0)
			close(d2);
		return -errno;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *p = *dir
					   ? xasprintf("%s/%s", dir, de->d_name)
					   : xstrdup(de->d_name);
		if (!strset_has(&u->made, p)) {
			int k = rt_rm_tree_at(fd, de->d_name);
			if (k < 0 && k != -ENOENT)
				r = k;
		}
	}
	closedir(d);
	return r;
}

static int apply_whiteout(struct unpacker *u, const char *parent,
			  const char *base, const char *entry, gfs_err *err)
{
	const char *target = NULL;
	enum rt_whiteout kind = rt_whiteout_kind(base, &target);
	if (kind == RT_WH_BAD)
		return gfs_error(err, EINVAL, "entry %s: a bad whiteout",
				 entry);
	cleanup_close int pfd =
	    open_dir(u, parent, kind == RT_WH_OPAQUE, entry, err);
	if (pfd == -ENOENT)
		return 0; /* nothing below to hide */
	if (pfd < 0)
		return pfd;
	if (kind == RT_WH_OPAQUE) {
		int r = make_opaque(u, pfd, parent);
		return r < 0 ? gfs_error_sys(err, -r, "entry %s", entry) : 0;
	}
	cleanup_free char *p =
	    *parent ? xasprintf("%s/%s", parent, target) : xstrdup(target);
	if (strset_has(&u->made, p))
		return 0;
	int r = rt_rm_tree_at(pfd, target);
	if (r < 0 && r != -ENOENT)
		return gfs_error_sys(err, -r, "entry %s: deleting %s", entry,
				     p);
	return 0;
}

static int apply_entry(struct unpacker *u, struct archive *a,
		       struct archive_entry *e, gfs_err *err)
{
	const char *entry = archive_entry_pathname(e);
	char path[PATH_MAX];
	int r;

	if (!entry)
		return gfs_error(err, EINVAL, "an entry with no readable name");
	if (rt_name_clean(entry, path, sizeof path) < 0)
		return gfs_error(err, EINVAL,
				 "entry %s: absolute or with `..`: refused",
				 entry);
	u->entries++;
	mode_t type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	if (!*path) {
		/* the root itself: only its owner and mode */
		if (type != AE_IFDIR || hl)
			return gfs_error(err, EINVAL,
					 "entry %s: the root must be a "
					 "directory",
					 entry);
		return set_meta(u->root, e, entry, err);
	}
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	cleanup_free char *parent =
	    slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");

	if (u->oci && rt_whiteout_kind(base, NULL) != RT_WH_NONE)
		return apply_whiteout(u, parent, base, entry, err);
	if (!hl && (type == AE_IFCHR || type == AE_IFBLK) && !u->allow_devices)
		return gfs_error(err, EINVAL,
				 "entry %s: a device node, refused outside "
				 "privileged containers",
				 entry);

	cleanup_close int pfd = open_dir(u, parent, true, entry, err);
	if (pfd < 0)
		return pfd;
	struct stat st;
	bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	/* a later entry (or layer) replaces an earlier one, except that
	 * directories merge */
	if (exists && !(type == AE_IFDIR && !hl && S_ISDIR(st.st_mode))) {
		r = rt_rm_tree_at(pfd, base);
		if (r < 0)
			return gfs_error_sys(err, -r, "entry %s: replacing",
					     entry);
		exists = false;
	}
	if (hl) {
		r = make_hardlink(u, pfd, base, hl, entry, err);
	} else if (type == AE_IFDIR) {
		if (!exists && mkdirat(pfd, base, 0700) < 0)
			return gfs_error_sys(err,
					     no_space(errno) ? ENOSPC : errno,
					     "entry %s: mkdir", entry);
		cleanup_close int fd = openat(
		    pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return gfs_error_sys(err, errno, "entry %s", entry);
		/* times are not kept: entries below change them anyway */
		r = set_meta(fd, e, entry, err);
	} else if (type == AE_IFREG) {
		r = write_file(u, a, e, pfd, base, entry, err);
	} else if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		uid_t uid;
		gid_t gid;
		if (!target || !*target)
			return gfs_error(err, EINVAL,
					 "entry %s: symlink with no target",
					 entry);
		if (owner(e, entry, &uid, &gid, err) < 0)
			return -EINVAL;
		/* the target is kept as it is: it is only ever followed
		 * inside the container's root */
		if (symlinkat(target, pfd, base) < 0 ||
		    fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return gfs_error_sys(err,
					     no_space(errno) ? ENOSPC : errno,
					     "entry %s: symlink", entry);
		set_times(pfd, base, e);
		r = 0;
	} else if (type == AE_IFIFO || type == AE_IFCHR || type == AE_IFBLK) {
		if (mknodat(pfd, base, type | 0600, archive_entry_rdev(e)) < 0)
			return gfs_error_sys(err,
					     no_space(errno) ? ENOSPC : errno,
					     "entry %s: mknod", entry);
		if (type != AE_IFIFO)
			u->saw_devices = true;
		cleanup_close int fd =
		    openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		uid_t uid;
		gid_t gid;
		if (owner(e, entry, &uid, &gid, err) < 0)
			return -EINVAL;
		/* O_PATH: opening a fifo for real would block */
		if (fd < 0 || fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ||
		    fchmodat(pfd, base, archive_entry_perm(e) & 07777, 0) < 0)
			return gfs_error_sys(err, errno,
					     "entry %s: chown/chmod", entry);
		set_times(pfd, base, e);
		r = 0;
	} else if (type == AE_IFSOCK) {
		return 0; /* sockets mean nothing in an image */
	} else {
		return gfs_error(err, EINVAL, "entry %s: unknown type %o",
				 entry, (unsigned)type);
	}
	if (r < 0)
		return r;
	if (u->oci)
		strset_add(&u->made, path);
	return 0;
}

/* The archive's bytes, hashed on their way to libarchive. */
struct source {
	int fd;
	struct sha256 sha;
	char buf[1 << 16];
};

static la_ssize_t source_read(struct archive *a, void *p, const void **out)
{
	struct source *s = p;
	ssize_t n;
	do
		n = read(s->fd, s->buf, sizeof s->buf);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	sha256_update(&s->sha, s->buf, (size_t)n);
	*out = s->buf;
	return n;
}

/* Applies the archive on fd to the tree; hex gets the sha256 of all of the
 * file's bytes.  what names it in reasons. */
static int extract(struct unpacker *u, int fd, const char *what, char hex[65],
		   gfs_err *err)
{
	struct source *src = xmalloc(sizeof *src);
	src->fd = fd;
	sha256_init(&src->sha);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r = 0, k;

	archive_read_support_filter_all(a);
	/* images are tarballs (ustar, pax, GNU): no other reader (mtree,
	 * cpio, iso, zip, rar, 7z) is ever given hostile bytes */
	archive_read_support_format_tar(a);
	if (archive_read_open(a, src, NULL, source_read, NULL) != ARCHIVE_OK) {
		r = gfs_error(err, EINVAL, "%s: %s", what,
			      archive_error_string(a));
		goto out;
	}
	while ((k = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	       k == ARCHIVE_WARN) {
		r = apply_entry(u, a, e, err);
		if (r < 0) {
			gfs_error_wrap(err, "%s", what);
			goto out;
		}
	}
	if (k != ARCHIVE_EOF) {
		r = gfs_error(err, EINVAL, "%s: %s", what,
			      archive_error_string(a));
		goto out;
	}
	/* what libarchive did not need (padding after the end marker) is
	 * part of the content too */
	const void *dummy;
	while ((k = (int)source_read(a, src, &dummy)) > 0)
		;
	if (k < 0)
		r = gfs_error_sys(err, errno, "reading %s", what);
	sha256_hex(&src->sha, hex);
out:
	archive_read_free(a);
	free(src);
	return r;
}

static uint64_t free_bytes(int fd)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static int room_for(int cfd, const char *cache, uint64_t need, const char *spec,
		    gfs_err *err)
{
	uint64_t room = free_bytes(cfd);
	if (need > room)
		return gfs_error(err, ENOSPC,
				 "image %s (%llu bytes) is larger than the "
				 "free space in %s (%llu bytes)",
				 spec, (unsigned long long)need, cache,
				 (unsigned long long)room);
	return 0;
}

/* A new temporary tree in the cache, open in *fd. */
static int tmp_make(int cfd, const char *cache, char **name, int *fd,
		    gfs_err *err)
{
	static unsigned seq;
	*name = xasprintf(".tmp-%d-%u", (int)getpid(),
			  __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
	int r = 0;
	if (quota_is_btrfs(cfd))
		r = quota_subvol_make_at(cfd, *name, err);
	else if (mkdirat(cfd, *name, 0755) < 0)
		r = gfs_error_sys(err, errno, "mkdir %s/%s", cache, *name);
	if (r < 0) {
		free(*name);
		*name = NULL;
		return r;
	}
	if (fchmodat(cfd, *name, 0755, 0) < 0 ||
	    (*fd = openat(cfd, *name,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		0) {
		r = gfs_error_sys(err, errno, "opening %s/%s", cache, *name);
		rt_rm_tree_at(cfd, *name);
		free(*name);
		*name = NULL;
	}
	return r;
}

static void tmp_drop(int cfd, const char *name)
{
	cleanup_close int fd =
	    openat(cfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && quota_is_subvol(fd) &&
	    quota_subvol_remove_at(cfd, name, GFS_IGNORE) == 0)
		return;
	rt_rm_tree_at(cfd, name);
}

/* Gives the finished tree its name; when another create got there first,
 * theirs is as good and ours goes. */
static int tmp_commit(int cfd, const char *cache, const char *tmp,
		      const char *name, gfs_err *err)
{
	if (renameat(cfd, tmp, cfd, name) == 0)
		return 0;
	int e = errno;
	tmp_drop(cfd, tmp);
	if (e == EEXIST || e == ENOTEMPTY)
		return 0;
	return gfs_error_sys(err, e, "renaming %s/%s", cache, tmp);
}

/* The cached tree for key, if there is one: key itself (no device nodes,
 * good for everyone), else key-dev for a caller that allows them. */
static char *cached(int cfd, const char *cache, const char *key,
		    bool allow_devices)
{
	if (faccessat(cfd, key, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return xasprintf("%s/%s", cache, key);
	cleanup_free char *dev = xasprintf("%s-dev", key);
	if (allow_devices &&
	    faccessat(cfd, dev, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return xasprintf("%s/%s", cache, dev);
	return NULL;
}

/* The name of the memo of a file's content key: where and what it is now
 * (any change moves its ctime). */
static char *memo_name(const struct stat *st)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *parts[] = {
	    (const void *)&st->st_dev, (const void *)&st->st_ino,
	    (const void *)&st->st_size, (const void *)&st->st_mtim,
	    (const void *)&st->st_ctim};
	size_t lens[] = {sizeof st->st_dev, sizeof st->st_ino,
			 sizeof st->st_size, sizeof st->st_mtim,
			 sizeof st->st_ctim};
	for (size_t i = 0; i < 5; i++)
		for (size_t j = 0; j < lens[i]; j++)
			h = (h ^ parts[i][j]) * 1099511628211ULL;
	return xasprintf(".key-%016llx", (unsigned long long)h);
}

static int unpack_tarball(const char *spec, int cfd, const char *cache,
			  bool allow_devices, char **dir, gfs_err *err)
{
	cleanup_close int fd = open(spec, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "image %s", spec);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return gfs_error_sys(err, errno, "image %s", spec);
	if (!S_ISREG(st.st_mode))
		return gfs_error(err, EINVAL,
				 "image %s is not a directory, an archive or "
				 "oci:DIR[:TAG]",
				 spec);

	cleanup_free char *memo = memo_name(&st);
	char hex[65];
	ssize_t n = readlinkat(cfd, memo, hex, sizeof hex);
	if (n == 64) {
		hex[64] = '\0';
		*dir = cached(cfd, cache, hex, allow_devices);
		if (*dir)
			return 0;
	}
	int r = room_for(cfd, cache, (uint64_t)st.st_size, spec, err);
	if (r < 0)
		return r;

	struct unpacker u = {.allow_devices = allow_devices};
	cleanup_free char *tmp = NULL;
	r = tmp_make(cfd, cache, &tmp, &u.root, err);
	if (r < 0)
		return gfs_error_wrap(err, "image %s", spec);
	r = extract(&u, fd, spec, hex, err);
	if (r == 0 && u.entries == 0)
		r = gfs_error(err, EINVAL,
			      "image %s: an archive with no entries", spec);
	close(u.root);
	if (r < 0) {
		tmp_drop(cfd, tmp);
		if (err && err->code == EINVAL && !strstr(err->msg, "entry"))
			gfs_error_wrap(err,
				       "image %s is not a directory or an "
				       "archive libarchive reads",
				       spec);
		return r;
	}
	cleanup_free char *name =
	    u.saw_devices ? xasprintf("%s-dev", hex) : xstrdup(hex);
	r = tmp_commit(cfd, cache, tmp, name, err);
	if (r < 0)
		return r;
	/* a lost race for the memo is harmless: both say the same */
	symlinkat(hex, cfd, memo);
	*dir = xasprintf("%s/%s", cache, name);
	return 0;
}

/* Reads a small JSON file; with digest, checks that its bytes have it. */
static json_t *load_json(int dfd, const char *path, const char *digest,
			 gfs_err *err)
{
	cleanup_close int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gfs_error_sys(err, errno, "%s", path);
		return NULL;
	}
	sbuf b = SBUF_INIT;
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > MAX_JSON) {
			gfs_error(err, n < 0 ? errno : EFBIG, "%s: %s", path,
				  n < 0 ? strerror(errno) : "too big");
			sbuf_free(&b);
			return NULL;
		}
		sbuf_add(&b, chunk, (size_t)n);
	}
	if (digest) {
		struct sha256 c;
		char hex[65];
		sha256_init(&c);
		sha256_update(&c, b.s ? b.s : "", b.len);
		sha256_hex(&c, hex);
		if (strcmp(hex, digest + 7) != 0) {
			gfs_error(err, EINVAL,
				  "%s: content does not match its "
				  "digest",
				  path);
			sbuf_free(&b);
			return NULL;
		}
	}
	json_error_t je;
	json_t *j = json_loadb(b.s ? b.s : "", b.len, 0, &je);
	sbuf_free(&b);
	if (!j || !json_is_object(j)) {
		gfs_error(err, EINVAL, "%s: %s", path,
			  j ? "not a JSON object" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* blobs/sha256/<hex> of a descriptor, after checking the digest's form. */
static char *blob_path(json_t *desc, const char *what, gfs_err *err)
{
	const char *d = json_is_object(desc) ? jstr(desc, "digest") : NULL;
	if (!rt_digest_valid(d)) {
		gfs_error(err, EINVAL, "%s: digest %s is not sha256:<64 hex>",
			  what, d ? d : "(missing)");
		return NULL;
	}
	return xasprintf("blobs/sha256/%s", d + 7);
}

static json_t *load_blob(int lfd, json_t *desc, const char *what, gfs_err *err)
{
	cleanup_free char *p = blob_path(desc, what, err);
	if (!p)
		return NULL;
	json_t *j = load_json(lfd, p, jstr(desc, "digest"), err);
	if (!j)
		gfs_error_wrap(err, "%s", what);
	return j;
}

static bool is_index(const char *media)
{
	return media &&
	       (!strcmp(media, "application/vnd.oci.image.index.v1+json") ||
		!strcmp(media, "application/vnd.docker.distribution.manifest."
			       "list.v2+json"));
}

/* Picks the descriptor tagged tag (or the first) from an index's
 * manifests; in a nested index, the one for this machine. */
static json_t *pick(json_t *index, const char *tag, bool platform, gfs_err *err)
{
	json_t *m = json_object_get(index, "manifests");
	if (!json_is_array(m) || json_array_size(m) == 0) {
		gfs_error(err, EINVAL, "index lists no manifests");
		return NULL;
	}
	size_t i;
	json_t *d;
	json_array_foreach(m, i, d)
	{
		if (!json_is_object(d))
			continue;
		if (platform) {
			json_t *p = json_object_get(d, "platform");
			const char *os = jstr(p, "os");
			const char *arch = jstr(p, "architecture");
			if (os && arch && !strcmp(os, "linux") &&
			    !strcmp(arch, OCI_ARCH))
				return d;
			continue;
		}
		if (!tag)
			return d;
		const char *ref =
		    jstr(json_object_get(d, "annotations"), REF_NAME);
		if (ref && !strcmp(ref, tag))
			return d;
	}
	if (platform && json_array_size(m) == 1)
		return json_array_get(m, 0);
	if (platform)
		gfs_error(err, ENOENT, "no manifest for linux/%s", OCI_ARCH);
	else
		gfs_error(err, ENOENT, "no manifest tagged %s", tag);
	return NULL;
}

static bool layer_type_ok(const char *media)
{
	static const char *const ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	    "application/vnd.docker.image.rootfs.diff.tar",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (size_t i = 0; media && i < sizeof ok / sizeof ok[0]; i++)
		if (!strcmp(media, ok[i]))
			return true;
	return false;
}

/* Env, WorkingDir and User from an image config, into cfg. */
static int read_config(json_t *config, struct rt_image *cfg, gfs_err *err)
{
	json_t *c = json_object_get(config, "config");
	json_t *env = json_object_get(c, "Env");
	size_t n = json_is_array(env) ? json_array_size(env) : 0;
	char **v = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(env, i));
		if (!s || !strchr(s, '=')) {
			gfs_strv_free(v);
			return gfs_error(err, EINVAL,
					 "config: Env entry %zu is not "
					 "NAME=VALUE",
					 i);
		}
		v[k++] = xstrdup(s);
	}
	const char *wd = jstr(c, "WorkingDir");
	const char *user = jstr(c, "User");
	gfs_strv_free(cfg->env);
	free(cfg->workdir);
	free(cfg->user);
	cfg->env = v;
	cfg->workdir = wd && *wd ? xstrdup(wd) : NULL;
	cfg->user = user && *user ? xstrdup(user) : NULL;
	return 0;
}

static int apply_layer(struct unpacker *u, int lfd, json_t *desc, size_t i,
		       gfs_err *err)
{
	cleanup_free char *what = xasprintf("layer %zu", i);
	const char *media = jstr(desc, "mediaType");
	if (!layer_type_ok(media))
		return gfs_error(err, ENOTSUP,
				 "%s: media type %s is not a "
				 "plain, gzip or zstd tar",
				 what, media ? media : "(missing)");
	cleanup_free char *p = blob_path(desc, what, err);
	if (!p)
		return -EINVAL;
	cleanup_close int fd = openat(lfd, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "%s: %s", what, p);
	char hex[65];
	strset_free(&u->made);
	int r = extract(u, fd, what, hex, err);
	if (r < 0)
		return r;
	if (strcmp(hex, jstr(desc, "digest") + 7) != 0)
		return gfs_error(err, EINVAL,
				 "%s: content does not match its digest", what);
	return 0;
}

static int unpack_oci(const char *spec, int cfd, const char *cache,
		      bool allow_devices, char **dir, struct rt_image *cfg,
		      gfs_err *err)
{
	/* oci:DIR[:TAG]; a DIR with a colon in its name is taken whole
	 * when it exists */
	cleanup_free char *layout = xstrdup(spec + 4);
	const char *tag = NULL;
	struct stat st;
	if (stat(layout, &st) < 0 || !S_ISDIR(st.st_mode)) {
		char *c = strrchr(layout, ':');
		if (c && !strchr(c, '/')) {
			*c = '\0';
			tag = c + 1;
		}
	}
	if (!*layout || (tag && !*tag))
		return gfs_error(err, EINVAL, "image %s: want oci:DIR[:TAG]",
				 spec);
	cleanup_close int lfd =
	    open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return gfs_error_sys(err, errno, "image %s", spec);

	json_t *index = NULL, *nested = NULL, *manifest = NULL, *config = NULL;
	struct unpacker u = {.allow_devices = allow_devices, .oci = true};
	cleanup_free char *tmp = NULL;
	int r = -EINVAL;
	index = load_json(lfd, "index.json", NULL, err);
	if (!index)
		goto out;
	json_t *desc = pick(index, tag, false, err);
	if (!desc)
		goto out;
	if (is_index(jstr(desc, "mediaType"))) {
		nested = load_blob(lfd, desc, "nested index", err);
		if (!nested || !(desc = pick(nested, NULL, true, err)))
			goto out;
	}
	manifest = load_blob(lfd, desc, "manifest", err);
	if (!manifest)
		goto out;
	const char *key = jstr(desc, "digest") + 7;
	config =
	    load_blob(lfd, json_object_get(manifest, "config"), "config", err);
	if (!config)
		goto out;
	json_t *layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers)) {
		gfs_error(err, EINVAL, "manifest has no layers");
		goto out;
	}

	*dir = cached(cfd, cache, key, allow_devices);
	if (!*dir) {
		uint64_t need = 0;
		size_t i;
		json_t *l;
		json_array_foreach(layers, i, l)
		{
			json_t *size = json_object_get(l, "size");
			if (json_is_integer(size) &&
			    json_integer_value(size) > 0)
				need += (uint64_t)json_integer_value(size);
		}
		r = room_for(cfd, cache, need, spec, err);
		if (r < 0)
			goto out;
		r = tmp_make(cfd, cache, &tmp, &u.root, err);
		if (r < 0)
			goto out;
		json_array_foreach(layers, i, l)
		{
			r = apply_layer(&u, lfd, l, i, err);
			if (r < 0)
				break;
		}
		close(u.root);
		if (r < 0) {
			tmp_drop(cfd, tmp);
			goto out;
		}
		cleanup_free char *name =
		    u.saw_devices ? xasprintf("%s-dev", key) : xstrdup(key);
		r = tmp_commit(cfd, cache, tmp, name, err);
		if (r < 0)
			goto out;
		*dir = xasprintf("%s/%s", cache, name);
	}
	r = read_config(config, cfg, err);
	if (r < 0) {
		free(*dir);
		*dir = NULL;
	}
out:
	/* every failure above filled err; its code is the one to return */
	if (r < 0)
		r = gfs_error_wrap(err, "image %s", spec);
	strset_free(&u.made);
	json_decref(config);
	json_decref(manifest);
	json_decref(nested);
	json_decref(index);
	return r;
}

/* Drops temporary trees that a crashed daemon left in the cache (their
 * names carry the pid that made them). */
static void drop_stale(int cfd)
{
	int fd = fcntl(cfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		int pid;
		if (sscanf(de->d_name, ".tmp-%d-", &pid) == 1 && pid > 0 &&
		    pid != getpid() && kill(pid, 0) < 0 && errno == ESRCH)
			tmp_drop(cfd, de->d_name);
	}
	closedir(d);
}

int rt_image_unpack2(const char *spec, const char *cache, bool allow_devices,
		     char **dir, struct rt_image *cfg, gfs_err *err)
{
	int r;

	*dir = NULL;
	if (mkdir(cache, 0700) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "image cache %s", cache);
	cleanup_close int cfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return gfs_error_sys(err, errno, "image cache %s", cache);
	drop_stale(cfd);
	if (!strncmp(spec, "oci:", 4))
		r = unpack_oci(spec, cfd, cache, allow_devices, dir, cfg, err);
	else
		r = unpack_tarball(spec, cfd, cache, allow_devices, dir, err);
	if (r == 0 && !cfg->env)
		cfg->env = xcalloc(1, sizeof(char *));
	return r;
}

int rt_image_unpack(const char *spec, const char *cache, char **dir,
		    struct rt_image *cfg, gfs_err *err)
{
	return rt_image_unpack2(spec, cache, false, dir, cfg, err);
}
