#!/bin/bash
# Process ids may be names: Garden's ProcessSpec.ID ({"id": "task"}) makes
# procs/task/; a live duplicate is EEXIST with a reason; an exited one's
# name can be taken again; without an id the next number is used; names
# survive a kill -9 of the daemon.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/ci" || fatal "mkdir"

id=$(run_proc ci '{"id": "task", "path": "/bin/sh", "args": ["-c", "echo from task; sleep 2; exit 4"]}') ||
	fatal "run a named process"
assert_eq task "$id" "the id read back is the name"
assert_contains " $(ls "$MNT/ci/procs" | tr '\n' ' ') " " task " "procs/ lists task"
assert_contains "$(kv "$MNT/ci/info" process_ids)" task "info process_ids names it"
assert_eq "from task" "$(tmo cat "$MNT/ci/procs/task/stdout")" "output of the named process" &
outpid=$!

# a live duplicate
n=$(lines "$MNT/ci/errors")
assert_errno EEXIST "$MNT/ci/procs/new" '{"id": "task", "path": "/bin/true"}' "a second task while the first runs"
assert_eq $((n + 1)) "$(lines "$MNT/ci/errors")" "one errors line for the duplicate"
assert_contains "$(tail -n1 "$MNT/ci/errors")" task "the reason names the id"

# numbers for the rest
num=$(run_proc ci "/bin/true") || fail "run unnamed"
assert_match "$num" '^[0-9]+$' "an unnamed process gets a number"
wait $outpid
assert_eq 4 "$(wait_proc ci task)" "the named process's status"

# bad names change nothing
for bad in new '' 'a/b' . ..; do
	js=$(printf '{"id": "%s", "path": "/bin/true"}' "$bad")
	got=$(gfs_write "$MNT/ci/procs/new" "$js")
	[ -z "$bad" ] && { assert_eq OK "$got" "an empty id means none"; continue; }
	assert_eq EINVAL "$got" "id [$bad] refused"
done
[ -e "$MNT/ci/procs/a" ] && fail "a/b made something"

# restart: the name, its output and status are kept
gfs_kill9
gfs_start
assert_contains " $(ls "$MNT/ci/procs" | tr '\n' ' ') " " task " "task after kill -9"
assert_eq "from task" "$(tmo cat "$MNT/ci/procs/task/stdout")" "task's output after kill -9"
assert_eq 4 "$(wait_proc ci task)" "task's status after kill -9"

# an exited task's name is taken again: a fresh process, only its output
id=$(run_proc ci '{"id": "task", "path": "/bin/sh", "args": ["-c", "echo second"]}') ||
	fail "reuse the name of an exited process"
assert_eq task "$id" "the name again"
assert_eq 0 "$(wait_proc ci task)" "the second task's status"
assert_eq second "$(tmo cat "$MNT/ci/procs/task/stdout")" "only the second task's output"
# a running named process survives a restart under its name
id=$(run_proc ci '{"id": "long", "path": "/bin/sleep", "args": ["1000"]}') || fail "run long"
gfs_restart
assert_eq running "$(kv "$MNT/ci/procs/long/status" state)" "long runs after a restart"
echo kill >"$MNT/ci/procs/long/signal" || fail "signal by name"
assert_eq 137 "$(wait_proc ci long)" "long killed by name"
gfs_done
