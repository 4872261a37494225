/* ctr-helper: a tiny static program that tests copy into containers and run
 * there (crun's way), so that tests do not depend on what an image ships.
 *
 *   ctr-helper exit N          exit with status N
 *   ctr-helper echo-stdin      copy stdin to stdout until EOF
 *   ctr-helper sleep S         sleep S seconds (fractions allowed)
 *   ctr-helper memhog MB       allocate and touch MB MiB, then sleep
 *   ctr-helper forkbomb        fork until fork fails, then report and wait
 *   ctr-helper write-bytes N   write N bytes of a fixed pattern to stdout
 *   ctr-helper fds             list the open fds and what they point at
 *   ctr-helper try CALL...     make each system call named (see calls[]),
 *                              print "CALL OK" or "CALL ERRNONAME" a line
 *   ctr-helper open PATH MODE  open PATH (MODE r, w, rw or path), print OK
 *                              or the errno name
 *   ctr-helper mknod PATH TYPE MAJ MIN   mknod (TYPE b or c), then open it
 *                              for reading: "mknod X open Y"
 *   ctr-helper oom-adj V       write V to oom_score_adj, print OK or errno
 *   ctr-helper ids             print "uid=R euid=E"
 *   ctr-helper thread          start and join a thread (glibc's clone3,
 *                              with its fallback to clone), print OK
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: ctr-helper exit N | echo-stdin | sleep S | "
			"memhog MB | forkbomb | write-bytes N | fds | "
			"try CALL... | open PATH MODE | "
			"mknod PATH TYPE MAJ MIN | oom-adj V\n");
	return 2;
}

/* "OK" for r >= 0, else the name of errno ("EPERM"). */
static const char *result(long r)
{
	if (r >= 0)
		return "OK";
	const char *n = strerrorname_np(errno);
	return n ? n : "E?";
}

/* A child that exits at once, for the calls that make processes. */
static long reap(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

struct clone_args_v0 {
	unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal,
	    stack, stack_size, tls;
};

/* The system calls the security tests try, each with arguments that
 * would work for a process allowed to make it, so that the errno says
 * who refused: EPERM from the filter or a missing capability, ENOSYS
 * from the filter for calls it does not know. */
static long call(const char *name)
{
	static char buf[64];
	if (!strcmp(name, "unshare-user"))
		return syscall(SYS_unshare, CLONE_NEWUSER);
	if (!strcmp(name, "unshare-mount"))
		return syscall(SYS_unshare, CLONE_NEWNS);
	if (!strcmp(name, "unshare-cgroup"))
		return syscall(SYS_unshare, CLONE_NEWCGROUP);
	if (!strcmp(name, "clone-newuser"))
		return reap(
		    syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
	if (!strcmp(name, "clone-newns"))
		return reap(
		    syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
	if (!strcmp(name, "clone"))
		return reap(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
	if (!strcmp(name, "fork"))
		return reap(fork());
	if (!strcmp(name, "clone3")) {
		struct clone_args_v0 a = {.exit_signal = SIGCHLD};
		return reap(syscall(SYS_clone3, &a, sizeof a));
	}
	if (!strcmp(name, "setns"))
		return syscall(SYS_setns, open("/proc/self/ns/net", O_RDONLY),
			       0);
	if (!strcmp(name, "mount"))
		return mount("none", "/tmp", "tmpfs", 0, NULL);
	if (!strcmp(name, "umount"))
		return umount2("/proc", MNT_DETACH);
	if (!strcmp(name, "pivot_root"))
		return syscall(SYS_pivot_root, "/tmp", "/tmp");
	if (!strcmp(name, "chroot"))
		return chroot("/");
	if (!strcmp(name, "keyctl")) /* KEYCTL_GET_KEYRING_ID, session */
		return syscall(SYS_keyctl, 0, -3, 1);
	if (!strcmp(name, "add_key"))
		return syscall(SYS_add_key, "user", "gfs", "x", 1, -3);
	if (!strcmp(name, "request_key"))
		return syscall(SYS_request_key, "user", "gfs", NULL, -3);
	if (!strcmp(name, "bpf")) { /* BPF_MAP_CREATE of an array */
		unsigned int attr[8] = {2, 4, 4, 1};
		return syscall(SYS_bpf, 0, attr, sizeof attr);
	}
	if (!strcmp(name, "perf_event_open")) {
		unsigned int attr[32] = {1 /* SOFTWARE */, sizeof attr, 0};
		return syscall(SYS_perf_event_open, attr, 0, -1, -1, 0);
	}
	if (!strcmp(name, "open_by_handle_at")) {
		struct {
			unsigned int bytes;
			int type;
			unsigned char h[8];
		} fh = {8, 1, {0}};
		return syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
	}
	if (!strcmp(name, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!strcmp(name, "init_module"))
		return syscall(SYS_init_module, buf, sizeof buf, "");
	if (!strcmp(name, "finit_module"))
		return syscall(SYS_finit_module, 0, "", 0);
	if (!strcmp(name, "delete_module"))
		return syscall(SYS_delete_module, "gfs_none", O_NONBLOCK);
	if (!strcmp(name, "iopl"))
		return syscall(SYS_iopl, 3);
	if (!strcmp(name, "swapon"))
		return syscall(SYS_swapon, "/tmp/none", 0);
	if (!strcmp(name, "reboot")) /* RB_ENABLE_CAD: harmless */
		return syscall(SYS_reboot, 0xfee1dead, 672274793, 0x89abcdef,
			       NULL);
	if (!strcmp(name, "sethostname"))
		return sethostname("gfs-x", 5);
	if (!strcmp(name, "syslog")) /* SYSLOG_ACTION_SIZE_BUFFER */
		return syscall(SYS_syslog, 10, NULL, 0);
	if (!strcmp(name, "userfaultfd"))
		return syscall(SYS_userfaultfd, 0);
	if (!strcmp(name, "io_uring_setup")) {
		unsigned int p[30] = {0};
		return syscall(SYS_io_uring_setup, 1, p);
	}
	if (!strcmp(name, "personality-ok"))
		return syscall(SYS_personality, 0xffffffff);
	if (!strcmp(name, "personality-rie"))
		return syscall(SYS_personality, READ_IMPLIES_EXEC);
	if (!strcmp(name, "socket-inet"))
		return socket(AF_INET, SOCK_STREAM, 0);
	if (!strcmp(name, "socket-vsock"))
		return syscall(SYS_socket, 40, SOCK_STREAM, 0);
	if (!strcmp(name, "socket-vsock-high")) /* AF_VSOCK in the low half */
		return syscall(SYS_socket, 0x100000028ULL, SOCK_STREAM, 0);
	if (!strcmp(name, "ptrace-me")) /* PTRACE_TRACEME in a child */ {
		long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			_exit(syscall(SYS_ptrace, 0, 0, 0, 0) < 0 ? 1 : 0);
		int st = 1;
		if (pid > 0)
			waitpid((pid_t)pid, &st, 0);
		errno = EPERM;
		return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0
									: -1;
	}
	if (!strcmp(name, "sched-fifo")) {
		struct sched_param sp = {.sched_priority = 1};
		return sched_setscheduler(0, SCHED_FIFO, &sp);
	}
	if (!strcmp(name, "nice-down"))
		return setpriority(PRIO_PROCESS, 0, -5);
	if (!strcmp(name, "fchmodat2")) /* newer than the profile */
		return syscall(452, AT_FDCWD, "/tmp", 01777, 0);
	if (!strcmp(name, "syscall-500")) /* no such call yet */
		return syscall(500, 0, 0, 0);
	errno = EINVAL;
	fprintf(stderr, "ctr-helper: unknown call %s\n", name);
	return -1;
}

static int try_calls(int n, char **names)
{
	for (int i = 0; i < n; i++) {
		errno = 0;
		long r = call(names[i]);
		printf("%s %s\n", names[i], result(r));
	}
	return 0;
}

static int open_path(const char *path, const char *mode)
{
	int fl = !strcmp(mode, "w")	 ? O_WRONLY
		 : !strcmp(mode, "rw")	 ? O_RDWR
		 : !strcmp(mode, "path") ? O_PATH
					 : O_RDONLY;
	int fd = open(path, fl | O_CLOEXEC);
	printf("%s\n", result(fd));
	return 0;
}

static int make_node(const char *path, const char *type, const char *maj,
		     const char *min)
{
	mode_t t = type[0] == 'b' ? S_IFBLK : S_IFCHR;
	int r = mknod(path, t | 0600,
		      makedev((unsigned)atoi(maj), (unsigned)atoi(min)));
	printf("mknod %s", result(r));
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	printf(" open %s\n", result(fd));
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int thread(void)
{
	pthread_t t;
	void *ret = NULL;
	int r = pthread_create(&t, NULL, thread_fn, (void *)"x");
	if (r == 0)
		r = pthread_join(t, &ret);
	errno = r;
	printf("%s\n", r == 0 && ret ? "OK" : result(-1));
	return r != 0;
}

static int oom_adj(const char *v)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	long r = fd < 0 ? -1 : write(fd, v, strlen(v));
	printf("%s\n", result(r));
	return 0;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void nap(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int echo_stdin(void)
{
	char b[65536];
	for (;;) {
		ssize_t n = read(0, b, sizeof b);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0;
		if (write_all(1, b, (size_t)n) < 0)
			return 1;
	}
}

static int memhog(long mb)
{
	for (long i = 0; i < mb; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			return 1;
		memset(p, (int)i, 1 << 20);
	}
	printf("allocated %ld MiB\n", mb);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static int forkbomb(void)
{
	long n = 0;
	for (;;) {
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			for (;;)
				pause();
		}
		n++;
	}
	printf("forked %ld, then: %s\n", n, strerror(errno));
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

/* Byte i of the stream is (i * 7 + i / 251) & 0xff: not periodic at any
 * buffer size, so a lost or doubled chunk shows. */
static int write_bytes(unsigned long long n)
{
	char b[65536];
	unsigned long long i = 0;
	while (i < n) {
		size_t k = 0;
		for (; k < sizeof b && i < n; k++, i++)
			b[k] = (char)((i * 7 + i / 251) & 0xff);
		if (write_all(1, b, k) < 0)
			return 1;
	}
	return 0;
}

static int fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 1;
	int self = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		char p[300], t[PATH_MAX];
		snprintf(p, sizeof p, "/proc/self/fd/%s", de->d_name);
		ssize_t n = readlink(p, t, sizeof t - 1);
		t[n < 0 ? 0 : n] = '\0';
		printf("%s %s\n", de->d_name, t);
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	const char *arg = argc > 2 ? argv[2] : NULL;

	if (strcmp(cmd, "exit") == 0 && arg)
		return atoi(arg);
	if (strcmp(cmd, "echo-stdin") == 0)
		return echo_stdin();
	if (strcmp(cmd, "sleep") == 0 && arg) {
		nap(atof(arg));
		return 0;
	}
	if (strcmp(cmd, "memhog") == 0 && arg)
		return memhog(atol(arg));
	if (strcmp(cmd, "forkbomb") == 0)
		return forkbomb();
	if (strcmp(cmd, "write-bytes") == 0 && arg)
		return write_bytes(strtoull(arg, NULL, 10));
	if (strcmp(cmd, "fds") == 0)
		return fds();
	if (strcmp(cmd, "try") == 0)
		return try_calls(argc - 2, argv + 2);
	if (strcmp(cmd, "open") == 0 && argc == 4)
		return open_path(argv[2], argv[3]);
	if (strcmp(cmd, "mknod") == 0 && argc == 6)
		return make_node(argv[2], argv[3], argv[4], argv[5]);
	if (strcmp(cmd, "oom-adj") == 0 && arg)
		return oom_adj(arg);
	if (strcmp(cmd, "ids") == 0) {
		printf("uid=%u euid=%u\n", (unsigned)getuid(),
		       (unsigned)geteuid());
		return 0;
	}
	if (strcmp(cmd, "thread") == 0)
		return thread();
	return usage();
}
