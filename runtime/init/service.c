/* gardenfs-init's service loop: one poll over the listening socket, the
 * current daemon connection, a signalfd for SIGCHLD, a timer for the
 * stop deadline and the read ends of every process's stdout and stderr
 * pipes, which it pumps into the output files in the depot.  A new connection
 * replaces the old one at any time (a restarted daemon).  Exit statuses stay in
 * the table until the daemon acks them, so a daemon that died in between learns
 * them on "hello". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/init/init.h"
#include "runtime/proto.h"

struct proc {
	uint32_t id;
	pid_t pid;
	bool exited;
	int status;
	int keeper;   /* write end of the stdin FIFO: EOF waits for "eof" */
	uint64_t gen; /* ties the process to its pumps */
	/* forked, exec not yet confirmed: efd reads EOF once it exec'd, the
	 * reason when it failed; killed if neither comes by the deadline */
	bool starting;
	bool reported; /* a hello called it running already */
	int efd;
	uint64_t deadline;
	int master; /* a TTY process's pty master; -1 */
};

/* A TTY process's stdin: what is written to its FIFO goes to the pty's
 * master (which may be full: hence the buffer); the end of it is the
 * terminal's end of file, ^D, as Garden sends it. */
struct feed {
	uint64_t gen;
	int rfd;    /* the FIFO, nonblocking; -1 once at its end */
	int master; /* a dup of the master, nonblocking */
	char buf[4096];
	size_t len, off;
	bool eof_due; /* the FIFO ended: ^D goes out after buf */
};

/* A child that has not exec'd after this long is stuck (stopped by
 * someone, or looping in a hostile image's setup): it is killed and the
 * spawn fails. */
#define SPAWN_TIMEOUT_MS 10000

/* A process's stdout or stderr: the read end of the pipe it writes to and
 * the output file (O_APPEND) it goes to.  The process gets a pipe, not the
 * file, so that reopening /dev/stdout (O_TRUNC) cannot empty the file.
 * A pump outlives its process until EOF: background children may still
 * write. */
struct pump {
	uint64_t gen;
	int rfd; /* O_NONBLOCK; -1 once closed */
	int wfd;
};

#define PUMP_CHUNK     (64 * 1024)
#define PUMP_PIPE_SIZE (1024 * 1024)
/* at exit: what the pipe holds, bounded against a writer that goes on */
#define PUMP_DRAIN_MAX (4 * PUMP_PIPE_SIZE)

struct out {
	sbuf b;
	pid_t cred; /* SCM_CREDENTIALS pid, or 0 */
};

static struct proc *procs;
static size_t nprocs;
static int conn = -1;
static struct out *outq;
static size_t nout;
static bool privileged;
static bool stopping, stopped;
static int timer = -1;
static char rbuf[PROTO_MSG_MAX + 1];
static struct pump *pumps;
static size_t npumps;
static struct feed *feeds;
static size_t nfeeds;
static uint64_t next_gen = 1;
static char pbuf[PUMP_CHUNK];

/* Writes everything; on an error (EDQUOT, ENOSPC, EFBIG...) the rest of the
 * chunk is dropped, and the next one tried again. */
static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void pump_close(struct pump *pm)
{
	close(pm->rfd);
	close(pm->wfd);
	pm->rfd = pm->wfd = -1;
}

/* Moves up to about max bytes from the pipe to the file; never blocks on
 * the pipe.  Closes both at EOF. */
static void pump_run(struct pump *pm, size_t max)
{
	size_t done = 0;

	while (pm->rfd >= 0 && done < max) {
		ssize_t n = read(pm->rfd, pbuf, sizeof pbuf);
		if (n > 0) {
			write_all(pm->wfd, pbuf, (size_t)n);
			done += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			pump_close(pm);
		}
	}
}

/* Before the daemon hears of an exit (it ends the streams then), what the
 * process wrote must be in the files. */
static void pump_drain(uint64_t gen)
{
	for (size_t i = 0; i < npumps; i++)
		if (pumps[i].gen == gen)
			pump_run(&pumps[i], PUMP_DRAIN_MAX);
}

static void pumps_compact(void)
{
	size_t j = 0;
	for (size_t i = 0; i < npumps; i++)
		if (pumps[i].rfd >= 0)
			pumps[j++] = pumps[i];
	npumps = j;
}

static void feed_close(struct feed *fd)
{
	if (fd->rfd >= 0)
		close(fd->rfd);
	close(fd->master);
	fd->rfd = fd->master = -1;
}

/* Moves what the FIFO holds to the master, as far as the master takes
 * it; never blocks. */
static void feed_run(struct feed *f)
{
	for (;;) {
		if (f->off < f->len) {
			ssize_t w =
			    write(f->master, f->buf + f->off, f->len - f->off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return;
			if (w <= 0) {
				feed_close(f);
				return;
			}
			f->off += (size_t)w;
			continue;
		}
		f->off = f->len = 0;
		if (f->eof_due) {
			struct termios t;
			char eof = 4; /* ^D */
			if (tcgetattr(f->master, &t) == 0 && t.c_cc[VEOF])
				eof = (char)t.c_cc[VEOF];
			if (write(f->master, &eof, 1) < 0 && errno == EAGAIN)
				return;
			feed_close(f);
			return;
		}
		if (f->rfd < 0)
			return;
		ssize_t n = read(f->rfd, f->buf, sizeof f->buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(f->rfd);
			f->rfd = -1;
			f->eof_due = true;
			continue;
		}
		f->len = (size_t)n;
	}
}

static void feeds_compact(void)
{
	size_t j = 0;
	for (size_t i = 0; i < nfeeds; i++)
		if (feeds[i].master >= 0)
			feeds[j++] = feeds[i];
	nfeeds = j;
}

static void pump_add(uint64_t gen, int rfd, int wfd)
{
	pumps = xrealloc(pumps, (npumps + 1) * sizeof *pumps);
	pumps[npumps++] = (struct pump){gen, rfd, wfd};
}

/* A pipe for a process's stdout or stderr.  The pipe's inode is the
 * init's (container root); the process, which may run as another user,
 * must be able to reopen it through /proc/self/fd (echo x >/dev/stdout),
 * so it becomes the process's and writable by anyone (reaching another
 * process's /proc/PID/fd takes ptrace rights anyway). */
static int out_pipe(const struct spawn_req *rq, int p[2], gfs_err *err)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return gfs_error_sys(err, errno, "pipe");
	/* best effort: the default 64 KiB will do */
	fcntl(p[0], F_SETPIPE_SZ, PUMP_PIPE_SIZE);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
		return gfs_error_sys(err, e, "pipe");
	}
	if (fchown(p[1], rq->uid, rq->gid) < 0) {
		/* the mode below still lets it in */
	}
	fchmod(p[1], 0622);
	return 0;
}

/* Who may talk to us: the daemon alone.  Its way in is the socket's path,
 * 0600 in the depot's 0700 directories (root's) and outside the
 * container's tree; this is the second check, of every connection, with
 * what SO_PEERCRED can tell:
 * - the pid, in our pid namespace: 0 for every process outside it, so no
 *   process of this container, root or not, gets in;
 * - the uid and gid, in our user namespace: the daemon's are 0.  In a
 *   privileged container that is what we see.  In an unprivileged one host
 *   uid 0 is not mapped and reads as the overflow uid, as every other
 *   unmapped host uid does (and the nobody, 65534, of another container,
 *   which shares our mapping): there the check keeps out mapped ids only,
 *   and the path is what keeps other host users out. */
static uid_t peer_uid;
static gid_t peer_gid;

static unsigned long read_overflow(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	unsigned long v = n > 0 ? strtoul(buf, NULL, 10) : 0;
	return v ? v : 65534;
}

static void peer_setup(bool priv)
{
	peer_uid =
	    priv ? 0 : (uid_t)read_overflow("/proc/sys/kernel/overflowuid");
	peer_gid =
	    priv ? 0 : (gid_t)read_overflow("/proc/sys/kernel/overflowgid");
}

static bool peer_is_daemon(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof uc;
	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	       uc.pid == 0 && uc.uid == peer_uid && uc.gid == peer_gid;
}

/* A new connection replaces the daemon's only once that one is gone (a
 * daemon that died or stopped, whose end the kernel closed): while the
 * daemon lives, nobody who passes the checks above (root, or what an
 * unprivileged container cannot tell from root) can take its place. */
static bool conn_gone(void)
{
	struct pollfd p = {conn, POLLIN | POLLRDHUP, 0};
	return conn < 0 ||
	       (poll(&p, 1, 0) == 1 &&
		(p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)));
}

static void drop_conn(void)
{
	if (conn >= 0)
		close(conn);
	conn = -1;
	for (size_t i = 0; i < nout; i++)
		sbuf_free(&outq[i].b);
	nout = 0;
}

static int send_one(struct out *o)
{
	struct ucred uc = {.pid = o->cred, .uid = getuid(), .gid = getgid()};
	return proto_send(conn, o->b.s, o->b.len, NULL, 0,
			  o->cred ? &uc : NULL);
}

/* Sends in order; what does not fit now waits for POLLOUT.  Without a
 * daemon the message is dropped: anything that matters (exits) is resent
 * on the next hello. */
static void put(sbuf *b, pid_t cred)
{
	struct out o = {*b, cred};

	*b = (sbuf)SBUF_INIT;
	if (conn < 0) {
		sbuf_free(&o.b);
		return;
	}
	if (nout == 0) {
		int r = send_one(&o);
		if (r == 0 || r != -EAGAIN) {
			sbuf_free(&o.b);
			if (r < 0)
				drop_conn();
			return;
		}
	}
	outq = xrealloc(outq, (nout + 1) * sizeof *outq);
	outq[nout++] = o;
}

static void flush(void)
{
	while (nout && conn >= 0) {
		int r = send_one(&outq[0]);
		if (r == -EAGAIN)
			return;
		sbuf_free(&outq[0].b);
		memmove(outq, outq + 1, (nout - 1) * sizeof *outq);
		nout--;
		if (r < 0)
			drop_conn();
	}
}

static void put_words(pid_t cred, const char *verb, int n, ...)
{
	sbuf b = SBUF_INIT;
	va_list ap;

	proto_add(&b, verb);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		proto_add(&b, va_arg(ap, const char *));
	va_end(ap);
	put(&b, cred);
}

static void put_pair(const char *verb, unsigned long long a, long long v,
		     pid_t cred)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, verb);
	proto_addu(&b, a);
	proto_addi(&b, v);
	put(&b, cred);
}

static struct proc *find_id(uint32_t id)
{
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].id == id)
			return &procs[i];
	return NULL;
}

static struct proc *find_pid(pid_t pid)
{
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid && !procs[i].exited)
			return &procs[i];
	return NULL;
}

static bool have_children(void)
{
	siginfo_t si;
	/* WNOWAIT: only asks; the reaper gets the statuses */
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void check_stopped(void)
{
	if (!stopping || have_children())
		return;
	stopping = false;
	stopped = true;
	struct itimerspec off = {0};
	timerfd_settime(timer, 0, &off, NULL);
	put_words(0, "stopped", 0);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void reply_error(unsigned long long id, const gfs_err *e);

static void proc_remove(struct proc *p)
{
	if (p->keeper >= 0)
		close(p->keeper);
	if (p->efd >= 0)
		close(p->efd);
	if (p->master >= 0)
		close(p->master);
	*p = procs[--nprocs];
}

/* A starting process gave its verdict (or its time is up): it runs now,
 * or the spawn fails.  Returns false when p is gone from the table. */
static bool settle(struct proc *p, bool timed_out)
{
	gfs_err e = {0};
	int r = timed_out ? gfs_error(&e, ETIMEDOUT,
				      "the process did not start within %d s "
				      "(stopped before exec?)",
				      SPAWN_TIMEOUT_MS / 1000)
			  : init_spawn_result(p->efd, &e);
	if (r == 1)
		return true;
	close(p->efd);
	p->efd = -1;
	p->starting = false;
	if (r == 0) {
		put_pair("started", p->id, p->pid, p->pid);
		return true;
	}
	if (timed_out)
		kill(p->pid, SIGKILL);
	reply_error(p->id, &e);
	if (p->reported) {
		/* a daemon was told it runs: it must learn an exit */
		p->exited = true;
		p->status = 255;
		if (p->keeper >= 0)
			close(p->keeper);
		p->keeper = -1;
		put_pair("exit", p->id, p->status, 0);
		return true;
	}
	/* it is reaped as a stranger when it goes */
	proc_remove(p);
	return false;
}

static void reap(void)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct proc *p = find_pid(pid);
		if (!p)
			continue; /* an orphan that was reparented to us */
		/* dead before we read its verdict: it is there by now */
		if (p->starting && !settle(p, false))
			continue;
		p->exited = true;
		p->status =
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (p->keeper >= 0)
			close(p->keeper);
		p->keeper = -1;
		pump_drain(p->gen);
		for (size_t i = 0; i < nfeeds; i++)
			if (feeds[i].gen == p->gen && feeds[i].master >= 0)
				feed_close(&feeds[i]);
		put_pair("exit", p->id, p->status, 0);
	}
	check_stopped();
}

static void do_hello(void)
{
	for (size_t i = 0; i < nprocs; i++) {
		struct proc *p = &procs[i];
		if (p->exited) {
			put_pair("exit", p->id, p->status, 0);
		} else {
			p->reported = true;
			put_pair("running", p->id, p->pid, p->pid);
		}
	}
	if (stopped)
		put_words(0, "stopped", 0);
	put_words(0, "ready", 0);
}

static void reply_error(unsigned long long id, const gfs_err *e)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, "error");
	proto_addu(&b, id);
	proto_addi(&b, e->code ? e->code : EIO);
	proto_add(&b, e->msg);
	put(&b, 0);
}

/* Fields after "spawn" (see runtime/proto.h). */
static int parse_spawn(char **f, size_t n, struct spawn_req *rq, gfs_err *err)
{
	size_t i = 1;
	unsigned long long v, cnt;

#define NUM(max) (i < n && proto_num(f[i++], (max), &v))
	if (!NUM(UINT32_MAX))
		goto bad;
	rq->id = (uint32_t)v;
	if (!NUM(UINT32_MAX - 1))
		goto bad;
	rq->uid = (uid_t)v;
	if (!NUM(UINT32_MAX - 1))
		goto bad;
	rq->gid = (gid_t)v;
	if (!NUM(65536))
		goto bad;
	cnt = v;
	rq->ngroups = cnt;
	rq->groups = xcalloc(cnt + 1, sizeof(gid_t));
	for (size_t g = 0; g < cnt; g++) {
		if (!NUM(UINT32_MAX - 1))
			goto bad;
		rq->groups[g] = (gid_t)v;
	}
	if (i + 3 > n)
		goto bad;
	rq->dir = f[i++];
	rq->mkdir = strcmp(f[i++], "1") == 0;
	rq->path = f[i++];
	if (!NUM(n))
		goto bad;
	cnt = v;
	if (i + cnt > n)
		goto bad;
	rq->argv = xcalloc(cnt + 1, sizeof(char *));
	for (size_t a = 0; a < cnt; a++)
		rq->argv[a] = f[i++];
	if (!NUM(n))
		goto bad;
	cnt = v;
	if (i + cnt > n)
		goto bad;
	rq->envp = xcalloc(cnt + 1, sizeof(char *));
	for (size_t a = 0; a < cnt; a++)
		rq->envp[a] = f[i++];
	if (!NUM(32))
		goto bad;
	rq->nrl = v;
	for (size_t r = 0; r < rq->nrl; r++) {
		if (!NUM(64))
			goto bad;
		rq->rl_res[r] = (int)v;
		if (!NUM(UINT64_MAX))
			goto bad;
		rq->rl_val[r] = v;
	}
	/* optional trailing fields (runtime/proto.h): NNP TTY COLS ROWS */
	if (i < n)
		rq->no_new_privs = strcmp(f[i++], "1") == 0;
	if (i < n)
		rq->tty = strcmp(f[i++], "1") == 0;
	if (rq->tty) {
		if (!NUM(65535))
			goto bad;
		rq->cols = (unsigned short)v;
		if (!NUM(65535))
			goto bad;
		rq->rows = (unsigned short)v;
	}
#undef NUM
	if (!rq->path[0] || !rq->dir[0])
		goto bad;
	return 0;
bad:
	return gfs_error(err, EINVAL, "malformed spawn request");
}

/* A pty for a TTY process: the master is ours, the slave its stdio.  The
 * slave comes from the master itself (TIOCGPTPEER), not by a path in
 * /dev/pts, and belongs to the process's user. */
static int make_pty(const struct spawn_req *rq, int *master, int *slave,
		    gfs_err *err)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return gfs_error_sys(err, errno, "opening /dev/ptmx");
	if (unlockpt(m) < 0) {
		int e = errno;
		close(m);
		return gfs_error_sys(err, e, "unlocking the pty");
	}
	int sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sl < 0) {
		int e = errno;
		close(m);
		return gfs_error_sys(err, e, "opening the pty's slave");
	}
	struct winsize ws = {.ws_row = rq->rows ? rq->rows : 24,
			     .ws_col = rq->cols ? rq->cols : 80};
	ioctl(m, TIOCSWINSZ, &ws);
	if (fchown(sl, rq->uid, (gid_t)-1) < 0) {
		/* it stays root's; the process still has it open */
	}
	fcntl(m, F_SETFL, O_NONBLOCK);
	*master = m;
	*slave = sl;
	return 0;
}

static void feed_add(uint64_t gen, int rfd, int master)
{
	feeds = xrealloc(feeds, (nfeeds + 1) * sizeof *feeds);
	memset(&feeds[nfeeds], 0, sizeof feeds[nfeeds]);
	feeds[nfeeds].gen = gen;
	feeds[nfeeds].rfd = rfd;
	feeds[nfeeds].master = master;
	nfeeds++;
}

static void do_spawn(char **f, size_t n, int *fds, size_t nfds)
{
	struct spawn_req rq;
	gfs_err e = {0};
	unsigned long long id = 0;
	pid_t pid;
	int po[2] = {-1, -1}, pe[2] = {-1, -1};

	memset(&rq, 0, sizeof rq);
	if (n > 1)
		proto_num(f[1], UINT32_MAX, &id);
	if (nfds != 4) {
		gfs_error(&e, EINVAL, "spawn needs 4 fds, got %zu", nfds);
		goto out;
	}
	memcpy(rq.fds, fds, sizeof rq.fds);
	if (stopping || stopped) {
		gfs_error(&e, EPERM, "the container is stopped");
		goto out;
	}
	if (parse_spawn(f, n, &rq, &e) < 0)
		goto out;
	if (find_id(rq.id)) {
		gfs_error(&e, EEXIST, "process %u exists", rq.id);
		goto out;
	}
	int master = -1, slave = -1;
	if (rq.tty) {
		/* stdin, stdout and stderr are the pty; what it says goes to
		 * the stdout file, stderr stays empty */
		if (make_pty(&rq, &master, &slave, &e) < 0)
			goto out;
		rq.fds[0] = rq.fds[2] = rq.fds[3] = slave;
	} else {
		/* the process writes to pipes; we append to the files */
		if (out_pipe(&rq, po, &e) < 0 || out_pipe(&rq, pe, &e) < 0)
			goto out;
		rq.fds[2] = po[1];
		rq.fds[3] = pe[1];
	}
	int efd;
	int r = init_spawn_start(&rq, privileged, &pid, &efd, &e);
	if (slave >= 0)
		close(slave);
	if (r < 0) {
		if (master >= 0)
			close(master);
		goto out;
	}
	uint64_t gen = next_gen++;
	procs = xrealloc(procs, (nprocs + 1) * sizeof *procs);
	procs[nprocs++] = (struct proc){
	    .id = rq.id,
	    .pid = pid,
	    .keeper = fds[1],
	    .gen = gen,
	    .starting = true,
	    .efd = efd,
	    .deadline = mono_ms() + SPAWN_TIMEOUT_MS,
	    .master = master,
	};
	fds[1] = -1;
	if (master >= 0) {
		pump_add(gen, fcntl(master, F_DUPFD_CLOEXEC, 3), fds[2]);
		feed_add(gen, fds[0], fcntl(master, F_DUPFD_CLOEXEC, 3));
		fds[0] = fds[2] = -1;
	} else {
		pump_add(gen, po[0], fds[2]);
		pump_add(gen, pe[0], fds[3]);
		po[0] = pe[0] = fds[2] = fds[3] = -1;
	}
out:
	if (e.code)
		reply_error(id, &e);
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* the write ends are the process's alone now: EOF when it and its
	 * children are done */
	for (size_t i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	free(rq.groups);
	free(rq.argv);
	free(rq.envp);
}

static void do_stop(bool kill_now)
{
	if (stopped) {
		put_words(0, "stopped", 0);
		return;
	}
	/* As pid 1 of the namespace, kill(-1) reaches every process in it
	 * but us. */
	kill(-1, kill_now ? SIGKILL : SIGTERM);
	if (!stopping) {
		stopping = true;
		struct itimerspec t = {.it_value = {kill_now ? 1 : 10, 0}};
		timerfd_settime(timer, 0, &t, NULL);
	}
	check_stopped();
}

/* /etc/hosts and /etc/resolv.conf as the daemon made them, written inside
 * the new root as its root (0644: its root may change them, its other
 * users may not).  A symlink there (an image's) is replaced, not
 * followed. */
int init_write_etc(const char *name, const char *text, gfs_err *err)
{
	if (!text)
		return 0;
	if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating /etc");
	cleanup_free char *path = xasprintf("/etc/%s", name);
	cleanup_free char *tmp = xasprintf("/etc/.%s.gardenfs", name);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0644);
	if (fd < 0)
		return gfs_error_sys(err, errno, "creating %s", path);
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int e = w == (ssize_t)len ? 0 : (w < 0 ? errno : EIO);
	fchmod(fd, 0644);
	close(fd);
	if (e == 0 && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return gfs_error_sys(err, e, "writing %s", path);
	}
	return 0;
}

static void handle(char **f, size_t n, int *fds, size_t nfds)
{
	unsigned long long id = 0, v = 0;
	const char *verb = f[0];

	if (strcmp(verb, "spawn") == 0) {
		do_spawn(f, n, fds, nfds);
		return;
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (strcmp(verb, "etc") == 0 && n == 3 &&
	    (strcmp(f[1], "hosts") == 0 || strcmp(f[1], "resolv.conf") == 0)) {
		/* the daemon's network files; best effort: an image without
		 * a writable /etc keeps its own */
		gfs_err e = {0};
		init_write_etc(f[1], f[2], &e);
		return;
	}
	if (strcmp(verb, "hello") == 0) {
		do_hello();
		return;
	}
	if (strcmp(verb, "stop") == 0) {
		do_stop(n > 1 && strcmp(f[1], "1") == 0);
		return;
	}
	if (n < 2 || !proto_num(f[1], UINT32_MAX, &id))
		return;
	struct proc *p = find_id((uint32_t)id);
	if (!p)
		return;
	if (strcmp(verb, "signal") == 0) {
		if (n > 2 && proto_num(f[2], 64, &v) && !p->exited)
			kill(p->pid, (int)v);
	} else if (strcmp(verb, "eof") == 0) {
		if (p->keeper >= 0)
			close(p->keeper);
		p->keeper = -1;
	} else if (strcmp(verb, "tty") == 0 && p->master >= 0 && n > 3) {
		unsigned long long cols, rows;
		if (proto_num(f[2], 65535, &cols) &&
		    proto_num(f[3], 65535, &rows)) {
			struct winsize ws = {.ws_row = (unsigned short)rows,
					     .ws_col = (unsigned short)cols};
			/* the foreground group gets SIGWINCH */
			ioctl(p->master, TIOCSWINSZ, &ws);
		}
	} else if (strcmp(verb, "ack") == 0 && p->exited) {
		proc_remove(p);
	}
}

static void read_conn(void)
{
	for (;;) {
		int fds[PROTO_MAX_FDS];
		size_t nfds = 0, n = 0;
		ssize_t len =
		    proto_recv(conn, rbuf, PROTO_MSG_MAX, fds, &nfds, NULL);
		if (len == -EAGAIN)
			return;
		if (len <= 0) {
			drop_conn();
			return;
		}
		char **f = proto_split(rbuf, (size_t)len, &n);
		if (f && n > 0)
			handle(f, n, fds, nfds);
		else
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
		free(f);
		if (conn < 0)
			return;
	}
}

int init_serve(int lsock, bool priv)
{
	sigset_t mask;

	privileged = priv;
	peer_setup(priv);
	init_raise_nofile();
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || timer < 0)
		return -errno;
	fcntl(lsock, F_SETFD, FD_CLOEXEC);
	fcntl(lsock, F_SETFL, O_NONBLOCK);

	struct pollfd *pf = NULL;
	size_t npf = 0;
	for (;;) {
		pumps_compact();
		feeds_compact();
		if (npf < 4 + npumps + nprocs + nfeeds) {
			npf = 4 + npumps + nprocs + nfeeds;
			pf = xrealloc(pf, npf * sizeof *pf);
		}
		/* a negative fd (no connection) is ignored by poll */
		pf[0] = (struct pollfd){sfd, POLLIN, 0};
		pf[1] = (struct pollfd){timer, POLLIN, 0};
		pf[2] = (struct pollfd){lsock, POLLIN, 0};
		pf[3] = (struct pollfd){
		    conn, (short)(POLLIN | (nout ? POLLOUT : 0)), 0};
		size_t np = npumps;
		for (size_t i = 0; i < np; i++)
			pf[4 + i] = (struct pollfd){pumps[i].rfd, POLLIN, 0};
		/* the verdicts of starting processes, and their deadlines */
		size_t ns = 0;
		int timeout = -1;
		uint64_t now = mono_ms();
		for (size_t i = 0; i < nprocs; i++) {
			if (!procs[i].starting)
				continue;
			pf[4 + np + ns++] =
			    (struct pollfd){procs[i].efd, POLLIN, 0};
			uint64_t left = procs[i].deadline > now
					    ? procs[i].deadline - now
					    : 0;
			if (timeout < 0 || left < (uint64_t)timeout)
				timeout = (int)left;
		}
		/* TTY stdin: the FIFO while there is room, the master while
		 * something waits for it */
		size_t nf = nfeeds;
		for (size_t i = 0; i < nf; i++) {
			struct feed *fd = &feeds[i];
			bool out = fd->off < fd->len || fd->eof_due;
			pf[4 + np + ns + i] =
			    (struct pollfd){out ? fd->master : fd->rfd,
					    (short)(out ? POLLOUT : POLLIN), 0};
		}
		if (poll(pf, 4 + np + ns + nf, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (size_t i = 0; i < nf; i++)
			if (pf[4 + np + ns + i].revents && feeds[i].master >= 0)
				feed_run(&feeds[i]);
		now = mono_ms();
		for (size_t i = 0; i < nprocs;) {
			struct proc *p = &procs[i];
			bool stay = true;
			if (p->starting && p->deadline <= now)
				stay = settle(p, true);
			else if (p->starting)
				for (size_t k = 0; k < ns; k++)
					if (pf[4 + np + k].fd == p->efd &&
					    pf[4 + np + k].revents) {
						stay = settle(p, false);
						break;
					}
			if (stay)
				i++;
		}
		/* pumps only grow at the end and close in place during a
		 * round: index i is still pf[4 + i] */
		for (size_t i = 0; i < np; i++)
			if (pf[4 + i].revents && pumps[i].rfd == pf[4 + i].fd)
				pump_run(&pumps[i], 4 * PUMP_CHUNK);
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
			reap();
		}
		if (pf[1].revents) {
			uint64_t x;
			if (read(timer, &x, sizeof x) > 0 && stopping)
				kill(-1, SIGKILL);
		}
		if (conn >= 0 && pf[3].revents) {
			if (pf[3].revents & POLLOUT)
				flush();
			if (conn >= 0 &&
			    (pf[3].revents & (POLLIN | POLLHUP | POLLERR)))
				read_conn();
		}
		if (pf[2].revents) {
			int c = accept4(lsock, NULL, NULL,
					SOCK_CLOEXEC | SOCK_NONBLOCK);
			/* a stranger neither gets in nor pushes the daemon
			 * out */
			if (c >= 0 && (!peer_is_daemon(c) || !conn_gone())) {
				close(c);
			} else if (c >= 0) {
				drop_conn();
				conn = c;
			}
		}
	}
}
