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
#include "runtime/rt.h"

/* rt_setup's config, strings owned. */
extern struct rt_config rt_cfg;

enum rt_ev_kind { RT_EV_EXITED, RT_EV_STOPPED, RT_EV_GONE };

struct rt_ev {
	enum rt_ev_kind kind;
	uint32_t id;
};

struct rt_priv {
	struct rt_ev *q; /* events for the next rt_dispatch */
	size_t nq;
	char *rootfs;	/* the image spec, as given */
	char *lower;	/* the overlay lower dir */
	char *img_user; /* the image's default user (OCI config), or NULL */
	char *img_dir;	/* the image's working dir (OCI config), or NULL */
	bool restoring; /* collecting "running" answers to hello */
	uint32_t *running;
	size_t nrunning;
};

/* A reply the caller waits for: started, error, ready. */
struct rt_reply {
	bool got;
	char verb[16];
	uint32_t id;
	long long num; /* nspid (started) or errno (error) */
	pid_t pid;     /* host pid from SCM_CREDENTIALS */
	char msg[512];
};

/* One message from the init, applied to c (exits persisted and acked,
 * events queued); a reply is copied to want.  timeout_ms 0 never blocks.
 * Returns 1 when a message was handled, 0 when none came, negative when
 * the connection broke (c is then gone). */
int rt_recv(struct rt_ctr *c, int timeout_ms, struct rt_reply *want);
/* Sends a packet, waiting (bounded) for room. */
int rt_send(struct rt_ctr *c, const sbuf *b, const int *fds, size_t nfds,
	    gfs_err *err);
/* Waits for a reply with verb (or "error") and id; other messages are
 * applied meanwhile. */
int rt_wait_reply(struct rt_ctr *c, const char *verb, uint32_t id,
		  int timeout_ms, struct rt_reply *r, gfs_err *err);
/* The init is gone: close up, finish every process with 255, queue. */
void rt_gone(struct rt_ctr *c);
void rt_queue(struct rt_ctr *c, enum rt_ev_kind kind, uint32_t id);

/* Files.  rt_write_file writes a temporary and renames it into place. */
int rt_write_file(const char *path, const char *data, size_t len, gfs_err *err);
/* Reads a whole small file; NUL-terminated. */
int rt_read_file(const char *path, size_t max, char **out, size_t *len,
		 gfs_err *err);
/* rm -rf without subprocesses; never crosses into another mount. */
int rt_rm_rf(const char *path, gfs_err *err);
/* Removes name in dfd with everything below it, not following symlinks;
 * negative errno.  For trees of our own making (image caches). */
int rt_rm_tree_at(int dfd, const char *name);
/* Field 22 of /proc/PID/stat: tells a pid from its reuse. */
int rt_starttime(pid_t pid, unsigned long long *out);

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
