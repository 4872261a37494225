#!/bin/bash
# The daemon: umount and SIGTERM stop it cleanly (exit 0, mount gone),
# containers keep running meanwhile and a new daemon serves them;
# --max-containers is the capacity: one more is ENOSPC and ping says why.
. "$(dirname "$0")/../lib.sh"
gfs_start --max-containers 3
assert_eq 3 "$(kv "$MNT/capacity" max_containers)" "max_containers from --max-containers"
mkdir "$MNT/a" "$MNT/b" "$MNT/c" || fail "mkdir of three containers"
out=$(mkdir "$MNT/d" 2>&1) && fail "a fourth container beyond --max-containers 3"
assert_contains "$out" "No space left" "mkdir beyond capacity"
assert_errno ENOSPC "$MNT/ctl" "create handle=e" "ctl create beyond capacity"
p=$(tmo cat "$MNT/ping")
assert_ne ok "$p" "ping when full"
[ -n "$p" ] || fail "ping gives no reason when full"
rmdir "$MNT/c" || fail "rmdir c"
assert_eq ok "$(tmo cat "$MNT/ping")" "ping after one is freed"
mkdir "$MNT/c" || fail "mkdir after one is freed"

id=$(run_proc a "/bin/sleep 1000") || fail "run"
pid=$(host_pid a "$id")

# umount stops the daemon
umount "$MNT" || fail "umount of the mount point"
if wait_until 10 sh -c "! kill -0 $GFS_PID 2>/dev/null"; then
	wait "$GFS_PID"
	assert_eq 0 $? "daemon exit status after umount"
else
	fail "daemon still running 10 s after umount"
fi
GFS_PID=
mounted "$MNT" && fail "still mounted after umount"
[ -n "$pid" ] && [ -d /proc/$pid ] || fail "a container process died with the daemon"

# SIGTERM stops it too
gfs_start --max-containers 3
assert_eq running "$(kv "$MNT/a/procs/$id/status" state)" "process after umount and restart"
kill -TERM "$GFS_PID"
if wait_until 10 sh -c "! kill -0 $GFS_PID 2>/dev/null"; then
	wait "$GFS_PID"
	assert_eq 0 $? "daemon exit status after SIGTERM"
else
	fail "daemon still running 10 s after SIGTERM"
fi
GFS_PID=
mounted "$MNT" && fail "still mounted after SIGTERM"
[ -d /proc/$pid ] || fail "a container process died with SIGTERM of the daemon"

gfs_start --max-containers 3
assert_eq "a b c" "$(ls "$MNT" | grep -vxE 'ctl|ping|capacity|errors' | sort | tr '\n' ' ' | sed 's/ $//')" "containers after two restarts"
# a second daemon on the same mount point or depot must not break the first
# (not in SPEC, but two daemons on one depot, e.g. a second `make run`,
# must not cost the first one its processes: the second must refuse)
mkdir -p "$TDIR/mnt2"
"$GFS_BIN" -f --depot "$DEPOT" --rootfs "$IMAGE" "$TDIR/mnt2" 2>"$TDIR/second.log" &
second=$!
sleep 1
if kill -0 $second 2>/dev/null; then
	say "a second daemon on the same depot is running (it should refuse)"
	kill -TERM $second
	fail "a second daemon on the same depot was not refused"
fi
wait $second 2>/dev/null
grep -q " $TDIR/mnt2 " /proc/mounts && umount -l "$TDIR/mnt2"
assert_eq 3 "$(kv "$MNT/capacity" max_containers)" "the first daemon still answers"
[ -d "$MNT/a" ] || fail "container a gone after a second daemon"
assert_eq running "$(kv "$MNT/a/procs/$id/status" state)" "its process still running"
gfs_done
