/* cmocka tests for the field helpers of the daemon-init protocol
 * (runtime/proto.h): strict decimal numbers within a bound, and the split
 * of a packet into its NUL-terminated fields. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/proto.h"

static void test_num(void **state)
{
	(void)state;
	unsigned long long v = 7;
	assert_true(proto_num("0", 1, &v) && v == 0);
	assert_true(proto_num("1", 1, &v) && v == 1);
	/* a digit above a small bound (the reaper's USERNS flag is 0 or 1) */
	assert_false(proto_num("2", 1, &v));
	assert_false(proto_num("9", 5, &v));
	assert_false(proto_num("10", 9, &v));
	assert_true(proto_num("4095", 4095, &v) && v == 4095);
	assert_false(proto_num("4096", 4095, &v));
	assert_true(proto_num("18446744073709551615", ~0ULL, &v) && v == ~0ULL);
	assert_false(proto_num("18446744073709551616", ~0ULL, &v));
	assert_false(proto_num("", 10, &v));
	assert_false(proto_num(NULL, 10, &v));
	assert_false(proto_num("-1", 10, &v));
	assert_false(proto_num("1 ", 10, &v));
	assert_false(proto_num("0x1", 10, &v));
}

static void test_split(void **state)
{
	(void)state;
	char pkt[] = "g\0/a\0/b\0";
	size_t n = 0;
	char **f = proto_split(pkt, sizeof pkt - 1, &n);
	assert_non_null(f);
	assert_int_equal(n, 3);
	assert_string_equal(f[0], "g");
	assert_string_equal(f[2], "/b");
	assert_null(f[3]);
	free(f);
	/* the last byte must be a NUL */
	char bad[] = "g\0/a";
	assert_null(proto_split(bad, sizeof bad - 1, &n));
	assert_null(proto_split(bad, 0, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_num),
	    cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
