/* stream-driver: runs one streamin or streamout through runtime/stream.h
 * against a live container's init, the way the daemon's event loop will:
 * non-blocking descriptors, poll, rt_stream_poll_status.  For the tests
 * (tests/integration/55-*) and the benchmark (tests/bench/bench-stream.sh).
 *
 *   stream-driver in  [options] PATH   stdin is the archive
 *   stream-driver in  [options] -H     stdin is what a streamin file gets:
 *                                      "PATH\n[user NAME\n]" then the archive
 *   stream-driver out [options] PATH   the archive goes to stdout
 *
 *   -p PID       the container's init (host pid)            (required)
 *   -P           the container is privileged (no user namespace)
 *   -u USER      resolved in the container's /etc/passwd     (default root)
 *   -t MS        time limit                                  (default none)
 *   -x PATH      the gardenfs-stream binary    (default: next to this one)
 *   -v           say "ready" when the child says it
 *
 * Its last line on stderr is "done ENTRIES BYTES" (exit 0) or
 * "error ENAME reason" (exit 1); 2 for bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/rt_priv.h"
#include "runtime/stream.h"

#define BUF (1 << 20)

static bool verbose;

static int verdict(const struct rt_stream *s, const gfs_err *err)
{
	if (s->phase == RT_STREAM_DONE) {
		fprintf(stderr, "done %llu %llu\n",
			(unsigned long long)s->entries,
			(unsigned long long)s->bytes);
		return 0;
	}
	const char *name = strerrorname_np(err->code);
	fprintf(stderr, "error %s %s\n", name ? name : "E?", err->msg);
	return 1;
}

/* Applies what the status pipe holds; true once the stream is over. */
static bool status(struct rt_stream *s, gfs_err *err)
{
	int ph, r;
	while ((r = rt_stream_poll_status(s, &ph, err)) > 0)
		if (ph == RT_STREAM_READY && verbose)
			fprintf(stderr, "ready\n");
	return r < 0 || s->phase == RT_STREAM_DONE;
}

static int usage(void)
{
	fprintf(stderr, "usage: stream-driver in|out -p PID [-P] [-u USER] "
			"[-t MS] [-x HELPER] [-v] PATH|-H\n");
	return 2;
}

/* stdin's streamin header, as the FUSE file will parse it; the bytes
 * after it are left in buf. */
static int read_header(char **path, char **user, char *buf, size_t *len,
		       gfs_err *err)
{
	size_t have = 0, used;
	for (;;) {
		ssize_t n = read(0, buf + have, BUF - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return gfs_error_sys(err, errno, "reading stdin");
		have += (size_t)n;
		int r = rt_streamin_header(buf, have, n == 0, path, user, &used,
					   err);
		if (r == -EAGAIN && n > 0)
			continue;
		if (r < 0)
			return r == -EAGAIN
				   ? gfs_error(err, EINVAL, "no header")
				   : r;
		memmove(buf, buf + used, have - used);
		*len = have - used;
		return 0;
	}
}

static int run_in(struct rt_stream *s, char *buf, size_t blen)
{
	gfs_err err = {0};
	size_t boff = 0;
	bool eof = false;
	for (;;) {
		if (eof && boff == blen && s->data >= 0)
			rt_stream_end_input(s);
		struct pollfd pf[3] = {
		    {s->status, POLLIN, 0}, {-1, POLLOUT, 0}, {-1, POLLIN, 0}};
		if (s->data >= 0 && boff < blen)
			pf[1].fd = s->data;
		if (s->data >= 0 && boff == blen && !eof)
			pf[2].fd = 0;
		if (poll(pf, 3, -1) < 0 && errno != EINTR)
			return 1;
		if (pf[0].revents && status(s, &err))
			return verdict(s, &err);
		if (pf[2].revents) {
			ssize_t n = read(0, buf, BUF);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				eof = true;
			else
				blen = (size_t)n, boff = 0;
		}
		if (pf[1].revents) {
			ssize_t w = write(s->data, buf + boff, blen - boff);
			if (w > 0)
				boff += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				/* the child stopped reading: its verdict
				 * says why */
				rt_stream_end_input(s), eof = true, boff = blen;
		}
	}
}

static int run_out(struct rt_stream *s, char *buf)
{
	gfs_err err = {0};
	bool eof = false;
	for (;;) {
		/* no byte is read before the child said ready: a missing
		 * path must fail before any data, as the write of it does */
		struct pollfd pf[2] = {{s->status, POLLIN, 0}, {-1, POLLIN, 0}};
		if (s->phase >= RT_STREAM_READY && !eof)
			pf[1].fd = s->data;
		if (pf[0].fd < 0 && pf[1].fd < 0) {
			/* status ended with DONE; only data is left */
			if (eof)
				return verdict(s, &err);
		}
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (pf[0].revents && status(s, &err) &&
		    (s->phase == RT_STREAM_FAILED || eof))
			return verdict(s, &err);
		if (pf[1].revents) {
			ssize_t n = read(s->data, buf, BUF);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				eof = true;
				if (s->phase == RT_STREAM_DONE)
					return verdict(s, &err);
				continue;
			}
			for (ssize_t d = 0; d < n;) {
				ssize_t w = write(1, buf + d, (size_t)(n - d));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					int e = errno;
					rt_stream_abort(s);
					fprintf(stderr, "error %s stdout: %s\n",
						strerrorname_np(e),
						strerror(e));
					return 1;
				}
				d += w;
			}
		}
	}
}

static char *helper_next_to_me(void)
{
	char p[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", p, sizeof p - 1);
	if (n < 0)
		return NULL;
	p[n] = '\0';
	char *slash = strrchr(p, '/');
	*slash = '\0';
	return xasprintf("%s/gardenfs-stream", p);
}

int main(int argc, char **argv)
{
	pid_t pid = 0;
	bool privileged = false, header = false;
	const char *user = NULL;
	char *helper = NULL;
	unsigned long long limit = 0;
	int opt;

	if (argc < 2 || (strcmp(argv[1], "in") && strcmp(argv[1], "out")))
		return usage();
	bool in = strcmp(argv[1], "in") == 0;
	optind = 2;
	while ((opt = getopt(argc, argv, "p:Pu:t:x:vH")) != -1) {
		switch (opt) {
		case 'p':
			pid = atoi(optarg);
			break;
		case 'P':
			privileged = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 't':
			limit = strtoull(optarg, NULL, 10);
			break;
		case 'x':
			helper = xstrdup(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'H':
			header = in;
			break;
		default:
			return usage();
		}
	}
	if (pid <= 0 || (!header && optind != argc - 1) ||
	    (header && optind != argc))
		return usage();
	signal(SIGPIPE, SIG_IGN);

	gfs_err err = {0};
	if (!helper)
		helper = helper_next_to_me();
	if (rt_stream_setup(helper, &err) < 0) {
		fprintf(stderr, "error %s %s\n", strerrorname_np(err.code),
			err.msg);
		return 1;
	}
	/* just enough of a container for the runtime's user lookup */
	rt_cfg.id_count = 65536;
	struct rt_ctr c = {.handle = "driver",
			   .init_pid = pid,
			   .privileged = privileged,
			   .sock = -1};
	c.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c.pidfd < 0) {
		fprintf(stderr, "error %s pidfd_open %d: %s\n",
			strerrorname_np(errno), (int)pid, strerror(errno));
		return 1;
	}
	char *buf = xmalloc(BUF);
	size_t blen = 0;
	char *path = header ? NULL : xstrdup(argv[optind]);
	char *huser = NULL;
	if (header && read_header(&path, &huser, buf, &blen, &err) < 0) {
		fprintf(stderr, "error %s %s\n", strerrorname_np(err.code),
			err.msg);
		return 1;
	}
	if (huser)
		user = huser;

	struct rt_stream s;
	int rc = 1;
	int r = in ? rt_stream_in_open(&c, path, user, limit, &s, &err)
		   : rt_stream_out_open(&c, path, user, limit, &s, &err);
	if (r < 0) {
		fprintf(stderr, "error %s %s\n", strerrorname_np(err.code),
			err.msg);
		goto out;
	}
	rc = in ? run_in(&s, buf, blen) : run_out(&s, buf);
	/* the driver has no reaper: wait for the child here */
	if (s.pidfd >= 0) {
		struct pollfd pf = {s.pidfd, POLLIN, 0};
		poll(&pf, 1, 5000);
	}
	rt_stream_close(&s);
out:
	close(c.pidfd);
	free(buf);
	free(path);
	free(huser);
	free(helper);
	return rc;
}
