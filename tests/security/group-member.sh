#!/bin/bash
# Attack (or rather use): a member of the --group group, not root, drives
# the mount the way SPEC.md says: makes containers with mkdir and with ctl
# (limits, env, properties), runs processes, reads their output and exit
# status, streams files in and out, sets limits and properties, destroys
# what it made.
# Safe outcome: all of it works for the member, as for root, with the
# files the group's (mode bits of the owner copied to the group, none for
# others); the containers are ordinary unprivileged ones (container root
# is host uid 2000000000, not the member and not host root).
. "$(dirname "$0")/../lib.sh"
gfs_users
gfs_start --group "$GFS_GROUP"
M=$GFS_MEMBER
gid=$(getent group "$GFS_GROUP" | cut -d: -f3)
assert_eq "770 0 $gid" "$(stat -c '%a %u %g' "$MNT")" "the mount is the group's"
assert_eq "660" "$(stat -c '%a' "$MNT/ctl")" "ctl is the group's to write"

as_user "$M" mkdir "$MNT/mine" || fail "mkdir by a member"
assert_eq OK "$(user_io "$M" w "$MNT/ctl" str "create handle=made memory=64M env=GREETING=hi property=owner=member grace=0")" "ctl create by a member"
assert_eq "550 0 $gid" "$(stat -c '%a %u %g' "$MNT/made/procs")" "a container's directory is the group's"

run_as_member() { # CTR CMD: run, wait, stdout, all as the member
	as_user "$M" /bin/sh -c '
		exec 3<>"$1/procs/new" && printf "%s" "$2" >&3 && read -r id <&3 && exec 3>&- &&
		cat "$1/procs/$id/wait" && cat "$1/procs/$id/stdout"' sh "$MNT/$1" "$2"
}
out=$(run_as_member mine "/bin/sh -c 'id -u; exit 3'")
assert_eq "3
0" "$out" "a member runs a process: exit status and output (container root)"
out=$(run_as_member made "/bin/sh -c 'echo \$GREETING'")
assert_eq "0
hi" "$out" "the spec's env"
assert_eq member "$(as_user "$M" cat "$MNT/made/properties/owner")" "the spec's property"
assert_eq "limit_in_bytes 67108864" "$(as_user "$M" cat "$MNT/made/limits/memory")" "the spec's memory limit"
assert_eq OK "$(user_io "$M" w "$MNT/made/limits/memory" str "128M")" "a member sets a limit"
assert_eq OK "$(user_io "$M" wc "$MNT/made/properties/stage" str "prod")" "a member sets a property"
assert_eq prod "$(tmo cat "$MNT/made/properties/stage")" "the property is set"

# the container's root is the shifted root, not the member
read -r ipid _ <"$DEPOT/containers/mine/init.pid"
assert_eq 2000000000 "$(stat -c %u /proc/$ipid)" "the init runs as host uid 2000000000"

# streams, as the member
mkdir -p "$TDIR/src" && echo streamed >"$TDIR/src/f" && chmod -R a+rX "$TDIR/src"
as_user "$M" /bin/sh -c '{ echo /tmp/in; tar -C "$1" -c .; } >"$2/streamin"' sh "$TDIR/src" "$MNT/mine" ||
	fail "streamin by a member"
assert_eq "0
streamed" "$(run_as_member mine 'cat /tmp/in/f')" "what was streamed in"
out=$(as_user "$M" /usr/bin/python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR); os.write(fd, b"/tmp/in/f")
data = b""
while True:
    b = os.read(fd, 65536)
    if not b: break
    data += b
sys.stdout.buffer.write(data)' "$MNT/mine/streamout" | tar -xO 2>/dev/null)
assert_eq streamed "$out" "streamout by a member"

as_user "$M" rmdir "$MNT/mine" || fail "rmdir by a member"
assert_eq OK "$(user_io "$M" w "$MNT/ctl" str "destroy made")" "ctl destroy by a member"
assert_eq "" "$(ls "$MNT" | grep -vxE 'ctl|ping|capacity|errors')" "the member's containers are gone"
gfs_done
