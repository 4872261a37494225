/* The btrfs store: finding or making the file system (a loop-mounted
 * sparse file when the depot is not on btrfs), subvolumes per container,
 * their qgroup limits and usage.  See quota/quota.h for the contract. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "quota/quota.h"

/* "clear this limit" for BTRFS_IOC_QGROUP_LIMIT */
#define LIMIT_NONE ((__u64)-1)
/* mkfs.btrfs refuses smaller devices */
#define STORE_MIN (128ULL << 20)
/* where a btrfs super block carries its magic */
#define SUPER_MAGIC_OFF 0x10040
#define SUPER_MAGIC	"_BHRfS_M"

extern char **environ;

struct quota_store {
	char *path; /* DEPOT/store */
	char *img;  /* DEPOT/store.img when loop-backed, else NULL */
	int fd;	    /* on path */
};

bool quota_is_btrfs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC;
}

bool quota_is_subvol(int fd)
{
	struct stat st;
	/* a subvolume's root directory is always inode 256 */
	return quota_is_btrfs(fd) && fstat(fd, &st) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_ino == BTRFS_FIRST_FREE_OBJECTID;
}

static bool valid_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && strlen(name) <= BTRFS_SUBVOL_NAME_MAX;
}

/* A subvolume of the store: NAME, or a path DIR/.../NAME below it. */
static bool valid_path(const char *name)
{
	if (!name || !*name || strlen(name) > 4000)
		return false;
	char buf[4096];
	strcpy(buf, name);
	for (char *save = NULL, *p = strtok_r(buf, "/", &save); p;
	     p = strtok_r(NULL, "/", &save))
		if (!valid_name(p))
			return false;
	return name[0] != '/' && !strstr(name, "//") &&
	       name[strlen(name) - 1] != '/';
}

static bool is_mount_root(const char *path)
{
	struct statx stx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &stx) < 0)
		return false;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* The id of the subvolume whose root fd is open on. */
static int subvol_id(int fd, uint64_t *id, gfs_err *err)
{
	struct btrfs_ioctl_ino_lookup_args a = {
	    .treeid = 0, .objectid = BTRFS_FIRST_FREE_OBJECTID};
	if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &a) < 0)
		return gfs_error_sys(err, errno, "looking up subvolume id");
	*id = a.treeid;
	return 0;
}

static int open_subvol(struct quota_store *s, const char *name, uint64_t *id,
		       gfs_err *err)
{
	if (!valid_path(name))
		return gfs_error(err, EINVAL, "bad subvolume name `%s`",
				 name ? name : "");
	int fd = openat(s->fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "subvolume %s", name);
	if (!quota_is_subvol(fd)) {
		close(fd);
		return gfs_error(err, EINVAL, "%s/%s is not a subvolume",
				 s->path, name);
	}
	if (id && subvol_id(fd, id, err) < 0) {
		close(fd);
		return gfs_error_wrap(err, "subvolume %s", name);
	}
	return fd;
}

/* Runs mkfs.btrfs on img; its complaint, if any, becomes the reason. */
static int run_mkfs(const char *img, gfs_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return gfs_error_sys(err, errno, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	char *argv[] = {"mkfs.btrfs", "-q", "-f",	 "-L",
			"gardenfs",   "--", (char *)img, NULL};
	pid_t pid;
	int r = posix_spawnp(&pid, "mkfs.btrfs", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return gfs_error_sys(
		    err, r, "running mkfs.btrfs (install btrfs-progs)");
	}
	char msg[256];
	size_t n = 0;
	ssize_t k;
	while ((k = read(p[0], msg + n, sizeof msg - 1 - n)) > 0 ||
	       (k < 0 && errno == EINTR))
		if (k > 0)
			n += (size_t)k;
	msg[n] = '\0';
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return gfs_error_sys(err, errno, "waiting for mkfs");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return gfs_error(err, EIO, "mkfs.btrfs %s failed: %s", img,
				 n ? msg : "no reason given");
	return 0;
}

/* The sparse image file, made and formatted on first use.  It is formatted
 * whenever it has no btrfs super block, so a crash between creating and
 * formatting it heals on the next start. */
static int make_image(const char *img, uint64_t size, gfs_err *err)
{
	cleanup_close int fd = open(img, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return gfs_error_sys(err, errno, "opening %s", img);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return gfs_error_sys(err, errno, "stat %s", img);
	char magic[8];
	if (st.st_size > SUPER_MAGIC_OFF &&
	    pread(fd, magic, sizeof magic, SUPER_MAGIC_OFF) == sizeof magic &&
	    memcmp(magic, SUPER_MAGIC, sizeof magic) == 0)
		return 0;
	if (size < STORE_MIN)
		return gfs_error(
		    err, EINVAL,
		    "store size %llu is below the 128M btrfs needs",
		    (unsigned long long)size);
	if (ftruncate(fd, (off_t)size) < 0)
		return gfs_error_sys(err, errno, "sizing %s", img);
	return run_mkfs(img, err);
}

/* Attaches img to a free loop device with autoclear, so that the device
 * goes away by itself when the last user (the mount) does. */
static int loop_attach(const char *img, char *dev, size_t devlen, gfs_err *err)
{
	cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return gfs_error_sys(err, errno, "/dev/loop-control");
	cleanup_close int ifd = open(img, O_RDWR | O_CLOEXEC);
	if (ifd < 0)
		return gfs_error_sys(err, errno, "opening %s", img);
	/* another process may take the device between GET_FREE and
	 * CONFIGURE; then ask again */
	for (int tries = 0; tries < 32; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return gfs_error_sys(err, errno, "no free loop device");
		snprintf(dev, devlen, "/dev/loop%d", n);
		int fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			/* a /dev without the node (a container's): make it */
			if (mknod(dev, S_IFBLK | 0660, makedev(7, n)) < 0 &&
			    errno != EEXIST)
				return gfs_error_sys(err, errno, "mknod %s",
						     dev);
			fd = open(dev, O_RDWR | O_CLOEXEC);
		}
		if (fd < 0)
			return gfs_error_sys(err, errno, "opening %s", dev);
		struct loop_config cfg;
		memset(&cfg, 0, sizeof cfg);
		cfg.fd = (__u32)ifd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name,
			 sizeof cfg.info.lo_file_name, "%s", img);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			return fd;
		int e = errno;
		close(fd);
		if (e != EBUSY)
			return gfs_error_sys(err, e, "attaching %s to %s", img,
					     dev);
	}
	return gfs_error(err, EBUSY, "no loop device stayed free");
}

static int mount_image(const char *img, const char *path, gfs_err *err)
{
	char dev[64];
	int lfd = loop_attach(img, dev, sizeof dev, err);
	if (lfd < 0)
		return lfd;
	int r = 0;
	if (mount(dev, path, "btrfs", MS_NOATIME | MS_NODEV | MS_NOSUID, NULL) <
	    0)
		r = gfs_error_sys(err, errno, "mounting %s (%s) on %s", img,
				  dev, path);
	/* the mount holds the device now; with autoclear our close frees it
	 * when the mount failed */
	close(lfd);
	if (r < 0)
		return r;
	/* a shared parent would copy our mount to its peers, where our
	 * unmount could not remove it */
	if (mount(NULL, path, NULL, MS_PRIVATE, NULL) < 0) {
		r = gfs_error_sys(err, errno, "making %s private", path);
		umount2(path, UMOUNT_NOFOLLOW);
		return r;
	}
	return 0;
}

/* The store holds image trees with setuid-root files and device nodes
 * for privileged containers: never honoured from the store itself (the
 * containers' overlays have their own mounts).  mount_image mounts it so;
 * a store an older daemon mounted is remounted so, and checked. */
static int harden_mount(int fd, const char *path, gfs_err *err)
{
	struct statvfs sv;
	const unsigned long want = ST_NOSUID | ST_NODEV;
	if (fstatvfs(fd, &sv) < 0)
		return gfs_error_sys(err, errno, "statvfs %s", path);
	if ((sv.f_flag & want) == want)
		return 0;
	unsigned long fl = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV;
	if (sv.f_flag & ST_RDONLY)
		fl |= MS_RDONLY;
	if (sv.f_flag & ST_NOEXEC)
		fl |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		fl |= MS_NOATIME;
	if (mount(NULL, path, NULL, fl, NULL) < 0)
		return gfs_error_sys(err, errno, "remounting %s nosuid,nodev",
				     path);
	if (fstatvfs(fd, &sv) < 0 || (sv.f_flag & want) != want)
		return gfs_error(err, EIO, "%s is still not nosuid,nodev",
				 path);
	return 0;
}

static int enable_quota(int fd, const char *path, gfs_err *err)
{
	struct btrfs_ioctl_quota_ctl_args q = {.cmd = BTRFS_QUOTA_CTL_ENABLE};
	/* a no-op when quotas are on already */
	if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &q) < 0)
		return gfs_error_sys(err, errno, "enabling quotas on %s", path);
	/* enabling starts a rescan; numbers are wrong until it ends */
	if (ioctl(fd, BTRFS_IOC_QUOTA_RESCAN_WAIT) < 0 && errno != ENOTCONN)
		return gfs_error_sys(err, errno, "waiting for quota rescan");
	return 0;
}

int quota_store_open(const char *depot, uint64_t size, struct quota_store **out,
		     gfs_err *err)
{
	struct quota_store *s = xcalloc(1, sizeof *s);
	int r;

	s->fd = -1;
	s->path = xasprintf("%s/store", depot);
	if (mkdir(depot, 0700) < 0 && errno != EEXIST) {
		r = gfs_error_sys(err, errno, "mkdir %s", depot);
		goto fail;
	}
	cleanup_close int dfd = open(depot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = gfs_error_sys(err, errno, "opening depot %s", depot);
		goto fail;
	}
	if (mkdir(s->path, 0700) < 0 && errno != EEXIST) {
		r = gfs_error_sys(err, errno, "mkdir %s", s->path);
		goto fail;
	}
	if (!quota_is_btrfs(dfd)) {
		s->img = xasprintf("%s/store.img", depot);
		/* mounted by an earlier run (whose containers may still be
		 * running): use it as it is */
		if (!is_mount_root(s->path)) {
			r = make_image(s->img, size, err);
			if (r == 0)
				r = mount_image(s->img, s->path, err);
			if (r < 0)
				goto fail;
		}
	}
	s->fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0) {
		r = gfs_error_sys(err, errno, "opening %s", s->path);
		goto fail;
	}
	if (s->img) {
		r = harden_mount(s->fd, s->path, err);
		if (r < 0)
			goto fail;
	}
	if (!quota_is_btrfs(s->fd)) {
		r = gfs_error(err, ENOTSUP,
			      "%s is mounted but is not btrfs; unmount it",
			      s->path);
		goto fail;
	}
	r = enable_quota(s->fd, s->path, err);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	quota_store_close(s, false, GFS_IGNORE);
	return r;
}

const char *quota_store_path(const struct quota_store *s)
{
	return s->path;
}

/* The block device under the store, e.g. /dev/loop3, for checking that the
 * loop device really went away after the unmount. */
static void store_device(int fd, char *dev, size_t len)
{
	struct btrfs_ioctl_dev_info_args di;
	memset(&di, 0, sizeof di);
	di.devid = 1;
	dev[0] = '\0';
	if (ioctl(fd, BTRFS_IOC_DEV_INFO, &di) == 0)
		snprintf(dev, len, "%s", (char *)di.path);
}

/* Frees dev if it still holds img: autoclear has done it unless someone
 * (an older daemon, a person) attached the image without it. */
static int loop_release(const char *dev, const char *img, gfs_err *err)
{
	struct stat ist;
	if (strncmp(dev, "/dev/loop", 9) != 0 || stat(img, &ist) < 0)
		return 0;
	cleanup_close int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct loop_info64 li;
	/* autoclear runs as the mount lets go of the device; give it a
	 * moment */
	for (int i = 0; i < 100; i++) {
		if (ioctl(fd, LOOP_GET_STATUS64, &li) < 0)
			return 0; /* ENXIO: free */
		if (li.lo_inode != ist.st_ino || li.lo_device != ist.st_dev)
			return 0; /* someone else's now */
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (ioctl(fd, LOOP_CLR_FD) < 0)
		return gfs_error_sys(err, errno, "freeing %s", dev);
	return 0;
}

int quota_store_close(struct quota_store *s, bool unmount, gfs_err *err)
{
	int r = 0;
	if (!s)
		return 0;
	char dev[BTRFS_DEVICE_PATH_NAME_MAX + 1] = "";
	if (unmount && s->img && s->fd >= 0)
		store_device(s->fd, dev, sizeof dev);
	if (s->fd >= 0)
		close(s->fd);
	if (unmount && s->img && is_mount_root(s->path)) {
		if (umount2(s->path, UMOUNT_NOFOLLOW) < 0)
			r = gfs_error_sys(err, errno, "unmounting %s", s->path);
		else if (dev[0])
			r = loop_release(dev, s->img, err);
	}
	free(s->path);
	free(s->img);
	free(s);
	return r;
}

int quota_store_size(struct quota_store *s, uint64_t *bytes, gfs_err *err)
{
	struct btrfs_ioctl_fs_info_args fi;
	memset(&fi, 0, sizeof fi);
	if (ioctl(s->fd, BTRFS_IOC_FS_INFO, &fi) < 0)
		return gfs_error_sys(err, errno, "store %s", s->path);
	uint64_t total = 0;
	/* device ids can have holes after a device was removed */
	for (uint64_t id = 1; id <= fi.max_id; id++) {
		struct btrfs_ioctl_dev_info_args di;
		memset(&di, 0, sizeof di);
		di.devid = id;
		if (ioctl(s->fd, BTRFS_IOC_DEV_INFO, &di) < 0) {
			if (errno == ENODEV)
				continue;
			return gfs_error_sys(err, errno, "store %s device %llu",
					     s->path, (unsigned long long)id);
		}
		total += di.total_bytes;
	}
	*bytes = total;
	return 0;
}

int quota_subvol_make_at(int dirfd, const char *name, gfs_err *err)
{
	struct btrfs_ioctl_vol_args a;
	if (!valid_name(name))
		return gfs_error(err, EINVAL, "bad subvolume name `%s`",
				 name ? name : "");
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	if (ioctl(dirfd, BTRFS_IOC_SUBVOL_CREATE, &a) < 0)
		return gfs_error_sys(err, errno, "creating subvolume %s", name);
	return 0;
}

/* name may be DIR/.../BASE (a path in the store, such as
 * "containers/web/data"): the directory fd and the last component. */
static int parent_dir(struct quota_store *s, const char *name,
		      const char **base, gfs_err *err)
{
	if (!valid_path(name))
		return gfs_error(err, EINVAL, "bad subvolume name `%s`", name);
	const char *slash = strrchr(name, '/');
	if (!slash) {
		*base = name;
		int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? gfs_error_sys(err, errno, "dup") : fd;
	}
	cleanup_free char *dir = xstrndup(name, slash - name);
	*base = slash + 1;
	int fd =
	    openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return gfs_error_sys(err, errno, "opening %s in the store",
				     dir);
	return fd;
}

int quota_subvol_create(struct quota_store *s, const char *name, char **path,
			gfs_err *err)
{
	const char *base;
	cleanup_close int dfd = parent_dir(s, name, &base, err);
	if (dfd < 0)
		return dfd;
	int r = quota_subvol_make_at(dfd, base, err);
	if (r < 0)
		return r;
	if (path)
		*path = xasprintf("%s/%s", s->path, name);
	return 0;
}

static int destroy_one(int dirfd, const char *name)
{
	struct btrfs_ioctl_vol_args_v2 a;
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", name);
	if (ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY_V2, &a) == 0)
		return 0;
	if (errno != ENOTTY && errno != EOPNOTSUPP)
		return -errno;
	struct btrfs_ioctl_vol_args v1;
	memset(&v1, 0, sizeof v1);
	snprintf(v1.name, sizeof v1.name, "%s", name);
	return ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY, &v1) < 0 ? -errno : 0;
}

/* Deletes every subvolume nested anywhere below the directory fd, deepest
 * first: btrfs refuses to delete a subvolume that holds another. */
static int destroy_nested(int fd, int depth, gfs_err *err)
{
	if (depth > 64)
		return gfs_error(err, ELOOP, "subvolumes nested too deep");
	int dup_fd = dup(fd);
	if (dup_fd < 0)
		return gfs_error_sys(err, errno, "dup");
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return gfs_error_sys(err, errno, "opendir");
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		int c = openat(fd, de->d_name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c < 0)
			continue;
		r = destroy_nested(c, depth + 1, err);
		bool sub = quota_is_subvol(c);
		close(c);
		if (r == 0 && sub) {
			r = destroy_one(fd, de->d_name);
			if (r < 0)
				r = gfs_error_sys(
				    err, -r, "deleting nested subvolume %s",
				    de->d_name);
		}
	}
	closedir(d);
	return r;
}

int quota_subvol_remove_at(int dirfd, const char *name, gfs_err *err)
{
	int r = destroy_one(dirfd, name);
	if (r == -ENOTEMPTY) {
		int fd =
		    openat(dirfd, name,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return gfs_error_sys(err, errno, "opening %s", name);
		r = destroy_nested(fd, 0, err);
		close(fd);
		if (r < 0)
			return gfs_error_wrap(err, "subvolume %s", name);
		r = destroy_one(dirfd, name);
	}
	if (r < 0)
		return gfs_error_sys(err, -r, "deleting subvolume %s", name);
	return 0;
}

/* One tree search of at most one item with exactly this key; returns the
 * item's length (copied to buf) or 0 when there is none. */
static int search_one(int fd, uint64_t tree, uint64_t objectid, uint8_t type,
		      uint64_t offset, void *buf, size_t len)
{
	struct btrfs_ioctl_search_args a;
	memset(&a, 0, sizeof a);
	a.key.tree_id = tree;
	a.key.min_objectid = a.key.max_objectid = objectid;
	a.key.min_type = a.key.max_type = type;
	a.key.min_offset = a.key.max_offset = offset;
	a.key.max_transid = (__u64)-1;
	a.key.nr_items = 1;
	if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &a) < 0)
		return -errno;
	if (a.key.nr_items == 0)
		return 0;
	struct btrfs_ioctl_search_header h;
	memcpy(&h, a.buf, sizeof h);
	if (h.objectid != objectid || h.type != type || h.offset != offset)
		return 0;
	size_t n = h.len < len ? h.len : len;
	memcpy(buf, a.buf + sizeof h, n);
	return (int)(n ? n : 1);
}

/* Whether the root item of subvolume id is still there: a deleted
 * subvolume keeps it until the cleaner has dropped all its extents. */
static bool root_exists(int fd, uint64_t id)
{
	struct btrfs_ioctl_search_args a;
	memset(&a, 0, sizeof a);
	a.key.tree_id = BTRFS_ROOT_TREE_OBJECTID;
	a.key.min_objectid = a.key.max_objectid = id;
	a.key.min_type = a.key.max_type = BTRFS_ROOT_ITEM_KEY;
	a.key.max_offset = (__u64)-1;
	a.key.max_transid = (__u64)-1;
	a.key.nr_items = 1;
	if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &a) < 0)
		return false;
	return a.key.nr_items > 0;
}

/* Waits until the cleaner has dropped subvolume id: only then can its
 * qgroup go, and only then is its space free again.  Returns whether it
 * did within a minute.  We poll rather than use BTRFS_IOC_SUBVOL_SYNC_WAIT,
 * which sleeps a whole second between its own checks. */
static bool wait_dropped(int fd, uint64_t id)
{
	for (int i = 0; i < 12000; i++) {
		/* the cleaner runs after a commit; without one it may wait
		 * for the commit interval */
		if (i % 40 == 0)
			ioctl(fd, BTRFS_IOC_SYNC);
		if (!root_exists(fd, id))
			return true;
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Reads qgroup 0/id's counters; false when there is no such qgroup. */
static bool qgroup_info(int fd, uint64_t id, struct btrfs_qgroup_info_item *it)
{
	memset(it, 0, sizeof *it);
	return search_one(fd, BTRFS_QUOTA_TREE_OBJECTID, 0,
			  BTRFS_QGROUP_INFO_KEY, id, it, sizeof *it) > 0;
}

int quota_subvol_destroy(struct quota_store *s, const char *name, gfs_err *err)
{
	uint64_t id;
	int fd = open_subvol(s, name, &id, err);
	if (fd < 0)
		return fd;
	close(fd);
	const char *base;
	cleanup_close int dfd = parent_dir(s, name, &base, err);
	if (dfd < 0)
		return dfd;
	int r = quota_subvol_remove_at(dfd, base, err);
	if (r < 0)
		return r;
	/* The extents the drop freed are accounted at the next commit; a
	 * qgroup removed before that still has numbers, and btrfs then marks
	 * all qgroup data inconsistent.  Linux 6.10 and later remove the
	 * qgroup themselves once it is empty; older ones leave it to us.  A
	 * subvolume so big that it takes over a minute to drop keeps its
	 * qgroup rather than hold up the caller longer. */
	if (!wait_dropped(s->fd, id))
		return 0;
	struct btrfs_qgroup_info_item it;
	for (int i = 0;; i++) {
		if (ioctl(s->fd, BTRFS_IOC_SYNC) < 0)
			return gfs_error_sys(err, errno,
					     "committing the store");
		if (!qgroup_info(s->fd, id, &it))
			return 0;
		if (it.rfer == 0 && it.excl == 0)
			break;
		if (i == 200)
			return 0;
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	struct btrfs_ioctl_qgroup_create_args q = {.create = 0, .qgroupid = id};
	if (ioctl(s->fd, BTRFS_IOC_QGROUP_CREATE, &q) < 0 && errno != ENOENT)
		return gfs_error_sys(err, errno, "removing qgroup 0/%llu of %s",
				     (unsigned long long)id, name);
	return 0;
}

int quota_set_limit(struct quota_store *s, const char *name, uint64_t bytes,
		    gfs_err *err)
{
	uint64_t id;
	int fd = open_subvol(s, name, &id, err);
	if (fd < 0)
		return fd;
	close(fd);
	struct btrfs_ioctl_qgroup_limit_args a;
	memset(&a, 0, sizeof a);
	a.qgroupid = id;
	a.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
	a.lim.max_rfer = bytes ? bytes : LIMIT_NONE;
	if (ioctl(s->fd, BTRFS_IOC_QGROUP_LIMIT, &a) < 0)
		return gfs_error_sys(err, errno, "limiting %s to %llu bytes",
				     name, (unsigned long long)bytes);
	return 0;
}

/* Counts the inode items in subvolume tree id, in batches of what fits in
 * a 64 KiB buffer. */
static int count_inodes(int fd, uint64_t id, uint64_t *count, gfs_err *err)
{
	size_t bufsz = 65536;
	cleanup_free struct btrfs_ioctl_search_args_v2 *a =
	    xmalloc(sizeof *a + bufsz);
	struct btrfs_ioctl_search_key k;
	uint64_t n = 0;

	memset(&k, 0, sizeof k);
	k.tree_id = id;
	k.min_objectid = BTRFS_FIRST_FREE_OBJECTID;
	k.max_objectid = BTRFS_LAST_FREE_OBJECTID;
	k.min_type = BTRFS_INODE_ITEM_KEY;
	k.max_type = BTRFS_INODE_ITEM_KEY;
	k.max_offset = (__u64)-1;
	k.max_transid = (__u64)-1;
	for (;;) {
		/* the range is compound: every item between the first and
		 * the last inode comes back, and we keep the inode items */
		a->key = k;
		a->key.nr_items = (__u32)-1;
		a->buf_size = bufsz;
		if (ioctl(fd, BTRFS_IOC_TREE_SEARCH_V2, a) < 0)
			return gfs_error_sys(err, errno,
					     "searching subvolume %llu",
					     (unsigned long long)id);
		if (a->key.nr_items == 0)
			break;
		struct btrfs_ioctl_search_header h;
		size_t off = 0;
		for (uint32_t i = 0; i < a->key.nr_items; i++) {
			memcpy(&h, (char *)a->buf + off, sizeof h);
			off += sizeof h + h.len;
			if (h.type == BTRFS_INODE_ITEM_KEY)
				n++;
		}
		/* next key after the last one seen */
		k.min_objectid = h.objectid;
		k.min_type = (__u8)h.type;
		k.min_offset = h.offset;
		if (k.min_offset < (__u64)-1) {
			k.min_offset++;
		} else if (k.min_type < 255) {
			k.min_type++;
			k.min_offset = 0;
		} else {
			if (k.min_objectid == k.max_objectid)
				break;
			k.min_objectid++;
			k.min_type = 0;
			k.min_offset = 0;
		}
	}
	*count = n;
	return 0;
}

int quota_usage(struct quota_store *s, const char *name, uint64_t *bytes,
		uint64_t *inodes, gfs_err *err)
{
	uint64_t id;
	cleanup_close int fd = open_subvol(s, name, &id, err);
	if (fd < 0)
		return fd;
	if (bytes) {
		struct btrfs_qgroup_info_item it;
		memset(&it, 0, sizeof it);
		int r = search_one(s->fd, BTRFS_QUOTA_TREE_OBJECTID, 0,
				   BTRFS_QGROUP_INFO_KEY, id, &it, sizeof it);
		if (r < 0)
			return gfs_error_sys(err, -r, "reading qgroup of %s",
					     name);
		if (r == 0)
			return gfs_error(err, ENOENT,
					 "subvolume %s has no qgroup 0/%llu",
					 name, (unsigned long long)id);
		*bytes = le64toh(it.rfer);
	}
	if (inodes) {
		int r = count_inodes(s->fd, id, inodes, err);
		if (r < 0)
			return gfs_error_wrap(err, "counting inodes of %s",
					      name);
	}
	return 0;
}

int quota_snapshot(struct quota_store *s, const char *src, const char *dst_name,
		   char **path, gfs_err *err)
{
	if (!valid_name(dst_name))
		return gfs_error(err, EINVAL, "bad subvolume name `%s`",
				 dst_name ? dst_name : "");
	cleanup_close int sfd =
	    open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return gfs_error_sys(err, errno, "snapshot source %s", src);
	if (!quota_is_subvol(sfd))
		return gfs_error(err, EINVAL, "%s is not a btrfs subvolume",
				 src);
	struct btrfs_ioctl_vol_args_v2 a;
	memset(&a, 0, sizeof a);
	a.fd = sfd;
	snprintf(a.name, sizeof a.name, "%s", dst_name);
	if (ioctl(s->fd, BTRFS_IOC_SNAP_CREATE_V2, &a) < 0)
		return gfs_error_sys(err, errno, "snapshotting %s as %s", src,
				     dst_name);
	if (path)
		*path = xasprintf("%s/%s", s->path, dst_name);
	return 0;
}
