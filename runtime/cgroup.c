/* Cgroups for containers, behind the small interface of cgroup.h: a v1
 * backend for hybrid hosts (each controller mounted on its own under
 * /sys/fs/cgroup) and a v2 backend for unified hosts.  The mode and the
 * mount points are probed once; every v1/v2 difference lives in this file.
 *
 * Safety: the only things ever written are decimal numbers formatted here
 * from parsed integers, "max", "-1", "+controller", FROZEN/THAWED, device
 * rules formatted here from numbers, and the kernel's own cpuset lists, each in
 * one write(2) to one exact file opened without O_CREAT.  Names are validated
 * before they become path components, so no user string can reach another file
 * (CVE-2022-0811).
 *
 * Linked into the unit tests too: it needs nothing but lib/ and libc. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <linux/bpf.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/parse.h"
#include "runtime/cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_ROOT "/sys/fs/cgroup"

enum ctrl {
	C_MEMORY,
	C_CPU,
	C_CPUACCT,
	C_PIDS,
	C_BLKIO,
	C_DEVICES,
	C_FREEZER,
	C_CPUSET,
	C_N
};

static const char *const ctrl_names[C_N] = {
    [C_MEMORY] = "memory",   [C_CPU] = "cpu",	    [C_CPUACCT] = "cpuacct",
    [C_PIDS] = "pids",	     [C_BLKIO] = "blkio",   [C_DEVICES] = "devices",
    [C_FREEZER] = "freezer", [C_CPUSET] = "cpuset",
};

/* Without these a container's limits or metrics would silently not work;
 * the others are used when mounted. */
static const bool ctrl_required[C_N] = {
    [C_MEMORY] = true,
    [C_CPU] = true,
    [C_CPUACCT] = true,
    [C_PIDS] = true,
};

/* v2 controllers enabled for our groups, when the host has them. */
static const char *const v2_ctrls[] = {"memory", "cpu", "pids", "io", NULL};

static struct {
	pthread_mutex_t lock;
	bool probed;
	int rc;
	gfs_err err;
	enum cg_version ver;
	char *root;	/* v2: the unified mount */
	char *mnt[C_N]; /* v1: mount point per controller, NULL when absent */
	bool memsw;	/* v1: memory.memsw.* exists (swap accounting on) */
	bool cpu_split; /* v1: cpuacct.usage_user and usage_sys exist */
} cgs = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct cg {
	char *group, *name;
	/* v1: the cgroup per controller (NULL when not mounted); comounted
	 * controllers get equal strings.  v2: dir[0] only. */
	char *dir[C_N];
	int oom_fd;		 /* v1: eventfd; v2: inotify on memory.events */
	int oom_file;		 /* v1: memory.oom_control; v2: memory.events */
	uint64_t oom_seen;	 /* the oom_kill counter last seen */
	uint64_t oom_wait_until; /* v1: re-arm the eventfd until then */
};

/* The fields, named as v1's memory.stat names them (Garden's names in
 * snake_case), in the seed's order. */
const char *const cg_mem_names[CG_MEM_N] = {
    "cache",
    "rss",
    "mapped_file",
    "pgpgin",
    "pgpgout",
    "swap",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_mapped_file",
    "total_pgpgin",
    "total_pgpgout",
    "total_swap",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
    "total_usage_toward_limit",
};

/* ---- pure parsing and formatting (unit-tested) ---- */

int cg_parse_value(const char *text, uint64_t *v)
{
	size_t n = strcspn(text, "\n");
	if (text[n] == '\n' && text[n + 1] != '\0')
		return -EINVAL;
	if (n == 3 && memcmp(text, "max", 3) == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	if (n == 0 || n > 20)
		return -EINVAL;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -EINVAL;
		unsigned d = (unsigned)(text[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* Calls fn for each "key value" line; lines that do not look like that
 * (kernel text we do not know) are skipped, not fatal. */
static void kv_each(const char *text,
		    void (*fn)(const char *key, size_t klen, uint64_t v,
			       void *arg),
		    void *arg)
{
	const char *p = text;
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		if (sp && sp > p) {
			uint64_t x = 0;
			const char *q = sp + 1;
			bool ok = q < eol;
			for (; q < eol && ok; q++) {
				unsigned d = (unsigned)(*q - '0');
				if (d > 9 || x > (UINT64_MAX - d) / 10)
					ok = false;
				else
					x = x * 10 + d;
			}
			if (ok)
				fn(p, (size_t)(sp - p), x, arg);
		}
		p = *eol ? eol + 1 : eol;
	}
}

struct kv_find {
	const char *key;
	size_t klen;
	uint64_t v;
	bool found;
};

static void kv_find_fn(const char *key, size_t klen, uint64_t v, void *arg)
{
	struct kv_find *f = arg;
	if (!f->found && klen == f->klen && memcmp(key, f->key, klen) == 0) {
		f->v = v;
		f->found = true;
	}
}

int cg_kv_get(const char *text, const char *key, uint64_t *v)
{
	struct kv_find f = {.key = key, .klen = strlen(key)};
	kv_each(text, kv_find_fn, &f);
	if (!f.found)
		return -ENOENT;
	*v = f.v;
	return 0;
}

static void v1_stat_fn(const char *key, size_t klen, uint64_t v, void *arg)
{
	struct cg_metrics *m = arg;
	/* memory.stat has ~40 lines and we know 28 names: a linear scan is
	 * cheaper than anything cleverer at this size */
	for (int i = 0; i < CG_MEM_TOTAL_USAGE_TOWARD_LIMIT; i++)
		if (strlen(cg_mem_names[i]) == klen &&
		    memcmp(cg_mem_names[i], key, klen) == 0) {
			m->mem[i] = v;
			return;
		}
}

void cg_parse_memory_stat_v1(const char *text, struct cg_metrics *m)
{
	kv_each(text, v1_stat_fn, m);
}

/* v2's memory.stat names, and the v1 field (and its total_ twin: v2
 * counts are always hierarchical) each fills.  v2 has no pgpgin, pgpgout
 * (page-ins/outs are not counted per cgroup any more) and no swap line in
 * memory.stat (swap comes from memory.swap.current instead): pgpgin,
 * pgpgout, total_pgpgin and total_pgpgout stay 0.  v2's "anon" and "file"
 * split shmem the way v1's rss and cache do (shmem is file), so they map
 * one to one. */
static const struct {
	const char *key;
	int field, total;
} v2_stat_map[] = {
    {"anon", CG_MEM_RSS, CG_MEM_TOTAL_RSS},
    {"file", CG_MEM_CACHE, CG_MEM_TOTAL_CACHE},
    {"file_mapped", CG_MEM_MAPPED_FILE, CG_MEM_TOTAL_MAPPED_FILE},
    {"pgfault", CG_MEM_PGFAULT, CG_MEM_TOTAL_PGFAULT},
    {"pgmajfault", CG_MEM_PGMAJFAULT, CG_MEM_TOTAL_PGMAJFAULT},
    {"inactive_anon", CG_MEM_INACTIVE_ANON, CG_MEM_TOTAL_INACTIVE_ANON},
    {"active_anon", CG_MEM_ACTIVE_ANON, CG_MEM_TOTAL_ACTIVE_ANON},
    {"inactive_file", CG_MEM_INACTIVE_FILE, CG_MEM_TOTAL_INACTIVE_FILE},
    {"active_file", CG_MEM_ACTIVE_FILE, CG_MEM_TOTAL_ACTIVE_FILE},
    {"unevictable", CG_MEM_UNEVICTABLE, CG_MEM_TOTAL_UNEVICTABLE},
};

static void v2_stat_fn(const char *key, size_t klen, uint64_t v, void *arg)
{
	struct cg_metrics *m = arg;
	for (size_t i = 0; i < sizeof v2_stat_map / sizeof v2_stat_map[0]; i++)
		if (strlen(v2_stat_map[i].key) == klen &&
		    memcmp(v2_stat_map[i].key, key, klen) == 0) {
			m->mem[v2_stat_map[i].field] = v;
			m->mem[v2_stat_map[i].total] = v;
			return;
		}
}

void cg_parse_memory_stat_v2(const char *text, struct cg_metrics *m)
{
	kv_each(text, v2_stat_fn, m);
}

static uint64_t v2_limit(uint64_t v)
{
	return v >= CG_UNLIMITED_BYTES ? CG_UNLIMITED_BYTES : v;
}

/* v1's memsw limit bounds memory + swap; v2 bounds them separately, so
 * the equivalent is their sum, unlimited when either is. */
void cg_v2_memory_limits(struct cg_metrics *m, uint64_t swap_current,
			 uint64_t memory_max, uint64_t swap_max)
{
	m->mem[CG_MEM_SWAP] = swap_current;
	m->mem[CG_MEM_TOTAL_SWAP] = swap_current;
	m->mem[CG_MEM_HIERARCHICAL_MEMORY_LIMIT] = v2_limit(memory_max);
	uint64_t mem = v2_limit(memory_max), swap = v2_limit(swap_max);
	m->mem[CG_MEM_HIERARCHICAL_MEMSW_LIMIT] =
	    mem == CG_UNLIMITED_BYTES || swap == CG_UNLIMITED_BYTES ||
		    mem + swap >= CG_UNLIMITED_BYTES
		? CG_UNLIMITED_BYTES
		: mem + swap;
}

/* Garden: "a memory usage total which reports memory usage in the same way
 * that limits are enforced": inactive file pages are the first the kernel
 * reclaims, so they do not push a container towards its OOM kill. */
uint64_t cg_usage_toward_limit(const struct cg_metrics *m)
{
	uint64_t used = m->mem[CG_MEM_TOTAL_RSS] + m->mem[CG_MEM_TOTAL_CACHE];
	uint64_t inactive = m->mem[CG_MEM_TOTAL_INACTIVE_FILE];
	return used > inactive ? used - inactive : 0;
}

void cg_parse_cpu_stat_v2(const char *text, struct cg_metrics *m)
{
	uint64_t v;
	if (cg_kv_get(text, "usage_usec", &v) == 0)
		m->cpu_usage = v * 1000;
	if (cg_kv_get(text, "user_usec", &v) == 0)
		m->cpu_user = v * 1000;
	if (cg_kv_get(text, "system_usec", &v) == 0)
		m->cpu_system = v * 1000;
}

void cg_parse_cpuacct_stat(const char *text, long hz, struct cg_metrics *m)
{
	uint64_t v;
	if (hz <= 0)
		hz = 100;
	uint64_t ns = 1000000000ULL / (uint64_t)hz;
	if (cg_kv_get(text, "user", &v) == 0)
		m->cpu_user = v * ns;
	if (cg_kv_get(text, "system", &v) == 0)
		m->cpu_system = v * ns;
}

/* The kernel's cpu.shares range; cpu.weight's is 1..10000. */
#define SHARES_MIN     UINT64_C(2)
#define SHARES_MAX     UINT64_C(262144)
#define WEIGHT_MAX     UINT64_C(10000)
#define SHARES_DEFAULT UINT64_C(1024)
#define WEIGHT_DEFAULT UINT64_C(100)
/* PID_MAX_LIMIT on 64-bit kernels: 4 Mi pids */
#define PIDS_LIMIT_MAX UINT64_C(4194304)

/* runc's and crun's linear map of 2..262144 onto 1..10000; 0 (unset)
 * gives the kernel's default weight. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return WEIGHT_DEFAULT;
	if (shares < SHARES_MIN)
		shares = SHARES_MIN;
	if (shares > SHARES_MAX)
		shares = SHARES_MAX;
	return 1 + ((shares - SHARES_MIN) * (WEIGHT_MAX - 1)) /
		       (SHARES_MAX - SHARES_MIN);
}

/* The smallest shares that map back onto weight, so that
 * cg_shares_to_weight(cg_weight_to_shares(w)) == w for every weight. */
uint64_t cg_weight_to_shares(uint64_t weight)
{
	if (weight < 1)
		weight = 1;
	if (weight > WEIGHT_MAX)
		weight = WEIGHT_MAX;
	uint64_t num = (weight - 1) * (SHARES_MAX - SHARES_MIN);
	return SHARES_MIN + (num + WEIGHT_MAX - 2) / (WEIGHT_MAX - 1);
}

static const char *const v1_mem_files[] = {"memory.limit_in_bytes",
					   "memory.memsw.limit_in_bytes",
					   "memory.limit_in_bytes", NULL};
static const char *const v2_mem_files[] = {"memory.max", "memory.swap.max",
					   NULL};
static const char *const v1_cpu_files[] = {"cpu.shares", NULL};
static const char *const v2_cpu_files[] = {"cpu.weight", NULL};
static const char *const pids_files[] = {"pids.max", NULL};

const char *const *cg_limit_files(enum cg_version v, enum cg_limit l)
{
	switch (l) {
	case CG_LIMIT_MEMORY:
		return v == CG_V2 ? v2_mem_files : v1_mem_files;
	case CG_LIMIT_CPU:
		return v == CG_V2 ? v2_cpu_files : v1_cpu_files;
	case CG_LIMIT_PIDS:
		return pids_files;
	}
	return NULL;
}

/* v2 swap: a memory limit also means no swap (memory.swap.max 0), which
 * is what v1's memsw limit equal to the memory limit amounts to: memory
 * plus swap never exceeds the limit.  No memory limit: swap unlimited. */
void cg_limit_format(enum cg_version v, enum cg_limit l, size_t i,
		     uint64_t value, char buf[32])
{
	const char *unlimited = v == CG_V2 ? "max" : "-1";
	switch (l) {
	case CG_LIMIT_MEMORY:
		if (value == 0)
			snprintf(buf, 32, "%s", unlimited);
		else if (v == CG_V2 && i == 1)
			snprintf(buf, 32, "0");
		else
			snprintf(buf, 32, "%" PRIu64, value);
		return;
	case CG_LIMIT_CPU:
		/* clamped here rather than by the kernel: v1 shifts shares
		 * left before clamping, so huge values would wrap */
		if (v == CG_V2)
			value = cg_shares_to_weight(value);
		else if (value == 0)
			value = SHARES_DEFAULT;
		else if (value < SHARES_MIN)
			value = SHARES_MIN;
		else if (value > SHARES_MAX)
			value = SHARES_MAX;
		snprintf(buf, 32, "%" PRIu64, value);
		return;
	case CG_LIMIT_PIDS:
		/* pids.max refuses more than the kernel could ever have
		 * (PID_MAX_LIMIT); such a limit is no limit */
		if (value == 0 || value > PIDS_LIMIT_MAX)
			snprintf(buf, 32, "max");
		else
			snprintf(buf, 32, "%" PRIu64, value);
		return;
	}
	buf[0] = '\0';
}

/* ---- file helpers ---- */

/* One write(2) of val into dir/file, which must exist. */
static int cg_write(const char *dir, const char *file, const char *val,
		    gfs_err *err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return gfs_error_sys(err, errno, "open %s", path);
	size_t len = strlen(val);
	ssize_t n = write(fd, val, len);
	if (n < 0)
		return gfs_error_sys(err, errno, "write %s", path);
	if ((size_t)n != len)
		return gfs_error(err, EIO, "write %s: short write", path);
	return 0;
}

/* Reads all of fd from offset 0 into a NUL-terminated heap buffer: a read
 * loop with a buffer that grows, so memory.stat is one or two syscalls. */
static int read_fd(int fd, char **out, gfs_err *err, const char *what)
{
	size_t cap = 4096, len = 0;
	cleanup_free char *buf = xmalloc(cap);
	for (;;) {
		if (cap - len < 2) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return gfs_error_sys(err, errno, "read %s", what);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = steal_ptr(buf);
	return 0;
}

static int cg_read(const char *dir, const char *file, char **out, gfs_err *err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return gfs_error_sys(err, errno, "open %s", path);
	return read_fd(fd, out, err, path);
}

/* One number or "max" (UINT64_MAX). */
static int cg_read_value(const char *dir, const char *file, uint64_t *v,
			 gfs_err *err)
{
	cleanup_free char *text = NULL;
	int r = cg_read(dir, file, &text, err);
	if (r < 0)
		return r;
	if (cg_parse_value(text, v) < 0)
		return gfs_error(err, EIO, "%s/%s: not a number", dir, file);
	return 0;
}

static bool file_exists(const char *dir, const char *file)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- probing ---- */

/* mountinfo escapes blanks and backslashes in paths as \ooo. */
static char *unescape(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' &&
		    s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 +
				      (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE
 * SOURCE SUPEROPTS".  Records the mount point of each of our controllers
 * named in SUPEROPTS of a "cgroup" (v1) mount; the first mount wins. */
static void probe_mount_line(char *line)
{
	char *sep = strstr(line, " - ");
	if (!sep)
		return;
	*sep = '\0';
	char *rest = sep + 3;
	char *save = NULL;
	char *fstype = strtok_r(rest, " ", &save);
	char *source = strtok_r(NULL, " ", &save);
	char *opts = strtok_r(NULL, " \n", &save);
	if (!fstype || !source || !opts || strcmp(fstype, "cgroup") != 0)
		return;
	char *f = line, *mp = NULL;
	for (int i = 0; i < 5; i++) {
		char *sp = strchr(f, ' ');
		if (i == 4) {
			mp = f;
			if (sp)
				*sp = '\0';
			break;
		}
		if (!sp)
			return;
		f = sp + 1;
	}
	char *osave = NULL;
	for (char *o = strtok_r(opts, ",", &osave); o;
	     o = strtok_r(NULL, ",", &osave))
		for (int c = 0; c < C_N; c++)
			if (strcmp(o, ctrl_names[c]) == 0 && !cgs.mnt[c])
				cgs.mnt[c] = unescape(mp, strlen(mp));
}

static int probe_v1(gfs_err *err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return gfs_error_sys(err, errno, "open /proc/self/mountinfo");
	cleanup_free char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0)
		probe_mount_line(line);
	for (int c = 0; c < C_N; c++)
		if (ctrl_required[c] && !cgs.mnt[c])
			return gfs_error(err, ENOTSUP,
					 "cgroup v1: the %s controller is not "
					 "mounted",
					 ctrl_names[c]);
	cgs.memsw =
	    file_exists(cgs.mnt[C_MEMORY], "memory.memsw.limit_in_bytes");
	cgs.cpu_split = file_exists(cgs.mnt[C_CPUACCT], "cpuacct.usage_user") &&
			file_exists(cgs.mnt[C_CPUACCT], "cpuacct.usage_sys");
	return 0;
}

static int probe(const char *root, gfs_err *err)
{
	struct statfs sfs;
	if (statfs(root, &sfs) < 0)
		return gfs_error_sys(err, errno, "statfs %s", root);
	if ((unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC) {
		cgs.ver = CG_V2;
		cgs.root = xstrdup(root);
		return 0;
	}
	cgs.ver = CG_V1;
	return probe_v1(err);
}

int cg_probe_at(const char *root, gfs_err *err)
{
	pthread_mutex_lock(&cgs.lock);
	if (!cgs.probed) {
		cgs.rc = probe(root, &cgs.err);
		cgs.probed = true;
	}
	int rc = cgs.rc;
	if (rc < 0 && err)
		*err = cgs.err;
	pthread_mutex_unlock(&cgs.lock);
	return rc < 0 ? gfs_error_wrap(err, "probing cgroups") : 0;
}

int cg_probe(gfs_err *err)
{
	return cg_probe_at(CG_ROOT, err);
}

enum cg_version cg_version(void)
{
	return cgs.ver;
}

/* Every entry point that needs the mode: cheap after the first time. */
static int need_probe(gfs_err *err)
{
	return cg_probe(err);
}

/* ---- the hierarchies of a cgroup ---- */

/* The directory holding controller c's files. */
static const char *dir_of(const struct cg *cg, enum ctrl c)
{
	return cgs.ver == CG_V2 ? cg->dir[0] : cg->dir[c];
}

/* Whether slot i is a hierarchy of its own: v2 has one; v1 has one per
 * mounted controller except where controllers are comounted (cpu,cpuacct
 * on systemd hosts), which share the first one's. */
static bool owns_hierarchy(int i)
{
	if (cgs.ver == CG_V2)
		return i == 0;
	if (!cgs.mnt[i])
		return false;
	for (int j = 0; j < i; j++)
		if (cgs.mnt[j] && strcmp(cgs.mnt[j], cgs.mnt[i]) == 0)
			return false;
	return true;
}

static const char *mnt_of(int i)
{
	return cgs.ver == CG_V2 ? cgs.root : cgs.mnt[i];
}

static int check_names(const char *group, const char *name, gfs_err *err)
{
	if (!gfs_handle_is_valid(group, err))
		return gfs_error_wrap(err, "cgroup group");
	if (!gfs_handle_is_valid(name, err))
		return gfs_error_wrap(err, "cgroup name");
	return 0;
}

static struct cg *cg_new(const char *group, const char *name)
{
	struct cg *cg = xcalloc(1, sizeof *cg);
	cg->group = xstrdup(group);
	cg->name = xstrdup(name);
	cg->oom_fd = -1;
	cg->oom_file = -1;
	for (int i = 0; i < C_N; i++)
		if (cgs.ver == CG_V2 ? i == 0 : cgs.mnt[i] != NULL)
			cg->dir[i] =
			    xasprintf("%s/%s/%s", mnt_of(i), group, name);
	return cg;
}

void cg_free(struct cg *cg)
{
	if (!cg)
		return;
	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	if (cg->oom_file >= 0)
		close(cg->oom_file);
	for (int i = 0; i < C_N; i++)
		free(cg->dir[i]);
	free(cg->group);
	free(cg->name);
	free(cg);
}

/* A new v1 cpuset has empty cpus and mems, and a task cannot join it until
 * they are set: copy the parent's (the kernel's own text, not ours). */
static int cpuset_inherit(const char *parent, const char *dir, gfs_err *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (int i = 0; i < 2; i++) {
		cleanup_free char *mine = NULL, *theirs = NULL;
		int r = cg_read(dir, files[i], &mine, err);
		if (r < 0)
			return r;
		if (strspn(mine, " \n") != strlen(mine))
			continue;
		r = cg_read(parent, files[i], &theirs, err);
		if (r < 0)
			return r;
		theirs[strcspn(theirs, "\n")] = '\0';
		if (!*theirs)
			return gfs_error(err, EINVAL, "%s/%s is empty", parent,
					 files[i]);
		r = cg_write(dir, files[i], theirs, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether the blank-separated list has w as one of its words. */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; *p;) {
		p += strspn(p, " \n");
		size_t k = strcspn(p, " \n");
		if (k == n && memcmp(p, w, n) == 0)
			return true;
		p += k;
	}
	return false;
}

/* v2: enables our controllers in dir's subtree_control where dir has them
 * and they are not enabled yet, one write each so that a missing one does
 * not stop the others. */
static int v2_enable(const char *dir, gfs_err *err)
{
	cleanup_free char *have = NULL, *on = NULL;
	int r = cg_read(dir, "cgroup.controllers", &have, err);
	if (r < 0)
		return r;
	r = cg_read(dir, "cgroup.subtree_control", &on, err);
	if (r < 0)
		return r;
	for (int i = 0; v2_ctrls[i]; i++) {
		if (!has_word(have, v2_ctrls[i]) || has_word(on, v2_ctrls[i]))
			continue;
		char cmd[32];
		snprintf(cmd, sizeof cmd, "+%s", v2_ctrls[i]);
		r = cg_write(dir, "cgroup.subtree_control", cmd, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Where a mkdir of ours happened, to undo exactly that on failure. */
struct made {
	bool group[C_N], dir[C_N];
};

static void undo(const char *group, struct cg *cg, const struct made *mk)
{
	for (int i = C_N - 1; i >= 0; i--) {
		if (mk->dir[i])
			rmdir(cg->dir[i]);
		if (mk->group[i]) {
			cleanup_free char *g =
			    xasprintf("%s/%s", mnt_of(i), group);
			rmdir(g);
		}
	}
}

static int create_in(int i, const char *group, struct cg *cg, struct made *mk,
		     gfs_err *err)
{
	const char *mnt = mnt_of(i);
	cleanup_free char *g = xasprintf("%s/%s", mnt, group);
	int r;
	if (cgs.ver == CG_V2) {
		r = v2_enable(mnt, err);
		if (r < 0)
			return r;
	}
	if (mkdir(g, 0755) == 0)
		mk->group[i] = true;
	else if (errno != EEXIST)
		return gfs_error_sys(err, errno, "mkdir %s", g);
	if (cgs.ver == CG_V2) {
		r = v2_enable(g, err);
		if (r < 0)
			return r;
	} else if (i == C_CPUSET) {
		r = cpuset_inherit(mnt, g, err);
		if (r < 0)
			return r;
	}
	if (mkdir(cg->dir[i], 0755) < 0) {
		if (errno == EEXIST)
			return gfs_error(err, EEXIST,
					 "cgroup %s/%s exists in %s", group,
					 cg->name, mnt);
		return gfs_error_sys(err, errno, "mkdir %s", cg->dir[i]);
	}
	mk->dir[i] = true;
	if (cgs.ver == CG_V1 && i == C_CPUSET)
		return cpuset_inherit(g, cg->dir[i], err);
	return 0;
}

/* The oom_kill counter now, so that only later kills are reported (v1's
 * memory.oom_control and v2's memory.events both have it on 4.13+). */
static void oom_baseline(struct cg *cg)
{
	cleanup_free char *text = NULL;
	const char *file =
	    cgs.ver == CG_V2 ? "memory.events" : "memory.oom_control";
	const char *dir = dir_of(cg, C_MEMORY);
	if (dir && cg_read(dir, file, &text, GFS_IGNORE) == 0 &&
	    cg_kv_get(text, "oom_kill", &cg->oom_seen) == 0)
		return;
}

int cg_create(const char *group, const char *name, struct cg **out,
	      gfs_err *err)
{
	int r = need_probe(err);
	if (r < 0)
		return r;
	r = check_names(group, name, err);
	if (r < 0)
		return r;
	struct cg *cg = cg_new(group, name);
	struct made mk;
	memset(&mk, 0, sizeof mk);
	for (int i = 0; i < C_N; i++) {
		if (!owns_hierarchy(i))
			continue;
		r = create_in(i, group, cg, &mk, err);
		if (r < 0) {
			undo(group, cg, &mk);
			cg_free(cg);
			return gfs_error_wrap(err, "creating cgroup %s/%s",
					      group, name);
		}
	}
	oom_baseline(cg);
	*out = cg;
	return 0;
}

int cg_open(const char *group, const char *name, struct cg **out, gfs_err *err)
{
	int r = need_probe(err);
	if (r < 0)
		return r;
	r = check_names(group, name, err);
	if (r < 0)
		return r;
	struct cg *cg = cg_new(group, name);
	for (int i = 0; i < C_N; i++) {
		struct stat st;
		if (!owns_hierarchy(i) || stat(cg->dir[i], &st) == 0)
			continue;
		r = gfs_error_sys(err, errno, "opening cgroup %s", cg->dir[i]);
		cg_free(cg);
		return r;
	}
	oom_baseline(cg);
	*out = cg;
	return 0;
}

int cg_attach(struct cg *cg, pid_t pid, gfs_err *err)
{
	char val[32];
	snprintf(val, sizeof val, "%d", (int)pid);
	for (int i = 0; i < C_N; i++) {
		if (!owns_hierarchy(i))
			continue;
		int r = cg_write(cg->dir[i], "cgroup.procs", val, err);
		if (r < 0)
			return gfs_error_wrap(err, "moving %d into its cgroup",
					      (int)pid);
	}
	return 0;
}

/* The pids hierarchy sees every task of the container (v1). */
static const char *procs_dir(const struct cg *cg)
{
	return dir_of(cg, C_PIDS) ? dir_of(cg, C_PIDS) : dir_of(cg, C_MEMORY);
}

int cg_procs(struct cg *cg, pid_t **pids, size_t *n, gfs_err *err)
{
	cleanup_free char *text = NULL;
	int r = cg_read(procs_dir(cg), "cgroup.procs", &text, err);
	if (r < 0)
		return r;
	size_t cap = 16, len = 0;
	pid_t *v = xmalloc(cap * sizeof *v);
	for (char *p = text; *p;) {
		char *end;
		errno = 0;
		long x = strtol(p, &end, 10);
		if (end == p || errno || x <= 0 || x > INT32_MAX)
			break;
		if (len == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[len++] = (pid_t)x;
		p = end;
		while (*p == '\n')
			p++;
	}
	*pids = v;
	*n = len;
	return 0;
}

int cg_kill(struct cg *cg, int sig, gfs_err *err)
{
	/* v2 5.14+: the kernel kills every task, forks in flight included */
	if (cgs.ver == CG_V2 && sig == SIGKILL &&
	    file_exists(cg->dir[0], "cgroup.kill"))
		return cg_write(cg->dir[0], "cgroup.kill", "1", err);
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	int r = cg_procs(cg, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return gfs_error_sys(err, errno, "kill %d",
					     (int)pids[i]);
	return 0;
}

static bool cg_is_empty(struct cg *cg)
{
	cleanup_free char *text = NULL;
	if (cg_read(procs_dir(cg), "cgroup.procs", &text, GFS_IGNORE) < 0)
		return true; /* gone already */
	return strspn(text, "\n") == strlen(text);
}

/* v1: a frozen cgroup cannot fork, so one pass of kills gets every task
 * of a fork bomb; SIGKILL is delivered once the tasks thaw.  Best effort:
 * when freezing does not finish quickly, the kill loop still converges
 * because pids.max bounds the forks. */
static void v1_freeze_kill(struct cg *cg)
{
	const char *fz = dir_of(cg, C_FREEZER);
	if (!fz || cg_write(fz, "freezer.state", "FROZEN", GFS_IGNORE) < 0) {
		cg_kill(cg, SIGKILL, GFS_IGNORE);
		return;
	}
	for (int i = 0; i < 50; i++) {
		cleanup_free char *st = NULL;
		if (cg_read(fz, "freezer.state", &st, GFS_IGNORE) < 0 ||
		    strncmp(st, "FROZEN", 6) == 0)
			break;
		sleep_ms(2);
	}
	cg_kill(cg, SIGKILL, GFS_IGNORE);
	cg_write(fz, "freezer.state", "THAWED", GFS_IGNORE);
}

/* rmdir that waits out the short EBUSY window while the kernel finishes
 * tearing down tasks that just died. */
static int rmdir_retry(const char *dir, gfs_err *err)
{
	uint64_t until = now_ms() + 1000;
	for (long ms = 1;; ms = ms < 20 ? ms * 2 : ms) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || now_ms() > until)
			return gfs_error_sys(err, errno, "rmdir %s", dir);
		sleep_ms(ms);
	}
}

int cg_destroy(struct cg *cg, gfs_err *err)
{
	if (!cg)
		return 0;
	int rc = 0;
	uint64_t until = now_ms() + 5000;
	bool first = true;
	/* After a destroy the init is dead and its namespace with it; what
	 * is left is its zombie until the reaper reaps it, a matter of
	 * microseconds: look a few times before killing anything. */
	for (int i = 0; i < 20 && !cg_is_empty(cg); i++) {
		struct timespec ts = {0, 100 * 1000};
		nanosleep(&ts, NULL);
	}
	for (long ms = 1; !cg_is_empty(cg); ms = ms < 20 ? ms * 2 : ms) {
		if (now_ms() > until) {
			rc = gfs_error(err, EBUSY,
				       "cgroup %s/%s: processes left after 5 s",
				       cg->group, cg->name);
			break;
		}
		if (first && cgs.ver == CG_V1)
			v1_freeze_kill(cg);
		else
			cg_kill(cg, SIGKILL, GFS_IGNORE);
		first = false;
		sleep_ms(ms);
	}
	/* close the OOM watch before rmdir: v1 signals the eventfd when the
	 * cgroup goes, which is no news to anyone */
	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	if (cg->oom_file >= 0)
		close(cg->oom_file);
	cg->oom_fd = cg->oom_file = -1;
	for (int i = C_N - 1; i >= 0; i--) {
		if (!owns_hierarchy(i))
			continue;
		gfs_err e2 = {0};
		int r = rmdir_retry(cg->dir[i], &e2);
		if (r < 0 && rc == 0) {
			rc = r;
			if (err)
				*err = e2;
		}
		/* GROUP goes with its last container; another container or a
		 * concurrent create keeps it */
		cleanup_free char *g = xasprintf("%s/%s", mnt_of(i), cg->group);
		rmdir(g);
	}
	if (rc < 0)
		gfs_error_wrap(err, "destroying cgroup %s/%s", cg->group,
			       cg->name);
	cg_free(cg);
	return rc;
}

/* ---- limits ---- */

/* The kernel's current text of a file, trimmed, to restore it verbatim. */
static char *read_raw(const char *dir, const char *file)
{
	char *text = NULL;
	if (cg_read(dir, file, &text, GFS_IGNORE) < 0)
		return NULL;
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/* The reason for a refused memory limit: EBUSY is v1's "usage is above
 * that" after reclaim failed. */
static int mem_refused(gfs_err *err, const char *file, const char *val,
		       const gfs_err *e)
{
	if (e->code == EBUSY)
		return gfs_error(err, EBUSY, "%s: usage is above %s", file,
				 val);
	if (err)
		*err = *e;
	return -e->code;
}

/* Garden's order: limit, memsw, limit.  Raising needs memsw raised first
 * (memsw >= limit always), lowering needs the limit lowered first, so the
 * first write may fail and the third then does it.  On a refusal every
 * file gets its old value back in the same order. */
static int v1_set_memory(struct cg *cg, uint64_t bytes, gfs_err *err)
{
	const char *dir = dir_of(cg, C_MEMORY);
	const char *const *files = cg_limit_files(CG_V1, CG_LIMIT_MEMORY);
	char val[32];
	cg_limit_format(CG_V1, CG_LIMIT_MEMORY, 0, bytes, val);
	gfs_err e = {0};
	if (!cgs.memsw) {
		if (cg_write(dir, files[0], val, &e) < 0)
			return mem_refused(err, files[0], val, &e);
		return 0;
	}
	cleanup_free char *old_limit = read_raw(dir, files[0]);
	cleanup_free char *old_memsw = read_raw(dir, files[1]);
	if (!old_limit || !old_memsw)
		return gfs_error(err, EIO, "%s: cannot read the memory limits",
				 dir);
	/* raising fails here with EINVAL (above memsw): expected; anything
	 * else (EBUSY: usage above the new limit) is the real reason when a
	 * later write fails too */
	gfs_err first = {0};
	int r0 = cg_write(dir, files[0], val, &first);
	int r = 0;
	size_t bad = 0;
	for (size_t i = 1; i < 3; i++) {
		cg_limit_format(CG_V1, CG_LIMIT_MEMORY, i, bytes, val);
		r = cg_write(dir, files[i], val, &e);
		if (r < 0) {
			bad = i;
			break;
		}
	}
	if (r == 0)
		return 0;
	cg_write(dir, files[0], old_limit, GFS_IGNORE);
	cg_write(dir, files[1], old_memsw, GFS_IGNORE);
	cg_write(dir, files[0], old_limit, GFS_IGNORE);
	if (r0 < 0 && first.code != EINVAL)
		return mem_refused(err, files[0], val, &first);
	return mem_refused(err, files[bad], val, &e);
}

/* v2 never refuses a lower memory.max: the kernel reclaims and, when that
 * is not enough, OOM-kills inside the container.  Only memory.swap.max
 * can be missing (swap accounting off), and then memory.max alone bounds
 * the container. */
static int v2_set_memory(struct cg *cg, uint64_t bytes, gfs_err *err)
{
	const char *dir = cg->dir[0];
	const char *const *files = cg_limit_files(CG_V2, CG_LIMIT_MEMORY);
	char val[32];
	cleanup_free char *old = read_raw(dir, files[0]);
	cg_limit_format(CG_V2, CG_LIMIT_MEMORY, 0, bytes, val);
	int r = cg_write(dir, files[0], val, err);
	if (r < 0 || !file_exists(dir, files[1]))
		return r;
	cg_limit_format(CG_V2, CG_LIMIT_MEMORY, 1, bytes, val);
	r = cg_write(dir, files[1], val, err);
	if (r < 0 && old)
		cg_write(dir, files[0], old, GFS_IGNORE);
	return r;
}

int cg_set_memory(struct cg *cg, uint64_t bytes, gfs_err *err)
{
	int r = cgs.ver == CG_V2 ? v2_set_memory(cg, bytes, err)
				 : v1_set_memory(cg, bytes, err);
	return r < 0 ? gfs_error_wrap(err, "memory limit") : 0;
}

/* v1 reports "no limit" as PAGE_COUNTER_MAX pages, v2 as "max". */
static uint64_t limit_or_zero(uint64_t v)
{
	return v >= CG_UNLIMITED_BYTES ? 0 : v;
}

int cg_get_memory(struct cg *cg, uint64_t *bytes, gfs_err *err)
{
	const char *file = cg_limit_files(cgs.ver, CG_LIMIT_MEMORY)[0];
	uint64_t v;
	int r = cg_read_value(dir_of(cg, C_MEMORY), file, &v, err);
	if (r < 0)
		return r;
	*bytes = limit_or_zero(v);
	return 0;
}

static int set_one(struct cg *cg, enum ctrl c, enum cg_limit l, uint64_t value,
		   gfs_err *err)
{
	char val[32];
	cg_limit_format(cgs.ver, l, 0, value, val);
	return cg_write(dir_of(cg, c), cg_limit_files(cgs.ver, l)[0], val, err);
}

int cg_set_cpu_shares(struct cg *cg, uint64_t shares, gfs_err *err)
{
	return set_one(cg, C_CPU, CG_LIMIT_CPU, shares, err);
}

int cg_get_cpu_shares(struct cg *cg, uint64_t *shares, gfs_err *err)
{
	uint64_t v;
	int r =
	    cg_read_value(dir_of(cg, C_CPU),
			  cg_limit_files(cgs.ver, CG_LIMIT_CPU)[0], &v, err);
	if (r < 0)
		return r;
	*shares = cgs.ver == CG_V2 ? cg_weight_to_shares(v) : v;
	return 0;
}

int cg_set_pids_max(struct cg *cg, uint64_t max, gfs_err *err)
{
	return set_one(cg, C_PIDS, CG_LIMIT_PIDS, max, err);
}

int cg_get_pids_max(struct cg *cg, uint64_t *max, gfs_err *err)
{
	uint64_t v;
	int r = cg_read_value(dir_of(cg, C_PIDS), "pids.max", &v, err);
	if (r < 0)
		return r;
	*max = v == UINT64_MAX ? 0 : v;
	return 0;
}

/* ---- metrics ---- */

/* A file that may be missing (memory.swap.* without swap accounting). */
static bool read_opt(const char *dir, const char *file, uint64_t *v)
{
	return cg_read_value(dir, file, v, GFS_IGNORE) == 0;
}

static int v1_metrics(struct cg *cg, struct cg_metrics *m, gfs_err *err)
{
	cleanup_free char *stat = NULL;
	int r = cg_read(dir_of(cg, C_MEMORY), "memory.stat", &stat, err);
	if (r < 0)
		return r;
	cg_parse_memory_stat_v1(stat, m);
	const char *acct = dir_of(cg, C_CPUACCT);
	r = cg_read_value(acct, "cpuacct.usage", &m->cpu_usage, err);
	if (r < 0)
		return r;
	/* usage_user/usage_sys are in ns; cpuacct.stat only in ticks */
	if (cgs.cpu_split) {
		r = cg_read_value(acct, "cpuacct.usage_user", &m->cpu_user,
				  err);
		if (r == 0)
			r = cg_read_value(acct, "cpuacct.usage_sys",
					  &m->cpu_system, err);
		return r;
	}
	cleanup_free char *cs = NULL;
	r = cg_read(acct, "cpuacct.stat", &cs, err);
	if (r == 0)
		cg_parse_cpuacct_stat(cs, sysconf(_SC_CLK_TCK), m);
	return r;
}

static int v2_metrics(struct cg *cg, struct cg_metrics *m, gfs_err *err)
{
	const char *dir = cg->dir[0];
	cleanup_free char *stat = NULL, *cpu = NULL;
	int r = cg_read(dir, "memory.stat", &stat, err);
	if (r < 0)
		return r;
	cg_parse_memory_stat_v2(stat, m);
	uint64_t swap = 0, mem_max = UINT64_MAX, swap_max = UINT64_MAX;
	read_opt(dir, "memory.swap.current", &swap);
	read_opt(dir, "memory.max", &mem_max);
	if (!read_opt(dir, "memory.swap.max", &swap_max))
		swap_max = 0; /* no swap accounting: memory.max bounds all */
	cg_v2_memory_limits(m, swap, mem_max, swap_max);
	r = cg_read(dir, "cpu.stat", &cpu, err);
	if (r < 0)
		return r;
	cg_parse_cpu_stat_v2(cpu, m);
	return 0;
}

int cg_metrics(struct cg *cg, struct cg_metrics *m, gfs_err *err)
{
	memset(m, 0, sizeof *m);
	int r =
	    cgs.ver == CG_V2 ? v2_metrics(cg, m, err) : v1_metrics(cg, m, err);
	if (r < 0)
		return gfs_error_wrap(err, "metrics");
	m->mem[CG_MEM_TOTAL_USAGE_TOWARD_LIMIT] = cg_usage_toward_limit(m);
	const char *pd = dir_of(cg, C_PIDS);
	r = cg_read_value(pd, "pids.current", &m->pids_current, err);
	if (r == 0)
		r = cg_read_value(pd, "pids.max", &m->pids_max, err);
	if (r < 0)
		return gfs_error_wrap(err, "metrics");
	if (m->pids_max == UINT64_MAX)
		m->pids_max = 0;
	return 0;
}

/* ---- OOM ---- */

/* v1: the kernel signals the eventfd whenever the cgroup is under OOM
 * (also when it recovers without a kill, and when the cgroup is removed),
 * so the eventfd only says "look"; the oom_kill counter says whether a
 * kill happened. */
static int v1_oom_fd(struct cg *cg, gfs_err *err)
{
	const char *dir = dir_of(cg, C_MEMORY);
	cleanup_free char *path = xasprintf("%s/memory.oom_control", dir);
	cleanup_close int ocfd = open(path, O_RDONLY | O_CLOEXEC);
	if (ocfd < 0)
		return gfs_error_sys(err, errno, "open %s", path);
	cleanup_close int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return gfs_error_sys(err, errno, "eventfd");
	char val[64];
	snprintf(val, sizeof val, "%d %d", efd, ocfd);
	int r = cg_write(dir, "cgroup.event_control", val, err);
	if (r < 0)
		return r;
	cg->oom_file = steal_fd(ocfd);
	cg->oom_fd = steal_fd(efd);
	return 0;
}

/* v2: memory.events changes raise POLLPRI on an open file, but kernfs
 * files are always POLLIN too, so an epoll watching POLLIN would spin.  An
 * inotify IN_MODIFY watch (kernfs_notify sends it too) is readable only
 * when the file changed, whatever events the caller polls for. */
static int v2_oom_fd(struct cg *cg, gfs_err *err)
{
	cleanup_free char *path = xasprintf("%s/memory.events", cg->dir[0]);
	cleanup_close int file = open(path, O_RDONLY | O_CLOEXEC);
	if (file < 0)
		return gfs_error_sys(err, errno, "open %s", path);
	cleanup_close int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0)
		return gfs_error_sys(err, errno, "inotify_init1");
	if (inotify_add_watch(ifd, path, IN_MODIFY) < 0)
		return gfs_error_sys(err, errno, "inotify_add_watch %s", path);
	cg->oom_file = steal_fd(file);
	cg->oom_fd = steal_fd(ifd);
	return 0;
}

int cg_oom_fd(struct cg *cg, gfs_err *err)
{
	if (cg->oom_fd >= 0)
		return cg->oom_fd;
	int r = cgs.ver == CG_V2 ? v2_oom_fd(cg, err) : v1_oom_fd(cg, err);
	if (r < 0)
		return gfs_error_wrap(err, "OOM notification");
	return cg->oom_fd;
}

static int oom_kills(struct cg *cg, uint64_t *kills, gfs_err *err)
{
	cleanup_free char *text = NULL;
	int r = read_fd(cg->oom_file, &text, err, "the OOM counter");
	if (r < 0)
		return r;
	return cg_kv_get(text, "oom_kill", kills);
}

/* v1 signals the eventfd before the OOM killer picks its victim, so the
 * counter may not have moved yet when we look: look again a few times
 * over ~10 ms, and if it still has not moved, re-arm the eventfd so that
 * the caller comes back, for up to a second after the signal.  A signal
 * with no kill in that time was an OOM the kernel resolved without one
 * (a victim already dying, or reclaim). */
static int v1_oom_settle(struct cg *cg, bool fired, uint64_t *kills,
			 gfs_err *err)
{
	if (fired && !cg->oom_wait_until)
		cg->oom_wait_until = now_ms() + 1000;
	for (long ms = 1; ms <= 4 && *kills <= cg->oom_seen; ms++) {
		sleep_ms(ms);
		int r = oom_kills(cg, kills, err);
		if (r < 0)
			return r;
	}
	if (*kills > cg->oom_seen || now_ms() > cg->oom_wait_until) {
		cg->oom_wait_until = 0;
		return 0;
	}
	uint64_t one = 1;
	if (write(cg->oom_fd, &one, sizeof one) < 0)
		cg->oom_wait_until = 0;
	return 0;
}

int cg_oom_check(struct cg *cg, bool *oom, gfs_err *err)
{
	*oom = false;
	if (cg->oom_fd < 0)
		return gfs_error(err, EINVAL, "no OOM notification set up");
	/* drain: the fd is nonblocking, EAGAIN means nothing new */
	bool fired = false;
	char buf[4096] __attribute__((aligned(8)));
	while (read(cg->oom_fd, buf,
		    cgs.ver == CG_V2 ? sizeof buf : sizeof(uint64_t)) > 0)
		fired = true;
	uint64_t kills;
	int r = oom_kills(cg, &kills, err);
	if (r == -ENOENT) {
		/* kernels before 4.13 have no counter: trust the event as
		 * Garden did */
		*oom = fired;
		return 0;
	}
	if (r < 0)
		return r;
	if (cgs.ver == CG_V1 && (fired || cg->oom_wait_until) &&
	    kills <= cg->oom_seen) {
		r = v1_oom_settle(cg, fired, &kills, err);
		if (r < 0)
			return r;
	}
	if (kills > cg->oom_seen)
		*oom = true;
	cg->oom_seen = kills;
	return 0;
}

/* ---- devices ---- */

/* The nodes of the container's /dev (runtime/init/rootfs.c makes them). */
static const struct cg_dev_rule dev_defaults[] = {
    {'c', -1, -1, CG_DEV_MKNOD}, {'b', -1, -1, CG_DEV_MKNOD},
    {'c', 1, 3, CG_DEV_ALL},	/* null */
    {'c', 1, 5, CG_DEV_ALL},	/* zero */
    {'c', 1, 7, CG_DEV_ALL},	/* full */
    {'c', 1, 8, CG_DEV_ALL},	/* random */
    {'c', 1, 9, CG_DEV_ALL},	/* urandom */
    {'c', 5, 0, CG_DEV_ALL},	/* tty */
    {'c', 5, 2, CG_DEV_ALL},	/* ptmx (pts/ptmx is 5:2 too) */
    {'c', 136, -1, CG_DEV_ALL}, /* the ptys */
};
/* What privileged containers commonly need besides (Garden gives them
 * fuse); never a disk. */
static const struct cg_dev_rule dev_privileged[] = {
    {'c', 10, 229, CG_DEV_ALL}, /* fuse */
    {'c', 10, 200, CG_DEV_ALL}, /* net/tun */
};

size_t cg_dev_defaults(bool privileged, struct cg_dev_rule *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof dev_defaults / sizeof dev_defaults[0];
	     i++)
		if (n < cap)
			out[n++] = dev_defaults[i];
	for (size_t i = 0;
	     privileged && i < sizeof dev_privileged / sizeof dev_privileged[0];
	     i++)
		if (n < cap)
			out[n++] = dev_privileged[i];
	return n;
}

void cg_dev_format_v1(const struct cg_dev_rule *r, char buf[64])
{
	char maj[24], min[24], acc[4];
	size_t k = 0;
	if (r->major < 0)
		snprintf(maj, sizeof maj, "*");
	else
		snprintf(maj, sizeof maj, "%" PRId64, r->major);
	if (r->minor < 0)
		snprintf(min, sizeof min, "*");
	else
		snprintf(min, sizeof min, "%" PRId64, r->minor);
	if (r->access & CG_DEV_READ)
		acc[k++] = 'r';
	if (r->access & CG_DEV_WRITE)
		acc[k++] = 'w';
	if (r->access & CG_DEV_MKNOD)
		acc[k++] = 'm';
	acc[k] = '\0';
	snprintf(buf, 64, "%c %s:%s %s", r->type == 'b' ? 'b' : 'c', maj, min,
		 acc);
}

#define INSN(c, d, s_, o, i)                                                   \
	((struct bpf_insn){.code = (c),                                        \
			   .dst_reg = (d),                                     \
			   .src_reg = (s_),                                    \
			   .off = (o),                                         \
			   .imm = (i)})

/* The program, by hand as crun does (no compiler at run time):
 *   r2 = ctx->access_type; r3 = r2 & 0xffff (type); r4 = r2 >> 16
 *   (access); r5 = major; r6 = minor; then per rule a block that jumps
 *   to the next block on any mismatch and otherwise returns 1; at the end
 *   return 0.  The kernel's verifier checks it again at load. */
int cg_dev_bpf(const struct cg_dev_rule *rules, size_t n, struct bpf_insn *out,
	       size_t cap)
{
	size_t k = 0;
#define EMIT(x)                                                                \
	do {                                                                   \
		if (k >= cap)                                                  \
			return -E2BIG;                                         \
		out[k++] = (x);                                                \
	} while (0)
	EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
		  offsetof(struct bpf_cgroup_dev_ctx, access_type), 0));
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
	EMIT(INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff));
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0));
	EMIT(INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_4, 0, 0, 16));
	EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1,
		  offsetof(struct bpf_cgroup_dev_ctx, major), 0));
	EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_1,
		  offsetof(struct bpf_cgroup_dev_ctx, minor), 0));
	for (size_t i = 0; i < n; i++) {
		const struct cg_dev_rule *r = &rules[i];
		bool all = (r->access & CG_DEV_ALL) == CG_DEV_ALL;
		int len =
		    1 + (all ? 0 : 3) + (r->major >= 0) + (r->minor >= 0) + 2;
		/* each jump lands on the first instruction after the block */
		int left = len;
		int type =
		    r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
		EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, left - 1,
			  type));
		left--;
		if (!all) {
			unsigned acc = 0;
			if (r->access & CG_DEV_MKNOD)
				acc |= BPF_DEVCG_ACC_MKNOD;
			if (r->access & CG_DEV_READ)
				acc |= BPF_DEVCG_ACC_READ;
			if (r->access & CG_DEV_WRITE)
				acc |= BPF_DEVCG_ACC_WRITE;
			/* any access bit outside the rule's: no match */
			EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7,
				  BPF_REG_4, 0, 0));
			EMIT(INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_7, 0, 0,
				  (int32_t)~acc));
			left -= 2;
			EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_7, 0,
				  left - 1, 0));
			left--;
		}
		if (r->major >= 0) {
			EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0,
				  left - 1, (int32_t)r->major));
			left--;
		}
		if (r->minor >= 0) {
			EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0,
				  left - 1, (int32_t)r->minor));
			left--;
		}
		EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
		EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
	EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
#undef EMIT
	return (int)k;
}

#define DEV_RULES_MAX 64

/* The default list plus the device nodes among the bind sources. */
static int dev_rules(bool privileged, char *const *binds,
		     struct cg_dev_rule *out, size_t *n, gfs_err *err)
{
	*n = cg_dev_defaults(privileged, out, DEV_RULES_MAX);
	for (char *const *b = binds; b && *b; b++) {
		cleanup_free char *src = xstrndup(*b, strcspn(*b, ":"));
		struct stat st;
		if (stat(src, &st) < 0 ||
		    !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
			continue; /* not a device; the bind reports errors */
		if (*n >= DEV_RULES_MAX)
			return gfs_error(err, E2BIG,
					 "too many device nodes bound");
		out[(*n)++] = (struct cg_dev_rule){
		    S_ISBLK(st.st_mode) ? 'b' : 'c', (int64_t)major(st.st_rdev),
		    (int64_t)minor(st.st_rdev), CG_DEV_ALL};
	}
	return 0;
}

static int v1_devices(struct cg *cg, const struct cg_dev_rule *rules, size_t n,
		      gfs_err *err)
{
	const char *dir = dir_of(cg, C_DEVICES);
	if (!dir)
		return gfs_error(err, ENOTSUP,
				 "cgroup v1: the devices controller is not "
				 "mounted; container devices cannot be "
				 "restricted");
	int r = cg_write(dir, "devices.deny", "a", err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char line[64];
		cg_dev_format_v1(&rules[i], line);
		r = cg_write(dir, "devices.allow", line, err);
	}
	return r;
}

static int v2_devices(struct cg *cg, const struct cg_dev_rule *rules, size_t n,
		      gfs_err *err)
{
	struct bpf_insn insns[8 + DEV_RULES_MAX * 9];
	int k = cg_dev_bpf(rules, n, insns, sizeof insns / sizeof insns[0]);
	if (k < 0)
		return gfs_error(err, -k, "device program too long");
	static char license[] = "GPL";
	union bpf_attr load;
	memset(&load, 0, sizeof load);
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)insns;
	load.insn_cnt = (uint32_t)k;
	load.license = (uint64_t)(uintptr_t)license;
	cleanup_close int prog =
	    (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
	if (prog < 0) {
		/* again with the verifier's log, for the reason */
		int e = errno;
		cleanup_free char *log = xcalloc(1, 65536);
		load.log_buf = (uint64_t)(uintptr_t)log;
		load.log_size = 65536;
		load.log_level = 1;
		syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
		char *last = strrchr(log, '\n');
		while (last && last > log && last[1] == '\0') {
			*last = '\0';
			last = strrchr(log, '\n');
		}
		return gfs_error_sys(err, e, "loading the device program%s%s",
				     *log ? ": " : "", last ? last + 1 : log);
	}
	cleanup_close int cgfd =
	    open(cg->dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return gfs_error_sys(err, errno, "open %s", cg->dir[0]);
	union bpf_attr at;
	memset(&at, 0, sizeof at);
	at.target_fd = (uint32_t)cgfd;
	at.attach_bpf_fd = (uint32_t)prog;
	at.attach_type = BPF_CGROUP_DEVICE;
	/* with the programs of the cgroups above (systemd's): all must
	 * allow */
	at.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at) < 0)
		return gfs_error_sys(err, errno,
				     "attaching the device program to %s",
				     cg->dir[0]);
	/* the attachment keeps the program alive with the cgroup */
	return 0;
}

int cg_set_devices(struct cg *cg, bool privileged, char *const *binds,
		   gfs_err *err)
{
	struct cg_dev_rule rules[DEV_RULES_MAX];
	size_t n = 0;
	int r = dev_rules(privileged, binds, rules, &n, err);
	if (r == 0)
		r = cgs.ver == CG_V2 ? v2_devices(cg, rules, n, err)
				     : v1_devices(cg, rules, n, err);
	return r < 0 ? gfs_error_wrap(err, "devices") : 0;
}
