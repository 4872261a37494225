/* Streaming tar archives into and out of a container (Garden's StreamIn
 * and StreamOut), the daemon's side.
 *
 * The daemon never parses an archive and never touches a container's
 * files: each stream is a child, gardenfs-stream (runtime/stream/), that
 * enters the container's user and mount namespaces, drops to the user,
 * locks itself down (capabilities, rlimits, seccomp, a time limit) and
 * unpacks or packs with libarchive, every path resolved under the
 * container's root.  The daemon only moves bytes between FUSE requests and
 * the child's pipes, so a hostile archive or container can at worst kill
 * that child.
 *
 * Everything here returns at once: start spawns the child and gives back
 * non-blocking descriptors for the event loop; nothing waits on the child.
 *
 *   data    streamin: the write end of the archive's pipe (close it, with
 *           rt_stream_end_input, when the writer is done);
 *           streamout: the read end; end of file once the archive is whole
 *           (or the child died: only the status says which).
 *   status  read end of the child's verdicts, in order: "ready" once the
 *           path is resolved (streamin: the destination exists; streamout:
 *           the source exists), then "done" after the last byte; or, at
 *           any point, an error (errno and a one-line reason).  End of
 *           file without a verdict is a crash: EIO.
 *   pidfd   the child; for rt_stream_abort, and readable once it exits.
 */
#ifndef GFS_RT_STREAM_H
#define GFS_RT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "runtime/stream_proto.h"

struct rt_ctr;

struct rt_stream_req {
	/* the container's init: its user and mount namespaces (and with the
	 * latter its root) are entered.  init_pidfd, when >= 0, names it
	 * without a pid race (rt_ctr's pidfd); else init_pid is opened. */
	pid_t init_pid;
	int init_pidfd;
	bool privileged; /* no user namespace: only the mount one is entered */
	/* the user, resolved by the daemon (rt_user_resolve reads the
	 * container's /etc/passwd as data); the child never uses NSS */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	const char *home; /* absolute, in the container */
	bool as_root;	  /* the container's root: archive owners are kept */
	/* as the user wrote it: absolute, or relative to home; "." is home;
	 * streamout: a trailing slash (or "/", ".") gives "./" entries */
	const char *path;
	uint64_t time_limit_ms; /* the child kills itself after this; 0: none */
};

struct rt_stream {
	pid_t pid;
	int pidfd;
	int data;   /* O_NONBLOCK | O_CLOEXEC */
	int status; /* O_NONBLOCK | O_CLOEXEC */
	bool in;
	int phase;		 /* enum rt_stream_phase */
	uint64_t entries, bytes; /* from "done" */
	uint64_t deadline_ms;	 /* CLOCK_MONOTONIC; 0: none */
	gfs_err fail;		 /* why, once RT_STREAM_FAILED */
	size_t slen;
	char sbuf[RT_STREAM_RECORD_MAX];
};

/* Once, before any stream: the gardenfs-stream binary (absolute path;
 * next to the daemon, like gardenfs-init).  ENOENT/EACCES when it cannot
 * be run. */
int rt_stream_setup(const char *helper_path, gfs_err *err);

/* Spawn the child; on success *out holds its fds (phase STARTING) and
 * must be given to rt_stream_close (or rt_stream_abort) later.  On failure
 * nothing is left. */
int rt_stream_in_start(const struct rt_stream_req *rq, struct rt_stream *out,
		       gfs_err *err);
int rt_stream_out_start(const struct rt_stream_req *rq, struct rt_stream *out,
			gfs_err *err);

/* The same for a container of the runtime: resolves user (NULL or "":
 * root) in the container's /etc/passwd (ENOENT for an unknown user) and
 * fills the request from c.  time_limit_ms as above. */
int rt_stream_in_open(struct rt_ctr *c, const char *path, const char *user,
		      uint64_t time_limit_ms, struct rt_stream *out,
		      gfs_err *err);
int rt_stream_out_open(struct rt_ctr *c, const char *path, const char *user,
		       uint64_t time_limit_ms, struct rt_stream *out,
		       gfs_err *err);

/* Reads what the status pipe holds, without blocking, and applies at most
 * one record.  Returns 1 when *phase advanced (READY or DONE), 0 when
 * nothing new is there, a negative errno when the stream failed (*phase is
 * RT_STREAM_FAILED, err says why; later calls say the same).  Call it
 * until it returns <= 0 whenever status is readable. */
int rt_stream_poll_status(struct rt_stream *s, int *phase, gfs_err *err);

/* Streamin: the writer is done; closes data so that the child sees the
 * end of the archive.  Its verdict follows on status. */
void rt_stream_end_input(struct rt_stream *s);

/* SIGKILL to the child (through its pidfd), then rt_stream_close. */
void rt_stream_abort(struct rt_stream *s);
/* Closes every fd; reaps the child when it has exited (the daemon's
 * SIGCHLD reaper collects it otherwise).  s may be closed twice. */
void rt_stream_close(struct rt_stream *s);

/* True when the stream's time limit has passed (a child stuck where even
 * its own timer cannot reach it; the loop then calls rt_stream_abort). */
bool rt_stream_overdue(const struct rt_stream *s, uint64_t now_ms);

#endif
