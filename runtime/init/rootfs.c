/* The container's root, built by gardenfs-init inside its fresh mount,
 * user, uts and net namespaces: overlay, binds, /proc, /sys, /dev, then
 * pivot_root so that neither the host tree nor the /garden mount stays
 * reachable.  Every target inside the image is resolved with
 * RESOLVE_IN_ROOT and mounted through /proc/self/fd, so a symlink in an
 * image cannot send a mount outside the container's root. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/buf.h"
#include "net/net.h"
#include "runtime/init/init.h"

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

/* Flags a bind mount must keep when remounted in a user namespace: the
 * kernel refuses to drop locked nosuid/nodev/noexec. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

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
	if (stat(s, &st) < 0)
		return gfs_error_sys(err, errno, "bind source %s", s);
	cleanup_close int t = target_in(root, dst, S_ISDIR(st.st_mode), err);
	if (t < 0)
		return gfs_error_wrap(err, "bind %s", spec);
	int r = mount_fd(s, t, NULL, MS_BIND | MS_REC, NULL);
	if (r < 0)
		return gfs_error_sys(err, -r, "bind mounting %s on %s", s, dst);
	if (!ro)
		return 0;
	/* reopen: the old fd still names what the bind now covers */
	cleanup_close int m = open_in(root, dst, O_PATH, 0);
	if (m < 0)
		return gfs_error_sys(err, -m, "reopening bind target %s", dst);
	r = mount_fd(NULL, m, NULL,
		     MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(s), NULL);
	if (r < 0)
		return gfs_error_sys(err, -r, "making bind %s read-only", dst);
	return 0;
}

static int mount_overlay(const struct init_cfg *cfg, const char *target,
			 gfs_err *err)
{
	cleanup_free char *opts =
	    xasprintf("lowerdir=%s,upperdir=%s/data/upper,workdir=%s/data/work",
		      cfg->lower, cfg->dir, cfg->dir);
	if (strpbrk(cfg->lower, ",:") || strpbrk(cfg->dir, ",:"))
		return gfs_error(err, EINVAL,
				 "overlay paths must not hold ',' or ':': %s",
				 opts);
	if (!cfg->privileged) {
		/* In a user namespace overlay cannot use trusted.* xattrs;
		 * userxattr makes it use user.overlay.* instead. */
		cleanup_free char *u = xasprintf("%s,userxattr", opts);
		if (mount("overlay", target, "overlay", MS_NODEV, u) == 0)
			return 0;
	}
	if (mount("overlay", target, "overlay", MS_NODEV, opts) < 0)
		return gfs_error_sys(err, errno, "mounting the overlay (%s)",
				     opts);
	return 0;
}

static int mount_sys(int root, gfs_err *err)
{
	cleanup_close int t = target_in(root, "sys", true, err);
	if (t < 0)
		return t;
	unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (mount_fd("sysfs", t, "sysfs", fl, NULL) == 0)
		return 0;
	/* sysfs needs a net namespace we own and a fully visible host /sys;
	 * fall back to the host's, read-only */
	int r = mount_fd("/sys", t, NULL, MS_BIND | MS_REC, NULL);
	if (r < 0)
		return gfs_error_sys(err, -r, "mounting /sys");
	cleanup_close int m = open_in(root, "sys", O_PATH | O_DIRECTORY, 0);
	if (m < 0)
		return gfs_error_sys(err, -m, "reopening /sys");
	r = mount_fd(NULL, m, NULL,
		     MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/sys"),
		     NULL);
	if (r < 0)
		return gfs_error_sys(err, -r, "making /sys read-only");
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

	cleanup_close int t = target_in(root, "dev", true, err);
	if (t < 0)
		return t;
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

/* Kernel interfaces an unprivileged container has no business reading
 * (Docker masks the same). */
static void mask_proc(void)
{
	static const char *const masked[] = {
	    "/proc/kcore",	   "/proc/keys",	  "/proc/timer_list",
	    "/proc/sysrq-trigger", "/proc/latency_stats", "/proc/sched_debug",
	};
	for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++)
		mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
}

int init_rootfs(const struct init_cfg *cfg, gfs_err *err)
{
	cleanup_free char *target = xasprintf("%s/rootfs", cfg->dir);
	int r;

	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return gfs_error_sys(err, errno, "making / private");
	r = mount_overlay(cfg, target, err);
	if (r < 0)
		return r;
	cleanup_close int root = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return gfs_error_sys(err, errno, "opening %s", target);
	for (char **b = cfg->binds; b && *b; b++) {
		r = do_bind(root, *b, err);
		if (r < 0)
			return r;
	}
	cleanup_close int proc = target_in(root, "proc", true, err);
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
	if (!cfg->privileged)
		mask_proc();

	/* our stdio came from the host; take the container's /dev/null */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return gfs_error_sys(err, errno, "opening /dev/null");
	for (int i = 0; i < 3; i++)
		dup2(null, i);
	close(null);
	return 0;
}
