/* The daemon's side of streaming (runtime/stream.h): spawn gardenfs-stream
 * with its pipes, read its verdicts without blocking, kill and close.
 *
 * The child gets exactly four descriptors: 0 the archive's pipe, 1 the
 * status pipe, 2 /dev/null, 3 a pidfd of the container's init.  Its
 * arguments carry the resolved user and the path; its environment is
 * empty.  posix_spawn (vfork and exec) keeps the cost of a spawn from a
 * big daemon small and is safe with threads. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/rt_priv.h"
#include "runtime/stream.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Pipe buffers: big, so that a FUSE write of 128 KiB and the child's 1 MiB
 * reads rarely meet an empty or full pipe. */
#define DATA_PIPE_SIZE (1 << 20)

static char *helper;

int rt_stream_setup(const char *helper_path, gfs_err *err)
{
	if (!helper_path || helper_path[0] != '/')
		return gfs_error(err, EINVAL,
				 "the stream helper's path must be absolute");
	if (access(helper_path, X_OK) < 0)
		return gfs_error_sys(err, errno, "stream helper %s",
				     helper_path);
	free(helper);
	helper = xstrdup(helper_path);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A copy of fd at 10 or above, so that the child's dup2s onto 0..3
 * never clobber a source. */
static int high_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static char *groups_arg(const gid_t *g, size_t n)
{
	sbuf b = SBUF_INIT;
	sbuf_adds(&b, "groups=");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&b, "%s%u", i ? "," : "", (unsigned)g[i]);
	return sbuf_steal(&b);
}

static int spawn(const struct rt_stream_req *rq, bool in, struct rt_stream *s,
		 gfs_err *err)
{
	int data[2] = {-1, -1}, st[2] = {-1, -1};
	int child_data = -1, child_st = -1, initfd = -1;
	char *argv[16] = {0};
	int r;

	memset(s, 0, sizeof *s);
	s->pid = -1;
	s->pidfd = s->data = s->status = -1;
	s->in = in;
	if (!helper)
		return gfs_error(err, ENOENT,
				 "no stream helper (rt_stream_setup)");
	if (!rq->path || !*rq->path)
		return gfs_error(err, EINVAL, "an empty path");
	if (!rq->home || rq->home[0] != '/')
		return gfs_error(err, EINVAL,
				 "the user's home is not absolute");
	if (pipe2(data, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0) {
		r = gfs_error_sys(err, errno, "pipe");
		goto fail;
	}
	/* best effort: the default 64 KiB works, only slower */
	fcntl(data[0], F_SETPIPE_SZ, DATA_PIPE_SIZE);
	s->data = in ? data[1] : data[0];
	child_data = high_fd(in ? data[0] : data[1]);
	s->status = st[0];
	child_st = high_fd(st[1]);
	close(in ? data[0] : data[1]);
	close(st[1]);
	data[0] = data[1] = st[0] = st[1] = -1;
	if (child_data < 0 || child_st < 0) {
		r = gfs_error_sys(err, errno, "dup");
		goto fail;
	}
	if (fcntl(s->data, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(s->status, F_SETFL, O_NONBLOCK) < 0) {
		r = gfs_error_sys(err, errno, "fcntl");
		goto fail;
	}
	if (rq->init_pidfd >= 0)
		initfd = high_fd(rq->init_pidfd);
	else {
		int fd = (int)syscall(SYS_pidfd_open, rq->init_pid, 0);
		initfd = fd < 0 ? -1 : high_fd(fd);
		if (fd >= 0)
			close(fd);
	}
	if (initfd < 0) {
		r = gfs_error_sys(err, errno == ESRCH ? ESRCH : errno,
				  "the container's init (pid %d)",
				  (int)rq->init_pid);
		goto fail;
	}

	size_t k = 0;
	argv[k++] = xstrdup("gardenfs-stream");
	argv[k++] = xstrdup(in ? "in" : "out");
	argv[k++] = xasprintf("pid=%d", (int)rq->init_pid);
	argv[k++] = xasprintf("ppid=%d", (int)getpid());
	argv[k++] = xasprintf("privileged=%d", rq->privileged ? 1 : 0);
	argv[k++] = xasprintf("root=%d", rq->as_root ? 1 : 0);
	argv[k++] = xasprintf("uid=%u", (unsigned)rq->uid);
	argv[k++] = xasprintf("gid=%u", (unsigned)rq->gid);
	argv[k++] = groups_arg(rq->groups, rq->ngroups);
	argv[k++] = xasprintf("limit_ms=%" PRIu64, rq->time_limit_ms);
	argv[k++] = xasprintf("home=%s", rq->home);
	/* last, so that nothing in it can pass for another argument */
	argv[k++] = xasprintf("path=%s", rq->path);
	argv[k] = NULL;
	char *envp[] = {NULL};

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, child_data, 0);
	posix_spawn_file_actions_adddup2(&fa, child_st, 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, initfd, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	posix_spawnattr_init(&at);
	/* the daemon blocks signals for its signalfd and ignores SIGPIPE;
	 * the child starts with neither */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int e = posix_spawn(&pid, helper, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	for (size_t i = 0; i < k; i++)
		free(argv[i]);
	if (e != 0) {
		r = gfs_error_sys(err, e, "starting %s", helper);
		goto fail;
	}
	s->pid = pid;
	/* our child, not reaped before we return (the loop's reaper runs
	 * in this thread): the pid cannot have been reused */
	s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (s->pidfd < 0) {
		r = gfs_error_sys(err, errno, "pidfd_open");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		s->pid = -1;
		goto fail;
	}
	if (rq->time_limit_ms)
		s->deadline_ms = now_ms() + rq->time_limit_ms + 2000;
	close(child_data);
	close(child_st);
	close(initfd);
	s->phase = RT_STREAM_STARTING;
	return 0;
fail:
	close_fd(&data[0]);
	close_fd(&data[1]);
	close_fd(&st[0]);
	close_fd(&st[1]);
	close_fd(&child_data);
	close_fd(&child_st);
	close_fd(&initfd);
	close_fd(&s->data);
	close_fd(&s->status);
	return r;
}

int rt_stream_in_start(const struct rt_stream_req *rq, struct rt_stream *out,
		       gfs_err *err)
{
	int r = spawn(rq, true, out, err);
	return r < 0 ? gfs_error_wrap(err, "streamin %s", rq->path) : 0;
}

int rt_stream_out_start(const struct rt_stream_req *rq, struct rt_stream *out,
			gfs_err *err)
{
	int r = spawn(rq, false, out, err);
	return r < 0 ? gfs_error_wrap(err, "streamout %s", rq->path) : 0;
}

static int open_ctr(struct rt_ctr *c, bool in, const char *path,
		    const char *user, uint64_t time_limit_ms,
		    struct rt_stream *out, gfs_err *err)
{
	struct rt_user u;
	int r = rt_user_resolve(c, user, &u, err);
	if (r < 0)
		return gfs_error_wrap(err, "%s %s",
				      in ? "streamin" : "streamout", path);
	struct rt_stream_req rq = {
	    .init_pid = c->init_pid,
	    .init_pidfd = c->pidfd,
	    .privileged = c->privileged,
	    .uid = u.uid,
	    .gid = u.gid,
	    .groups = u.groups,
	    .ngroups = u.ngroups,
	    .home = u.home,
	    .as_root = u.uid == 0,
	    .path = path,
	    .time_limit_ms = time_limit_ms,
	};
	r = in ? rt_stream_in_start(&rq, out, err)
	       : rt_stream_out_start(&rq, out, err);
	rt_user_free(&u);
	return r;
}

int rt_stream_in_open(struct rt_ctr *c, const char *path, const char *user,
		      uint64_t time_limit_ms, struct rt_stream *out,
		      gfs_err *err)
{
	return open_ctr(c, true, path, user, time_limit_ms, out, err);
}

int rt_stream_out_open(struct rt_ctr *c, const char *path, const char *user,
		       uint64_t time_limit_ms, struct rt_stream *out,
		       gfs_err *err)
{
	return open_ctr(c, false, path, user, time_limit_ms, out, err);
}

static int failed(struct rt_stream *s, int *phase, gfs_err *err)
{
	s->phase = RT_STREAM_FAILED;
	*phase = s->phase;
	if (err)
		*err = s->fail;
	return -s->fail.code;
}

/* The status pipe ended with no verdict: the child died.  How, when we
 * can still tell (the daemon's reaper may have collected it already). */
static void died(struct rt_stream *s)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (s->pidfd >= 0 &&
	    waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si,
		   WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid > 0 && si.si_code != CLD_EXITED)
		gfs_error(&s->fail, EIO,
			  "the stream helper died of signal %d without a "
			  "verdict",
			  si.si_status);
	else
		gfs_error(&s->fail, EIO,
			  "the stream helper ended without a verdict");
}

int rt_stream_poll_status(struct rt_stream *s, int *phase, gfs_err *err)
{
	*phase = s->phase;
	if (s->phase == RT_STREAM_FAILED)
		return failed(s, phase, err);
	for (;;) {
		char *nl = memchr(s->sbuf, '\n', s->slen);
		if (nl) {
			size_t n = (size_t)(nl - s->sbuf);
			int ph = 0;
			uint64_t e = 0, b = 0;
			gfs_err pe = {0};
			int r = rt_stream_record_parse(s->sbuf, n, &ph, &e, &b,
						       &pe);
			memmove(s->sbuf, nl + 1, s->slen - n - 1);
			s->slen -= n + 1;
			if (r < 0 || ph == RT_STREAM_FAILED) {
				s->fail = pe;
				return failed(s, phase, err);
			}
			/* records only move forward */
			if (ph <= s->phase)
				continue;
			s->phase = ph;
			if (ph == RT_STREAM_DONE) {
				s->entries = e;
				s->bytes = b;
			}
			*phase = ph;
			return 1;
		}
		if (s->slen == sizeof s->sbuf) {
			gfs_error(&s->fail, EPROTO,
				  "the stream helper sent an overlong status "
				  "record");
			return failed(s, phase, err);
		}
		if (s->status < 0)
			return 0;
		ssize_t k = read(s->status, s->sbuf + s->slen,
				 sizeof s->sbuf - s->slen);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 0;
		if (k > 0) {
			s->slen += (size_t)k;
			continue;
		}
		/* end of file (or a read error): no more verdicts */
		close_fd(&s->status);
		if (s->phase == RT_STREAM_DONE)
			return 0;
		if (k < 0)
			gfs_error_sys(&s->fail, EIO,
				      "reading the stream status");
		else
			died(s);
		return failed(s, phase, err);
	}
}

void rt_stream_end_input(struct rt_stream *s)
{
	if (s->in)
		close_fd(&s->data);
}

void rt_stream_abort(struct rt_stream *s)
{
	if (s->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
	rt_stream_close(s);
}

void rt_stream_close(struct rt_stream *s)
{
	close_fd(&s->data);
	close_fd(&s->status);
	if (s->pidfd >= 0) {
		siginfo_t si;
		waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si,
		       WEXITED | WNOHANG);
	}
	close_fd(&s->pidfd);
	s->pid = -1;
}

bool rt_stream_overdue(const struct rt_stream *s, uint64_t now)
{
	return s->deadline_ms && now >= s->deadline_ms;
}
