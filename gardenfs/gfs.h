/* The FUSE front of gardenfs: the daemon's state, the node tables, per-open
 * state and parked requests.  Only gardenfs/ knows FUSE; it drives the plain
 * C APIs of runtime/. */
#ifndef GFS_FRONT_H
#define GFS_FRONT_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "runtime/rt.h"

/* Every node of the tree has a type; directories are tables of types
 * (Plan 9's Dirtab).  An inode number is computed from (container slot,
 * index, type): idx is a process id or a property slot. */
enum gfs_type {
	T_NONE,
	T_ROOT, /* inode 1 */
	T_CTL,
	T_PING,
	T_CAPACITY,
	T_TOPERRORS,
	T_CTR, /* /garden/H */
	T_INFO,
	T_STOP,
	T_EVENTS,
	T_GRACE,
	T_ERRORS,
	T_METRICS,
	T_LIMITS, /* dir */
	T_LMEMORY,
	T_LCPU,
	T_LPIDS,
	T_LDISK,
	T_PROPS, /* dir */
	T_PROP,	 /* idx: property slot */
	T_PROCS, /* dir */
	T_NEW,
	T_PROC, /* dir, idx: process id */
	T_STDIN,
	T_STDOUT,
	T_STDERR,
	T_WAIT,
	T_SIGNAL,
	T_STATUS,
	T_NTYPES
};

enum gfs_kind {
	K_DIR,	  /* a table, or dynamic entries */
	K_TEXT,	  /* rendered at open / offset 0, sliced by reads */
	K_CMD,	  /* write: one command; read: text (may be empty) */
	K_CLONE,  /* write: one command; read on the same fd: its answer */
	K_STREAM, /* stdout, stderr, wait: parked reads */
	K_STDIN,
	K_PROP,
};

struct gfs_ctx;
struct gfs_fh;

struct gfs_node {
	const char *name;
	enum gfs_kind kind;
	mode_t mode;
	/* K_TEXT, K_CMD: renders the whole file */
	int (*render)(struct gfs_ctx *x, sbuf *out, gfs_err *err);
	/* K_CMD, K_CLONE: one command; *answer (K_CLONE) is what a read on
	 * the same descriptor returns.  Return 1 to park the write (stop). */
	int (*write)(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		     size_t len, gfs_err *err);
	size_t max_write; /* 0: GFS_CMD_MAX */
};

extern const struct gfs_node gfs_nodes[T_NTYPES];

/* A recent-failures log: the last GFS_ERRLOG_MAX lines. */
#define GFS_ERRLOG_MAX 100
struct gfs_errlog {
	char *lines[GFS_ERRLOG_MAX];
	unsigned first, n;
	char *path; /* persisted here (appended), or NULL */
};

struct gfs_prop {
	char *name;
	char *value; /* without the trailing newline */
	size_t len;
};

struct gfs_parked;
struct gfs_watch;

struct gfs_ctr;
struct gfs_evtag {
	int kind;
	struct gfs_ctr *c;
};

/* A container as the front sees it; c->rt is the runtime's. */
struct gfs_ctr {
	struct rt_ctr *rt;
	char *handle;
	uint32_t slot;
	unsigned refs; /* the table's, and one per open file */
	bool destroyed;
	int opens;		    /* open files in the container (grace) */
	uint64_t grace;		    /* seconds; 0 = never */
	uint64_t grace_deadline_ms; /* 0: not armed */
	struct gfs_errlog errors;
	sbuf events;
	struct gfs_prop **props; /* by slot; NULL where removed */
	uint32_t nprops;
	struct gfs_parked *parked; /* reads and writes waiting here */
	struct gfs_fh *pollers;	   /* open files with a poll handle */
	struct gfs_fh *fdfhs;	   /* open files holding a depot fd */
	struct gfs_watch *watches; /* inotify watches on procs/ID */
	char *meta;		   /* DEPOT/containers/H/meta */
	bool *stdin_claimed;	   /* by process id */
	uint32_t nstdin_claimed;
	uint64_t ver_info, ver_events; /* bumped on change (poll) */
	int sock_reg, pidfd_reg;       /* fds registered in epoll */
	struct gfs_evtag ev_sock, ev_pidfd, ev_oom;
	int oom_reg; /* the cgroup's OOM fd, in epoll; -1 when not */
};

/* Per-open state (fi->fh). */
struct gfs_fh {
	enum gfs_type type;
	struct gfs_ctr *c; /* NULL at top level */
	uint32_t idx;
	sbuf text;   /* the snapshot of a text file */
	sbuf answer; /* K_CLONE: what the read returns */
	uint64_t answer_off;
	int fd;		   /* stdout/stderr file, stdin fifo */
	uint64_t off;	   /* stream offset */
	bool first_writer; /* stdin: its close is EOF */
	bool wrote;	   /* K_PROP: written since open */
	bool trunc;	   /* K_PROP: opened with O_TRUNC, emptied at close
			      unless written */
	struct fuse_pollhandle *ph;
	struct gfs_fh *poll_next, **poll_prevp;
	struct gfs_fh *fd_next, **fd_prevp; /* in c->fdfhs while fd >= 0 */
	uint64_t seen; /* info/events: the version last read */
	bool notify;   /* a poll notification is due */
	struct gfs_fh *notify_next;
	int flags; /* open flags */
	/* readdir snapshot */
	struct gfs_dirent *dents;
	size_t ndents;
};

struct gfs_dirent {
	char *name;
	fuse_ino_t ino;
	mode_t mode;
};

/* A request waiting for something: a read of stdout/stderr/wait, a write
 * to stop, a write to stdin whose pipe is full. */
struct gfs_parked {
	int evkind; /* EV_STDIN: this is also an epoll tag */
	fuse_req_t req;
	struct gfs_fh *fh;
	struct gfs_ctr *c;
	enum gfs_type type;
	uint32_t id; /* process id */
	size_t size;
	char *data; /* a parked stdin write's bytes */
	struct gfs_parked *next, **prevp;
};

/* Tags of what the loop polls (the first int of every epoll data.ptr). */
enum {
	EV_FUSE = 1,
	EV_SIGNAL,
	EV_INOTIFY,
	EV_STDIN,
	EV_SOCK,
	EV_PIDFD,
	EV_OOM
};

/* A request-handler context: the node being served. */
struct gfs_ctx {
	enum gfs_type type;
	struct gfs_ctr *c;
	uint32_t idx;
	struct rt_proc *p; /* for process nodes */
};

struct gfs_options {
	char *mountpoint;
	char *depot;
	char *rootfs;
	char *init_path;
	bool foreground;
	uint64_t max_containers;
	uint64_t store_size; /* 0: no store */
};

struct gfs_daemon {
	struct gfs_options opt;
	struct fuse_session *se;
	int epfd, sigfd, inofd;
	char instance[32];
	struct gfs_ctr **slots; /* slot 0 unused */
	uint32_t nslots, next_slot;
	uint32_t nctrs;
	struct gfs_errlog errors;
	uint64_t start_ms;
	bool deadlines_dirty;
	bool exiting;
};

extern struct gfs_daemon gfs;

/* inode numbers */
fuse_ino_t gfs_ino(uint32_t slot, uint64_t idx, enum gfs_type t);
void gfs_ino_split(fuse_ino_t ino, uint32_t *slot, uint64_t *idx,
		   enum gfs_type *t);

/* tab.c: the fixed rows of a directory, T_NONE-terminated */
const enum gfs_type *gfs_table(enum gfs_type dir);
enum gfs_type gfs_table_find(enum gfs_type dir, const char *name);

/* fs.c */
extern const struct fuse_lowlevel_ops gfs_ops;
void gfs_wake(struct gfs_ctr *c, uint32_t id); /* output or exit of id */
void gfs_wake_stop(struct gfs_ctr *c);
void gfs_notify_pollers(struct gfs_ctr *c, enum gfs_type t, uint32_t id);
void gfs_fail_parked(struct gfs_ctr *c);
/* Before a destroy: let go of every fd and watch on the container's files,
 * which would keep its subvolume from being dropped. */
void gfs_release_files(struct gfs_ctr *c);
void gfs_inotify_event(void);
void gfs_stdin_writable(struct gfs_parked *pk);
void gfs_flush_notifications(void);
void gfs_drop_watches(struct gfs_ctr *c, uint32_t id); /* id 0: all */

/* main.c: containers and the loop */
int gfs_ctr_create(const char *handle, const struct rt_create *rc,
		   char *const *props, bool grace_set, uint64_t grace,
		   struct gfs_ctr **out, gfs_err *err);
int gfs_ctr_destroy(struct gfs_ctr *c, gfs_err *err);
struct gfs_ctr *gfs_ctr_find(const char *handle);
struct gfs_ctr *gfs_ctr_slot(uint32_t slot);
void gfs_ctr_put(struct gfs_ctr *c);
void gfs_ctr_activity(struct gfs_ctr *c); /* re-evaluates the grace timer */
uint64_t gfs_now_ms(void);
void gfs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends err's reason to the container's errors (or the top level's). */
void gfs_report(struct gfs_ctr *c, const gfs_err *err);

/* limits.c: the files of limits/, metrics, OOM (handlers: see tab.c) */
int gfs_set_limit(struct gfs_ctr *c, enum gfs_type t, uint64_t v, gfs_err *err);
void gfs_oom_register(struct gfs_ctr *c);
void gfs_oom_unregister(struct gfs_ctr *c);
void gfs_oom_event(struct gfs_ctr *c);
/* disk.c: limits/disk, disk usage and capacity from the store */
void gfs_disk_usage(struct gfs_ctr *c, uint64_t *bytes, uint64_t *inodes);
uint64_t gfs_disk_capacity(void); /* 0: no store */
int gfs_apply_disk(struct gfs_ctr *c, const char *cmd, gfs_err *err);
uint64_t gfs_wall_ms(void);

/* meta.c: what the front keeps in DEPOT/containers/H/meta */
void gfs_errlog_init(struct gfs_errlog *l, char *path);
void gfs_errlog_add(struct gfs_errlog *l, const char *line);
void gfs_errlog_render(struct gfs_errlog *l, sbuf *out);
void gfs_errlog_free(struct gfs_errlog *l);
int gfs_meta_load(struct gfs_ctr *c, gfs_err *err);
int gfs_meta_save_grace(struct gfs_ctr *c, gfs_err *err);
int gfs_meta_add_event(struct gfs_ctr *c, const char *ev, gfs_err *err);
struct gfs_prop *gfs_prop_find(struct gfs_ctr *c, const char *name,
			       uint32_t *slot);
int gfs_prop_set(struct gfs_ctr *c, const char *name, const char *value,
		 size_t len, uint32_t *slot, gfs_err *err);
int gfs_prop_remove(struct gfs_ctr *c, const char *name, gfs_err *err);
int gfs_write_file(const char *path, const void *data, size_t len,
		   gfs_err *err); /* tmp + rename */
void gfs_ctr_free_meta(struct gfs_ctr *c);

#endif
