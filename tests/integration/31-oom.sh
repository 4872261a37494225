#!/bin/bash
# OOM: a container over its memory limit gets `oom` in events, is stopped,
# and the killed process's wait says 137; a process under the limit
# survives; poll(2) on events wakes; events survive a restart.
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the test image"

echo "create handle=ok memory=64M" >"$MNT/ctl" || fatal "create ok"
id=$(run_proc ok "/bin/ctr-helper memhog 20") || fatal "memhog 20"
wait_until 10 grep -q "allocated 20" "$MNT/ok/procs/$id/stdout" || fail "memhog 20 did not allocate"
sleep 0.5
assert_eq running "$(kv "$MNT/ok/procs/$id/status" state)" "20 MiB under 64M survives"
assert_eq "" "$(tmo cat "$MNT/ok/events")" "no event under the limit"
assert_eq active "$(kv "$MNT/ok/info" state)" "still active"

echo "create handle=hog memory=32M" >"$MNT/ctl" || fatal "create hog"
sleeper=$(run_proc hog "sleep 1000") || fatal "sleep in hog"
# a poller on events that wakes when oom is appended
python3 - "$MNT/hog/events" >"$TDIR/poll.out" 2>&1 <<'PY' &
import os, select, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.read(fd, 4096)
p = select.poll()
p.register(fd, select.POLLIN)
ev = p.poll(20000)
os.lseek(fd, 0, 0)
print("woke" if ev else "timeout", os.read(fd, 4096).decode().strip())
PY
poller=$!
sleep 0.3
id=$(run_proc hog "/bin/ctr-helper memhog 200") || fatal "memhog 200"
assert_eq 137 "$(wait_proc hog "$id")" "the hog is killed (137)"
wait_until 10 grep -qx oom "$MNT/hog/events" || fail "no oom in events: [$(cat "$MNT/hog/events")]"
wait_until 10 sh -c "grep -qx 'state stopped' '$MNT/hog/info'" || fail "hog not stopped: $(cat "$MNT/hog/info")"
assert_eq 137 "$(wait_proc hog "$sleeper")" "every process of the stopped container is killed"
assert_contains "$(kv "$MNT/hog/info" events)" oom "info lists the oom event"
assert_errno EPERM "$MNT/hog/procs/new" "true" "procs/new after the OOM stop"
wait "$poller"
assert_eq "woke oom" "$(cat "$TDIR/poll.out")" "poll on events woke with oom"
assert_eq running "$(kv "$MNT/ok/procs/$(ls "$MNT/ok/procs" | grep -v new | head -1)/status" state)" "the other container is untouched"

gfs_restart
assert_eq oom "$(tmo cat "$MNT/hog/events")" "events survive a restart"
assert_eq stopped "$(kv "$MNT/hog/info" state)" "stopped survives a restart"
rmdir "$MNT/hog" "$MNT/ok" || fail "rmdir"
gfs_done
