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
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: ctr-helper exit N | echo-stdin | sleep S | "
			"memhog MB | forkbomb | write-bytes N | fds\n");
	return 2;
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
	return usage();
}
