/* One small cgroup interface with a v1 backend (hybrid hosts, like this
 * one: controllers under /sys/fs/cgroup/CONTROLLER) and a v2 backend (pure
 * unified hosts).  The mode is probed once.  Every container has the cgroup
 * GROUP/NAME in each hierarchy used (v1: memory cpu cpuacct pids blkio
 * devices freezer cpuset; v2: the one tree with those controllers enabled). */
#ifndef GFS_CGROUP_H
#define GFS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

enum cg_version { CG_V1 = 1, CG_V2 = 2 };

/* Probes the mode (once; later calls return the cached answer). */
int cg_probe(gfs_err *err);
enum cg_version cg_version(void);

struct cg;

/* Creates GROUP/NAME (GROUP is created when missing, e.g.
 * "gardenfs-ab12cd34"); EEXIST when it exists. */
int cg_create(const char *group, const char *name, struct cg **out,
	      gfs_err *err);
/* Opens an existing GROUP/NAME (after a daemon restart). */
int cg_open(const char *group, const char *name, struct cg **out,
	    gfs_err *err);
/* Moves pid into the cgroup in every hierarchy. */
int cg_attach(struct cg *cg, pid_t pid, gfs_err *err);
/* The pids in the cgroup (host pids). */
int cg_procs(struct cg *cg, pid_t **pids, size_t *n, gfs_err *err);
/* Sends sig to every process in the cgroup. */
int cg_kill(struct cg *cg, int sig, gfs_err *err);
/* SIGKILLs what is left, waits (bounded) until empty, removes the
 * directories, and removes GROUP too when it became empty.  Frees cg. */
int cg_destroy(struct cg *cg, gfs_err *err);
void cg_free(struct cg *cg);

/* Limits.  0 means unlimited everywhere.  Nothing but the intended
 * cgroup file is ever written. */
int cg_set_memory(struct cg *cg, uint64_t bytes, gfs_err *err);
int cg_get_memory(struct cg *cg, uint64_t *bytes, gfs_err *err);
int cg_set_cpu_shares(struct cg *cg, uint64_t shares, gfs_err *err);
int cg_get_cpu_shares(struct cg *cg, uint64_t *shares, gfs_err *err);
int cg_set_pids_max(struct cg *cg, uint64_t max, gfs_err *err);
int cg_get_pids_max(struct cg *cg, uint64_t *max, gfs_err *err);

/* v2 conversions, exposed for the unit tests. */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_weight_to_shares(uint64_t weight);

/* The fields of Garden's ContainerMemoryStat, in its order, snake_case
 * ("cache", "rss", ..., "total_usage_toward_limit"). */
enum {
	CG_MEM_N = 29
};
extern const char *const cg_mem_names[CG_MEM_N];

struct cg_metrics {
	uint64_t mem[CG_MEM_N];
	uint64_t cpu_usage, cpu_user, cpu_system; /* ns */
	uint64_t pids_current, pids_max;	  /* pids_max 0: unlimited */
};
/* One read of each cgroup file. */
int cg_metrics(struct cg *cg, struct cg_metrics *m, gfs_err *err);

/* A file descriptor that becomes readable (poll POLLIN or POLLPRI) when
 * the cgroup may have hit an OOM kill: an eventfd on memory.oom_control
 * (v1), memory.events (v2).  The caller polls it; cg owns it. */
int cg_oom_fd(struct cg *cg, gfs_err *err);
/* After the fd fired: consumes the event and says whether a new OOM kill
 * happened since the last call. */
int cg_oom_check(struct cg *cg, bool *oom, gfs_err *err);

#endif
