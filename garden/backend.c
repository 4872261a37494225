/* The daemon's backend of garden/ (struct gdn_backend): containers made by
 * runtime/, disks by quota/ (through runtime/store.c).  It owns what the
 * loop watches for a container (the init's socket, its setup verdict, its
 * pidfd, the OOM fd, inotify on output) and the worker jobs that do slow
 * file work (create, destroy, removing output), and turns the runtime's
 * events into garden's gdn_bk_* calls. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "garden/backend.h"
#include "garden/garden.h"
#include "lib/file.h"
#include "lib/loop.h"
#include "net/net.h"
#include "runtime/cgroup.h"
#include "runtime/rt.h"
#include "runtime/stream.h"

/* One container as the backend holds it. */
struct bk_ctr {
	struct gdn_ctr *g;
	struct rt_ctr *rt;
	struct loop_watch sock_w, sync_w, pidfd_w, oom_w;
	struct loop_timer ready_t;
	struct loop_job job;
	gfs_err job_err;
	bool creating;
	bool gone;	     /* the init is dead (EV_GONE seen) */
	struct net_ctr *net; /* its network, or NULL */
	char *network;	     /* the spec's network=, while creating */
	/* the create's spec, copied for the worker */
	struct rt_create rc;
	char *handle, *rootfs;
	char **env, **binds;
};

static struct bk_config bkc;
static int inofd = -1;
static struct loop_watch ino_w;

/* Output watches: one inotify watch per process directory of output,
 * by watch descriptor. */
struct owatch {
	int wd;
	struct gdn_proc *p; /* a reference */
};
static struct owatch *owatches;
static size_t nowatches;

static struct bk_ctr *bk_of(struct gdn_ctr *g)
{
	return g->bk;
}

static bool net_on;

static void bk_free(struct bk_ctr *b)
{
	if (b->net)
		net_ctr_free(b->net);
	free(b->network);
	free(b->handle);
	free(b->rootfs);
	gfs_strv_free(b->env);
	gfs_strv_free(b->binds);
	free(b);
}

/* --- watches on the init --- */

static void on_sock(struct loop_watch *w, uint32_t ev);
static void on_sync(struct loop_watch *w, uint32_t ev);
static void on_pidfd(struct loop_watch *w, uint32_t ev);
static void on_oom(struct loop_watch *w, uint32_t ev);
static void dispatch(struct bk_ctr *b);

/* A watch whose fd the runtime closed: epoll dropped it with the close;
 * forget it without touching the (maybe reused) number. */
static void watch_sync(struct loop_watch *w, int fd, uint32_t events,
		       loop_watch_fn fn)
{
	if (w->fd >= 0 && w->fd != fd)
		w->fd = -1;
	if (fd < 0)
		return;
	if (w->fd < 0)
		loop_watch_add(w, fd, events, fn);
	else
		loop_watch_mod(w, events);
}

static void oom_unwatch(struct bk_ctr *b)
{
	loop_watch_del(&b->oom_w);
}

static void oom_watch(struct bk_ctr *b)
{
	gfs_err err = {0};
	if (b->oom_w.fd >= 0 || !b->rt->cg || b->rt->stopped)
		return;
	int fd = cg_oom_fd(b->rt->cg, &err);
	if (fd < 0) {
		gdn_log("%s: no OOM notification: %s", b->g->handle, err.msg);
		return;
	}
	loop_watch_add(&b->oom_w, fd, EPOLLIN | EPOLLPRI, on_oom);
}

static void rewatch(struct bk_ctr *b)
{
	struct rt_ctr *rt = b->rt;
	if (!rt)
		return;
	watch_sync(&b->sock_w, rt->sock,
		   EPOLLIN | (rt_wants_write(rt) ? EPOLLOUT : 0), on_sock);
	watch_sync(&b->sync_w, rt->sync, EPOLLIN, on_sync);
	watch_sync(&b->pidfd_w, rt->pidfd, EPOLLIN, on_pidfd);
}

static void unwatch_all(struct bk_ctr *b)
{
	struct rt_ctr *rt = b->rt;
	/* only fds the runtime still has open are in epoll */
	if (b->sock_w.fd >= 0 && (!rt || rt->sock != b->sock_w.fd))
		b->sock_w.fd = -1;
	if (b->sync_w.fd >= 0 && (!rt || rt->sync != b->sync_w.fd))
		b->sync_w.fd = -1;
	if (b->pidfd_w.fd >= 0 && (!rt || rt->pidfd != b->pidfd_w.fd))
		b->pidfd_w.fd = -1;
	loop_watch_del(&b->sock_w);
	loop_watch_del(&b->sync_w);
	loop_watch_del(&b->pidfd_w);
	oom_unwatch(b);
	loop_timer_stop(&b->ready_t);
}

static void on_sock(struct loop_watch *w, uint32_t ev)
{
	struct bk_ctr *b = gfs_container_of(w, struct bk_ctr, sock_w);
	if (ev & EPOLLOUT)
		rt_flush(b->rt);
	dispatch(b);
}

static void on_sync(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	dispatch(gfs_container_of(w, struct bk_ctr, sync_w));
}

static void on_pidfd(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	dispatch(gfs_container_of(w, struct bk_ctr, pidfd_w));
}

static void on_oom(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	struct bk_ctr *b = gfs_container_of(w, struct bk_ctr, oom_w);
	gfs_err err = {0};
	bool oom = false;
	if (!b->rt || !b->rt->cg)
		return;
	if (cg_oom_check(b->rt->cg, &oom, &err) < 0) {
		gdn_log("%s: %s", b->g->handle, err.msg);
		oom_unwatch(b);
		return;
	}
	if (oom)
		gdn_bk_oom(b->g);
}

static void create_failed(struct bk_ctr *b, const gfs_err *why);

static void on_event(struct rt_ctr *rt, enum rt_ev_kind k, struct rt_proc *p,
		     void *ud)
{
	struct bk_ctr *b = ud;
	struct gdn_proc *gp = p ? p->owner : NULL;
	(void)rt;
	switch (k) {
	case RT_EV_EXITED:
		if (gp)
			gdn_bk_exited(gp, p->status);
		break;
	case RT_EV_STARTED:
		if (gp)
			gdn_bk_started(gp, p->pid);
		break;
	case RT_EV_SPAWN_FAILED:
		if (gp)
			gdn_bk_spawn_failed(gp, &p->spawn_err);
		break;
	case RT_EV_STOPPED:
		oom_unwatch(b);
		gdn_bk_stopped(b->g);
		break;
	case RT_EV_READY:
		loop_timer_stop(&b->ready_t);
		if (b->creating) {
			b->creating = false;
			oom_watch(b);
			gdn_bk_created(b->g, NULL);
		} else {
			gdn_bk_ready(b->g);
		}
		break;
	case RT_EV_GONE:
		b->gone = true;
		unwatch_all(b);
		if (b->creating) {
			create_failed(b, &b->rt->create_err);
			return;
		}
		if (b->g->restoring)
			gdn_bk_ready(b->g);
		gdn_bk_gone(b->g);
		break;
	}
}

static void dispatch(struct bk_ctr *b)
{
	struct gdn_ctr *g = b->g;
	gdn_ctr_ref(g);
	if (b->rt)
		rt_dispatch(b->rt, on_event, b);
	if (g->bk == b && !b->gone)
		rewatch(b);
	gdn_ctr_put(g);
}

static void dispatch_later(void *arg)
{
	struct gdn_ctr *g = arg;
	if (g->bk)
		dispatch(g->bk);
	gdn_ctr_put(g);
}

static void schedule_dispatch(struct bk_ctr *b)
{
	gdn_ctr_ref(b->g);
	loop_defer(dispatch_later, b->g);
}

static void ready_overdue(struct loop_timer *t)
{
	struct bk_ctr *b = gfs_container_of(t, struct bk_ctr, ready_t);
	if (!b->rt || b->gone)
		return;
	gfs_error(&b->rt->create_err, ETIMEDOUT,
		  "the container's init did not answer within %llu s",
		  (unsigned long long)bkc.ready_timeout_ms / 1000);
	gdn_log("%s: %s", b->g->handle, b->rt->create_err.msg);
	rt_kill(b->rt);
	schedule_dispatch(b);
}

/* --- create --- */

static void remains_work(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	gfs_err err = {0};
	/* links, rules, qdiscs, the address and ports: slow kernel work
	 * (a bridge's deletion waits for the network's RCU) */
	if (b->net && net_ctr_destroy(b->net, &err) < 0)
		b->job_err = err;
	else
		b->net = NULL;
	if (b->rt && rt_destroy_finish(b->rt, &err) < 0)
		b->job_err = err;
	b->rt = NULL;
}

static void remains_done(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	if (b->job_err.code)
		gdn_log("%s: releasing what was left: %s", b->handle,
			b->job_err.msg);
	bk_free(b);
}

static void release_now(void *arg)
{
	struct bk_ctr *b = arg;
	gfs_err err = {0};
	if (b->rt && rt_detach(b->rt, &err) < 0)
		gdn_log("%s: %s", b->handle, err.msg);
	memset(&b->job_err, 0, sizeof b->job_err);
	loop_job_submit(&b->job, remains_work, remains_done);
}

/* What a destroyed or failed container leaves goes to the trash (the
 * handle may be taken again at once) and is released on a worker.  Not
 * before the end of this round: the runtime may still be dispatching the
 * event that brought us here. */
static void release_remains(struct bk_ctr *b)
{
	loop_defer(release_now, b);
}

static void create_failed(struct bk_ctr *b, const gfs_err *why)
{
	struct gdn_ctr *g = b->g;
	gfs_err e = *why;
	if (!e.code)
		gfs_error(&e, EIO, "the container's init failed");
	unwatch_all(b);
	g->bk = NULL;
	b->g = NULL;
	release_remains(b);
	gdn_bk_created(g, &e);
}

static int save_net(struct bk_ctr *b, gfs_err *err)
{
	if (!b->net)
		return 0;
	sbuf t = SBUF_INIT;
	net_ctr_save(b->net, &t);
	cleanup_free char *path = xasprintf("%s/net", b->rt->dir);
	int r = gfs_write_file(path, t.s ? t.s : "", t.len, err);
	sbuf_free(&t);
	return r;
}

/* The network comes once the init's namespace exists: a veth into it, its
 * address and route, the NAT, and the container's /etc/hosts and
 * resolv.conf (written by the init, behind its hello). */
static int net_create(struct bk_ctr *b, gfs_err *err)
{
	int r = net_ctr_create(b->handle, b->rt->init_pid, b->network, &b->net,
			       err);
	if (r < 0) {
		b->net = NULL;
		return gfs_error_wrap(err, "network");
	}
	cleanup_free char *hosts = net_hosts_text(b->net, b->handle);
	cleanup_free char *resolv = net_resolv_text();
	r = rt_write_etc(b->rt, "hosts", hosts, err);
	if (r == 0)
		r = rt_write_etc(b->rt, "resolv.conf", resolv, err);
	if (r == 0)
		r = save_net(b, err);
	return r;
}

static void create_work(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	memset(&b->job_err, 0, sizeof b->job_err);
	if (rt_create(&b->rc, &b->rt, &b->job_err) < 0) {
		b->rt = NULL;
		return;
	}
	if (net_on && net_create(b, &b->job_err) < 0) {
		/* an init that failed its setup said why: that is the news,
		 * not the broken socket it left */
		rt_setup_verdict(b->rt, &b->job_err);
		/* the worker owns the container yet: undo it here */
		gfs_err e = {0};
		if (b->net && net_ctr_destroy(b->net, &e) == 0)
			b->net = NULL;
		rt_kill(b->rt);
		if (rt_detach(b->rt, &e) == 0)
			rt_destroy_cgroup(b->rt, &e);
		rt_destroy_finish(b->rt, &e);
		b->rt = NULL;
	}
}

static void create_done(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	struct gdn_ctr *g = b->g;
	if (!b->rt) {
		g->bk = NULL;
		gfs_err e = b->job_err;
		bk_free(b);
		gdn_bk_created(g, &e);
		gdn_ctr_put(g);
		return;
	}
	b->rt->owner = b;
	free(g->path);
	g->path = xstrdup(b->rt->dir);
	g->created_ms = b->rt->created_ms;
	loop_timer_start(&b->ready_t, bkc.ready_timeout_ms, ready_overdue);
	rewatch(b);
	dispatch(b);
	gdn_ctr_put(g);
}

static int bk_create(struct gdn_ctr *g, const struct gfs_createspec *s,
		     gfs_err *err)
{
	/* refused before anything is made */
	if (s->network && !net_on)
		return gfs_error(err, ENOTSUP,
				 "network=: this daemon runs without "
				 "networking");
	if (s->network && net_spec_check(s->network, err) < 0)
		return gfs_error_wrap(err, "network=%s", s->network);
	struct bk_ctr *b = xcalloc(1, sizeof *b);
	b->g = g;
	b->sock_w.fd = b->sync_w.fd = b->pidfd_w.fd = b->oom_w.fd = -1;
	b->creating = true;
	b->handle = xstrdup(g->handle);
	b->network = s->network ? xstrdup(s->network) : NULL;
	b->rootfs = s->rootfs ? xstrdup(s->rootfs) : NULL;
	b->env = gfs_strv_dup(s->env);
	b->binds = gfs_strv_dup(s->binds);
	b->rc = (struct rt_create){
	    .handle = b->handle,
	    .rootfs = b->rootfs,
	    .privileged = s->privileged,
	    .env = b->env,
	    .binds = b->binds,
	};
	g->bk = b;
	gdn_ctr_ref(g);
	loop_job_submit(&b->job, create_work, create_done);
	return 0;
}

static int bk_commit(struct gdn_ctr *g, gfs_err *err)
{
	return rt_mark_created(bk_of(g)->rt, err);
}

/* --- restore --- */

static int bk_list(char ***handles, char ***half, gfs_err *err)
{
	return rt_list(handles, half, err);
}

static int bk_restore(struct gdn_ctr *g, gfs_err *err)
{
	struct rt_ctr *rt;
	int r = rt_restore(g->handle, &rt, err);
	if (r < 0)
		return r;
	struct bk_ctr *b = xcalloc(1, sizeof *b);
	b->g = g;
	b->rt = rt;
	b->handle = xstrdup(g->handle);
	b->sock_w.fd = b->sync_w.fd = b->pidfd_w.fd = b->oom_w.fd = -1;
	rt->owner = b;
	g->bk = b;
	free(g->path);
	g->path = xstrdup(rt->dir);
	g->created_ms = rt->created_ms;
	g->stopped = rt->stopped;
	g->privileged = rt->privileged;
	for (size_t i = 0; i < rt->nprocs; i++) {
		struct rt_proc *p = rt->procs[i];
		enum gdn_proc_state st = p->exited ? GDN_EXITED : GDN_RUNNING;
		struct gdn_proc *gp = gdn_bk_proc_add(
		    g, p->id, p->name, p->command, st, p->status, p->pid);
		gp->tty = p->tty;
		gp->tty_columns = p->cols;
		gp->tty_rows = p->rows;
		p->owner = gp;
	}
	cleanup_free char *saved = NULL;
	cleanup_free char *npath = xasprintf("%s/net", rt->dir);
	if (net_on && rt->pidfd >= 0 &&
	    gfs_read_file(npath, 1 << 20, &saved, NULL, GFS_IGNORE) == 0) {
		/* what a restart or a crash left of its network, made whole */
		gfs_err ne = {0};
		if (net_ctr_restore(g->handle, rt->init_pid, saved, &b->net,
				    &ne) < 0) {
			b->net = NULL;
			gdn_log("%s: network: %s", g->handle, ne.msg);
		}
	}
	if (!rt->ready)
		loop_timer_start(&b->ready_t, bkc.ready_timeout_ms,
				 ready_overdue);
	oom_watch(b);
	rewatch(b);
	schedule_dispatch(b);
	return 0;
}

static void discard_work(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	gfs_err err = {0};
	if (b->rt && rt_discard_finish(b->rt, &err) < 0)
		b->job_err = err;
	b->rt = NULL;
}

static void bk_discard(const char *handle)
{
	gfs_err err = {0};
	struct bk_ctr *b = xcalloc(1, sizeof *b);
	b->handle = xstrdup(handle);
	b->rt = rt_discard(handle, &err);
	if (!b->rt) {
		gdn_log("%s: %s", handle, err.msg);
		bk_free(b);
		return;
	}
	loop_job_submit(&b->job, discard_work, remains_done);
}

/* --- destroy --- */

static void gone_later(void *arg)
{
	struct gdn_ctr *g = arg;
	gdn_bk_gone(g);
	gdn_ctr_put(g);
}

static void bk_kill(struct gdn_ctr *g)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || b->gone || !b->rt || (b->rt->pidfd < 0 && b->rt->sock < 0)) {
		/* nothing runs any more: gone it is */
		if (b)
			b->gone = true;
		gdn_ctr_ref(g);
		loop_defer(gone_later, g);
		return;
	}
	rt_kill(b->rt);
	schedule_dispatch(b);
}

static void output_unwatch_ctr(struct gdn_ctr *g);

static void cgroup_work(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	gfs_err err = {0};
	if (b->rt && rt_destroy_cgroup(b->rt, &err) < 0)
		b->job_err = err;
}

/* Processes and cgroups are gone: the destroy is done for garden; the
 * disk goes on a worker still. */
static void cgroup_done(struct loop_job *j)
{
	struct bk_ctr *b = gfs_container_of(j, struct bk_ctr, job);
	struct gdn_ctr *g = b->g;
	if (b->job_err.code)
		gdn_log("%s: %s", b->handle, b->job_err.msg);
	b->g = NULL;
	memset(&b->job_err, 0, sizeof b->job_err);
	loop_job_submit(&b->job, remains_work, remains_done);
	gdn_bk_destroyed(g);
	gdn_ctr_put(g);
}

static void destroy_now(void *arg)
{
	struct bk_ctr *b = arg;
	gfs_err err = {0};
	if (b->rt && rt_detach(b->rt, &err) < 0)
		gdn_log("%s: %s", b->handle, err.msg);
	loop_job_submit(&b->job, cgroup_work, cgroup_done);
}

static void bk_destroy(struct gdn_ctr *g)
{
	struct bk_ctr *b = bk_of(g);
	if (!b) {
		gdn_bk_destroyed(g);
		return;
	}
	output_unwatch_ctr(g);
	unwatch_all(b);
	for (size_t i = 0; b->rt && i < b->rt->nprocs; i++)
		b->rt->procs[i]->owner = NULL;
	g->bk = NULL;
	gdn_ctr_ref(g);
	memset(&b->job_err, 0, sizeof b->job_err);
	/* not before the end of the round: the runtime may still be
	 * dispatching the event that brought us here */
	loop_defer(destroy_now, b);
}

/* --- processes --- */

static struct rt_proc *rproc(struct gdn_ctr *g, struct gdn_proc *p)
{
	struct bk_ctr *b = bk_of(g);
	return b && b->rt ? rt_proc_find(b->rt, p->id) : NULL;
}

static int bk_reserve_id(struct gdn_ctr *g, uint32_t *id, gfs_err *err)
{
	return rt_reserve_id(bk_of(g)->rt, id, err);
}

static int bk_spawn(struct gdn_ctr *g, struct gdn_proc *p,
		    const struct gfs_procspec *spec, gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	struct rt_proc *rp;
	int r = rt_spawn(b->rt, spec, p->id, spec->id, &rp, err);
	if (r < 0)
		return r;
	rp->owner = p;
	rewatch(b); /* the request may wait for room */
	return 0;
}

static void bk_spawn_abandon(struct gdn_ctr *g, struct gdn_proc *p,
			     const gfs_err *why)
{
	struct rt_proc *rp = rproc(g, p);
	if (rp) {
		rt_spawn_abandon(bk_of(g)->rt, rp, why);
		rewatch(bk_of(g));
	}
}

struct rm_job {
	struct loop_job job;
	char *dir;
	uint32_t id;
};

static void rm_work(struct loop_job *j)
{
	struct rm_job *r = gfs_container_of(j, struct rm_job, job);
	rt_proc_remove_files(r->dir, r->id, GFS_IGNORE);
}

static void rm_done(struct loop_job *j)
{
	struct rm_job *r = gfs_container_of(j, struct rm_job, job);
	free(r->dir);
	free(r);
}

static void output_unwatch(struct gdn_proc *p);

static void bk_forget(struct gdn_ctr *g, struct gdn_proc *p)
{
	struct bk_ctr *b = bk_of(g);
	struct rt_proc *rp = rproc(g, p);
	output_unwatch(p);
	if (!rp)
		return;
	rt_proc_forget(b->rt, rp);
	/* the output may be large: removed on a worker */
	struct rm_job *r = xcalloc(1, sizeof *r);
	r->dir = xstrdup(b->rt->dir);
	r->id = p->id;
	loop_job_submit(&r->job, rm_work, rm_done);
}

static int bk_signal(struct gdn_ctr *g, struct gdn_proc *p, int sig,
		     gfs_err *err)
{
	struct rt_proc *rp = rproc(g, p);
	if (!rp)
		return gfs_error(err, ESRCH, "process %s has exited", p->name);
	int r = rt_signal(bk_of(g)->rt, rp, sig, err);
	rewatch(bk_of(g));
	return r;
}

static int bk_stop(struct gdn_ctr *g, bool kill, gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	int r = rt_stop(b->rt, kill, err);
	rewatch(b);
	return r;
}

static int bk_output_open(struct gdn_ctr *g, struct gdn_proc *p, int which,
			  gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->rt)
		return gfs_error(err, ENOENT, "container %s is gone",
				 g->handle);
	cleanup_free char *path =
	    rt_proc_path(b->rt, p->id, which == 2 ? "stderr" : "stdout");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "opening %s", path);
	return fd;
}

static int bk_stdin_open(struct gdn_ctr *g, struct gdn_proc *p, gfs_err *err)
{
	struct rt_proc *rp = rproc(g, p);
	if (!rp)
		return gfs_error(err, ENOENT, "process %s is gone", p->name);
	return rt_stdin_open(bk_of(g)->rt, rp, err);
}

static int bk_stdin_eof(struct gdn_ctr *g, struct gdn_proc *p, gfs_err *err)
{
	struct rt_proc *rp = rproc(g, p);
	if (!rp)
		return 0;
	int r = rt_stdin_eof(bk_of(g)->rt, rp, err);
	rewatch(bk_of(g));
	return r;
}

static int bk_tty_resize(struct gdn_ctr *g, struct gdn_proc *p, int cols,
			 int rows, gfs_err *err)
{
	struct rt_proc *rp = rproc(g, p);
	if (!rp)
		return gfs_error(err, ESRCH, "process %s has exited", p->name);
	int r = rt_tty_resize(bk_of(g)->rt, rp, cols, rows, err);
	rewatch(bk_of(g));
	return r;
}

/* --- networking --- */

static void bk_net_info(struct gdn_ctr *g, struct gdn_net *out)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->net)
		return;
	net_ctr_info(b->net, &out->ip);
	out->nports = net_ctr_ports(b->net, &out->ports);
}

static int bk_net_in(struct gdn_ctr *g, uint32_t host, uint32_t ctr,
		     uint32_t *host_out, uint32_t *ctr_out, gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->net)
		return gfs_error(err, ENOTSUP, "container %s has no network",
				 g->handle);
	int r = net_ctr_net_in(b->net, host, ctr, host_out, ctr_out, err);
	return r < 0 ? r : save_net(b, err);
}

static int bk_net_out(struct gdn_ctr *g, struct net_rule *const *rules,
		      size_t n, gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->net)
		return gfs_error(err, ENOTSUP, "container %s has no network",
				 g->handle);
	int r = net_ctr_net_out(b->net, rules, n, err);
	return r < 0 ? r : save_net(b, err);
}

static void bk_net_list(struct gdn_ctr *g, bool in, sbuf *out)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->net)
		return;
	if (in)
		net_ctr_list_in(b->net, out);
	else
		net_ctr_list_out(b->net, out);
}

static int bk_set_bandwidth(struct gdn_ctr *g, uint64_t rate, uint64_t burst,
			    gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->net)
		return gfs_error(err, ENOTSUP, "container %s has no network",
				 g->handle);
	int r = net_ctr_bandwidth(b->net, rate, burst, err);
	return r < 0 ? r : save_net(b, err);
}

static void bk_restored(void)
{
	gfs_err err = {0};
	/* links and rules of ours that belong to no live container */
	if (net_on && net_gc(&err) < 0)
		gdn_log("network: %s", err.msg);
}

static int bk_stream_start(struct gdn_ctr *g, bool in, const char *path,
			   const char *user, uint64_t limit_ms,
			   struct rt_stream *out, gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->rt || b->rt->pidfd < 0)
		return gfs_error(err, EPERM, "container %s has no init",
				 g->handle);
	return in ? rt_stream_in_open(b->rt, path, user, limit_ms, out, err)
		  : rt_stream_out_open(b->rt, path, user, limit_ms, out, err);
}

/* --- output growth: inotify on the process's output directory --- */

static void on_inotify(struct loop_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	bool overflow = false;
	for (;;) {
		ssize_t n = read(inofd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)q;
			q += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				overflow = true;
				continue;
			}
			for (size_t i = 0; i < nowatches; i++) {
				if (owatches[i].wd != ev->wd)
					continue;
				if (ev->mask & IN_IGNORED) {
					/* the kernel dropped it (removed) */
					gdn_proc_put(owatches[i].p);
					owatches[i] = owatches[--nowatches];
				} else {
					gdn_bk_output(owatches[i].p);
				}
				break;
			}
		}
	}
	/* events were lost: whoever waits looks again */
	if (overflow)
		for (size_t i = 0; i < nowatches; i++)
			gdn_bk_output(owatches[i].p);
}

static void output_unwatch(struct gdn_proc *p)
{
	for (size_t i = 0; i < nowatches; i++)
		if (owatches[i].p == p) {
			inotify_rm_watch(inofd, owatches[i].wd);
			gdn_proc_put(p);
			owatches[i] = owatches[--nowatches];
			return;
		}
}

static void output_unwatch_ctr(struct gdn_ctr *g)
{
	for (size_t i = 0; i < nowatches;) {
		if (owatches[i].p->c == g) {
			inotify_rm_watch(inofd, owatches[i].wd);
			gdn_proc_put(owatches[i].p);
			owatches[i] = owatches[--nowatches];
		} else {
			i++;
		}
	}
}

static void bk_watch_output(struct gdn_ctr *g, struct gdn_proc *p, bool on)
{
	struct bk_ctr *b = bk_of(g);
	if (!on) {
		output_unwatch(p);
		return;
	}
	if (!b || !b->rt)
		return;
	for (size_t i = 0; i < nowatches; i++)
		if (owatches[i].p == p)
			return;
	cleanup_free char *dir = rt_proc_path(b->rt, p->id, "stdout");
	*strrchr(dir, '/') = '\0';
	int wd = inotify_add_watch(inofd, dir, IN_MODIFY | IN_ONLYDIR);
	if (wd < 0) {
		gdn_log("inotify on %s: %m", dir);
		return;
	}
	owatches = xrealloc(owatches, (nowatches + 1) * sizeof *owatches);
	owatches[nowatches++] = (struct owatch){wd, p};
	gdn_proc_ref(p);
	/* it may have grown before the watch: look once more */
	gdn_bk_output(p);
}

/* --- limits, metrics, capacity --- */

static int bk_set_limit(struct gdn_ctr *g, enum gdn_limit l, uint64_t v,
			gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->rt || !b->rt->cg)
		return gfs_error(err, EIO, "the container has no cgroup");
	switch (l) {
	case GDN_LIM_MEMORY:
		return cg_set_memory(b->rt->cg, v, err);
	case GDN_LIM_CPU:
		return cg_set_cpu_shares(b->rt->cg, v, err);
	case GDN_LIM_PIDS:
		return cg_set_pids_max(b->rt->cg, v, err);
	default:
		return gfs_error(err, EINVAL, "no such limit");
	}
}

static int bk_set_disk(struct gdn_ctr *g, uint64_t bytes, gfs_err *err)
{
	return rt_disk_limit(bk_of(g)->rt, bytes, err);
}

static int bk_metrics(struct gdn_ctr *g, struct gdn_metrics *m, gfs_err *err)
{
	struct bk_ctr *b = bk_of(g);
	if (!b || !b->rt || !b->rt->cg)
		return gfs_error(err, EIO, "the container has no cgroup");
	int r = cg_metrics(b->rt->cg, &m->cg, err);
	if (r < 0)
		return r;
	if (b->net && net_ctr_stats(b->net, &m->net, err) == 0)
		m->has_net = true;
	return rt_disk_usage(b->rt, &m->disk_bytes, &m->disk_inodes, err);
}

static uint64_t mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				break;
		fclose(f);
	}
	return kb * 1024;
}

static int bk_capacity(struct gdn_capacity *cap, gfs_err *err)
{
	struct statvfs sv;
	if (statvfs(bkc.depot, &sv) < 0)
		return gfs_error_sys(err, errno, "statvfs %s", bkc.depot);
	cap->memory = mem_total();
	/* the store's size when there is one, else the depot's */
	cap->disk = rt_disk_capacity();
	if (!cap->disk)
		cap->disk = (uint64_t)sv.f_blocks * sv.f_frsize;
	return 0;
}

static const char *bk_unhealthy(void)
{
	static char why[600];
	if (access(bkc.depot, W_OK) < 0) {
		snprintf(why, sizeof why, "depot %s is not writable: %m",
			 bkc.depot);
		return why;
	}
	return NULL;
}

static char *bk_meta_dir(struct gdn_ctr *g)
{
	struct bk_ctr *b = bk_of(g);
	return b && b->rt ? xasprintf("%s/meta", b->rt->dir) : NULL;
}

static const struct gdn_backend rt_backend = {
    .create = bk_create,
    .commit = bk_commit,
    .reserve_id = bk_reserve_id,
    .list = bk_list,
    .restore = bk_restore,
    .discard = bk_discard,
    .spawn = bk_spawn,
    .spawn_abandon = bk_spawn_abandon,
    .forget = bk_forget,
    .signal = bk_signal,
    .stop = bk_stop,
    .kill = bk_kill,
    .destroy = bk_destroy,
    .set_limit = bk_set_limit,
    .set_disk = bk_set_disk,
    .metrics = bk_metrics,
    .output_open = bk_output_open,
    .watch_output = bk_watch_output,
    .stdin_open = bk_stdin_open,
    .stdin_eof = bk_stdin_eof,
    .tty_resize = bk_tty_resize,
    .stream_start = bk_stream_start,
    .stream_poll = rt_stream_poll_status,
    .stream_end = rt_stream_end_input,
    .stream_abort = rt_stream_abort,
    .stream_close = rt_stream_close,
    .net_info = bk_net_info,
    .net_in = bk_net_in,
    .net_out = bk_net_out,
    .net_list = bk_net_list,
    .set_bandwidth = bk_set_bandwidth,
    .restored = bk_restored,
    .capacity = bk_capacity,
    .unhealthy = bk_unhealthy,
    .meta_dir = bk_meta_dir,
};

static void trash_work(struct loop_job *j)
{
	gfs_err err = {0};
	if (rt_trash_empty(&err) < 0)
		gdn_log("emptying the trash: %s", err.msg);
	(void)j;
}

static void trash_done(struct loop_job *j)
{
	free(j);
}

const struct gdn_backend *bk_setup(const struct bk_config *cfg, gfs_err *err)
{
	bkc = *cfg;
	bkc.depot = xstrdup(cfg->depot);
	if (!bkc.ready_timeout_ms)
		bkc.ready_timeout_ms = 10000;
	if (cfg->net.tag) {
		if (net_setup(&cfg->net, err) < 0) {
			gfs_error_wrap(err, "network");
			return NULL;
		}
		net_on = true;
	}
	inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inofd < 0) {
		gfs_error_sys(err, errno, "inotify");
		return NULL;
	}
	loop_watch_add(&ino_w, inofd, EPOLLIN, on_inotify);
	return &rt_backend;
}

void bk_shutdown(bool none_left)
{
	gfs_err err = {0};
	if (net_on && none_left && net_teardown(&err) < 0)
		gdn_log("network: %s", err.msg);
	if (net_on)
		net_shutdown();
	net_on = false;
}

void bk_start(void)
{
	/* destroys a crash interrupted are finished in the background */
	struct loop_job *j = xcalloc(1, sizeof *j);
	loop_job_submit(j, trash_work, trash_done);
}
