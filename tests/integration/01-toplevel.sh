#!/bin/bash
# The top level: ls, mkdir, rmdir of a non-empty directory, ctl create (with
# handle, privileged, env, property, grace) and destroy, ping, capacity,
# errors.
. "$(dirname "$0")/../lib.sh"
gfs_start

# an empty garden lists only its files
for f in ctl ping capacity errors; do
	[ -e "$MNT/$f" ] || fail "no $f at the top level"
done
assert_eq "" "$(ls "$MNT" | grep -vxE 'ctl|ping|capacity|errors')" "ls of an empty garden lists no container"

# ping
assert_eq ok "$(tmo cat "$MNT/ping")" "cat ping"

# capacity: three keys with plausible values
cap=$(tmo cat "$MNT/capacity")
mem=$(kv "$MNT/capacity" memory_in_bytes) || fail "capacity has no memory_in_bytes: [$cap]"
disk=$(kv "$MNT/capacity" disk_in_bytes) || fail "capacity has no disk_in_bytes: [$cap]"
maxc=$(kv "$MNT/capacity" max_containers) || fail "capacity has no max_containers: [$cap]"
host_mem=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
assert_match "$mem" '^[0-9]+$' "memory_in_bytes is a number"
assert_match "$disk" '^[0-9]+$' "disk_in_bytes is a number"
assert_match "$maxc" '^[0-9]+$' "max_containers is a number"
if [ -n "$mem" ]; then
	# within the host's memory, and at least a tenth of it
	[ "$mem" -le "$host_mem" ] && [ "$mem" -ge $((host_mem / 10)) ] ||
		fail "memory_in_bytes $mem implausible (host has $host_mem)"
fi
[ -n "$disk" ] && [ "$disk" -gt $((100 * 1024 * 1024)) ] || fail "disk_in_bytes $disk implausibly small"
[ -n "$maxc" ] && [ "$maxc" -ge 1 ] || fail "max_containers $maxc < 1"
assert_eq 3 "$(printf '%s\n' "$cap" | wc -l)" "capacity has exactly three lines"

# mkdir creates, ls lists, the directory has the container's files
mkdir "$MNT/web" || fail "mkdir web"
assert_contains "$(ls "$MNT")" web "ls after mkdir"
for f in info stop events grace errors procs properties; do
	[ -e "$MNT/web/$f" ] || fail "container has no $f"
done
assert_eq active "$(kv "$MNT/web/info" state)" "state of a new container"

# rmdir works on the non-empty directory, with a process running
id=$(run_proc web "/bin/sh -c 'echo x > /tmp/f; sleep 100'") || fail "run in web"
echo "v" >"$MNT/web/properties/p" || fail "set a property"
sleep 0.2
rmdir "$MNT/web" || fail "rmdir of a non-empty container with a process"
[ -e "$MNT/web" ] && fail "web still there after rmdir"
assert_not_contains "$(ls "$MNT")" web "ls after rmdir"

# rmdir of something that does not exist: ENOENT
out=$(rmdir "$MNT/nosuch" 2>&1) && fail "rmdir of a missing container succeeded"
assert_contains "$out" "No such file" "rmdir of a missing container"

# ctl create with every key this issue asks for
assert_errno OK "$MNT/ctl" "create handle=db privileged=true env=A=1 env='B=two words' property=team=core property=stage=prod grace=0"
[ -d "$MNT/db" ] || fail "ctl create handle=db made no directory"
assert_eq core "$(tmo cat "$MNT/db/properties/team" 2>/dev/null)" "property from create"
assert_eq prod "$(tmo cat "$MNT/db/properties/stage" 2>/dev/null)" "second property from create"
assert_eq 0 "$(tmo cat "$MNT/db/grace" 2>/dev/null)" "grace from create"
out=$(ctr_sh db 'echo "$A|$B"; id -u')
assert_eq "1|two words
0" "$out" "env from create reaches a process"
# privileged: container root is host root
id=$(run_proc db "/bin/sleep 30")
pid=$(host_pid db "$id")
assert_eq 0 "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status 2>/dev/null)" "privileged=true: host uid of a process"
echo kill >"$MNT/db/procs/$id/signal"

# a generated handle can be read from the same descriptor
out=$(gfs_io rw "$MNT/ctl" str "create grace=0")
assert_eq OK "$(printf '%s\n' "$out" | head -n1)" "create without a handle"
gen=$(printf '%s\n' "$out" | sed -n 2p)
[ -n "$gen" ] || fail "no handle read back after create"
[ -n "$gen" ] && { [ -d "$MNT/$gen" ] || fail "generated handle $gen is not listed"; }
# two generated handles differ
gen2=$(gfs_io rw "$MNT/ctl" str "create" | sed -n 2p)
[ -n "$gen2" ] && assert_ne "$gen" "$gen2" "two generated handles"

# ctl create of an existing handle: EEXIST, the old one untouched
assert_errno EEXIST "$MNT/ctl" "create handle=db"
assert_eq core "$(tmo cat "$MNT/db/properties/team" 2>/dev/null)" "db untouched by a duplicate create"

# ctl destroy
assert_errno OK "$MNT/ctl" "destroy db"
[ -e "$MNT/db" ] && fail "db still there after ctl destroy"
assert_errno ENOENT "$MNT/ctl" "destroy db" "destroy of a destroyed container"
[ -n "$gen" ] && assert_errno OK "$MNT/ctl" "destroy $gen"
[ -n "$gen2" ] && assert_errno OK "$MNT/ctl" "destroy $gen2"

# errors: a bad write adds a line
before=$(lines "$MNT/errors")
assert_errno EINVAL "$MNT/ctl" "frobnicate now"
after=$(lines "$MNT/errors")
assert_eq $((before + 1)) "$after" "lines in errors after one bad ctl write"
assert_contains "$(tmo cat "$MNT/errors")" frobnicate "the errors line names the bad verb"

# ping still ok, and a clean stop unmounts
assert_eq ok "$(tmo cat "$MNT/ping")" "ping at the end"
gfs_stop
gfs_done
