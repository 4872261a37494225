/* cmocka tests for lib/spec.c: process specs as JSON and as command lines,
 * create specs, rlimit names and resources. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/spec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_reason(const gfs_err *err)
{
	assert_int_equal(err->code, EINVAL);
	assert_true(strlen(err->msg) > 0);
	assert_null(strchr(err->msg, '\n'));
}

static int parse(const char *s, struct gfs_procspec *ps, gfs_err *err)
{
	return gfs_procspec_parse(s, strlen(s), ps, err);
}

/* NULL-terminated list of expected strings against a vector. */
static void assert_strv(char **got, const char *const *want)
{
	assert_non_null(got);
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(gfs_strv_len(got), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(got[i], want[i]);
}

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void test_rlim(void **state)
{
	(void)state;
	static const char *const names[] = {
	    "as",    "core",	"cpu",	    "data",	  "fsize",
	    "locks", "memlock", "msgqueue", "nice",	  "nofile",
	    "nproc", "rss",	"rtprio",   "sigpending", "stack",
	};
	static const int res[] = {
	    RLIMIT_AS,	   RLIMIT_CORE,	      RLIMIT_CPU,     RLIMIT_DATA,
	    RLIMIT_FSIZE,  RLIMIT_LOCKS,      RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE,
	    RLIMIT_NICE,   RLIMIT_NOFILE,     RLIMIT_NPROC,   RLIMIT_RSS,
	    RLIMIT_RTPRIO, RLIMIT_SIGPENDING, RLIMIT_STACK,
	};
	assert_int_equal(N(names), GFS_RLIM_N);
	for (int i = 0; i < GFS_RLIM_N; i++) {
		assert_string_equal(gfs_rlim_names[i], names[i]);
		assert_int_equal(gfs_rlim_resource(i), res[i]);
	}
	assert_int_equal(gfs_rlim_resource(GFS_RLIM_N), -EINVAL);
	assert_int_equal(gfs_rlim_resource((enum gfs_rlim) - 1), -EINVAL);
}

static void test_line_simple(void **state)
{
	(void)state;
	struct gfs_procspec ps;
	gfs_err err = {0};

	assert_int_equal(parse("/bin/sh -c 'echo hi; exit 3'\n", &ps, &err), 0);
	assert_string_equal(ps.path, "/bin/sh");
	assert_strv(ps.args, (const char *[]){"-c", "echo hi; exit 3", NULL});
	assert_strv(ps.env, (const char *[]){NULL});
	assert_null(ps.dir);
	assert_null(ps.user);
	assert_false(ps.tty);
	for (int i = 0; i < GFS_RLIM_N; i++)
		assert_false(ps.rlim_set[i]);
	gfs_procspec_free(&ps);
	assert_true(is_zero(&ps, sizeof ps));

	assert_int_equal(parse("ls", &ps, &err), 0);
	assert_string_equal(ps.path, "ls");
	assert_strv(ps.args, (const char *[]){NULL});
	assert_strv(ps.env, (const char *[]){NULL});
	gfs_procspec_free(&ps);
}

static void test_line_env(void **state)
{
	(void)state;
	struct gfs_procspec ps;
	gfs_err err = {0};

	assert_int_equal(
	    parse("HOME=/tmp A='x y' _B= c9=1=2 /bin/env X=1 -0", &ps, &err),
	    0);
	assert_strv(ps.env, (const char *[]){"HOME=/tmp", "A=x y",
					     "_B=", "c9=1=2", NULL});
	assert_string_equal(ps.path, "/bin/env");
	/* after the path, NAME=VALUE words are arguments */
	assert_strv(ps.args, (const char *[]){"X=1", "-0", NULL});
	gfs_procspec_free(&ps);

	/* not a valid name: the first word that is not env is the path */
	assert_int_equal(parse("A=1 9X=1 b", &ps, &err), 0);
	assert_strv(ps.env, (const char *[]){"A=1", NULL});
	assert_string_equal(ps.path, "9X=1");
	assert_strv(ps.args, (const char *[]){"b", NULL});
	gfs_procspec_free(&ps);

	assert_int_equal(parse("=x cmd", &ps, &err), 0);
	assert_string_equal(ps.path, "=x");
	gfs_procspec_free(&ps);
}

static void test_line_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "",	       "\n",  "   ",	  "A=1",
	    "A=1 B=2", "''",  "A=1 '' x", "'unterminated",
	    "a \"b",   "a\\", "a\nb",	  "echo hi\n\n",
	};
	for (size_t i = 0; i < N(t); i++) {
		struct gfs_procspec ps;
		gfs_err err = {0};
		if (parse(t[i], &ps, &err) != -EINVAL)
			fail_msg("`%s` should fail", t[i]);
		assert_reason(&err);
		assert_true(is_zero(&ps, sizeof ps));
		gfs_procspec_free(&ps); /* harmless on a failed parse */
	}
	struct gfs_procspec ps;
	gfs_err err = {0};
	assert_int_equal(gfs_procspec_parse("ls\0-l", 5, &ps, &err), -EINVAL);
	assert_reason(&err);
	assert_int_equal(parse("A=1", &ps, &err), -EINVAL);
	assert_string_equal(err.msg, "no command");
	assert_int_equal(gfs_procspec_parse(NULL, 0, &ps, &err), -EINVAL);
	assert_string_equal(err.msg, "no command");
}

static void test_json_full(void **state)
{
	(void)state;
	struct gfs_procspec ps;
	gfs_err err = {0};
	const char *j =
	    "  \n{\"path\": \"/bin/sh\", \"args\": [\"-c\", \"echo hi\"],"
	    " \"env\": [\"A=1\", \"B=\"], \"dir\": \"/tmp\","
	    " \"user\": \"1000:1000\","
	    " \"rlimits\": {\"nofile\": 1024, \"core\": 0,"
	    "  \"as\": 9223372036854775807, \"stack\": null},"
	    " \"tty\": {\"window_size\": {\"columns\": 80, \"rows\": 24}}}\n";

	assert_int_equal(parse(j, &ps, &err), 0);
	assert_string_equal(ps.path, "/bin/sh");
	assert_strv(ps.args, (const char *[]){"-c", "echo hi", NULL});
	assert_strv(ps.env, (const char *[]){"A=1", "B=", NULL});
	assert_string_equal(ps.dir, "/tmp");
	assert_string_equal(ps.user, "1000:1000");
	for (int i = 0; i < GFS_RLIM_N; i++) {
		bool want = i == GFS_RLIM_NOFILE || i == GFS_RLIM_CORE ||
			    i == GFS_RLIM_AS;
		assert_int_equal(ps.rlim_set[i], want);
	}
	assert_true(ps.rlim[GFS_RLIM_NOFILE] == 1024);
	assert_true(ps.rlim[GFS_RLIM_CORE] == 0);
	assert_true(ps.rlim[GFS_RLIM_AS] == INT64_MAX);
	assert_true(ps.tty);
	assert_int_equal(ps.tty_columns, 80);
	assert_int_equal(ps.tty_rows, 24);
	gfs_procspec_free(&ps);
}

static void test_json_minimal(void **state)
{
	(void)state;
	struct gfs_procspec ps;
	gfs_err err = {0};

	assert_int_equal(parse("{\"path\":\"ls\"}", &ps, &err), 0);
	assert_string_equal(ps.path, "ls");
	assert_strv(ps.args, (const char *[]){NULL});
	assert_strv(ps.env, (const char *[]){NULL});
	assert_null(ps.dir);
	assert_null(ps.user);
	assert_false(ps.tty);
	gfs_procspec_free(&ps);

	/* null and "" mean absent, as Go's omitempty writes them */
	assert_int_equal(parse("{\"path\":\"ls\",\"args\":null,\"env\":null,"
			       "\"dir\":\"\",\"user\":null,\"rlimits\":null,"
			       "\"tty\":null}",
			       &ps, &err),
			 0);
	assert_strv(ps.args, (const char *[]){NULL});
	assert_strv(ps.env, (const char *[]){NULL});
	assert_null(ps.dir);
	assert_null(ps.user);
	assert_false(ps.tty);
	gfs_procspec_free(&ps);

	/* tty without a window size still asks for a tty */
	assert_int_equal(parse("{\"path\":\"sh\",\"tty\":{}}", &ps, &err), 0);
	assert_true(ps.tty);
	assert_int_equal(ps.tty_columns, 0);
	assert_int_equal(ps.tty_rows, 0);
	gfs_procspec_free(&ps);

	assert_int_equal(parse("{\"path\":\"sh\",\"tty\":{\"window_size\":"
			       "{\"rows\":3}}}",
			       &ps, &err),
			 0);
	assert_true(ps.tty);
	assert_int_equal(ps.tty_columns, 0);
	assert_int_equal(ps.tty_rows, 3);
	gfs_procspec_free(&ps);

	/* every rlimit name is known */
	for (int i = 0; i < GFS_RLIM_N; i++) {
		char buf[128];
		snprintf(buf, sizeof buf,
			 "{\"path\":\"x\",\"rlimits\":{\"%s\":%d}}",
			 gfs_rlim_names[i], i + 1);
		assert_int_equal(parse(buf, &ps, &err), 0);
		assert_true(ps.rlim_set[i]);
		assert_true(ps.rlim[i] == (uint64_t)i + 1);
		gfs_procspec_free(&ps);
	}
}

static void test_json_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "{",
	    "{}",
	    "{\"path\":\"\"}",
	    "{\"path\":null}",
	    "{\"path\":1}",
	    "{\"path\":\"ls\",\"bogus\":1}",
	    "{\"path\":\"ls\",\"Path\":\"x\"}",
	    "{\"path\":\"ls\",\"path\":\"x\"}",
	    "{\"path\":\"ls\",\"args\":\"-l\"}",
	    "{\"path\":\"ls\",\"args\":[1]}",
	    "{\"path\":\"ls\",\"args\":[\"a\",null]}",
	    "{\"path\":\"ls\",\"args\":[\"a\\u0000b\"]}",
	    "{\"path\":\"ls\",\"env\":[\"NOEQUALS\"]}",
	    "{\"path\":\"ls\",\"env\":[\"=x\"]}",
	    "{\"path\":\"ls\",\"env\":[\"1A=x\"]}",
	    "{\"path\":\"ls\",\"env\":[\"A B=x\"]}",
	    "{\"path\":\"ls\",\"env\":{\"A\":\"1\"}}",
	    "{\"path\":\"ls\",\"dir\":5}",
	    "{\"path\":\"ls\",\"user\":[]}",
	    "{\"path\":\"ls\",\"rlimits\":[]}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofiles\":1}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":-1}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":1.5}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":1.0}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":\"1\"}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":true}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":"
	    "18446744073709551615}}",
	    "{\"path\":\"ls\",\"rlimits\":{\"nofile\":"
	    "9223372036854775808}}",
	    "{\"path\":\"ls\",\"tty\":true}",
	    "{\"path\":\"ls\",\"tty\":{\"size\":{}}}",
	    "{\"path\":\"ls\",\"tty\":{\"window_size\":[]}}",
	    "{\"path\":\"ls\",\"tty\":{\"window_size\":{\"columns\":-1}}}",
	    "{\"path\":\"ls\",\"tty\":{\"window_size\":{\"rows\":1.5}}}",
	    "{\"path\":\"ls\",\"tty\":{\"window_size\":{\"cols\":1}}}",
	    "{\"path\":\"ls\",\"tty\":{\"window_size\":"
	    "{\"rows\":2147483648}}}",
	    "{\"path\":\"ls\"} trailing",
	    "{\"path\":\"ls\"}{}",
	};
	for (size_t i = 0; i < N(t); i++) {
		struct gfs_procspec ps;
		gfs_err err = {0};
		if (parse(t[i], &ps, &err) != -EINVAL)
			fail_msg("`%s` should fail", t[i]);
		assert_reason(&err);
		assert_true(is_zero(&ps, sizeof ps));
	}
}

/* "no_new_privileges": a boolean, false when absent or null; a command
 * line never sets it. */
static void test_json_no_new_privs(void **state)
{
	(void)state;
	struct gfs_procspec ps;
	gfs_err err = {0};

	assert_int_equal(parse("{\"path\":\"ls\"}", &ps, &err), 0);
	assert_false(ps.no_new_privs);
	gfs_procspec_free(&ps);
	assert_int_equal(
	    parse("{\"path\":\"ls\",\"no_new_privileges\":true}", &ps, &err),
	    0);
	assert_true(ps.no_new_privs);
	gfs_procspec_free(&ps);
	assert_int_equal(
	    parse("{\"no_new_privileges\":false,\"path\":\"ls\"}", &ps, &err),
	    0);
	assert_false(ps.no_new_privs);
	gfs_procspec_free(&ps);
	assert_int_equal(
	    parse("{\"path\":\"ls\",\"no_new_privileges\":null}", &ps, &err),
	    0);
	assert_false(ps.no_new_privs);
	gfs_procspec_free(&ps);
	assert_int_equal(parse("no_new_privileges=1 ls", &ps, &err), 0);
	assert_false(ps.no_new_privs);
	gfs_procspec_free(&ps);

	static const char *const bad[] = {
	    "{\"path\":\"ls\",\"no_new_privileges\":1}",
	    "{\"path\":\"ls\",\"no_new_privileges\":\"true\"}",
	    "{\"path\":\"ls\",\"no_new_privileges\":[]}",
	    "{\"path\":\"ls\",\"no_new_privileges\":true,"
	    "\"no_new_privileges\":true}",
	    "{\"path\":\"ls\",\"noNewPrivileges\":true}",
	};
	for (size_t i = 0; i < N(bad); i++) {
		if (parse(bad[i], &ps, &err) != -EINVAL)
			fail_msg("`%s` should fail", bad[i]);
		assert_reason(&err);
		assert_true(is_zero(&ps, sizeof ps));
	}
	assert_int_equal(
	    parse("{\"path\":\"ls\",\"no_new_privileges\":0}", &ps, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "no_new_privileges"));
}

/* The reason for an unknown field names it. */
static void test_json_reasons(void **state)
{
	(void)state;
	struct gfs_procspec ps;
	gfs_err err = {0};

	assert_int_equal(parse("{\"path\":\"ls\",\"image\":{}}", &ps, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "image"));
	assert_int_equal(
	    parse("{\"path\":\"ls\",\"rlimits\":{\"files\":1}}", &ps, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "files"));
	assert_int_equal(
	    parse("{\"path\":\"ls\",\"env\":[\"BAD\"]}", &ps, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "BAD"));
	/* RLIM_INFINITY cannot be expressed: the reason says why */
	assert_int_equal(parse("{\"path\":\"ls\",\"rlimits\":{\"nofile\":"
			       "18446744073709551615}}",
			       &ps, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not supported"));
}

static void test_command_roundtrip(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "/bin/sh -c 'echo hi; exit 3'",
	    "ls",
	    "ls -l /tmp",
	    "printf '%s\\n' '' 'it'\\''s' '$HOME'",
	};
	for (size_t i = 0; i < N(t); i++) {
		struct gfs_procspec ps, ps2;
		gfs_err err = {0};
		assert_int_equal(parse(t[i], &ps, &err), 0);
		char *cmd = gfs_procspec_command(&ps);
		assert_string_equal(cmd, t[i]);
		/* and parsing the command gives the same path and args */
		assert_int_equal(parse(cmd, &ps2, &err), 0);
		assert_string_equal(ps2.path, ps.path);
		size_t n = gfs_strv_len(ps.args);
		assert_int_equal(gfs_strv_len(ps2.args), n);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(ps2.args[k], ps.args[k]);
		free(cmd);
		gfs_procspec_free(&ps);
		gfs_procspec_free(&ps2);
	}

	struct gfs_procspec ps;
	gfs_err err = {0};
	assert_int_equal(
	    parse("{\"path\":\"/bin/echo\",\"args\":[\"a b\",\"\",\"c\"]}", &ps,
		  &err),
	    0);
	char *cmd = gfs_procspec_command(&ps);
	assert_string_equal(cmd, "/bin/echo 'a b' '' c");
	free(cmd);
	gfs_procspec_free(&ps);

	/* env is not part of the command */
	assert_int_equal(parse("A=1 env", &ps, &err), 0);
	cmd = gfs_procspec_command(&ps);
	assert_string_equal(cmd, "env");
	free(cmd);
	gfs_procspec_free(&ps);
}

static int create(const char *line, struct gfs_createspec *cs, gfs_err *err)
{
	char **w = NULL;
	int r = gfs_split_words(line, &w, err);
	assert_int_equal(r, 0);
	r = gfs_createspec_parse(w, cs, err);
	gfs_strv_free(w);
	return r;
}

static void test_create_empty(void **state)
{
	(void)state;
	struct gfs_createspec cs;
	gfs_err err = {0};
	char *none[] = {NULL};

	assert_int_equal(gfs_createspec_parse(none, &cs, &err), 0);
	assert_null(cs.handle);
	assert_null(cs.rootfs);
	assert_false(cs.privileged);
	assert_false(cs.grace_set);
	assert_strv(cs.env, (const char *[]){NULL});
	assert_strv(cs.props, (const char *[]){NULL});
	assert_strv(cs.binds, (const char *[]){NULL});
	assert_null(cs.network);
	assert_false(cs.memory_set || cs.cpu_set || cs.pids_set);
	assert_false(cs.disk_set);
	assert_false(cs.bandwidth_set);
	gfs_createspec_free(&cs);
	assert_true(is_zero(&cs, sizeof cs));

	assert_int_equal(gfs_createspec_parse(NULL, &cs, &err), 0);
	assert_non_null(cs.env);
	gfs_createspec_free(&cs);
}

static void test_create_full(void **state)
{
	(void)state;
	struct gfs_createspec cs;
	gfs_err err = {0};

	assert_int_equal(
	    create("handle=web rootfs=/img.tar privileged=true grace=30 "
		   "env=A=1 env='B=x y' env=C= property=stage=prod "
		   "property='note=a b=c' property=empty= "
		   "bind=/src:/dst bind=/a:/b:ro bind=/c:/d:rw "
		   "network=10.0.0.5/30 memory=128M cpu=512 pids=0 "
		   "disk=byte_hard=1G,inode_hard=1000 bandwidth=1M:64K",
		   &cs, &err),
	    0);
	assert_string_equal(cs.handle, "web");
	assert_string_equal(cs.rootfs, "/img.tar");
	assert_true(cs.privileged);
	assert_true(cs.grace_set);
	assert_true(cs.grace == 30);
	assert_strv(cs.env, (const char *[]){"A=1", "B=x y", "C=", NULL});
	assert_strv(cs.props, (const char *[]){"stage=prod", "note=a b=c",
					       "empty=", NULL});
	/* rw is the default and is not spelt out */
	assert_strv(cs.binds,
		    (const char *[]){"/src:/dst", "/a:/b:ro", "/c:/d", NULL});
	assert_string_equal(cs.network, "10.0.0.5/30");
	assert_true(cs.memory_set);
	assert_true(cs.memory == 128ULL << 20);
	assert_true(cs.cpu_set);
	assert_true(cs.cpu == 512);
	assert_true(cs.pids_set);
	assert_true(cs.pids == 0);
	assert_true(cs.disk_set);
	assert_int_equal(cs.disk.v[GFS_DISK_BYTE_HARD], 1ULL << 30);
	assert_int_equal(cs.disk.v[GFS_DISK_INODE_HARD], 1000);
	assert_int_equal(cs.disk.v[GFS_DISK_BLOCK_HARD], 0);
	assert_true(cs.bandwidth_set);
	assert_int_equal(cs.rate, 1 << 20);
	assert_int_equal(cs.burst, 64 << 10);
	gfs_createspec_free(&cs);
}

static void test_create_good_values(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "privileged=false",
	    "network=10.0.0.1",
	    "network=0.0.0.0/0",
	    "network=192.168.1.0/24",
	    "network=10.1.2.3/32",
	    "grace=0",
	    "memory=0",
	    "memory=1073741824",
	    "bandwidth=0:0",
	    "handle=a.b-c_d",
	    "property=k=",
	    "property=...=x",
	    "env=_=x",
	    "bind=/:/",
	};
	for (size_t i = 0; i < N(t); i++) {
		struct gfs_createspec cs;
		gfs_err err = {0};
		if (create(t[i], &cs, &err) != 0)
			fail_msg("`%s`: %s", t[i], err.msg);
		gfs_createspec_free(&cs);
	}
}

static void test_create_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "bogus=1",
	    "handle",
	    "web",
	    "=x",
	    "Handle=web",
	    "handle=web handle=db",
	    "rootfs=/a rootfs=/b",
	    "memory=1 memory=2",
	    "handle=",
	    "handle=.",
	    "handle=..",
	    "handle=a/b",
	    "'handle=a\tb'",
	    "rootfs=",
	    "privileged=yes",
	    "privileged=1",
	    "privileged=",
	    "privileged=TRUE",
	    "grace=-1",
	    "grace=1s",
	    "grace=",
	    "env=A",
	    "env==1",
	    "env=1A=2",
	    "env=",
	    "property=novalue",
	    "property==v",
	    "property=a/b=v",
	    "property=.=v",
	    "property=..=v",
	    "'property=a\nb=v'",
	    "property=",
	    "bind=/a",
	    "bind=a:/b",
	    "bind=/a:b",
	    "bind=/a:/b:rx",
	    "bind=/a:/b:ro:x",
	    "bind=/a::/b",
	    "bind=:/b",
	    "bind=",
	    "network=",
	    "network=10.0.0",
	    "network=10.0.0.256",
	    "network=10.0.0.1/33",
	    "network=10.0.0.1/",
	    "network=10.0.0.1/-1",
	    "network=10.0.0.1/+8",
	    "network=10.0.0.1/8/8",
	    "network=/8",
	    "network=host",
	    "'network=10.0.0.1 '",
	    "'network= 10.0.0.1'",
	    "memory=",
	    "memory=1KB",
	    "memory=-1",
	    "memory=16777216T",
	    "cpu=1K",
	    "cpu=",
	    "pids=x",
	    "disk=",
	    "bandwidth=",
	    "bandwidth=1M",
	    "bandwidth=:1M",
	    "bandwidth=1M:",
	    "bandwidth=1M:1Q",
	    "bandwidth=1M:2M:3M",
	};
	for (size_t i = 0; i < N(t); i++) {
		struct gfs_createspec cs;
		gfs_err err = {0};
		if (create(t[i], &cs, &err) != -EINVAL)
			fail_msg("`%s` should fail", t[i]);
		assert_reason(&err);
		assert_true(is_zero(&cs, sizeof cs));
		gfs_createspec_free(&cs);
	}
}

/* A failure after repeatable keys were collected frees them (ASan checks)
 * and names the culprit. */
static void test_create_reasons(void **state)
{
	(void)state;
	struct gfs_createspec cs;
	gfs_err err = {0};

	assert_int_equal(create("env=A=1 property=a=b bind=/a:/b handle=x "
				"rootfs=/r nope=1",
				&cs, &err),
			 -EINVAL);
	assert_true(is_zero(&cs, sizeof cs));
	assert_non_null(strstr(err.msg, "unknown key"));
	assert_non_null(strstr(err.msg, "nope"));

	assert_int_equal(create("handle=a handle=b", &cs, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "handle"));

	assert_int_equal(create("justaword", &cs, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "justaword"));

	assert_int_equal(create("memory=lots", &cs, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "memory"));
}

/* Random writes, JSON-like and shell-like, never crash or leak; every
 * success keeps the struct's promises, every failure leaves it zeroed. */
static void test_procspec_random(void **state)
{
	(void)state;
	static const char *const pieces[] = {
	    "{",    "}",    "[",   "]",	  ",",	     ":",      "\"",
	    "path", "args", "env", "tty", "rlimits", "nofile", "window_size",
	    "rows", "A=1",  "1",   "-1",  "1.5",     "null",   " ",
	    "'",    "\\",   "x",   "=",	  "\n",	     "true",
	};
	uint32_t seed = 777;
	for (int round = 0; round < 20000; round++) {
		sbuf b = SBUF_INIT;
		seed = seed * 1103515245 + 12345;
		int n = (int)((seed >> 16) % 16);
		if (round % 2)
			sbuf_adds(&b, "{\"path\":\"x\",");
		for (int i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			sbuf_adds(&b, pieces[(seed >> 16) % N(pieces)]);
		}
		struct gfs_procspec ps;
		gfs_err err = {0};
		if (gfs_procspec_parse(b.s, b.len, &ps, &err) < 0) {
			assert_reason(&err);
			assert_true(is_zero(&ps, sizeof ps));
		} else {
			assert_true(ps.path && *ps.path);
			assert_non_null(ps.args);
			assert_non_null(ps.env);
			for (char **e = ps.env; *e; e++)
				assert_non_null(strchr(*e, '='));
			char *cmd = gfs_procspec_command(&ps);
			free(cmd);
			gfs_procspec_free(&ps);
		}
		sbuf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rlim),
	    cmocka_unit_test(test_line_simple),
	    cmocka_unit_test(test_line_env),
	    cmocka_unit_test(test_line_bad),
	    cmocka_unit_test(test_json_full),
	    cmocka_unit_test(test_json_minimal),
	    cmocka_unit_test(test_json_bad),
	    cmocka_unit_test(test_json_reasons),
	    cmocka_unit_test(test_json_no_new_privs),
	    cmocka_unit_test(test_command_roundtrip),
	    cmocka_unit_test(test_create_empty),
	    cmocka_unit_test(test_create_full),
	    cmocka_unit_test(test_create_good_values),
	    cmocka_unit_test(test_create_bad),
	    cmocka_unit_test(test_create_reasons),
	    cmocka_unit_test(test_procspec_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
