/* streamin: a tar stream unpacked into a directory of the container.
 *
 * libarchive only reads (tar formats and in-process decompression, see
 * sx_filters_*); every file operation is ours, made relative to a
 * descriptor of the destination:
 *
 * - entry names lose their leading slashes (as tar does) and "."
 *   components; a ".." component is refused;
 * - an entry's parent is resolved with openat2(RESOLVE_BENEATH): symlinks
 *   that stay below the destination are followed, one that leads out
 *   (absolute, or up with "..") or a magic link is refused; the parent is
 *   resolved again for every entry, so a directory the container swaps
 *   for a symlink mid-stream (CVE-2018-15664) is refused too;
 * - the last component is never followed: whatever is in the way is
 *   removed (a non-empty directory is an error) and the entry created
 *   with O_EXCL | O_NOFOLLOW, symlinkat, linkat, mknodat; metadata go
 *   through the new file's descriptor or *at calls that do not follow;
 * - hard links must name a file below the destination (resolved the same
 *   way);
 * - device nodes only in privileged containers.
 *
 * As the container's root the archive's owners are kept (numbers, mapped
 * through the user namespace we are in); as another user everything is
 * that user's, made with that user's rights.  Modes (setuid bits
 * included), xattrs (security.capability where the namespace allows) and
 * times are kept; directory modes and times are applied at the end, deepest
 * first, so that a read-only directory can still be filled. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/stream/child.h"
#include "runtime/stream_proto.h"

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static const struct {
	const char *name;
	int (*add)(struct archive *);
} filters[] = {
    {"gzip", archive_read_support_filter_gzip},
    {"bzip2", archive_read_support_filter_bzip2},
    {"xz", archive_read_support_filter_xz},
    {"lzma", archive_read_support_filter_lzma},
    {"lzip", archive_read_support_filter_lzip},
    {"zstd", archive_read_support_filter_zstd},
    {"lz4", archive_read_support_filter_lz4},
    {"compress", archive_read_support_filter_compress},
};
#define NFILTERS (sizeof filters / sizeof filters[0])
static bool filter_ok[NFILTERS];

/* libarchive falls back to an external program (ARCHIVE_WARN) for a
 * filter whose library it lacks: such a filter is never enabled. */
void sx_filters_probe(void)
{
	for (size_t i = 0; i < NFILTERS; i++) {
		struct archive *a = archive_read_new();
		filter_ok[i] = a && filters[i].add(a) == ARCHIVE_OK;
		archive_read_free(a);
	}
}

void sx_filters_add(struct archive *a)
{
	for (size_t i = 0; i < NFILTERS; i++)
		if (filter_ok[i])
			filters[i].add(a);
}

struct fixup {
	char *path; /* below the destination; "" is the destination */
	mode_t mode;
	struct timespec mtime;
};

struct unpack {
	const struct sx_cfg *cfg;
	int dest; /* O_RDONLY directory fd of the destination */
	struct archive *a;
	char *buf;
	struct fixup *fix;
	size_t nfix, capfix;
	uint64_t entries, bytes;
};

static la_ssize_t src_read(struct archive *a, void *p, const void **out)
{
	struct unpack *u = p;
	for (;;) {
		ssize_t n = read(SX_DATA_FD, u->buf, SX_IO_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "reading the stream: %s",
					  strerror(errno));
			return -1;
		}
		*out = u->buf;
		return n;
	}
}

/* mkdir -p of the destination, resolved in the container's root as its
 * processes would (symlinks followed, never out of the root). */
static int open_dest(const char *target, gfs_err *err)
{
	const uint64_t inroot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return gfs_error_sys(err, errno, "opening the root");
	int fd = sx_openat2(root, target, O_RDONLY | O_DIRECTORY, inroot);
	if (fd < 0 && errno == ENOENT) {
		cleanup_free char *pre = xstrdup(target);
		size_t n = strlen(pre);
		/* each prefix in turn; make the missing ones */
		for (size_t i = 1; i <= n; i++) {
			if (i < n && pre[i] != '/')
				continue;
			char c = pre[i];
			pre[i] = '\0';
			int t =
			    sx_openat2(root, pre, O_PATH | O_DIRECTORY, inroot);
			if (t < 0 && errno == ENOENT) {
				char *slash = strrchr(pre, '/');
				const char *base = slash + 1;
				*slash = '\0';
				int par =
				    sx_openat2(root, *pre ? pre : "/",
					       O_PATH | O_DIRECTORY, inroot);
				*slash = '/';
				if (par >= 0 && mkdirat(par, base, 0755) < 0 &&
				    errno != EEXIST) {
					int e = errno;
					close(par);
					close(root);
					return gfs_error_sys(
					    err, e,
					    "destination %.200s: making %.200s",
					    target, pre);
				}
				if (par >= 0)
					close(par);
				t = sx_openat2(root, pre, O_PATH | O_DIRECTORY,
					       inroot);
			}
			if (t < 0) {
				int e = errno;
				close(root);
				return gfs_error_sys(
				    err, e, "destination %.200s: %.200s",
				    target, pre);
			}
			close(t);
			pre[i] = c;
		}
		fd = sx_openat2(root, target, O_RDONLY | O_DIRECTORY, inroot);
	}
	int e = errno;
	close(root);
	if (fd < 0)
		return gfs_error_sys(err, e, "destination %.200s", target);
	return fd;
}

/* The entry's parent directory (clean path below the destination), made
 * when missing. */
static int open_parent(struct unpack *u, const char *parent, const char *entry,
		       gfs_err *err)
{
	if (!*parent) {
		int fd = fcntl(u->dest, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? gfs_error_sys(err, errno, "dup") : fd;
	}
	int fd = sx_openat2(u->dest, parent, O_PATH | O_DIRECTORY, BENEATH);
	if (fd < 0 && errno == ENOENT) {
		cleanup_free char *pre = xstrdup(parent);
		size_t n = strlen(pre);
		int prev = fcntl(u->dest, F_DUPFD_CLOEXEC, 0);
		size_t start = 0;
		for (size_t i = 0; i <= n && prev >= 0; i++) {
			if (i < n && pre[i] != '/')
				continue;
			char c = pre[i];
			pre[i] = '\0';
			int t = sx_openat2(u->dest, pre, O_PATH | O_DIRECTORY,
					   BENEATH);
			if (t < 0 && errno == ENOENT) {
				if (mkdirat(prev, pre + start, 0755) < 0 &&
				    errno != EEXIST) {
					int e = errno;
					close(prev);
					return gfs_error_sys(
					    err, e,
					    "entry %.200s: making %.200s",
					    entry, pre);
				}
				t = sx_openat2(u->dest, pre,
					       O_PATH | O_DIRECTORY, BENEATH);
			}
			int e = errno;
			close(prev);
			prev = t;
			errno = e;
			pre[i] = c;
			start = i + 1;
		}
		fd = prev;
	}
	if (fd >= 0)
		return fd;
	if (errno == EXDEV || errno == ELOOP)
		return gfs_error(err, EINVAL,
				 "entry %.200s: its directory %.200s leads out "
				 "of the destination",
				 entry, parent);
	return gfs_error_sys(err, errno, "entry %.200s: directory %.200s",
			     entry, parent);
}

/* Removes what is in the way of base, unless it is a directory and a
 * directory is wanted (*merge then).  Never follows base. */
static int clear_way(int pfd, const char *base, bool want_dir, bool *merge,
		     const char *entry, gfs_err *err)
{
	struct stat st;
	*merge = false;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
			   ? 0
			   : gfs_error_sys(err, errno, "entry %.200s", entry);
	if (S_ISDIR(st.st_mode) && want_dir) {
		*merge = true;
		return 0;
	}
	if (unlinkat(pfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0)
		return 0;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return gfs_error(err, EEXIST,
				 "entry %.200s: a non-empty directory is in "
				 "the way",
				 entry);
	return gfs_error_sys(err, errno, "entry %.200s: replacing", entry);
}

static int owner(struct archive_entry *e, const char *entry, uid_t *uid,
		 gid_t *gid, gfs_err *err)
{
	int64_t a = archive_entry_uid(e), b = archive_entry_gid(e);
	if (a < 0 || a >= UINT32_MAX || b < 0 || b >= UINT32_MAX)
		return gfs_error(err, EINVAL,
				 "entry %.200s: bad owner %lld:%lld", entry,
				 (long long)a, (long long)b);
	*uid = (uid_t)a;
	*gid = (gid_t)b;
	return 0;
}

static int chown_err(int e, struct archive_entry *ae, const char *entry,
		     gfs_err *err)
{
	if (e == EINVAL)
		return gfs_error(err, EINVAL,
				 "entry %.200s: owner %lld:%lld is not mapped "
				 "in the container",
				 entry, (long long)archive_entry_uid(ae),
				 (long long)archive_entry_gid(ae));
	return gfs_error_sys(err, e, "entry %.200s: chown", entry);
}

/* Owner (as root), then mode (a chown clears setuid bits), then xattrs (a
 * chown clears file capabilities). */
static int set_meta(struct unpack *u, int fd, struct archive_entry *e,
		    bool mode, const char *entry, gfs_err *err)
{
	if (u->cfg->as_root) {
		uid_t uid;
		gid_t gid;
		if (owner(e, entry, &uid, &gid, err) < 0)
			return -EINVAL;
		if (fchown(fd, uid, gid) < 0)
			return chown_err(errno, e, entry, err);
	}
	if (mode && fchmod(fd, archive_entry_perm(e) & 07777) < 0)
		return gfs_error_sys(err, errno, "entry %.200s: chmod", entry);
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) ==
	       ARCHIVE_OK) {
		/* what this user, namespace or file system cannot keep is
		 * dropped, as tar does; anything else is an error */
		if (fsetxattr(fd, name, value, size, 0) < 0 &&
		    errno != ENOTSUP && errno != EPERM && errno != EACCES)
			return gfs_error_sys(err, errno,
					     "entry %.200s: xattr %.64s", entry,
					     name);
	}
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

static int write_file(struct unpack *u, struct archive_entry *e, int pfd,
		      const char *base, const char *entry, gfs_err *err)
{
	cleanup_close int fd =
	    openat(pfd, base,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return gfs_error_sys(err, errno, "entry %.200s: creating",
				     entry);
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(u->a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return gfs_error(err, EINVAL, "entry %.200s: %s", entry,
					 archive_error_string(u->a));
		/* blocks come with offsets: holes of sparse files stay holes */
		for (size_t done = 0; done < size;) {
			ssize_t w = pwrite(fd, (const char *)buf + done,
					   size - done, off + (off_t)done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return gfs_error_sys(
				    err, errno, "entry %.200s: writing", entry);
			done += (size_t)w;
		}
		u->bytes += size;
	}
	if (archive_entry_size_is_set(e) &&
	    ftruncate(fd, archive_entry_size(e)) < 0)
		return gfs_error_sys(err, errno, "entry %.200s: sizing", entry);
	int r = set_meta(u, fd, e, true, entry, err);
	if (r < 0)
		return r;
	struct timespec ts[2];
	entry_times(e, ts);
	futimens(fd, ts);
	return 0;
}

static void add_fixup(struct unpack *u, const char *path,
		      struct archive_entry *e)
{
	if (u->nfix == u->capfix) {
		u->capfix = u->capfix ? u->capfix * 2 : 64;
		u->fix = xrealloc(u->fix, u->capfix * sizeof *u->fix);
	}
	struct fixup *f = &u->fix[u->nfix++];
	struct timespec ts[2];
	entry_times(e, ts);
	f->path = xstrdup(path);
	f->mode = archive_entry_perm(e) & 07777;
	f->mtime = ts[1];
}

/* Directory modes and times, deepest (latest) first; best effort: a
 * directory the archive did not make may not be ours to change. */
static void apply_fixups(struct unpack *u)
{
	for (size_t i = u->nfix; i-- > 0;) {
		struct fixup *f = &u->fix[i];
		int fd = *f->path
			     ? sx_openat2(u->dest, f->path,
					  O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
					  BENEATH | RESOLVE_NO_SYMLINKS)
			     : fcntl(u->dest, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0) {
			struct timespec ts[2] = {f->mtime, f->mtime};
			if (fchmod(fd, f->mode) < 0) {
				/* not ours: leave it */
			}
			futimens(fd, ts);
			close(fd);
		}
		free(f->path);
	}
	free(u->fix);
	u->fix = NULL;
	u->nfix = u->capfix = 0;
}

static int make_dir(struct unpack *u, struct archive_entry *e, int pfd,
		    const char *base, const char *path, const char *entry,
		    gfs_err *err)
{
	bool merge;
	int r = clear_way(pfd, base, true, &merge, entry, err);
	if (r < 0)
		return r;
	if (!merge && mkdirat(pfd, base, 0700) < 0)
		return gfs_error_sys(err, errno, "entry %.200s: mkdir", entry);
	cleanup_close int fd =
	    openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "entry %.200s", entry);
	r = set_meta(u, fd, e, false, entry, err);
	if (r < 0)
		return r;
	add_fixup(u, path, e);
	return 0;
}

static int make_hardlink(struct unpack *u, int pfd, const char *base,
			 const char *target, const char *entry, gfs_err *err)
{
	char t[RT_STREAM_PATH_MAX];
	if (rt_stream_name_clean(target, t, sizeof t) < 0 || !*t)
		return gfs_error(err, EINVAL,
				 "entry %.200s: hard link to %.200s, outside "
				 "the destination",
				 entry, target);
	char *slash = strrchr(t, '/');
	const char *tbase = slash ? slash + 1 : t;
	if (slash)
		*slash = '\0';
	int tfd = slash ? sx_openat2(u->dest, t, O_PATH | O_DIRECTORY, BENEATH)
			: fcntl(u->dest, F_DUPFD_CLOEXEC, 0);
	if (tfd < 0)
		return gfs_error(err, EINVAL,
				 "entry %.200s: hard link to %.200s, which is "
				 "not in the destination",
				 entry, target);
	struct stat a, b;
	/* a link to itself (an archive listing a file twice) is there */
	if (fstatat(tfd, tbase, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fstatat(pfd, base, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		close(tfd);
		return 0;
	}
	bool merge;
	int r = clear_way(pfd, base, false, &merge, entry, err);
	if (r == 0 && linkat(tfd, tbase, pfd, base, 0) < 0) {
		int e = errno;
		if (e == ENOENT)
			r = gfs_error(err, EINVAL,
				      "entry %.200s: hard link to %.200s, "
				      "which is not in the destination",
				      entry, target);
		else
			r = gfs_error_sys(err, e,
					  "entry %.200s: hard link to %.200s",
					  entry, target);
	}
	close(tfd);
	return r;
}

static int make_node(struct unpack *u, struct archive_entry *e, int pfd,
		     const char *base, mode_t type, const char *entry,
		     gfs_err *err)
{
	if (type != AE_IFIFO && !u->cfg->privileged)
		return gfs_error(
		    err, EPERM,
		    "entry %.200s: device nodes are not allowed in "
		    "an unprivileged container",
		    entry);
	bool merge;
	int r = clear_way(pfd, base, false, &merge, entry, err);
	if (r < 0)
		return r;
	/* the mode at birth: chmod by name could follow a swapped symlink */
	if (mknodat(pfd, base, type | (archive_entry_perm(e) & 0777),
		    type == AE_IFIFO ? 0 : archive_entry_rdev(e)) < 0)
		return gfs_error_sys(err, errno, "entry %.200s: mknod", entry);
	if (u->cfg->as_root) {
		uid_t uid;
		gid_t gid;
		if (owner(e, entry, &uid, &gid, err) < 0)
			return -EINVAL;
		if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return chown_err(errno, e, entry, err);
	}
	struct timespec ts[2];
	entry_times(e, ts);
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int make_symlink(struct unpack *u, struct archive_entry *e, int pfd,
			const char *base, const char *entry, gfs_err *err)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !*target)
		return gfs_error(err, EINVAL,
				 "entry %.200s: symlink with no target", entry);
	bool merge;
	int r = clear_way(pfd, base, false, &merge, entry, err);
	if (r < 0)
		return r;
	/* kept as it is: we never follow it out of the destination, the
	 * container only ever inside its root */
	if (symlinkat(target, pfd, base) < 0)
		return gfs_error_sys(err, errno, "entry %.200s: symlink",
				     entry);
	if (u->cfg->as_root) {
		uid_t uid;
		gid_t gid;
		if (owner(e, entry, &uid, &gid, err) < 0)
			return -EINVAL;
		if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return chown_err(errno, e, entry, err);
	}
	struct timespec ts[2];
	entry_times(e, ts);
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* The destination itself ("./" in the archive): its owner, mode and
 * times are the archive's where we may change them. */
static void dest_meta(struct unpack *u, struct archive_entry *e)
{
	if (u->cfg->as_root) {
		uid_t uid;
		gid_t gid;
		if (owner(e, ".", &uid, &gid, NULL) == 0 &&
		    fchown(u->dest, uid, gid) < 0) {
			/* best effort */
		}
	}
	add_fixup(u, "", e);
}

static int apply_entry(struct unpack *u, struct archive_entry *e, gfs_err *err)
{
	const char *name = archive_entry_pathname(e);
	char path[RT_STREAM_PATH_MAX];
	if (!name)
		return gfs_error(err, EINVAL, "an entry without a name");
	int r = rt_stream_name_clean(name, path, sizeof path);
	if (r == -ENAMETOOLONG)
		return gfs_error(err, ENAMETOOLONG,
				 "entry %.200s: name too long", name);
	if (r < 0)
		return gfs_error(err, EINVAL,
				 "entry %.200s: a \"..\" component would lead "
				 "out of the destination",
				 name);
	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	u->entries++;
	if (!*path) {
		if (type == AE_IFDIR && !hl) {
			dest_meta(u, e);
			return 0;
		}
		return gfs_error(err, EINVAL,
				 "entry %.200s names the destination itself",
				 name);
	}
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char parent[RT_STREAM_PATH_MAX];
	size_t plen = slash ? (size_t)(slash - path) : 0;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	cleanup_close int pfd = open_parent(u, parent, name, err);
	if (pfd < 0)
		return pfd;

	if (hl)
		return make_hardlink(u, pfd, base, hl, name, err);
	switch (type) {
	case AE_IFDIR:
		return make_dir(u, e, pfd, base, path, name, err);
	case AE_IFREG: {
		bool merge;
		r = clear_way(pfd, base, false, &merge, name, err);
		return r < 0 ? r : write_file(u, e, pfd, base, name, err);
	}
	case AE_IFLNK:
		return make_symlink(u, e, pfd, base, name, err);
	case AE_IFIFO:
	case AE_IFCHR:
	case AE_IFBLK:
		return make_node(u, e, pfd, base, type, name, err);
	case AE_IFSOCK:
		return 0; /* a socket means nothing without its server */
	default:
		return gfs_error(err, EINVAL, "entry %.200s: unknown type %o",
				 name, (unsigned)type);
	}
}

int sx_in(const struct sx_cfg *c, uint64_t *entries, uint64_t *bytes,
	  gfs_err *err)
{
	cleanup_free char *target = NULL;
	int r = rt_stream_target(c->path, c->home, &target, err);
	if (r < 0)
		return r;
	struct unpack u = {.cfg = c};
	u.dest = open_dest(target, err);
	if (u.dest < 0)
		return u.dest;
	sx_ready();

	u.buf = xmalloc(SX_IO_SIZE);
	u.a = archive_read_new();
	sx_filters_add(u.a);
	/* tar only (ustar, pax, GNU, v7) and a stream of no bytes at all;
	 * never mtree, cpio, iso, zip, rar, 7z or raw */
	archive_read_support_format_tar(u.a);
	archive_read_support_format_empty(u.a);
	/* read on past end-of-archive blocks: trailing zeros (tar's padding)
	 * are fine, anything else is a damaged stream, not silently dropped
	 * (an ISO image starts with 32 KiB of zeros: an "empty tar") */
	archive_read_set_format_option(u.a, "tar", "read_concatenated_archives",
				       "1");
	struct archive_entry *e;
	int k = archive_read_open(u.a, &u, NULL, src_read, NULL);
	if (k != ARCHIVE_OK) {
		r = gfs_error(err, EINVAL, "not a tar stream: %s",
			      archive_error_string(u.a));
		goto out;
	}
	while ((k = archive_read_next_header(u.a, &e)) == ARCHIVE_OK ||
	       k == ARCHIVE_WARN) {
		r = apply_entry(&u, e, err);
		if (r < 0)
			goto out;
	}
	if (k != ARCHIVE_EOF) {
		int e2 = archive_errno(u.a);
		const char *s = archive_error_string(u.a);
		r = gfs_error(err, e2 == EIO ? EIO : EINVAL, "%s%s",
			      u.entries ? "" : "not a tar stream: ",
			      s ? s : "unreadable");
		goto out;
	}
	/* what follows the end of the archive (tar's padding) is read, so
	 * that the writer is not cut off */
	ssize_t n;
	while ((n = read(SX_DATA_FD, u.buf, SX_IO_SIZE)) != 0)
		if (n < 0 && errno != EINTR) {
			r = gfs_error_sys(err, errno, "reading the stream");
			goto out;
		}
	r = 0;
out:
	apply_fixups(&u);
	archive_read_free(u.a);
	free(u.buf);
	close(u.dest);
	*entries = u.entries;
	*bytes = u.bytes;
	if (r < 0)
		gfs_error_wrap(err, "streamin %.200s", c->path);
	return r;
}
