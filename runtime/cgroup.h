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
/* For tests: probes (once, instead of cg_probe) with ROOT in place of
 * /sys/fs/cgroup, e.g. /sys/fs/cgroup/unified to drive the v2 backend on a
 * hybrid host. */
int cg_probe_at(const char *root, gfs_err *err);

struct cg;

/* Creates GROUP/NAME (GROUP is created when missing, e.g.
 * "gardenfs-ab12cd34"); EEXIST when it exists. */
int cg_create(const char *group, const char *name, struct cg **out,
	      gfs_err *err);
/* Opens an existing GROUP/NAME (after a daemon restart). */
int cg_open(const char *group, const char *name, struct cg **out, gfs_err *err);
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
enum cg_mem_field {
	CG_MEM_CACHE,
	CG_MEM_RSS,
	CG_MEM_MAPPED_FILE,
	CG_MEM_PGPGIN,
	CG_MEM_PGPGOUT,
	CG_MEM_SWAP,
	CG_MEM_PGFAULT,
	CG_MEM_PGMAJFAULT,
	CG_MEM_INACTIVE_ANON,
	CG_MEM_ACTIVE_ANON,
	CG_MEM_INACTIVE_FILE,
	CG_MEM_ACTIVE_FILE,
	CG_MEM_UNEVICTABLE,
	CG_MEM_HIERARCHICAL_MEMORY_LIMIT,
	CG_MEM_HIERARCHICAL_MEMSW_LIMIT,
	CG_MEM_TOTAL_CACHE,
	CG_MEM_TOTAL_RSS,
	CG_MEM_TOTAL_MAPPED_FILE,
	CG_MEM_TOTAL_PGPGIN,
	CG_MEM_TOTAL_PGPGOUT,
	CG_MEM_TOTAL_SWAP,
	CG_MEM_TOTAL_PGFAULT,
	CG_MEM_TOTAL_PGMAJFAULT,
	CG_MEM_TOTAL_INACTIVE_ANON,
	CG_MEM_TOTAL_ACTIVE_ANON,
	CG_MEM_TOTAL_INACTIVE_FILE,
	CG_MEM_TOTAL_ACTIVE_FILE,
	CG_MEM_TOTAL_UNEVICTABLE,
	CG_MEM_TOTAL_USAGE_TOWARD_LIMIT,
};
enum { CG_MEM_N = 29 };
extern const char *const cg_mem_names[CG_MEM_N];

struct cg_metrics {
	uint64_t mem[CG_MEM_N];
	uint64_t cpu_usage, cpu_user, cpu_system; /* ns */
	uint64_t pids_current, pids_max;	  /* pids_max 0: unlimited */
};
/* One read of each cgroup file. */
int cg_metrics(struct cg *cg, struct cg_metrics *m, gfs_err *err);

/* The pure parts of cg_metrics and the setters, exposed for the unit
 * tests.  None of them does I/O. */

/* What memory.stat and hierarchical_*_limit report for "no limit": v1
 * reports PAGE_COUNTER_MAX pages (LONG_MAX rounded down to 4 KiB pages);
 * v2's "max" is reported as that same number so that clients written
 * against Garden on v1 see the value they know. */
#define CG_UNLIMITED_BYTES 9223372036854771712ULL

/* "key value" lines (memory.stat, cpu.stat, memory.events,
 * memory.oom_control): the value of KEY, or -ENOENT. */
int cg_kv_get(const char *text, const char *key, uint64_t *v);
/* One number as the kernel prints it, or "max" (*v = UINT64_MAX); a
 * trailing newline is allowed.  -EINVAL otherwise. */
int cg_parse_value(const char *text, uint64_t *v);
/* v1 memory.stat: its keys are Garden's names; fills every field but
 * total_usage_toward_limit, which cg_usage_toward_limit computes. */
void cg_parse_memory_stat_v1(const char *text, struct cg_metrics *m);
/* v2 memory.stat, mapped onto the v1 fields (see cgroup.c for the map and
 * for the fields v2 lacks, which stay 0). */
void cg_parse_memory_stat_v2(const char *text, struct cg_metrics *m);
/* v2: swap from memory.swap.current, the hierarchical limits from
 * memory.max and memory.swap.max (UINT64_MAX for "max"). */
void cg_v2_memory_limits(struct cg_metrics *m, uint64_t swap_current,
			 uint64_t memory_max, uint64_t swap_max);
/* Garden's total_rss + total_cache - total_inactive_file, at least 0. */
uint64_t cg_usage_toward_limit(const struct cg_metrics *m);
/* v2 cpu.stat usage_usec, user_usec, system_usec into ns. */
void cg_parse_cpu_stat_v2(const char *text, struct cg_metrics *m);
/* v1 cpuacct.stat (user and system in ticks of hz per second) into ns. */
void cg_parse_cpuacct_stat(const char *text, long hz, struct cg_metrics *m);

enum cg_limit { CG_LIMIT_MEMORY, CG_LIMIT_CPU, CG_LIMIT_PIDS };
/* The files a setter writes, in the order written, NULL-terminated. */
const char *const *cg_limit_files(enum cg_version v, enum cg_limit l);
/* The text written into the i-th of those files for VALUE (0: unlimited,
 * or the default for cpu). */
void cg_limit_format(enum cg_version v, enum cg_limit l, size_t i,
		     uint64_t value, char buf[32]);

/* Devices.  A container may use only the nodes of its own /dev: null zero
 * full random urandom tty ptmx and the ptys (136:*); privileged ones also
 * fuse and tun; and the device nodes a bind brings in.  mknod of any node
 * is allowed, as in Docker (a user namespace refuses device nodes anyway,
 * and a node a privileged container makes cannot be opened).  Everything
 * else (disks, /dev/mem, /dev/kmsg, ...) is refused even to a process with
 * CAP_MKNOD.  v1: "a" written to devices.deny, then the list to
 * devices.allow; v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE)
 * attached to the cgroup. */
enum { CG_DEV_MKNOD = 1, CG_DEV_READ = 2, CG_DEV_WRITE = 4, CG_DEV_ALL = 7 };
struct cg_dev_rule {
	char type;	      /* 'c' or 'b' */
	int64_t major, minor; /* -1: any */
	unsigned access;      /* CG_DEV_* */
};
/* binds: SRC:DST[:ro] strings (NULL-terminated, may be NULL); a SRC that
 * is a character or block device is allowed too.  Call before anything
 * runs in the cgroup. */
int cg_set_devices(struct cg *cg, bool privileged, char *const *binds,
		   gfs_err *err);

/* The pure parts, for the unit tests.  The default list (privileged or
 * not) into out; returns how many (at most cap). */
size_t cg_dev_defaults(bool privileged, struct cg_dev_rule *out, size_t cap);
/* One v1 devices.allow line ("c 1:3 rwm", "c 136:* rwm"). */
void cg_dev_format_v1(const struct cg_dev_rule *r, char buf[64]);
/* The v2 program allowing exactly those rules: eBPF instructions (struct
 * bpf_insn, 8 bytes each) into out; returns how many, or -E2BIG. */
struct bpf_insn;
int cg_dev_bpf(const struct cg_dev_rule *rules, size_t n, struct bpf_insn *out,
	       size_t cap);

/* A file descriptor that becomes readable (poll POLLIN or POLLPRI) when
 * the cgroup may have hit an OOM kill: an eventfd on memory.oom_control
 * (v1), memory.events (v2).  The caller polls it; cg owns it. */
int cg_oom_fd(struct cg *cg, gfs_err *err);
/* After the fd fired: consumes the event and says whether a new OOM kill
 * happened since the last call. */
int cg_oom_check(struct cg *cg, bool *oom, gfs_err *err);

#endif
