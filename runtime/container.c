/* Containers: the depot directory, the cgroup, the namespaces and the init
 * (gardenfs-init, cloned straight from the daemon), and the daemon's side
 * of the conversation with it.  The init outlives the daemon; rt_restore
 * reconnects to it and learns what happened meanwhile. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/cgroup.h"
#include "runtime/image.h"
#include "runtime/proto.h"
#include "runtime/rt_priv.h"
#include "runtime/store.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define INIT_READY_MS 10000
#define HELLO_MS      5000
#define DESTROY_MS    5000

struct rt_config rt_cfg;

static char *depot_path(const char *fmt, const char *handle)
{
	return xasprintf(fmt, rt_cfg.depot, handle);
}

int rt_setup(const struct rt_config *cfg, gfs_err *err)
{
	struct stat st;

	if (!cfg->depot || cfg->depot[0] != '/' || !cfg->init_path ||
	    cfg->init_path[0] != '/' || !cfg->instance || !*cfg->instance)
		return gfs_error(err, EINVAL,
				 "runtime: depot and init path must be "
				 "absolute, instance set");
	if (cfg->id_count < 65536 || cfg->id_base == 0)
		return gfs_error(err, EINVAL,
				 "runtime: need at least 65536 ids above 0");
	if (access(cfg->init_path, X_OK) < 0)
		return gfs_error_sys(err, errno, "init %s", cfg->init_path);
	free((char *)rt_cfg.depot);
	free((char *)rt_cfg.init_path);
	free((char *)rt_cfg.rootfs);
	free((char *)rt_cfg.instance);
	rt_cfg = *cfg;
	rt_cfg.depot = xstrdup(cfg->depot);
	rt_cfg.init_path = xstrdup(cfg->init_path);
	rt_cfg.rootfs = cfg->rootfs ? xstrdup(cfg->rootfs) : NULL;
	rt_cfg.instance = xstrdup(cfg->instance);

	/* mkdir -p, each level traversable (0711): an unprivileged
	 * container's root walks to its upper dir and image as a host
	 * nobody */
	cleanup_free char *p = xstrdup(rt_cfg.depot);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0711) < 0 && errno != EEXIST)
			return gfs_error_sys(err, errno, "creating %s", p);
		*s = c;
		if (!c)
			break;
	}
	if (stat(rt_cfg.depot, &st) < 0)
		return gfs_error_sys(err, errno, "depot %s", rt_cfg.depot);
	if ((st.st_mode & 0011) != 0011)
		chmod(rt_cfg.depot, (st.st_mode & 07777) | 0011);
	/* before containers/ and images/: with a store they link into it */
	if (rt_store_setup(&rt_cfg, err) < 0)
		return -err->code;
	const char *subs[] = {"containers", "images"};
	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *d =
		    xasprintf("%s/%s", rt_cfg.depot, subs[i]);
		if (mkdir(d, 0711) < 0 && errno != EEXIST)
			return gfs_error_sys(err, errno, "creating %s", d);
		chmod(d, 0711);
	}
	/* half-made image copies of a daemon that crashed */
	cleanup_free char *images = xasprintf("%s/images", rt_cfg.depot);
	DIR *d = opendir(images);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strncmp(de->d_name, ".tmp-", 5) == 0) {
				cleanup_free char *t =
				    xasprintf("%s/%s", images, de->d_name);
				rt_rm_rf(t, NULL);
			}
		closedir(d);
	}
	return cg_probe(err) < 0 ? gfs_error_wrap(err, "runtime") : 0;
}

/* --- config file: "key value" lines, values escaped (\\ and \n) --- */

static void put_kv(sbuf *b, const char *key, const char *val)
{
	sbuf_adds(b, key);
	sbuf_addc(b, ' ');
	for (const char *p = val; *p; p++) {
		if (*p == '\\')
			sbuf_adds(b, "\\\\");
		else if (*p == '\n')
			sbuf_adds(b, "\\n");
		else
			sbuf_addc(b, *p);
	}
	sbuf_addc(b, '\n');
}

static char *unescape(const char *s)
{
	sbuf b = SBUF_INIT;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			sbuf_addc(&b, *s == 'n' ? '\n' : *s);
		} else {
			sbuf_addc(&b, *s);
		}
	}
	return sbuf_steal(&b);
}

static int write_next_id(struct rt_ctr *c, gfs_err *err)
{
	char n[16];
	int len = snprintf(n, sizeof n, "%u\n", c->next_id);
	cleanup_free char *p = xasprintf("%s/next-id", c->dir);
	return rt_write_file(p, n, (size_t)len, err);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct rt_ctr *ctr_new(const char *handle)
{
	struct rt_ctr *c = xcalloc(1, sizeof *c);
	c->handle = xstrdup(handle);
	c->dir = depot_path("%s/containers/%s", handle);
	c->sock = -1;
	c->pidfd = -1;
	c->next_id = 1;
	c->priv = xcalloc(1, sizeof(struct rt_priv));
	return c;
}

static void proc_free(struct rt_proc *p)
{
	if (!p)
		return;
	free(p->command);
	free(p);
}

void rt_ctr_free(struct rt_ctr *c)
{
	if (!c)
		return;
	struct rt_priv *pv = c->priv;
	if (c->sock >= 0)
		close(c->sock);
	if (c->pidfd >= 0)
		close(c->pidfd);
	for (size_t i = 0; i < c->nprocs; i++)
		proc_free(c->procs[i]);
	free(c->procs);
	gfs_strv_free(c->env);
	if (c->cg)
		cg_free(c->cg);
	if (pv) {
		free(pv->q);
		free(pv->rootfs);
		free(pv->lower);
		free(pv->img_user);
		free(pv->img_dir);
		free(pv->running);
		free(pv);
	}
	free(c->handle);
	free(c->dir);
	free(c);
}

/* --- the conversation with the init --- */

void rt_queue(struct rt_ctr *c, enum rt_ev_kind kind, uint32_t id)
{
	struct rt_priv *pv = c->priv;
	pv->q = xrealloc(pv->q, (pv->nq + 1) * sizeof *pv->q);
	pv->q[pv->nq++] = (struct rt_ev){kind, id};
}

static int persist_exit(struct rt_ctr *c, struct rt_proc *p, gfs_err *err)
{
	char n[16];
	int len = snprintf(n, sizeof n, "%d\n", p->status);
	cleanup_free char *path = rt_proc_path(c, p->id, "exit");
	return rt_write_file(path, n, (size_t)len, err);
}

static void touch_stopped(struct rt_ctr *c)
{
	cleanup_free char *p = xasprintf("%s/stopped", c->dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

/* A process finished: persisted before anything else learns it. */
static void finish(struct rt_ctr *c, struct rt_proc *p, int status)
{
	if (p->exited)
		return;
	p->exited = true;
	p->status = status;
	persist_exit(c, p, NULL);
	rt_queue(c, RT_EV_EXITED, p->id);
}

void rt_gone(struct rt_ctr *c)
{
	if (c->sock < 0 && c->pidfd < 0)
		return;
	/* without its socket we cannot steer the init: make sure it is
	 * dead rather than leave it running unsupervised */
	if (c->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		close(c->pidfd);
	}
	if (c->sock >= 0)
		close(c->sock);
	c->sock = c->pidfd = -1;
	for (size_t i = 0; i < c->nprocs; i++)
		finish(c, c->procs[i], 255);
	c->stopped = true;
	c->stopping = false;
	touch_stopped(c);
	rt_queue(c, RT_EV_GONE, 0);
}

int rt_send(struct rt_ctr *c, const sbuf *b, const int *fds, size_t nfds,
	    gfs_err *err)
{
	if (c->sock < 0)
		return gfs_error(err, EPIPE, "the container's init is gone");
	for (int tries = 0;; tries++) {
		int r = proto_send(c->sock, b->s, b->len, fds, nfds, NULL);
		if (r == 0)
			return 0;
		if (r != -EAGAIN || tries >= 50) {
			gfs_error_sys(err, -r, "talking to the init");
			if (r != -EAGAIN && r != -EMSGSIZE)
				rt_gone(c);
			return -err->code;
		}
		struct pollfd pf = {c->sock, POLLOUT, 0};
		poll(&pf, 1, 100);
	}
}

static void send_ack(struct rt_ctr *c, uint32_t id)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, "ack");
	proto_addu(&b, id);
	rt_send(c, &b, NULL, 0, NULL);
	sbuf_free(&b);
}

static void apply(struct rt_ctr *c, char **f, size_t n, pid_t credpid,
		  struct rt_reply *want)
{
	unsigned long long id = 0, v = 0;
	const char *verb = f[0];

	if (n >= 2)
		proto_num(f[1], UINT32_MAX, &id);
	if (strcmp(verb, "exit") == 0 && n >= 3 &&
	    proto_num(f[2], 255 + 128, &v)) {
		struct rt_proc *p = rt_proc_find(c, (uint32_t)id);
		if (p && !p->exited) {
			p->status = (int)v;
			/* on disk before the ack, or the status could be
			 * lost with a crash in between */
			if (persist_exit(c, p, NULL) < 0)
				return;
			p->exited = true;
			rt_queue(c, RT_EV_EXITED, p->id);
		}
		send_ack(c, (uint32_t)id);
	} else if (strcmp(verb, "running") == 0) {
		struct rt_proc *p = rt_proc_find(c, (uint32_t)id);
		struct rt_priv *pv = c->priv;
		if (pv->restoring) {
			pv->running = xrealloc(
			    pv->running, (pv->nrunning + 1) * sizeof(uint32_t));
			pv->running[pv->nrunning++] = (uint32_t)id;
		}
		if (p && p->pid <= 0 && credpid > 0) {
			p->pid = credpid;
			char s[16];
			int len = snprintf(s, sizeof s, "%d\n", (int)credpid);
			cleanup_free char *path = rt_proc_path(c, p->id, "pid");
			rt_write_file(path, s, (size_t)len, NULL);
		}
	} else if (strcmp(verb, "stopped") == 0) {
		bool was = c->stopped;
		c->stopped = true;
		c->stopping = false;
		touch_stopped(c);
		if (!was)
			rt_queue(c, RT_EV_STOPPED, 0);
	} else if (want && !want->got &&
		   (strcmp(verb, "started") == 0 ||
		    strcmp(verb, "error") == 0 || strcmp(verb, "ready") == 0)) {
		want->got = true;
		snprintf(want->verb, sizeof want->verb, "%s", verb);
		want->id = (uint32_t)id;
		want->pid = credpid;
		if (n >= 3) {
			bool neg = f[2][0] == '-';
			proto_num(f[2] + neg, INT64_MAX, &v);
			want->num = neg ? -(long long)v : (long long)v;
		}
		snprintf(want->msg, sizeof want->msg, "%s", n >= 4 ? f[3] : "");
	}
}

int rt_recv(struct rt_ctr *c, int timeout_ms, struct rt_reply *want)
{
	char buf[8192 + 1];
	struct ucred cred;
	size_t n = 0;

	if (c->sock < 0)
		return -EPIPE;
	if (timeout_ms > 0) {
		struct pollfd pf = {c->sock, POLLIN, 0};
		int r = poll(&pf, 1, timeout_ms);
		if (r == 0)
			return 0;
	}
	ssize_t len =
	    proto_recv(c->sock, buf, sizeof buf - 1, NULL, NULL, &cred);
	if (len == -EAGAIN)
		return 0;
	if (len == -EMSGSIZE)
		return 1; /* not ours to understand; skip it */
	if (len <= 0) {
		rt_gone(c);
		return -EPIPE;
	}
	cleanup_free char **f = proto_split(buf, (size_t)len, &n);
	if (f && n)
		apply(c, f, n, cred.pid, want);
	return 1;
}

int rt_wait_reply(struct rt_ctr *c, const char *verb, uint32_t id,
		  int timeout_ms, struct rt_reply *r, gfs_err *err)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		memset(r, 0, sizeof *r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long el = (t1.tv_sec - t0.tv_sec) * 1000 +
			  (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= timeout_ms)
			return gfs_error(err, ETIMEDOUT,
					 "the container's init did not answer");
		int k = rt_recv(c, (int)(timeout_ms - el), r);
		if (k < 0)
			return gfs_error(err, EPIPE,
					 "the container's init is gone");
		if (!r->got)
			continue;
		if (strcmp(r->verb, "ready") == 0 && strcmp(verb, "ready") == 0)
			return 0;
		if (r->id != id)
			continue;
		if (strcmp(r->verb, verb) == 0 || strcmp(r->verb, "error") == 0)
			return 0;
	}
}

static int connect_init(struct rt_ctr *c, gfs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int one = 1, size = PROTO_SNDBUF;
	cleanup_close int dfd = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return gfs_error_sys(err, errno, "opening %s", c->dir);
	/* a long handle would not fit sun_path; the fd's path always does */
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/init.sock",
		 dfd);
	cleanup_close int s =
	    socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return gfs_error_sys(err, errno, "socket");
	setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		return gfs_error_sys(err, errno, "connecting to the init of %s",
				     c->handle);
	c->sock = steal_fd(s);
	sbuf b = SBUF_INIT;
	proto_add(&b, "hello");
	int r = rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	if (r < 0)
		return r;
	struct rt_reply rep;
	return rt_wait_reply(c, "ready", 0, HELLO_MS, &rep, err);
}

static int listen_sock(const char *dir, gfs_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return gfs_error_sys(err, errno, "opening %s", dir);
	snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/init.sock",
		 dfd);
	cleanup_close int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return gfs_error_sys(err, errno, "socket");
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 16) < 0)
		return gfs_error_sys(err, errno, "binding %s/init.sock", dir);
	return steal_fd(s);
}

static int write_map(pid_t pid, const char *which, gfs_err *err)
{
	char path[64], line[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
	int len = snprintf(line, sizeof line, "0 %u %u\n",
			   (unsigned)rt_cfg.id_base, rt_cfg.id_count);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		return gfs_error_sys(err, errno, "writing %s", path);
	return 0;
}

/* The cloned child: async-signal-safe calls only (the daemon has
 * threads), then exec of gardenfs-init.  Every daemon fd but the two it
 * needs is closed at exec, so nothing of the host leaks in; its config
 * follows on the sync socket, so its argv and environment hold nothing. */
static __attribute__((noreturn)) void init_child(int sync, int lsock, int exefd,
						 int null, bool userns)
{
	static char *const argv[] = {"gardenfs-init", NULL};
	static char *const envp[] = {NULL};
	char c;
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
	/* wait for our id maps and cgroup */
	if (read(PROTO_INIT_SYNC_FD, &c, 1) != 1)
		_exit(126);
	/* Our ids are still the host's root, which the new namespace does not
	 * map; become its root (raw syscalls: glibc's wrappers would try to
	 * reach the daemon's other threads, which this copy does not have). */
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

/* Kills and reaps a half-made init. */
static void kill_init(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int start_init(struct rt_ctr *c, const struct rt_create *spec,
		      gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	int sp[2];
	int r;

	cleanup_close int lsock = listen_sock(c->dir, err);
	if (lsock < 0)
		return lsock;
	cleanup_close int exefd = open(rt_cfg.init_path, O_PATH | O_CLOEXEC);
	if (exefd < 0)
		return gfs_error_sys(err, errno, "opening %s",
				     rt_cfg.init_path);
	cleanup_close int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return gfs_error_sys(err, errno, "opening /dev/null");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return gfs_error_sys(err, errno, "socketpair");
	cleanup_close int mine = sp[0];
	cleanup_close int theirs = sp[1];

	sbuf cfg = SBUF_INIT;
	proto_add(&cfg, "config");
	proto_add(&cfg, c->handle);
	proto_add(&cfg, pv->lower);
	proto_add(&cfg, c->dir);
	proto_add(&cfg, c->privileged ? "1" : "0");
	for (char *const *b = spec->binds; b && *b; b++)
		proto_add(&cfg, *b);
	if (cfg.len > PROTO_CONFIG_MAX) {
		sbuf_free(&cfg);
		return gfs_error(err, E2BIG, "too many binds");
	}

	/* before anything runs in the cgroup: only the container's devices */
	r = cg_set_devices(c->cg, c->privileged, spec->binds, err);
	if (r < 0) {
		sbuf_free(&cfg);
		return r;
	}

	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
			      CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD;
	if (!c->privileged)
		flags |= CLONE_NEWUSER;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		sbuf_free(&cfg);
		return gfs_error_sys(err, errno, "clone");
	}
	if (pid == 0)
		init_child(theirs, lsock, exefd, null, !c->privileged);
	close(steal_fd(theirs));

	if (!c->privileged) {
		r = write_map(pid, "uid_map", err);
		if (r == 0)
			r = write_map(pid, "gid_map", err);
		if (r < 0)
			goto fail;
	}
	/* An OOM kill in the container must hit the process that ate the
	 * memory, not the init that holds the container together.  The
	 * kernel lets anyone go back down to oom_score_adj_min, which a
	 * writer with CAP_SYS_RESOURCE sets to what it writes and which
	 * children inherit: so first 0 (min 0), then the protection through
	 * the legacy oom_adj (-16 = oom_score_adj -941), which leaves min
	 * alone.  The init's children raise theirs to 0 and can never lower
	 * it again (docs/security.md).  Best effort: without
	 * CAP_SYS_RESOURCE the init merely stays killable. */
	{
		static const char *const files[] = {"oom_score_adj", "oom_adj"};
		static const char *const vals[] = {"0", "-16"};
		for (size_t i = 0; i < 2; i++) {
			char path[64];
			snprintf(path, sizeof path, "/proc/%d/%s", (int)pid,
				 files[i]);
			int fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (write(fd, vals[i], strlen(vals[i])) < 0) {
				/* not fatal, see above */
			}
			close(fd);
		}
	}
	/* Go as soon as the maps are written: the init execs and builds the
	 * root while we move it into its cgroups.  Moving a task in a v1
	 * hierarchy waits for an RCU grace period (cgroup_threadgroup_rwsem)
	 * whenever nobody moved one lately, often several ms that the two
	 * now share.  The init forks nothing before it serves, and we connect
	 * (so nothing can ask it to spawn) only once cg_attach is done, so
	 * every process of the container still starts in its cgroups.  What
	 * the setup allocates before the move stays charged to us. */
	if (write(mine, "g", 1) != 1 ||
	    proto_send(mine, cfg.s, cfg.len, NULL, 0, NULL) < 0) {
		r = gfs_error_sys(err, errno, "starting the init");
		goto fail;
	}
	r = cg_attach(c->cg, pid, err);
	if (r < 0)
		goto fail;
	/* in its cgroups now: it may make its cgroup namespace (proto.h) */
	r = proto_send(mine, "cgroup", 7, NULL, 0, NULL);
	if (r < 0) {
		r = gfs_error_sys(err, -r, "starting the init");
		goto fail;
	}
	/* No hard rlimit is lifted for the init: its processes get what the
	 * host gives (nice and rtprio: 0) unless a spec asks for more, and
	 * that then fails with EPERM and a reason. */
	struct pollfd pf = {mine, POLLIN, 0};
	char line[600];
	ssize_t n = 0;
	if (poll(&pf, 1, INIT_READY_MS) == 1)
		n = recv(mine, line, sizeof line - 1, 0);
	else
		n = -2;
	if (n > 0) {
		line[n] = '\0';
		if (strcmp(line, "ok") == 0) {
			sbuf_free(&cfg);
			c->init_pid = pid;
			return 0;
		}
		int code = EIO;
		char *msg = line;
		if (strncmp(line, "error ", 6) == 0) {
			code = (int)strtol(line + 6, &msg, 10);
			if (code <= 0)
				code = EIO;
			while (*msg == ' ')
				msg++;
		}
		r = gfs_error(err, code, "%s", msg);
	} else if (n == -2) {
		r = gfs_error(err, ETIMEDOUT, "the init did not get ready");
	} else {
		r = gfs_error(err, EIO, "the init died while setting up");
	}
fail:
	sbuf_free(&cfg);
	kill_init(pid);
	return r;
}

static int write_config(struct rt_ctr *c, gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	sbuf b = SBUF_INIT;
	char n[32];

	put_kv(&b, "privileged", c->privileged ? "true" : "false");
	put_kv(&b, "rootfs", pv->rootfs);
	put_kv(&b, "lower", pv->lower);
	if (pv->img_user)
		put_kv(&b, "image_user", pv->img_user);
	if (pv->img_dir)
		put_kv(&b, "image_dir", pv->img_dir);
	snprintf(n, sizeof n, "%llu", (unsigned long long)c->created_ms);
	put_kv(&b, "created_ms", n);
	for (char **e = c->env; e && *e; e++)
		put_kv(&b, "env", *e);
	cleanup_free char *path = xasprintf("%s/config", c->dir);
	int r = rt_write_file(path, b.s ? b.s : "", b.len, err);
	sbuf_free(&b);
	return r;
}

static int write_init_pid(struct rt_ctr *c, gfs_err *err)
{
	unsigned long long st = 0;
	char s[64];
	rt_starttime(c->init_pid, &st);
	int len = snprintf(s, sizeof s, "%d %llu\n", (int)c->init_pid, st);
	cleanup_free char *path = xasprintf("%s/init.pid", c->dir);
	return rt_write_file(path, s, (size_t)len, err);
}

static char **env_concat(char *const *a, char *const *b)
{
	size_t na = gfs_strv_len(a), nb = gfs_strv_len(b);
	char **v = xcalloc(na + nb + 1, sizeof *v);
	for (size_t i = 0; i < na; i++)
		v[i] = xstrdup(a[i]);
	for (size_t i = 0; i < nb; i++)
		v[na + i] = xstrdup(b[i]);
	return v;
}

int rt_create(const struct rt_create *spec, struct rt_ctr **out, gfs_err *err)
{
	struct rt_image img = {0};
	const char *rootfs = spec->rootfs ? spec->rootfs : rt_cfg.rootfs;
	int r;

	if (!rt_cfg.depot)
		return gfs_error(err, EINVAL, "runtime not set up");
	if (!rootfs)
		return gfs_error(err, EINVAL, "no rootfs and no default image");
	struct rt_ctr *c = ctr_new(spec->handle);
	struct rt_priv *pv = c->priv;
	c->privileged = spec->privileged;
	c->created_ms = now_ms();
	pv->rootfs = xstrdup(rootfs);

	if (mkdir(c->dir, 0711) < 0) {
		r = errno == EEXIST
			? gfs_error(err, EEXIST, "container %s exists",
				    spec->handle)
			: gfs_error_sys(err, errno, "creating %s", c->dir);
		rt_ctr_free(c);
		return r;
	}
	/* what the container writes (its upper layer, its output) is in
	 * data/, its disk-limited subvolume; the state the daemon keeps
	 * (ids, exit statuses, properties) is beside it, so that a full disk
	 * never loses an exit status */
	r = rt_store_ctr_dir(spec->handle, c->dir, err);
	if (r < 0)
		goto fail_dir;
	static const char *const subs[] = {"data/upper", "data/work", "rootfs",
					   "data/out",	 "procs",     "meta"};
	for (size_t i = 0; i < 6; i++) {
		cleanup_free char *d = xasprintf("%s/%s", c->dir, subs[i]);
		if (mkdir(d, i < 3 ? 0755 : 0700) < 0) {
			r = gfs_error_sys(err, errno, "creating %s", d);
			goto fail_dir;
		}
		/* the overlay's upper and work belong to container root */
		if (i < 3 && !c->privileged &&
		    chown(d, rt_cfg.id_base, rt_cfg.id_base) < 0) {
			r = gfs_error_sys(err, errno, "chown %s", d);
			goto fail_dir;
		}
	}
	cleanup_free char *images = xasprintf("%s/images", rt_cfg.depot);
	r = rt_image_prepare(rootfs, images, !c->privileged, rt_cfg.id_base,
			     rt_cfg.id_count, &img, err);
	if (r < 0)
		goto fail_dir;
	pv->lower = steal_ptr(img.lower);
	pv->img_user = img.user && *img.user ? steal_ptr(img.user) : NULL;
	pv->img_dir =
	    img.workdir && *img.workdir ? steal_ptr(img.workdir) : NULL;
	c->env = env_concat(img.env, spec->env);
	rt_image_free(&img);
	r = write_config(c, err);
	if (r == 0)
		r = write_next_id(c, err);
	if (r < 0)
		goto fail_dir;

	r = cg_create(rt_cfg.instance, c->handle, &c->cg, err);
	if (r < 0)
		goto fail_dir;
	r = start_init(c, spec, err);
	if (r < 0)
		goto fail_cg;
	c->pidfd = (int)syscall(SYS_pidfd_open, c->init_pid, 0);
	if (c->pidfd < 0) {
		r = gfs_error_sys(err, errno, "pidfd_open");
		kill_init(c->init_pid);
		goto fail_cg;
	}
	r = write_init_pid(c, err);
	if (r == 0)
		r = connect_init(c, err);
	if (r < 0) {
		if (c->sock >= 0)
			close(c->sock);
		c->sock = -1;
		close(c->pidfd);
		c->pidfd = -1;
		kill_init(c->init_pid);
		goto fail_cg;
	}
	*out = c;
	return 0;

fail_cg:
	cg_destroy(c->cg, NULL);
	c->cg = NULL;
fail_dir:
	rt_store_ctr_remove(c->handle, c->dir, NULL);
	rt_ctr_free(c);
	return r;
}

int rt_list(char ***handles, gfs_err *err)
{
	cleanup_free char *dir = xasprintf("%s/containers", rt_cfg.depot);
	DIR *d = opendir(dir);
	if (!d)
		return gfs_error_sys(err, errno, "opening %s", dir);
	char **v = xcalloc(1, sizeof *v);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		cleanup_free char *cfg =
		    xasprintf("%s/%s/config", dir, de->d_name);
		if (access(cfg, F_OK) < 0)
			continue;
		v = xrealloc(v, (n + 2) * sizeof *v);
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	*handles = v;
	return 0;
}

static int read_small(const char *dir, const char *name, char **out)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	return rt_read_file(p, 1 << 20, out, NULL, NULL);
}

static int proc_cmp(const void *a, const void *b)
{
	const struct rt_proc *x = *(struct rt_proc *const *)a;
	const struct rt_proc *y = *(struct rt_proc *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int load_procs(struct rt_ctr *c, gfs_err *err)
{
	cleanup_free char *pd = xasprintf("%s/procs", c->dir);
	DIR *d = opendir(pd);
	if (!d)
		return gfs_error_sys(err, errno, "opening %s", pd);
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long long id;
		if (!proto_num(de->d_name, UINT32_MAX, &id))
			continue;
		cleanup_free char *dir = xasprintf("%s/%s", pd, de->d_name);
		cleanup_free char *pid = NULL, *ex = NULL;
		struct rt_proc *p = xcalloc(1, sizeof *p);
		p->id = (uint32_t)id;
		if (read_small(dir, "command", &p->command) < 0)
			p->command = xstrdup("");
		else
			p->command[strcspn(p->command, "\n")] = '\0';
		if (read_small(dir, "pid", &pid) == 0)
			p->pid = (pid_t)atoi(pid);
		if (read_small(dir, "exit", &ex) == 0) {
			p->exited = true;
			p->status = atoi(ex);
		}
		c->procs =
		    xrealloc(c->procs, (c->nprocs + 1) * sizeof *c->procs);
		c->procs[c->nprocs++] = p;
		if (p->id >= c->next_id)
			c->next_id = p->id + 1;
	}
	closedir(d);
	if (c->nprocs > 1)
		qsort(c->procs, c->nprocs, sizeof *c->procs, proc_cmp);
	return 0;
}

static int load_config(struct rt_ctr *c, gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	cleanup_free char *text = NULL;
	size_t ne = 0;

	cleanup_free char *path = xasprintf("%s/config", c->dir);
	int r = rt_read_file(path, 4 << 20, &text, NULL, err);
	if (r < 0)
		return r;
	c->env = xcalloc(1, sizeof(char *));
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(l, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (strcmp(l, "privileged") == 0) {
			c->privileged = strcmp(v, "true") == 0;
		} else if (strcmp(l, "rootfs") == 0) {
			free(pv->rootfs);
			pv->rootfs = unescape(v);
		} else if (strcmp(l, "lower") == 0) {
			free(pv->lower);
			pv->lower = unescape(v);
		} else if (strcmp(l, "image_user") == 0) {
			free(pv->img_user);
			pv->img_user = unescape(v);
		} else if (strcmp(l, "image_dir") == 0) {
			free(pv->img_dir);
			pv->img_dir = unescape(v);
		} else if (strcmp(l, "created_ms") == 0) {
			c->created_ms = strtoull(v, NULL, 10);
		} else if (strcmp(l, "env") == 0) {
			c->env = xrealloc(c->env, (ne + 2) * sizeof(char *));
			c->env[ne++] = unescape(v);
			c->env[ne] = NULL;
		}
	}
	return 0;
}

/* The init of init.pid, if it still runs: a pidfd, else -1. */
static int find_init(struct rt_ctr *c)
{
	cleanup_free char *text = NULL;
	unsigned long long want = 0, st = 0;
	int pid = 0;

	if (read_small(c->dir, "init.pid", &text) < 0 ||
	    sscanf(text, "%d %llu", &pid, &want) != 2 || pid <= 0)
		return -1;
	c->init_pid = pid;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	/* checked after pidfd_open: the fd then pins this very process */
	if (rt_starttime(pid, &st) < 0 || st != want) {
		close(fd);
		return -1;
	}
	struct pollfd pf = {fd, POLLIN, 0};
	if (poll(&pf, 1, 0) == 1) {
		close(fd); /* dead, a zombie */
		return -1;
	}
	return fd;
}

int rt_restore(const char *handle, struct rt_ctr **out, gfs_err *err)
{
	struct rt_ctr *c = ctr_new(handle);
	struct rt_priv *pv = c->priv;
	cleanup_free char *text = NULL;
	int r;

	r = load_config(c, err);
	if (r < 0)
		goto fail;
	r = load_procs(c, err);
	if (r < 0)
		goto fail;
	if (read_small(c->dir, "next-id", &text) == 0) {
		unsigned long v = strtoul(text, NULL, 10);
		if (v > c->next_id && v <= UINT32_MAX)
			c->next_id = (uint32_t)v;
	}
	cleanup_free char *sp = xasprintf("%s/stopped", c->dir);
	c->stopped = access(sp, F_OK) == 0;
	if (cg_open(rt_cfg.instance, handle, &c->cg, NULL) < 0)
		c->cg = NULL;

	c->pidfd = find_init(c);
	gfs_err cerr = {0};
	pv->restoring = true;
	if (c->pidfd >= 0 && connect_init(c, &cerr) == 0) {
		/* neither running nor reported: lost (cannot happen unless
		 * someone tampered with the depot) */
		for (size_t i = 0; i < c->nprocs; i++) {
			struct rt_proc *p = c->procs[i];
			bool seen = false;
			for (size_t k = 0; k < pv->nrunning; k++)
				seen = seen || pv->running[k] == p->id;
			if (!p->exited && !seen)
				finish(c, p, 255);
		}
	} else if (c->pidfd >= 0 || c->sock >= 0) {
		/* alive but deaf: unusable, so it goes */
		rt_gone(c);
	} else {
		for (size_t i = 0; i < c->nprocs; i++)
			finish(c, c->procs[i], 255);
		c->stopped = true;
		touch_stopped(c);
	}
	pv->restoring = false;
	free(pv->running);
	pv->running = NULL;
	pv->nrunning = 0;
	*out = c;
	return 0;
fail:
	rt_ctr_free(c);
	return gfs_error_wrap(err, "restoring %s", handle);
}

int rt_destroy(struct rt_ctr *c, gfs_err *err)
{
	int r = 0;

	if (c->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		struct pollfd pf = {c->pidfd, POLLIN, 0};
		poll(&pf, 1, DESTROY_MS);
		siginfo_t si;
		/* reap it if it is our child and nobody did yet */
		waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si,
		       WEXITED | WNOHANG);
	} else if (c->init_pid > 0) {
		/* no pidfd: check that init.pid still names our init */
		int fd = find_init(c);
		if (fd >= 0) {
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			struct pollfd pf = {fd, POLLIN, 0};
			poll(&pf, 1, DESTROY_MS);
			close(fd);
		}
	}
	if (c->cg) {
		r = cg_destroy(c->cg, err);
		c->cg = NULL;
		if (r < 0)
			gfs_error_wrap(err, "destroying %s", c->handle);
	} else {
		struct cg *cg = NULL;
		if (cg_open(rt_cfg.instance, c->handle, &cg, NULL) == 0)
			r = cg_destroy(cg, err);
	}
	int r2 = rt_store_ctr_remove(c->handle, c->dir, r < 0 ? NULL : err);
	if (r == 0)
		r = r2;
	rt_ctr_free(c);
	return r;
}

void rt_dispatch(struct rt_ctr *c, const struct rt_events *ev, void *ud)
{
	struct rt_priv *pv = c->priv;

	while (c->sock >= 0 && rt_recv(c, 0, NULL) > 0)
		;
	if (c->pidfd >= 0) {
		struct pollfd pf = {c->pidfd, POLLIN, 0};
		if (poll(&pf, 1, 0) == 1) {
			/* what it said before dying is still in the socket */
			while (c->sock >= 0 && rt_recv(c, 0, NULL) > 0)
				;
			rt_gone(c);
		}
	}
	/* callbacks may call back into us: take the queue first */
	while (pv->nq) {
		struct rt_ev e = pv->q[0];
		memmove(pv->q, pv->q + 1, (pv->nq - 1) * sizeof *pv->q);
		pv->nq--;
		if (e.kind == RT_EV_EXITED) {
			struct rt_proc *p = rt_proc_find(c, e.id);
			if (p && ev && ev->exited)
				ev->exited(c, p, ud);
		} else if (e.kind == RT_EV_STOPPED) {
			if (ev && ev->stopped)
				ev->stopped(c, ud);
		} else if (ev && ev->gone) {
			ev->gone(c, ud);
		}
	}
}

bool rt_pending(struct rt_ctr *c)
{
	struct rt_priv *pv = c->priv;
	return pv->nq > 0;
}

struct rt_proc *rt_proc_find(struct rt_ctr *c, uint32_t id)
{
	size_t lo = 0, hi = c->nprocs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->procs[mid]->id == id)
			return c->procs[mid];
		if (c->procs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

char *rt_proc_path(struct rt_ctr *c, uint32_t id, const char *name)
{
	/* output counts against the disk limit; the rest does not */
	if (strcmp(name, "stdout") == 0 || strcmp(name, "stderr") == 0)
		return xasprintf("%s/data/out/%u/%s", c->dir, id, name);
	return xasprintf("%s/procs/%u/%s", c->dir, id, name);
}

int rt_root_fd(struct rt_ctr *c, gfs_err *err)
{
	char p[64];
	if (c->init_pid <= 0 || c->pidfd < 0)
		return gfs_error(err, ESRCH, "container %s has no init",
				 c->handle);
	snprintf(p, sizeof p, "/proc/%d/root", (int)c->init_pid);
	int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "opening %s", p);
	return fd;
}
