/* The tree of gardenfs/tab.c: every file SPEC.md promises is in its
 * directory with the right kind and mode, names are unique per directory,
 * every row has its own id and the scope its place says, and inode numbers
 * round-trip and never collide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gardenfs/gfs.h"

/* The row at a path of fixed names, "*" for a dynamic entry. */
static const struct gfs_row *at(const char *path)
{
	const struct gfs_row *r = &gfs_root;
	char buf[256];
	strcpy(buf, path);
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "*") == 0)
			r = r->dyn ? r->dyn->row : NULL;
		else
			r = gfs_row_find(r, c);
		if (!r)
			return NULL;
	}
	return r;
}

static int setup(void **state)
{
	(void)state;
	gfs_tab_init();
	return 0;
}

static void expect_rows(const char *dir, const char *const *names)
{
	const struct gfs_row *d = at(dir);
	assert_non_null(d);
	assert_true(gfs_row_is_dir(d));
	size_t n = 0;
	for (const struct gfs_row *const *r = d->rows; r && *r; r++)
		n++;
	size_t want = 0;
	for (; names[want]; want++) {
		const struct gfs_row *r = gfs_row_find(d, names[want]);
		assert_non_null(r);
		assert_string_equal(r->name, names[want]);
	}
	assert_int_equal(n, want);
}

static void test_tables_match_spec(void **state)
{
	(void)state;
	expect_rows("", (const char *const[]){"ctl", "ping", "capacity",
					      "errors", NULL});
	expect_rows("*", (const char *const[]){
			     "info", "stop", "events", "grace", "errors",
			     "metrics", "limits", "properties", "procs", "net",
			     "streamin", "streamout", NULL});
	expect_rows("*/limits",
		    (const char *const[]){"memory", "cpu", "pids", "disk",
					  "bandwidth", NULL});
	expect_rows("*/net", (const char *const[]){"in", "out", NULL});
	expect_rows("*/procs", (const char *const[]){"new", NULL});
	expect_rows("*/procs/*",
		    (const char *const[]){"stdin", "stdout", "stderr", "wait",
					  "signal", "status", "tty", NULL});
	expect_rows("*/properties", (const char *const[]){NULL});
	assert_null(at("*/nosuch"));
	assert_null(at("*/info/x"));
	/* the dynamic entries: containers, processes, properties */
	assert_non_null(at("")->dyn);
	assert_non_null(at("*/procs")->dyn);
	assert_non_null(at("*/properties")->dyn);
	assert_null(at("*/limits")->dyn);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_ptr_equal(at("ctl")->kind, &gfs_kind_clone);
	assert_ptr_equal(at("ping")->kind, &gfs_kind_text);
	assert_ptr_equal(at("*/procs/new")->kind, &gfs_kind_clone);
	assert_ptr_equal(at("*/procs/*/stdout")->kind, &gfs_kind_stream);
	assert_ptr_equal(at("*/procs/*/stderr")->kind, &gfs_kind_stream);
	assert_ptr_equal(at("*/procs/*/wait")->kind, &gfs_kind_wait);
	assert_ptr_equal(at("*/procs/*/stdin")->kind, &gfs_kind_stdin);
	assert_ptr_equal(at("*/properties/*")->kind, &gfs_kind_prop);
	assert_ptr_equal(at("*/limits/memory")->kind, &gfs_kind_cmd);
	/* every text row renders, every command row has a handler */
	const char *texts[] = {"ping",	    "capacity",	       "errors",
			       "*/info",    "*/events",	       "*/errors",
			       "*/metrics", "*/procs/*/status"};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		assert_non_null(at(texts[i])->render);
	const char *cmds[] = {"ctl",
			      "*/stop",
			      "*/grace",
			      "*/limits/memory",
			      "*/limits/cpu",
			      "*/limits/pids",
			      "*/limits/disk",
			      "*/procs/new",
			      "*/procs/*/signal"};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		assert_non_null(at(cmds[i])->cmd);
	/* info and events can be polled for changes */
	assert_non_null(at("*/info")->version);
	assert_non_null(at("*/events")->version);
}

static void test_modes(void **state)
{
	(void)state;
	for (unsigned id = 1; gfs_row_by_id((uint8_t)id); id++) {
		const struct gfs_row *r = gfs_row_by_id((uint8_t)id);
		if (gfs_row_is_dir(r))
			assert_true(S_ISDIR(r->mode));
		else
			assert_true(S_ISREG(r->mode));
	}
	/* read-only state and write-only commands */
	assert_int_equal(at("*/info")->mode & 0222, 0);
	assert_int_equal(at("*/stop")->mode & 0444, 0);
	assert_int_equal(at("*/procs/*/signal")->mode & 0444, 0);
	assert_int_equal(at("*/procs/*/stdin")->mode & 0444, 0);
	assert_int_equal(at("*/procs/*/stdout")->mode & 0222, 0);
	assert_int_equal(at("*/procs/new")->mode & 0777, 0600);
	assert_int_equal(at("ctl")->mode & 0777, 0600);
}

static void test_ids_and_scopes(void **state)
{
	(void)state;
	/* ids are unique and name their row back */
	unsigned n = 0;
	for (unsigned id = 1; id < 256 && gfs_row_by_id((uint8_t)id); id++) {
		assert_int_equal(gfs_row_by_id((uint8_t)id)->id, id);
		n++;
	}
	assert_int_equal(n, 35);
	assert_int_equal(gfs_root.id, 1);
	assert_int_equal(at("ping")->scope, GFS_TOP);
	assert_int_equal(at("*")->scope, GFS_CTR);
	assert_int_equal(at("*/limits/disk")->scope, GFS_CTR);
	assert_int_equal(at("*/procs/new")->scope, GFS_CTR);
	assert_int_equal(at("*/procs/*")->scope, GFS_PROC);
	assert_int_equal(at("*/procs/*/wait")->scope, GFS_PROC);
	assert_int_equal(at("*/properties/*")->scope, GFS_PROP);
}

static void test_names_unique(void **state)
{
	(void)state;
	for (unsigned id = 1; gfs_row_by_id((uint8_t)id); id++) {
		const struct gfs_row *d = gfs_row_by_id((uint8_t)id);
		for (const struct gfs_row *const *a = d->rows; a && *a; a++)
			for (const struct gfs_row *const *b = a + 1; *b; b++)
				assert_string_not_equal((*a)->name, (*b)->name);
	}
}

static void test_root_is_one(void **state)
{
	(void)state;
	assert_int_equal(gfs_ino(0, 0, gfs_root.id), FUSE_ROOT_ID);
	uint32_t slot;
	uint64_t idx;
	uint8_t id;
	gfs_ino_split(FUSE_ROOT_ID, &slot, &idx, &id);
	assert_int_equal(id, gfs_root.id);
	assert_int_equal(slot, 0);
}

static void test_ino_round_trip(void **state)
{
	(void)state;
	const uint32_t slots[] = {0, 1, 2, 77, (1u << 20) - 1};
	const uint64_t idxs[] = {0, 1, 42, UINT32_MAX, (1ULL << 36) - 1};
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 5; b++)
			for (unsigned t = 2; gfs_row_by_id((uint8_t)t); t++) {
				fuse_ino_t ino =
				    gfs_ino(slots[a], idxs[b], (uint8_t)t);
				assert_int_not_equal(ino, FUSE_ROOT_ID);
				uint32_t s;
				uint64_t i;
				uint8_t tt;
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
	uint8_t proc = at("*/procs/*")->id, prop = at("*/properties/*")->id;
	uint8_t out = at("*/procs/*/stdout")->id;
	assert_int_not_equal(gfs_ino(1, 1, proc), gfs_ino(1, 1, prop));
	assert_int_not_equal(gfs_ino(1, 1, out), gfs_ino(2, 1, out));
	assert_int_not_equal(gfs_ino(1, 1, out), gfs_ino(1, 2, out));
	assert_int_not_equal(gfs_ino(0, 0, at("ctl")->id),
			     gfs_ino(1, 0, at("*")->id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables_match_spec),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_ids_and_scopes),
	    cmocka_unit_test(test_names_unique),
	    cmocka_unit_test(test_root_is_one),
	    cmocka_unit_test(test_ino_round_trip),
	    cmocka_unit_test(test_ino_distinct),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
