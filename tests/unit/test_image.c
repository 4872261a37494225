/* cmocka tests for the pure parts of image unpacking: entry name cleaning
 * and refusal, OCI whiteout names, digest forms (runtime/image_names.h),
 * SHA-256 against the standard's vectors, split updates included
 * (runtime/sha256.h), and the image unpacker's verdict records
 * (runtime/image_proto.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/image_names.h"
#include "runtime/image_proto.h"
#include "runtime/sha256.h"

static void check_clean(const char *in, int want, const char *out)
{
	char buf[64];
	int r = rt_name_clean(in, buf, sizeof buf);
	assert_int_equal(r, want);
	if (want == 0)
		assert_string_equal(buf, out);
}

static void test_clean(void **state)
{
	(void)state;
	check_clean("a/b", 0, "a/b");
	check_clean("./a//b/.", 0, "a/b");
	check_clean("./", 0, "");
	check_clean(".", 0, "");
	check_clean("a/", 0, "a");
	check_clean("...", 0, "...");
	check_clean("..a/b..", 0, "..a/b..");
	check_clean(".wh.x", 0, ".wh.x");
	/* refused: absolute, any .. component */
	check_clean("/etc/passwd", -EINVAL, NULL);
	check_clean("..", -EINVAL, NULL);
	check_clean("../x", -EINVAL, NULL);
	check_clean("a/../../x", -EINVAL, NULL);
	check_clean("a/..", -EINVAL, NULL);
	check_clean("./a/../b", -EINVAL, NULL);
	/* too long for the buffer */
	check_clean(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    -ENAMETOOLONG, NULL);
}

static void test_whiteout(void **state)
{
	(void)state;
	const char *t = NULL;
	assert_int_equal(rt_whiteout_kind("passwd", &t), RT_WH_NONE);
	assert_int_equal(rt_whiteout_kind(".wh.passwd", &t), RT_WH_FILE);
	assert_string_equal(t, "passwd");
	assert_int_equal(rt_whiteout_kind(".wh..hidden", &t), RT_WH_FILE);
	assert_string_equal(t, ".hidden");
	assert_int_equal(rt_whiteout_kind(".wh..wh..opq", &t), RT_WH_OPAQUE);
	assert_int_equal(rt_whiteout_kind(".wh.", &t), RT_WH_BAD);
	assert_int_equal(rt_whiteout_kind(".wh..", &t), RT_WH_BAD);
	assert_int_equal(rt_whiteout_kind(".wh...", &t), RT_WH_BAD);
	assert_int_equal(rt_whiteout_kind(".wh..wh.other", &t), RT_WH_BAD);
	assert_int_equal(rt_whiteout_kind(".whx", &t), RT_WH_NONE);
}

static void test_digest(void **state)
{
	(void)state;
	const char *good =
	    "sha256:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	assert_true(rt_digest_valid(good));
	assert_false(rt_digest_valid(NULL));
	assert_false(rt_digest_valid("sha512:e3b0"));
	assert_false(rt_digest_valid("sha256:../../../etc/passwd"));
	assert_false(rt_digest_valid(
	    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	char longer[80];
	snprintf(longer, sizeof longer, "%s0", good);
	assert_false(rt_digest_valid(longer));
	assert_false(rt_digest_valid("sha256:e3b0"));
}

static void hash(const char *data, size_t len, size_t step, char out[65])
{
	struct sha256 c;
	sha256_init(&c);
	for (size_t off = 0; off < len; off += step)
		sha256_update(&c, data + off,
			      len - off < step ? len - off : step);
	sha256_hex(&c, out);
}

static void test_sha256(void **state)
{
	(void)state;
	char h[65];
	hash("", 0, 1, h);
	assert_string_equal(
	    h,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash("abc", 3, 3, h);
	assert_string_equal(
	    h,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	/* 56 bytes: the padding spills into a second block */
	for (size_t step = 1; step <= 64; step++) {
		hash(two, strlen(two), step, h);
		assert_string_equal(h,
				    "248d6a61d20638b8e5c026930c3e6039a33ce45964"
				    "ff2167f6ecedd419db06c1");
	}
	/* a million a's, in odd pieces */
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	hash(a, 1000000, 4099, h);
	assert_string_equal(
	    h,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

static const char HEX[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static int parse(const char *s, struct rt_unpack_verdict *v, gfs_err *err)
{
	return rt_unpack_record_parse(s, strlen(s), v, err);
}

static void test_verdict_ok(void **state)
{
	(void)state;
	struct rt_unpack_verdict v = {
	    .entries = 42, .bytes = 1ULL << 40, .devices = true};
	memcpy(v.hex, HEX, 65);
	char buf[RT_UNPACK_RECORD_MAX];
	size_t n = rt_unpack_record_ok(buf, &v);
	assert_int_equal(n, strlen(buf));
	assert_int_equal(buf[n - 1], '\n');
	struct rt_unpack_verdict w;
	gfs_err err = {0};
	assert_int_equal(rt_unpack_record_parse(buf, n, &w, &err), 0);
	assert_string_equal(w.hex, HEX);
	assert_true(w.entries == 42 && w.bytes == 1ULL << 40 && w.devices);
	v.devices = false;
	v.entries = UINT64_MAX;
	n = rt_unpack_record_ok(buf, &v);
	assert_int_equal(rt_unpack_record_parse(buf, n, &w, &err), 0);
	assert_true(!w.devices && w.entries == UINT64_MAX);
}

static void test_verdict_error(void **state)
{
	(void)state;
	char buf[RT_UNPACK_RECORD_MAX];
	struct rt_unpack_verdict v;
	gfs_err err = {0};
	size_t n = rt_unpack_record_error(buf, ENOSPC, "entry x: no\nroom");
	assert_int_equal(rt_unpack_record_parse(buf, n, &v, &err), -ENOSPC);
	assert_int_equal(err.code, ENOSPC);
	assert_string_equal(err.msg, "entry x: no room");
	/* an errno out of range is EIO; a long reason is cut, still whole */
	char big[2000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	n = rt_unpack_record_error(buf, 99999, big);
	assert_true(n < RT_UNPACK_RECORD_MAX);
	assert_int_equal(rt_unpack_record_parse(buf, n, &v, &err), -EIO);
}

static void test_verdict_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "ok",
	    "ok\n",
	    "error 0 zero\n",
	    "error x why\n",
	    "error 5\n",
	    "error 5000 why\n",
	    "ok e3b0 1 2 0\n",
	    "ok E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 "
	    "1 2 0\n",
	    "done %s 1 2 0\n",
	    "ok %s 1 2 0",
	    "ok %s 1 2 0\nok %s 1 2 0\n",
	    "ok %s 1 2 2\n",
	    "ok %s -1 2 0\n",
	    "ok %s 1  2 0\n",
	    "ok %s 1 2 0 extra\n",
	    "ok %s 18446744073709551616 2 0\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[400];
		snprintf(line, sizeof line, bad[i], HEX, HEX);
		struct rt_unpack_verdict v;
		gfs_err err = {0};
		int r = parse(line, &v, &err);
		if (r != -EPROTO)
			print_error("accepted: [%s]\n", line);
		assert_int_equal(r, -EPROTO);
		assert_int_equal(err.code, EPROTO);
	}
	/* a NUL inside */
	char nul[] = "ok x\0 1 2 0\n";
	struct rt_unpack_verdict v;
	gfs_err err = {0};
	assert_int_equal(rt_unpack_record_parse(nul, sizeof nul - 1, &v, &err),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_whiteout),
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_verdict_ok),
	    cmocka_unit_test(test_verdict_error),
	    cmocka_unit_test(test_verdict_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
