/* The container's root, built by gardenfs-init inside its fresh mount,
 * user, uts and net namespaces: overlay, binds, /proc, /sys, /dev, then
 * pivot_root so that neither the host tree nor the /garden mount stays
 * reachable, then the masks over /proc and /sys.  Every target inside the
 * image is resolved with RESOLVE_IN_ROOT (or is a single component checked
 * not to be a symlink) and mounted through a descriptor, so a symlink in
 * an image cannot send a mount outside the container's root; an image
 * whose /proc, /sys, /dev or /dev/null is a symlink is refused outright
 * (CVE-2019-16884, CVE-2025-31133). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/buf.h"
#include "net/net.h"
#include "runtime/init/init.h"
#include "runtime/proto.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC 0x62656572
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

static int open_in(int root, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .mode = flags & O_CREAT ? mode : 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
	return fd < 0 ? -errno : fd;
}

static char *fdpath(int fd)
{
	return xasprintf("/proc/self/fd/%d", fd);
}

static int mount_fd(const char *src, int fd, const char *type,
		    unsigned long flags, const char *data)
{
	cleanup_free char *p = fdpath(fd);
	return mount(src, p, type, flags, data) < 0 ? -errno : 0;
}

/* mkdir -p inside root; returns an O_PATH fd of the directory. */
static int mkdirs_in(int root, const char *path, gfs_err *err)
{
	cleanup_free char *copy = xstrdup(path);
	sbuf pre = SBUF_INIT;
	char *save = NULL;
	int r = 0;

	for (char *c = strtok_r(copy, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		size_t plen = pre.len;
		sbuf_addc(&pre, '/');
		sbuf_adds(&pre, c);
		int fd = open_in(root, pre.s, O_PATH | O_DIRECTORY, 0);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (fd != -ENOENT) {
			r = gfs_error_sys(err, -fd, "opening %s in the rootfs",
					  pre.s);
			goto out;
		}
		pre.s[plen] = '\0';
		cleanup_close int parent =
		    open_in(root, plen ? pre.s : ".", O_PATH | O_DIRECTORY, 0);
		pre.s[plen] = '/';
		if (parent < 0) {
			r = gfs_error_sys(err, -parent,
					  "opening the parent of %s", pre.s);
			goto out;
		}
		struct stat st;
		int e = mkdirat(parent, c, 0755) < 0 ? errno : 0;
		if (e == EEXIST &&
		    fstatat(parent, c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			r = gfs_error(
			    err, ENOENT,
			    "%s in the rootfs is a symlink to a missing "
			    "directory",
			    pre.s);
			goto out;
		}
		if (e && e != EEXIST) {
			r = gfs_error_sys(err, e, "creating %s in the rootfs",
					  pre.s);
			goto out;
		}
	}
	r = open_in(root, path, O_PATH | O_DIRECTORY, 0);
	if (r < 0)
		r = gfs_error_sys(err, -r, "opening %s in the rootfs", path);
out:
	sbuf_free(&pre);
	return r;
}

/* A mount point inside root: a directory, or an (empty) file when the
 * source is not a directory.  Returns an O_PATH fd. */
static int target_in(int root, const char *path, bool dir, gfs_err *err)
{
	if (dir)
		return mkdirs_in(root, path, err);
	int fd = open_in(root, path, O_PATH, 0);
	if (fd >= 0 || fd != -ENOENT)
		return fd >= 0
			   ? fd
			   : gfs_error_sys(err, -fd, "opening %s in the rootfs",
					   path);
	cleanup_free char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	const char *base = path;
	if (slash) {
		*slash = '\0';
		base = slash + 1;
	} else {
		parent[0] = '\0';
	}
	cleanup_close int pfd = mkdirs_in(root, parent, err);
	if (pfd < 0)
		return pfd;
	int f =
	    openat(pfd, base,
		   O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating %s in the rootfs",
				     path);
	if (f >= 0)
		close(f);
	fd = open_in(root, path, O_PATH, 0);
	if (fd < 0)
		return gfs_error_sys(err, -fd, "opening %s in the rootfs",
				     path);
	return fd;
}

/* Moves a detached tree (open_tree or fsmount) onto the target fd. */
static int attach(int tree, int target)
{
	return move_mount(tree, "", target, "",
			  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
		   ? -errno
		   : 0;
}

/* Adds attributes (MOUNT_ATTR_*) to every mount of a tree.  Only ever
 * adds: in a user namespace the flags the host locked stay as they are. */
static int setattr_rec(int tree, uint64_t attrs)
{
	struct mount_attr a = {.attr_set = attrs};
	return mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
			     sizeof a) < 0
		   ? -errno
		   : 0;
}

/* bind=SRC:DST[:ro].  The source is opened once, as a recursive copy of
 * its mount tree (open_tree), so what gets mounted is what was checked;
 * ":ro" makes every mount of that copy read-only (mount_setattr
 * AT_RECURSIVE), not only the top one as MS_REMOUNT would. */
static int do_bind(int root, const char *spec, gfs_err *err)
{
	cleanup_free char *s = xstrdup(spec);
	bool ro = false;
	struct stat st;

	/* SRC:DST[:ro] */
	char *dst = strchr(s, ':');
	if (!dst)
		return gfs_error(err, EINVAL, "bind %s: want SRC:DST[:ro]",
				 spec);
	*dst++ = '\0';
	char *opt = strchr(dst, ':');
	if (opt) {
		*opt++ = '\0';
		if (strcmp(opt, "ro") == 0)
			ro = true;
		else if (strcmp(opt, "rw") != 0)
			return gfs_error(err, EINVAL,
					 "bind %s: unknown option %s", spec,
					 opt);
	}
	if (s[0] != '/' || !*dst)
		return gfs_error(err, EINVAL,
				 "bind %s: the source must be absolute", spec);
	cleanup_close int tree = open_tree(
	    AT_FDCWD, s, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return gfs_error_sys(err, errno, "bind source %s", s);
	if (fstat(tree, &st) < 0)
		return gfs_error_sys(err, errno, "bind source %s", s);
	cleanup_close int t = target_in(root, dst, S_ISDIR(st.st_mode), err);
	if (t < 0)
		return gfs_error_wrap(err, "bind %s", spec);
	int r = ro ? setattr_rec(tree, MOUNT_ATTR_RDONLY) : 0;
	if (r < 0)
		return gfs_error_sys(err, -r, "making bind %s read-only", dst);
	r = attach(tree, t);
	if (r < 0)
		return gfs_error_sys(err, -r, "bind mounting %s on %s", s, dst);
	return 0;
}

/* /proc, /sys and /dev of the image: each must be a real directory (or
 * missing: made here).  A symlink would send the kernel's file systems,
 * and the masks over them, wherever the image author chose. */
static int mountpoint_dir(int root, const char *name, gfs_err *err)
{
	struct stat st;

	if (fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return gfs_error_sys(err, errno, "the image's /%s",
					     name);
		if (mkdirat(root, name, 0755) < 0 && errno != EEXIST)
			return gfs_error_sys(err, errno, "creating /%s", name);
	} else if (S_ISLNK(st.st_mode)) {
		return gfs_error(err, EINVAL,
				 "the image's /%s is a symlink; refused: it "
				 "must be a directory",
				 name);
	} else if (!S_ISDIR(st.st_mode)) {
		return gfs_error(err, EINVAL,
				 "the image's /%s is not a directory; refused",
				 name);
	}
	int fd =
	    openat(root, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "opening /%s", name);
	return fd;
}

/* A detached overlay of the layers the init was started with
 * (PROTO_INIT_LOWER_FD..., named through /proc/self/fd: the depot is
 * root's and 0700, so the container's root could not walk to them by
 * path), in *mnt.  why gets the kernel's reason when it fails. */
static int overlay_fs(bool userxattr, int *mnt, char *why, size_t n)
{
	static const struct {
		const char *key;
		int fd;
	} layers[] = {{"lowerdir", PROTO_INIT_LOWER_FD},
		      {"upperdir", PROTO_INIT_UPPER_FD},
		      {"workdir", PROTO_INIT_WORK_FD}};
	why[0] = '\0';
	cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	int r = 0;
	for (size_t i = 0; i < 3 && r == 0; i++) {
		char v[32];
		snprintf(v, sizeof v, "/proc/self/fd/%d", layers[i].fd);
		if (fsconfig(fs, FSCONFIG_SET_STRING, layers[i].key, v, 0) < 0)
			r = -errno;
	}
	/* in a user namespace overlay cannot use trusted.* xattrs;
	 * userxattr makes it use user.overlay.* instead */
	if (r == 0 && userxattr &&
	    fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		r = -errno;
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	if (r < 0) {
		/* the kernel's own words: "e overlay: ..." */
		ssize_t k = read(fs, why, n - 1);
		why[k > 0 ? k : 0] = '\0';
		why[strcspn(why, "\n")] = '\0';
		return r;
	}
	*mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
	return *mnt < 0 ? -errno : 0;
}

/* Mounts the overlay on rootfs/ and returns a descriptor of its root;
 * closes the layer descriptors, so that no directory of the host stays
 * open in the init. */
static int mount_overlay(const struct init_cfg *cfg, gfs_err *err)
{
	char why[256];
	int m = -1, r = -EINVAL;
	struct stat st;

	for (int fd = PROTO_INIT_LOWER_FD;
	     fd < PROTO_INIT_LOWER_FD + PROTO_INIT_NLAYERS; fd++)
		if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
			return gfs_error(err, EBADF,
					 "gardenfs-init: no descriptor of "
					 "the container's layers (fd %d)",
					 fd);
	if (!cfg->privileged)
		r = overlay_fs(true, &m, why, sizeof why);
	if (r < 0)
		r = overlay_fs(false, &m, why, sizeof why);
	if (r == 0)
		r = attach(m, PROTO_INIT_ROOTFS_FD);
	for (int fd = PROTO_INIT_LOWER_FD;
	     fd < PROTO_INIT_LOWER_FD + PROTO_INIT_NLAYERS; fd++)
		close(fd);
	if (r < 0) {
		if (m >= 0)
			close(m);
		return gfs_error_sys(err, -r, "mounting the overlay of %s%s%s",
				     cfg->lower, why[0] ? ": " : "", why);
	}
	return m;
}

static int mount_sys(int root, gfs_err *err)
{
	cleanup_close int t = mountpoint_dir(root, "sys", err);
	if (t < 0)
		return t;
	unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (mount_fd("sysfs", t, "sysfs", fl, NULL) == 0)
		return 0;
	/* sysfs needs a net namespace we own and a fully visible host /sys;
	 * fall back to the host's, every mount in it read-only (the host's
	 * cgroup mounts included) */
	cleanup_close int tree =
	    open_tree(AT_FDCWD, "/sys",
		      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return gfs_error_sys(err, errno, "mounting /sys");
	int r = setattr_rec(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
				      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (r < 0)
		return gfs_error_sys(err, -r, "making /sys read-only");
	r = attach(tree, t);
	if (r < 0)
		return gfs_error_sys(err, -r, "mounting /sys");
	return 0;
}

static int mount_dev(int root, gfs_err *err)
{
	static const char *const devs[] = {"null",   "zero",	"full",
					   "random", "urandom", "tty"};
	static const char *const links[][2] = {
	    {"ptmx", "pts/ptmx"},	   {"fd", "/proc/self/fd"},
	    {"stdin", "/proc/self/fd/0"},  {"stdout", "/proc/self/fd/1"},
	    {"stderr", "/proc/self/fd/2"},
	};
	int r;

	cleanup_close int t = mountpoint_dir(root, "dev", err);
	if (t < 0)
		return t;
	/* hidden below our tmpfs, but an image that plants it is hostile
	 * (CVE-2025-31133: a /dev/null that leads to /proc/sys/...) */
	struct stat st;
	if (fstatat(t, "null", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return gfs_error(err, EINVAL,
				 "the image's /dev/null is a symlink; refused");
	r = mount_fd("tmpfs", t, "tmpfs", MS_NOSUID | MS_NOEXEC,
		     "mode=755,size=65536k");
	if (r < 0)
		return gfs_error_sys(err, -r, "mounting /dev");
	/* a fresh tmpfs: nothing in it can be a symlink yet */
	cleanup_close int dev = open_in(root, "dev", O_PATH | O_DIRECTORY, 0);
	if (dev < 0)
		return gfs_error_sys(err, -dev, "opening /dev");
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		int f = openat(dev, devs[i],
			       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
		if (f < 0)
			return gfs_error_sys(err, errno, "creating /dev/%s",
					     devs[i]);
		close(f);
		cleanup_close int m =
		    openat(dev, devs[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		cleanup_free char *src = xasprintf("/dev/%s", devs[i]);
		r = m < 0 ? -errno : mount_fd(src, m, NULL, MS_BIND, NULL);
		if (r < 0)
			return gfs_error_sys(err, -r, "binding /dev/%s",
					     devs[i]);
	}
	if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0)
		return gfs_error_sys(err, errno,
				     "creating /dev/pts or /dev/shm");
	cleanup_close int pts = openat(dev, "pts", O_PATH | O_CLOEXEC);
	r = mount_fd("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5");
	if (r < 0)
		r = mount_fd("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
			     "newinstance,ptmxmode=0666,mode=0620");
	if (r < 0)
		return gfs_error_sys(err, -r, "mounting /dev/pts");
	cleanup_close int shm = openat(dev, "shm", O_PATH | O_CLOEXEC);
	r = mount_fd("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV,
		     "mode=1777,size=65536k");
	if (r < 0)
		return gfs_error_sys(err, -r, "mounting /dev/shm");
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			return gfs_error_sys(err, errno, "creating /dev/%s",
					     links[i][0]);
	return 0;
}

/* What runc masks by default: kernel interfaces a container has no
 * business reading (memory, keys, timers, hardware).  A directory is
 * covered by an empty read-only tmpfs, a file by /dev/null. */
static const char *const masked_proc[] = {
    "acpi",	  "asound",	 "kcore",	"keys", "latency_stats",
    "timer_list", "timer_stats", "sched_debug", "scsi",
};
static const char *const masked_sys[] = {"firmware",
					 "devices/virtual/powercap"};
/* ... and what it makes read-only: writes here change the host's kernel. */
static const char *const readonly_proc[] = {"bus", "fs", "irq", "sys",
					    "sysrq-trigger"};

/* A path inside a kernel file system we mounted: no symlink, no other
 * mount on the way.  -ENOENT when this kernel lacks it. */
static int open_beneath(int dir, const char *path)
{
	struct open_how how = {
	    .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		       RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
	return fd < 0 ? -errno : fd;
}

/* A fresh, empty, read-only tmpfs, detached. */
static int empty_tmpfs(void)
{
	cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	int m = fsmount(fs, FSMOUNT_CLOEXEC,
			MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	return m < 0 ? -errno : m;
}

/* Covers dir/path: with an empty tmpfs (a directory) or a bind of null
 * (anything else), and checks that the cover is in place. */
static int mask_one(int dir, const char *where, const char *path, int null,
		    gfs_err *err)
{
	cleanup_close int t = open_beneath(dir, path);
	if (t == -ENOENT)
		return 0; /* not on this kernel */
	if (t < 0)
		return gfs_error_sys(err, -t, "masking %s/%s", where, path);
	struct stat st;
	if (fstat(t, &st) < 0)
		return gfs_error_sys(err, errno, "masking %s/%s", where, path);
	bool isdir = S_ISDIR(st.st_mode);
	cleanup_close int tree =
	    isdir ? empty_tmpfs()
		  : open_tree(null, "",
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				  AT_EMPTY_PATH);
	if (tree < 0)
		return gfs_error_sys(err, isdir ? -tree : errno,
				     "masking %s/%s", where, path);
	int r = attach(tree, t);
	if (r < 0)
		return gfs_error_sys(err, -r, "masking %s/%s", where, path);
	/* the new mount is not below dir's mount any more: look from the
	 * path again, without RESOLVE_NO_XDEV */
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH |
					  RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS};
	cleanup_close int chk =
	    (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
	struct statfs sf;
	bool ok = chk >= 0 && fstat(chk, &st) == 0 &&
		  (isdir ? fstatfs(chk, &sf) == 0 &&
			       (unsigned long)sf.f_type == TMPFS_MAGIC
			 : S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	if (!ok)
		return gfs_error(err, EIO,
				 "masking %s/%s: not covered after "
				 "the mount",
				 where, path);
	return 0;
}

/* Binds dir/path onto itself read-only (with whatever is below it). */
static int readonly_one(int dir, const char *where, const char *path,
			gfs_err *err)
{
	cleanup_close int t = open_beneath(dir, path);
	if (t == -ENOENT)
		return 0;
	if (t < 0)
		return gfs_error_sys(err, -t, "making %s/%s read-only", where,
				     path);
	cleanup_close int tree = open_tree(t, "",
					   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					       AT_EMPTY_PATH | AT_RECURSIVE);
	int r =
	    tree < 0
		? -errno
		: setattr_rec(tree, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (r == 0)
		r = attach(tree, t);
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH |
					  RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS};
	cleanup_close int chk =
	    r < 0 ? -1 : (int)syscall(SYS_openat2, dir, path, &how, sizeof how);
	struct statvfs sv;
	if (r == 0 &&
	    (chk < 0 || fstatvfs(chk, &sv) < 0 || !(sv.f_flag & ST_RDONLY)))
		r = -EIO;
	if (r < 0)
		return gfs_error_sys(err, -r, "making %s/%s read-only", where,
				     path);
	return 0;
}

/* After pivot_root, in the container's own tree: the masks and read-only
 * paths of /proc and /sys, for privileged containers too.  /proc must be
 * the procfs we mounted and /dev/null the null device, or nothing here is
 * what it seems. */
static int mask_paths(gfs_err *err)
{
	struct statfs sf;
	struct stat st;
	int r;

	cleanup_close int proc =
	    open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (proc < 0)
		return gfs_error_sys(err, errno, "opening /proc");
	if (fstatfs(proc, &sf) < 0 ||
	    (unsigned long)sf.f_type != PROC_SUPER_MAGIC)
		return gfs_error(err, EINVAL, "/proc is not procfs");
	cleanup_close int sys =
	    open("/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sys < 0)
		return gfs_error_sys(err, errno, "opening /sys");
	if (fstatfs(sys, &sf) < 0 || (unsigned long)sf.f_type != SYSFS_MAGIC)
		return gfs_error(err, EINVAL, "/sys is not sysfs");
	cleanup_close int dev =
	    open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int null =
	    dev < 0 ? -1 : openat(dev, "null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (null < 0 || fstat(null, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3))
		return gfs_error(err, EINVAL,
				 "/dev/null is not the null device");

	for (size_t i = 0; i < sizeof masked_proc / sizeof masked_proc[0]; i++)
		if ((r = mask_one(proc, "/proc", masked_proc[i], null, err)) <
		    0)
			return r;
	for (size_t i = 0; i < sizeof masked_sys / sizeof masked_sys[0]; i++)
		if ((r = mask_one(sys, "/sys", masked_sys[i], null, err)) < 0)
			return r;
	for (size_t i = 0; i < sizeof readonly_proc / sizeof readonly_proc[0];
	     i++)
		if ((r = readonly_one(proc, "/proc", readonly_proc[i], err)) <
		    0)
			return r;
	return 0;
}

int init_rootfs(const struct init_cfg *cfg, gfs_err *err)
{
	int r;

	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return gfs_error_sys(err, errno, "making / private");
	cleanup_close int root = mount_overlay(cfg, err);
	if (root < 0)
		return root;
	cleanup_close int proc = mountpoint_dir(root, "proc", err);
	if (proc < 0)
		return proc;
	r = mount_fd("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL);
	if (r < 0)
		return gfs_error_sys(err, -r, "mounting /proc");
	r = mount_sys(root, err);
	if (r < 0)
		return r;
	r = mount_dev(root, err);
	if (r < 0)
		return r;
	/* after /proc, /sys and /dev, so that a bind into /dev (a device the
	 * host hands in) is not hidden by them; the masks come last */
	for (char **b = cfg->binds; b && *b; b++) {
		r = do_bind(root, *b, err);
		if (r < 0)
			return r;
	}

	size_t hl = strlen(cfg->handle);
	if (sethostname(cfg->handle, hl > 64 ? 64 : hl) < 0)
		return gfs_error_sys(err, errno, "setting the hostname");
	r = net_lo_up(err);
	if (r < 0)
		return r;

	/* pivot_root(".", ".") stacks the old root under the new one; the
	 * detach then drops the whole host tree, /garden included */
	if (fchdir(root) < 0)
		return gfs_error_sys(err, errno, "entering the rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return gfs_error_sys(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return gfs_error_sys(err, errno, "detaching the old root");
	if (chdir("/") < 0)
		return gfs_error_sys(err, errno, "chdir /");
	r = mask_paths(err);
	if (r < 0)
		return r;

	/* our stdio came from the host; take the container's /dev/null */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return gfs_error_sys(err, errno, "opening /dev/null");
	for (int i = 0; i < 3; i++)
		dup2(null, i);
	close(null);
	return 0;
}
