#!/bin/bash
# Every script in examples/shell runs against a live mount and succeeds, and
# leaves no container behind.
. "$(dirname "$0")/../lib.sh"
gfs_start
EX=$GFS_REPO/examples/shell
containers() { ls "$MNT" | grep -vxE 'ctl|ping|capacity|errors'; }

for s in "$EX"/*.sh; do
	n=$(basename "$s")
	[ "$n" = destroy.sh ] && continue
	out=$(GFS_TMO=60 tmo sh "$s" "$MNT" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "$n exited $rc: $out"
	assert_eq "" "$(containers)" "$n left containers behind"
	printf '%s\n' "$out" | sed "s/^/  $n: /" >&2
done

out=$(tmo sh "$EX/create-and-run.sh" "$MNT" 2>&1)
assert_contains "$out" "hello from example-" "create-and-run prints the hostname"
assert_contains "$out" "exit status: 3" "create-and-run prints the status"
assert_contains "$out" "hi from /tmp" "create-and-run's JSON spec"
out=$(tmo sh "$EX/attach-later.sh" "$MNT" 2>&1)
assert_contains "$out" "step 1
step 2
step 3
done" "attach-later reads everything from byte 0"
out=$(tmo sh "$EX/stream-log.sh" "$MNT" 2>&1)
assert_contains "$out" "[log] 1: alpha
[log] 2: beta
[log] 3: gamma
[log] 3 lines" "stream-log follows the output"

out=$(GFS_TMO=60 tmo sh "$EX/stream-tree.sh" "$MNT" 2>&1)
assert_contains "$out" "current.conf -> conf/app.conf" "stream-tree: the symlink arrived as a symlink"
assert_match "$out" "1000 +1000 .* run" "stream-tree: vcap owns what it streamed in"
assert_contains "$out" "serving" "stream-tree: the script it streamed in runs"
assert_contains "$out" "round trip ok" "stream-tree: what came out is what went in"
assert_contains "$out" "refused: streamin /tmp/broken: not a tar stream" "stream-tree: a broken stream's reason"

mkdir "$MNT/one" "$MNT/two" || fail "mkdir for destroy.sh"
run_proc one "/bin/sleep 1000" >/dev/null
out=$(tmo sh "$EX/destroy.sh" "$MNT" one two 2>&1) || fail "destroy.sh failed: $out"
assert_eq "" "$(containers)" "destroy.sh removed the containers"
out=$(tmo sh "$EX/destroy.sh" "$MNT" nosuch 2>&1) && fail "destroy.sh of a missing container succeeded"
gfs_done
