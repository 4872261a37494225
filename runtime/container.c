/* Containers: the depot directory, the cgroup, the namespaces and the init
 * (gardenfs-init, cloned by the depot's reaper), and the daemon's side of
 * the conversation with it.  The init outlives the daemon; rt_restore
 * reconnects to it and learns what happened meanwhile.  Nothing here waits
 * for the init: requests go out (or into a queue when its socket is full)
 * and its answers come back through rt_dispatch as events. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

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
	cleanup_free char *unpack = NULL;
	if (cfg->unpack_path) {
		unpack = xstrdup(cfg->unpack_path);
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		unpack = xasprintf("%s/gardenfs-unpack", exe);
	}
	if (rt_image_setup(unpack, err) < 0)
		return gfs_error_wrap(err, "runtime");
	free((char *)rt_cfg.depot);
	free((char *)rt_cfg.init_path);
	free((char *)rt_cfg.rootfs);
	free((char *)rt_cfg.instance);
	rt_cfg = *cfg;
	rt_cfg.depot = xstrdup(cfg->depot);
	rt_cfg.init_path = xstrdup(cfg->init_path);
	rt_cfg.rootfs = cfg->rootfs ? xstrdup(cfg->rootfs) : NULL;
	rt_cfg.instance = xstrdup(cfg->instance);
	rt_cfg.unpack_path = NULL; /* rt_image_setup keeps its own copy */

	/* The depot and everything in it are root's and 0700: it holds
	 * image trees with setuid files (root's, or the shifted root's, which
	 * is every unprivileged container's root), every container's files
	 * and the init sockets.  Nobody but root walks it: an init opens its
	 * layers while it is still the host's root (runtime/reaper.c). */
	cleanup_free char *p = xstrdup(rt_cfg.depot);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return gfs_error_sys(err, errno, "creating %s", p);
		*s = c;
		if (!c)
			break;
	}
	if (lstat(rt_cfg.depot, &st) < 0)
		return gfs_error_sys(err, errno, "depot %s", rt_cfg.depot);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return gfs_error(err, EPERM,
				 "depot %s is not a directory of ours",
				 rt_cfg.depot);
	if ((st.st_mode & 07777) != 0700 && chmod(rt_cfg.depot, 0700) < 0)
		return gfs_error_sys(err, errno, "chmod 0700 %s", rt_cfg.depot);
	/* before containers/ and images/: with a store they link into it */
	if (rt_store_setup(&rt_cfg, err) < 0)
		return -err->code;
	const char *subs[] = {"containers", "images", "trash"};
	for (size_t i = 0; i < 3; i++) {
		cleanup_free char *d =
		    xasprintf("%s/%s", rt_cfg.depot, subs[i]);
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			return gfs_error_sys(err, errno, "creating %s", d);
		/* depots of earlier versions had 0711 */
		if (chmod(d, 0700) < 0)
			return gfs_error_sys(err, errno, "chmod 0700 %s", d);
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
				rt_rm_rf(t, GFS_IGNORE);
			}
		closedir(d);
	}
	if (cg_probe(err) < 0)
		return gfs_error_wrap(err, "runtime");
	return rt_reaper_setup(rt_cfg.depot, err) < 0
		   ? gfs_error_wrap(err, "runtime")
		   : 0;
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
	return gfs_write_file(p, n, (size_t)len, err);
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
	c->sync = -1;
	c->pidfd = -1;
	c->next_id = 1;
	c->priv = xcalloc(1, sizeof(struct rt_priv));
	return c;
}

void rt_proc_free(struct rt_proc *p)
{
	if (!p)
		return;
	free(p->command);
	free(p->name);
	free(p);
}

static void outq_drop(struct rt_priv *pv)
{
	for (size_t i = 0; i < pv->noutq; i++) {
		sbuf_free(&pv->outq[i].b);
		for (size_t k = 0; k < pv->outq[i].nfds; k++)
			close(pv->outq[i].fds[k]);
	}
	free(pv->outq);
	pv->outq = NULL;
	pv->noutq = pv->outq_bytes = 0;
}

void rt_ctr_free(struct rt_ctr *c)
{
	if (!c)
		return;
	struct rt_priv *pv = c->priv;
	if (c->sock >= 0)
		close(c->sock);
	if (c->sync >= 0)
		close(c->sync);
	if (c->pidfd >= 0)
		close(c->pidfd);
	for (size_t i = 0; i < c->nprocs; i++)
		rt_proc_free(c->procs[i]);
	free(c->procs);
	gfs_strv_free(c->env);
	if (c->cg)
		cg_free(c->cg);
	if (pv) {
		outq_drop(pv);
		free(pv->q);
		free(pv->rootfs);
		free(pv->lower);
		free(pv->img_user);
		free(pv->img_dir);
		free(pv->cgname);
		free(pv->running);
		free(pv->abandoned);
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
	return gfs_write_file(path, n, (size_t)len, err);
}

static void touch(struct rt_ctr *c, const char *name)
{
	cleanup_free char *p = xasprintf("%s/%s", c->dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

/* A process finished: persisted before anything else learns it. */
static void finish(struct rt_ctr *c, struct rt_proc *p, int status)
{
	if (p->exited)
		return;
	if (p->state == RT_STARTING) {
		p->state = RT_FAILED;
		p->exited = true;
		p->status = status;
		gfs_error(&p->spawn_err, EIO,
			  "the container's init went away before the "
			  "process started");
		rt_queue(c, RT_EV_SPAWN_FAILED, p->id);
		return;
	}
	p->exited = true;
	p->state = RT_EXITED;
	p->status = status;
	persist_exit(c, p, GFS_IGNORE);
	rt_queue(c, RT_EV_EXITED, p->id);
}

static int take_verdict(struct rt_ctr *c);

void rt_gone(struct rt_ctr *c)
{
	if (c->sock < 0 && c->pidfd < 0 && c->sync < 0)
		return;
	/* an init that failed its setup said why before it went: keep that
	 * rather than what its broken socket says */
	if (c->sync >= 0 && !c->create_err.code)
		take_verdict(c);
	/* without its socket we cannot steer the init: make sure it is
	 * dead rather than leave it running unsupervised */
	if (c->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		close(c->pidfd);
	}
	if (c->sock >= 0)
		close(c->sock);
	if (c->sync >= 0)
		close(c->sync);
	c->sock = c->pidfd = c->sync = -1;
	outq_drop(c->priv);
	for (size_t i = 0; i < c->nprocs; i++)
		finish(c, c->procs[i], 255);
	c->stopped = true;
	c->stopping = false;
	if (c->ready)
		touch(c, "stopped");
	else if (!c->create_err.code)
		gfs_error(&c->create_err, EIO,
			  "the container's init died before it was ready");
	rt_queue(c, RT_EV_GONE, 0);
}

static int send_now(struct rt_ctr *c, struct rt_msg *m)
{
	return proto_send(c->sock, m->b.s, m->b.len, m->fds, m->nfds, NULL);
}

void rt_flush(struct rt_ctr *c)
{
	struct rt_priv *pv = c->priv;
	while (pv->noutq && c->sock >= 0) {
		struct rt_msg *m = &pv->outq[0];
		int r = send_now(c, m);
		if (r == -EAGAIN)
			return;
		pv->outq_bytes -= m->b.len;
		sbuf_free(&m->b);
		for (size_t k = 0; k < m->nfds; k++)
			close(m->fds[k]);
		memmove(pv->outq, pv->outq + 1, (pv->noutq - 1) * sizeof *m);
		pv->noutq--;
		if (r < 0 && r != -EMSGSIZE) {
			rt_gone(c);
			return;
		}
	}
}

bool rt_wants_write(struct rt_ctr *c)
{
	struct rt_priv *pv = c->priv;
	return c->sock >= 0 && pv->noutq > 0;
}

int rt_send(struct rt_ctr *c, const sbuf *b, const int *fds, size_t nfds,
	    gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	if (c->sock < 0)
		return gfs_error(err, EPIPE, "the container's init is gone");
	if (pv->noutq == 0) {
		int r = proto_send(c->sock, b->s, b->len, fds, nfds, NULL);
		if (r == 0)
			return 0;
		if (r != -EAGAIN) {
			gfs_error_sys(err, -r, "talking to the init");
			if (r != -EMSGSIZE)
				rt_gone(c);
			return -err->code;
		}
	}
	if (pv->outq_bytes + b->len > RT_OUTQ_MAX)
		return gfs_error(err, EAGAIN,
				 "the container's init is not reading its "
				 "requests (%zu waiting)",
				 pv->noutq);
	struct rt_msg m = {SBUF_INIT, {-1, -1, -1, -1}, 0};
	sbuf_add(&m.b, b->s, b->len);
	for (size_t i = 0; i < nfds && i < 4; i++) {
		m.fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (m.fds[i] < 0) {
			int e = errno;
			for (size_t k = 0; k < i; k++)
				close(m.fds[k]);
			sbuf_free(&m.b);
			return gfs_error_sys(err, e, "queueing a request");
		}
		m.nfds++;
	}
	pv->outq = xrealloc(pv->outq, (pv->noutq + 1) * sizeof *pv->outq);
	pv->outq[pv->noutq++] = m;
	pv->outq_bytes += b->len;
	return 0;
}

static void send_ack(struct rt_ctr *c, uint32_t id)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, "ack");
	proto_addu(&b, id);
	rt_send(c, &b, NULL, 0, GFS_IGNORE);
	sbuf_free(&b);
}

static void send_kill(struct rt_ctr *c, uint32_t id)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, "signal");
	proto_addu(&b, id);
	proto_addu(&b, SIGKILL);
	rt_send(c, &b, NULL, 0, GFS_IGNORE);
	sbuf_free(&b);
}

static bool was_abandoned(struct rt_ctr *c, uint32_t id, bool remove)
{
	struct rt_priv *pv = c->priv;
	for (size_t i = 0; i < pv->nabandoned; i++)
		if (pv->abandoned[i] == id) {
			if (remove)
				pv->abandoned[i] =
				    pv->abandoned[--pv->nabandoned];
			return true;
		}
	return false;
}

static void persist_pid(struct rt_ctr *c, struct rt_proc *p)
{
	char s[16];
	int len = snprintf(s, sizeof s, "%d\n", (int)p->pid);
	cleanup_free char *path = rt_proc_path(c, p->id, "pid");
	gfs_write_file(path, s, (size_t)len, GFS_IGNORE);
}

/* The restore's hello is answered: what neither runs nor was reported is
 * lost (it cannot be, unless someone tampered with the depot). */
static void restore_done(struct rt_ctr *c)
{
	struct rt_priv *pv = c->priv;
	for (size_t i = 0; i < c->nprocs; i++) {
		struct rt_proc *p = c->procs[i];
		bool seen = false;
		for (size_t k = 0; k < pv->nrunning; k++)
			seen = seen || pv->running[k] == p->id;
		if (!p->exited && !seen)
			finish(c, p, 255);
	}
	pv->restoring = false;
	free(pv->running);
	pv->running = NULL;
	pv->nrunning = 0;
}

static long long signed_num(const char *s)
{
	unsigned long long v = 0;
	bool neg = s[0] == '-';
	proto_num(s + neg, INT64_MAX, &v);
	return neg ? -(long long)v : (long long)v;
}

static void apply(struct rt_ctr *c, char **f, size_t n, pid_t credpid)
{
	unsigned long long id = 0, v = 0;
	const char *verb = f[0];
	struct rt_priv *pv = c->priv;

	if (n >= 2)
		proto_num(f[1], UINT32_MAX, &id);
	struct rt_proc *p = rt_proc_find(c, (uint32_t)id);
	if (strcmp(verb, "exit") == 0 && n >= 3 &&
	    proto_num(f[2], 255 + 128, &v)) {
		if (p && !p->exited) {
			p->status = (int)v;
			/* on disk before the ack, or the status could be
			 * lost with a crash in between */
			if (persist_exit(c, p, GFS_IGNORE) < 0)
				return;
			p->exited = true;
			p->state = RT_EXITED;
			rt_queue(c, RT_EV_EXITED, p->id);
		}
		was_abandoned(c, (uint32_t)id, true);
		send_ack(c, (uint32_t)id);
	} else if (strcmp(verb, "running") == 0) {
		if (pv->restoring) {
			pv->running = xrealloc(
			    pv->running, (pv->nrunning + 1) * sizeof(uint32_t));
			pv->running[pv->nrunning++] = (uint32_t)id;
		}
		if (p && p->pid <= 0 && credpid > 0) {
			p->pid = credpid;
			persist_pid(c, p);
		}
	} else if (strcmp(verb, "started") == 0) {
		if (!p || p->state != RT_STARTING) {
			/* a spawn we gave up on started after all */
			if (was_abandoned(c, (uint32_t)id, false))
				send_kill(c, (uint32_t)id);
			return;
		}
		p->pid = credpid > 0 ? credpid : (pid_t)signed_num(f[2]);
		p->state = RT_RUNNING;
		persist_pid(c, p);
		rt_queue(c, RT_EV_STARTED, p->id);
	} else if (strcmp(verb, "error") == 0) {
		if (!p || p->state != RT_STARTING) {
			was_abandoned(c, (uint32_t)id, true);
			return;
		}
		long long code = n >= 3 ? signed_num(f[2]) : EIO;
		p->state = RT_FAILED;
		p->exited = true;
		p->status = 255;
		gfs_error(&p->spawn_err,
			  code > 0 && code < 4096 ? (int)code : EIO, "%s",
			  n >= 4 ? f[3] : "spawn failed");
		rt_queue(c, RT_EV_SPAWN_FAILED, p->id);
	} else if (strcmp(verb, "stopped") == 0) {
		bool was = c->stopped;
		c->stopped = true;
		c->stopping = false;
		touch(c, "stopped");
		if (!was || c->ready)
			rt_queue(c, RT_EV_STOPPED, 0);
	} else if (strcmp(verb, "ready") == 0 && !c->ready) {
		if (pv->restoring)
			restore_done(c);
		c->ready = true;
		rt_queue(c, RT_EV_READY, 0);
	}
}

/* One message, applied; 1 when one came, 0 when none, negative when the
 * connection broke (c is then gone). */
static int recv_one(struct rt_ctr *c)
{
	static char buf[8192 + 1];
	struct ucred cred;
	size_t n = 0;

	if (c->sock < 0)
		return -EPIPE;
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
		apply(c, f, n, cred.pid);
	return 1;
}

/* While creating: the init's verdict on its setup, "ok" or "error N why".
 * Returns 1 for "ok", 0 when nothing is there yet, -1 for a failure (in
 * c->create_err). */
static int take_verdict(struct rt_ctr *c)
{
	char line[600];
	ssize_t n = recv(c->sync, line, sizeof line - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0) {
		line[n] = '\0';
		if (strcmp(line, "ok") == 0)
			return 1;
		int code = EIO;
		char *msg = line;
		if (strncmp(line, "error ", 6) == 0) {
			code = (int)strtol(line + 6, &msg, 10);
			if (code <= 0 || code > 4095)
				code = EIO;
			while (*msg == ' ')
				msg++;
		}
		gfs_error(&c->create_err, code, "%s", msg);
	} else if (!c->create_err.code) {
		gfs_error(&c->create_err, EIO,
			  "the init died while setting up");
	}
	return -1;
}

int rt_setup_verdict(struct rt_ctr *c, gfs_err *why)
{
	if (c->create_err.code) {
		*why = c->create_err;
		return -1;
	}
	if (c->sync < 0)
		return 1;
	int r = take_verdict(c);
	if (r < 0)
		*why = c->create_err;
	if (r == 1) {
		/* taken: the loop must not read the end after it as a death */
		close(c->sync);
		c->sync = -1;
	}
	return r;
}

static void read_sync(struct rt_ctr *c)
{
	int r = take_verdict(c);
	if (r == 1) {
		close(c->sync);
		c->sync = -1;
	} else if (r < 0) {
		rt_gone(c);
	}
}

void rt_dispatch(struct rt_ctr *c,
		 void (*fn)(struct rt_ctr *c, enum rt_ev_kind k,
			    struct rt_proc *p, void *ud),
		 void *ud)
{
	struct rt_priv *pv = c->priv;

	if (c->sync >= 0)
		read_sync(c);
	while (c->sock >= 0 && recv_one(c) > 0)
		;
	if (c->pidfd >= 0) {
		struct pollfd pf = {c->pidfd, POLLIN, 0};
		if (poll(&pf, 1, 0) == 1) {
			/* what it said before dying is still in the socket */
			while (c->sock >= 0 && recv_one(c) > 0)
				;
			if (c->sync >= 0)
				read_sync(c);
			rt_gone(c);
		}
	}
	if (rt_wants_write(c))
		rt_flush(c);
	/* fn may call back into us (and queue more): take one at a time */
	while (pv->nq) {
		struct rt_ev e = pv->q[0];
		memmove(pv->q, pv->q + 1, (pv->nq - 1) * sizeof *pv->q);
		pv->nq--;
		struct rt_proc *p = NULL;
		if (e.kind == RT_EV_EXITED || e.kind == RT_EV_STARTED ||
		    e.kind == RT_EV_SPAWN_FAILED) {
			p = rt_proc_find(c, e.id);
			if (!p)
				continue;
		}
		if (fn)
			fn(c, e.kind, p, ud);
	}
}

static int sock_path(const char *dir, struct sockaddr_un *sa, int *dfd,
		     gfs_err *err)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	*dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0)
		return gfs_error_sys(err, errno, "opening %s", dir);
	/* a long handle would not fit sun_path; the fd's path always does */
	snprintf(sa->sun_path, sizeof sa->sun_path,
		 "/proc/self/fd/%d/init.sock", *dfd);
	return 0;
}

/* Connects to the init's socket and says hello; the answer ("ready",
 * after "running"/"exit" for each process) comes through rt_dispatch.
 * The socket listens from before the init runs, so this never waits. */
static int connect_init(struct rt_ctr *c, gfs_err *err)
{
	struct sockaddr_un sa;
	int one = 1, size = PROTO_SNDBUF;
	cleanup_close int dfd = -1;
	int r = sock_path(c->dir, &sa, &dfd, err);
	if (r < 0)
		return r;
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
	r = rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	return r;
}

/* The init's socket: 0600 in the container's 0700 directory, so only
 * root reaches it; the init checks each peer as well (init_serve). */
static int listen_sock(const char *dir, gfs_err *err)
{
	cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return gfs_error_sys(err, errno, "opening %s", dir);
	cleanup_close int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return gfs_error_sys(err, errno, "socket");
	if (rt_bind_private(s, dfd, "init.sock", err) < 0)
		return gfs_error_wrap(err, "%s", dir);
	if (listen(s, 16) < 0)
		return gfs_error_sys(err, errno, "listening on %s/init.sock",
				     dir);
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

/* Adds one optional config field "KEY" "VALUE" (the init reads pairs
 * after the binds' "--" end mark). */
static void cfg_pair(sbuf *cfg, const char *key, const char *val)
{
	if (!val)
		return;
	proto_add(cfg, key);
	proto_add(cfg, val);
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
	proto_add(&cfg, "--");
	cfg_pair(&cfg, "hosts", spec->hosts);
	cfg_pair(&cfg, "resolv", spec->resolv);
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
			      CLONE_NEWIPC | CLONE_NEWNET;
	if (!c->privileged)
		flags |= CLONE_NEWUSER;
	int fds[4] = {theirs, lsock, exefd, null};
	pid_t pid;
	r = rt_reaper_clone(flags, !c->privileged, fds, &pid, &c->pidfd, err);
	if (r < 0) {
		sbuf_free(&cfg);
		return r;
	}
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
	 * now share.  The init forks nothing before it serves, and we say
	 * hello (so nothing can ask it to spawn) only once cg_attach is
	 * done, so every process of the container starts in its cgroups. */
	{
		/* "g" names the layers, which the child opens before it
		 * becomes the container's root (PROTO_INIT_LOWER_FD) */
		sbuf go = SBUF_INIT;
		proto_add(&go, "g");
		proto_add(&go, pv->lower);
		cleanup_free char *up = xasprintf("%s/data/upper", c->dir);
		cleanup_free char *wk = xasprintf("%s/data/work", c->dir);
		cleanup_free char *rf = xasprintf("%s/rootfs", c->dir);
		proto_add(&go, up);
		proto_add(&go, wk);
		proto_add(&go, rf);
		int k = go.len > PROTO_INIT_GO_MAX
			    ? -ENAMETOOLONG
			    : proto_send(mine, go.s, go.len, NULL, 0, NULL);
		sbuf_free(&go);
		if (k == 0)
			k = proto_send(mine, cfg.s, cfg.len, NULL, 0, NULL);
		if (k < 0) {
			r = gfs_error_sys(err, -k, "starting the init");
			goto fail;
		}
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
	 * that then fails with EPERM and a reason.  Its verdict ("ok" or
	 * why not) comes on mine, which the loop watches (rt_dispatch). */
	sbuf_free(&cfg);
	fcntl(mine, F_SETFL, O_NONBLOCK);
	c->sync = steal_fd(mine);
	c->init_pid = pid;
	return 0;
fail:
	sbuf_free(&cfg);
	syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
	close(c->pidfd);
	c->pidfd = -1;
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
	put_kv(&b, "cgroup", pv->cgname);
	if (pv->img_user)
		put_kv(&b, "image_user", pv->img_user);
	if (pv->img_dir)
		put_kv(&b, "image_dir", pv->img_dir);
	snprintf(n, sizeof n, "%llu", (unsigned long long)c->created_ms);
	put_kv(&b, "created_ms", n);
	for (char **e = c->env; e && *e; e++)
		put_kv(&b, "env", *e);
	cleanup_free char *path = xasprintf("%s/config", c->dir);
	int r = gfs_write_file(path, b.s ? b.s : "", b.len, err);
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
	return gfs_write_file(path, s, (size_t)len, err);
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

/* The cgroup: named after the handle, unless the cgroup of a destroyed
 * container of that name is still being removed. */
static int make_cgroup(struct rt_ctr *c, gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	int r = 0;
	for (unsigned k = 0; k < 100; k++) {
		free(pv->cgname);
		pv->cgname = k ? xasprintf("%.200s.%u", c->handle, k)
			       : xstrdup(c->handle);
		gfs_error_clear(err);
		r = cg_create(rt_cfg.instance, pv->cgname, &c->cg, err);
		if (r != -EEXIST)
			return r;
	}
	return r;
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

	if (mkdir(c->dir, 0700) < 0) {
		r = errno == EEXIST
			? gfs_error(err, EEXIST, "container %s exists",
				    spec->handle)
			: gfs_error_sys(err, errno, "creating %s", c->dir);
		rt_ctr_free(c);
		return r;
	}
	/* a crash from here on leaves a half-made container that the next
	 * daemon removes */
	touch(c, "creating");
	/* what the container writes (its upper layer, its output) is in
	 * data/, its disk-limited subvolume; the state the daemon keeps
	 * (ids, exit statuses, properties) is beside it, so that a full disk
	 * never loses an exit status */
	r = rt_store_ctr_dir(c->dir, err);
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

	r = make_cgroup(c, err);
	if (r < 0)
		goto fail_dir;
	r = write_config(c, err);
	if (r == 0)
		r = write_next_id(c, err);
	if (r < 0)
		goto fail_cg;
	r = start_init(c, spec, err);
	if (r < 0)
		goto fail_cg;
	r = write_init_pid(c, err);
	if (r < 0) {
		rt_gone(c);
		goto fail_cg;
	}
	/* An init that failed its setup has gone already, and its socket
	 * with it; its reason is on the sync socket, which the loop reads.
	 * So a refused connection is no verdict of its own. */
	gfs_err cerr = {0};
	if (connect_init(c, &cerr) < 0 && c->sock >= 0) {
		close(c->sock);
		c->sock = -1;
	}
	*out = c;
	return 0;

fail_cg:
	cg_destroy(c->cg, GFS_IGNORE);
	c->cg = NULL;
fail_dir:
	rt_store_ctr_remove(c->dir, GFS_IGNORE);
	rt_ctr_free(c);
	return r;
}

int rt_mark_created(struct rt_ctr *c, gfs_err *err)
{
	cleanup_free char *p = xasprintf("%s/creating", c->dir);
	if (unlink(p) < 0 && errno != ENOENT)
		return gfs_error_sys(err, errno, "removing %s", p);
	return 0;
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

int rt_list(char ***handles, char ***half, gfs_err *err)
{
	cleanup_free char *dir = xasprintf("%s/containers", rt_cfg.depot);
	DIR *d = opendir(dir);
	if (!d)
		return gfs_error_sys(err, errno, "opening %s", dir);
	char **v = xcalloc(1, sizeof *v), **h = xcalloc(1, sizeof *h);
	size_t n = 0, nh = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		cleanup_free char *cfg =
		    xasprintf("%s/%s/config", dir, de->d_name);
		cleanup_free char *mark =
		    xasprintf("%s/%s/creating", dir, de->d_name);
		if (access(mark, F_OK) == 0 || access(cfg, F_OK) < 0)
			strv_push(&h, &nh, de->d_name);
		else
			strv_push(&v, &n, de->d_name);
	}
	closedir(d);
	*handles = v;
	if (half)
		*half = h;
	else
		gfs_strv_free(h);
	return 0;
}

static int read_small(const char *dir, const char *name, char **out)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	return gfs_read_file(p, 1 << 20, out, NULL, GFS_IGNORE);
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
		p->state = RT_RUNNING;
		if (read_small(dir, "command", &p->command) < 0)
			p->command = xstrdup("");
		else
			p->command[strcspn(p->command, "\n")] = '\0';
		if (read_small(dir, "name", &p->name) < 0)
			p->name = xasprintf("%u", p->id);
		cleanup_free char *tty = NULL;
		if (read_small(dir, "tty", &tty) == 0 &&
		    sscanf(tty, "%d %d", &p->cols, &p->rows) == 2)
			p->tty = true;
		if (read_small(dir, "pid", &pid) == 0)
			p->pid = (pid_t)atoi(pid);
		if (read_small(dir, "exit", &ex) == 0) {
			p->exited = true;
			p->state = RT_EXITED;
			p->status = atoi(ex);
		} else if (!pid) {
			/* the daemon died between asking and the answer: the
			 * init's hello says whether it runs */
			p->state = RT_RUNNING;
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
	int r = gfs_read_file(path, 4 << 20, &text, NULL, err);
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
		char **slot = NULL;
		if (strcmp(l, "privileged") == 0)
			c->privileged = strcmp(v, "true") == 0;
		else if (strcmp(l, "rootfs") == 0)
			slot = &pv->rootfs;
		else if (strcmp(l, "lower") == 0)
			slot = &pv->lower;
		else if (strcmp(l, "cgroup") == 0)
			slot = &pv->cgname;
		else if (strcmp(l, "image_user") == 0)
			slot = &pv->img_user;
		else if (strcmp(l, "image_dir") == 0)
			slot = &pv->img_dir;
		else if (strcmp(l, "created_ms") == 0)
			c->created_ms = strtoull(v, NULL, 10);
		else if (strcmp(l, "env") == 0) {
			c->env = xrealloc(c->env, (ne + 2) * sizeof(char *));
			c->env[ne++] = unescape(v);
			c->env[ne] = NULL;
		}
		if (slot) {
			free(*slot);
			*slot = unescape(v);
		}
	}
	/* depots from before cgroups were named in the config */
	if (!pv->cgname)
		pv->cgname = xstrdup(c->handle);
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
	if (cg_open(rt_cfg.instance, pv->cgname, &c->cg, GFS_IGNORE) < 0)
		c->cg = NULL;

	c->pidfd = find_init(c);
	gfs_err cerr = {0};
	pv->restoring = true;
	if (c->pidfd >= 0 && connect_init(c, &cerr) == 0) {
		*out = c;
		return 0;
	}
	c->ready = true;
	if (c->pidfd >= 0 || c->sock >= 0) {
		/* alive but deaf: unusable, so it goes */
		rt_gone(c);
	} else {
		for (size_t i = 0; i < c->nprocs; i++)
			finish(c, c->procs[i], 255);
		c->stopped = true;
		touch(c, "stopped");
	}
	pv->restoring = false;
	rt_queue(c, RT_EV_READY, 0);
	*out = c;
	return 0;
fail:
	rt_ctr_free(c);
	return gfs_error_wrap(err, "restoring %s", handle);
}

void rt_kill(struct rt_ctr *c)
{
	if (c->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
		return;
	}
	if (c->init_pid > 0) {
		/* no pidfd: only if init.pid still names our init */
		int fd = find_init(c);
		if (fd >= 0) {
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			c->pidfd = fd; /* EV_GONE when it is dead */
			return;
		}
	}
	rt_gone(c);
}

int rt_detach(struct rt_ctr *c, gfs_err *err)
{
	static unsigned seq;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cleanup_free char *to = xasprintf("%s/trash/%llx.%x.%u", rt_cfg.depot,
					  (unsigned long long)ts.tv_sec,
					  (unsigned)ts.tv_nsec, ++seq);
	if (rename(c->dir, to) < 0)
		return gfs_error_sys(err, errno, "moving %s to %s", c->dir, to);
	free(c->dir);
	c->dir = steal_ptr(to);
	return 0;
}

int rt_destroy_cgroup(struct rt_ctr *c, gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	/* the reaper reaps the init as soon as it dies; until then the
	 * zombie holds its cgroups, and cg_destroy waits (bounded) */
	if (!c->cg && pv->cgname)
		cg_open(rt_cfg.instance, pv->cgname, &c->cg, GFS_IGNORE);
	if (!c->cg)
		return 0;
	/* what is left (nothing, once the init is dead) is killed */
	int r = cg_destroy(c->cg, err);
	c->cg = NULL;
	free(pv->cgname);
	pv->cgname = NULL;
	return r < 0 ? gfs_error_wrap(err, "destroying %s", c->handle) : 0;
}

int rt_destroy_finish(struct rt_ctr *c, gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	int r = 0;
	if (!c->cg && pv->cgname)
		cg_open(rt_cfg.instance, pv->cgname, &c->cg, GFS_IGNORE);
	if (c->cg) {
		/* what is left (nothing, once the init is dead) is killed */
		r = cg_destroy(c->cg, err);
		c->cg = NULL;
		if (r < 0)
			gfs_error_wrap(err, "destroying %s", c->handle);
	}
	int r2 = rt_store_ctr_remove(c->dir, r < 0 ? GFS_IGNORE : err);
	if (r == 0)
		r = r2;
	rt_ctr_free(c);
	return r;
}

struct rt_ctr *rt_discard(const char *handle, gfs_err *err)
{
	struct rt_ctr *c = ctr_new(handle);
	struct rt_priv *pv = c->priv;
	gfs_err e = {0};
	/* without a config yet, the cgroup (made first) has the handle's
	 * name */
	if (load_config(c, &e) < 0 && !pv->cgname)
		pv->cgname = xstrdup(handle);
	int fd = find_init(c);
	if (fd >= 0)
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	c->pidfd = fd;
	if (rt_detach(c, err) < 0) {
		rt_ctr_free(c);
		return NULL;
	}
	return c;
}

int rt_discard_finish(struct rt_ctr *c, gfs_err *err)
{
	if (c->pidfd >= 0) {
		/* a worker may wait: the init dies of SIGKILL at once */
		struct pollfd pf = {c->pidfd, POLLIN, 0};
		poll(&pf, 1, 5000);
		close(c->pidfd);
		c->pidfd = -1;
	}
	return rt_destroy_finish(c, err);
}

int rt_trash_empty(gfs_err *err)
{
	cleanup_free char *dir = xasprintf("%s/trash", rt_cfg.depot);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT
			   ? 0
			   : gfs_error_sys(err, errno, "opening %s", dir);
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct rt_ctr *c = ctr_new("trash");
		free(c->dir);
		c->dir = xasprintf("%s/%s", dir, de->d_name);
		gfs_err e = {0};
		if (load_config(c, &e) < 0) {
			struct rt_priv *pv = c->priv;
			free(pv->cgname);
			pv->cgname = NULL;
		}
		if (rt_destroy_finish(c, &e) < 0 && r == 0) {
			r = -e.code;
			if (err)
				*err = e;
		}
	}
	closedir(d);
	return r;
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

void rt_proc_add(struct rt_ctr *c, struct rt_proc *p)
{
	size_t i = c->nprocs;
	c->procs = xrealloc(c->procs, (c->nprocs + 1) * sizeof *c->procs);
	while (i > 0 && c->procs[i - 1]->id > p->id) {
		c->procs[i] = c->procs[i - 1];
		i--;
	}
	c->procs[i] = p;
	c->nprocs++;
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
