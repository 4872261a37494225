/* Starting one process inside the container, on the daemon's request.
 * The child sets itself up (session, stdio, rlimits, capabilities, dir,
 * user) and execs; any failure before exec goes back through a CLOEXEC
 * pipe, so the daemon gets "ENOENT: exec foo" instead of a process that
 * silently exits 127. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

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

/* Docker's default capability set: what an unprivileged container's root
 * keeps in its bounding set. */
static const int default_caps[] = {
    CAP_CHOWN,	     CAP_DAC_OVERRIDE, CAP_FOWNER,
    CAP_FSETID,	     CAP_KILL,	       CAP_SETGID,
    CAP_SETUID,	     CAP_SETPCAP,      CAP_NET_BIND_SERVICE,
    CAP_NET_RAW,     CAP_SYS_CHROOT,   CAP_MKNOD,
    CAP_AUDIT_WRITE, CAP_SETFCAP,
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

static bool cap_is_default(int cap)
{
	for (size_t i = 0; i < sizeof default_caps / sizeof default_caps[0];
	     i++)
		if (default_caps[i] == cap)
			return true;
	return false;
}

/* mkdir -p, each new directory handed to the process's user. */
static int make_dir(const char *dir, uid_t uid, gid_t gid)
{
	char p[PATH_MAX];

	if (strlen(dir) >= sizeof p)
		return -ENAMETOOLONG;
	strcpy(p, dir);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) == 0) {
			if (chown(p, uid, gid) < 0)
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
		*s = c;
		if (!c)
			break;
	}
	return 0;
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

static __attribute__((noreturn)) void child(const struct spawn_req *rq,
					    bool privileged, int efd)
{
	sigset_t none;
	int r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	umask(022);
	/* the init runs at -999 so that OOM kills spare it; we must not */
	int oom = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (oom >= 0) {
		if (write(oom, "0", 1) < 0) {
			/* stays as it was */
		}
		close(oom);
	}

	/* out of the way of 0-2 first, then into place */
	int in = fcntl(rq->fds[0], F_DUPFD_CLOEXEC, 10);
	int out = fcntl(rq->fds[2], F_DUPFD_CLOEXEC, 10);
	int errf = fcntl(rq->fds[3], F_DUPFD_CLOEXEC, 10);
	if (in < 0 || out < 0 || errf < 0 || dup2(in, 0) < 0 ||
	    dup2(out, 1) < 0 || dup2(errf, 2) < 0)
		fail(efd, errno, "setting up stdio");
	int fl = fcntl(0, F_GETFL);
	if (fl >= 0)
		fcntl(0, F_SETFL, fl & ~O_NONBLOCK);
	/* a TTY process: the pty is its controlling terminal (we are a
	 * session leader already) */
	if (rq->tty && ioctl(0, TIOCSCTTY, 0) < 0)
		fail(efd, errno, "making the pty the controlling terminal");
	/* everything else (our sockets, the keeper) goes at exec; efd
	 * must live until then */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

	if (nofile_raised)
		setrlimit(RLIMIT_NOFILE, &nofile0);
	for (size_t i = 0; i < rq->nrl; i++) {
		struct rlimit rl = {rq->rl_val[i], rq->rl_val[i]};
		if (setrlimit(rq->rl_res[i], &rl) < 0)
			fail(efd, errno, "setrlimit %d to %llu", rq->rl_res[i],
			     rq->rl_val[i]);
	}
	if (!privileged) {
		for (int cap = 0; cap < 64; cap++) {
			if (cap_is_default(cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break; /* past the last cap */
				fail(efd, errno, "dropping capability %d", cap);
			}
		}
	}
	if (rq->mkdir && rq->dir[0] == '/') {
		r = make_dir(rq->dir, rq->uid, rq->gid);
		if (r < 0)
			fail(efd, -r, "creating dir %s", rq->dir);
	}
	if (setgroups(rq->ngroups, rq->groups) < 0)
		fail(efd, errno, "setgroups");
	if (setgid(rq->gid) < 0)
		fail(efd, errno, "setgid %u", (unsigned)rq->gid);
	if (setuid(rq->uid) < 0)
		fail(efd, errno, "setuid %u", (unsigned)rq->uid);
	if (chdir(rq->dir) < 0)
		fail(efd, errno, "chdir %s", rq->dir);
	r = exec_path(rq->path, rq->argv, rq->envp);
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
