/* gardenfs-unpack's work: one tarball or OCI layer applied to a tree.
 *
 * Entries are made with *at() calls relative to the tree, never by
 * joining strings: names that are absolute or hold "..", parents that are
 * symlinks, hard links to outside the tree, and device nodes (unless
 * allowed) are refused with EINVAL and the entry's name.  Only the tar
 * formats and the compressions libarchive decodes in-process are read.
 * Every entry is charged against the output bound before it is made, so
 * that a decompression bomb fails with ENOSPC at its first oversized
 * header, or as soon as its entries add up to more than the room left. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/image_names.h"
#include "runtime/rt_priv.h"
#include "runtime/sha256.h"
#include "runtime/unpack/unpack.h"

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
	/* the output bound: what the tree may take, and what the entries so
	 * far take (their sizes as the archive states them, holes included,
	 * and UX_ENTRY_COST each) */
	uint64_t limit, used;
	uint64_t bytes; /* file data written */
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

static int over_bound(struct unpacker *u, const char *entry, gfs_err *err)
{
	return gfs_error(err, ENOSPC,
			 "entry %s: the image would take more than %llu "
			 "bytes, the space left for it",
			 entry, (unsigned long long)u->limit);
}

static int write_file(struct unpacker *u, struct archive *a,
		      struct archive_entry *e, int pfd, const char *base,
		      const char *entry, gfs_err *err)
{
	/* what the entry may reach: its stated size is charged already,
	 * this is for data past it (a pax header may lie) */
	uint64_t room = u->limit - u->used;
	if (archive_entry_size_is_set(e))
		room += (uint64_t)archive_entry_size(e);
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
		if (off < 0 || (uint64_t)off > room ||
		    size > room - (uint64_t)off)
			return over_bound(u, entry, err);
		/* blocks come with offsets: holes of sparse files stay holes */
		for (size_t done = 0; done < size;) {
			ssize_t w = pwrite(fd, (const char *)buf + done,
					   size - done, off + (off_t)done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (no_space(errno) || errno == EFBIG))
				return gfs_error(err, ENOSPC,
						 "entry %s: no space left for "
						 "the image",
						 entry);
			if (w < 0)
				return gfs_error_sys(
				    err, errno, "entry %s: writing", entry);
			done += (size_t)w;
			u->bytes += (uint64_t)w;
		}
	}
	if (archive_entry_size_is_set(e) &&
	    ftruncate(fd, archive_entry_size(e)) < 0)
		return gfs_error_sys(
		    err, no_space(errno) || errno == EFBIG ? ENOSPC : errno,
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
	/* charged before anything is made: a bomb's first huge entry fails
	 * at its header, before a byte of it is inflated */
	uint64_t cost = UX_ENTRY_COST;
	if (archive_entry_filetype(e) == AE_IFREG &&
	    archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
		cost += (uint64_t)archive_entry_size(e);
	if (cost > u->limit - u->used)
		return over_bound(u, entry, err);
	u->used += cost;
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

/* gzip, bzip2, xz and lzma, zstd: what images come in.  Each is enabled
 * only when libarchive has its library: for one it lacks it would run an
 * external program (and say ARCHIVE_WARN), which this process never does
 * (its seccomp filter forbids exec and fork as well). */
static const struct {
	const char *name;
	int (*add)(struct archive *);
} filters[] = {
    {"gzip", archive_read_support_filter_gzip},
    {"bzip2", archive_read_support_filter_bzip2},
    {"xz", archive_read_support_filter_xz},
    {"lzma", archive_read_support_filter_lzma},
    {"zstd", archive_read_support_filter_zstd},
};
#define NFILTERS (sizeof filters / sizeof filters[0])
static bool filter_ok[NFILTERS];

void ux_filters_probe(void)
{
	for (size_t i = 0; i < NFILTERS; i++) {
		struct archive *a = archive_read_new();
		filter_ok[i] = a && filters[i].add(a) == ARCHIVE_OK;
		archive_read_free(a);
	}
}

int ux_extract(const struct ux_job *j, struct rt_unpack_verdict *res,
	       gfs_err *err)
{
	struct unpacker u = {.root = UX_ROOT_FD,
			     .allow_devices = j->devices,
			     .oci = j->oci,
			     .limit = j->limit};
	struct source *src = xmalloc(sizeof *src);
	src->fd = UX_ARCHIVE_FD;
	sha256_init(&src->sha);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	const char *what = j->what;
	int r = 0, k;

	memset(res, 0, sizeof *res);
	for (size_t i = 0; i < NFILTERS; i++)
		if (filter_ok[i])
			filters[i].add(a);
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
		r = apply_entry(&u, a, e, err);
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
	if (k < 0) {
		r = gfs_error_sys(err, errno, "reading %s", what);
		goto out;
	}
	sha256_hex(&src->sha, res->hex);
	res->entries = u.entries;
	res->bytes = u.bytes;
	res->devices = u.saw_devices;
out:
	strset_free(&u.made);
	archive_read_free(a);
	free(src);
	return r;
}
