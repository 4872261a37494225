/* gardenfs-unpack: one image tarball or OCI layer, unpacked into a tree of
 * the image cache, by a child the daemon can kill, so that a hostile
 * archive (a decompression bomb, a bug in libarchive or a decompressor)
 * costs at most this process.
 *
 *   gardenfs-unpack oci=0|1 devices=0|1 limit=BYTES limit_ms=N ppid=N
 *                   what=NAME
 *
 * Started by the daemon (runtime/image_unpack.c) with the archive on 0
 * (a regular file), the status pipe on 1, /dev/null on 2 and the tree on 3
 * (a directory the daemon made), an empty environment.  In order: limits
 * (address space, open files, file size = the output bound, CPU time and a
 * timer), the decompressors probed, then locked down: the capabilities
 * unpacking needs and no other, no_new_privs and a seccomp filter that
 * allows the file calls of unpacking and nothing else (no exec, no fork,
 * no sockets, no mounts, no ptrace).  Then the archive (extract.c), and
 * the verdict on 1 (runtime/image_proto.h). */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/image_proto.h"
#include "runtime/unpack/unpack.h"

/* Enough for a deep tree and libarchive; never raised again. */
#define UX_NOFILE 256
/* What a decompressor may allocate: xz and zstd windows of images are
 * tens of MiB; a stream that wants more is hostile. */
#define UX_AS (1ULL << 30)

static char timeout_rec[RT_UNPACK_RECORD_MAX];
static size_t timeout_len;

static void status_write(const char *rec, size_t n)
{
	while (n > 0) {
		ssize_t w = write(UX_STATUS_FD, rec, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the daemon is gone: nobody to tell */
		rec += w;
		n -= (size_t)w;
	}
}

static int fail(const gfs_err *err)
{
	char rec[RT_UNPACK_RECORD_MAX];
	status_write(rec, rt_unpack_record_error(rec, err->code, err->msg));
	return 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	/* async-signal-safe: a record made beforehand, then out */
	if (write(UX_STATUS_FD, timeout_rec, timeout_len) < 0) {
		/* nobody to tell */
	}
	_exit(124);
}

struct args {
	struct ux_job job;
	uint64_t limit_ms;
	pid_t ppid;
};

static bool num(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && !errno && *v <= max;
}

static int parse_args(int argc, char **argv, struct args *a, gfs_err *err)
{
	static const char *const keys[] = {"oci",      "devices", "limit",
					   "limit_ms", "ppid",	  "what"};
	const size_t nk = sizeof keys / sizeof keys[0];
	unsigned have = 0;

	memset(a, 0, sizeof *a);
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		size_t k = 0;
		if (eq)
			for (; k < nk; k++)
				if (strlen(keys[k]) == (size_t)(eq - argv[i]) &&
				    !strncmp(argv[i], keys[k],
					     (size_t)(eq - argv[i])))
					break;
		if (!eq || k == nk || (have & (1u << k)))
			return gfs_error(err, EINVAL, "bad argument %.64s",
					 argv[i]);
		have |= 1u << k;
		unsigned long long n = 0;
		const char *v = eq + 1;
		bool ok = k == 5 || num(v, k < 2 ? 1 : UINT64_MAX, &n);
		switch (k) {
		case 0:
			a->job.oci = n;
			break;
		case 1:
			a->job.devices = n;
			break;
		case 2:
			a->job.limit = n;
			break;
		case 3:
			a->limit_ms = n;
			break;
		case 4:
			ok = ok && n > 0 && n <= 0x7fffffff;
			a->ppid = (pid_t)n;
			break;
		case 5:
			ok = *v != '\0';
			a->job.what = v;
			break;
		}
		if (!ok)
			return gfs_error(err, EINVAL, "bad argument %.64s",
					 argv[i]);
	}
	if (have != (1u << nk) - 1)
		return gfs_error(err, EINVAL,
				 "usage: gardenfs-unpack oci=0|1 devices=0|1 "
				 "limit=BYTES limit_ms=N ppid=N what=NAME");
	return 0;
}

static void limits(const struct args *a)
{
	struct rlimit zero = {0, 0}, nofile = {UX_NOFILE, UX_NOFILE},
		      as = {UX_AS, UX_AS};
	setrlimit(RLIMIT_CORE, &zero);
	setrlimit(RLIMIT_NOFILE, &nofile);
	setrlimit(RLIMIT_AS, &as);
	/* no file past the bound; a write there fails with EFBIG instead of
	 * killing us */
	rlim_t fsize = a->job.limit ? (rlim_t)a->job.limit : 1;
	struct rlimit fs = {fsize, fsize};
	setrlimit(RLIMIT_FSIZE, &fs);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (!a->limit_ms)
		return;
	gfs_err e = {0};
	gfs_error(&e, ETIMEDOUT, "%s: unpacking took longer than %llu s",
		  a->job.what, (unsigned long long)(a->limit_ms / 1000));
	timeout_len = rt_unpack_record_error(timeout_rec, e.code, e.msg);
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {
	    .it_value = {.tv_sec = (time_t)(a->limit_ms / 1000),
			 .tv_usec = (suseconds_t)(a->limit_ms % 1000) * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
	/* and CPU time, should the timer's signal never be taken */
	rlim_t cpu = (rlim_t)(a->limit_ms / 1000 + 2);
	struct rlimit rc = {cpu, cpu + 1};
	setrlimit(RLIMIT_CPU, &rc);
}

/* What making an image tree needs: owners, modes with setuid bits, file
 * capabilities, writing into the read-only directories an image has, and
 * device nodes for privileged containers.  Not CAP_SYS_ADMIN: trusted.*
 * attributes of an image (overlayfs' own) are dropped, as tar does. */
static int drop_caps(bool devices, gfs_err *err)
{
	cap_value_t keep[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER,
			      CAP_FSETID, CAP_SETFCAP,	    CAP_MKNOD};
	size_t n = sizeof keep / sizeof keep[0] - (devices ? 0 : 1);

	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		bool kept = false;
		for (size_t i = 0; i < n; i++)
			kept = kept || keep[i] == v;
		if (!kept && CAP_IS_SUPPORTED(v) && cap_drop_bound(v) < 0)
			return gfs_error_sys(err, errno,
					     "dropping capability %d", (int)v);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	cap_t c = cap_init();
	if (!c)
		return gfs_error_sys(err, errno, "cap_init");
	int r =
	    cap_set_flag(c, CAP_PERMITTED, (int)n, keep, CAP_SET) < 0 ||
		    cap_set_flag(c, CAP_EFFECTIVE, (int)n, keep, CAP_SET) < 0 ||
		    cap_set_proc(c) < 0
		? -errno
		: 0;
	/* checked, not assumed: the sets are what we asked for */
	cap_t now = r == 0 ? cap_get_proc() : NULL;
	bool same = now && cap_compare(c, now) == 0;
	cap_free(now);
	cap_free(c);
	if (r < 0)
		return gfs_error_sys(err, -r, "setting capabilities");
	if (!same)
		return gfs_error(err, EPERM,
				 "capabilities are not what was set");
	return 0;
}

/* An allow-list: the calls of reading an archive and making files below
 * a descriptor, memory without new executable mappings, the end.  All
 * else fails with EPERM. */
static int lock_seccomp(gfs_err *err)
{
	static const char *const allow[] = {
	    "read",	    "write",	    "pread64",	      "pwrite64",
	    "readv",	    "writev",	    "lseek",	      "close",
	    "openat",	    "openat2",	    "newfstatat",     "fstat",
	    "statx",	    "fstatfs",	    "getdents64",     "fcntl",
	    "dup",	    "dup3",	    "mkdirat",	      "unlinkat",
	    "symlinkat",    "linkat",	    "mknodat",	      "fchown",
	    "fchownat",	    "fchmod",	    "fchmodat",	      "utimensat",
	    "fsetxattr",    "ftruncate",    "fallocate",      "brk",
	    "munmap",	    "mremap",	    "madvise",	      "futex",
	    "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "getpid",
	    "gettid",	    "tgkill",	    "clock_gettime",  "gettimeofday",
	    "getrandom",    "exit",	    "exit_group",     "restart_syscall",
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return gfs_error(err, ENOMEM, "seccomp_init");
	int r = 0;
	for (size_t i = 0; i < sizeof allow / sizeof allow[0] && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allow[i]);
		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* memory, but nothing executable: no code can be loaded */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return gfs_error(err, -r, "installing the seccomp filter: %s",
				 strerror(-r));
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct stat st;
	gfs_err err = {0};

	/* our descriptors must be what the daemon gave */
	if (fcntl(UX_STATUS_FD, F_GETFD) < 0)
		return 2;
	if (parse_args(argc, argv, &a, &err) < 0)
		return fail(&err);
	if (fstat(UX_ARCHIVE_FD, &st) < 0 || !S_ISREG(st.st_mode)) {
		gfs_error(&err, EINVAL, "%s is not a regular file", a.job.what);
		return fail(&err);
	}
	if (fstat(UX_ROOT_FD, &st) < 0 || !S_ISDIR(st.st_mode)) {
		gfs_error(&err, EINVAL, "no tree to unpack %s into",
			  a.job.what);
		return fail(&err);
	}
	limits(&a);
	prctl(PR_SET_NAME, "gardenfs-unpack", 0, 0, 0);
	/* libarchive's conversions of pax names: UTF-8 to UTF-8, no iconv
	 * module loaded later */
	setlocale(LC_ALL, "C.UTF-8");
	ux_filters_probe();
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* never outlive the daemon's worker that waits for us */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != a.ppid) {
		gfs_error(&err, ESRCH, "the daemon is gone");
		return fail(&err);
	}
	if (drop_caps(a.job.devices, &err) < 0 || lock_seccomp(&err) < 0)
		return fail(&err);

	struct rt_unpack_verdict v;
	if (ux_extract(&a.job, &v, &err) < 0)
		return fail(&err);
	char rec[RT_UNPACK_RECORD_MAX];
	status_write(rec, rt_unpack_record_ok(rec, &v));
	return 0;
}
