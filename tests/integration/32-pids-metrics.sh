#!/bin/bash
# A pids limit contains a fork bomb (the host, the daemon and other
# containers go on; stop kill cleans it up); metrics has every key and
# changes after CPU work and after allocating memory; process rlimits.
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the test image"

echo "create handle=bomb pids=64" >"$MNT/ctl" || fatal "create bomb"
mkdir "$MNT/calm" || fatal "mkdir calm"
id=$(run_proc bomb "/bin/ctr-helper forkbomb") || fatal "forkbomb"
wait_until 20 grep -q "forked" "$MNT/bomb/procs/$id/stdout" || fail "the fork bomb never hit its limit"
# the bomb never exits: read its one line, not the whole stream
assert_contains "$(tmo grep -m1 forked "$MNT/bomb/procs/$id/stdout")" "Resource temporarily unavailable" "fork fails with EAGAIN inside"
cur=$(kv "$MNT/bomb/metrics" pids.current)
[ -n "$cur" ] && [ "$cur" -le 64 ] && [ "$cur" -ge 50 ] || fail "pids.current $cur not near the limit 64"
assert_eq 64 "$(kv "$MNT/bomb/metrics" pids.max)" "pids.max in metrics"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon answers during the bomb"
assert_eq hi "$(ctr_run calm "echo hi")" "another container runs during the bomb"
echo kill >"$MNT/bomb/stop" || fail "stop kill"
assert_eq stopped "$(kv "$MNT/bomb/info" state)" "bomb stopped"
assert_eq 1 "$(kv "$MNT/bomb/metrics" pids.current)" "after stop kill only the container's init is left"

# metrics: every key
m=$(tmo cat "$MNT/calm/metrics")
for k in cache rss mapped_file pgpgin pgpgout swap pgfault pgmajfault inactive_anon \
	active_anon inactive_file active_file unevictable hierarchical_memory_limit \
	hierarchical_memsw_limit total_cache total_rss total_mapped_file total_pgpgin \
	total_pgpgout total_swap total_pgfault total_pgmajfault total_inactive_anon \
	total_active_anon total_inactive_file total_active_file total_unevictable \
	total_usage_toward_limit; do
	printf '%s\n' "$m" | grep -Eq "^memory\.$k [0-9]+$" || fail "metrics lacks memory.$k"
done
for k in cpu.usage cpu.user cpu.system disk.bytes_used disk.inodes_used pids.current pids.max age; do
	printf '%s\n' "$m" | grep -Eq "^${k//./\\.} [0-9]+$" || fail "metrics lacks $k"
done
cpu0=$(kv "$MNT/calm/metrics" cpu.usage)
rss0=$(kv "$MNT/calm/metrics" memory.total_rss)
age0=$(kv "$MNT/calm/metrics" age)
ctr_sh calm 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done' >/dev/null
cpu1=$(kv "$MNT/calm/metrics" cpu.usage)
[ "$cpu1" -gt "$cpu0" ] || fail "cpu.usage did not grow after CPU work ($cpu0 -> $cpu1)"
hog=$(run_proc calm "/bin/ctr-helper memhog 30") || fail "memhog 30"
wait_until 10 grep -q allocated "$MNT/calm/procs/$hog/stdout" || fail "memhog 30 did not allocate"
rss1=$(kv "$MNT/calm/metrics" memory.total_rss)
[ "$rss1" -gt $((rss0 + 25 * 1048576)) ] || fail "total_rss did not grow by 30 MiB ($rss0 -> $rss1)"
age1=$(kv "$MNT/calm/metrics" age)
[ "$age1" -gt "$age0" ] || fail "age did not grow ($age0 -> $age1)"

# process rlimits from a JSON spec
assert_eq 30 "$(ctr_run calm '{"path":"/bin/sh","args":["-c","ulimit -n"],"rlimits":{"nofile":30}}')" "ulimit -n shows nofile"
out=$(ctr_run calm '{"path":"/bin/sh","args":["-c","exec 29>/dev/null && echo ok29; exec 30>/dev/null && echo ok30"],"rlimits":{"nofile":30}}' 2>&1)
assert_eq ok29 "$out" "fd 29 works, fd 30 does not under nofile=30"
assert_eq 1024 "$(ctr_run calm '{"path":"/bin/sh","args":["-c","ulimit -s"],"rlimits":{"stack":1048576}}')" "stack rlimit"
assert_errno EINVAL "$MNT/calm/procs/new" '{"path":"/bin/true","rlimits":{"nofile":-1}}' "negative rlimit"
assert_errno EINVAL "$MNT/calm/procs/new" '{"path":"/bin/true","rlimits":{"files":1}}' "unknown rlimit"
rmdir "$MNT/bomb" "$MNT/calm" || fail "rmdir"
gfs_done
