/* garden/: the Garden service.  Garden's rules live here, once, for every
 * front (the FUSE file tree in gardenfs/, the HTTP wire protocol in http/):
 * the registry of containers and their processes, properties, grace,
 * events, limits as written, the errors rings, stop and OOM policies,
 * create from one spec, destroy, capacity, restore after a restart.
 *
 * garden/ knows neither FUSE nor HTTP.  Fronts call it and subscribe to
 * what happens (gdn_waiter); it never calls a front except through those
 * subscriptions and the completions fronts hand it.  Below it the backend
 * (struct gdn_backend: runtime/, quota/, net/ in the daemon, an in-memory
 * fake in the unit tests) does the work.
 *
 * Everything runs on the loop's thread (lib/loop.h).  Operations that take
 * time (create, run, stop, destroy) return at once: 0 when started, with a
 * completion called later, or a negative errno with a reason when refused
 * (then nothing changed). */
#ifndef GFS_GARDEN_H
#define GFS_GARDEN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hash.h"
#include "lib/loop.h"
#include "lib/spec.h"
#include "runtime/cgroup.h"
#include "net/net.h"
#include "runtime/stream.h"

struct gdn_ctr;
struct gdn_proc;

/* --- subscriptions --- */

enum gdn_event {
	GDN_EV_OUTPUT = 1 << 0,	   /* a process's stdout or stderr grew */
	GDN_EV_EXIT = 1 << 1,	   /* a process exited (or never ran) */
	GDN_EV_STARTED = 1 << 2,   /* a process runs */
	GDN_EV_INFO = 1 << 3,	   /* what info says changed */
	GDN_EV_EVENTS = 1 << 4,	   /* a new event (oom) */
	GDN_EV_STOPPED = 1 << 5,   /* every process is dead after a stop */
	GDN_EV_GONE = 1 << 6,	   /* the container is destroyed */
	GDN_EV_ERROR = 1 << 7,	   /* a line was added to its errors */
	GDN_EV_STREAM = 1 << 8,	   /* a stream is ready, done or failed */
	GDN_EV_READABLE = 1 << 9,  /* a stream has bytes to read */
	GDN_EV_WRITABLE = 1 << 10, /* a stream takes bytes */
};

/* A subscription: embed it, set wake and mask, attach it to a process or
 * a container.  wake runs on the loop, may cancel this or any waiter, and
 * gets the event that happened (one bit).  A waiter on a container also
 * hears its processes' events.  GDN_EV_GONE is always delivered. */
struct gdn_waiter {
	void (*wake)(struct gdn_waiter *w, enum gdn_event ev);
	uint32_t mask;
	struct gdn_waiter *next, **prevp;
};
void gdn_proc_wait(struct gdn_proc *p, struct gdn_waiter *w);
void gdn_ctr_wait(struct gdn_ctr *c, struct gdn_waiter *w);
void gdn_waiter_cancel(struct gdn_waiter *w);
bool gdn_waiter_attached(const struct gdn_waiter *w);

/* --- the errors rings --- */

#define GDN_ERRLOG_MAX 100
struct gdn_errlog {
	char *lines[GDN_ERRLOG_MAX];
	unsigned first, n;
	char *path; /* persisted here (appended), or NULL */
};
void gdn_errlog_render(const struct gdn_errlog *l, sbuf *out);

/* --- containers --- */

enum gdn_phase {
	GDN_CREATING,	/* reserved, not yet made: invisible */
	GDN_LIVE,	/* listed and served */
	GDN_DESTROYING, /* gone from the registry, being torn down */
};

enum gdn_limit { GDN_LIM_MEMORY, GDN_LIM_CPU, GDN_LIM_PIDS, GDN_LIM_N };

struct gdn_prop {
	char *name;
	char *value; /* value bytes, NUL after them */
	size_t len;
	uint32_t slot; /* stable while it exists (inode numbers) */
};

struct gdn_ctr {
	char *handle;
	uint32_t slot; /* small, stable for its life: fronts' inode numbers */
	enum gdn_phase phase;
	bool stopped;		   /* Info's state: "stopped" when true */
	bool restoring;		   /* restored, its init has not answered yet */
	uint64_t grace;		   /* seconds; 0 = never */
	sbuf events;		   /* "oom\n"... */
	uint64_t limit[GDN_LIM_N]; /* as written (0: none) */
	struct gfs_disk disk;	   /* as written */
	uint64_t bw_rate, bw_burst;
	struct gdn_errlog errors;
	hash props;		  /* by name: struct gdn_prop */
	struct gdn_prop **pslots; /* by slot; NULL where removed */
	uint32_t npslots;
	hash procs;		 /* by name: struct gdn_proc, live and exited */
	struct gdn_proc **pbyid; /* sorted by id */
	size_t nprocs;
	uint64_t created_ms; /* CLOCK_REALTIME */
	char *path;	     /* container_path of Info */
	bool privileged;     /* container root is host root: root's alone */
	uint64_t ver_info, ver_events; /* bumped on change (for poll) */
	/* private to garden/ */
	unsigned refs;
	unsigned holds; /* open files and streams: grace waits */
	struct loop_timer grace_timer;
	struct loop_timer stop_timer;  /* a stop that takes too long */
	struct loop_timer ready_timer; /* a create or restore that hangs */
	struct gdn_waiter *waiters;
	struct gdn_pending *pending; /* completions waiting here */
	struct gdn_stream *streams;  /* open streams (aborted at destroy) */
	struct gfs_createspec *spec; /* while creating */
	bool stopping;
	char *meta; /* DEPOT/containers/H/meta, or NULL */
	void *bk;   /* the backend's */
};

/* Live containers, by handle: O(1).  NULL when none (or not live). */
struct gdn_ctr *gdn_ctr_find(const char *handle);
/* By slot (fronts' inode numbers); NULL when none is live there. */
struct gdn_ctr *gdn_ctr_slot(uint32_t slot);
/* Iterates live containers in slot order: start with slot 0. */
struct gdn_ctr *gdn_ctr_next(uint32_t *slot);
unsigned gdn_ctr_count(void);
/* Fronts that keep a pointer take a reference. */
void gdn_ctr_ref(struct gdn_ctr *c);
void gdn_ctr_put(struct gdn_ctr *c);
/* An open file or attached stream: the grace timer waits while any is. */
void gdn_ctr_hold(struct gdn_ctr *c);
void gdn_ctr_unhold(struct gdn_ctr *c);
/* A request was made: the grace time starts again. */
void gdn_ctr_touch(struct gdn_ctr *c);

typedef void (*gdn_done_fn)(void *arg, struct gdn_ctr *c, const gfs_err *err);
typedef void (*gdn_started_fn)(void *arg, struct gdn_proc *p,
			       const gfs_err *err);

/* Makes a container from spec (garden takes it: it is freed by garden).
 * Every key is checked before anything is made; a handle is generated when
 * spec->handle is NULL.  0: started, *out is the container (GDN_CREATING,
 * not yet listed) and done(arg, c, err) follows with err->code 0 on
 * success, when it is live.  On failure nothing is left. */
int gdn_create(struct gfs_createspec *spec, gdn_done_fn done, void *arg,
	       struct gdn_ctr **out, gfs_err *err);
/* Destroys c: it leaves the registry at once (its handle may be taken
 * again); done follows when every process is dead.  Its disk is released
 * in the background (and after a restart, if the daemon dies first). */
int gdn_destroy(struct gdn_ctr *c, gdn_done_fn done, void *arg, gfs_err *err);
/* Garden's Stop: term (SIGTERM, SIGKILL after 10 s) or kill.  1: already
 * stopped; 0: done follows when all processes are dead. */
int gdn_stop(struct gdn_ctr *c, bool kill, gdn_done_fn done, void *arg,
	     gfs_err *err);
int gdn_set_grace(struct gdn_ctr *c, uint64_t seconds, gfs_err *err);

int gdn_set_limit(struct gdn_ctr *c, enum gdn_limit l, uint64_t v,
		  gfs_err *err);
/* Applies "KEY=N ..." over the current disk limits. */
int gdn_set_disk(struct gdn_ctr *c, const struct gfs_disk *d, gfs_err *err);
int gdn_set_bandwidth(struct gdn_ctr *c, uint64_t rate, uint64_t burst,
		      gfs_err *err);

struct gdn_metrics {
	struct cg_metrics cg;
	uint64_t disk_bytes, disk_inodes;
	uint64_t age_ms;
	bool has_net; /* net is filled */
	struct net_stats net;
};
int gdn_metrics(struct gdn_ctr *c, struct gdn_metrics *m, gfs_err *err);

/* Properties; names are file names (no '/', no control characters, not
 * "." or "..", not ending in ".tmp"). */
bool gdn_prop_name_ok(const char *name, gfs_err *err);
struct gdn_prop *gdn_prop_find(struct gdn_ctr *c, const char *name);
struct gdn_prop *gdn_prop_slot(struct gdn_ctr *c, uint32_t slot);
int gdn_prop_set(struct gdn_ctr *c, const char *name, const char *value,
		 size_t len, struct gdn_prop **out, gfs_err *err);
int gdn_prop_remove(struct gdn_ctr *c, const char *name, gfs_err *err);
/* Values are at most this long (fronts may lower it). */
extern size_t gdn_prop_max;

/* Appends err's reason to c's errors (the top level's when c is NULL or
 * gone) and to the log. */
void gdn_report(struct gdn_ctr *c, const gfs_err *err);
extern struct gdn_errlog gdn_top_errors;
void gdn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ping: 0 and "ok", or the reason creates would fail now. */
int gdn_ping(sbuf *out);
struct gdn_capacity {
	uint64_t memory, disk, max_containers;
};
int gdn_capacity(struct gdn_capacity *cap, gfs_err *err);

/* --- processes --- */

enum gdn_proc_state { GDN_STARTING, GDN_RUNNING, GDN_EXITED };

struct gdn_proc {
	char *name;  /* Garden's process id: the spec's "id", or a number */
	uint32_t id; /* unique in the container, never reused: inodes */
	struct gdn_ctr *c;
	enum gdn_proc_state state;
	int status; /* when exited; 128+signal if killed */
	pid_t pid;  /* host pid, when known */
	char *command;
	bool tty;
	int tty_columns, tty_rows;
	bool stdin_claimed; /* a first writer came */
	/* private */
	unsigned refs;
	struct gdn_waiter *waiters;
	unsigned watching; /* output watch asked of the backend */
	struct loop_timer start_timer;
	gdn_started_fn started;
	void *started_arg;
	void *bk;
};

struct gdn_proc *gdn_proc_find(struct gdn_ctr *c, const char *name);
struct gdn_proc *gdn_proc_by_id(struct gdn_ctr *c, uint32_t id);
void gdn_proc_ref(struct gdn_proc *p);
void gdn_proc_put(struct gdn_proc *p);
/* Garden's Run: spec->id names it (a live one of that name: EEXIST; an
 * exited one is replaced), else the next number.  0: *out is the process
 * (GDN_STARTING) and started(arg, p, err) follows once it runs or failed
 * to (then it is gone from the container again). */
int gdn_run(struct gdn_ctr *c, const struct gfs_procspec *spec,
	    gdn_started_fn started, void *arg, struct gdn_proc **out,
	    gfs_err *err);
int gdn_signal(struct gdn_proc *p, int sig, gfs_err *err);
/* Output: an fd (O_RDONLY) of its stdout (1) or stderr (2) file, which
 * holds everything from byte 0; GDN_EV_OUTPUT says it grew. */
int gdn_output_open(struct gdn_proc *p, int which, gfs_err *err);
/* Whether everything the process will write is in its files (it exited
 * and the init drained its pipes). */
bool gdn_output_done(const struct gdn_proc *p);
/* The stdin FIFO for writing; *first is true for the first writer, whose
 * close is EOF (gdn_stdin_eof). */
int gdn_stdin_open(struct gdn_proc *p, bool *first, gfs_err *err);
int gdn_stdin_eof(struct gdn_proc *p, gfs_err *err);
int gdn_tty_resize(struct gdn_proc *p, int columns, int rows, gfs_err *err);

/* --- networking: NetIn, NetOut, Info's addresses --- */

/* Info's network part; empty strings and no ports without networking. */
struct gdn_net {
	struct net_info ip;
	struct net_port_map *ports; /* malloc'd */
	size_t nports;
};
void gdn_net_info(struct gdn_ctr *c, struct gdn_net *out);
void gdn_net_free(struct gdn_net *n);
/* NetIn: host port (0: the next of the pool) to container port (0: the
 * same); the pair made in *host_out, *ctr_out. */
int gdn_net_in(struct gdn_ctr *c, uint32_t host, uint32_t ctr,
	       uint32_t *host_out, uint32_t *ctr_out, gfs_err *err);
/* NetOut / BulkNetOut: rules built with net/net.h's net_rule_*; garden
 * takes them on success, the caller keeps them on failure. */
int gdn_net_out(struct gdn_ctr *c, struct net_rule *const *rules, size_t n,
		gfs_err *err);
/* One rule in the text grammar of net/out. */
int gdn_net_out_text(struct gdn_ctr *c, const char *text, gfs_err *err);
/* The mappings ("HOST CONTAINER" lines) or the rules, one a line. */
void gdn_net_list(struct gdn_ctr *c, bool in, sbuf *out);

/* --- streams: Garden's StreamIn and StreamOut --- */

enum gdn_stream_state {
	GDN_STREAM_STARTING, /* the child resolves the path */
	GDN_STREAM_READY,    /* bytes may flow */
	GDN_STREAM_DONE,     /* whole and good */
	GDN_STREAM_FAILED,   /* over: why says why */
};
struct gdn_stream;
/* A tar stream into (in) or out of path in c, as user (NULL: the
 * container's root; an unknown one is ENOENT here).  The work is a child
 * confined to the container (runtime/stream.h); garden moves bytes.  The
 * stream holds the container against its grace time until closed. */
int gdn_stream_open(struct gdn_ctr *c, bool in, const char *path,
		    const char *user, struct gdn_stream **out, gfs_err *err);
enum gdn_stream_state gdn_stream_state(const struct gdn_stream *s,
				       gfs_err *why);
/* Bytes in (streamin) or out (streamout): the count, -EAGAIN when the
 * pipe is full or empty (wait for GDN_EV_WRITABLE / GDN_EV_READABLE), 0 at
 * the end of a streamout (its state then says whether it is whole), or a
 * negative errno (EPIPE: the child stopped reading; its verdict follows). */
ssize_t gdn_stream_write(struct gdn_stream *s, const void *buf, size_t len);
ssize_t gdn_stream_read(struct gdn_stream *s, void *buf, size_t len);
/* Streamin: no more bytes; the verdict follows (GDN_EV_STREAM). */
void gdn_stream_end(struct gdn_stream *s);
void gdn_stream_wait(struct gdn_stream *s, struct gdn_waiter *w);
/* Aborts it if unfinished, and frees it. */
void gdn_stream_close(struct gdn_stream *s);
/* A stream's child is killed after this long (default an hour). */
extern uint64_t gdn_stream_limit_ms;

/* --- the backend: what does the work --- */

struct gdn_backend {
	/* Makes the container (c->handle is set) and reports with
	 * gdn_bk_created.  Validation that needs the backend (the image, the
	 * network) should fail here, synchronously, when it can. */
	int (*create)(struct gdn_ctr *c, const struct gfs_createspec *spec,
		      gfs_err *err);
	/* The create is whole (garden applied the spec's limits and
	 * properties): a restart keeps it from now on. */
	int (*commit)(struct gdn_ctr *c, gfs_err *err);
	/* A new process id (persisted: ids never repeat). */
	int (*reserve_id)(struct gdn_ctr *c, uint32_t *id, gfs_err *err);
	/* The containers to restore at start, and the half-made ones to
	 * throw away. */
	int (*list)(char ***handles, char ***half, gfs_err *err);
	/* Takes c back: sets c->path, c->created_ms, c->stopped, adds its
	 * processes with gdn_bk_proc_add, and calls gdn_bk_ready (maybe
	 * later). */
	int (*restore)(struct gdn_ctr *c, gfs_err *err);
	/* Throws a half-made container's remains away (background). */
	void (*discard)(const char *handle);
	/* Starts p; then gdn_bk_started or gdn_bk_spawn_failed. */
	int (*spawn)(struct gdn_ctr *c, struct gdn_proc *p,
		     const struct gfs_procspec *spec, gfs_err *err);
	/* p did not start in time: it must not start later. */
	void (*spawn_abandon)(struct gdn_ctr *c, struct gdn_proc *p,
			      const gfs_err *why);
	/* An exited process's name is taken again: drop it. */
	void (*forget)(struct gdn_ctr *c, struct gdn_proc *p);
	int (*signal)(struct gdn_ctr *c, struct gdn_proc *p, int sig,
		      gfs_err *err);
	/* Then gdn_bk_stopped. */
	int (*stop)(struct gdn_ctr *c, bool kill, gfs_err *err);
	/* Kills everything; gdn_bk_gone when it is dead. */
	void (*kill)(struct gdn_ctr *c);
	/* After gone: release everything; gdn_bk_destroyed once the
	 * container's processes and cgroups are gone (its disk may take
	 * longer, in the background). */
	void (*destroy)(struct gdn_ctr *c);
	int (*set_limit)(struct gdn_ctr *c, enum gdn_limit l, uint64_t v,
			 gfs_err *err);
	int (*set_disk)(struct gdn_ctr *c, uint64_t hard_bytes, gfs_err *err);
	int (*set_bandwidth)(struct gdn_ctr *c, uint64_t rate, uint64_t burst,
			     gfs_err *err);
	int (*metrics)(struct gdn_ctr *c, struct gdn_metrics *m, gfs_err *err);
	int (*output_open)(struct gdn_ctr *c, struct gdn_proc *p, int which,
			   gfs_err *err);
	/* Tell (gdn_bk_output) when p's output grows, while on. */
	void (*watch_output)(struct gdn_ctr *c, struct gdn_proc *p, bool on);
	int (*stdin_open)(struct gdn_ctr *c, struct gdn_proc *p, gfs_err *err);
	int (*stdin_eof)(struct gdn_ctr *c, struct gdn_proc *p, gfs_err *err);
	int (*tty_resize)(struct gdn_ctr *c, struct gdn_proc *p, int columns,
			  int rows, gfs_err *err);
	/* A stream's child (runtime/stream.h): start, read its verdicts,
	 * end its input, kill it, close it. */
	int (*stream_start)(struct gdn_ctr *c, bool in, const char *path,
			    const char *user, uint64_t limit_ms,
			    struct rt_stream *out, gfs_err *err);
	int (*stream_poll)(struct rt_stream *s, int *phase, gfs_err *err);
	void (*stream_end)(struct rt_stream *s);
	void (*stream_abort)(struct rt_stream *s);
	void (*stream_close)(struct rt_stream *s);
	/* Networking; NULL where there is none. */
	void (*net_info)(struct gdn_ctr *c, struct gdn_net *out);
	int (*net_in)(struct gdn_ctr *c, uint32_t host, uint32_t ctr,
		      uint32_t *host_out, uint32_t *ctr_out, gfs_err *err);
	int (*net_out)(struct gdn_ctr *c, struct net_rule *const *rules,
		       size_t n, gfs_err *err);
	void (*net_list)(struct gdn_ctr *c, bool in, sbuf *out);
	/* Every container of the list is restored (or not): what belongs to
	 * none of them may go. */
	void (*restored)(void);
	int (*capacity)(struct gdn_capacity *cap, gfs_err *err);
	/* Reason creates would fail now, or NULL. */
	const char *(*unhealthy)(void);
	/* garden's own files for c: properties, grace, events, errors,
	 * limits (DEPOT/containers/H/meta); NULL keeps them in memory. */
	char *(*meta_dir)(struct gdn_ctr *c);
};

/* What the backend tells garden. */
void gdn_bk_created(struct gdn_ctr *c, const gfs_err *err);
void gdn_bk_ready(struct gdn_ctr *c);
struct gdn_proc *gdn_bk_proc_add(struct gdn_ctr *c, uint32_t id,
				 const char *name, const char *command,
				 enum gdn_proc_state st, int status, pid_t pid);
void gdn_bk_started(struct gdn_proc *p, pid_t pid);
void gdn_bk_spawn_failed(struct gdn_proc *p, const gfs_err *err);
void gdn_bk_exited(struct gdn_proc *p, int status);
void gdn_bk_output(struct gdn_proc *p);
void gdn_bk_stopped(struct gdn_ctr *c);
/* The container's processes are all dead and will not come back (its
 * init died, or gdn's kill did it). */
void gdn_bk_gone(struct gdn_ctr *c);
void gdn_bk_oom(struct gdn_ctr *c);
void gdn_bk_destroyed(struct gdn_ctr *c);

struct gdn_config {
	uint64_t max_containers;
	/* a create or restore whose init does not answer in this long
	 * fails; a spawn likewise; a stop falls back to killing */
	uint64_t ready_timeout_ms, spawn_timeout_ms, stop_timeout_ms;
	bool foreground;   /* log to stderr, else syslog */
	char *errors_path; /* the top level's errors file, or NULL */
};

/* Once: garden over backend bk; restores what bk lists. */
int gdn_setup(const struct gdn_config *cfg, const struct gdn_backend *bk,
	      gfs_err *err);
/* At exit: frees memory; containers keep running. */
void gdn_shutdown(void);
extern struct gdn_config gdn_cfg;

#endif
