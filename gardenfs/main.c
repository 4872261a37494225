/* gardenfs: the daemon.  Options, the containers as the front holds them
 * (slots, grace), restoring them from the depot at start, and the one event
 * loop: FUSE requests, signals, inotify for output, the inits' sockets and
 * pidfds, parked stdin writes and grace deadlines. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gardenfs/gfs.h"
#include "lib/parse.h"

struct gfs_daemon gfs;

/* Container root maps to this host uid and gid: not 0, used by no host
 * account (checked at start), with 65536 ids above it. */
#define ID_BASE	 2000000000u
#define ID_COUNT 65536u

uint64_t gfs_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

uint64_t gfs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

void gfs_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (gfs.opt.foreground) {
		fprintf(stderr, "gardenfs: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(LOG_NOTICE, fmt, ap);
	}
	va_end(ap);
}

void gfs_report(struct gfs_ctr *c, const gfs_err *err)
{
	const char *msg = err->msg[0] ? err->msg : strerror(err->code);
	if (c && !c->destroyed) {
		gfs_errlog_add(&c->errors, msg);
		gfs_log("%s: %s", c->handle, msg);
	} else {
		gfs_errlog_add(&gfs.errors, msg);
		gfs_log("%s", msg);
	}
}

struct gfs_ctr *gfs_ctr_slot(uint32_t slot)
{
	return slot && slot < gfs.nslots ? gfs.slots[slot] : NULL;
}

struct gfs_ctr *gfs_ctr_find(const char *handle)
{
	for (uint32_t s = 1; s < gfs.nslots; s++) {
		struct gfs_ctr *c = gfs.slots[s];
		if (c && !c->destroyed && strcmp(c->handle, handle) == 0)
			return c;
	}
	return NULL;
}

void gfs_ctr_put(struct gfs_ctr *c)
{
	if (--c->refs > 0)
		return;
	gfs_ctr_free_meta(c);
	free(c->stdin_claimed);
	free(c->meta);
	free(c->handle);
	free(c);
}

/* Slots are handed out round robin, so that an inode of a destroyed
 * container does not name a new one for a long time. */
static uint32_t slot_alloc(void)
{
	for (uint32_t k = 0; k < gfs.nslots; k++) {
		uint32_t s = (gfs.next_slot + k) % gfs.nslots;
		if (s && !gfs.slots[s]) {
			gfs.next_slot = s + 1;
			return s;
		}
	}
	uint32_t old = gfs.nslots;
	uint32_t n = old ? old * 2 : 64;
	if (n > (1u << 20))
		n = 1u << 20;
	if (n == old)
		return 0;
	gfs.slots = xrealloc(gfs.slots, n * sizeof *gfs.slots);
	memset(gfs.slots + old, 0, (n - old) * sizeof *gfs.slots);
	gfs.nslots = n;
	uint32_t s = old ? old : 1;
	gfs.next_slot = s + 1;
	return s;
}

static bool ctr_busy(struct gfs_ctr *c)
{
	if (c->opens > 0 || c->parked)
		return true;
	for (size_t i = 0; i < c->rt->nprocs; i++)
		if (!c->rt->procs[i]->exited)
			return true;
	return false;
}

void gfs_ctr_activity(struct gfs_ctr *c)
{
	if (c->destroyed)
		return;
	if (c->grace == 0 || ctr_busy(c)) {
		if (c->grace_deadline_ms)
			gfs.deadlines_dirty = true;
		c->grace_deadline_ms = 0;
		return;
	}
	if (!c->grace_deadline_ms) {
		c->grace_deadline_ms = gfs_now_ms() + c->grace * 1000;
		gfs.deadlines_dirty = true;
	}
}

static void watch_fd(int fd, void *tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
	if (fd >= 0 && epoll_ctl(gfs.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		gfs_log("epoll add %d: %m", fd);
}

static void ctr_register(struct gfs_ctr *c)
{
	c->ev_sock.kind = EV_SOCK;
	c->ev_sock.c = c;
	c->ev_pidfd.kind = EV_PIDFD;
	c->ev_pidfd.c = c;
	c->sock_reg = c->rt->sock;
	c->pidfd_reg = c->rt->pidfd;
	watch_fd(c->sock_reg, &c->ev_sock);
	watch_fd(c->pidfd_reg, &c->ev_pidfd);
	if (c->oom_reg < 0)
		gfs_oom_register(c);
}

static void ctr_unregister(struct gfs_ctr *c)
{
	if (c->sock_reg >= 0)
		epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, c->sock_reg, NULL);
	if (c->pidfd_reg >= 0)
		epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, c->pidfd_reg, NULL);
	c->sock_reg = c->pidfd_reg = -1;
	gfs_oom_unregister(c);
}

static void ev_exited(struct rt_ctr *rc, struct rt_proc *p, void *ud)
{
	(void)ud;
	struct gfs_ctr *c = rc->front;
	gfs_wake(c, p->id);
	gfs_notify_pollers(c, T_STDOUT, p->id);
	gfs_drop_watches(c, p->id);
	c->ver_info++;
	gfs_notify_pollers(c, T_INFO, 0);
	gfs_ctr_activity(c);
}

static void ev_stopped(struct rt_ctr *rc, void *ud)
{
	(void)ud;
	struct gfs_ctr *c = rc->front;
	gfs_wake_stop(c);
	c->ver_info++;
	gfs_notify_pollers(c, T_INFO, 0);
	gfs_ctr_activity(c);
}

static void ev_gone(struct rt_ctr *rc, void *ud)
{
	struct gfs_ctr *c = rc->front;
	gfs_log("%s: the container's init is gone", c->handle);
	for (size_t i = 0; i < rc->nprocs; i++)
		if (rc->procs[i]->exited)
			gfs_wake(c, rc->procs[i]->id);
	ev_stopped(rc, ud);
}

static const struct rt_events rt_ev = {
    .exited = ev_exited,
    .stopped = ev_stopped,
    .gone = ev_gone,
};

static void ctr_dispatch(struct gfs_ctr *c)
{
	c->refs++;
	rt_dispatch(c->rt, &rt_ev, NULL);
	/* the runtime closes what broke: forget it here too */
	if (!c->destroyed &&
	    (c->rt->sock != c->sock_reg || c->rt->pidfd != c->pidfd_reg)) {
		ctr_unregister(c);
		ctr_register(c);
	}
	gfs_ctr_put(c);
}

static struct gfs_ctr *ctr_adopt(struct rt_ctr *rc, gfs_err *err)
{
	uint32_t slot = slot_alloc();
	if (!slot) {
		gfs_error(err, ENOSPC, "no free slot");
		return NULL;
	}
	struct gfs_ctr *c = xcalloc(1, sizeof *c);
	c->rt = rc;
	rc->front = c;
	c->handle = xstrdup(rc->handle);
	c->slot = slot;
	c->refs = 1;
	c->sock_reg = c->pidfd_reg = c->oom_reg = -1;
	c->meta = xasprintf("%s/meta", rc->dir);
	if (gfs_meta_load(c, err) < 0) {
		gfs_ctr_put(c);
		return NULL;
	}
	gfs.slots[slot] = c;
	gfs.nctrs++;
	ctr_register(c);
	return c;
}

int gfs_ctr_create(const char *handle, const struct rt_create *rc,
		   char *const *props, bool grace_set, uint64_t grace,
		   struct gfs_ctr **out, gfs_err *err)
{
	if (!gfs_handle_is_valid(handle, err))
		return gfs_error_wrap(err, "create");
	if (gfs_ctr_find(handle))
		return gfs_error(err, EEXIST, "create: container %s exists",
				 handle);
	if (gfs.nctrs >= gfs.opt.max_containers)
		return gfs_error(
		    err, ENOSPC, "create %s: all %llu containers are in use",
		    handle, (unsigned long long)gfs.opt.max_containers);
	struct rt_ctr *r;
	int ret = rt_create(rc, &r, err);
	if (ret < 0)
		return gfs_error_wrap(err, "create %s", handle);
	struct gfs_ctr *c = ctr_adopt(r, err);
	if (!c) {
		gfs_err e2 = {0};
		rt_destroy(r, &e2);
		return gfs_error_wrap(err, "create %s", handle);
	}
	for (char *const *p = props; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		cleanup_free char *k = xstrndup(*p, eq - *p);
		if (gfs_prop_set(c, k, eq + 1, strlen(eq + 1), NULL, err) < 0)
			goto undo;
	}
	if (grace_set) {
		c->grace = grace;
		if (gfs_meta_save_grace(c, err) < 0)
			goto undo;
	}
	gfs_ctr_activity(c);
	*out = c;
	return 0;
undo : {
	gfs_err e2 = {0};
	gfs_ctr_destroy(c, &e2);
	return gfs_error_wrap(err, "create %s", handle);
}
}

int gfs_ctr_destroy(struct gfs_ctr *c, gfs_err *err)
{
	ctr_unregister(c);
	gfs_release_files(c);
	int r = rt_destroy(c->rt, err);
	if (r < 0) {
		/* the runtime could not clean everything: keep the container
		 * so that a later rmdir can try again */
		ctr_register(c);
		return gfs_error_wrap(err, "destroy %s", c->handle);
	}
	c->rt = NULL;
	c->destroyed = true;
	gfs_fail_parked(c);
	gfs.slots[c->slot] = NULL;
	gfs.nctrs--;
	gfs.deadlines_dirty = true;
	gfs_ctr_put(c);
	return 0;
}

static uint64_t next_deadline;

static void check_deadlines(void)
{
	uint64_t now = gfs_now_ms();
	if (!gfs.deadlines_dirty && (!next_deadline || now < next_deadline))
		return;
	gfs.deadlines_dirty = false;
	next_deadline = 0;
	for (uint32_t s = 1; s < gfs.nslots; s++) {
		struct gfs_ctr *c = gfs.slots[s];
		if (!c || !c->grace_deadline_ms)
			continue;
		if (c->grace_deadline_ms <= now && !ctr_busy(c)) {
			gfs_err err = {0};
			gfs_log("%s: grace time of %llu s is over", c->handle,
				(unsigned long long)c->grace);
			if (gfs_ctr_destroy(c, &err) < 0)
				gfs_report(NULL, &err);
			continue;
		}
		if (c->grace_deadline_ms <= now)
			c->grace_deadline_ms = 0;
		else if (!next_deadline || c->grace_deadline_ms < next_deadline)
			next_deadline = c->grace_deadline_ms;
	}
}

static void restore_all(void)
{
	cleanup_strv char **handles = NULL;
	gfs_err err = {0};
	if (rt_list(&handles, &err) < 0) {
		gfs_report(NULL, &err);
		return;
	}
	for (char **h = handles; *h; h++) {
		struct rt_ctr *rc;
		gfs_error_clear(&err);
		if (rt_restore(*h, &rc, &err) < 0) {
			gfs_report(NULL, &err);
			continue;
		}
		struct gfs_ctr *c = ctr_adopt(rc, &err);
		if (!c) {
			gfs_report(NULL, &err);
			rt_ctr_free(rc);
			continue;
		}
		ctr_dispatch(c);
		gfs_ctr_activity(c);
		gfs_log("%s: restored", c->handle);
	}
}

static void reap(void)
{
	/* inits that were our children, and orphans we adopted as subreaper */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: gardenfs [options] [MOUNTPOINT]   (default /garden)\n"
	    "  -f, --foreground        stay in the foreground, log to stderr\n"
	    "  --depot DIR             state, logs and store (/var/lib/gardenfs)\n"
	    "  --rootfs PATH           default image\n"
	    "  --max-containers N      capacity (256)\n"
	    "  --init PATH             the gardenfs-init binary\n"
	    "  --store-size SIZE       btrfs store when the depot is not on "
	    "btrfs (10G; 0: none)\n");
}

static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n < 0)
		return xstrdup(".");
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return xstrdup(buf);
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"depot", required_argument, NULL, 'd'},
	    {"rootfs", required_argument, NULL, 'r'},
	    {"max-containers", required_argument, NULL, 'm'},
	    {"init", required_argument, NULL, 'i'},
	    {"store-size", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *depot = "/var/lib/gardenfs";
	gfs.opt.max_containers = 256; /* a /30 each in 10.254.0.0/22 */
	gfs.opt.store_size = 10ULL << 30;
	int ch;
	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		gfs_err err = {0};
		switch (ch) {
		case 'f':
			gfs.opt.foreground = true;
			break;
		case 'd':
			depot = optarg;
			break;
		case 'r': {
			/* absolute, since the runtime keys image caches by it
			 */
			char *rp = strncmp(optarg, "oci:", 4) == 0
				       ? NULL
				       : realpath(optarg, NULL);
			gfs.opt.rootfs = rp ? rp : xstrdup(optarg);
			break;
		}
		case 'i':
			gfs.opt.init_path = xstrdup(optarg);
			break;
		case 'm':
			if (gfs_parse_u64(optarg, &gfs.opt.max_containers,
					  &err) < 0 ||
			    gfs.opt.max_containers == 0 ||
			    gfs.opt.max_containers > (1u << 20) - 2) {
				fprintf(stderr,
					"gardenfs: --max-containers %s: %s\n",
					optarg,
					err.msg[0] ? err.msg : "out of range");
				return -1;
			}
			break;
		case 's':
			if (gfs_parse_size(optarg, &gfs.opt.store_size, &err) <
				0 ||
			    (gfs.opt.store_size &&
			     gfs.opt.store_size < (256ULL << 20))) {
				fprintf(
				    stderr, "gardenfs: --store-size %s: %s\n",
				    optarg,
				    err.msg[0]
					? err.msg
					: "at least 256M, or 0 for no store");
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc - 1) {
		usage(stderr);
		return -1;
	}
	gfs.opt.mountpoint = xstrdup(optind < argc ? argv[optind] : "/garden");
	if (mkdir(depot, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "gardenfs: creating depot %s: %m\n", depot);
		return -1;
	}
	char *rp = realpath(depot, NULL);
	if (!rp) {
		fprintf(stderr, "gardenfs: depot %s: %m\n", depot);
		return -1;
	}
	gfs.opt.depot = rp;
	cleanup_free char *dir = self_dir();
	if (!gfs.opt.init_path)
		gfs.opt.init_path = xasprintf("%s/gardenfs-init", dir);
	if (!gfs.opt.rootfs)
		gfs.opt.rootfs = xasprintf("%s/image", dir);
	return 0;
}

/* The cgroup group of this daemon: one per depot, so that several
 * daemons (tests) never meet. */
static void make_instance(void)
{
	uint32_t h = 2166136261u;
	for (const char *p = gfs.opt.depot; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(gfs.instance, sizeof gfs.instance, "gardenfs-%08x", h);
	cleanup_free char *path = xasprintf("%s/instance", gfs.opt.depot);
	cleanup_free char *line = xasprintf("%s\n", gfs.instance);
	gfs_write_file(path, line, strlen(line), NULL);
}

/* One daemon per depot: a second one would take the containers' inits
 * from the first.  The lock is held until we exit (the fd stays open). */
static int lock_depot(void)
{
	cleanup_free char *path = xasprintf("%s/lock", gfs.opt.depot);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "gardenfs: %s: %m\n", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr,
			"gardenfs: another gardenfs serves the depot %s\n",
			gfs.opt.depot);
		close(fd);
		return -1;
	}
	return 0;
}

/* Unprivileged container root is a host uid without rights: it must be
 * able to walk from / to its files in the depot. */
static bool depot_reachable(void)
{
	cleanup_free char *p = xstrdup(gfs.opt.depot);
	for (char *s = strrchr(p, '/'); s && s > p; s = strrchr(p, '/')) {
		*s = '\0';
		struct stat st;
		if (stat(p, &st) == 0 && !(st.st_mode & S_IXOTH)) {
			fprintf(
			    stderr,
			    "gardenfs: %s is not searchable by others (mode "
			    "%o): unprivileged containers could not reach "
			    "their files in the depot; chmod o+x it or use "
			    "another --depot\n",
			    p, st.st_mode & 07777);
			return false;
		}
	}
	return true;
}

static bool id_base_unused(void)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return true;
	char line[1024];
	bool ok = true;
	while (fgets(line, sizeof line, f)) {
		char *p = strchr(line, ':');
		if (!p || !(p = strchr(p + 1, ':')))
			continue;
		unsigned long uid = strtoul(p + 1, NULL, 10);
		if (uid >= ID_BASE && uid < ID_BASE + ID_COUNT)
			ok = false;
	}
	fclose(f);
	return ok;
}

static void handle_stale_mount(void)
{
	struct stat st;
	if (stat(gfs.opt.mountpoint, &st) < 0 && errno == ENOTCONN) {
		/* a daemon died without unmounting: its mount is dead */
		if (umount2(gfs.opt.mountpoint, MNT_DETACH) == 0)
			gfs_log("removed the dead mount on %s",
				gfs.opt.mountpoint);
	}
	if (stat(gfs.opt.mountpoint, &st) < 0 && errno == ENOENT)
		mkdir(gfs.opt.mountpoint, 0755);
}

static void loop(void)
{
	struct fuse_buf fbuf = {.mem = NULL};
	int fusefd = fuse_session_fd(gfs.se);
	fcntl(fusefd, F_SETFL, fcntl(fusefd, F_GETFL) | O_NONBLOCK);
	int tag_fuse = EV_FUSE, tag_sig = EV_SIGNAL, tag_ino = EV_INOTIFY;
	watch_fd(fusefd, &tag_fuse);
	watch_fd(gfs.sigfd, &tag_sig);
	watch_fd(gfs.inofd, &tag_ino);

	while (!gfs.exiting && !fuse_session_exited(gfs.se)) {
		check_deadlines();
		int timeout = -1;
		if (next_deadline) {
			uint64_t now = gfs_now_ms();
			timeout = next_deadline > now ? next_deadline - now : 0;
			timeout += 1;
		}
		struct epoll_event evs[64];
		int n = epoll_wait(gfs.epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			gfs_log("epoll_wait: %m");
			break;
		}
		for (int i = 0; i < n; i++) {
			int kind = *(int *)evs[i].data.ptr;
			switch (kind) {
			case EV_FUSE:
				for (;;) {
					int r = fuse_session_receive_buf(gfs.se,
									 &fbuf);
					if (r == -EAGAIN || r == -EINTR)
						break;
					if (r <= 0) {
						gfs.exiting = true;
						break;
					}
					fuse_session_process_buf(gfs.se, &fbuf);
					gfs_flush_notifications();
				}
				break;
			case EV_SIGNAL: {
				struct signalfd_siginfo si;
				while (read(gfs.sigfd, &si, sizeof si) ==
				       sizeof si) {
					if (si.ssi_signo == SIGCHLD)
						reap();
					else
						gfs.exiting = true;
				}
				break;
			}
			case EV_INOTIFY:
				gfs_inotify_event();
				break;
			case EV_STDIN:
				gfs_stdin_writable(evs[i].data.ptr);
				break;
			case EV_OOM: {
				struct gfs_ctr *c =
				    ((struct gfs_evtag *)evs[i].data.ptr)->c;
				if (!c->destroyed)
					gfs_oom_event(c);
				break;
			}
			case EV_SOCK:
			case EV_PIDFD: {
				struct gfs_ctr *c =
				    ((struct gfs_evtag *)evs[i].data.ptr)->c;
				if (!c->destroyed)
					ctr_dispatch(c);
				break;
			}
			}
		}
		gfs_flush_notifications();
	}
	free(fbuf.mem);
}

int main(int argc, char **argv)
{
	if (parse_options(argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (!gfs.opt.foreground)
		openlog("gardenfs", LOG_PID, LOG_DAEMON);
	if (!id_base_unused()) {
		fprintf(
		    stderr,
		    "gardenfs: host uids %u.. are in use; container root must map to an unused uid\n",
		    ID_BASE);
		return 1;
	}
	gfs.start_ms = gfs_now_ms();
	if (lock_depot() < 0)
		return 1;
	if (!depot_reachable())
		return 1;
	make_instance();
	gfs_errlog_init(&gfs.errors, xasprintf("%s/errors", gfs.opt.depot));

	struct rt_config rc = {
	    .depot = gfs.opt.depot,
	    .init_path = gfs.opt.init_path,
	    .rootfs = gfs.opt.rootfs,
	    .instance = gfs.instance,
	    .id_base = ID_BASE,
	    .id_count = ID_COUNT,
	    .store_size = gfs.opt.store_size,
	};
	gfs_err err = {0};
	if (rt_setup(&rc, &err) < 0) {
		fprintf(stderr, "gardenfs: %s\n", err.msg);
		return 1;
	}
	/* inits are our children; orphans of theirs that escape come here */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	gfs.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	gfs.inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	gfs.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (gfs.sigfd < 0 || gfs.inofd < 0 || gfs.epfd < 0) {
		fprintf(stderr, "gardenfs: setting up the loop: %m\n");
		return 1;
	}

	handle_stale_mount();
	char *fargv[] = {argv[0], "-o", "fsname=gardenfs,subtype=gardenfs",
			 NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	gfs.se = fuse_session_new(&args, &gfs_ops, sizeof gfs_ops, NULL);
	if (!gfs.se) {
		fprintf(stderr, "gardenfs: fuse_session_new failed\n");
		return 1;
	}
	if (fuse_session_mount(gfs.se, gfs.opt.mountpoint) != 0) {
		fprintf(stderr, "gardenfs: cannot mount on %s\n",
			gfs.opt.mountpoint);
		return 1;
	}
	restore_all();
	if (fuse_daemonize(gfs.opt.foreground) != 0)
		return 1;
	gfs_log("serving %s (depot %s, %u containers)", gfs.opt.mountpoint,
		gfs.opt.depot, gfs.nctrs);
	loop();
	gfs_log("stopping; %u containers keep running", gfs.nctrs);
	fuse_session_unmount(gfs.se);
	fuse_session_destroy(gfs.se);
	/* the store stays mounted for containers that outlive us */
	rt_shutdown(gfs.nctrs == 0);
	return 0;
}
