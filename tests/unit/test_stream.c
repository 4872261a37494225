/* cmocka tests for the pure parts of streaming (runtime/stream_proto.h):
 * the streamin header (path line, optional user line, "need more" at
 * every cut), the status records (round trips, refusals, sanitized
 * reasons) and the path rules (targets below home, "./" style, entry
 * names made relative and refused when they climb). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/stream_proto.h"

static int header(const char *buf, size_t len, bool eof, char **path,
		  char **user, size_t *used)
{
	gfs_err err = {0};
	int r = rt_streamin_header(buf, len, eof, path, user, used, &err);
	if (r == -EINVAL)
		assert_true(err.code == EINVAL && err.msg[0]);
	return r;
}

static void test_header_path_only(void **state)
{
	(void)state;
	char *p, *u;
	size_t used;
	/* a tar stream right after the path */
	static const char s[] = "/app\n./\0\0\0rest of a tar";
	assert_int_equal(header(s, sizeof s - 1, false, &p, &u, &used), 0);
	assert_string_equal(p, "/app");
	assert_null(u);
	assert_int_equal(used, 5);
	free(p);
	/* the writer closed after the path: an empty archive follows */
	assert_int_equal(header("/app", 4, true, &p, &u, &used), 0);
	assert_string_equal(p, "/app");
	assert_int_equal(used, 4);
	free(p);
	assert_int_equal(header("rel/dir\n", 8, true, &p, &u, &used), 0);
	assert_string_equal(p, "rel/dir");
	assert_int_equal(used, 8);
	free(p);
}

static void test_header_user(void **state)
{
	(void)state;
	char *p, *u;
	size_t used;
	static const char s[] = "/home/vcap/x\nuser vcap\nTARBYTES";
	assert_int_equal(header(s, sizeof s - 1, false, &p, &u, &used), 0);
	assert_string_equal(p, "/home/vcap/x");
	assert_string_equal(u, "vcap");
	assert_int_equal(used, strlen("/home/vcap/x\nuser vcap\n"));
	free(p);
	free(u);
	/* numeric and uid:gid users pass; the runtime resolves them */
	assert_int_equal(header("/d\nuser 1000:50\n", 16, false, &p, &u, &used),
			 0);
	assert_string_equal(u, "1000:50");
	free(p);
	free(u);
	/* a user line cut by the end of the stream */
	assert_int_equal(header("/d\nuser vcap", 12, true, &p, &u, &used), 0);
	assert_string_equal(u, "vcap");
	assert_int_equal(used, 12);
	free(p);
	free(u);
}

/* Every cut of a complete header before its end must say "need more",
 * never a wrong answer. */
static void test_header_need_more(void **state)
{
	(void)state;
	static const char s[] = "/dst\nuser vcap\n";
	char *p, *u;
	size_t used;
	for (size_t n = 0; n < sizeof s - 1; n++) {
		int r = header(s, n, false, &p, &u, &used);
		assert_int_equal(r, -EAGAIN);
		assert_null(p);
		assert_null(u);
	}
	/* "/dst\nus": could still be "user ", so wait; "/dst\nux" cannot */
	assert_int_equal(header("/dst\nus", 7, false, &p, &u, &used), -EAGAIN);
	assert_int_equal(header("/dst\nux", 7, false, &p, &u, &used), 0);
	assert_int_equal(used, 5);
	assert_null(u);
	free(p);
	/* after the path line, a tar header starts with its name */
	assert_int_equal(header("/dst\nfile", 9, false, &p, &u, &used), 0);
	assert_int_equal(used, 5);
	free(p);
}

static void test_header_refused(void **state)
{
	(void)state;
	char *p, *u;
	size_t used;
	assert_int_equal(header("\nrest", 5, false, &p, &u, &used), -EINVAL);
	assert_int_equal(header("", 0, true, &p, &u, &used), -EINVAL);
	assert_int_equal(header("/a\0b\n", 5, false, &p, &u, &used), -EINVAL);
	assert_int_equal(header("/d\nuser \n", 9, false, &p, &u, &used),
			 -EINVAL);
	assert_int_equal(header("/d\nuser a b\n", 12, false, &p, &u, &used),
			 -EINVAL);
	assert_int_equal(header("/d\nuser a\tb\n", 12, false, &p, &u, &used),
			 -EINVAL);
	/* a path line with no end in sight */
	size_t n = RT_STREAM_PATH_MAX + 10;
	char *big = malloc(n);
	memset(big, 'a', n);
	big[0] = '/';
	assert_int_equal(header(big, n, false, &p, &u, &used), -EINVAL);
	/* the longest path that fits */
	big[RT_STREAM_PATH_MAX - 1] = '\n';
	assert_int_equal(header(big, n, false, &p, &u, &used), 0);
	assert_int_equal(strlen(p), RT_STREAM_PATH_MAX - 1);
	free(p);
	/* a user name that never ends */
	memcpy(big, "/d\nuser ", 8);
	memset(big + 8, 'u', n - 8);
	assert_int_equal(header(big, n, false, &p, &u, &used), -EINVAL);
	free(big);
}

static int parse(const char *line, int *phase, uint64_t *e, uint64_t *b,
		 gfs_err *err)
{
	return rt_stream_record_parse(line, strlen(line), phase, e, b, err);
}

static void test_records_round_trip(void **state)
{
	(void)state;
	char rec[RT_STREAM_RECORD_MAX];
	int phase = -1;
	uint64_t e = 0, b = 0;
	gfs_err err = {0};
	size_t n = rt_stream_record_ready(rec);
	assert_int_equal(rec[n - 1], '\n');
	assert_int_equal(
	    rt_stream_record_parse(rec, n - 1, &phase, &e, &b, &err), 0);
	assert_int_equal(phase, RT_STREAM_READY);

	n = rt_stream_record_done(rec, 12, UINT64_MAX);
	assert_int_equal(
	    rt_stream_record_parse(rec, n - 1, &phase, &e, &b, &err), 0);
	assert_int_equal(phase, RT_STREAM_DONE);
	assert_int_equal(e, 12);
	assert_true(b == UINT64_MAX);

	n = rt_stream_record_error(rec, EDQUOT,
				   "entry big: writing: Disk "
				   "quota exceeded");
	assert_int_equal(
	    rt_stream_record_parse(rec, n - 1, &phase, &e, &b, &err), 0);
	assert_int_equal(phase, RT_STREAM_FAILED);
	assert_int_equal(err.code, EDQUOT);
	assert_string_equal(err.msg, "entry big: writing: Disk quota exceeded");
}

static void test_records_sanitized(void **state)
{
	(void)state;
	char rec[RT_STREAM_RECORD_MAX], msg[2000];
	int phase;
	uint64_t e, b;
	gfs_err err = {0};
	/* a reason quoting a hostile name: one line, cut to fit */
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	msg[5] = '\n';
	msg[9] = '\r';
	size_t n = rt_stream_record_error(rec, EINVAL, msg);
	assert_true(n <= RT_STREAM_RECORD_MAX);
	assert_ptr_equal(memchr(rec, '\n', n), rec + n - 1);
	assert_int_equal(
	    rt_stream_record_parse(rec, n - 1, &phase, &e, &b, &err), 0);
	assert_int_equal(err.code, EINVAL);
	assert_int_equal(err.msg[5], ' ');
	assert_int_equal(err.msg[9], ' ');
	/* a bad code becomes EIO, an empty reason says something */
	n = rt_stream_record_error(rec, 0, "");
	assert_int_equal(
	    rt_stream_record_parse(rec, n - 1, &phase, &e, &b, &err), 0);
	assert_int_equal(err.code, EIO);
	assert_string_equal(err.msg, "failed");
}

static void test_records_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "ready ",
	    "readyx",
	    "done",
	    "done 1",
	    "done 1 ",
	    "done a 1",
	    "done 1 2 3",
	    "done -1 2",
	    "done 99999999999999999999 1",
	    "error",
	    "error 0 x",
	    "error 4096 x",
	    "error x y",
	    "error 5x",
	    "hello",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int phase = -1;
		uint64_t e, b;
		gfs_err err = {0};
		assert_int_equal(parse(bad[i], &phase, &e, &b, &err), -EPROTO);
		assert_int_equal(err.code, EPROTO);
		assert_int_equal(phase, -1);
	}
	int phase;
	uint64_t e, b;
	gfs_err err = {0};
	assert_int_equal(parse("error 2", &phase, &e, &b, &err), 0);
	assert_int_equal(err.code, ENOENT);
}

static void check_target(const char *path, const char *home, int want,
			 const char *out)
{
	char *t = NULL;
	gfs_err err = {0};
	assert_int_equal(rt_stream_target(path, home, &t, &err), want);
	if (want == 0)
		assert_string_equal(t, out);
	else
		assert_null(t);
	free(t);
}

static void test_target(void **state)
{
	(void)state;
	check_target("/app", "/home/vcap", 0, "/app");
	check_target("/", "/home/vcap", 0, "/");
	check_target(".", "/home/vcap", 0, "/home/vcap");
	check_target("dst", "/home/vcap", 0, "/home/vcap/dst");
	check_target("dst/", "/", 0, "/dst/");
	check_target("../x", "/home/vcap", 0, "/home/vcap/../x");
	check_target("", "/root", -EINVAL, NULL);
	check_target("rel", "relative-home", -EINVAL, NULL);
	check_target("rel", NULL, -EINVAL, NULL);
	char big[RT_STREAM_PATH_MAX + 1];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	check_target(big, "/h", -EINVAL, NULL);
}

static void test_dot_style(void **state)
{
	(void)state;
	assert_true(rt_stream_dot_style("/"));
	assert_true(rt_stream_dot_style("/app/"));
	assert_true(rt_stream_dot_style("."));
	assert_true(rt_stream_dot_style("/app/."));
	assert_true(rt_stream_dot_style("/app/.."));
	assert_false(rt_stream_dot_style("/app"));
	assert_false(rt_stream_dot_style("app"));
	assert_false(rt_stream_dot_style("/app/.hidden"));
	assert_false(rt_stream_dot_style("/app/..."));
	assert_false(rt_stream_dot_style(""));
}

static void check_name(const char *in, int want, const char *out)
{
	char buf[64];
	assert_int_equal(rt_stream_name_clean(in, buf, sizeof buf), want);
	if (want == 0)
		assert_string_equal(buf, out);
}

static void test_names(void **state)
{
	(void)state;
	check_name("a/b", 0, "a/b");
	check_name("./a//b/", 0, "a/b");
	check_name("./", 0, "");
	check_name("/etc/passwd", 0, "etc/passwd"); /* as tar: made relative */
	check_name("///abs", 0, "abs");
	check_name("/", 0, "");
	check_name("..a/b..", 0, "..a/b..");
	check_name("../x", -EINVAL, NULL);
	check_name("a/../../x", -EINVAL, NULL);
	check_name("a/..", -EINVAL, NULL);
	check_name("/../etc/shadow", -EINVAL, NULL);
	check_name("..", -EINVAL, NULL);
	check_name(
	    "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0123456789abcdef",
	    -ENAMETOOLONG, NULL);
	assert_int_equal(rt_stream_name_clean(NULL, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_path_only),
	    cmocka_unit_test(test_header_user),
	    cmocka_unit_test(test_header_need_more),
	    cmocka_unit_test(test_header_refused),
	    cmocka_unit_test(test_records_round_trip),
	    cmocka_unit_test(test_records_sanitized),
	    cmocka_unit_test(test_records_refused),
	    cmocka_unit_test(test_target),
	    cmocka_unit_test(test_dot_style),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
