#!/bin/bash
# Attack: a member of the --group group, not root, tries to become host
# root or read root's files through the mount: creates a privileged
# container, binds a host path (/etc, /root), names a host directory or
# file as the image (rootfs=/root would be copied with the daemon's
# rights); enters, runs in, streams out of or destroys a privileged
# container that root made.
# Safe outcome: each create fails with EPERM and a reason in errors ("...
# is root's alone"), and nothing is made; root's privileged container is
# listed but its directory is root's (mode 0500): the member gets EACCES
# inside it and EPERM for rmdir and `destroy`; root still uses it, and
# root may still create privileged containers and binds.
. "$(dirname "$0")/../lib.sh"
gfs_users
gfs_start --group "$GFS_GROUP"
M=$GFS_MEMBER
tar -C "$GFS_BASE_IMAGE" -czf "$TDIR/img.tgz" . && chmod 644 "$TDIR/img.tgz" || fatal "a tarball"
for spec in "handle=p1 privileged=true" "handle=b1 bind=/etc:/hostetc" "handle=b2 bind=/root:/r:ro" \
	"handle=r1 rootfs=/root" "handle=r2 rootfs=$TDIR/img.tgz" "handle=r3 rootfs=oci:$GFS_REPO/build/oci"; do
	e0=$(lines "$MNT/errors")
	assert_eq EPERM "$(user_io "$M" w "$MNT/ctl" str "create $spec")" "a member asks: create $spec"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/errors")" "a reason in errors ($spec)"
	assert_contains "$(tail -n 1 "$MNT/errors")" "root's alone" "the reason ($spec)"
	h=${spec%% *}
	[ -e "$MNT/${h#handle=}" ] && fail "a member made ${h#handle=}"
done

# root's privileged container
echo "create handle=rp privileged=true" >"$MNT/ctl" || fatal "root creates a privileged container"
assert_eq "500" "$(stat -c %a "$MNT/rp")" "its directory is root's"
assert_contains "$(as_user "$M" ls "$MNT")" "rp" "the member sees it listed"
for what in "ls $MNT/rp" "cat $MNT/rp/info" "ls $MNT/rp/procs"; do
	out=$(as_user "$M" $what 2>&1) && fail "$what worked for a member: $out"
	assert_contains "$out" "Permission denied" "$what (member)"
done
assert_eq "open:EACCES" "$(user_io "$M" rw "$MNT/rp/procs/new" str "/bin/id")" "a member runs in it"
assert_eq "open:EACCES" "$(user_io "$M" w "$MNT/rp/streamin" str "/tmp")" "a member streams into it"
assert_eq "open:EACCES" "$(user_io "$M" rw "$MNT/rp/streamout" str "/etc")" "a member streams out of it"
out=$(as_user "$M" rmdir "$MNT/rp" 2>&1) && fail "a member destroyed root's privileged container"
assert_contains "$out" "Operation not permitted" "rmdir by a member"
assert_eq EPERM "$(user_io "$M" w "$MNT/ctl" str "destroy rp")" "ctl destroy by a member"
assert_contains "$(tail -n 1 "$MNT/errors")" "root's alone" "the reason for the destroy"
[ -d "$MNT/rp" ] || fail "root's privileged container is gone"

# root is root
assert_eq 0 "$(ctr_sh rp 'id -u')" "root runs in its privileged container"
echo "create handle=rb bind=$TDIR:/t:ro" >"$MNT/ctl" || fail "root binds a host path"
assert_contains "$(ctr_sh rb 'ls /t')" "img.tgz" "root's bind"
rmdir "$MNT/rp" "$MNT/rb" || fail "root destroys"
gfs_done
