/* net-driver: drives the net/ library for tests/integration/50-net-lib.sh,
 * the way garden/ will: one command a line on stdin, one answer a line on
 * stdout ("ok ..." or "err ERRNO reason").  After every change it writes
 * the container's saved text to STATE/NAME.net, as the daemon persists it,
 * so that `crash` (exit with nothing cleaned) and a new driver's `restore`
 * play a daemon restart.  Commands:
 *
 *   setup POOL FIRST LAST DENY|- TAG STATE, check POOL FIRST LAST DENY|- TAG,
 *   spec NETWORK, create NAME PID [NETWORK], restore NAME PID, gc,
 *   in NAME HOST CTR, listin NAME, out NAME RULE[ ; RULE...], listout NAME,
 *   bw NAME RATE BURST, bwget NAME, stats NAME, info NAME, hosts NAME,
 *   resolv, destroy NAME, free NAME, teardown, nsok, crash, quit,
 *   parallel N [NETWORK|- [ROUNDS]] (N stand-in containers on N threads at
 *   once, each made, checked, changed and removed ROUNDS times)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/parse.h"
#include "net/net.h"

#define MAXC 1024

static struct {
	char *name;
	struct net_ctr *nc;
} ctrs[MAXC];
static char state_dir[4096];
static ino_t start_ns;

static ino_t ns_ino(void)
{
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return 0;
	return st.st_ino;
}

static int slot(const char *name)
{
	for (int i = 0; i < MAXC; i++)
		if (ctrs[i].name && strcmp(ctrs[i].name, name) == 0)
			return i;
	return -1;
}

static struct net_ctr *find(const char *name)
{
	int i = slot(name);
	return i < 0 ? NULL : ctrs[i].nc;
}

static void save(const char *name)
{
	struct net_ctr *nc = find(name);
	if (!nc)
		return;
	sbuf b = SBUF_INIT;
	net_ctr_save(nc, &b);
	char *path = xasprintf("%s/%s.net", state_dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(b.s, f);
		fclose(f);
	}
	free(path);
	sbuf_free(&b);
}

static char *load(const char *name)
{
	char *path = xasprintf("%s/%s.net", state_dir, name);
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return NULL;
	sbuf b = SBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sbuf_add(&b, buf, n);
	fclose(f);
	return sbuf_steal(&b);
}

static void fail(const gfs_err *e)
{
	printf("err %d %s\n", e->code, e->msg);
}

static void put(const char *name, struct net_ctr *nc)
{
	for (int i = 0; i < MAXC; i++)
		if (!ctrs[i].name) {
			ctrs[i].name = xstrdup(name);
			ctrs[i].nc = nc;
			return;
		}
	abort();
}

static void drop(const char *name)
{
	int i = slot(name);
	if (i < 0)
		return;
	free(ctrs[i].name);
	ctrs[i].name = NULL;
	ctrs[i].nc = NULL;
}

static void print_info(struct net_ctr *nc)
{
	struct net_info in;
	net_ctr_info(nc, &in);
	printf("ok %s %s %s\n", in.host_ip, in.container_ip,
	       in.external_ip[0] ? in.external_ip : "-");
}

/* ---- parallel: threads making containers at once */

struct job {
	pid_t pid;
	int id;
	const char *network; /* NULL: the next /30 */
	int rounds;
	char msg[600];
	bool ok;
};
static char tag[16];

/* Is the host end of nc's veth in the bridge of its subnet? */
static int check_master(struct net_ctr *nc, gfs_err *e)
{
	struct net_info in;
	struct in_addr a;
	net_ctr_info(nc, &in);
	inet_pton(AF_INET, in.host_ip, &a);
	uint32_t gw = ntohl(a.s_addr);
	inet_pton(AF_INET, in.container_ip, &a);
	uint32_t ip = ntohl(a.s_addr);
	char path[96], link[256], want[32];
	snprintf(path, sizeof path, "/sys/class/net/%sh%08x/master", tag, ip);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		return gfs_error_sys(e, errno, "%s", path);
	link[n] = '\0';
	const char *base = strrchr(link, '/');
	/* the bridge is named by the subnet's network, the gateway - 1 */
	snprintf(want, sizeof want, "%sb%08x", tag, gw - 1);
	if (strcmp(base ? base + 1 : link, want) != 0)
		return gfs_error(e, EIO, "%s is %s, not %s", path, link, want);
	return 0;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	gfs_err e = {0};
	char handle[32];
	ino_t before = ns_ino();
	int r = 0;
	snprintf(handle, sizeof handle, "par%d", j->id);
	for (int k = 0; k < j->rounds && r == 0; k++) {
		struct net_ctr *nc = NULL;
		r = net_ctr_create(handle, j->pid, j->network, &nc, &e);
		if (r == 0 && ns_ino() != before)
			r = gfs_error(&e, EIO,
				      "thread left in another namespace");
		if (r == 0)
			r = check_master(nc, &e);
		uint32_t h, c;
		if (r == 0)
			r = net_ctr_net_in(nc, 0, 0, &h, &c, &e);
		if (r == 0)
			r = net_ctr_bandwidth(nc, 1 << 20, 64 << 10, &e);
		if (r == 0)
			r = net_ctr_bandwidth(nc, 0, 0, &e);
		struct net_stats st;
		if (r == 0)
			r = net_ctr_stats(nc, &st, &e);
		if (r == 0) {
			r = net_ctr_destroy(nc, &e);
		} else if (nc) {
			net_ctr_destroy(nc, GFS_IGNORE);
		}
	}
	if (r == 0 && ns_ino() != before)
		r = gfs_error(&e, EIO, "thread left in another namespace");
	j->ok = r == 0;
	snprintf(j->msg, sizeof j->msg, "%s", e.msg);
	return NULL;
}

/* A stand-in container: unshare(1) running sleep in its own user and
 * network namespace (exec'd, so that nothing of this process -- threads
 * of a sanitizer's runtime included -- is in the way of CLONE_NEWUSER). */
static pid_t standin(void)
{
	struct stat self, st;
	if (stat("/proc/self/ns/net", &self) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execlp("unshare", "unshare", "-Urn", "sleep", "1000",
		       (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	for (int i = 0; i < 500; i++) {
		if (stat(path, &st) == 0 && st.st_ino != self.st_ino)
			return pid;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void parallel(int n, const char *network, int rounds)
{
	struct job *jobs = xcalloc((size_t)n, sizeof *jobs);
	pthread_t *t = xcalloc((size_t)n, sizeof *t);
	int bad = 0;
	for (int i = 0; i < n; i++) {
		jobs[i].id = i;
		jobs[i].network = network;
		jobs[i].rounds = rounds;
		jobs[i].pid = standin();
	}
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, &jobs[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < n; i++) {
		if (!jobs[i].ok && !bad++)
			printf("err %d job %d: %s\n", EIO, i, jobs[i].msg);
		if (jobs[i].pid > 0) {
			kill(jobs[i].pid, SIGKILL);
			waitpid(jobs[i].pid, NULL, 0);
		}
	}
	if (!bad)
		printf("ok %d\n", n);
	free(jobs);
	free(t);
}

/* ---- commands */

static void flatten(sbuf *b, char sep)
{
	while (b->len && b->s[b->len - 1] == '\n')
		b->s[--b->len] = '\0';
	for (size_t i = 0; i < b->len; i++)
		if (b->s[i] == '\n')
			b->s[i] = sep;
}

static int run(char *line)
{
	gfs_err e = {0};
	char *w[8] = {0};
	int n = 0;
	char *rest = NULL; /* out: the rules after the name, unsplit */
	for (char *p = line; *p && n < 8;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		if (n == 2 && strcmp(w[0], "out") == 0) {
			rest = *p ? p : NULL;
			break;
		}
	}
	if (n == 0)
		return 0;
	const char *cmd = w[0];
	struct net_ctr *nc = n > 1 ? find(w[1]) : NULL;
#define NEED(k)                                                                \
	do {                                                                   \
		if (n < (k)) {                                                 \
			printf("err %d usage\n", EINVAL);                      \
			return 0;                                              \
		}                                                              \
	} while (0)
#define CTR                                                                    \
	do {                                                                   \
		NEED(2);                                                       \
		if (!nc) {                                                     \
			printf("err %d no container %s\n", ENOENT, w[1]);      \
			return 0;                                              \
		}                                                              \
	} while (0)

	if (strcmp(cmd, "setup") == 0 || strcmp(cmd, "check") == 0) {
		NEED(strcmp(cmd, "setup") == 0 ? 7 : 6);
		struct net_config c = {
		    .pool = w[1],
		    .port_first = (uint16_t)atoi(w[2]),
		    .port_last = (uint16_t)atoi(w[3]),
		    .deny = strcmp(w[4], "-") ? w[4] : NULL,
		    .tag = w[5],
		    .state_dir = n > 6 ? w[6] : "/nonexistent",
		};
		if (n > 6)
			snprintf(state_dir, sizeof state_dir, "%s", w[6]);
		snprintf(tag, sizeof tag, "%s", w[5]);
		int r = cmd[0] == 's' ? net_setup(&c, &e)
				      : net_config_check(&c, &e);
		if (r < 0)
			fail(&e);
		else
			printf("ok %llu\n",
			       (unsigned long long)net_pool_capacity(&c));
	} else if (strcmp(cmd, "spec") == 0) {
		NEED(2);
		if (net_spec_check(w[1], &e) < 0)
			fail(&e);
		else
			printf("ok\n");
	} else if (strcmp(cmd, "create") == 0 || strcmp(cmd, "restore") == 0) {
		NEED(3);
		struct net_ctr *made;
		int r;
		if (nc) {
			printf("err %d %s exists\n", EEXIST, w[1]);
			return 0;
		}
		if (cmd[0] == 'c') {
			r = net_ctr_create(w[1], atoi(w[2]),
					   n > 3 ? w[3] : NULL, &made, &e);
		} else {
			char *saved = load(w[1]);
			r = saved ? net_ctr_restore(w[1], atoi(w[2]), saved,
						    &made, &e)
				  : gfs_error(&e, ENOENT, "nothing saved");
			free(saved);
		}
		if (r < 0) {
			fail(&e);
			return 0;
		}
		put(w[1], made);
		save(w[1]);
		print_info(made);
	} else if (strcmp(cmd, "gc") == 0) {
		if (net_gc(&e) < 0)
			fail(&e);
		else
			printf("ok\n");
	} else if (strcmp(cmd, "in") == 0) {
		CTR;
		NEED(4);
		uint32_t h, c;
		if (net_ctr_net_in(nc, (uint32_t)strtoul(w[2], NULL, 10),
				   (uint32_t)strtoul(w[3], NULL, 10), &h, &c,
				   &e) < 0) {
			fail(&e);
			return 0;
		}
		save(w[1]);
		printf("ok %u %u\n", h, c);
	} else if (strcmp(cmd, "listin") == 0 || strcmp(cmd, "listout") == 0) {
		CTR;
		sbuf b = SBUF_INIT;
		if (cmd[4] == 'i')
			net_ctr_list_in(nc, &b);
		else
			net_ctr_list_out(nc, &b);
		flatten(&b, '|');
		printf("ok %s\n", b.s ? b.s : "");
		sbuf_free(&b);
	} else if (strcmp(cmd, "out") == 0) {
		CTR;
		if (!rest) {
			printf("err %d usage\n", EINVAL);
			return 0;
		}
		struct net_rule *rules[16];
		size_t k = 0;
		int r = 0;
		for (char *s = rest; s && r == 0 && k < 16;) {
			char *semi = strstr(s, " ; ");
			if (semi)
				*semi = '\0';
			r = net_rule_parse(s, &rules[k], &e);
			if (r == 0)
				k++;
			s = semi ? semi + 3 : NULL;
		}
		if (r == 0)
			r = net_ctr_net_out(nc, rules, k, &e);
		if (r < 0) {
			for (size_t i = 0; i < k; i++)
				net_rule_free(rules[i]);
			fail(&e);
			return 0;
		}
		save(w[1]);
		printf("ok %zu\n", k);
	} else if (strcmp(cmd, "bw") == 0) {
		CTR;
		NEED(4);
		uint64_t rate, burst;
		if (gfs_parse_size(w[2], &rate, &e) < 0 ||
		    gfs_parse_size(w[3], &burst, &e) < 0 ||
		    net_ctr_bandwidth(nc, rate, burst, &e) < 0) {
			fail(&e);
			return 0;
		}
		save(w[1]);
		printf("ok\n");
	} else if (strcmp(cmd, "bwget") == 0) {
		CTR;
		uint64_t rate, burst;
		net_ctr_bandwidth_get(nc, &rate, &burst);
		printf("ok %llu %llu\n", (unsigned long long)rate,
		       (unsigned long long)burst);
	} else if (strcmp(cmd, "stats") == 0) {
		CTR;
		struct net_stats s;
		if (net_ctr_stats(nc, &s, &e) < 0) {
			fail(&e);
			return 0;
		}
		printf("ok %llu %llu %llu %llu %llu %llu\n",
		       (unsigned long long)s.rx_bytes,
		       (unsigned long long)s.tx_bytes,
		       (unsigned long long)s.rx_packets,
		       (unsigned long long)s.tx_packets,
		       (unsigned long long)s.rx_dropped,
		       (unsigned long long)s.tx_dropped);
	} else if (strcmp(cmd, "info") == 0) {
		CTR;
		print_info(nc);
	} else if (strcmp(cmd, "hosts") == 0 || strcmp(cmd, "resolv") == 0) {
		char *t;
		if (cmd[0] == 'h') {
			CTR;
			t = net_hosts_text(nc, w[1]);
		} else {
			t = net_resolv_text();
		}
		sbuf b = SBUF_INIT;
		sbuf_adds(&b, t);
		free(t);
		flatten(&b, '|');
		printf("ok %s\n", b.s);
		sbuf_free(&b);
	} else if (strcmp(cmd, "destroy") == 0) {
		CTR;
		if (net_ctr_destroy(nc, &e) < 0) {
			fail(&e);
			return 0;
		}
		char *path = xasprintf("%s/%s.net", state_dir, w[1]);
		unlink(path);
		free(path);
		drop(w[1]);
		printf("ok\n");
	} else if (strcmp(cmd, "free") == 0) {
		CTR;
		net_ctr_free(nc);
		drop(w[1]);
		printf("ok\n");
	} else if (strcmp(cmd, "teardown") == 0) {
		if (net_teardown(&e) < 0)
			fail(&e);
		else
			printf("ok\n");
	} else if (strcmp(cmd, "nsok") == 0) {
		if (ns_ino() == start_ns)
			printf("ok\n");
		else
			printf(
			    "err %d the driver's thread is in another namespace\n",
			    EIO);
	} else if (strcmp(cmd, "parallel") == 0) {
		NEED(2);
		parallel(atoi(w[1]), n > 2 && strcmp(w[2], "-") ? w[2] : NULL,
			 n > 3 ? atoi(w[3]) : 1);
	} else if (strcmp(cmd, "crash") == 0) {
		/* a daemon killed: nothing freed, nothing removed */
		printf("ok\n");
		fflush(stdout);
		_exit(0);
	} else if (strcmp(cmd, "quit") == 0) {
		for (int i = 0; i < MAXC; i++)
			if (ctrs[i].name) {
				net_ctr_free(ctrs[i].nc);
				drop(ctrs[i].name);
			}
		net_shutdown();
		printf("ok\n");
		return 1;
	} else {
		printf("err %d unknown command %s\n", EINVAL, cmd);
	}
	return 0;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_ns = ns_ino();
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (run(line))
			break;
		fflush(stdout);
	}
	free(line);
	return 0;
}
