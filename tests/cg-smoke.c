/* A throwaway driver that runs runtime/cgroup.c against the real kernel:
 * create, attach, limits, metrics, an OOM kill, lowering below usage, and
 * destroy.  Run as root:
 *   gcc -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -I. -o /tmp/cg-smoke \
 *       tests/cg-smoke.c runtime/cgroup.c lib/err.c lib/buf.c lib/parse.c
 *   /tmp/cg-smoke                              # the host's mode
 *   /tmp/cg-smoke /sys/fs/cgroup/unified       # v2 code on a hybrid host
 * (on an empty v2 tree there are no controllers: only create, attach,
 * procs, kill and destroy are checked). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/err.h"
#include "runtime/cgroup.h"

#define GROUP "gardenfs-cgtest"

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: %s (%s)\n", __FILE__,     \
				__LINE__, #cond, err.msg);                     \
			failures++;                                            \
		} else {                                                       \
			printf("ok   %s\n", #cond);                            \
		}                                                              \
	} while (0)

/* A child that waits for a byte on fd, then allocates mb MiB (touching
 * every page), burns cpu_ms of CPU, and sleeps. */
static pid_t child(int *go, int mb, int cpu_ms)
{
	int p[2];
	if (pipe(p) < 0)
		exit(2);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(3);
		if (mb > 0) {
			size_t n = (size_t)mb << 20;
			char *m = mmap(NULL, n, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				_exit(4);
			for (size_t i = 0; i < n; i += 4096)
				m[i] = 1;
		}
		struct timespec t0, t;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
		volatile unsigned long x = 0;
		do {
			for (int i = 0; i < 100000; i++)
				x += (unsigned long)i;
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
		} while ((t.tv_sec - t0.tv_sec) * 1000 +
			     (t.tv_nsec - t0.tv_nsec) / 1000000 <
			 cpu_ms);
		pause();
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static void go(int fd)
{
	if (write(fd, "x", 1) != 1)
		exit(2);
	close(fd);
}

static bool leftovers(void)
{
	const char *ctl[] = {"memory",	"cpu",	   "cpuacct", "pids",
			     "blkio",	"devices", "freezer", "cpuset",
			     "unified", NULL};
	bool any = false;
	for (int i = 0; ctl[i]; i++) {
		char path[256];
		struct stat st;
		snprintf(path, sizeof path, "/sys/fs/cgroup/%s/" GROUP, ctl[i]);
		if (stat(path, &st) == 0) {
			fprintf(stderr, "left over: %s\n", path);
			any = true;
		}
	}
	return any;
}

int main(int argc, char **argv)
{
	gfs_err err = {0};
	int r = argc > 1 ? cg_probe_at(argv[1], &err) : cg_probe(&err);
	CHECK(r == 0);
	if (r < 0)
		return 1;
	bool v2 = cg_version() == CG_V2;
	printf("mode v%d\n", (int)cg_version());

	struct cg *cg = NULL, *cg2 = NULL;
	CHECK(cg_create(GROUP, "c1", &cg, &err) == 0);
	CHECK(cg_create(GROUP, "c1", &cg2, &err) == -EEXIST);
	printf("     %s\n", err.msg);
	CHECK(cg_create(GROUP, "..", &cg2, &err) == -EINVAL);
	CHECK(cg_open(GROUP, "c1", &cg2, &err) == 0);
	cg_free(cg2);
	CHECK(cg_open(GROUP, "nope", &cg2, &err) == -ENOENT);

	int fd;
	pid_t pid = child(&fd, 20, 300);
	CHECK(cg_attach(cg, pid, &err) == 0);
	pid_t *pids = NULL;
	size_t n = 0;
	CHECK(cg_procs(cg, &pids, &n, &err) == 0 && n == 1 && pids[0] == pid);
	free(pids);

	uint64_t v = 1;
	if (!v2) {
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 0);
		CHECK(cg_set_memory(cg, 128 << 20, &err) == 0);
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 134217728);
		system("cat /sys/fs/cgroup/memory/" GROUP
		       "/c1/memory.memsw.limit_in_bytes");
		CHECK(cg_set_memory(cg, 64 << 20, &err) == 0);
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 64 << 20);
		CHECK(cg_set_memory(cg, 256 << 20, &err) == 0);
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 256 << 20);
		system("cat /sys/fs/cgroup/memory/" GROUP
		       "/c1/memory.memsw.limit_in_bytes");
		CHECK(cg_set_memory(cg, 0, &err) == 0);
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 0);
		CHECK(cg_set_memory(cg, UINT64_MAX, &err) == 0);
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 0);
		CHECK(cg_set_memory(cg, 256 << 20, &err) == 0);
		CHECK(cg_set_cpu_shares(cg, 50, &err) == 0);
		CHECK(cg_get_cpu_shares(cg, &v, &err) == 0 && v == 50);
		CHECK(cg_set_pids_max(cg, 64, &err) == 0);
		CHECK(cg_get_pids_max(cg, &v, &err) == 0 && v == 64);
		CHECK(cg_set_pids_max(cg, 0, &err) == 0);
		CHECK(cg_get_pids_max(cg, &v, &err) == 0 && v == 0);
		CHECK(cg_set_pids_max(cg, 64, &err) == 0);

		go(fd);
		sleep(1);
		struct cg_metrics m;
		CHECK(cg_metrics(cg, &m, &err) == 0);
		for (int i = 0; i < CG_MEM_N; i++)
			printf("     memory.%s %llu\n", cg_mem_names[i],
			       (unsigned long long)m.mem[i]);
		printf("     cpu %llu user %llu system %llu pids %llu/%llu\n",
		       (unsigned long long)m.cpu_usage,
		       (unsigned long long)m.cpu_user,
		       (unsigned long long)m.cpu_system,
		       (unsigned long long)m.pids_current,
		       (unsigned long long)m.pids_max);
		CHECK(m.mem[CG_MEM_TOTAL_RSS] >= 20 << 20);
		CHECK(m.cpu_usage >= 250000000ULL);
		CHECK(m.pids_current == 1 && m.pids_max == 64);
		CHECK(m.mem[CG_MEM_HIERARCHICAL_MEMORY_LIMIT] == 256 << 20);

		/* below usage: the kernel refuses, the old limit stays */
		r = cg_set_memory(cg, 1 << 20, &err);
		printf("     lowering to 1M: %d %s\n", r, err.msg);
		CHECK(r == -EBUSY);
		CHECK(cg_get_memory(cg, &v, &err) == 0 && v == 256 << 20);
		system("cat /sys/fs/cgroup/memory/" GROUP
		       "/c1/memory.memsw.limit_in_bytes");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);

		/* OOM: 32M limit, a 100M hog */
		CHECK(cg_set_memory(cg, 32 << 20, &err) == 0);
		int ofd = cg_oom_fd(cg, &err);
		CHECK(ofd >= 0);
		bool oom = true;
		CHECK(cg_oom_check(cg, &oom, &err) == 0 && !oom);
		/* a process under the limit is left alone */
		pid = child(&fd, 20, 0);
		CHECK(cg_attach(cg, pid, &err) == 0);
		go(fd);
		struct pollfd pf = {.fd = ofd, .events = POLLIN | POLLPRI};
		CHECK(poll(&pf, 1, 1000) == 0);
		CHECK(kill(pid, 0) == 0);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);

		pid = child(&fd, 100, 0);
		CHECK(cg_attach(cg, pid, &err) == 0);
		go(fd);
		CHECK(poll(&pf, 1, 10000) == 1);
		struct timespec o0, o1;
		clock_gettime(CLOCK_MONOTONIC, &o0);
		CHECK(cg_oom_check(cg, &oom, &err) == 0 && oom);
		clock_gettime(CLOCK_MONOTONIC, &o1);
		printf("     cg_oom_check took %ld us\n",
		       (long)((o1.tv_sec - o0.tv_sec) * 1000000 +
			      (o1.tv_nsec - o0.tv_nsec) / 1000));
		int st = 0;
		waitpid(pid, &st, 0);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		/* later checks report no new kill */
		while (poll(&pf, 1, 200) == 1) {
			CHECK(cg_oom_check(cg, &oom, &err) == 0);
			if (oom)
				printf("     another kill\n");
		}
		CHECK(cg_oom_check(cg, &oom, &err) == 0 && !oom);
	} else {
		go(fd);
	}

	/* a process left running, and a fork in flight: destroy kills */
	pid = child(&fd, 0, 0);
	CHECK(cg_attach(cg, pid, &err) == 0);
	go(fd);
	CHECK(cg_kill(cg, SIGTERM, &err) == 0);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	if (!v2) {
		/* a fork bomb under pids.max 64: forks fail with EAGAIN, and
		 * destroy still gets every process */
		pid_t bomb = fork();
		if (bomb == 0) {
			struct timespec d = {0, 200000000};
			nanosleep(&d, NULL); /* until attached */
			int eagain = 0;
			pid_t top = getpid();
			for (;;) {
				pid_t p = fork();
				if (p < 0 && errno == EAGAIN && !eagain++ &&
				    getpid() == top)
					dprintf(1, "     fork bomb: EAGAIN\n");
				if (p < 0)
					sched_yield();
			}
		}
		struct cg *cb = NULL;
		CHECK(cg_create(GROUP, "bomb", &cb, &err) == 0);
		CHECK(cg_set_pids_max(cb, 64, &err) == 0);
		CHECK(cg_attach(cb, bomb, &err) == 0);
		sleep(1);
		struct cg_metrics m;
		CHECK(cg_metrics(cb, &m, &err) == 0 && m.pids_current == 64);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK(cg_destroy(cb, &err) == 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("     destroying the fork bomb took %ld us\n",
		       (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000));
		waitpid(bomb, NULL, 0);
		CHECK(access("/sys/fs/cgroup/pids/" GROUP "/bomb", F_OK) < 0);
	}

	/* left running and never reaped by us before destroy: a zombie
	 * must not hold destroy up */
	pid = child(&fd, 0, 0);
	CHECK(cg_attach(cg, pid, &err) == 0);
	go(fd);
	struct cg *c2 = NULL;
	CHECK(cg_create(GROUP, "c2", &c2, &err) == 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(cg_destroy(cg, &err) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("     destroy took %ld us\n",
	       (long)((t1.tv_sec - t0.tv_sec) * 1000000 +
		      (t1.tv_nsec - t0.tv_nsec) / 1000));
	/* the group stays while c2 is in it */
	CHECK(leftovers());
	CHECK(cg_destroy(c2, &err) == 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	CHECK(!leftovers());
	printf(failures ? "%d FAILURES\n" : "all ok\n", failures);
	return failures != 0;
}
