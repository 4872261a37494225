/* The node tables and inode numbers of gardenfs/tab.c: every file SPEC.md
 * promises is in its directory, names are unique per directory, and inode
 * numbers round-trip and never collide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gardenfs/gfs.h"

static void test_root_is_one(void **state)
{
	(void)state;
	assert_int_equal(gfs_ino(0, 0, T_ROOT), FUSE_ROOT_ID);
	uint32_t slot;
	uint64_t idx;
	enum gfs_type t;
	gfs_ino_split(FUSE_ROOT_ID, &slot, &idx, &t);
	assert_int_equal(t, T_ROOT);
	assert_int_equal(slot, 0);
}

static void test_ino_round_trip(void **state)
{
	(void)state;
	const uint32_t slots[] = {0, 1, 2, 77, (1u << 20) - 1};
	const uint64_t idxs[] = {0, 1, 42, UINT32_MAX, (1ULL << 36) - 1};
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 5; b++)
			for (int t = T_CTL; t < T_NTYPES; t++) {
				fuse_ino_t ino = gfs_ino(slots[a], idxs[b], t);
				assert_int_not_equal(ino, FUSE_ROOT_ID);
				uint32_t s;
				uint64_t i;
				enum gfs_type tt;
				gfs_ino_split(ino, &s, &i, &tt);
				assert_int_equal(s, slots[a]);
				assert_int_equal(i, idxs[b]);
				assert_int_equal(tt, t);
			}
}

static void test_ino_distinct(void **state)
{
	(void)state;
	/* the process 1 of container 1 and the property slot 1 differ */
	assert_int_not_equal(gfs_ino(1, 1, T_PROC), gfs_ino(1, 1, T_PROP));
	assert_int_not_equal(gfs_ino(1, 1, T_STDOUT), gfs_ino(2, 1, T_STDOUT));
	assert_int_not_equal(gfs_ino(1, 1, T_STDOUT), gfs_ino(1, 2, T_STDOUT));
	assert_int_not_equal(gfs_ino(0, 0, T_CTL), gfs_ino(1, 0, T_CTR));
}

static void expect_rows(enum gfs_type dir, const char *const *names)
{
	size_t n = 0;
	for (const enum gfs_type *t = gfs_table(dir); *t; t++)
		n++;
	size_t want = 0;
	for (; names[want]; want++) {
		enum gfs_type t = gfs_table_find(dir, names[want]);
		assert_int_not_equal(t, T_NONE);
		assert_string_equal(gfs_nodes[t].name, names[want]);
	}
	assert_int_equal(n, want);
}

static void test_tables_match_spec(void **state)
{
	(void)state;
	expect_rows(T_ROOT, (const char *const[]){"ctl", "ping", "capacity",
						  "errors", NULL});
	expect_rows(T_CTR,
		    (const char *const[]){"info", "stop", "events", "grace",
					  "errors", "metrics", "limits",
					  "properties", "procs", NULL});
	expect_rows(T_LIMITS, (const char *const[]){"memory", "cpu", "pids",
						    "disk", NULL});
	expect_rows(T_PROCS, (const char *const[]){"new", NULL});
	expect_rows(T_PROC,
		    (const char *const[]){"stdin", "stdout", "stderr", "wait",
					  "signal", "status", NULL});
	assert_int_equal(gfs_table_find(T_CTR, "nosuch"), T_NONE);
	assert_int_equal(gfs_table_find(T_INFO, "x"), T_NONE);
}

static void test_modes(void **state)
{
	(void)state;
	for (int t = T_ROOT; t < T_NTYPES; t++) {
		const struct gfs_node *n = &gfs_nodes[t];
		if (n->kind == K_DIR)
			assert_true(S_ISDIR(n->mode));
		else
			assert_true(S_ISREG(n->mode));
	}
	/* read-only state and write-only commands */
	assert_int_equal(gfs_nodes[T_INFO].mode & 0222, 0);
	assert_int_equal(gfs_nodes[T_STOP].mode & 0444, 0);
	assert_int_equal(gfs_nodes[T_SIGNAL].mode & 0444, 0);
	assert_int_equal(gfs_nodes[T_STDIN].mode & 0444, 0);
	assert_int_equal(gfs_nodes[T_STDOUT].mode & 0222, 0);
	assert_int_not_equal(gfs_nodes[T_NEW].mode & 0600, 0);
}

static void test_names_unique(void **state)
{
	(void)state;
	const enum gfs_type dirs[] = {T_ROOT, T_CTR, T_LIMITS, T_PROCS, T_PROC};
	for (size_t d = 0; d < 5; d++)
		for (const enum gfs_type *a = gfs_table(dirs[d]); *a; a++)
			for (const enum gfs_type *b = a + 1; *b; b++)
				assert_string_not_equal(gfs_nodes[*a].name,
							gfs_nodes[*b].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root_is_one),
	    cmocka_unit_test(test_ino_round_trip),
	    cmocka_unit_test(test_ino_distinct),
	    cmocka_unit_test(test_tables_match_spec),
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_names_unique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
