/* gardenfs-init: pid 1 of a container.  It builds the container's root
 * (rootfs.c), then serves the daemon over the socket it inherited
 * (service.c): spawns processes (spawn.c), reaps everything, and keeps exit
 * statuses until the daemon has acknowledged them. */
#ifndef GFS_INIT_H
#define GFS_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct init_cfg {
	const char *handle;
	/* for reasons only: the layers themselves come as descriptors
	 * (PROTO_INIT_LOWER_FD...), the depot being out of our reach */
	const char *lower; /* image tree, the overlay's lower dir */
	const char *dir;   /* DEPOT/containers/HANDLE */
	bool privileged;
	char **binds;		    /* SRC:DST[:ro], NULL-terminated */
	const char *hosts, *resolv; /* /etc files to write, or NULL */
};

/* Mounts the overlay, binds, /proc, /sys, /dev; sets the hostname, brings
 * lo up and pivots into the new root.  Leaves no fd to the host tree. */
int init_rootfs(const struct init_cfg *cfg, gfs_err *err);

struct spawn_req {
	uint32_t id;
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t *groups;
	const char *dir;
	bool mkdir;
	const char *path;
	char **argv;
	char **envp;
	size_t nrl;
	int rl_res[32];
	unsigned long long rl_val[32];
	int fds[4]; /* stdin, stdin keeper, stdout, stderr */
	/* optional trailing fields (runtime/proto.h) */
	bool no_new_privs;
	bool tty; /* fds 0, 2, 3 are then the pty's slave: make it ours */
	unsigned short cols, rows;
};

/* Forks the child, which sets itself up and execs; returns at once with
 * its pid and *efd, a nonblocking pipe that reads EOF once exec succeeded
 * or the reason when anything before it failed. */
int init_spawn_start(const struct spawn_req *rq, bool privileged, pid_t *pid,
		     int *efd, gfs_err *err);
/* After efd polled readable: 0 when the child exec'd, 1 when nothing is
 * there yet, negative with the reason when it failed (it then exits). */
int init_spawn_result(int efd, gfs_err *err);

/* Raises the init's soft RLIMIT_NOFILE to the hard one (it keeps four fds
 * per process that still writes output); init_spawn gives children the
 * soft limit the init started with. */
void init_raise_nofile(void);

/* Writes /etc/NAME (hosts, resolv.conf) inside the container as its root,
 * 0644; a symlink there is replaced, not followed.  NULL text: nothing. */
int init_write_etc(const char *name, const char *text, gfs_err *err);

/* The service loop; returns only on a fatal error. */
int init_serve(int lsock, bool privileged);

#endif
