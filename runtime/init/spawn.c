/* Starting one process inside the container, on the daemon's request.
 * The child sets itself up (session, stdio, rlimits, capabilities, dir,
 * user, seccomp: see child() for the order) and execs; any failure before exec
 * goes back through a CLOEXEC pipe, so the daemon gets "ENOENT: exec foo"
 * instead of a process that silently exits 127. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "runtime/init/harden.h"
#include "runtime/init/init.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static struct rlimit nofile0;
static bool nofile_raised;

void init_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	nofile0 = rl;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile_raised = true;
}

struct failure {
	int code;
	char what[256];
};

static __attribute__((noreturn)) void fail(int fd, int code, const char *fmt,
					   ...)
{
	struct failure f = {.code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.what, sizeof f.what, fmt, ap);
	va_end(ap);
	if (write(fd, &f, sizeof f) < 0) {
		/* nothing more we can say */
	}
	_exit(127);
}

static __attribute__((noreturn)) void fail_err(int fd, const gfs_err *e)
{
	fail(fd, e->code ? e->code : EIO, "%s", e->msg);
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);
	for (; *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* execvpe that searches the process's own PATH, not ours. */
static int exec_path(const char *path, char **argv, char **envp)
{
	if (strchr(path, '/')) {
		execve(path, argv, envp);
		return -errno;
	}
	const char *search = env_get(envp, "PATH");
	if (!search)
		search =
		    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int saved = ENOENT;
	for (const char *s = search;;) {
		const char *e = strchrnul(s, ':');
		char full[PATH_MAX];
		int n = snprintf(full, sizeof full, "%.*s%s%s", (int)(e - s), s,
				 e == s ? "" : "/", path);
		if (n > 0 && (size_t)n < sizeof full) {
			execve(full, argv, envp);
			if (errno == EACCES)
				saved = EACCES;
			else if (errno != ENOENT && errno != ENOTDIR)
				return -errno;
		}
		if (!*e)
			break;
		s = e + 1;
	}
	return -saved;
}

/* oom_score_adj 0 for the process.  The init runs protected (the daemon
 * set it through the legacy oom_adj, which leaves oom_score_adj_min at 0,
 * see docs/security.md), so what we write here is a raise that needs no
 * privilege, and the process can never go back below 0. */
static void oom_reset(int efd)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		fail(efd, errno, "resetting oom_score_adj");
	close(fd);
}

/* stdio in place, then every other descriptor closed but efd (moved to
 * 3): nothing of the init (its sockets, other processes' output files and
 * FIFOs in the host's depot) stays reachable through /proc/self/fd, not
 * even before exec (CVE-2024-21626). */
static int fds_setup(const struct spawn_req *rq, int efd)
{
	int in = fcntl(rq->fds[0], F_DUPFD_CLOEXEC, 10);
	int out = fcntl(rq->fds[2], F_DUPFD_CLOEXEC, 10);
	int errf = fcntl(rq->fds[3], F_DUPFD_CLOEXEC, 10);
	int e = fcntl(efd, F_DUPFD_CLOEXEC, 10);
	if (in < 0 || out < 0 || errf < 0 || e < 0 || dup2(in, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(errf, 2) < 0 || dup3(e, 3, O_CLOEXEC) < 0)
		fail(efd, errno, "setting up stdio");
	if (syscall(SYS_close_range, 4U, ~0U, 0U) < 0)
		fail(3, errno, "closing the init's descriptors");
	int fl = fcntl(0, F_GETFL);
	if (fl >= 0)
		fcntl(0, F_SETFL, fl & ~O_NONBLOCK);
	/* a TTY process: the pty is its controlling terminal (we are a
	 * session leader already) */
	if (rq->tty && ioctl(0, TIOCSCTTY, 0) < 0)
		fail(3, errno, "making the pty the controlling terminal");
	return 3;
}

/* Limits exactly as the spec asks, soft = hard.  Nobody lifted the hard
 * limits for us: asking for more than the container has (nice and
 * rtprio are 0) is refused by the kernel, and we say so. */
static void rlimits_set(const struct spawn_req *rq, int efd)
{
	if (nofile_raised)
		setrlimit(RLIMIT_NOFILE, &nofile0);
	for (size_t i = 0; i < rq->nrl; i++) {
		struct rlimit rl = {rq->rl_val[i], rq->rl_val[i]}, old;
		if (setrlimit(rq->rl_res[i], &rl) == 0)
			continue;
		int e = errno;
		if (e == EPERM && getrlimit(rq->rl_res[i], &old) == 0)
			fail(efd, e,
			     "setrlimit %d to %llu: above the container's hard "
			     "limit %llu",
			     rq->rl_res[i], rq->rl_val[i],
			     (unsigned long long)old.rlim_max);
		fail(efd, e, "setrlimit %d to %llu", rq->rl_res[i],
		     rq->rl_val[i]);
	}
}

/* The order matters:
 *   bounding set cut (needs CAP_SETPCAP, so while still root);
 *   dir made (as container root, on descriptors);
 *   KEEPCAPS, setgroups/setgid/setuid: the permitted set survives, the
 *   effective set is emptied;
 *   chdir as the user, with no capability in effect;
 *   the filter: loading it without no_new_privs needs CAP_SYS_ADMIN, so
 *   that is raised for the load and dropped right after it; with
 *   no_new_privs the final sets come first and the filter is the very
 *   last thing before exec;
 *   effective and permitted to the final set, inheritable and ambient
 *   empty; exec, which gives root the bounding set and anyone else
 *   nothing. */
static __attribute__((noreturn)) void child(const struct spawn_req *rq,
					    bool privileged, int efd)
{
	sigset_t none;
	gfs_err e = {0};

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	umask(022);
	oom_reset(efd);
	efd = fds_setup(rq, efd);
	rlimits_set(rq, efd);

	uint64_t bound = privileged ? init_caps_bounding() : gfs_caps_default();
	if (!privileged && init_caps_bound(bound, &e) < 0)
		fail_err(efd, &e);
	/* root gets the bounding set (as exec would give it), as far as we
	 * hold it ourselves; anyone else nothing */
	uint64_t want = rq->uid == 0 ? bound & init_caps_permitted() : 0;

	if (rq->mkdir && rq->dir[0] == '/' &&
	    init_make_dir(rq->dir, rq->uid, rq->gid, &e) < 0)
		fail_err(efd, &e);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(efd, errno, "PR_SET_KEEPCAPS");
	if (setgroups(rq->ngroups, rq->groups) < 0)
		fail(efd, errno, "setgroups");
	if (setgid(rq->gid) < 0)
		fail(efd, errno, "setgid %u", (unsigned)rq->gid);
	if (setuid(rq->uid) < 0)
		fail(efd, errno, "setuid %u", (unsigned)rq->uid);
	/* for a user other than root nothing is in effect now */
	if (chdir(rq->dir) < 0)
		fail(efd, errno, "chdir %s", rq->dir);
	if (rq->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(efd, errno, "PR_SET_NO_NEW_PRIVS");
	if (!privileged && !rq->no_new_privs) {
		if (init_caps_set(want | (1ULL << CAP_SYS_ADMIN), &e) < 0)
			fail_err(efd, &e);
		int r = init_seccomp_load();
		if (r < 0)
			fail(efd, -r, "loading the seccomp filter");
	}
	if (init_caps_set(want, &e) < 0)
		fail_err(efd, &e);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail(efd, errno, "PR_SET_KEEPCAPS");
	if (!privileged && rq->no_new_privs) {
		int r = init_seccomp_load();
		if (r < 0)
			fail(efd, -r, "loading the seccomp filter");
	}
	int r = exec_path(rq->path, rq->argv, rq->envp);
	fail(efd, -r, "exec %s", rq->path);
}

int init_spawn_start(const struct spawn_req *rq, bool privileged, pid_t *pid,
		     int *efd, gfs_err *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return gfs_error_sys(err, errno, "pipe");
	pid_t c = fork();
	if (c < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return gfs_error_sys(err, e, "fork");
	}
	if (c == 0) {
		close(p[0]);
		child(rq, privileged, p[1]);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*pid = c;
	*efd = p[0];
	return 0;
}

int init_spawn_result(int efd, gfs_err *err)
{
	struct failure f;
	ssize_t n;
	do
		n = read(efd, &f, sizeof f);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 1;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof f)
		return gfs_error(err, EIO, "spawn: the child died before exec");
	f.what[sizeof f.what - 1] = '\0';
	return gfs_error_sys(err, f.code, "%s", f.what);
}
