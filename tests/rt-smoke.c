/* rt-smoke: drives runtime/ directly (no FUSE) against a scratch depot and
 * the default image: privileged and unprivileged containers, processes,
 * users, exit statuses, binds, stdin, signals, a daemon restart (rt_restore
 * in a new process), stop, a dying init, destroy and failed creates leaving
 * nothing behind.  Not built by the Makefile; as root, from the top:
 *
 *   make build/gardenfs-init build/gardenfs-unpack build/image/.done
 *   gcc -g -std=gnu11 -D_GNU_SOURCE -I. -o build/rt-smoke tests/rt-smoke.c \
 *       $(find runtime lib -maxdepth 1 -name '*.c') $(pkg-config --cflags
 * --libs jansson libarchive) d=$(mktemp -d) && build/rt-smoke $d; rm -rf $d
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lib/buf.h"
#include "lib/spec.h"
#include "runtime/rt.h"

static int fails;
#define CHECK(c, ...)                                                          \
	do {                                                                   \
		if (!(c)) {                                                    \
			fails++;                                               \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		} else {                                                       \
			printf("ok   %s\n", #c);                               \
		}                                                              \
	} while (0)
static int nstopped, ngone;
static void on_exit_(struct rt_ctr *c, struct rt_proc *p, void *ud)
{
	(void)c;
	(void)ud;
	printf("     event: %u exited %d\n", p->id, p->status);
}
static void on_stop(struct rt_ctr *c, void *ud)
{
	(void)ud;
	nstopped++;
	printf("     event: %s stopped\n", c->handle);
}
static void on_gone(struct rt_ctr *c, void *ud)
{
	(void)ud;
	ngone++;
	printf("     event: %s gone\n", c->handle);
}
static struct rt_events ev = {on_exit_, on_stop, on_gone};
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}
static void pump(struct rt_ctr *c, int ms)
{
	for (int t = 0; t < ms / 10; t++) {
		struct pollfd pf[2] = {{c->sock, POLLIN, 0},
				       {c->pidfd, POLLIN, 0}};
		if (c->sock >= 0)
			poll(pf, 2, 10);
		else
			usleep(10000);
		rt_dispatch(c, &ev, NULL);
		reap();
	}
}
static int wait_proc(struct rt_ctr *c, struct rt_proc *p, int ms)
{
	for (int t = 0; t < ms / 10 && !p->exited; t++)
		pump(c, 10);
	return p->exited ? p->status : -1;
}
static char *slurp(struct rt_ctr *c, uint32_t id, const char *name)
{
	char *path = rt_proc_path(c, id, name);
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return xstrdup("");
	sbuf b = SBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sbuf_add(&b, buf, n);
	fclose(f);
	return sbuf_steal(&b);
}
static int start(struct rt_ctr *c, const char *cmd, struct rt_proc **p,
		 gfs_err *err)
{
	struct gfs_procspec s;
	if (gfs_procspec_parse(cmd, strlen(cmd), &s, err) < 0)
		return -1000;
	int r = rt_spawn(c, &s, p, err);
	gfs_procspec_free(&s);
	return r;
}
static int run(struct rt_ctr *c, const char *cmd, char **out, gfs_err *err)
{
	struct rt_proc *p;
	if (out)
		*out = xstrdup("");
	int r = start(c, cmd, &p, err);
	if (r < 0)
		return r;
	int st = wait_proc(c, p, 10000);
	if (out) {
		free(*out);
		*out = slurp(c, p->id, "stdout");
	}
	return st;
}
static void common(struct rt_ctr *c, bool priv)
{
	gfs_err err = {0};
	char *out = NULL;
	int st;
	st = run(c, "/bin/sh -c 'ps'", &out, &err);
	CHECK(st == 0 && strstr(out, "1 root") && strstr(out, "gardenfs-init"),
	      "ps: st=%d %s %s", st, out, err.msg);
	printf("%s", out);
	free(out);
	st = run(
	    c,
	    "/bin/sh -c 'cat /proc/self/oom_score_adj /proc/1/oom_score_adj'",
	    &out, &err);
	/* -999 needs CAP_SYS_RESOURCE, which some hosts (this one) lack */
	CHECK(st == 0 && strncmp(out, "0\n", 2) == 0, "oom %s", out);
	free(out);
	st = run(c, "id", &out, &err);
	CHECK(st == 0 && strncmp(out, "uid=0(root) gid=0(root)", 23) == 0,
	      "id: %d %s", st, out);
	free(out);
	st = run(c, "/bin/ls -ln /", &out, &err);
	CHECK(st == 0 && strstr(out, " 0        0 "), "ls -ln: %s", out);
	free(out);
	st = run(c, "/bin/sh -c 'exit 3'", NULL, &err);
	CHECK(st == 3, "exit 3 -> %d", st);
	st = run(c, "/bin/sh -c 'kill -9 $$'", NULL, &err);
	CHECK(st == 137, "kill -9 -> %d", st);
	st = run(c, "/nonexistent", NULL, &err);
	CHECK(st == -ENOENT, "missing exe -> %d %s", st, err.msg);
	st = run(c, "nonexistent-cmd", NULL, &err);
	CHECK(st == -ENOENT, "missing exe in PATH -> %d %s", st, err.msg);
	st = run(c, "hostname", &out, &err);
	CHECK(st == 0 && strncmp(out, c->handle, strlen(c->handle)) == 0,
	      "hostname %s", out);
	free(out);
	st = run(c, "/bin/cat /proc/net/dev", &out, &err);
	CHECK(st == 0 && strstr(out, "lo:"), "net/dev %s", out);
	free(out);
	st = run(c, "/bin/sh -c 'ifconfig lo'", &out, &err);
	CHECK(st == 0 && strstr(out, "UP"), "ip link %s", out);
	free(out);
	st = run(c, "/bin/sh -c 'ls /garden /work 2>&1; cat /proc/mounts'",
		 &out, &err);
	CHECK(st == 0 && strstr(out, "ls: /work: No such") &&
		  !strstr(out, "fuse"),
	      "host invisible %s", out);
	free(out);
	st = run(c, "/bin/sh -c 'echo $HOME $USER $PATH; pwd'", &out, &err);
	CHECK(st == 0 && strstr(out, "/root root /usr/local/sbin"), "env %s",
	      out);
	free(out);
	st = run(c, "JSON=1 /bin/sh -c 'echo $JSON $FOO'", &out, &err);
	CHECK(st == 0 && strcmp(out, "1 bar\n") == 0, "env2 %s", out);
	free(out);
	const char *js =
	    "{\"path\":\"/bin/sh\",\"args\":[\"-c\",\"id; pwd\"],\"user\":\"vcap\",\"dir\":\"/home/vcap/new/dir\"}";
	st = run(c, js, &out, &err);
	CHECK(
	    st == 0 &&
		strstr(
		    out,
		    "uid=1000(vcap) gid=1000(vcap) groups=50(staff),1000(vcap)") &&
		strstr(out, "/home/vcap/new/dir"),
	    "vcap %d %s %s", st, out, err.msg);
	free(out);
	st = run(c, "{\"path\":\"id\",\"user\":\"nosuch\"}", NULL, &err);
	CHECK(st == -ENOENT, "unknown user %d %s", st, err.msg);
	st = run(
	    c,
	    "{\"path\":\"/bin/sh\",\"args\":[\"-c\",\"ulimit -n\"],\"rlimits\":{\"nofile\":123}}",
	    &out, &err);
	CHECK(st == 0 && strcmp(out, "123\n") == 0, "rlimit %d %s %s", st, out,
	      err.msg);
	free(out);
	st = run(c, "/bin/sh -c 'grep CapBnd /proc/self/status'", &out, &err);
	CHECK(st == 0 && (priv || strstr(out, "00000000a80425fb")), "caps %s",
	      out);
	free(out);
	st = run(c, "/bin/sh -c 'ls -l /dev; touch /x && echo written'", &out,
		 &err);
	CHECK(st == 0 && strstr(out, "written") &&
		  strstr(out, "ptmx -> pts/ptmx"),
	      "dev %s", out);
	free(out);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	gfs_err err = {0};
	char *out;
	int st, r;
	struct rt_proc *p;
	(void)argc;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	char *depot = argv[1];
	char *init = realpath("build/gardenfs-init", NULL),
	     *image = realpath("build/image", NULL);
	if (!init || !image) {
		fprintf(stderr, "run from the top after make\n");
		return 2;
	}
	struct rt_config cfg = {depot,	    init, image, "gardenfs-rtsmoke",
				2000000000, 65536};
	CHECK(rt_setup(&cfg, &err) == 0, "setup %s", err.msg);
	char *env[] = {"FOO=bar", NULL};
	for (int priv = 1; priv >= 0; priv--) {
		struct rt_ctr *c0;
		struct rt_create cs0 = {priv ? "priv1" : "unpriv1", NULL, priv,
					env, NULL};
		r = rt_create(&cs0, &c0, &err);
		CHECK(r == 0, "create priv=%d: %s", priv, err.msg);
		if (r)
			continue;
		common(c0, priv);
		r = rt_destroy(c0, &err);
		CHECK(r == 0, "destroy %s", err.msg);
		reap();
	}
	char hostdir[256];
	snprintf(hostdir, sizeof hostdir, "%s/hostdir", depot);
	mkdir(hostdir, 0755);
	chmod(hostdir, 0777);
	char fpath[300];
	snprintf(fpath, sizeof fpath, "%s/file", hostdir);
	FILE *f = fopen(fpath, "w");
	fprintf(f, "from host\n");
	fclose(f);
	char b1[400], b2[400];
	snprintf(b1, sizeof b1, "%s:/mnt/host:ro", hostdir);
	snprintf(b2, sizeof b2, "%s:/data", hostdir);
	char *binds[] = {b1, b2, NULL};
	struct rt_ctr *c;
	double t0 = now();
	struct rt_create cs = {"r1", NULL, false, NULL, binds};
	r = rt_create(&cs, &c, &err);
	printf("     create took %.1f ms\n", (now() - t0) * 1000);
	CHECK(r == 0, "create %s", err.msg);
	if (r)
		return 1;
	t0 = now();
	st = run(c, "/bin/true", NULL, &err);
	printf("     run true took %.1f ms\n", (now() - t0) * 1000);
	st = run(
	    c,
	    "/bin/sh -c 'cat /mnt/host/file; echo x > /mnt/host/y || echo rofail; echo w > /data/z && cat /data/z'",
	    &out, &err);
	CHECK(st == 0 && strcmp(out, "from host\nrofail\nw\n") == 0,
	      "binds %d %s %s", st, out, err.msg);
	free(out);
	/* stdin */
	r = start(c, "cat", &p, &err);
	CHECK(r == 0, "start cat %s", err.msg);
	int fd = rt_stdin_open(c, p, &err);
	CHECK(fd >= 0, "stdin open %s", err.msg);
	CHECK(write(fd, "hello\n", 6) == 6, "write");
	close(fd);
	pump(c, 200);
	CHECK(!p->exited, "cat still runs after writer close");
	CHECK(rt_stdin_eof(c, p, &err) == 0, "eof %s", err.msg);
	st = wait_proc(c, p, 5000);
	out = slurp(c, p->id, "stdout");
	CHECK(st == 0 && strcmp(out, "hello\n") == 0, "cat %d %s", st, out);
	free(out);
	fd = rt_stdin_open(c, p, &err);
	CHECK(fd == -EPIPE, "stdin after exit %d %s", fd, err.msg);
	/* big env */
	{
		/* one string may not exceed 128 KiB (MAX_ARG_STRLEN) */
		size_t n = 100000;
		char *big = malloc(n + 100);
		memset(big, 'a', n);
		big[n] = 0;
		sbuf cmd = SBUF_INIT;
		sbuf_printf(&cmd,
			    "X=%s Y=%s /bin/sh -c 'echo $((${#X}+${#Y}))'", big,
			    big);
		st = run(c, cmd.s, &out, &err);
		CHECK(st == 0 && strcmp(out, "200000\n") == 0,
		      "big env %d %s %s", st, out, err.msg);
		free(out);
		sbuf_free(&cmd);
		free(big);
	}
	/* signal */
	r = start(c, "sleep 100", &p, &err);
	CHECK(rt_signal(c, p, SIGTERM, &err) == 0, "signal");
	st = wait_proc(c, p, 5000);
	CHECK(st == 143, "term -> %d", st);
	CHECK(rt_signal(c, p, SIGTERM, &err) == -ESRCH, "signal exited");
	/* restore: the daemon "dies" */
	uint32_t next = c->next_id;
	rt_ctr_free(c);
	pid_t child = fork();
	if (child == 0) {
		struct rt_ctr *c2;
		struct rt_proc *p1, *p2;
		if (rt_restore("r1", &c2, &err) < 0) {
			printf("FAIL child restore %s\n", err.msg);
			_exit(1);
		}
		if (start(c2, "/bin/sh -c 'sleep 1; exit 7'", &p1, &err) < 0) {
			printf("FAIL child spawn %s\n", err.msg);
			_exit(1);
		}
		if (start(c2, "/bin/sh -c 'echo early; sleep 0.5; echo late'",
			  &p2, &err) < 0) {
			printf("FAIL child spawn %s\n", err.msg);
			_exit(1);
		}
		printf("     child spawned %u %u\n", p1->id, p2->id);
		_exit(0);
	}
	waitpid(child, &st, 0);
	CHECK(st == 0, "child");
	sleep(2);
	r = rt_restore("r1", &c, &err);
	CHECK(r == 0, "restore %s", err.msg);
	CHECK(rt_pending(c), "pending after restore");
	rt_dispatch(c, &ev, NULL);
	struct rt_proc *q1 = rt_proc_find(c, next),
		       *q2 = rt_proc_find(c, next + 1);
	CHECK(q1 && q1->exited && q1->status == 7,
	      "exit 7 learnt after restore");
	CHECK(q2 && q2->exited && q2->status == 0, "exit 0 learnt");
	out = slurp(c, next + 1, "stdout");
	CHECK(strcmp(out, "early\nlate\n") == 0, "output kept: %s", out);
	free(out);
	/* restore with a process still running */
	r = start(c, "sleep 100", &p, &err);
	uint32_t sid = p->id;
	pid_t spid = p->pid;
	CHECK(kill(spid, 0) == 0, "host pid %d is real", spid);
	rt_ctr_free(c);
	r = rt_restore("r1", &c, &err);
	CHECK(r == 0, "restore 2 %s", err.msg);
	p = rt_proc_find(c, sid);
	CHECK(p && !p->exited && p->pid == spid, "still running after restore");
	CHECK(c->next_id == sid + 1, "next id %u", c->next_id);
	/* stop */
	r = start(c, "/bin/sh -c 'trap \"\" TERM; sleep 100'", &p, &err);
	CHECK(rt_stop(c, true, &err) == 0, "stop");
	pump(c, 1000);
	CHECK(c->stopped && nstopped == 1, "stopped %d", nstopped);
	CHECK(rt_proc_find(c, sid)->exited, "sleep died");
	st = run(c, "true", NULL, &err);
	CHECK(st == -EPERM, "spawn after stop %d %s", st, err.msg);
	rt_ctr_free(c);
	r = rt_restore("r1", &c, &err);
	CHECK(r == 0 && c->stopped, "stopped persists");
	/* destroy */
	pid_t ipid = c->init_pid;
	r = rt_destroy(c, &err);
	CHECK(r == 0, "destroy %s", err.msg);
	reap();
	CHECK(kill(ipid, 0) < 0, "init gone");
	char cdir[300];
	snprintf(cdir, sizeof cdir, "%s/containers/r1", depot);
	CHECK(access(cdir, F_OK) < 0, "depot dir gone");
	CHECK(access("/sys/fs/cgroup/memory/gardenfs-rtsmoke/r1", F_OK) < 0,
	      "cgroup gone");
	/* gone */
	struct rt_create cs2 = {"g1", NULL, false, NULL, NULL};
	r = rt_create(&cs2, &c, &err);
	CHECK(r == 0, "create g1 %s", err.msg);
	r = start(c, "sleep 100", &p, &err);
	kill(c->init_pid, SIGKILL);
	pump(c, 500);
	CHECK(ngone == 1 && c->stopped && p->exited && p->status == 255,
	      "gone %d", ngone);
	r = rt_destroy(c, &err);
	CHECK(r == 0, "destroy g1 %s", err.msg);
	/* the init dies while no daemon runs */
	struct rt_create cs4 = {"g2", NULL, false, NULL, NULL};
	r = rt_create(&cs4, &c, &err);
	CHECK(r == 0, "create g2 %s", err.msg);
	r = start(c, "sleep 100", &p, &err);
	uint32_t gid2 = p->id;
	pid_t ip2 = c->init_pid;
	rt_ctr_free(c);
	kill(ip2, SIGKILL);
	waitpid(ip2, NULL, 0);
	r = rt_restore("g2", &c, &err);
	CHECK(r == 0 && c->stopped && c->sock < 0 && c->pidfd < 0,
	      "restore of a dead init %s", err.msg);
	p = rt_proc_find(c, gid2);
	CHECK(p && p->exited && p->status == 255, "lost process is 255");
	out = slurp(c, gid2, "exit");
	CHECK(strcmp(out, "255\n") == 0, "255 persisted: %s", out);
	free(out);
	r = rt_destroy(c, &err);
	CHECK(r == 0, "destroy g2 %s", err.msg);
	/* failing create leaves nothing */
	char *badb[] = {"/nonexistent/src:/x", NULL};
	struct rt_create cs3 = {"bad1", NULL, false, NULL, badb};
	r = rt_create(&cs3, &c, &err);
	CHECK(r < 0, "bad bind fails: %s", err.msg);
	printf("     reason: %s\n", err.msg);
	snprintf(cdir, sizeof cdir, "%s/containers/bad1", depot);
	CHECK(access(cdir, F_OK) < 0, "bad depot dir gone");
	CHECK(access("/sys/fs/cgroup/memory/gardenfs-rtsmoke/bad1", F_OK) < 0,
	      "bad cgroup gone");
	reap();
	printf("%d failures\n", fails);
	return fails != 0;
}
