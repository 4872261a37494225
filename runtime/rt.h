/* The container runtime: containers, their init, their processes.  A plain
 * C API that knows nothing of FUSE; gardenfs/ drives it.
 *
 * Each container has a small init (gardenfs-init, pid 1 in its pid
 * namespace) that reaps and spawns processes on request over a unix socket
 * in the depot.  Process output goes straight to files in the depot, so a
 * restarted daemon (rt_restore) loses nothing.
 *
 * Depot layout (DEPOT/containers/HANDLE/ is c->dir):
 *   config        key value lines written at create
 *   init.pid      host pid and start time of the init
 *   init.sock     the init's socket
 *   next-id       the next process id (ids never repeat)
 *   stopped       exists once the container is stopped
 *   upper/ work/ rootfs/   overlay upper, work and mount point
 *   procs/ID/     stdout stderr (files), stdin (fifo), pid, exit, command
 *   meta/         owned by the front (properties, grace, events, errors)
 */
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
};

/* Once at start: checks the config, makes the depot, probes cgroups, opens
 * the disk store (quota/): the depot's own btrfs, or a loop-mounted file of
 * store_size bytes.  Each container's files then live in a subvolume of the
 * store named after its handle (its disk limit and usage). */
int rt_setup(const struct rt_config *cfg, gfs_err *err);
/* The store, or NULL when there is none (rt_setup failed to make one). */
struct quota_store *rt_store(void);
/* At daemon exit: frees the store, unmounting it when no container is
 * left. */
void rt_shutdown(bool unmount);

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

struct rt_proc {
	uint32_t id;
	pid_t pid; /* host pid */
	bool exited;
	int status;    /* exit status; 128+signal when killed */
	char *command; /* gfs_procspec_command of its spec */
};

struct rt_ctr {
	char *handle;
	char *dir; /* DEPOT/containers/HANDLE */
	bool privileged;
	bool stopping;	/* rt_stop sent, not yet done */
	bool stopped;	/* stop done, or the init is gone */
	pid_t init_pid; /* host pid of gardenfs-init */
	int sock;	/* to the init; -1 when lost */
	int pidfd;	/* the init's pidfd: readable when it dies; -1 after */
	struct rt_proc **procs; /* sorted by id */
	size_t nprocs;
	uint32_t next_id;
	char **env;	     /* the container's env, NULL-terminated */
	uint64_t created_ms; /* CLOCK_REALTIME, ms */
	struct cg *cg;
	void *priv;  /* the runtime's own */
	void *front; /* the caller's own */
};

struct rt_create {
	const char *handle; /* already validated */
	const char *rootfs; /* NULL: the default image */
	bool privileged;
	char *const *env;   /* NAME=VALUE, NULL-terminated, may be NULL */
	char *const *binds; /* SRC:DST[:ro], NULL-terminated, may be NULL */
};

/* Makes the depot dir, cgroup, namespaces, rootfs and init; returns once
 * the init is ready to spawn.  On failure nothing is left behind. */
int rt_create(const struct rt_create *spec, struct rt_ctr **out, gfs_err *err);
/* Handles of the containers in the depot, NULL-terminated. */
int rt_list(char ***handles, gfs_err *err);
/* Takes a container of the depot back after a daemon restart: reads its
 * files, reconnects to its init and learns the exits it missed (delivered by
 * the next rt_dispatch).  A container whose init is gone comes back stopped,
 * its unfinished processes exited with status 255. */
int rt_restore(const char *handle, struct rt_ctr **out, gfs_err *err);
/* Kills everything, removes the cgroup, mounts and depot dir; frees c. */
int rt_destroy(struct rt_ctr *c, gfs_err *err);
/* Frees c without touching the container (daemon exit). */
void rt_ctr_free(struct rt_ctr *c);

/* Starts a process; returns once it runs (exec succeeded).  A missing
 * executable or user fails here with ENOENT and a reason.  Exits that
 * arrive meanwhile are delivered by the next rt_dispatch. */
int rt_spawn(struct rt_ctr *c, const struct gfs_procspec *spec,
	     struct rt_proc **out, gfs_err *err);
/* ESRCH when the process has exited. */
int rt_signal(struct rt_ctr *c, struct rt_proc *p, int sig, gfs_err *err);
/* SIGTERM (SIGKILL when kill) to every process, SIGKILL to what is left
 * after 10 s; the stopped callback says when all are dead.  c->stopped
 * then stays true, persistently; rt_spawn fails with EPERM. */
int rt_stop(struct rt_ctr *c, bool kill, gfs_err *err);

struct rt_events {
	void (*exited)(struct rt_ctr *c, struct rt_proc *p, void *ud);
	void (*stopped)(struct rt_ctr *c, void *ud);
	/* the init died or its socket broke; c->stopped is now true */
	void (*gone)(struct rt_ctr *c, void *ud);
};
/* Call when c->sock or c->pidfd is readable, and after rt_spawn and
 * rt_restore.  Never blocks. */
void rt_dispatch(struct rt_ctr *c, const struct rt_events *ev, void *ud);
/* True when rt_dispatch has something queued without I/O. */
bool rt_pending(struct rt_ctr *c);

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
