/* What the files of runtime/ share with each other and nobody else: the
 * copied config, the per-container private state, file helpers, and the
 * conversation with gardenfs-init (runtime/proto.h). */
#ifndef GFS_RT_PRIV_H
#define GFS_RT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "runtime/rt.h"

/* rt_setup's config, strings owned. */
extern struct rt_config rt_cfg;

struct rt_ev {
	enum rt_ev_kind kind;
	uint32_t id;
};

/* A message waiting for room in the init's socket, with its fds. */
struct rt_msg {
	sbuf b;
	int fds[4];
	size_t nfds;
};

/* Counting a subvolume's inodes walks its metadata (about 7 ms per
 * 10,000 files): a count that took RT_DISK_SLOW_MS or more is kept for
 * RT_DISK_STALE_MS.  (btrfs itself accounts at transaction commit, up to
 * 30 s behind.) */
#define RT_DISK_SLOW_MS	 2
#define RT_DISK_STALE_MS 5000

/* The queue of unsent messages holds at most this many bytes; past it a
 * request fails (the init is not reading: frozen, or hostile). */
#define RT_OUTQ_MAX (8u << 20)

struct rt_priv {
	struct rt_ev *q; /* events for the next rt_dispatch */
	size_t nq;
	/* the inode count as last counted, and when (0: count again) */
	uint64_t disk_inodes, disk_at;
	char *rootfs;	/* the image spec, as given */
	char *lower;	/* the overlay lower dir */
	char *img_user; /* the image's default user (OCI config), or NULL */
	char *img_dir;	/* the image's working dir (OCI config), or NULL */
	char *cgname;	/* the cgroup's name (the handle, unless taken) */
	bool restoring; /* collecting "running" answers to hello */
	uint32_t *running;
	size_t nrunning;
	struct rt_msg *outq;
	size_t noutq, outq_bytes;
	uint32_t *abandoned; /* spawns given up on: kill if they start */
	size_t nabandoned;
};

/* Sends a packet, or queues it when the socket is full (rt_flush sends
 * it later); fds are dup'ed for the queue.  Fails only when the init is
 * gone or the queue is full. */
int rt_send(struct rt_ctr *c, const sbuf *b, const int *fds, size_t nfds,
	    gfs_err *err);
/* The init is gone: close up, finish every process with 255, queue. */
void rt_gone(struct rt_ctr *c);
void rt_queue(struct rt_ctr *c, enum rt_ev_kind kind, uint32_t id);
/* Inserts p into c->procs (sorted by id). */
void rt_proc_add(struct rt_ctr *c, struct rt_proc *p);
void rt_proc_free(struct rt_proc *p);

/* Files: lib/file.h (gfs_write_file, gfs_read_file). */

/* rm -rf without subprocesses; never crosses into another mount. */
int rt_rm_rf(const char *path, gfs_err *err);
/* Removes name in dfd with everything below it, not following symlinks;
 * negative errno.  For trees of our own making (image caches). */
int rt_rm_tree_at(int dfd, const char *name);
/* Field 22 of /proc/PID/stat: tells a pid from its reuse. */
int rt_starttime(pid_t pid, unsigned long long *out);

/* Binds unix socket s to name in directory dfd with mode 0600, whatever
 * the umask (the init's and the reaper's sockets). */
int rt_bind_private(int s, int dfd, const char *name, gfs_err *err);

/* The reaper (runtime/reaper.c): connects to the depot's, or starts one
 * (a fork: call before any thread exists). */
int rt_reaper_setup(const char *depot, gfs_err *err);
/* Clones an init with flags (namespaces) from the reaper, which stays its
 * parent; fds: sync socket, listening socket, the init's exe, /dev/null.
 * Thread-safe. */
int rt_reaper_clone(unsigned long flags, bool userns, const int fds[4],
		    pid_t *pid, int *pidfd, gfs_err *err);
void rt_reaper_close(void);
/* The reaper's pid when this daemon started it, else 0. */
pid_t rt_reaper_pid(void);

struct rt_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *name; /* NULL for a numeric user not in passwd */
	char *home;
};
/* Resolves "name", "uid", "uid:gid" or "name:group" (NULL: root) from
 * the container's /etc/passwd and /etc/group, read by the daemon, never
 * by running container code. */
int rt_user_resolve(struct rt_ctr *c, const char *spec, struct rt_user *u,
		    gfs_err *err);
void rt_user_free(struct rt_user *u);

#endif
