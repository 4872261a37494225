#!/bin/bash
# kill -9 of the daemon, a new start, then destroy: nothing is left, not
# even a zombie of an init (inits are the depot reaper's children, which
# outlives the daemon), no cgroup, no subvolume, no depot files.
. "$(dirname "$0")/../lib.sh"
gfs_start
inst=$(cat "$DEPOT/instance")
for h in a b; do
	mkdir "$MNT/$h" || fatal "mkdir $h"
	run_proc $h "/bin/sh -c 'sleep 1000 & sleep 1000'" >/dev/null || fail "run in $h"
done
read -r ia _ <"$DEPOT/containers/a/init.pid"
read -r ib _ <"$DEPOT/containers/b/init.pid"
reaper=$(ps -o ppid= -p "$ia" | tr -d ' ')
assert_eq gardenfs-reaper "$(cat /proc/$reaper/comm 2>/dev/null)" "an init's parent is the reaper"
assert_eq "$reaper" "$(ps -o ppid= -p "$ib" | tr -d ' ')" "one reaper for the depot"

gfs_kill9
sleep 0.3
kill -0 "$reaper" 2>/dev/null || fail "the reaper died with the daemon"
# an init that dies while no daemon runs is reaped all the same
kill -KILL "$ia"
sleep 0.5
st=$(ps -o stat= -p "$ia" 2>/dev/null | tr -d ' ')
[ -z "$st" ] || fail "init $ia is $st after its death with no daemon (a zombie?)"

gfs_start
assert_eq stopped "$(kv "$MNT/a/info" state)" "a, whose init died, is stopped"
assert_eq active "$(kv "$MNT/b/info" state)" "b still runs"
rmdir "$MNT/a" || fail "rmdir a"
rmdir "$MNT/b" || fail "rmdir b"
sleep 0.3
zombies=$(ps -eo pid,stat,comm | awk '$2 ~ /^Z/ && $3 == "gardenfs-init" { print $1 }')
for z in $zombies; do
	[ "$z" = "$ia" ] || [ "$z" = "$ib" ] && fail "init $z is a zombie after destroy"
done
[ -e /proc/$ib ] && [ "$(cat /proc/$ib/comm 2>/dev/null)" = gardenfs-init ] && fail "b's init left"
assert_eq "" "$(ls -d /sys/fs/cgroup/*/$inst/a /sys/fs/cgroup/*/$inst/b 2>/dev/null)" "no cgroup left"
assert_eq "" "$(ls "$DEPOT/containers")" "no depot directories left"
# the disk is released in the background: soon
wait_until 30 sh -c "[ -z \"\$(ls '$DEPOT/trash')\" ]" || fail "trash not emptied: $(ls "$DEPOT/trash")"
if command -v btrfs >/dev/null && [ -d "$DEPOT/store" ]; then
	assert_eq "" "$(btrfs subvolume list "$DEPOT/store" 2>/dev/null | grep -E 'containers/(a|b)/|trash/')" "no subvolume left"
fi
# the reaper leaves with the last container once no daemon is there
gfs_stop
wait_until 5 sh -c "! kill -0 $reaper 2>/dev/null || ps -o stat= -p $reaper | grep -q Z" ||
	fail "the reaper is still there with nothing to reap"
gfs_done
