/* cmocka tests for the pure parts of runtime/cgroup.c: shares <-> weight,
 * the memory.stat parsers (v1 and v2), Garden's usage-toward-limit, the
 * files and values each limit setter writes, and cg_mem_names.  No kernel
 * needed: the real-kernel check is tests/cg-smoke.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "runtime/cgroup.h"

static void test_shares_to_weight(void **state)
{
	(void)state;
	/* crun: 1 + ((shares - 2) * 9999) / 262142 */
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_int_equal(cg_shares_to_weight(1024), 39);
	assert_int_equal(cg_shares_to_weight(50), 2);
	/* out of the kernel's range: clamped as the kernel clamps shares */
	assert_int_equal(cg_shares_to_weight(1), 1);
	assert_int_equal(cg_shares_to_weight(1000000), 10000);
	assert_int_equal(cg_shares_to_weight(UINT64_MAX), 10000);
	/* unset: the kernel's default weight */
	assert_int_equal(cg_shares_to_weight(0), 100);
}

static void test_weight_to_shares(void **state)
{
	(void)state;
	assert_int_equal(cg_weight_to_shares(1), 2);
	assert_int_equal(cg_weight_to_shares(10000), 262144);
	assert_int_equal(cg_weight_to_shares(0), 2);
	assert_int_equal(cg_weight_to_shares(20000), 262144);
	/* every weight survives the round trip, and the shares given back
	 * are the smallest that map onto it */
	for (uint64_t w = 1; w <= 10000; w++) {
		uint64_t s = cg_weight_to_shares(w);
		assert_int_equal(cg_shares_to_weight(s), w);
		if (s > 2)
			assert_true(cg_shares_to_weight(s - 1) < w);
	}
	/* shares come back within one weight step (~27 shares) */
	for (uint64_t s = 2; s <= 262144; s += 97) {
		uint64_t back = cg_weight_to_shares(cg_shares_to_weight(s));
		assert_true(back <= s);
		assert_true(s - back < 27);
	}
}

/* memory.stat of a v1 cgroup on 6.x, trimmed a little. */
static const char v1_stat[] = "cache 9265152\n"
			      "rss 7188480\n"
			      "rss_huge 0\n"
			      "shmem 9068544\n"
			      "mapped_file 7639040\n"
			      "dirty 8192\n"
			      "writeback 0\n"
			      "swap 4096\n"
			      "pgpgin 43103\n"
			      "pgpgout 39086\n"
			      "pgfault 58100\n"
			      "pgmajfault 3\n"
			      "inactive_anon 10\n"
			      "active_anon 1531904\n"
			      "inactive_file 20480\n"
			      "active_file 176128\n"
			      "unevictable 14725120\n"
			      "hierarchical_memory_limit 134217728\n"
			      "hierarchical_memsw_limit 9223372036854771712\n"
			      "total_cache 400289792\n"
			      "total_rss 14880768\n"
			      "total_rss_huge 0\n"
			      "total_shmem 9068544\n"
			      "total_mapped_file 12210176\n"
			      "total_dirty 348160\n"
			      "total_swap 8192\n"
			      "total_pgpgin 4747226\n"
			      "total_pgpgout 4649997\n"
			      "total_pgfault 5827043\n"
			      "total_pgmajfault 2000\n"
			      "total_inactive_anon 7577600\n"
			      "total_active_anon 1593344\n"
			      "total_inactive_file 219574272\n"
			      "total_active_file 1000\n"
			      "total_unevictable 2000\n";

static void test_parse_v1(void **state)
{
	(void)state;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	cg_parse_memory_stat_v1(v1_stat, &m);
	assert_int_equal(m.mem[CG_MEM_CACHE], 9265152);
	assert_int_equal(m.mem[CG_MEM_RSS], 7188480);
	assert_int_equal(m.mem[CG_MEM_MAPPED_FILE], 7639040);
	assert_int_equal(m.mem[CG_MEM_PGPGIN], 43103);
	assert_int_equal(m.mem[CG_MEM_PGPGOUT], 39086);
	assert_int_equal(m.mem[CG_MEM_SWAP], 4096);
	assert_int_equal(m.mem[CG_MEM_PGFAULT], 58100);
	assert_int_equal(m.mem[CG_MEM_PGMAJFAULT], 3);
	assert_int_equal(m.mem[CG_MEM_INACTIVE_ANON], 10);
	assert_int_equal(m.mem[CG_MEM_ACTIVE_ANON], 1531904);
	assert_int_equal(m.mem[CG_MEM_INACTIVE_FILE], 20480);
	assert_int_equal(m.mem[CG_MEM_ACTIVE_FILE], 176128);
	assert_int_equal(m.mem[CG_MEM_UNEVICTABLE], 14725120);
	assert_int_equal(m.mem[CG_MEM_HIERARCHICAL_MEMORY_LIMIT], 134217728);
	assert_true(m.mem[CG_MEM_HIERARCHICAL_MEMSW_LIMIT] ==
		    CG_UNLIMITED_BYTES);
	assert_int_equal(m.mem[CG_MEM_TOTAL_CACHE], 400289792);
	assert_int_equal(m.mem[CG_MEM_TOTAL_RSS], 14880768);
	assert_int_equal(m.mem[CG_MEM_TOTAL_MAPPED_FILE], 12210176);
	assert_int_equal(m.mem[CG_MEM_TOTAL_PGPGIN], 4747226);
	assert_int_equal(m.mem[CG_MEM_TOTAL_PGPGOUT], 4649997);
	assert_int_equal(m.mem[CG_MEM_TOTAL_SWAP], 8192);
	assert_int_equal(m.mem[CG_MEM_TOTAL_PGFAULT], 5827043);
	assert_int_equal(m.mem[CG_MEM_TOTAL_PGMAJFAULT], 2000);
	assert_int_equal(m.mem[CG_MEM_TOTAL_INACTIVE_ANON], 7577600);
	assert_int_equal(m.mem[CG_MEM_TOTAL_ACTIVE_ANON], 1593344);
	assert_int_equal(m.mem[CG_MEM_TOTAL_INACTIVE_FILE], 219574272);
	assert_int_equal(m.mem[CG_MEM_TOTAL_ACTIVE_FILE], 1000);
	assert_int_equal(m.mem[CG_MEM_TOTAL_UNEVICTABLE], 2000);
	/* not parsed: computed */
	assert_int_equal(m.mem[CG_MEM_TOTAL_USAGE_TOWARD_LIMIT], 0);
	assert_int_equal(cg_usage_toward_limit(&m),
			 14880768ULL + 400289792ULL - 219574272ULL);
}

static void test_parse_v1_odd_input(void **state)
{
	(void)state;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	/* no trailing newline, junk lines, a prefix of a name, overflow,
	 * a name that is a prefix of another */
	cg_parse_memory_stat_v1("junk\n"
				"rs 5\n"
				"rss_huge 7\n"
				"cache -1\n"
				"swap 99999999999999999999999\n"
				" 3\n"
				"\n"
				"rss 12",
				&m);
	assert_int_equal(m.mem[CG_MEM_RSS], 12);
	assert_int_equal(m.mem[CG_MEM_CACHE], 0);
	assert_int_equal(m.mem[CG_MEM_SWAP], 0);
	cg_parse_memory_stat_v1("", &m);
	assert_int_equal(m.mem[CG_MEM_RSS], 12);
}

/* memory.stat of a v2 cgroup on 6.x (some lines left out). */
static const char v2_stat[] = "anon 1000\n"
			      "file 2000\n"
			      "kernel 300\n"
			      "kernel_stack 16384\n"
			      "sock 0\n"
			      "shmem 400\n"
			      "file_mapped 500\n"
			      "file_dirty 0\n"
			      "anon_thp 0\n"
			      "inactive_anon 600\n"
			      "active_anon 700\n"
			      "inactive_file 800\n"
			      "active_file 900\n"
			      "unevictable 11\n"
			      "slab 12\n"
			      "workingset_refault_file 0\n"
			      "pgscan 0\n"
			      "pgsteal 0\n"
			      "pgactivate 0\n"
			      "pgfault 1234\n"
			      "pgmajfault 56\n"
			      "thp_fault_alloc 0\n";

static void test_parse_v2(void **state)
{
	(void)state;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	cg_parse_memory_stat_v2(v2_stat, &m);
	cg_v2_memory_limits(&m, 4096, 134217728, 0);
	static const struct {
		int field;
		uint64_t v;
	} want[] = {
	    {CG_MEM_CACHE, 2000},
	    {CG_MEM_RSS, 1000},
	    {CG_MEM_MAPPED_FILE, 500},
	    {CG_MEM_PGPGIN, 0},
	    {CG_MEM_PGPGOUT, 0},
	    {CG_MEM_SWAP, 4096},
	    {CG_MEM_PGFAULT, 1234},
	    {CG_MEM_PGMAJFAULT, 56},
	    {CG_MEM_INACTIVE_ANON, 600},
	    {CG_MEM_ACTIVE_ANON, 700},
	    {CG_MEM_INACTIVE_FILE, 800},
	    {CG_MEM_ACTIVE_FILE, 900},
	    {CG_MEM_UNEVICTABLE, 11},
	    {CG_MEM_HIERARCHICAL_MEMORY_LIMIT, 134217728},
	    {CG_MEM_HIERARCHICAL_MEMSW_LIMIT, 134217728},
	    {CG_MEM_TOTAL_CACHE, 2000},
	    {CG_MEM_TOTAL_RSS, 1000},
	    {CG_MEM_TOTAL_MAPPED_FILE, 500},
	    {CG_MEM_TOTAL_PGPGIN, 0},
	    {CG_MEM_TOTAL_PGPGOUT, 0},
	    {CG_MEM_TOTAL_SWAP, 4096},
	    {CG_MEM_TOTAL_PGFAULT, 1234},
	    {CG_MEM_TOTAL_PGMAJFAULT, 56},
	    {CG_MEM_TOTAL_INACTIVE_ANON, 600},
	    {CG_MEM_TOTAL_ACTIVE_ANON, 700},
	    {CG_MEM_TOTAL_INACTIVE_FILE, 800},
	    {CG_MEM_TOTAL_ACTIVE_FILE, 900},
	    {CG_MEM_TOTAL_UNEVICTABLE, 11},
	};
	assert_int_equal(sizeof want / sizeof want[0], CG_MEM_N - 1);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (m.mem[want[i].field] != want[i].v)
			fail_msg("%s: %llu, want %llu",
				 cg_mem_names[want[i].field],
				 (unsigned long long)m.mem[want[i].field],
				 (unsigned long long)want[i].v);
	}
	assert_int_equal(cg_usage_toward_limit(&m), 1000 + 2000 - 800);
}

static void test_v2_limits(void **state)
{
	(void)state;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	/* "max" everywhere: what v1 reports for no limit */
	cg_v2_memory_limits(&m, 0, UINT64_MAX, UINT64_MAX);
	assert_true(m.mem[CG_MEM_HIERARCHICAL_MEMORY_LIMIT] ==
		    CG_UNLIMITED_BYTES);
	assert_true(m.mem[CG_MEM_HIERARCHICAL_MEMSW_LIMIT] ==
		    CG_UNLIMITED_BYTES);
	/* a limit with unlimited swap: memory + swap is unlimited */
	cg_v2_memory_limits(&m, 0, 1 << 20, UINT64_MAX);
	assert_int_equal(m.mem[CG_MEM_HIERARCHICAL_MEMORY_LIMIT], 1 << 20);
	assert_true(m.mem[CG_MEM_HIERARCHICAL_MEMSW_LIMIT] ==
		    CG_UNLIMITED_BYTES);
	/* both limited: the sum, as v1's memsw */
	cg_v2_memory_limits(&m, 7, 1 << 20, 1 << 10);
	assert_int_equal(m.mem[CG_MEM_HIERARCHICAL_MEMSW_LIMIT],
			 (1 << 20) + (1 << 10));
	assert_int_equal(m.mem[CG_MEM_SWAP], 7);
	assert_int_equal(m.mem[CG_MEM_TOTAL_SWAP], 7);
	/* sums near the top do not wrap */
	cg_v2_memory_limits(&m, 0, CG_UNLIMITED_BYTES - 1, 4096);
	assert_true(m.mem[CG_MEM_HIERARCHICAL_MEMSW_LIMIT] ==
		    CG_UNLIMITED_BYTES);
}

static void test_usage_toward_limit(void **state)
{
	(void)state;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	m.mem[CG_MEM_TOTAL_RSS] = 100;
	m.mem[CG_MEM_TOTAL_CACHE] = 50;
	m.mem[CG_MEM_TOTAL_INACTIVE_FILE] = 30;
	/* the per-cgroup (non-total) fields do not count */
	m.mem[CG_MEM_RSS] = 1000000;
	m.mem[CG_MEM_INACTIVE_FILE] = 1000000;
	assert_int_equal(cg_usage_toward_limit(&m), 120);
	/* counters read at different instants can disagree: clamp at 0 */
	m.mem[CG_MEM_TOTAL_INACTIVE_FILE] = 500;
	assert_int_equal(cg_usage_toward_limit(&m), 0);
	m.mem[CG_MEM_TOTAL_INACTIVE_FILE] = 150;
	assert_int_equal(cg_usage_toward_limit(&m), 0);
}

static void test_cpu(void **state)
{
	(void)state;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	cg_parse_cpu_stat_v2("usage_usec 221266521\n"
			     "user_usec 161639631\n"
			     "system_usec 59626890\n"
			     "nice_usec 0\n"
			     "core_sched.force_idle_usec 0\n",
			     &m);
	assert_true(m.cpu_usage == 221266521000ULL);
	assert_true(m.cpu_user == 161639631000ULL);
	assert_true(m.cpu_system == 59626890000ULL);

	memset(&m, 0, sizeof m);
	cg_parse_cpuacct_stat("user 150\nsystem 25\n", 100, &m);
	assert_true(m.cpu_user == 1500000000ULL);
	assert_true(m.cpu_system == 250000000ULL);
	cg_parse_cpuacct_stat("user 3\nsystem 1\n", 1000, &m);
	assert_true(m.cpu_user == 3000000ULL);
	assert_true(m.cpu_system == 1000000ULL);
}

static void test_kv_and_values(void **state)
{
	(void)state;
	uint64_t v = 0;
	const char *oc = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
	assert_int_equal(cg_kv_get(oc, "oom_kill", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cg_kv_get(oc, "oom_kill_disable", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cg_kv_get(oc, "oom", &v), -ENOENT);
	const char *ev = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\n"
			 "oom_group_kill 0\n";
	assert_int_equal(cg_kv_get(ev, "oom_kill", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cg_kv_get(ev, "oom", &v), 0);
	assert_int_equal(v, 2);

	assert_int_equal(cg_parse_value("134217728\n", &v), 0);
	assert_int_equal(v, 134217728);
	assert_int_equal(cg_parse_value("9223372036854771712\n", &v), 0);
	assert_true(v == CG_UNLIMITED_BYTES);
	assert_int_equal(cg_parse_value("max\n", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cg_parse_value("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cg_parse_value("18446744073709551616", &v), -EINVAL);
	assert_int_equal(cg_parse_value("", &v), -EINVAL);
	assert_int_equal(cg_parse_value("\n", &v), -EINVAL);
	assert_int_equal(cg_parse_value("-1\n", &v), -EINVAL);
	assert_int_equal(cg_parse_value("12 34\n", &v), -EINVAL);
	assert_int_equal(cg_parse_value("12\n34\n", &v), -EINVAL);
	assert_int_equal(cg_parse_value("maxx", &v), -EINVAL);
}

static void check_files(enum cg_version ver, enum cg_limit l,
			const char *const *want)
{
	const char *const *got = cg_limit_files(ver, l);
	assert_non_null(got);
	size_t i = 0;
	for (; want[i]; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
}

static void test_limit_files(void **state)
{
	(void)state;
	/* Garden's order on v1: limit, memsw, limit */
	check_files(CG_V1, CG_LIMIT_MEMORY,
		    (const char *const[]){"memory.limit_in_bytes",
					  "memory.memsw.limit_in_bytes",
					  "memory.limit_in_bytes", NULL});
	check_files(
	    CG_V2, CG_LIMIT_MEMORY,
	    (const char *const[]){"memory.max", "memory.swap.max", NULL});
	check_files(CG_V1, CG_LIMIT_CPU,
		    (const char *const[]){"cpu.shares", NULL});
	check_files(CG_V2, CG_LIMIT_CPU,
		    (const char *const[]){"cpu.weight", NULL});
	check_files(CG_V1, CG_LIMIT_PIDS,
		    (const char *const[]){"pids.max", NULL});
	check_files(CG_V2, CG_LIMIT_PIDS,
		    (const char *const[]){"pids.max", NULL});
}

static void check_fmt(enum cg_version ver, enum cg_limit l, size_t i,
		      uint64_t value, const char *want)
{
	char buf[32];
	memset(buf, 'x', sizeof buf);
	cg_limit_format(ver, l, i, value, buf);
	assert_string_equal(buf, want);
}

static void test_limit_values(void **state)
{
	(void)state;
	/* memory: 0 is unlimited */
	check_fmt(CG_V1, CG_LIMIT_MEMORY, 0, 134217728, "134217728");
	check_fmt(CG_V1, CG_LIMIT_MEMORY, 1, 134217728, "134217728");
	check_fmt(CG_V1, CG_LIMIT_MEMORY, 2, 134217728, "134217728");
	check_fmt(CG_V1, CG_LIMIT_MEMORY, 0, 0, "-1");
	check_fmt(CG_V1, CG_LIMIT_MEMORY, 1, 0, "-1");
	check_fmt(CG_V1, CG_LIMIT_MEMORY, 0, UINT64_MAX,
		  "18446744073709551615");
	check_fmt(CG_V2, CG_LIMIT_MEMORY, 0, 134217728, "134217728");
	/* v2: a memory limit means no swap (v1's memsw == limit) */
	check_fmt(CG_V2, CG_LIMIT_MEMORY, 1, 134217728, "0");
	check_fmt(CG_V2, CG_LIMIT_MEMORY, 0, 0, "max");
	check_fmt(CG_V2, CG_LIMIT_MEMORY, 1, 0, "max");
	/* cpu: shares on v1, weight on v2; 0 is the default */
	check_fmt(CG_V1, CG_LIMIT_CPU, 0, 50, "50");
	check_fmt(CG_V1, CG_LIMIT_CPU, 0, 0, "1024");
	check_fmt(CG_V1, CG_LIMIT_CPU, 0, 1, "2");
	check_fmt(CG_V1, CG_LIMIT_CPU, 0, 262145, "262144");
	check_fmt(CG_V1, CG_LIMIT_CPU, 0, UINT64_MAX, "262144");
	check_fmt(CG_V2, CG_LIMIT_CPU, 0, 1024, "39");
	check_fmt(CG_V2, CG_LIMIT_CPU, 0, 2, "1");
	check_fmt(CG_V2, CG_LIMIT_CPU, 0, 262144, "10000");
	check_fmt(CG_V2, CG_LIMIT_CPU, 0, 0, "100");
	/* pids: 0 is unlimited (Garden's meaning, not runc's) */
	check_fmt(CG_V1, CG_LIMIT_PIDS, 0, 64, "64");
	check_fmt(CG_V1, CG_LIMIT_PIDS, 0, 0, "max");
	check_fmt(CG_V2, CG_LIMIT_PIDS, 0, 64, "64");
	check_fmt(CG_V2, CG_LIMIT_PIDS, 0, 0, "max");
	check_fmt(CG_V1, CG_LIMIT_PIDS, 0, 4194304, "4194304");
	check_fmt(CG_V1, CG_LIMIT_PIDS, 0, 4194305, "max");
	check_fmt(CG_V2, CG_LIMIT_PIDS, 0, UINT64_MAX, "max");
}

static void test_mem_names(void **state)
{
	(void)state;
	static const char *const seed[] = {
	    "cache",
	    "rss",
	    "mapped_file",
	    "pgpgin",
	    "pgpgout",
	    "swap",
	    "pgfault",
	    "pgmajfault",
	    "inactive_anon",
	    "active_anon",
	    "inactive_file",
	    "active_file",
	    "unevictable",
	    "hierarchical_memory_limit",
	    "hierarchical_memsw_limit",
	    "total_cache",
	    "total_rss",
	    "total_mapped_file",
	    "total_pgpgin",
	    "total_pgpgout",
	    "total_swap",
	    "total_pgfault",
	    "total_pgmajfault",
	    "total_inactive_anon",
	    "total_active_anon",
	    "total_inactive_file",
	    "total_active_file",
	    "total_unevictable",
	    "total_usage_toward_limit",
	};
	assert_int_equal(sizeof seed / sizeof seed[0], CG_MEM_N);
	assert_int_equal(CG_MEM_TOTAL_USAGE_TOWARD_LIMIT, CG_MEM_N - 1);
	for (int i = 0; i < CG_MEM_N; i++) {
		assert_non_null(cg_mem_names[i]);
		assert_string_equal(cg_mem_names[i], seed[i]);
	}
	assert_string_equal(cg_mem_names[CG_MEM_TOTAL_RSS], "total_rss");
	assert_string_equal(cg_mem_names[CG_MEM_HIERARCHICAL_MEMSW_LIMIT],
			    "hierarchical_memsw_limit");
}

/* ---- devices ---- */

static bool has_rule(const struct cg_dev_rule *r, size_t n, char type,
		     int64_t maj, int64_t min, unsigned acc)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].type == type && r[i].major == maj &&
		    r[i].minor == min && r[i].access == acc)
			return true;
	return false;
}

static void test_dev_defaults(void **state)
{
	(void)state;
	struct cg_dev_rule r[32];
	size_t n = cg_dev_defaults(false, r, 32);
	assert_int_equal(n, 10);
	const int64_t chars[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8},
				    {1, 9}, {5, 0}, {5, 2}, {136, -1}};
	for (size_t i = 0; i < 8; i++)
		assert_true(
		    has_rule(r, n, 'c', chars[i][0], chars[i][1], CG_DEV_ALL));
	assert_true(has_rule(r, n, 'c', -1, -1, CG_DEV_MKNOD));
	assert_true(has_rule(r, n, 'b', -1, -1, CG_DEV_MKNOD));
	/* no block device is usable, no other char device */
	for (size_t i = 0; i < n; i++)
		if (r[i].type == 'b')
			assert_int_equal(r[i].access, CG_DEV_MKNOD);
	assert_false(has_rule(r, n, 'c', 10, 229, CG_DEV_ALL));
	size_t np = cg_dev_defaults(true, r, 32);
	assert_int_equal(np, 12);
	assert_true(has_rule(r, np, 'c', 10, 229, CG_DEV_ALL));
	assert_true(has_rule(r, np, 'c', 10, 200, CG_DEV_ALL));
	/* a short buffer is never overrun */
	assert_int_equal(cg_dev_defaults(true, r, 3), 3);
}

static void test_dev_format_v1(void **state)
{
	(void)state;
	char b[64];
	struct cg_dev_rule r = {'c', 1, 3, CG_DEV_ALL};
	cg_dev_format_v1(&r, b);
	assert_string_equal(b, "c 1:3 rwm");
	r = (struct cg_dev_rule){'c', 136, -1, CG_DEV_ALL};
	cg_dev_format_v1(&r, b);
	assert_string_equal(b, "c 136:* rwm");
	r = (struct cg_dev_rule){'b', -1, -1, CG_DEV_MKNOD};
	cg_dev_format_v1(&r, b);
	assert_string_equal(b, "b *:* m");
	r = (struct cg_dev_rule){'b', 8, 0, CG_DEV_READ};
	cg_dev_format_v1(&r, b);
	assert_string_equal(b, "b 8:0 r");
}

/* The eBPF the program uses: loads from the context, 64-bit ALU with
 * immediates and registers, JNE and EXIT. */
static int ebpf_run(const struct bpf_insn *p, int n, uint32_t access_type,
		    uint32_t major, uint32_t minor)
{
	struct bpf_cgroup_dev_ctx ctx = {access_type, major, minor};
	uint64_t r[11] = {0};
	r[1] = (uint64_t)(uintptr_t)&ctx;
	for (int pc = 0; pc < n;) {
		struct bpf_insn i = p[pc++];
		switch (i.code) {
		case BPF_LDX | BPF_MEM | BPF_W: {
			assert_int_equal(i.src_reg, 1);
			assert_true(i.off >= 0 && i.off + 4 <= (int)sizeof ctx);
			uint32_t v;
			memcpy(&v, (char *)&ctx + i.off, 4);
			r[i.dst_reg] = v;
			break;
		}
		case BPF_ALU64 | BPF_MOV | BPF_X:
			r[i.dst_reg] = r[i.src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i.dst_reg] = (uint64_t)(int64_t)i.imm;
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			r[i.dst_reg] &= (uint64_t)(int64_t)i.imm;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			r[i.dst_reg] >>= i.imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (r[i.dst_reg] != (uint64_t)(int64_t)i.imm)
				pc += i.off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			fail_msg("unexpected eBPF opcode 0x%x", i.code);
		}
		assert_true(pc >= 0 && pc <= n);
	}
	fail_msg("the device program ran off its end");
	return -1;
}

#define ACC(t, a) (((uint32_t)(a) << 16) | (uint32_t)(t))
#define CHR	  BPF_DEVCG_DEV_CHAR
#define BLK	  BPF_DEVCG_DEV_BLOCK
#define RW	  (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static void test_dev_bpf(void **state)
{
	(void)state;
	struct cg_dev_rule r[32];
	struct bpf_insn p[512];
	size_t n = cg_dev_defaults(false, r, 32);
	r[n++] = (struct cg_dev_rule){'b', 7, 3, CG_DEV_READ}; /* a bind */
	int k = cg_dev_bpf(r, n, p, 512);
	assert_true(k > 0);
	/* the nodes of /dev, read and write */
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 1, 3), 1);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 1, 9), 1);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 5, 2), 1);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 136, 4242), 1);
	/* mknod of anything, but no use of it */
	assert_int_equal(ebpf_run(p, k, ACC(BLK, BPF_DEVCG_ACC_MKNOD), 8, 0),
			 1);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, BPF_DEVCG_ACC_MKNOD), 1, 1),
			 1);
	assert_int_equal(ebpf_run(p, k, ACC(BLK, BPF_DEVCG_ACC_READ), 8, 0), 0);
	assert_int_equal(ebpf_run(p, k, ACC(BLK, RW), 259, 0), 0);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, BPF_DEVCG_ACC_READ), 1, 1),
			 0);					    /* mem */
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 1, 11), 0);   /* kmsg */
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 10, 229), 0); /* fuse */
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 3, 3), 0);
	/* null as a block device is not null */
	assert_int_equal(ebpf_run(p, k, ACC(BLK, RW), 1, 3), 0);
	/* the bound block device: read only, as its rule says */
	assert_int_equal(ebpf_run(p, k, ACC(BLK, BPF_DEVCG_ACC_READ), 7, 3), 1);
	assert_int_equal(ebpf_run(p, k, ACC(BLK, RW), 7, 3), 0);
	assert_int_equal(ebpf_run(p, k, ACC(BLK, BPF_DEVCG_ACC_READ), 7, 4), 0);
	/* privileged: fuse and tun too */
	n = cg_dev_defaults(true, r, 32);
	k = cg_dev_bpf(r, n, p, 512);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 10, 229), 1);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 10, 200), 1);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 10, 237), 0);
	/* no rules at all: nothing allowed; too small a buffer: E2BIG */
	k = cg_dev_bpf(r, 0, p, 512);
	assert_int_equal(ebpf_run(p, k, ACC(CHR, RW), 1, 3), 0);
	assert_int_equal(cg_dev_bpf(r, n, p, 10), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shares_to_weight),
	    cmocka_unit_test(test_weight_to_shares),
	    cmocka_unit_test(test_parse_v1),
	    cmocka_unit_test(test_parse_v1_odd_input),
	    cmocka_unit_test(test_parse_v2),
	    cmocka_unit_test(test_v2_limits),
	    cmocka_unit_test(test_usage_toward_limit),
	    cmocka_unit_test(test_cpu),
	    cmocka_unit_test(test_kv_and_values),
	    cmocka_unit_test(test_limit_files),
	    cmocka_unit_test(test_limit_values),
	    cmocka_unit_test(test_mem_names),
	    cmocka_unit_test(test_dev_defaults),
	    cmocka_unit_test(test_dev_format_v1),
	    cmocka_unit_test(test_dev_bpf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
