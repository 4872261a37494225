/* The container runtime: containers, their init, their processes.  A plain
 * C API that knows nothing of FUSE or of Garden's rules; garden/ drives it.
 *
 * Each container has a small init (gardenfs-init, pid 1 in its pid
 * namespace) that reaps and spawns processes on request over a unix socket
 * in the depot.  Process output goes to files in the depot, so a restarted
 * daemon (rt_restore) loses nothing.  The inits are children of the
 * depot's reaper (runtime/reaper.c), a small process that outlives the
 * daemon, so an init that dies while no daemon runs is still reaped.
 *
 * Nothing here waits for the init.  Calls that need its answer (create,
 * restore, spawn, stop) send their request and return; the answer arrives
 * on c->sock, and rt_dispatch (called when the caller's loop sees c->sock,
 * c->sync or c->pidfd readable) turns it into an event.  Messages the
 * socket cannot take yet are queued: call rt_flush when c->sock is
 * writable while rt_wants_write says so.
 *
 * Threads: rt_setup, rt_create, rt_destroy_finish, rt_trash_empty and
 * rt_proc_remove_files may block on file work and are meant for worker
 * threads; everything else is for the loop's thread and never blocks.
 * A container belongs to one thread at a time (the caller sees to it).
 *
 * Depot layout (DEPOT/containers/HANDLE/ is c->dir):
 *   config        key value lines written at create
 *   created       exists once create finished (a half-made one is removed)
 *   init.pid      host pid and start time of the init
 *   init.sock     the init's socket
 *   next-id       the next process id (ids never repeat)
 *   stopped       exists once the container is stopped
 *   data/         what the container writes: upper/ work/
 * out/ID/{stdout,stderr} rootfs/       the overlay's mount point (in the init's
 * mount namespace) procs/ID/     stdin (fifo), pid, exit, command, name meta/
 * garden/'s (properties, grace, events, errors, limits) DEPOT/trash/ holds
 * destroyed containers until their disk is released. */
#ifndef GFS_RT_H
#define GFS_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "lib/spec.h"

struct cg;
struct quota_store;

struct rt_config {
	const char *depot;     /* absolute path, created if missing */
	const char *init_path; /* absolute path of the gardenfs-init binary */
	const char *rootfs;    /* default image */
	const char
	    *instance; /* keeps this daemon's cgroups apart: "gardenfs-XXXX" */
	uid_t id_base; /* host uid and gid that container root maps to */
	uint32_t id_count;   /* ids mapped from id_base (>= 65536) */
	uint64_t store_size; /* bytes of DEPOT/store.img when not on btrfs */
	/* the gardenfs-unpack binary; NULL: next to the running program */
	const char *unpack_path;
};

/* Once at start: checks the config, makes the depot, probes cgroups, opens
 * the disk store (quota/): the depot's own btrfs, or a loop-mounted file of
 * store_size bytes, and connects to the depot's reaper (starting one when
 * none runs).  Call before any thread is made: it may fork. */
int rt_setup(const struct rt_config *cfg, gfs_err *err);
/* The store, or NULL when there is none. */
struct quota_store *rt_store(void);
/* At daemon exit: frees the store, unmounting it when no container is
 * left, and lets the reaper go when it has nothing to reap. */
void rt_shutdown(bool unmount);
/* Worker: releases what DEPOT/trash holds (destroys a crash interrupted). */
int rt_trash_empty(gfs_err *err);

struct rt_ctr;
/* The container's hard disk limit in bytes (0: none): its subvolume's
 * qgroup limit.  ENOTSUP without a store. */
int rt_disk_limit(struct rt_ctr *c, uint64_t bytes, gfs_err *err);
/* Bytes from its qgroup and inodes counted in its subvolume (0 and 0
 * without a store). */
int rt_disk_usage(struct rt_ctr *c, uint64_t *bytes, uint64_t *inodes,
		  gfs_err *err);
/* The store's size, or 0 without a store. */
uint64_t rt_disk_capacity(void);

enum rt_proc_state {
	RT_STARTING, /* asked for, not yet exec'd */
	RT_RUNNING,
	RT_EXITED,
	RT_FAILED, /* never ran: spawn_err says why */
};

struct rt_proc {
	uint32_t id;   /* never repeats in a container; the protocol's */
	char *name;    /* what the tree shows: the spec's id, or the id */
	pid_t pid;     /* host pid, once running */
	bool exited;   /* RT_EXITED or RT_FAILED */
	int status;    /* exit status; 128+signal when killed */
	char *command; /* gfs_procspec_command of its spec */
	enum rt_proc_state state;
	gfs_err spawn_err; /* RT_FAILED */
	bool tty;	   /* runs on a pty of the init's */
	int cols, rows;	   /* its window */
	void *owner;	   /* the caller's own */
};

struct rt_ctr {
	char *handle;
	char *dir; /* DEPOT/containers/HANDLE, or its place in trash */
	bool privileged;
	bool ready;	/* create or restore finished: the init answered */
	bool stopping;	/* rt_stop sent, not yet done */
	bool stopped;	/* stop done, or the init is gone */
	pid_t init_pid; /* host pid of gardenfs-init */
	int sock;	/* to the init; -1 when lost */
	int sync;	/* while creating: the init's setup verdict; else -1 */
	int pidfd;	/* the init's pidfd: readable when it dies; -1 after */
	struct rt_proc **procs; /* sorted by id */
	size_t nprocs;
	uint32_t next_id;
	char **env;	     /* the container's env, NULL-terminated */
	uint64_t created_ms; /* CLOCK_REALTIME, ms */
	struct cg *cg;
	gfs_err create_err; /* why create or restore failed (EV_GONE) */
	void *priv;	    /* the runtime's own */
	void *owner;	    /* the caller's own */
};

struct rt_create {
	const char *handle; /* already validated */
	const char *rootfs; /* NULL: the default image */
	bool privileged;
	char *const *env;   /* NAME=VALUE, NULL-terminated, may be NULL */
	char *const *binds; /* SRC:DST[:ro], NULL-terminated, may be NULL */
	/* files the init writes into the container's /etc before anything
	 * runs (owned by container root, 0644); NULL: leave as in the image */
	const char *hosts, *resolv;
};

/* Worker: makes the depot dir, cgroup, namespaces and rootfs and starts
 * the init.  Returns once the init is on its way; its verdict comes as
 * EV_READY (or EV_GONE with c->create_err) from rt_dispatch.  On failure
 * here nothing is left behind.  EEXIST while the handle's directory is
 * there. */
int rt_create(const struct rt_create *spec, struct rt_ctr **out, gfs_err *err);
/* The worker that made c: has the init already said how its setup went?
 * 1 it is fine, 0 not yet, -1 it failed (why says why; it is gone). */
int rt_setup_verdict(struct rt_ctr *c, gfs_err *why);
/* Handles of the containers in the depot, NULL-terminated; *half gets
 * those whose create never finished (remove them with rt_destroy_*). */
int rt_list(char ***handles, char ***half, gfs_err *err);
/* Loop: takes a container of the depot back after a daemon restart: reads
 * its files and says hello to its init; EV_READY follows once the init
 * told what happened meanwhile.  A container whose init is gone comes back
 * stopped, its unfinished processes exited with status 255. */
int rt_restore(const char *handle, struct rt_ctr **out, gfs_err *err);
/* Loop: the container's create finished (writes `created`). */
int rt_mark_created(struct rt_ctr *c, gfs_err *err);
/* Destroy in four steps.  rt_kill (loop): SIGKILL to the init (and so to
 * every process of the container); EV_GONE follows when it is dead (the
 * pidfd).  rt_detach (loop): moves the directory into DEPOT/trash, so that
 * a new container can take the handle at once.  rt_destroy_cgroup
 * (worker): waits until the init is reaped and removes the cgroups.
 * rt_destroy_finish (worker): what is left (the disk, the files), and
 * frees c. */
void rt_kill(struct rt_ctr *c);
int rt_detach(struct rt_ctr *c, gfs_err *err);
int rt_destroy_cgroup(struct rt_ctr *c, gfs_err *err);
int rt_destroy_finish(struct rt_ctr *c, gfs_err *err);
/* Frees c without touching the container (daemon exit). */
void rt_ctr_free(struct rt_ctr *c);
/* Loop: a half-made container of the depot (rt_list's half): its init is
 * killed and its directory moved to the trash; then rt_discard_finish on a
 * worker releases the rest. */
struct rt_ctr *rt_discard(const char *handle, gfs_err *err);
int rt_discard_finish(struct rt_ctr *c, gfs_err *err);

/* Loop: a new process id, persisted first (ids never repeat). */
int rt_reserve_id(struct rt_ctr *c, uint32_t *id, gfs_err *err);
/* Loop: starts process id (from rt_reserve_id), named name (NULL: its
 * id).  Returns the new process in RT_STARTING at once; EV_STARTED or
 * EV_SPAWN_FAILED follows.  What can be refused without the init
 * (stopped, bad dir, unknown user) fails here, with nothing made. */
int rt_spawn(struct rt_ctr *c, const struct gfs_procspec *spec, uint32_t id,
	     const char *name, struct rt_proc **out, gfs_err *err);
/* Loop: gives up on a spawn the init did not answer: the process fails
 * with err; should it start later after all, it is killed. */
void rt_spawn_abandon(struct rt_ctr *c, struct rt_proc *p, const gfs_err *err);
/* Loop: drops an exited process from the table (its name is then free);
 * its files stay until rt_proc_remove_files (worker) takes them. */
void rt_proc_forget(struct rt_ctr *c, struct rt_proc *p);
int rt_proc_remove_files(const char *dir, uint32_t id, gfs_err *err);
/* Loop (or the worker that owns c while creating): writes /etc/NAME
 * (hosts, resolv.conf) in the container, queued behind what the init was
 * asked before. */
int rt_write_etc(struct rt_ctr *c, const char *name, const char *text,
		 gfs_err *err);
/* A TTY process's new window size. */
int rt_tty_resize(struct rt_ctr *c, struct rt_proc *p, int cols, int rows,
		  gfs_err *err);
/* ESRCH when the process has exited. */
int rt_signal(struct rt_ctr *c, struct rt_proc *p, int sig, gfs_err *err);
/* SIGTERM (SIGKILL when kill) to every process, SIGKILL to what is left
 * after 10 s; EV_STOPPED says when all are dead.  c->stopped then stays
 * true, persistently; rt_spawn fails with EPERM. */
int rt_stop(struct rt_ctr *c, bool kill, gfs_err *err);

enum rt_ev_kind {
	RT_EV_EXITED,	    /* a process exited (p) */
	RT_EV_STOPPED,	    /* every process is dead after rt_stop */
	RT_EV_GONE,	    /* the init died or broke off; c->stopped is true */
	RT_EV_READY,	    /* create or restore finished */
	RT_EV_STARTED,	    /* a process runs (p) */
	RT_EV_SPAWN_FAILED, /* a process never ran (p->spawn_err) */
};
/* Loop: reads what the init said (never blocks) and calls fn for each
 * event, in order.  fn may call back into the runtime, rt_kill and
 * rt_proc_forget included. */
void rt_dispatch(struct rt_ctr *c,
		 void (*fn)(struct rt_ctr *c, enum rt_ev_kind k,
			    struct rt_proc *p, void *ud),
		 void *ud);
/* Messages wait for room in c->sock: poll it for writing and call
 * rt_flush. */
bool rt_wants_write(struct rt_ctr *c);
void rt_flush(struct rt_ctr *c);

struct rt_proc *rt_proc_find(struct rt_ctr *c, uint32_t id);
/* DEPOT/containers/HANDLE/procs/ID/NAME (malloc'd). */
char *rt_proc_path(struct rt_ctr *c, uint32_t id, const char *name);
/* The process's stdin FIFO, opened O_WRONLY|O_NONBLOCK|O_CLOEXEC. */
int rt_stdin_open(struct rt_ctr *c, struct rt_proc *p, gfs_err *err);
/* The first writer closed: the process reads EOF once no writer is left. */
int rt_stdin_eof(struct rt_ctr *c, struct rt_proc *p, gfs_err *err);
/* A directory fd of the container's root as its processes see it
 * (/proc/INIT/root), for resolving paths inside with RESOLVE_IN_ROOT. */
int rt_root_fd(struct rt_ctr *c, gfs_err *err);

#endif
