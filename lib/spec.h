/* Process specs (what a write to procs/new takes) and container create
 * specs (what `create` in ctl takes).  Pure parsing; tested by cmocka. */
#ifndef GFS_SPEC_H
#define GFS_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* The fields of Garden's ResourceLimits, in this order. */
enum gfs_rlim {
	GFS_RLIM_AS,
	GFS_RLIM_CORE,
	GFS_RLIM_CPU,
	GFS_RLIM_DATA,
	GFS_RLIM_FSIZE,
	GFS_RLIM_LOCKS,
	GFS_RLIM_MEMLOCK,
	GFS_RLIM_MSGQUEUE,
	GFS_RLIM_NICE,
	GFS_RLIM_NOFILE,
	GFS_RLIM_NPROC,
	GFS_RLIM_RSS,
	GFS_RLIM_RTPRIO,
	GFS_RLIM_SIGPENDING,
	GFS_RLIM_STACK,
	GFS_RLIM_N
};

/* JSON names ("as", "core", ...), indexed by enum gfs_rlim. */
extern const char *const gfs_rlim_names[GFS_RLIM_N];
/* RLIMIT_* for an enum gfs_rlim. */
int gfs_rlim_resource(enum gfs_rlim r);

struct gfs_procspec {
	char *id;    /* Garden's ProcessSpec.ID: the process's name, or NULL */
	char *path;  /* executable; without '/', searched in PATH */
	char **args; /* arguments after argv[0], NULL-terminated, never NULL */
	char **env;  /* NAME=VALUE, NULL-terminated, never NULL */
	char *dir;   /* NULL: the user's home */
	char *user;  /* NULL: root; a name, "uid" or "uid:gid" */
	bool rlim_set[GFS_RLIM_N];
	uint64_t rlim[GFS_RLIM_N];
	bool tty; /* "tty" was given */
	int tty_columns, tty_rows;
	/* "no_new_privileges": true: the process and its children can never
	 * gain privileges by exec (setuid bits, file capabilities). */
	bool no_new_privs;
};

/* Parses one write to procs/new: JSON (first non-blank byte is '{') with
 * Garden's ProcessSpec field names, or a command line (gfs_split_words;
 * leading NAME=VALUE words are env, the next word is path, the rest args).
 * Beyond Garden's fields, JSON may carry "no_new_privileges" (a boolean).
 * Unknown JSON fields, wrong types, an empty path, env entries without '=',
 * negative or fractional rlimits: -EINVAL with a reason.  JSON null and ""
 * mean absent, as Go's omitempty has it; duplicate keys are refused.
 * rlimits above 2^63-1 (e.g. RLIM_INFINITY) cannot be written in JSON:
 * jansson's integers are long long.  One trailing newline is ignored. */
int gfs_procspec_parse(const char *buf, size_t len, struct gfs_procspec *out,
		       gfs_err *err);
void gfs_procspec_free(struct gfs_procspec *s);
/* A process id (name) as procs/ shows it: a file name (1-255 bytes, no
 * '/', no control characters, not "." or ".."), and not "new". */
bool gfs_proc_name_ok(const char *name, gfs_err *err);
/* path and args, each quoted with gfs_quote_word, joined by spaces. */
char *gfs_procspec_command(const struct gfs_procspec *s);

/* Garden's DiskLimits, in its order: what limits/disk reads and takes. */
enum gfs_disk_key {
	GFS_DISK_BLOCK_SOFT,
	GFS_DISK_BLOCK_HARD,
	GFS_DISK_INODE_SOFT,
	GFS_DISK_INODE_HARD,
	GFS_DISK_BYTE_SOFT,
	GFS_DISK_BYTE_HARD,
	GFS_DISK_N
};
extern const char *const gfs_disk_keys[GFS_DISK_N];
struct gfs_disk {
	uint64_t v[GFS_DISK_N];
};
/* Parses "KEY=N KEY=N" (blanks or commas between) over the values in d;
 * byte_* take size suffixes.  Unknown keys, bad numbers, nothing given:
 * -EINVAL, d unchanged. */
int gfs_disk_parse(const char *cmd, struct gfs_disk *d, gfs_err *err);
/* The bytes the hard limit comes to: block_hard (1 KiB blocks) when set,
 * else byte_hard, as the seed's DiskLimits says. */
int gfs_disk_hard_bytes(const struct gfs_disk *d, uint64_t *out, gfs_err *err);

/* `create KEY=VALUE ...` in /garden/ctl, and the one spec every front
 * creates containers from.  Every field is NULL/false/0 when the key was
 * absent. */
struct gfs_createspec {
	char *handle;
	char *rootfs;
	bool privileged;
	bool grace_set;
	uint64_t grace; /* seconds */
	char **env;	/* NAME=VALUE, NULL-terminated, never NULL */
	char **props;	/* KEY=VALUE, NULL-terminated, never NULL */
	char **binds;	/* SRC:DST[:ro] (":rw" dropped), never NULL */
	char *network;	/* IP/PREFIX */
	bool memory_set, cpu_set, pids_set;
	uint64_t memory; /* bytes (size suffixes allowed) */
	uint64_t cpu;	 /* shares */
	uint64_t pids;	 /* 0 = unlimited */
	bool disk_set;	 /* disk=KEY=N[,KEY=N] */
	struct gfs_disk disk;
	bool bandwidth_set;   /* bandwidth=RATE:BURST */
	uint64_t rate, burst; /* bytes/s, bytes */
};

/* Parses the words after "create" (already split by gfs_split_words).
 * Unknown keys, a repeated non-repeatable key, bad values: -EINVAL. */
int gfs_createspec_parse(char *const *words, struct gfs_createspec *out,
			 gfs_err *err);
void gfs_createspec_free(struct gfs_createspec *s);

#endif
