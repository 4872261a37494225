/* Unpacking tarballs and OCI image layouts into the image cache, the
 * daemon's side.
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
 * The daemon never reads an archive itself: each tarball or layer goes to
 * a child, gardenfs-unpack (runtime/unpack/), with the temporary tree's
 * descriptor, an output bound (the free space of the cache) and a time
 * limit; a decompression bomb, a hostile archive or a bug in libarchive
 * costs that child, which the worker waiting for it kills when it runs
 * over.  What the daemon does read (index.json, manifests, configs: small
 * JSON) and every file it hands over is opened without following
 * symlinks inside a layout, without blocking, and checked to be a regular
 * file before a byte of it is read: a FIFO, a socket or a device as an
 * image or a blob fails at once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "quota/quota.h"
#include "runtime/image_names.h"
#include "runtime/image_proto.h"
#include "runtime/image_unpack.h"
#include "runtime/rt_priv.h"
#include "runtime/sha256.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* index.json, manifests and configs are small; a bigger one is hostile */
#define MAX_JSON (4 << 20)
#define REF_NAME "org.opencontainers.image.ref.name"
/* One archive may take this long to unpack; a legitimate image of
 * gigabytes takes a minute. */
#define UNPACK_TIME_LIMIT_MS (10 * 60 * 1000)

#if defined(__x86_64__)
#define OCI_ARCH "amd64"
#elif defined(__aarch64__)
#define OCI_ARCH "arm64"
#elif defined(__i386__)
#define OCI_ARCH "386"
#else
#define OCI_ARCH ""
#endif

static char *unpacker;

int rt_image_setup(const char *helper_path, gfs_err *err)
{
	if (!helper_path || helper_path[0] != '/')
		return gfs_error(err, EINVAL,
				 "the image unpacker's path must be absolute");
	if (access(helper_path, X_OK) < 0)
		return gfs_error_sys(err, errno, "image unpacker %s",
				     helper_path);
	free(unpacker);
	unpacker = xstrdup(helper_path);
	return 0;
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
	case S_IFBLK:
		return "a device";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symlink";
	default:
		return "not a regular file";
	}
}

/* A regular file, open for reading: first an O_PATH descriptor (which
 * opens nothing: no FIFO blocks, no device acts), checked; then that very
 * file reopened through it, O_NONBLOCK.  below >= 0: path is inside that
 * directory (an OCI layout) and no symlink on the way is followed;
 * AT_FDCWD: the image's own path, which may be the admin's symlink.
 * what names it in reasons. */
static int open_regular(int below, const char *path, const char *what,
			gfs_err *err)
{
	int p;
	if (below == AT_FDCWD) {
		p = open(path, O_PATH | O_CLOEXEC);
	} else {
		struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
				       .resolve = RESOLVE_BENEATH |
						  RESOLVE_NO_SYMLINKS |
						  RESOLVE_NO_MAGICLINKS};
		p = (int)syscall(SYS_openat2, below, path, &how, sizeof how);
	}
	if (p < 0)
		return errno == ELOOP || errno == EXDEV
			   ? gfs_error(err, EINVAL,
				       "%s: %s is or goes through a symlink; "
				       "refused",
				       what, path)
			   : gfs_error_sys(err, errno, "%s: %s", what, path);
	cleanup_close int pfd = p;
	struct stat st, st2;
	if (fstat(pfd, &st) < 0)
		return gfs_error_sys(err, errno, "%s: %s", what, path);
	if (!S_ISREG(st.st_mode))
		return gfs_error(err, EINVAL, "%s: %s is %s; refused", what,
				 path, type_name(st.st_mode));
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", pfd);
	int fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "%s: %s", what, path);
	if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
		close(fd);
		return gfs_error(err, EIO, "%s: %s changed while opened", what,
				 path);
	}
	return fd;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Starts gardenfs-unpack on archive (a regular file), into the tree root,
 * the way runtime/stream.c starts gardenfs-stream: posix_spawn, exactly
 * the descriptors it needs, an empty environment, signals as new.  *st
 * gets the read end of its status pipe. */
static int unpacker_spawn(int archive, int root, bool oci, bool devices,
			  uint64_t limit, const char *what, pid_t *pid, int *st,
			  gfs_err *err)
{
	int sp[2];
	if (!unpacker)
		return gfs_error(err, ENOENT,
				 "no image unpacker (rt_image_setup)");
	if (pipe2(sp, O_CLOEXEC) < 0)
		return gfs_error_sys(err, errno, "pipe");
	/* above the child's 0..3, so that its dup2s clobber no source */
	int a = fcntl(archive, F_DUPFD_CLOEXEC, 10);
	int w = fcntl(sp[1], F_DUPFD_CLOEXEC, 10);
	int t = fcntl(root, F_DUPFD_CLOEXEC, 10);
	close(sp[1]);
	char *argv[] = {
	    "gardenfs-unpack",
	    xasprintf("oci=%d", oci ? 1 : 0),
	    xasprintf("devices=%d", devices ? 1 : 0),
	    xasprintf("limit=%llu", (unsigned long long)limit),
	    xasprintf("limit_ms=%d", UNPACK_TIME_LIMIT_MS),
	    xasprintf("ppid=%d", (int)getpid()),
	    /* last, so that nothing in it can pass for another argument */
	    xasprintf("what=%s", what),
	    NULL,
	};
	char *envp[] = {NULL};
	int e = a < 0 || w < 0 || t < 0 ? errno : 0;
	if (e == 0) {
		posix_spawn_file_actions_t fa;
		posix_spawnattr_t at;
		sigset_t none, all;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, a, RT_UNPACK_ARCHIVE_FD);
		posix_spawn_file_actions_adddup2(&fa, w, RT_UNPACK_STATUS_FD);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
						 0);
		posix_spawn_file_actions_adddup2(&fa, t, RT_UNPACK_ROOT_FD);
		posix_spawn_file_actions_addclosefrom_np(&fa,
							 RT_UNPACK_ROOT_FD + 1);
		posix_spawnattr_init(&at);
		/* the daemon blocks signals for its signalfd and ignores
		 * SIGPIPE; the child starts with neither */
		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setsigdefault(&at, &all);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
						  POSIX_SPAWN_SETSIGDEF);
		e = posix_spawn(pid, unpacker, &fa, &at, argv, envp);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&at);
	}
	for (size_t i = 1; argv[i]; i++)
		free(argv[i]);
	if (a >= 0)
		close(a);
	if (w >= 0)
		close(w);
	if (t >= 0)
		close(t);
	if (e) {
		close(sp[0]);
		return gfs_error_sys(err, e, "starting %s", unpacker);
	}
	*st = sp[0];
	return 0;
}

/* Runs the unpacker on one archive and waits (a worker may) for its
 * verdict, killing it at the time limit.  The daemon's loop reaps any
 * child of ours, so the exit status may be gone: the verdict is what the
 * child says on its pipe, and a pipe that ends without one is a crash. */
static int run_unpacker(int archive, int root, bool oci, bool devices,
			uint64_t limit, const char *what,
			struct rt_unpack_verdict *v, gfs_err *err)
{
	pid_t pid = -1;
	int st = -1;
	int r = unpacker_spawn(archive, root, oci, devices, limit, what, &pid,
			       &st, err);
	if (r < 0)
		return r;
	/* our child for as long as its pipe is open: it has no way to pass
	 * its end on (no fork, no sockets), so a pidfd made now names it
	 * whenever we would kill it */
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	char buf[RT_UNPACK_RECORD_MAX + 1];
	size_t len = 0;
	uint64_t deadline = mono_ms() + UNPACK_TIME_LIMIT_MS + 5000;
	bool timed_out = false, overlong = false;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd pf = {st, POLLIN, 0};
		int n = poll(&pf, 1, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		ssize_t k = read(st, buf + len, sizeof buf - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (len == sizeof buf - 1) {
			overlong = true;
			break;
		}
	}
	close(st);
	if ((timed_out || overlong) && pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (pidfd >= 0) {
		/* it is dead or dying: reap it, unless the loop did */
		struct pollfd pf = {pidfd, POLLIN, 0};
		poll(&pf, 1, 5000);
		waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG);
	}
	if (timed_out)
		return gfs_error(err, ETIMEDOUT,
				 "%s: unpacking took longer than %d s; killed",
				 what, UNPACK_TIME_LIMIT_MS / 1000);
	if (overlong)
		return gfs_error(err, EPROTO,
				 "%s: the image unpacker said too much", what);
	if (len == 0) {
		if (si.si_pid > 0 && si.si_code != CLD_EXITED)
			return gfs_error(err, EIO,
					 "%s: the image unpacker died of "
					 "signal %d",
					 what, si.si_status);
		return gfs_error(err, EIO,
				 "%s: the image unpacker ended without a "
				 "verdict",
				 what);
	}
	return rt_unpack_record_parse(buf, len, v, err);
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
	cleanup_free char *what = xasprintf("image %s", spec);
	cleanup_close int fd = open_regular(AT_FDCWD, spec, "image", err);
	if (fd < 0)
		return err->code == EINVAL
			   ? gfs_error_wrap(err,
					    "not a directory, an archive or "
					    "oci:DIR[:TAG]")
			   : fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return gfs_error_sys(err, errno, "image %s", spec);

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

	cleanup_free char *tmp = NULL;
	int root = -1;
	r = tmp_make(cfd, cache, &tmp, &root, err);
	if (r < 0)
		return gfs_error_wrap(err, "image %s", spec);
	struct rt_unpack_verdict v;
	r = run_unpacker(fd, root, false, allow_devices, free_bytes(cfd), what,
			 &v, err);
	if (r == 0 && v.entries == 0)
		r = gfs_error(err, EINVAL,
			      "image %s: an archive with no entries", spec);
	close(root);
	if (r < 0) {
		tmp_drop(cfd, tmp);
		if (err->code == EINVAL && !strstr(err->msg, "entry"))
			gfs_error_wrap(err, "not a directory or an archive "
					    "gardenfs reads (tar: plain, gzip, "
					    "bzip2, xz, zstd)");
		return r;
	}
	memcpy(hex, v.hex, sizeof hex);
	cleanup_free char *name =
	    v.devices ? xasprintf("%s-dev", hex) : xstrdup(hex);
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
	cleanup_close int fd = open_regular(dfd, path, "layout", err);
	if (fd < 0)
		return NULL;
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

/* One layer, unpacked by a child into the tree root (whiteouts apply to
 * what the layers before made); devices says whether one made a device
 * node. */
static int apply_layer(int lfd, int root, int cfd, bool allow_devices,
		       json_t *desc, size_t i, bool *devices, gfs_err *err)
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
	cleanup_close int fd = open_regular(lfd, p, what, err);
	if (fd < 0)
		return fd;
	struct rt_unpack_verdict v;
	int r = run_unpacker(fd, root, true, allow_devices, free_bytes(cfd),
			     what, &v, err);
	if (r < 0)
		return r;
	if (strcmp(v.hex, jstr(desc, "digest") + 7) != 0)
		return gfs_error(err, EINVAL,
				 "%s: content does not match its digest", what);
	*devices = *devices || v.devices;
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
	/* O_PATH: a FIFO named as the layout is never opened */
	cleanup_close int lfd = open(layout, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return gfs_error_sys(err, errno, "image %s", spec);

	json_t *index = NULL, *nested = NULL, *manifest = NULL, *config = NULL;
	cleanup_free char *tmp = NULL;
	int root = -1;
	bool devices = false;
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
		r = tmp_make(cfd, cache, &tmp, &root, err);
		if (r < 0)
			goto out;
		json_array_foreach(layers, i, l)
		{
			r = apply_layer(lfd, root, cfd, allow_devices, l, i,
					&devices, err);
			if (r < 0)
				break;
		}
		close(root);
		if (r < 0) {
			tmp_drop(cfd, tmp);
			goto out;
		}
		cleanup_free char *name =
		    devices ? xasprintf("%s-dev", key) : xstrdup(key);
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
