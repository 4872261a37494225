/* cmocka tests for the init's hardening helpers: gfs_path_components (the
 * walk's view of a dir), init_make_dir on a scratch tree (created
 * directories, owners, symlinks refused) and Docker's capability mask. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/init/harden.h"

static void comps(const char *path, int want, const char *const *names)
{
	char buf[256];
	const char *c[16];
	int n = gfs_path_components(path, buf, sizeof buf, c, 16);
	assert_int_equal(n, want);
	for (int i = 0; i < n; i++)
		assert_string_equal(c[i], names[i]);
}

static void test_components(void **state)
{
	(void)state;
	comps("/", 0, NULL);
	comps("///", 0, NULL);
	comps("/a", 1, (const char *[]){"a"});
	comps("/a//b/./c/", 3, (const char *[]){"a", "b", "c"});
	comps("/./.", 0, NULL);
	comps("/a/.b/..c/...", 4, (const char *[]){"a", ".b", "..c", "..."});
	comps("/a/b/..", -EINVAL, NULL);
	comps("/../etc", -EINVAL, NULL);
	comps("a/b", -EINVAL, NULL);
	comps("", -EINVAL, NULL);

	char buf[8];
	const char *c[2];
	assert_int_equal(
	    gfs_path_components("/abcdefgh", buf, sizeof buf, c, 2),
	    -ENAMETOOLONG);
	char big[64];
	assert_int_equal(gfs_path_components("/a/b/c", big, sizeof big, c, 2),
			 -ENAMETOOLONG);
}

static char root[PATH_MAX];

static int scratch(void **state)
{
	(void)state;
	char t[] = "/tmp/test_harden.XXXXXX";
	assert_non_null(mkdtemp(t));
	/* the walk starts at / with O_NOFOLLOW: use the real path */
	assert_non_null(realpath(t, root));
	return 0;
}

static int rm_scratch(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* root/rel; a few buffers in turn, so that two may be in one call */
static char *at(const char *rel)
{
	static char p[4][2 * PATH_MAX];
	static int k;
	char *b = p[k++ % 4];
	snprintf(b, sizeof p[0], "%s/%s", root, rel);
	return b;
}

static void test_make_dir(void **state)
{
	(void)state;
	gfs_err err = {0};
	struct stat st;
	uid_t me = getuid();
	gid_t mg = getgid();

	/* made, component by component, each owned as asked */
	assert_int_equal(init_make_dir(at("a/b/c"), me, mg, &err), 0);
	assert_int_equal(stat(at("a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, me);
	/* there already: fine, nothing changes */
	assert_int_equal(init_make_dir(at("a/b/c"), me, mg, &err), 0);
	assert_int_equal(init_make_dir(at("a"), me, mg, &err), 0);

	/* a symlink on the way: ELOOP, nothing made behind it */
	assert_int_equal(mkdir(at("target"), 0755), 0);
	assert_int_equal(symlink(at("target"), at("a/link")), 0);
	assert_int_equal(init_make_dir(at("a/link/x/y"), me, mg, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "link is a symlink"));
	assert_int_equal(stat(at("target/x"), &st), -1);
	/* a relative symlink too */
	assert_int_equal(symlink("../target", at("a/b/rel")), 0);
	assert_int_equal(init_make_dir(at("a/b/rel/z"), me, mg, &err), -ELOOP);
	assert_int_equal(stat(at("target/z"), &st), -1);
	/* an existing dir through the symlink: nothing to make, no error */
	assert_int_equal(init_make_dir(at("a/link"), me, mg, &err), 0);

	/* a file on the way: ENOTDIR */
	int fd = open(at("a/file"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(init_make_dir(at("a/file/x"), me, mg, &err), -ENOTDIR);
	/* ".." and relative paths */
	assert_int_equal(init_make_dir(at("a/../q"), me, mg, &err), -EINVAL);
	assert_int_equal(init_make_dir("rel/x", me, mg, &err), -EINVAL);
	assert_int_equal(stat(at("q"), &st), -1);
}

/* root can hand a directory to someone else */
static void test_make_dir_owner(void **state)
{
	(void)state;
	gfs_err err = {0};
	struct stat st;
	if (geteuid() != 0)
		skip();
	assert_int_equal(init_make_dir(at("own/d"), 1234, 4321, &err), 0);
	assert_int_equal(stat(at("own"), &st), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 4321);
	assert_int_equal(stat(at("own/d"), &st), 0);
	assert_int_equal(st.st_uid, 1234);
	/* an existing parent keeps its owner */
	assert_int_equal(stat(root, &st), 0);
	assert_int_equal(st.st_uid, 0);
}

static void test_caps_default(void **state)
{
	(void)state;
	assert_true(gfs_caps_default() == 0xa80425fbULL);
	assert_false(gfs_caps_default() & (1ULL << CAP_SYS_ADMIN));
	assert_false(gfs_caps_default() & (1ULL << CAP_SYS_PTRACE));
	assert_false(gfs_caps_default() & (1ULL << CAP_SYS_RESOURCE));
	assert_true(gfs_caps_default() & (1ULL << CAP_MKNOD));
	/* what we hold includes what the kernel has */
	assert_true(init_caps_bounding() != 0 || geteuid() != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_components),
	    cmocka_unit_test_setup_teardown(test_make_dir, scratch, rm_scratch),
	    cmocka_unit_test_setup_teardown(test_make_dir_owner, scratch,
					    rm_scratch),
	    cmocka_unit_test(test_caps_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
