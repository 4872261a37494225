#!/bin/bash
# Attack: a container writes through a bind mount the admin made
# read-only, by way of a mount below its source (a ":ro" that only covered
# the top mount, as MS_REMOUNT does), or swaps the source between the
# runtime's check and its mount.
# Safe outcome: bind=SRC:DST:ro is read-only all the way down (every mount
# under SRC refuses writes with EROFS, for root and in privileged
# containers); the source is opened once (open_tree) and mounted from that
# descriptor; a writable bind writes through to the host; a missing source
# fails the create with ENOENT and a reason.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir -p "$TDIR/src/sub" "$TDIR/rw"
echo top >"$TDIR/src/file"
mount -t tmpfs -o size=1m gfs-sub "$TDIR/src/sub" || fatal "a mount below the source"
echo below >"$TDIR/src/sub/file"
echo single >"$TDIR/one"
# writable by anyone, so that only the read-only mounts can refuse the
# unprivileged container's root (a host nobody)
chmod 777 "$TDIR/src" "$TDIR/src/sub" "$TDIR/rw"
chmod 666 "$TDIR/src/file" "$TDIR/src/sub/file" "$TDIR/one"

for p in false true; do
	h=ro-$p
	echo "create handle=$h privileged=$p bind=$TDIR/src:/mnt/b:ro bind=$TDIR/rw:/mnt/w bind=$TDIR/one:/etc/one:ro" >"$MNT/ctl" ||
		{ fail "create $h"; continue; }
	assert_eq "top
below
single" "$(ctr_sh $h 'cat /mnt/b/file /mnt/b/sub/file /etc/one')" "the binds are there ($h)"
	out=$(ctr_sh $h '(echo x > /mnt/b/new) 2>&1; (echo x > /mnt/b/sub/new) 2>&1; (echo x >> /etc/one) 2>&1; (rm /mnt/b/sub/file) 2>&1; true')
	n=$(printf '%s\n' "$out" | grep -c "Read-only file system")
	assert_eq 4 "$n" "every write below a :ro bind is refused ($h): $out"
	opts=$(ctr_sh $h "awk '\$2 == \"/mnt/b\" || \$2 == \"/mnt/b/sub\" { split(\$4, o, \",\"); print \$2, o[1] }' /proc/mounts")
	assert_eq "/mnt/b ro
/mnt/b/sub ro" "$opts" "both mounts read-only ($h)"
	ctr_sh $h "echo from-$h > /mnt/w/f" >/dev/null
	assert_eq "from-$h" "$(cat "$TDIR/rw/f")" "a writable bind writes through ($h)"
	rmdir "$MNT/$h" || fail "rmdir $h"
done
[ -e "$TDIR/src/new" ] || [ -e "$TDIR/src/sub/new" ] && fail "a write reached a read-only source"
assert_eq below "$(cat "$TDIR/src/sub/file")" "nothing removed below"

assert_errno ENOENT "$MNT/ctl" "create handle=nosrc bind=$TDIR/missing:/mnt/x" "a missing bind source"
assert_contains "$(tmo tail -n 1 "$MNT/errors")" "$TDIR/missing" "the reason names the source"
umount "$TDIR/src/sub"
gfs_done
