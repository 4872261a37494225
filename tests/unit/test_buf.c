/* cmocka tests for lib/err.c (the error object, cleanup helpers, string
 * vectors) and lib/buf.c (sbuf and the x* allocators). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/err.h"

static void test_error(void **state)
{
	(void)state;
	gfs_err err = {0};

	assert_int_equal(gfs_error(&err, EINVAL, "bad %s %d", "thing", 7),
			 -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "bad thing 7");

	/* NULL err: only the return value */
	assert_int_equal(gfs_error(NULL, ENOENT, "x"), -ENOENT);

	gfs_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
	gfs_error_clear(NULL);
}

static void test_error_one_line(void **state)
{
	(void)state;
	gfs_err err = {0};
	gfs_error(&err, EINVAL, "a\nb\rc%s", "\nd");
	assert_string_equal(err.msg, "a b c d");
}

static void test_error_sys(void **state)
{
	(void)state;
	gfs_err err = {0};
	assert_int_equal(gfs_error_sys(&err, ENOENT, "open `%s`", "/x"),
			 -ENOENT);
	assert_int_equal(err.code, ENOENT);
	char want[128];
	snprintf(want, sizeof want, "open `/x`: %s", strerror(ENOENT));
	assert_string_equal(err.msg, want);
	assert_int_equal(gfs_error_sys(NULL, EPERM, "x"), -EPERM);
}

static void test_error_wrap(void **state)
{
	(void)state;
	gfs_err err = {0};
	gfs_error(&err, EEXIST, "mkdir: exists");
	assert_int_equal(gfs_error_wrap(&err, "creating `%s`", "web"), -EEXIST);
	assert_int_equal(err.code, EEXIST);
	assert_string_equal(err.msg, "creating `web`: mkdir: exists");

	/* wrapping an empty error still yields an errno */
	gfs_err e2 = {0};
	assert_int_equal(gfs_error_wrap(&e2, "ctx"), -EIO);
	assert_int_equal(e2.code, EIO);
	assert_int_equal(gfs_error_wrap(NULL, "ctx"), -EIO);
}

/* Long messages are cut, never overflowed (ASan watches). */
static void test_error_truncates(void **state)
{
	(void)state;
	gfs_err err = {0};
	char big[2000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	gfs_error(&err, E2BIG, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
	gfs_error_wrap(&err, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
	gfs_error_sys(&err, E2BIG, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
	assert_int_equal(err.code, E2BIG);
}

static void test_cleanup(void **state)
{
	(void)state;
	int fd;
	{
		cleanup_free char *p = xstrdup("freed at scope end");
		cleanup_free char *q = NULL;
		cleanup_strv char **v = xcalloc(3, sizeof(char *));
		v[0] = xstrdup("a");
		v[1] = xstrdup("b");
		cleanup_close int c = open("/dev/null", O_RDONLY);
		assert_true(c >= 0);
		fd = c;
		cleanup_close int none = -1;
		(void)p;
		(void)q;
		(void)none;
	}
	/* the descriptor was closed */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	cleanup_free char *kept = NULL;
	{
		cleanup_free char *p = xstrdup("kept");
		kept = steal_ptr(p);
		assert_null(p);
	}
	assert_string_equal(kept, "kept");

	int out;
	{
		cleanup_close int c = open("/dev/null", O_RDONLY);
		out = steal_fd(c);
		assert_int_equal(c, -1);
	}
	assert_true(fcntl(out, F_GETFD) >= 0);
	close(out);

	{
		cleanup_fclose FILE *f = fopen("/dev/null", "r");
		assert_non_null(f);
		cleanup_fclose FILE *g = NULL;
		(void)g;
	}
}

static void test_strv(void **state)
{
	(void)state;
	assert_int_equal(gfs_strv_len(NULL), 0);
	char *empty[] = {NULL};
	assert_int_equal(gfs_strv_len(empty), 0);
	char **v = xcalloc(4, sizeof(char *));
	v[0] = xstrdup("x");
	v[1] = xstrdup("");
	v[2] = xstrdup("z");
	assert_int_equal(gfs_strv_len(v), 3);
	gfs_strv_free(v);
	gfs_strv_free(NULL);
}

static void test_sbuf_basic(void **state)
{
	(void)state;
	sbuf b = SBUF_INIT;
	assert_null(b.s);
	assert_int_equal(b.len, 0);

	sbuf_adds(&b, "hello");
	sbuf_addc(&b, ' ');
	sbuf_printf(&b, "%s %d", "world", 42);
	assert_string_equal(b.s, "hello world 42");
	assert_int_equal(b.len, strlen("hello world 42"));
	assert_true(b.len < b.cap);

	sbuf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.s, "");
	sbuf_adds(&b, "again");
	assert_string_equal(b.s, "again");
	sbuf_free(&b);
	assert_null(b.s);
	assert_int_equal(b.cap, 0);

	/* reset and free of a zeroed buffer are fine */
	sbuf z = SBUF_INIT;
	sbuf_reset(&z);
	sbuf_free(&z);
}

static void test_sbuf_binary(void **state)
{
	(void)state;
	sbuf b = SBUF_INIT;
	sbuf_add(&b, "a\0b", 3);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.s, "a\0b", 4);
	sbuf_add(&b, "", 0);
	assert_int_equal(b.len, 3);
	assert_int_equal(b.s[3], '\0');
	sbuf_free(&b);

	/* adding nothing to an empty buffer still gives a C string */
	sbuf e = SBUF_INIT;
	sbuf_add(&e, "", 0);
	assert_non_null(e.s);
	assert_string_equal(e.s, "");
	sbuf_free(&e);
}

static void test_sbuf_grow(void **state)
{
	(void)state;
	sbuf b = SBUF_INIT;
	for (int i = 0; i < 10000; i++) {
		sbuf_addc(&b, (char)('a' + i % 26));
		assert_true(b.len < b.cap);
		assert_int_equal(b.s[b.len], '\0');
	}
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.s[9999], 'a' + 9999 % 26);

	/* printf that does not fit the first try */
	char big[5000];
	memset(big, 'q', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sbuf_reset(&b);
	sbuf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, sizeof big + 1);
	assert_int_equal(b.s[0], '<');
	assert_int_equal(b.s[b.len - 1], '>');
	assert_int_equal(strlen(b.s), b.len);
	/* and one exactly at the edge of the capacity */
	sbuf c = SBUF_INIT;
	for (size_t n = 0; n < 300; n++) {
		sbuf_reset(&c);
		sbuf_printf(&c, "%.*s", (int)n, big);
		assert_int_equal(c.len, n);
		assert_int_equal(strlen(c.s), n);
		sbuf_printf(&c, "%s", "x");
		assert_int_equal(c.len, n + 1);
		assert_int_equal(c.s[n], 'x');
	}
	sbuf_free(&c);
	sbuf_free(&b);
}

static void test_sbuf_steal(void **state)
{
	(void)state;
	sbuf b = SBUF_INIT;
	char *s = sbuf_steal(&b);
	assert_string_equal(s, "");
	free(s);

	sbuf_adds(&b, "mine");
	s = sbuf_steal(&b);
	assert_string_equal(s, "mine");
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);
	/* usable again after a steal */
	sbuf_adds(&b, "next");
	assert_string_equal(b.s, "next");
	sbuf_free(&b);
}

static void test_alloc(void **state)
{
	(void)state;
	char *p = xmalloc(0);
	assert_non_null(p);
	free(p);
	int *z = xcalloc(16, sizeof(int));
	for (int i = 0; i < 16; i++)
		assert_int_equal(z[i], 0);
	z = xrealloc(z, 32 * sizeof(int));
	assert_int_equal(z[15], 0);
	free(z);
	p = xstrndup("abcdef", 3);
	assert_string_equal(p, "abc");
	free(p);
	p = xstrndup("ab", 10);
	assert_string_equal(p, "ab");
	free(p);
	p = xasprintf("%d-%s", 5, "x");
	assert_string_equal(p, "5-x");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error),
	    cmocka_unit_test(test_error_one_line),
	    cmocka_unit_test(test_error_sys),
	    cmocka_unit_test(test_error_wrap),
	    cmocka_unit_test(test_error_truncates),
	    cmocka_unit_test(test_cleanup),
	    cmocka_unit_test(test_strv),
	    cmocka_unit_test(test_sbuf_basic),
	    cmocka_unit_test(test_sbuf_binary),
	    cmocka_unit_test(test_sbuf_grow),
	    cmocka_unit_test(test_sbuf_steal),
	    cmocka_unit_test(test_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
