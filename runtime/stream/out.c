/* streamout: a tar stream (pax where needed, else ustar, as bsdtar
 * writes) of a path in the container.
 *
 * The walk is ours, with *at calls relative to directory descriptors and
 * nothing followed: symlinks are stored as symlinks (their last component
 * is never resolved, so a symlink to /etc/shadow is a symlink entry), FIFOs
 * and device nodes as entries made from their stat, never opened;
 * sockets, which tar cannot hold, are left out.  A regular file is opened
 * O_NOFOLLOW | O_NONBLOCK and checked to still be the file that was
 * stat'ed; it gives at most its stat size (padded with zeros if it
 * shrinks, as tar does), except on pseudo file systems (/proc, /sys),
 * where sizes mean nothing: there at most SX_PSEUDO_MAX bytes are read.
 * Owners are the numbers the container sees; no user or group names
 * (they would need NSS). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/stream/child.h"
#include "runtime/stream_proto.h"

#define SX_PSEUDO_MAX (1 << 20)
#define SX_MAX_DEPTH  512
#define INROOT	      (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef CONFIGFS_MAGIC
#define CONFIGFS_MAGIC 0x62656570
#endif

struct pack {
	struct archive *a;
	struct archive_entry_linkresolver *lr;
	char *buf;
	sbuf name; /* the entry being written */
	dev_t last_dev;
	bool last_pseudo, have_last;
	uint64_t entries, bytes;
};

static la_ssize_t dst_write(struct archive *a, void *p, const void *buf,
			    size_t n)
{
	(void)p;
	size_t done = 0;
	while (done < n) {
		ssize_t w =
		    write(SX_DATA_FD, (const char *)buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			archive_set_error(a, errno, "%s",
					  errno == EPIPE
					      ? "the reader went away"
					      : strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	return (la_ssize_t)n;
}

/* Whether fd, a file or directory on dev, is on a pseudo file system;
 * remembered for the last dev (a walk stays on one for long). */
static bool pseudo_fs(struct pack *p, int fd, dev_t dev)
{
	if (p->have_last && p->last_dev == dev)
		return p->last_pseudo;
	struct statfs sf;
	bool ps = false;
	if (fstatfs(fd, &sf) == 0)
		switch ((unsigned long)sf.f_type) {
		case PROC_SUPER_MAGIC:
		case SYSFS_MAGIC:
		case DEBUGFS_MAGIC:
		case SECURITYFS_MAGIC:
		case TRACEFS_MAGIC:
		case CGROUP_SUPER_MAGIC:
		case CGROUP2_SUPER_MAGIC:
		case BPF_FS_MAGIC:
		case CONFIGFS_MAGIC:
			ps = true;
		}
	p->have_last = true;
	p->last_dev = dev;
	p->last_pseudo = ps;
	return ps;
}

static int ar_fail(struct pack *p, const char *what, gfs_err *err)
{
	int e = archive_errno(p->a);
	return gfs_error(err, e > 0 && e != EILSEQ ? e : EIO, "%.200s: %s",
			 what, archive_error_string(p->a));
}

static void add_xattrs(struct archive_entry *e, int fd)
{
	ssize_t n = flistxattr(fd, NULL, 0);
	if (n <= 0)
		return;
	cleanup_free char *names = xmalloc((size_t)n);
	n = flistxattr(fd, names, (size_t)n);
	for (ssize_t i = 0; n > 0 && i < n;
	     i += (ssize_t)strlen(names + i) + 1) {
		ssize_t vn = fgetxattr(fd, names + i, NULL, 0);
		if (vn < 0)
			continue;
		cleanup_free char *v = xmalloc(vn ? (size_t)vn : 1);
		vn = fgetxattr(fd, names + i, v, (size_t)vn);
		if (vn >= 0)
			archive_entry_xattr_add_entry(e, names + i, v,
						      (size_t)vn);
	}
}

/* Writes e (after the link resolver: a later link to a file already
 * written becomes a hard link entry with no data).  *data says whether
 * its data must follow. */
static int put_header(struct pack *p, struct archive_entry **e, bool *data,
		      gfs_err *err)
{
	struct archive_entry *spare = NULL;
	archive_entry_linkify(p->lr, e, &spare);
	if (spare)
		archive_entry_free(spare);
	*data =
	    archive_entry_hardlink(*e) == NULL && archive_entry_size(*e) > 0;
	int r = archive_write_header(p->a, *e);
	if (r == ARCHIVE_FATAL)
		return ar_fail(p, p->name.s, err);
	if (r == ARCHIVE_FAILED) {
		*data = false; /* an entry tar cannot hold is left out */
		return 0;
	}
	p->entries++;
	return 0;
}

static int emit(struct pack *p, int dirfd, dev_t dir_dev, const char *name,
		int depth, gfs_err *err);

static int emit_file(struct pack *p, int dirfd, const char *name,
		     const struct stat *st, bool lenient, gfs_err *err)
{
	cleanup_close int fd =
	    openat(dirfd, name,
		   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || lenient))
		return 0; /* gone meanwhile, or a /proc file we may not read */
	if (fd < 0)
		return gfs_error_sys(err, errno, "%.200s", p->name.s);
	struct stat fst;
	if (fstat(fd, &fst) < 0)
		return gfs_error_sys(err, errno, "%.200s", p->name.s);
	/* swapped between stat and open: not the file we meant; whatever it
	 * is now was opened without following and is not read */
	if (!S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino ||
	    fst.st_dev != st->st_dev)
		return 0;
	bool ps = pseudo_fs(p, fd, fst.st_dev);
	size_t got = 0;
	if (ps) {
		/* /proc and /sys: the size is what a bounded read gives */
		while (got < SX_PSEUDO_MAX) {
			ssize_t n = read(fd, p->buf + got, SX_PSEUDO_MAX - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		fst.st_size = (off_t)got;
	}
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_stat(e, &fst);
	archive_entry_copy_pathname(e, p->name.s);
	add_xattrs(e, fd);
	bool data;
	int r = put_header(p, &e, &data, err);
	if (r < 0 || !data)
		goto out;
	if (ps) {
		if (archive_write_data(p->a, p->buf, got) < 0)
			r = ar_fail(p, p->name.s, err);
		p->bytes += got;
		goto out;
	}
	uint64_t left = (uint64_t)fst.st_size;
	while (left > 0) {
		size_t want = left < SX_IO_SIZE ? (size_t)left : SX_IO_SIZE;
		ssize_t n = read(fd, p->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			r = gfs_error_sys(err, errno, "reading %.200s",
					  p->name.s);
			goto out;
		}
		if (n <= 0) {
			/* it shrank: zeros keep the archive whole */
			n = (ssize_t)want;
			memset(p->buf, 0, want);
		}
		if (archive_write_data(p->a, p->buf, (size_t)n) < 0) {
			r = ar_fail(p, p->name.s, err);
			goto out;
		}
		left -= (uint64_t)n;
		p->bytes += (uint64_t)n;
	}
out:
	archive_entry_free(e);
	return r;
}

static int emit_dir(struct pack *p, int fd, const struct stat *st, int depth,
		    gfs_err *err)
{
	if (depth > SX_MAX_DEPTH)
		return gfs_error(err, ELOOP, "%.200s: deeper than %d levels",
				 p->name.s, SX_MAX_DEPTH);
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_stat(e, st);
	archive_entry_copy_pathname(e, p->name.s);
	add_xattrs(e, fd);
	bool data;
	int r = put_header(p, &e, &data, err);
	archive_entry_free(e);
	if (r < 0)
		return r;
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return gfs_error_sys(err, errno, "%.200s", p->name.s);
	}
	size_t len = p->name.len;
	struct dirent *de;
	errno = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len && p->name.s[len - 1] != '/')
			sbuf_addc(&p->name, '/');
		sbuf_adds(&p->name, de->d_name);
		r = emit(p, fd, st->st_dev, de->d_name, depth + 1, err);
		p->name.len = len;
		p->name.s[len] = '\0';
		errno = 0;
	}
	if (r == 0 && errno && !pseudo_fs(p, fd, st->st_dev))
		r = gfs_error_sys(err, errno, "reading directory %.200s",
				  p->name.s);
	closedir(d);
	return r;
}

/* name in dirfd, a directory on dir_dev. */
static int emit(struct pack *p, int dirfd, dev_t dir_dev, const char *name,
		int depth, gfs_err *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
			   ? 0
			   : gfs_error_sys(err, errno, "%.200s", p->name.s);
	/* what /proc or /sys do not let us read is left out, not an error:
	 * a stream of / must not fail on /proc/1/environ */
	bool ps = pseudo_fs(p, dirfd, dir_dev);
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return emit_file(p, dirfd, name, &st, ps, err);
	case S_IFDIR: {
		cleanup_close int fd =
		    openat(dirfd, name,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat fst;
		if (fd < 0 && (errno == ENOENT || ps))
			return 0;
		if (fd < 0 || fstat(fd, &fst) < 0)
			return gfs_error_sys(err, errno, "%.200s", p->name.s);
		if (fst.st_ino != st.st_ino || fst.st_dev != st.st_dev)
			return 0; /* swapped meanwhile */
		return emit_dir(p, fd, &fst, depth, err);
	}
	case S_IFLNK: {
		char target[RT_STREAM_PATH_MAX];
		ssize_t n = readlinkat(dirfd, name, target, sizeof target);
		if (n < 0 && errno == ENOENT)
			return 0;
		if (n < 0 && ps)
			return 0; /* /proc/N/exe of a process we may not see */
		if (n < 0)
			return gfs_error_sys(err, errno, "%.200s", p->name.s);
		if ((size_t)n >= sizeof target)
			return gfs_error(err, ENAMETOOLONG,
					 "%.200s: symlink target too long",
					 p->name.s);
		target[n] = '\0';
		struct archive_entry *e = archive_entry_new();
		archive_entry_copy_stat(e, &st);
		archive_entry_set_size(e, 0);
		archive_entry_copy_pathname(e, p->name.s);
		archive_entry_copy_symlink(e, target);
		bool data;
		int r = put_header(p, &e, &data, err);
		archive_entry_free(e);
		return r;
	}
	case S_IFIFO:
	case S_IFCHR:
	case S_IFBLK: {
		struct archive_entry *e = archive_entry_new();
		archive_entry_copy_stat(e, &st);
		archive_entry_set_size(e, 0);
		archive_entry_copy_pathname(e, p->name.s);
		bool data;
		int r = put_header(p, &e, &data, err);
		archive_entry_free(e);
		return r;
	}
	default:
		return 0; /* sockets: tar has no way to hold them */
	}
}

int sx_out(const struct sx_cfg *c, uint64_t *entries, uint64_t *bytes,
	   gfs_err *err)
{
	cleanup_free char *target = NULL;
	int r = rt_stream_target(c->path, c->home, &target, err);
	if (r < 0)
		return r;
	cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return gfs_error_sys(err, errno, "opening the root");
	struct pack p = {0};
	cleanup_close int start = -1;
	const char *base = NULL;
	struct stat st, pst = {0};
	if (rt_stream_dot_style(c->path)) {
		/* its contents as ./...: a symlink to a directory is followed,
		 * as a trailing slash asks */
		start =
		    sx_openat2(root, target, O_RDONLY | O_DIRECTORY, INROOT);
		if (start < 0 || fstat(start, &st) < 0)
			return gfs_error_sys(err, errno, "streamout %.200s",
					     c->path);
		sbuf_adds(&p.name, ".");
	} else {
		char *slash = strrchr(target, '/');
		base = slash + 1;
		*slash = '\0';
		start = sx_openat2(root, *target ? target : "/",
				   O_PATH | O_DIRECTORY, INROOT);
		if (start < 0 ||
		    fstatat(start, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return gfs_error_sys(err, errno, "streamout %.200s",
					     c->path);
		sbuf_adds(&p.name, base);
	}
	/* the path is there: from now on the reader gets an archive */
	sx_ready();

	p.buf =
	    xmalloc(SX_IO_SIZE > SX_PSEUDO_MAX ? SX_IO_SIZE : SX_PSEUDO_MAX);
	p.a = archive_write_new();
	p.lr = archive_entry_linkresolver_new();
	archive_write_set_format_pax_restricted(p.a);
	/* xattrs as GNU tar reads them, not twice (LIBARCHIVE.xattr too,
	 * which GNU tar warns about on every entry) */
	archive_write_set_format_option(p.a, "pax", "xattrheader", "SCHILY");
	archive_entry_linkresolver_set_strategy(p.lr, archive_format(p.a));
	/* big blocks, fewer writes; the end padded to tar's 10240 */
	archive_write_set_bytes_per_block(p.a, 256 * 1024);
	archive_write_set_bytes_in_last_block(p.a, 10240);
	if (archive_write_open(p.a, &p, NULL, dst_write, NULL) != ARCHIVE_OK) {
		r = ar_fail(&p, "streamout", err);
		goto out;
	}
	if (base)
		r = emit(&p, start, pst.st_dev, base, 0, err);
	else
		r = emit_dir(&p, start, &st, 0, err);
	if (r == 0 && archive_write_close(p.a) != ARCHIVE_OK)
		r = ar_fail(&p, "finishing the archive", err);
out:
	/* a failed archive gets no end marker: it must not pass for whole */
	if (r < 0)
		archive_write_fail(p.a);
	archive_write_free(p.a);
	archive_entry_linkresolver_free(p.lr);
	free(p.buf);
	sbuf_free(&p.name);
	*entries = p.entries;
	*bytes = p.bytes;
	if (r < 0)
		gfs_error_wrap(err, "streamout %.200s", c->path);
	return r;
}
