/* gardenfs: the daemon.  Options, the start (runtime, the backend, garden's
 * restore, the mount) and the one event loop that serves the FUSE
 * session and everything garden/ watches, until SIGTERM or umount. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "garden/backend.h"
#include "garden/garden.h"
#include "gardenfs/access.h"
#include "gardenfs/gfs.h"
#include "lib/loop.h"
#include "lib/parse.h"
#include "net/net.h"
#include "runtime/rt.h"
#include "runtime/stream.h"

/* Container root maps to this host uid and gid: not 0, used by no host
 * account (checked at start), with 65536 ids above it. */
#define ID_BASE	 2000000000u
#define ID_COUNT 65536u

static struct {
	char *mountpoint;
	char *depot;
	char *rootfs;
	char *init_path;
	bool foreground;
	uint64_t max_containers; /* 0: from the network pool */
	uint64_t store_size;	 /* 0: no store */
	const char *pool;	 /* NULL: the default; "none": no network */
	uint16_t port_first, port_last;
	const char *deny;
	char *group; /* --group: its members may use the mount */
} opt;

static volatile bool exiting;
static char instance[32];

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
	    "btrfs (10G; 0: none)\n"
	    "  --network-pool CIDR     container addresses, a /30 each "
	    "(10.254.0.0/22; none: no network)\n"
	    "  --port-pool FIRST-LAST  host ports for net/in (60000-64999)\n"
	    "  --deny-networks CIDR,.. outbound traffic refused unless net/out "
	    "allows it\n"
	    "  --group NAME            its members may use the mount too\n");
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
	    {"network-pool", required_argument, NULL, 'n'},
	    {"port-pool", required_argument, NULL, 'p'},
	    {"deny-networks", required_argument, NULL, 'D'},
	    {"group", required_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *depot = "/var/lib/gardenfs";
	opt.store_size = 10ULL << 30;
	int ch;
	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		gfs_err err = {0};
		switch (ch) {
		case 'f':
			opt.foreground = true;
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
			opt.rootfs = rp ? rp : xstrdup(optarg);
			break;
		}
		case 'i':
			opt.init_path = xstrdup(optarg);
			break;
		case 'g':
			opt.group = xstrdup(optarg);
			break;
		case 'm':
			if (gfs_parse_u64(optarg, &opt.max_containers, &err) <
				0 ||
			    opt.max_containers == 0 ||
			    opt.max_containers > (1u << 20) - 2) {
				fprintf(stderr,
					"gardenfs: --max-containers %s: %s\n",
					optarg,
					err.msg[0] ? err.msg : "out of range");
				return -1;
			}
			break;
		case 's':
			if (gfs_parse_size(optarg, &opt.store_size, &err) < 0 ||
			    (opt.store_size &&
			     opt.store_size < (256ULL << 20))) {
				fprintf(
				    stderr, "gardenfs: --store-size %s: %s\n",
				    optarg,
				    err.msg[0]
					? err.msg
					: "at least 256M, or 0 for no store");
				return -1;
			}
			break;
		case 'n':
			opt.pool = optarg;
			break;
		case 'p': {
			unsigned a, b;
			int used = 0;
			if (sscanf(optarg, "%u-%u%n", &a, &b, &used) != 2 ||
			    optarg[used] || a == 0 || a > b || b > 65535) {
				fprintf(stderr,
					"gardenfs: --port-pool %s: want "
					"FIRST-LAST, 1 <= FIRST <= LAST <= "
					"65535\n",
					optarg);
				return -1;
			}
			opt.port_first = (uint16_t)a;
			opt.port_last = (uint16_t)b;
			break;
		}
		case 'D':
			opt.deny = optarg;
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
	opt.mountpoint = xstrdup(optind < argc ? argv[optind] : "/garden");
	if (mkdir(depot, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "gardenfs: creating depot %s: %m\n", depot);
		return -1;
	}
	opt.depot = realpath(depot, NULL);
	if (!opt.depot) {
		fprintf(stderr, "gardenfs: depot %s: %m\n", depot);
		return -1;
	}
	cleanup_free char *dir = self_dir();
	if (!opt.init_path)
		opt.init_path = xasprintf("%s/gardenfs-init", dir);
	if (!opt.rootfs)
		opt.rootfs = xasprintf("%s/image", dir);
	return 0;
}

/* The cgroup group of this daemon: one per depot, so that several
 * daemons (tests) never meet. */
static void make_instance(void)
{
	uint32_t h = hash_str(opt.depot);
	snprintf(instance, sizeof instance, "gardenfs-%08x", h);
	cleanup_free char *path = xasprintf("%s/instance", opt.depot);
	FILE *f = fopen(path, "we");
	if (f) {
		fprintf(f, "%s\n", instance);
		fclose(f);
	}
}

/* One daemon per depot: a second one would take the containers' inits
 * from the first.  The lock is held until we exit (the fd stays open). */
static int lock_depot(void)
{
	cleanup_free char *path = xasprintf("%s/lock", opt.depot);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "gardenfs: %s: %m\n", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr,
			"gardenfs: another gardenfs serves the depot %s\n",
			opt.depot);
		close(fd);
		return -1;
	}
	return 0;
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
	if (stat(opt.mountpoint, &st) < 0 && errno == ENOTCONN) {
		/* a daemon died without unmounting: its mount is dead */
		if (umount2(opt.mountpoint, MNT_DETACH) == 0)
			gdn_log("removed the dead mount on %s", opt.mountpoint);
	}
	if (stat(opt.mountpoint, &st) < 0 && errno == ENOENT)
		mkdir(opt.mountpoint, 0755);
}

/* A thousand containers with a reader each take a few thousand fds (see
 * docs/architecture.md): the soft limit goes up to the hard one. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* --- the loop's sources --- */

static struct fuse_buf fbuf;
static struct loop_watch fuse_w, sig_w;

static void on_fuse(struct loop_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	/* a few at a time, so that other sources get their turn */
	for (int i = 0; i < 64; i++) {
		int r = fuse_session_receive_buf(gfs_se, &fbuf);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r <= 0) {
			exiting = true;
			return;
		}
		fuse_session_process_buf(gfs_se, &fbuf);
	}
}

static void on_signal(struct loop_watch *w, uint32_t events)
{
	(void)events;
	struct signalfd_siginfo si;
	while (read(w->fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			/* the reaper, should it die, and the inits it then
			 * leaves to us (we are a subreaper) */
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		} else {
			exiting = true;
		}
	}
}

int main(int argc, char **argv)
{
	if (parse_options(argc, argv) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (!opt.foreground)
		openlog("gardenfs", LOG_PID, LOG_DAEMON);
	if (!id_base_unused()) {
		fprintf(
		    stderr,
		    "gardenfs: host uids %u.. are in use; container root must map to an unused uid\n",
		    ID_BASE);
		return 1;
	}
	if (lock_depot() < 0)
		return 1;
	raise_nofile();
	make_instance();

	/* the signals the loop reads, blocked before any thread exists so
	 * that no worker ever takes one */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0 || loop_init() < 0) {
		fprintf(stderr, "gardenfs: setting up the loop: %m\n");
		return 1;
	}
	gdn_cfg.foreground = opt.foreground;

	struct rt_config rc = {
	    .depot = opt.depot,
	    .init_path = opt.init_path,
	    .rootfs = opt.rootfs,
	    .instance = instance,
	    .id_base = ID_BASE,
	    .id_count = ID_COUNT,
	    .store_size = opt.store_size,
	};
	gfs_err err = {0};
	/* before any thread: it may fork the depot's reaper */
	if (rt_setup(&rc, &err) < 0) {
		fprintf(stderr, "gardenfs: %s\n", err.msg);
		return 1;
	}
	cleanup_free char *self = self_dir();
	cleanup_free char *streamer = xasprintf("%s/gardenfs-stream", self);
	if (rt_stream_setup(streamer, &err) < 0) {
		fprintf(stderr, "gardenfs: %s\n", err.msg);
		return 1;
	}
	/* inits are the reaper's children; should it die, they are ours */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct bk_config bc = {.depot = opt.depot};
	char tag[NET_TAG_MAX + 1];
	cleanup_free char *netdir = xasprintf("%s/net", opt.depot);
	if (!opt.pool || strcmp(opt.pool, "none") != 0) {
		/* named after the depot, like the cgroups: two daemons on one
		 * host never meet */
		snprintf(tag, sizeof tag, "%.6s",
			 instance + strlen("gardenfs-"));
		mkdir(netdir, 0700);
		bc.net = (struct net_config){
		    .pool = opt.pool,
		    .port_first = opt.port_first,
		    .port_last = opt.port_last,
		    .deny = opt.deny,
		    .tag = tag,
		    .state_dir = netdir,
		};
		if (net_config_check(&bc.net, &err) < 0) {
			fprintf(stderr, "gardenfs: %s\n", err.msg);
			return 1;
		}
		if (!opt.max_containers)
			opt.max_containers = net_pool_capacity(&bc.net);
	}
	if (!opt.max_containers)
		opt.max_containers = 256;
	const struct gdn_backend *bk = bk_setup(&bc, &err);
	if (!bk) {
		fprintf(stderr, "gardenfs: %s\n", err.msg);
		return 1;
	}
	cleanup_free char *errors = xasprintf("%s/errors", opt.depot);
	struct gdn_config gc = {
	    .max_containers = opt.max_containers,
	    .foreground = opt.foreground,
	    .errors_path = errors,
	};
	gfs_tab_init();
	if (gfs_access_setup(opt.group, &err) < 0) {
		fprintf(stderr, "gardenfs: %s\n", err.msg);
		return 1;
	}

	handle_stale_mount();
	/* with --group: allow_other,default_permissions (gardenfs/access.c) */
	const char *access = gfs_access_mount_opts();
	char *fargv[] = {argv[0],
			 "-o",
			 "fsname=gardenfs,subtype=gardenfs",
			 access ? "-o" : NULL,
			 (char *)access,
			 NULL};
	struct fuse_args args = FUSE_ARGS_INIT(access ? 5 : 3, fargv);
	gfs_se = fuse_session_new(&args, &gfs_ops, sizeof gfs_ops, NULL);
	if (!gfs_se) {
		fprintf(stderr, "gardenfs: fuse_session_new failed\n");
		return 1;
	}
	if (fuse_session_mount(gfs_se, opt.mountpoint) != 0) {
		fprintf(stderr, "gardenfs: cannot mount on %s\n",
			opt.mountpoint);
		return 1;
	}
	/* before the first thread: threads do not survive its fork */
	if (fuse_daemonize(opt.foreground) != 0)
		return 1;
	bk_start();
	if (gdn_setup(&gc, bk, &err) < 0)
		gdn_log("restoring: %s", err.msg);
	int fusefd = fuse_session_fd(gfs_se);
	fcntl(fusefd, F_SETFL, fcntl(fusefd, F_GETFL) | O_NONBLOCK);
	loop_watch_add(&fuse_w, fusefd, EPOLLIN, on_fuse);
	loop_watch_add(&sig_w, sigfd, EPOLLIN, on_signal);
	gdn_log("serving %s (depot %s, %u containers)", opt.mountpoint,
		opt.depot, gdn_ctr_count());

	while (!exiting && !fuse_session_exited(gfs_se))
		loop_once(-1);

	gdn_log("stopping; %u containers keep running", gdn_ctr_count());
	loop_watch_del(&fuse_w);
	fuse_session_unmount(gfs_se);
	fuse_session_destroy(gfs_se);
	free(fbuf.mem);
	/* what workers are doing (a destroy's release) may finish; what
	 * does not, the next daemon does */
	for (int i = 0; i < 100 && loop_jobs_pending(); i++)
		loop_once(100);
	unsigned left = gdn_ctr_count();
	gdn_shutdown();
	bk_shutdown(left == 0);
	/* the store stays mounted for containers that outlive us */
	rt_shutdown(left == 0);
	return 0;
}
