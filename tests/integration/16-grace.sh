#!/bin/bash
# grace: a container with no open file, no parked reader and no running
# process is destroyed after grace seconds; any of them keeps it; 0 = never.
. "$(dirname "$0")/../lib.sh"
gfs_start

gone() { [ ! -e "$MNT/$1" ]; }

# mkdir: the default is 0 (never)
mkdir "$MNT/keep" || fatal "mkdir keep"
assert_eq 0 "$(tmo cat "$MNT/keep/grace")" "default grace"
echo "create handle=zero grace=0" >"$MNT/ctl" || fail "create grace=0"

# idle: gone after about 2 s
t0=$(now_ms)
echo "create handle=idle grace=2" >"$MNT/ctl" || fail "create grace=2"
[ -d "$MNT/idle" ] || fail "idle not there right after create"
if wait_until 12 gone idle; then
	dt=$(($(now_ms) - t0))
	[ $dt -ge 1500 ] || fail "idle container went after $dt ms, before its grace of 2 s"
else
	fail "idle container with grace=2 still there after 12 s"
fi

# a running process keeps it; after the exit the grace starts
echo "create handle=busy grace=2" >"$MNT/ctl" || fail "create busy"
(id=$(run_proc busy "/bin/sleep 5") && echo "$id" >"$TDIR/busy.id")
sleep 4
[ -d "$MNT/busy" ] || fail "busy container destroyed while its process ran"
wait_until 15 gone busy || fail "busy container still there 15 s after (its process ends at 5 s)"

# an open file keeps it
echo "create handle=open grace=2" >"$MNT/ctl" || fail "create open"
exec 8<"$MNT/open/info"
sleep 4
[ -d "$MNT/open" ] || fail "container destroyed while a file in it was open"
exec 8<&-
wait_until 12 gone open || fail "container still there 12 s after the last file closed"

# after a process has exited, opening a file restarts the clock and the
# container goes once everything is closed
echo "create handle=reader grace=2" >"$MNT/ctl" || fail "create reader"
id=$(run_proc reader "/bin/true")
wait_proc reader "$id" >/dev/null
exec 8>"$MNT/reader/properties/x" # touch a file: activity resets the clock
exec 8>&-
[ -d "$MNT/reader" ] || fail "reader gone too early"
wait_until 12 gone reader || fail "reader container not destroyed after its process ended"

# grace can be read and changed; setting 0 stops the clock
echo "create handle=change grace=3" >"$MNT/ctl" || fail "create change"
assert_eq 3 "$(tmo cat "$MNT/change/grace")" "grace read back"
echo 0 >"$MNT/change/grace" || fail "echo 0 > grace"
assert_eq 0 "$(tmo cat "$MNT/change/grace")" "grace after writing 0"
echo 1 >"$MNT/keep/grace" || fail "echo 1 > grace of keep"
assert_eq 1 "$(tmo cat "$MNT/keep/grace")" "grace of keep after writing 1"
wait_until 10 gone keep || fail "keep not destroyed after its grace was set to 1"
sleep 4
[ -d "$MNT/zero" ] || fail "container with grace=0 destroyed"
[ -d "$MNT/change" ] || fail "container whose grace was set to 0 destroyed"
gfs_done
