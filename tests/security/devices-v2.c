/* devices-v2: drives runtime/cgroup.c's device rules against the real
 * kernel on a cgroup v2 tree (on a hybrid host: /sys/fs/cgroup/unified,
 * where the eBPF program works though no controller is enabled).
 *
 *   devices-v2 ROOT GROUP      e.g. /sys/fs/cgroup/unified gardenfs-devtest-42
 *
 * Makes GROUP/c (unprivileged rules) and GROUP/p (privileged rules),
 * attaches the program with cg_set_devices, moves a child into each and
 * has it open and mknod devices; prints "ok ..." or "FAIL ..." per check
 * and exits 1 when any failed, 77 when ROOT is not cgroup v2.  Removes
 * what it made.  Run as root (tests/security/mknod-disk.sh does). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/err.h"
#include "runtime/cgroup.h"

static int failures;

/* In the child: 0 when the open (or mknod) worked, else errno. */
static int try_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_mknod_open(const char *dir, const char *name, mode_t type,
			  unsigned maj, unsigned min, int *open_err)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	unlink(p);
	if (mknod(p, type | 0600, makedev(maj, min)) < 0)
		return errno;
	*open_err = try_open(p);
	unlink(p);
	return 0;
}

struct want {
	const char *what;
	int got, want;
};

static void check(const char *group, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool ok = w[i].got == w[i].want;
		printf("%s %s %s: got %s, want %s\n", ok ? "ok  " : "FAIL",
		       group, w[i].what,
		       w[i].got ? strerror(w[i].got) : "success",
		       w[i].want ? strerror(w[i].want) : "success");
		failures += !ok;
	}
}

/* Runs the checks in a child moved into cg; results come back over a
 * pipe as ints. */
static void run_in(struct cg *cg, const char *name, bool privileged,
		   const char *tmp)
{
	int go[2], res[2];
	if (pipe(go) < 0 || pipe(res) < 0) {
		perror("pipe");
		failures++;
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		close(res[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		int r[8], oe = -1;
		r[0] = try_open("/dev/null");
		r[1] = try_open("/dev/urandom");
		r[2] = try_open("/dev/kmsg");
		r[3] = try_mknod_open(tmp, "disk", S_IFBLK, 8, 0, &oe);
		r[4] = oe;
		oe = -1;
		r[5] = try_mknod_open(tmp, "fuse", S_IFCHR, 10, 229, &oe);
		r[6] = oe;
		r[7] = try_open("/dev/tty") == EPERM ? EPERM : 0;
		if (write(res[1], r, sizeof r) != sizeof r)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	gfs_err err = {0};
	if (pid < 0 || cg_attach(cg, pid, &err) < 0) {
		printf("FAIL %s: attach: %s\n", name, err.msg);
		failures++;
		if (pid > 0)
			kill(pid, SIGKILL);
	} else if (write(go[1], "g", 1) != 1) {
		failures++;
	}
	close(go[1]);
	int r[8];
	ssize_t n = read(res[0], r, sizeof r);
	close(res[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (n != sizeof r) {
		printf("FAIL %s: no results from the child\n", name);
		failures++;
		return;
	}
	struct want w[] = {
	    {"open /dev/null", r[0], 0},
	    {"open /dev/urandom", r[1], 0},
	    {"open /dev/kmsg (1:11)", r[2], EPERM},
	    {"mknod b 8:0", r[3], 0},
	    {"open b 8:0", r[4], EPERM},
	    {"mknod c 10:229", r[5], 0},
	    {"open c 10:229 (fuse)", r[6], privileged ? ENOENT : EPERM},
	    {"open /dev/tty is not refused by the program", r[7], 0},
	};
	/* fuse allowed: the open gets past the program to the driver, which
	 * may be missing (ENODEV/ENXIO) or present (success) */
	if (privileged && (r[6] == 0 || r[6] == ENODEV || r[6] == ENXIO))
		w[6].want = r[6];
	check(name, w, sizeof w / sizeof w[0]);
}

int main(int argc, char **argv)
{
	gfs_err err = {0};

	if (argc != 3) {
		fprintf(stderr, "usage: devices-v2 ROOT GROUP\n");
		return 2;
	}
	if (cg_probe_at(argv[1], &err) < 0 || cg_version() != CG_V2) {
		printf("skip: %s is not a cgroup v2 tree (%s)\n", argv[1],
		       err.msg);
		return 77;
	}
	char tmp[] = "/tmp/devices-v2.XXXXXX";
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (int priv = 0; priv < 2; priv++) {
		struct cg *cg = NULL;
		const char *name = priv ? "p" : "c";
		if (cg_create(argv[2], name, &cg, &err) < 0) {
			printf("FAIL create %s: %s\n", name, err.msg);
			failures++;
			continue;
		}
		if (cg_set_devices(cg, priv, NULL, &err) < 0) {
			printf("FAIL devices %s: %s\n", name, err.msg);
			failures++;
		} else {
			printf("ok   %s: program attached\n", name);
			run_in(cg, priv ? "privileged" : "unprivileged", priv,
			       tmp);
		}
		if (cg_destroy(cg, &err) < 0) {
			printf("FAIL destroy %s: %s\n", name, err.msg);
			failures++;
		}
	}
	rmdir(tmp);
	return failures ? 1 : 0;
}
