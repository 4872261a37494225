#!/bin/bash
# errors: a failed command in a container adds one line to that container's
# errors file (not the top level's, not another container's); top-level
# failures go to the top-level file.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" "$MNT/db" || fatal "mkdir"

assert_eq "" "$(tmo cat "$MNT/web/errors")" "a new container has no errors"
top0=$(lines "$MNT/errors")
db0=$(lines "$MNT/db/errors")

assert_errno ENOENT "$MNT/web/procs/new" "/no/such/thing"
assert_eq 1 "$(lines "$MNT/web/errors")" "errors after a missing executable"
assert_contains "$(tmo cat "$MNT/web/errors")" "/no/such/thing" "the line names the path"
assert_errno EINVAL "$MNT/web/stop" "pause"
assert_eq 2 "$(lines "$MNT/web/errors")" "errors after a bad stop verb"
assert_contains "$(tail -n1 <(tmo cat "$MNT/web/errors"))" "pause" "the line quotes the bad verb"
assert_errno EINVAL "$MNT/web/grace" "soon"
assert_eq 3 "$(lines "$MNT/web/errors")" "errors after a bad grace"
assert_eq "$top0" "$(lines "$MNT/errors")" "container failures do not go to the top-level errors"
assert_eq "$db0" "$(lines "$MNT/db/errors")" "nor to another container's"

assert_errno EINVAL "$MNT/ctl" "create handle=x bogus=1"
assert_eq $((top0 + 1)) "$(lines "$MNT/errors")" "top-level errors after a bad create"
assert_contains "$(tail -n1 <(tmo cat "$MNT/errors"))" "bogus" "the line names the bad key"
assert_eq 3 "$(lines "$MNT/web/errors")" "a top-level failure leaves container errors alone"
[ -e "$MNT/x" ] && fail "a refused create made a container"

# every line is one line: a bad value with a newline does not split it
assert_errno EINVAL "$MNT/web/stop" "$(printf 'bad\nverb')"
assert_eq 4 "$(lines "$MNT/web/errors")" "a reason with a newline in the input is still one line"

# errors of a destroyed container do not resurface in a new one
rmdir "$MNT/web"
mkdir "$MNT/web"
assert_eq "" "$(tmo cat "$MNT/web/errors")" "errors of a re-created container"
gfs_done
