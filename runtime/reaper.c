/* The depot's reaper: the parent of every container's init.
 *
 * An init must be reaped by its parent when it dies.  Were the daemon that
 * parent, a daemon killed with SIGKILL would leave its inits to the host's
 * pid 1, and on hosts whose pid 1 does not reap (this VM's does not) every
 * later destroy would leave a zombie.  So the daemon forks, once per depot,
 * a small reaper that lives on after the daemon: it clones the inits on the
 * daemon's request, hands back a pidfd of each, and reaps them whenever
 * they die.  A restarted daemon finds the same reaper through
 * DEPOT/reaper.sock.  The reaper leaves when no daemon is connected and it
 * has no child left.
 *
 * Protocol (SOCK_SEQPACKET, runtime/proto.h fields):
 *   daemon -> reaper: clone FLAGS USERNS + fds sync, listen, exe, null
 *   reaper -> daemon: pid PID + fd pidfd | error ERRNO REASON
 * The clone child is the init-to-be: it waits on the sync socket for its id
 * maps ("g" with the paths of its layers, which it opens while it is still
 * the host's root), becomes root of its user namespace and execs
 * gardenfs-init (see init_child).
 *
 * DEPOT/reaper.sock is 0600 in the 0700 depot, whatever the daemon's
 * umask, and the reaper talks only to peers of its own uid (SO_PEERCRED):
 * whoever can clone an init can run anything as root. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/proto.h"
#include "runtime/rt_priv.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define REAPER_MAX_CONNS 16

/* The layers of the container's root, opened by the child below while it
 * is still the host's root: the depot is root's and 0700, and the
 * container's root, which the child becomes before it execs the init,
 * cannot walk it.  The daemon's "g" packet names them (runtime/proto.h);
 * they land on PROTO_INIT_LOWER_FD.. in the child's own mount namespace,
 * where overlayfs and move_mount want them.  No capability is used: the
 * child's uid is still kuid 0, so the owner's bits let it through, while
 * its capabilities already belong to the new user namespace.
 * Async-signal-safe calls only. */
static int open_layers(const char *buf, size_t len)
{
	const char *f[PROTO_INIT_NLAYERS];
	int fd[PROTO_INIT_NLAYERS];
	size_t n = 0, i = 2; /* past "g\0" */

	if (len < 2 || buf[0] != 'g' || buf[1] != '\0' || buf[len - 1] != '\0')
		return -EPROTO;
	while (i < len && n < PROTO_INIT_NLAYERS) {
		f[n++] = buf + i;
		while (buf[i])
			i++;
		i++;
	}
	if (n != PROTO_INIT_NLAYERS)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		int o =
		    open(f[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* above every fd we keep, so that the dup2s below clobber
		 * nothing of ours */
		fd[i] = o < 0 ? -1 : fcntl(o, F_DUPFD_CLOEXEC, 64);
		int e = errno;
		if (o >= 0)
			close(o);
		if (fd[i] < 0)
			return o < 0 ? -e : -EMFILE;
	}
	for (i = 0; i < n; i++)
		if (dup2(fd[i], PROTO_INIT_LOWER_FD + (int)i) < 0)
			return -errno;
	return 0;
}

/* The cloned child: async-signal-safe calls only, then exec of
 * gardenfs-init.  Every fd but the ones it needs is closed at exec, so
 * nothing of the host leaks in; its config follows on the sync socket, so
 * its argv and environment hold nothing. */
static __attribute__((noreturn)) void init_child(int sync, int lsock, int exefd,
						 int null, bool userns)
{
	static char *const argv[] = {"gardenfs-init", NULL};
	static char *const envp[] = {NULL};
	static char go[PROTO_INIT_GO_MAX];
	int a = fcntl(sync, F_DUPFD, 10);
	int b = fcntl(lsock, F_DUPFD, 10);
	int e = fcntl(exefd, F_DUPFD_CLOEXEC, 10);
	int n = fcntl(null, F_DUPFD, 10);
	if (a < 0 || b < 0 || e < 0 || n < 0)
		_exit(126);
	dup2(n, 0);
	dup2(n, 1);
	dup2(n, 2);
	dup2(a, PROTO_INIT_SYNC_FD);
	dup2(b, PROTO_INIT_LISTEN_FD);
	syscall(SYS_close_range, PROTO_INIT_LISTEN_FD + 1, ~0U,
		CLOSE_RANGE_CLOEXEC);
	/* wait for our id maps and cgroup: "g" and the layers' paths */
	ssize_t len = recv(PROTO_INIT_SYNC_FD, go, sizeof go, 0);
	if (len <= 0)
		_exit(126);
	if (open_layers(go, (size_t)len) < 0) {
		static const char m[] = "error 13 gardenfs-init: cannot open "
					"the container's image and upper "
					"directories in the depot";
		send(PROTO_INIT_SYNC_FD, m, sizeof m - 1, MSG_NOSIGNAL);
		_exit(126);
	}
	/* Our ids are still the host's root, which the new namespace does not
	 * map; become its root (raw syscalls). */
	if (userns && (syscall(SYS_setgroups, 0, NULL) < 0 ||
		       syscall(SYS_setresgid, 0, 0, 0) < 0 ||
		       syscall(SYS_setresuid, 0, 0, 0) < 0)) {
		static const char m[] = "error 1 cannot become root in the "
					"user namespace";
		send(PROTO_INIT_SYNC_FD, m, sizeof m - 1, MSG_NOSIGNAL);
		_exit(126);
	}
	syscall(SYS_execveat, e, "", argv, envp, AT_EMPTY_PATH);
	static const char msg[] = "error 8 cannot exec gardenfs-init";
	send(PROTO_INIT_SYNC_FD, msg, sizeof msg - 1, MSG_NOSIGNAL);
	_exit(127);
}

static void reply_error(int conn, int code, const char *msg)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, "error");
	proto_addi(&b, code);
	proto_add(&b, msg);
	proto_send(conn, b.s, b.len, NULL, 0, NULL);
	sbuf_free(&b);
}

static void do_clone(int conn, char **f, size_t n, int *fds, size_t nfds)
{
	unsigned long long flags, userns;
	if (n < 3 || nfds != 4 || !proto_num(f[1], ~0ULL, &flags) ||
	    !proto_num(f[2], 1, &userns)) {
		reply_error(conn, EINVAL, "malformed clone request");
		return;
	}
	/* only the namespaces an init is made with, and SIGCHLD to us */
	flags &= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
		 CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP;
	pid_t pid =
	    (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		char m[64];
		snprintf(m, sizeof m, "clone: %s", strerror(errno));
		reply_error(conn, errno, m);
		return;
	}
	if (pid == 0)
		init_child(fds[0], fds[1], fds[2], fds[3], userns != 0);
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		reply_error(conn, e, "pidfd_open of the new init");
		return;
	}
	sbuf b = SBUF_INIT;
	proto_add(&b, "pid");
	proto_addi(&b, pid);
	if (proto_send(conn, b.s, b.len, &pfd, 1, NULL) < 0)
		kill(pid, SIGKILL); /* nobody will ever steer it */
	sbuf_free(&b);
	close(pfd);
}

static bool peer_is_ours(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof uc;
	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	       uc.uid == getuid();
}

static bool have_children(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* The reaper's life: one poll over the listening socket, the daemons'
 * connections and SIGCHLD. */
static __attribute__((noreturn)) void reaper_main(int lsock, int first)
{
	int conns[REAPER_MAX_CONNS];
	size_t nconns = 0;
	sigset_t mask;
	static char buf[PROTO_CONFIG_MAX + 1];

	setsid();
	prctl(PR_SET_NAME, "gardenfs-reaper", 0, 0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	/* nothing of the daemon's but our two sockets: not its depot lock,
	 * not its FUSE device */
	int keep_a = fcntl(lsock, F_DUPFD_CLOEXEC, 3);
	int keep_b = fcntl(first, F_DUPFD_CLOEXEC, 3);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep_a && fd != keep_b)
			close(fd);
	syscall(SYS_close_range, 1024U, ~0U, 0);
	lsock = keep_a;
	conns[nconns++] = keep_b;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP)
			signal(s, s == SIGTERM ? SIG_DFL : SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	fcntl(lsock, F_SETFL, O_NONBLOCK);

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (nconns == 0 && !have_children())
			_exit(0);
		struct pollfd pf[2 + REAPER_MAX_CONNS];
		pf[0] = (struct pollfd){sfd, POLLIN, 0};
		pf[1] = (struct pollfd){lsock, POLLIN, 0};
		for (size_t i = 0; i < nconns; i++)
			pf[2 + i] = (struct pollfd){conns[i], POLLIN, 0};
		if (poll(pf, 2 + nconns, -1) < 0)
			continue;
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
		}
		for (size_t i = nconns; i-- > 0;) {
			if (!pf[2 + i].revents)
				continue;
			int fds[PROTO_MAX_FDS];
			size_t nfds = 0, n = 0;
			ssize_t len = proto_recv(conns[i], buf, sizeof buf - 1,
						 fds, &nfds, NULL);
			if (len <= 0) {
				close(conns[i]);
				conns[i] = conns[--nconns];
				continue;
			}
			cleanup_free char **f =
			    proto_split(buf, (size_t)len, &n);
			if (f && n && strcmp(f[0], "clone") == 0)
				do_clone(conns[i], f, n, fds, nfds);
			else
				reply_error(conns[i], EINVAL,
					    "unknown request");
			for (size_t k = 0; k < nfds; k++)
				close(fds[k]);
		}
		if (pf[1].revents) {
			int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0 &&
			    (nconns == REAPER_MAX_CONNS || !peer_is_ours(c)))
				close(c);
			else if (c >= 0)
				conns[nconns++] = c;
		}
	}
}

/* --- the daemon's side --- */

static int reaper_conn = -1;
static pid_t reaper_child; /* when we started it */
static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;

static int sock_addr(const char *depot, struct sockaddr_un *sa, int *dfd,
		     gfs_err *err)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	*dfd = open(depot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0)
		return gfs_error_sys(err, errno, "opening %s", depot);
	snprintf(sa->sun_path, sizeof sa->sun_path,
		 "/proc/self/fd/%d/reaper.sock", *dfd);
	return 0;
}

int rt_bind_private(int s, int dfd, const char *name, gfs_err *err)
{
	struct sockaddr_un sa;
	struct stat st;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd,
		 name);
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		return gfs_error_sys(err, errno, "binding %s", name);
	/* The umask is the whole process's, and other threads make files
	 * meanwhile: the mode is set after the bind instead, before anyone
	 * may connect (no listen yet; the 0700 directory keeps everyone else
	 * out in between), and checked. */
	if (fchmodat(dfd, name, 0600, 0) < 0 ||
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return gfs_error_sys(err, errno, "chmod %s", name);
	if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0600 ||
	    st.st_uid != geteuid())
		return gfs_error(err, EPERM,
				 "%s is not a socket of ours with mode 0600",
				 name);
	return 0;
}

static int try_connect(const struct sockaddr_un *sa)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (const struct sockaddr *)sa, sizeof *sa) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	return s;
}

int rt_reaper_setup(const char *depot, gfs_err *err)
{
	struct sockaddr_un sa;
	cleanup_close int dfd = -1;
	int r = sock_addr(depot, &sa, &dfd, err);
	if (r < 0)
		return r;
	int s = try_connect(&sa);
	if (s >= 0) {
		reaper_conn = s;
		return 0;
	}
	/* none, or a dead one's socket: start ours */
	cleanup_free char *path = xasprintf("%s/reaper.sock", depot);
	unlink(path);
	cleanup_close int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (l < 0)
		return gfs_error_sys(err, errno, "socket");
	if (rt_bind_private(l, dfd, "reaper.sock", err) < 0)
		return gfs_error_wrap(err, "%s", path);
	if (listen(l, 8) < 0)
		return gfs_error_sys(err, errno, "listening on %s", path);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return gfs_error_sys(err, errno, "socketpair");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return gfs_error_sys(err, e, "starting the reaper");
	}
	if (pid == 0) {
		close(sp[0]);
		reaper_main(l, sp[1]);
	}
	close(sp[1]);
	reaper_child = pid;
	reaper_conn = sp[0];
	return 0;
}

pid_t rt_reaper_pid(void)
{
	return reaper_child;
}

void rt_reaper_close(void)
{
	if (reaper_conn >= 0)
		close(reaper_conn);
	reaper_conn = -1;
	/* ours, and with nothing left to reap it leaves now: reap it so
	 * that it is no zombie of ours either */
	if (reaper_child > 0) {
		int st;
		if (waitpid(reaper_child, &st, WNOHANG) == 0) {
			struct pollfd pf = {-1, 0, 0};
			for (int i = 0; i < 20; i++) {
				poll(&pf, 0, 5);
				if (waitpid(reaper_child, &st, WNOHANG) != 0)
					break;
			}
		}
		reaper_child = 0;
	}
}

int rt_reaper_clone(unsigned long flags, bool userns, const int fds[4],
		    pid_t *pid, int *pidfd, gfs_err *err)
{
	char buf[1024];
	int got[PROTO_MAX_FDS];
	size_t ngot = 0, n = 0;
	sbuf b = SBUF_INIT;
	proto_add(&b, "clone");
	proto_addu(&b, flags);
	proto_addu(&b, userns ? 1 : 0);
	pthread_mutex_lock(&reaper_lock);
	int r = reaper_conn < 0
		    ? -EPIPE
		    : proto_send(reaper_conn, b.s, b.len, fds, 4, NULL);
	ssize_t len = r < 0 ? r
			    : proto_recv(reaper_conn, buf, sizeof buf - 1, got,
					 &ngot, NULL);
	pthread_mutex_unlock(&reaper_lock);
	sbuf_free(&b);
	if (len <= 0)
		return gfs_error(err, EIO, "the depot's reaper is gone");
	cleanup_free char **f = proto_split(buf, (size_t)len, &n);
	unsigned long long v = 0;
	if (f && n >= 2 && strcmp(f[0], "pid") == 0 && ngot == 1 &&
	    proto_num(f[1], INT32_MAX, &v)) {
		*pid = (pid_t)v;
		*pidfd = got[0];
		return 0;
	}
	for (size_t i = 0; i < ngot; i++)
		close(got[i]);
	if (f && n >= 3 && strcmp(f[0], "error") == 0 &&
	    proto_num(f[1], 4095, &v) && v)
		return gfs_error(err, (int)v, "%s", f[2]);
	return gfs_error(err, EIO, "the reaper gave a bad answer");
}
