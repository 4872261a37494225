/* A throwaway driver that runs quota/store.c against the real kernel: a
 * loop-backed store in a temporary depot, limits enforced at the limit and
 * not below, usage that follows the data, inode counts, snapshots, destroy
 * leaving no subvolume or qgroup, reuse of a mounted store, and the final
 * unmount freeing the loop device.  Run as root:
 *   gcc -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -I. \
 *       -o /tmp/quota-smoke tests/quota-smoke.c quota/store.c lib/err.c \
 *       lib/buf.c
 *   /tmp/quota-smoke [DEPOT]        (default: a new directory in /tmp) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "quota/quota.h"

#define MiB (1024ULL * 1024)

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__,          \
				__LINE__, #cond);                              \
			failures++;                                            \
		}                                                              \
	} while (0)

#define OK(call)                                                               \
	do {                                                                   \
		gfs_err e_ = {0};                                              \
		gfs_err *err = &e_;                                            \
		int r_ = (call);                                               \
		if (r_ < 0) {                                                  \
			fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__,      \
				__LINE__, #call, e_.msg);                      \
			failures++;                                            \
		}                                                              \
	} while (0)

/* Writes n bytes of random data to path; returns 0 or -errno of the first
 * failing write or fsync. */
static int write_file(const char *path, uint64_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	static char buf[1 << 20];
	int r = 0;
	int rnd = open("/dev/urandom", O_RDONLY);
	while (n > 0) {
		size_t k = n < sizeof buf ? n : sizeof buf;
		if (read(rnd, buf, k) != (ssize_t)k) {
			r = -EIO;
			break;
		}
		ssize_t w = write(fd, buf, k);
		if (w < 0) {
			r = -errno;
			break;
		}
		n -= (uint64_t)w;
	}
	close(rnd);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/quota-smoke.XXXXXX";
	const char *depot = argc > 1 ? argv[1] : mkdtemp(tmpl);
	struct quota_store *s = NULL;
	char *p1 = NULL, *p2 = NULL, *p3 = NULL;
	uint64_t b0, b1, i0, i1;
	char cmd[1024];
	struct stat st;

	if (!depot)
		return perror("mkdtemp"), 1;
	printf("depot %s\n", depot);

	/* a depot on btrfs is used as it is: no image, no mount */
	struct statfs dsf;
	mkdir(depot, 0700);
	bool on_btrfs = statfs(depot, &dsf) == 0 && dsf.f_type == 0x9123683e;
	double t = now();
	OK(quota_store_open(depot, 1024 * MiB, &s, err));
	if (!s)
		return 1;
	printf("open (mkfs, loop, mount, quota) %.0f ms\n", (now() - t) * 1e3);
	cleanup_free char *root = xstrdup(quota_store_path(s));
	cleanup_free char *img = xasprintf("%s/store.img", depot);
	if (!on_btrfs) {
		CHECK(stat(img, &st) == 0 && st.st_size == (off_t)(1024 * MiB));
		CHECK(st.st_blocks * 512 < st.st_size / 4); /* sparse */
	} else {
		CHECK(stat(img, &st) < 0);
	}
	snprintf(cmd, sizeof cmd, "findmnt -n -o FSTYPE,PROPAGATION %s", root);
	run(cmd);
	snprintf(cmd, sizeof cmd, "losetup -j %s", img);
	run(cmd);

	uint64_t size = 0;
	OK(quota_store_size(s, &size, err));
	CHECK(on_btrfs || size == 1024 * MiB);

	/* the limit: 8M fits under 16M, 20M does not */
	t = now();
	OK(quota_subvol_create(s, "c1", &p1, err));
	printf("subvolume create %.2f ms\n", (now() - t) * 1e3);
	OK(quota_set_limit(s, "c1", 16 * MiB, err));
	cleanup_free char *f1 = xasprintf("%s/eight", p1);
	CHECK(write_file(f1, 8 * MiB) == 0);
	cleanup_free char *f2 = xasprintf("%s/twenty", p1);
	int r = write_file(f2, 20 * MiB);
	printf("writing past 16M: %s\n", strerror(-r));
	CHECK(r == -EDQUOT || r == -ENOSPC);

	/* a limit changed at run time takes effect */
	OK(quota_set_limit(s, "c1", 64 * MiB, err));
	CHECK(write_file(f2, 20 * MiB) == 0);
	OK(quota_set_limit(s, "c1", 0, err));
	cleanup_free char *f3 = xasprintf("%s/big", p1);
	CHECK(write_file(f3, 80 * MiB) == 0);
	unlink(f3);

	/* another subvolume is independent, and usage follows its data */
	OK(quota_subvol_create(s, "c2", &p2, err));
	OK(quota_set_limit(s, "c2", 16 * MiB, err));
	sync();
	OK(quota_usage(s, "c2", &b0, &i0, err));
	cleanup_free char *f4 = xasprintf("%s/ten", p2);
	CHECK(write_file(f4, 10 * MiB) == 0);
	for (int i = 0; i < 100; i++) {
		cleanup_free char *f = xasprintf("%s/small%d", p2, i);
		close(open(f, O_WRONLY | O_CREAT, 0644));
	}
	sync();
	t = now();
	OK(quota_usage(s, "c2", &b1, &i1, err));
	printf("usage %llu -> %llu bytes, %llu -> %llu inodes (%.2f ms)\n",
	       (unsigned long long)b0, (unsigned long long)b1,
	       (unsigned long long)i0, (unsigned long long)i1,
	       (now() - t) * 1e3);
	CHECK(b1 - b0 >= 10 * MiB && b1 - b0 < 11 * MiB);
	CHECK(i1 - i0 == 101);

	/* a snapshot is a cheap copy and can be destroyed */
	OK(quota_snapshot(s, p2, "snap", &p3, err));
	cleanup_free char *f5 = xasprintf("%s/ten", p3);
	CHECK(stat(f5, &st) == 0 && st.st_size == (off_t)(10 * MiB));

	/* bad names and missing subvolumes */
	gfs_err e = {0};
	CHECK(quota_subvol_create(s, "../x", NULL, &e) == -EINVAL);
	CHECK(quota_subvol_create(s, "c1", NULL, &e) == -EEXIST);
	CHECK(quota_subvol_destroy(s, "nope", &e) == -ENOENT);
	CHECK(quota_usage(s, "nope", &b0, NULL, &e) == -ENOENT);

	/* destroy leaves neither subvolume nor qgroup; a nested subvolume
	 * does not stop it */
	cleanup_free char *nested = xasprintf("%s/nested", p1);
	snprintf(cmd, sizeof cmd, "btrfs -q subvolume create %s", nested);
	CHECK(run(cmd) == 0);
	t = now();
	OK(quota_subvol_destroy(s, "c1", err));
	printf("destroy (with a nested subvolume) %.0f ms\n",
	       (now() - t) * 1e3);
	t = now();
	OK(quota_subvol_destroy(s, "c2", err));
	printf("destroy %.0f ms\n", (now() - t) * 1e3);
	OK(quota_subvol_destroy(s, "snap", err));
	CHECK(access(p1, F_OK) < 0 && access(p2, F_OK) < 0);
	snprintf(cmd, sizeof cmd,
		 "btrfs subvolume list -o %s | grep -q . && exit 1; "
		 "btrfs qgroup show %s | grep -q '^0/2[5-9][0-9]' && exit 1; "
		 "exit 0",
		 root, root);
	CHECK(run(cmd) == 0);
	snprintf(cmd, sizeof cmd, "btrfs qgroup show %s", root);
	run(cmd);

	/* a mounted store is reused by the next open */
	OK(quota_store_close(s, false, err));
	s = NULL;
	OK(quota_store_open(depot, 1024 * MiB, &s, err));
	OK(quota_subvol_create(s, "again", NULL, err));
	OK(quota_subvol_destroy(s, "again", err));

	/* the last close unmounts and frees the loop device */
	OK(quota_store_close(s, true, err));
	struct statfs sf;
	CHECK(statfs(root, &sf) == 0 && (on_btrfs || sf.f_type != 0x9123683e));
	snprintf(cmd, sizeof cmd, "losetup -j %s | grep -q . && exit 1; exit 0",
		 img);
	CHECK(run(cmd) == 0);

	/* and a closed store comes back with its data */
	OK(quota_store_open(depot, 1024 * MiB, &s, err));
	OK(quota_store_close(s, true, err));

	free(p1);
	free(p2);
	free(p3);
	if (argc <= 1) {
		snprintf(cmd, sizeof cmd, "rm -rf %s", depot);
		run(cmd);
	}
	printf(failures ? "%d FAILURES\n" : "ok\n", failures);
	return failures ? 1 : 0;
}
