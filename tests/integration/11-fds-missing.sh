#!/bin/bash
# A process gets only fds 0-2; a missing executable fails the write with
# ENOENT, a reason in errors, and no hung process.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
P=$MNT/web/procs

# ls /proc/self/fd: 0 1 2 and ls's own directory fd (3)
assert_eq "0 1 2 3" "$(ctr_run web 'ls /proc/self/fd' | tr '\n' ' ' | sed 's/ $//')" "fds of ls"
if has_helper; then
	assert_eq "0 1 2" "$(ctr_run web '/bin/ctr-helper fds' | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')" "fds of ctr-helper"
fi
# also as another user and for a JSON spec
assert_eq "0 1 2 3" "$(ctr_run web '{"path": "/bin/ls", "args": ["/proc/self/fd"], "user": "vcap"}' | tr '\n' ' ' | sed 's/ $//')" "fds as vcap"

# missing executables
before=$(ls "$P" | grep -cE '^[0-9]+$')
e0=$(lines "$MNT/web/errors")
assert_errno ENOENT "$P/new" "/no/such/binary" "absolute path that does not exist"
assert_errno ENOENT "$P/new" "nosuchcommand --flag" "a name not on PATH"
assert_errno ENOENT "$P/new" '{"path": "/bin/nope"}' "JSON path that does not exist"
e1=$(lines "$MNT/web/errors")
assert_eq $((e0 + 3)) "$e1" "one errors line per missing executable"
assert_contains "$(tmo cat "$MNT/web/errors")" "nosuchcommand" "the errors line names the command"
# nothing hangs: no new running process
for p in $(ls "$P" | grep -E '^[0-9]+$'); do
	st=$(kv "$P/$p/status" state)
	if [ "$st" = running ]; then
		fail "process $p still running after failed starts: $(tmo cat "$P/$p/status" | tr '\n' ' ')"
	fi
done
after=$(ls "$P" | grep -cE '^[0-9]+$')
[ "$after" -le "$before" ] || fail "failed starts left $((after - before)) entries in procs/"
# the container still works
assert_eq ok "$(ctr_run web 'echo ok')" "a good process after failed ones"
# a directory is not an executable
got=$(gfs_write "$P/new" "/bin")
assert_ne OK "$got" "running a directory"
gfs_done
