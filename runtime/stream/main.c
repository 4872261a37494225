/* gardenfs-stream: one streamin or streamout in a container.
 *
 *   gardenfs-stream in|out pid=N ppid=N privileged=0|1 root=0|1 uid=N gid=N
 *                   groups=N,... limit_ms=N home=PATH path=PATH
 *
 * Started by the daemon (runtime/stream.c) with the archive's pipe on 0,
 * the status pipe on 1, /dev/null on 2 and a pidfd of the container's init
 * on 3.  In order: limits and the timer; everything that glibc and
 * libarchive would otherwise load lazily (locale, character conversions,
 * time zone, the filter probe), loaded now from the host; then into the
 * container (enter.c), and only then the archive (in.c, out.c).  The
 * verdicts go to the status pipe as records (runtime/stream_proto.h). */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "lib/buf.h"
#include "runtime/stream/child.h"
#include "runtime/stream_proto.h"

/* Enough for a deep tree walk and libarchive; never raised again. */
#define SX_NOFILE 1024
/* Bounds what a hostile archive can make us allocate (pax headers). */
#define SX_AS (1ULL << 30)

static char timeout_rec[RT_STREAM_RECORD_MAX];
static size_t timeout_len;

static void status_write(const char *rec, size_t n)
{
	while (n > 0) {
		ssize_t w = write(SX_STATUS_FD, rec, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the daemon is gone: nobody to tell */
		rec += w;
		n -= (size_t)w;
	}
}

void sx_ready(void)
{
	char rec[RT_STREAM_RECORD_MAX];
	status_write(rec, rt_stream_record_ready(rec));
}

static void on_alarm(int sig)
{
	(void)sig;
	/* async-signal-safe: a preformatted record, then out */
	if (write(SX_STATUS_FD, timeout_rec, timeout_len) < 0) {
		/* nobody to tell */
	}
	_exit(124);
}

static int fail(gfs_err *err)
{
	char rec[RT_STREAM_RECORD_MAX];
	status_write(rec, rt_stream_record_error(rec, err->code, err->msg));
	return 1;
}

static bool num(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && !errno && *v <= max;
}

static int parse_groups(const char *s, struct sx_cfg *c)
{
	cleanup_free char *copy = xstrdup(s);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		unsigned long long v;
		if (!num(t, UINT32_MAX - 1, &v) || c->ngroups >= 65536)
			return -1;
		c->groups =
		    xrealloc(c->groups, (c->ngroups + 1) * sizeof(gid_t));
		c->groups[c->ngroups++] = (gid_t)v;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct sx_cfg *c, gfs_err *err)
{
	unsigned have = 0;
	memset(c, 0, sizeof *c);
	if (argc < 2 || (strcmp(argv[1], "in") && strcmp(argv[1], "out")))
		return gfs_error(err, EINVAL,
				 "usage: gardenfs-stream in|out "
				 "KEY=VALUE...");
	c->in = strcmp(argv[1], "in") == 0;
	for (int i = 2; i < argc; i++) {
		static const char *const keys[] = {
		    "pid", "ppid",   "privileged", "root", "uid",
		    "gid", "groups", "limit_ms",   "home", "path"};
		char *eq = strchr(argv[i], '=');
		size_t k = 0, nk = sizeof keys / sizeof keys[0];
		if (eq)
			for (; k < nk; k++)
				if (strlen(keys[k]) == (size_t)(eq - argv[i]) &&
				    !strncmp(argv[i], keys[k],
					     (size_t)(eq - argv[i])))
					break;
		if (!eq || k == nk || (have & (1u << k)))
			return gfs_error(err, EINVAL, "bad argument %.64s",
					 argv[i]);
		have |= 1u << k;
		const char *v = eq + 1;
		unsigned long long n = 0;
		bool ok = true;
		switch (k) {
		case 0:
		case 1:
			ok = num(v, 0x7fffffff, &n) && n > 0;
			if (k == 0)
				c->init_pid = (pid_t)n;
			else
				c->ppid = (pid_t)n;
			break;
		case 2:
		case 3:
			ok = num(v, 1, &n);
			if (k == 2)
				c->privileged = n;
			else
				c->as_root = n;
			break;
		case 4:
		case 5:
			ok = num(v, UINT32_MAX - 1, &n);
			if (k == 4)
				c->uid = (uid_t)n;
			else
				c->gid = (gid_t)n;
			break;
		case 6:
			ok = parse_groups(v, c) == 0;
			break;
		case 7:
			ok = num(v, UINT64_MAX, &n);
			c->limit_ms = n;
			break;
		case 8:
			ok = v[0] == '/';
			c->home = xstrdup(v);
			break;
		case 9:
			ok = *v != '\0';
			c->path = xstrdup(v);
			break;
		}
		if (!ok)
			return gfs_error(err, EINVAL, "bad argument %.64s",
					 argv[i]);
	}
	if (have != (1u << 10) - 1)
		return gfs_error(err, EINVAL, "missing arguments");
	if (c->as_root && c->uid != 0)
		return gfs_error(err, EINVAL, "root=1 with uid %u",
				 (unsigned)c->uid);
	return 0;
}

static void limits(const struct sx_cfg *c)
{
	struct rlimit zero = {0, 0}, nofile = {SX_NOFILE, SX_NOFILE},
		      as = {SX_AS, SX_AS};
	setrlimit(RLIMIT_CORE, &zero);
	setrlimit(RLIMIT_NOFILE, &nofile);
	setrlimit(RLIMIT_AS, &as);
	signal(SIGPIPE, SIG_IGN);
	if (!c->limit_ms)
		return;
	timeout_len = rt_stream_record_error(
	    timeout_rec, ETIMEDOUT,
	    c->in ? "streamin took longer than its time limit"
		  : "streamout took longer than its time limit");
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {
	    .it_value = {.tv_sec = (time_t)(c->limit_ms / 1000),
			 .tv_usec = (suseconds_t)(c->limit_ms % 1000) * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
	/* and CPU time, should the timer's signal never be taken */
	rlim_t cpu = (rlim_t)(c->limit_ms / 1000 + 2);
	struct rlimit rc = {cpu, cpu + 1};
	setrlimit(RLIMIT_CPU, &rc);
}

/* What would otherwise be loaded on first use, after we entered the
 * container, from the container's files: the locale (a UTF-8 one, so that
 * libarchive's conversions of pax names are UTF-8 to UTF-8 and never need
 * iconv), glibc's character conversion tables (gconv-modules) for the
 * locale's charset, and the time zone.  The seccomp filter later forbids
 * mapping anything executable, so even a missed case cannot run code. */
static __attribute__((unused)) void warm(void)
{
	static const char *const names[] = {"C.UTF-8", "C.utf8", "en_US.UTF-8"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (setlocale(LC_ALL, names[i]))
			break;
	mbstate_t ms;
	wchar_t w;
	char mb[16];
	memset(&ms, 0, sizeof ms);
	mbrtowc(&w, "\xc3\xa9", 2, &ms);
	memset(&ms, 0, sizeof ms);
	wcrtomb(mb, L'\xe9', &ms);
	tzset();
}

int main(int argc, char **argv)
{
	struct sx_cfg c;
	gfs_err err = {0};
	uint64_t entries = 0, bytes = 0;

	/* our descriptors must be what the daemon gave */
	if (fcntl(SX_DATA_FD, F_GETFD) < 0 || fcntl(SX_STATUS_FD, F_GETFD) < 0)
		return 2;
	if (parse_args(argc, argv, &c, &err) < 0)
		return fail(&err);
	limits(&c);
	prctl(PR_SET_NAME, "gardenfs-stream", 0, 0, 0);
#ifndef SX_TEST_NO_WARM
	warm();
#else
	/* build/gardenfs-stream-nowarm, for tests only: shows what the
	 * seccomp filter alone stops when the lazy loads happen inside */
	setlocale(LC_ALL, "C");
#endif
	sx_filters_probe();
	if (sx_enter(&c, &err) < 0)
		return fail(&err);
	int r = c.in ? sx_in(&c, &entries, &bytes, &err)
		     : sx_out(&c, &entries, &bytes, &err);
	if (r < 0)
		return fail(&err);
	/* the archive's last byte is through before the verdict */
	close(SX_DATA_FD);
	char rec[RT_STREAM_RECORD_MAX];
	status_write(rec, rt_stream_record_done(rec, entries, bytes));
	return 0;
}
