#!/bin/bash
# Attack: a host user who is not in the --group group uses the mount:
# lists it, reads ping and a container's files, makes a container, writes
# ctl; or reads through a descriptor that root opened and handed over (the
# kernel checks permissions at open only).  Without --group, any user but
# root tries the same.
# Safe outcome: EACCES for every one of them (the files are the group's
# with no rights for others, and the daemon checks every request's sender
# again, so the handed-over descriptor is refused too); nothing is made;
# a member and root are served meanwhile.  Without --group, members get
# EACCES as well: the mount is root's alone.
. "$(dirname "$0")/../lib.sh"
gfs_users
gfs_start --group "$GFS_GROUP"
mkdir "$MNT/web" || fatal "mkdir web (root)"
id=$(run_proc web "/bin/sh -c 'echo root-output'") || fail "run"
wait_proc web "$id" >/dev/null

denied() { # WHAT CMD...: the command, as the non-member, fails with EACCES
	local what=$1 out
	shift
	out=$(as_user "$GFS_OTHER" "$@" 2>&1) && fail "$what: it worked for a non-member: $out"
	assert_contains "$out" "Permission denied" "$what (non-member)"
}
denied "ls of the mount" ls "$MNT"
denied "cat ping" cat "$MNT/ping"
denied "cat of a process's stdout" cat "$MNT/web/procs/$id/stdout"
denied "ls of a container" ls "$MNT/web"
denied "mkdir" mkdir "$MNT/evil"
denied "stat of ctl" stat "$MNT/ctl"
assert_eq "open:EACCES" "$(user_io "$GFS_OTHER" w "$MNT/ctl" str "create handle=evil2")" "a write to ctl (non-member)"
assert_eq "open:EACCES" "$(user_io "$GFS_OTHER" w "$MNT/web/procs/new" str "/bin/true")" "a write to procs/new (non-member)"

# a descriptor root opened, used by the non-member: refused at each read
out=$(/usr/bin/python3 - "$MNT/web/procs/$id/stdout" "$(id -u "$GFS_OTHER")" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(*[int(sys.argv[2])] * 3)
try:
    print(os.read(fd, 100).decode().strip())
except OSError as e:
    print("read:" + ("EACCES" if e.errno == 13 else str(e.errno)))
PY
)
assert_eq "read:EACCES" "$out" "a read through root's descriptor by a non-member"

[ -e "$MNT/evil" ] || [ -e "$MNT/evil2" ] && fail "a non-member made a container"
assert_eq "capacity ctl errors ping web" "$(ls "$MNT" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" "only root's container"
assert_eq ok "$(as_user "$GFS_MEMBER" cat "$MNT/ping")" "a member is served meanwhile"
assert_eq root-output "$(as_user "$GFS_MEMBER" cat "$MNT/web/procs/$id/stdout")" "a member reads root's container"

# without --group the mount is root's alone again
gfs_restart
for u in "$GFS_MEMBER" "$GFS_OTHER"; do
	out=$(as_user "$u" ls "$MNT" 2>&1) && fail "ls by $u without --group: $out"
	assert_contains "$out" "Permission denied" "ls by $u without --group"
	out=$(as_user "$u" cat "$MNT/ping" 2>&1) && fail "cat ping by $u without --group: $out"
done
assert_eq ok "$(tmo cat "$MNT/ping")" "root is served"
gfs_done
