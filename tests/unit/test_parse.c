/* cmocka tests for lib/parse.c: tables of good and bad inputs for commands,
 * numbers, sizes, handles, word splitting, signals and quoting. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A refusal must say why, in one line. */
static void assert_reason(const gfs_err *err)
{
	assert_int_equal(err->code, EINVAL);
	assert_true(strlen(err->msg) > 0);
	assert_null(strchr(err->msg, '\n'));
}

static void test_command_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} t[] = {
	    {"term", 4, "term"},
	    {"term\n", 5, "term"},
	    {"a b  c\n", 7, "a b  c"},
	    {" x", 2, " x"},
	    {"x\r", 2, "x\r"},
	    /* len, not the NUL, bounds the write */
	    {"abcdef", 3, "abc"},
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		char *out = NULL;
		assert_int_equal(gfs_command(t[i].in, t[i].len, &out, &err), 0);
		assert_string_equal(out, t[i].want);
		free(out);
	}
}

static void test_command_bad(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
	} t[] = {
	    {"", 0},	 {"\n", 1},   {"a\nb", 3}, {"a\n\n", 3},
	    {"\n\n", 2}, {"a\0b", 3}, {"\0", 1},   {"a\0\n", 3},
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		char *out = (char *)1;
		assert_int_equal(gfs_command(t[i].in, t[i].len, &out, &err),
				 -EINVAL);
		assert_null(out);
		assert_reason(&err);
	}
}

static void test_command_length(void **state)
{
	(void)state;
	char *big = xmalloc(GFS_CMD_MAX + 2);
	memset(big, 'x', GFS_CMD_MAX + 1);
	big[GFS_CMD_MAX + 1] = '\0';
	gfs_err err = {0};
	char *out = NULL;

	assert_int_equal(gfs_command(big, GFS_CMD_MAX, &out, &err), 0);
	assert_int_equal(strlen(out), GFS_CMD_MAX);
	free(out);
	out = NULL;
	assert_int_equal(gfs_command(big, GFS_CMD_MAX + 1, &out, &err),
			 -EINVAL);
	assert_null(out);
	assert_reason(&err);
	/* The reason quotes none of a 64K write: it stays short. */
	assert_true(strlen(err.msg) < 100);
	free(big);
}

static void test_command_reason_escaped(void **state)
{
	(void)state;
	gfs_err err = {0};
	char *out = NULL;
	const char in[] = "kill\x1b[31m\nrm -rf /\n";
	assert_int_equal(gfs_command(in, sizeof in - 1, &out, &err), -EINVAL);
	assert_reason(&err);
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "kill\\x1b[31m\\nrm -rf /"));
}

static void test_excerpt(void **state)
{
	(void)state;
	char ex[GFS_EXCERPT_MAX];
	assert_string_equal(gfs_excerpt(ex, "abc", 3), "abc");
	assert_string_equal(gfs_excerpt(ex, "", 0), "");
	assert_string_equal(gfs_excerpt(ex, "a\tb\\c\r\x7f", 7),
			    "a\\tb\\\\c\\r\\x7f");
	assert_string_equal(gfs_excerpt(ex, "a\0b", 3), "a\\x00b");

	char big[200];
	memset(big, 'y', sizeof big);
	gfs_excerpt(ex, big, sizeof big);
	assert_int_equal(strlen(ex), 63);
	assert_string_equal(ex + 60, "...");

	/* worst case: every byte escaped to four */
	memset(big, 1, sizeof big);
	gfs_excerpt(ex, big, sizeof big);
	assert_int_equal(strlen(ex), 60 * 4 + 3);
}

static void test_u64_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t want;
	} t[] = {
	    {"0", 0},
	    {"1", 1},
	    {"128", 128},
	    {"007", 7},
	    {"4294967296", 4294967296ULL},
	    {"18446744073709551615", UINT64_MAX},
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		uint64_t v = 42;
		assert_int_equal(gfs_parse_u64(t[i].in, &v, &err), 0);
		assert_true(v == t[i].want);
	}
}

static void test_u64_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "",
	    "+1",
	    "-1",
	    " 1",
	    "1 ",
	    "1\n",
	    "\t1",
	    "0x10",
	    "1.5",
	    "1e3",
	    "1K",
	    "abc",
	    "1a",
	    "１",
	    "18446744073709551616",
	    "99999999999999999999",
	    "184467440737095516150",
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		uint64_t v = 42;
		assert_int_equal(gfs_parse_u64(t[i], &v, &err), -EINVAL);
		assert_true(v == 42);
		assert_reason(&err);
	}
	/* NULL is a missing value, not a crash */
	gfs_err err = {0};
	uint64_t v;
	assert_int_equal(gfs_parse_u64(NULL, &v, &err), -EINVAL);
}

static void test_size_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t want;
	} t[] = {
	    {"0", 0},
	    {"128", 128},
	    {"128K", 128ULL << 10},
	    {"128k", 128ULL << 10},
	    {"128M", 128ULL << 20},
	    {"128m", 128ULL << 20},
	    {"1G", 1ULL << 30},
	    {"1g", 1ULL << 30},
	    {"2T", 2ULL << 40},
	    {"2t", 2ULL << 40},
	    {"0K", 0},
	    {"16777215T", 16777215ULL << 40},
	    {"18446744073709551615", UINT64_MAX},
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		uint64_t v = 42;
		assert_int_equal(gfs_parse_size(t[i].in, &v, &err), 0);
		assert_true(v == t[i].want);
	}
}

static void test_size_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "",
	    "+1",
	    "-1",
	    " 1",
	    "1 ",
	    "1\n",
	    "1KB",
	    "1kb",
	    "1B",
	    "1.5M",
	    "0x10",
	    "K",
	    "M",
	    "1KK",
	    "1P",
	    "1 K",
	    "-1K",
	    "99999999999999999999",
	    "16777216T",
	    "18014398509481984K",
	    "17179869184G",
	    "18446744073709551616",
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		uint64_t v = 42;
		assert_int_equal(gfs_parse_size(t[i], &v, &err), -EINVAL);
		assert_true(v == 42);
		assert_reason(&err);
	}
}

static void test_handle(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "web",	  "a",	     "...",	  ".a", "a.",
	    "with space", "ünïcode", "a-b_c:d@e", "~",
	};
	for (size_t i = 0; i < N(good); i++) {
		gfs_err err = {0};
		assert_true(gfs_handle_is_valid(good[i], &err));
		assert_int_equal(err.code, 0);
	}
	static const char *const bad[] = {
	    "", ".", "..", "a/b", "/", "a\nb", "\t", "a\x7f", "\x01x",
	};
	for (size_t i = 0; i < N(bad); i++) {
		gfs_err err = {0};
		assert_false(gfs_handle_is_valid(bad[i], &err));
		assert_reason(&err);
	}
	char h[257];
	memset(h, 'h', 256);
	h[256] = '\0';
	gfs_err err = {0};
	assert_false(gfs_handle_is_valid(h, &err));
	assert_reason(&err);
	h[255] = '\0';
	assert_true(gfs_handle_is_valid(h, &err));
	assert_false(gfs_handle_is_valid(NULL, NULL));
	assert_false(gfs_handle_is_valid("a/b", NULL));
}

/* Up to 6 words; NULL ends the list. */
struct split_case {
	const char *in;
	const char *want[7];
};

static void check_split(const struct split_case *c)
{
	gfs_err err = {0};
	char **w = NULL;
	int r = gfs_split_words(c->in, &w, &err);
	if (r != 0)
		fail_msg("split `%s`: %s", c->in, err.msg);
	assert_non_null(w);
	size_t n = 0;
	while (c->want[n])
		n++;
	if (gfs_strv_len(w) != n)
		fail_msg("split `%s`: %zu words, want %zu", c->in,
			 gfs_strv_len(w), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(w[i], c->want[i]);
	assert_null(w[n]);
	gfs_strv_free(w);
}

static void test_split_good(void **state)
{
	(void)state;
	static const struct split_case t[] = {
	    {"", {NULL}},
	    {"   ", {NULL}},
	    {"\t \t", {NULL}},
	    {"a", {"a", NULL}},
	    {"a b c", {"a", "b", "c", NULL}},
	    {"  a   b  ", {"a", "b", NULL}},
	    {"a\tb\t\tc", {"a", "b", "c", NULL}},
	    {"''", {"", NULL}},
	    {"\"\"", {"", NULL}},
	    {"a '' b", {"a", "", "b", NULL}},
	    {"'' ''", {"", "", NULL}},
	    {"\"a\"'b'c", {"abc", NULL}},
	    {"a'b c'd", {"ab cd", NULL}},
	    {"'a b'", {"a b", NULL}},
	    {"'a\\b'", {"a\\b", NULL}},
	    {"'a\"b'", {"a\"b", NULL}},
	    {"\"it's\"", {"it's", NULL}},
	    {"\"a\\\"b\"", {"a\"b", NULL}},
	    {"\"a\\\\b\"", {"a\\b", NULL}},
	    {"\"\\$HOME\"", {"$HOME", NULL}},
	    {"\"\\`x\\`\"", {"`x`", NULL}},
	    /* other backslashes inside "..." stay, as in sh */
	    {"\"a\\nb\"", {"a\\nb", NULL}},
	    {"\"a\\'b\"", {"a\\'b", NULL}},
	    {"a\\ b", {"a b", NULL}},
	    {"\\'", {"'", NULL}},
	    {"\\\"", {"\"", NULL}},
	    {"\\\\", {"\\", NULL}},
	    {"\\n", {"n", NULL}},
	    {"a\\\nb", {"ab", NULL}},
	    {"a \\\n b", {"a", "b", NULL}},
	    {"\"a\\\nb\"", {"ab", NULL}},
	    {"'a\nb'", {"a\nb", NULL}},
	    {"\"a\nb\"", {"a\nb", NULL}},
	    {"$HOME *.c ~ `x`", {"$HOME", "*.c", "~", "`x`", NULL}},
	    {"a;b|c&d", {"a;b|c&d", NULL}},
	    {"/bin/sh -c 'echo hi; exit 3'",
	     {"/bin/sh", "-c", "echo hi; exit 3", NULL}},
	    {"HOME=/tmp A='x y' cmd", {"HOME=/tmp", "A=x y", "cmd", NULL}},
	    {"'it'\\''s'", {"it's", NULL}},
	};
	for (size_t i = 0; i < N(t); i++)
		check_split(&t[i]);
}

static void test_split_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "'",       "\"",   "a 'b", "a \"b", "'a'\"", "\\",	   "a \\",
	    "\"a\\\"", "a\nb", "a\n",  "\n",	"'''",	 "\"\\\"", "x'y",
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		char **w = (char **)1;
		if (gfs_split_words(t[i], &w, &err) != -EINVAL)
			fail_msg("split `%s` should fail", t[i]);
		assert_null(w);
		assert_reason(&err);
	}
}

static void test_signals(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int sig;
	} t[] = {
	    {"hup", SIGHUP},	   {"int", SIGINT},	  {"quit", SIGQUIT},
	    {"ill", SIGILL},	   {"trap", SIGTRAP},	  {"abrt", SIGABRT},
	    {"bus", SIGBUS},	   {"fpe", SIGFPE},	  {"kill", SIGKILL},
	    {"usr1", SIGUSR1},	   {"segv", SIGSEGV},	  {"usr2", SIGUSR2},
	    {"pipe", SIGPIPE},	   {"alrm", SIGALRM},	  {"term", SIGTERM},
	    {"stkflt", SIGSTKFLT}, {"chld", SIGCHLD},	  {"cont", SIGCONT},
	    {"stop", SIGSTOP},	   {"tstp", SIGTSTP},	  {"ttin", SIGTTIN},
	    {"ttou", SIGTTOU},	   {"urg", SIGURG},	  {"xcpu", SIGXCPU},
	    {"xfsz", SIGXFSZ},	   {"vtalrm", SIGVTALRM}, {"prof", SIGPROF},
	    {"winch", SIGWINCH},   {"io", SIGIO},	  {"pwr", SIGPWR},
	    {"sys", SIGSYS},
	};
	assert_int_equal(N(t), 31);
	for (size_t i = 0; i < N(t); i++) {
		char buf[32];
		gfs_err err = {0};
		assert_int_equal(gfs_signal_parse(t[i].name, &err), t[i].sig);
		strcpy(buf, t[i].name);
		for (char *p = buf; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		assert_int_equal(gfs_signal_parse(buf, &err), t[i].sig);
		snprintf(buf, sizeof buf, "SIG%s", t[i].name);
		assert_int_equal(gfs_signal_parse(buf, &err), t[i].sig);
		snprintf(buf, sizeof buf, "sig%s", t[i].name);
		assert_int_equal(gfs_signal_parse(buf, &err), t[i].sig);
		assert_string_equal(gfs_signal_name(t[i].sig), t[i].name);
	}
	gfs_err err = {0};
	assert_int_equal(gfs_signal_parse("SigTerm", &err), SIGTERM);
	assert_int_equal(gfs_signal_parse("KiLl", &err), SIGKILL);
	assert_null(gfs_signal_name(0));
	assert_null(gfs_signal_name(-1));
	assert_null(gfs_signal_name(1000));
}

static void test_signals_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "",	     "15",     "9",	"SIG15",     "-9",	   "sig",
	    "SIG",   "term ",  " term", "terminate", "sigsigterm", "rtmin",
	    "te rm", "term\n", "foo",	"SIGTERMX",
	};
	for (size_t i = 0; i < N(t); i++) {
		gfs_err err = {0};
		assert_int_equal(gfs_signal_parse(t[i], &err), -EINVAL);
		assert_reason(&err);
	}
	gfs_err err = {0};
	assert_int_equal(gfs_signal_parse(NULL, &err), -EINVAL);
	/* the number refusal points at names */
	gfs_signal_parse("15", &err);
	assert_non_null(strstr(err.msg, "name"));
}

static void test_quote(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} t[] = {
	    {"abc", "abc"},
	    {"/bin/sh", "/bin/sh"},
	    {"A=1", "A=1"},
	    {"a-b_c.d/e:f=g@h%i+j,k", "a-b_c.d/e:f=g@h%i+j,k"},
	    {"", "''"},
	    {"a b", "'a b'"},
	    {"it's", "'it'\\''s'"},
	    {"'", "''\\'''"},
	    {"$HOME", "'$HOME'"},
	    {"a\"b", "'a\"b'"},
	    {"a\\b", "'a\\b'"},
	    {"a\tb", "'a\tb'"},
	    {"a\nb", "'a\nb'"},
	    {"*", "'*'"},
	    {"ü", "'ü'"},
	};
	for (size_t i = 0; i < N(t); i++) {
		char *q = gfs_quote_word(t[i].in);
		assert_string_equal(q, t[i].want);
		free(q);
	}
}

/* Quoting then splitting gives back the very words, one by one and
 * joined into a line. */
static void test_quote_roundtrip(void **state)
{
	(void)state;
	static const char *const words[] = {
	    "",	     "plain", "a b",	   "it's",     "''",
	    "\"",    "\\",    "\\'",	   "a\nb",     "\t",
	    "$(rm)", "`x`",   "a'b\"c\\d", " lead",    "trail ",
	    "'''",   "x''y",  "--opt=1",   "ü ñ",      "#",
	    "a;b",   "~",     "*?[]",	   "\x01\x7f", "!",
	};
	sbuf line = SBUF_INIT;
	for (size_t i = 0; i < N(words); i++) {
		char *q = gfs_quote_word(words[i]);
		gfs_err err = {0};
		char **w = NULL;
		assert_int_equal(gfs_split_words(q, &w, &err), 0);
		assert_int_equal(gfs_strv_len(w), 1);
		assert_string_equal(w[0], words[i]);
		gfs_strv_free(w);
		if (i)
			sbuf_addc(&line, ' ');
		sbuf_adds(&line, q);
		free(q);
	}
	gfs_err err = {0};
	char **w = NULL;
	assert_int_equal(gfs_split_words(line.s, &w, &err), 0);
	assert_int_equal(gfs_strv_len(w), N(words));
	for (size_t i = 0; i < N(words); i++)
		assert_string_equal(w[i], words[i]);
	gfs_strv_free(w);
	sbuf_free(&line);
}

/* Every byte value 1..255 survives quote then split. */
static void test_quote_all_bytes(void **state)
{
	(void)state;
	for (int c = 1; c < 256; c++) {
		char word[4] = {'x', (char)c, 'y', 0};
		char *q = gfs_quote_word(word);
		char **w = NULL;
		gfs_err err = {0};
		assert_int_equal(gfs_split_words(q, &w, &err), 0);
		assert_int_equal(gfs_strv_len(w), 1);
		assert_string_equal(w[0], word);
		gfs_strv_free(w);
		free(q);
	}
}

/* Random lines from an alphabet rich in quotes and escapes: splitting
 * never crashes, and when it succeeds, quoting the words and splitting
 * again gives the same words.  A fixed seed keeps failures repeatable. */
static void test_split_random(void **state)
{
	(void)state;
	static const char alphabet[] = "ab '\"\\\t\n$`=x";
	uint32_t seed = 12345;
	for (int round = 0; round < 20000; round++) {
		char line[24];
		seed = seed * 1103515245 + 12345;
		size_t n = (seed >> 16) % (sizeof line);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			line[i] =
			    alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		line[n] = '\0';

		gfs_err err = {0};
		char **w = NULL;
		if (gfs_split_words(line, &w, &err) < 0) {
			assert_null(w);
			assert_reason(&err);
			continue;
		}
		sbuf q = SBUF_INIT;
		for (size_t i = 0; w[i]; i++) {
			char *qw = gfs_quote_word(w[i]);
			if (i)
				sbuf_addc(&q, ' ');
			sbuf_adds(&q, qw);
			free(qw);
		}
		char **w2 = NULL;
		assert_int_equal(gfs_split_words(q.s ? q.s : "", &w2, &err), 0);
		assert_int_equal(gfs_strv_len(w2), gfs_strv_len(w));
		for (size_t i = 0; w[i]; i++)
			assert_string_equal(w2[i], w[i]);
		gfs_strv_free(w);
		gfs_strv_free(w2);
		sbuf_free(&q);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_good),
	    cmocka_unit_test(test_command_bad),
	    cmocka_unit_test(test_command_length),
	    cmocka_unit_test(test_command_reason_escaped),
	    cmocka_unit_test(test_excerpt),
	    cmocka_unit_test(test_u64_good),
	    cmocka_unit_test(test_u64_bad),
	    cmocka_unit_test(test_size_good),
	    cmocka_unit_test(test_size_bad),
	    cmocka_unit_test(test_handle),
	    cmocka_unit_test(test_split_good),
	    cmocka_unit_test(test_split_bad),
	    cmocka_unit_test(test_signals),
	    cmocka_unit_test(test_signals_bad),
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_quote_roundtrip),
	    cmocka_unit_test(test_quote_all_bytes),
	    cmocka_unit_test(test_split_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
