/* gardenfs-stream: the child that runs one streamin or streamout inside a
 * container (see runtime/stream.h for the daemon's side and
 * docs/streaming.md for the whole design).  What its files share. */
#ifndef GFS_STREAM_CHILD_H
#define GFS_STREAM_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct archive;

/* The descriptors the daemon hands over. */
#define SX_DATA_FD   0 /* in: the archive to read; out: where to write it */
#define SX_STATUS_FD 1 /* our verdicts */
#define SX_INIT_FD   3 /* pidfd of the container's init */

/* Reads and writes of archive bytes, and file data, in pieces this big. */
#define SX_IO_SIZE (1 << 20)

struct sx_cfg {
	bool in;
	bool privileged;
	bool as_root;
	pid_t init_pid;
	pid_t ppid;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *home;
	char *path; /* as the user wrote it */
	uint64_t limit_ms;
};

/* The decompression filters that libarchive runs in-process (probed
 * before entering: one that would run an external program is left out). */
void sx_filters_probe(void);
void sx_filters_add(struct archive *a);

/* Enters the container's namespaces and root, becomes the user, drops
 * capabilities and installs the seccomp filter.  After it nothing of the
 * host is reachable and no code can be loaded. */
int sx_enter(const struct sx_cfg *c, gfs_err *err);

/* The status records (runtime/stream_proto.h) on SX_STATUS_FD. */
void sx_ready(void);

int sx_in(const struct sx_cfg *c, uint64_t *entries, uint64_t *bytes,
	  gfs_err *err);
int sx_out(const struct sx_cfg *c, uint64_t *entries, uint64_t *bytes,
	   gfs_err *err);

/* openat2 with flags and resolve; -1 and errno on failure. */
int sx_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

#endif
