#!/bin/bash
# Attack: container root makes a device node for a host disk (or /dev/mem,
# /dev/kmsg) and opens it to read or write the host's data; in a
# privileged container, where mknod works, the same.
# Safe outcome: /dev holds only null zero full random urandom tty ptmx pts
# shm (no block device at all); unprivileged: mknod of a device fails
# (EPERM) though root holds CAP_MKNOD; privileged: mknod works but opening
# the node fails with EPERM (the devices cgroup: v1 devices.list on this
# host, the eBPF program on cgroup v2, driven by build/devices-v2); a
# device the admin binds in (bind=/dev/loopN:...) is usable, and only that
# one.
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"

allowed=" 1:3 1:5 1:7 1:8 1:9 5:0 5:2 "
for c in web priv; do
	assert_eq "" "$(ctr_sh $c 'find /dev -type b')" "no block device in /dev ($c)"
	for n in $(ctr_sh $c 'find /dev -xdev -type c -exec stat -c "%t:%T" {} +'); do
		dec=$((0x${n%%:*})):$((0x${n##*:}))
		case $allowed in *" $dec "*) ;; *) fail "character device $dec in /dev ($c)" ;; esac
	done
done
assert_eq "mknod EPERM open ENOENT" "$(ctr_run web '/bin/ctr-helper mknod /dev/sda b 8 0')" "unprivileged: no mknod of a disk"
assert_eq "mknod EPERM open ENOENT" "$(ctr_run web '/bin/ctr-helper mknod /dev/kmsg2 c 1 11')" "unprivileged: no mknod of kmsg"
assert_match "$(ctr_sh web 'grep ^CapEff: /proc/self/status')" 'a80425fb$' "though root holds CAP_MKNOD (in the default set)"
assert_eq "mknod OK open EPERM" "$(ctr_run priv '/bin/ctr-helper mknod /dev/sda b 8 0')" "privileged: a disk node is made but cannot be opened"
assert_eq "mknod OK open EPERM" "$(ctr_run priv '/bin/ctr-helper mknod /dev/mem2 c 1 1')" "privileged: no /dev/mem"
assert_eq "mknod OK open OK" "$(ctr_run priv '/bin/ctr-helper mknod /dev/null2 c 1 3')" "privileged: a null node works"

# the cgroup's own list (v1 here)
inst=$(cat "$DEPOT/instance")
list=/sys/fs/cgroup/devices/$inst/web/devices.list
if [ -f "$list" ]; then
	assert_eq "c *:* m
b *:* m
c 1:3 rwm
c 1:5 rwm
c 1:7 rwm
c 1:8 rwm
c 1:9 rwm
c 5:0 rwm
c 5:2 rwm
c 136:* rwm" "$(cat "$list")" "the devices cgroup of an unprivileged container"
	assert_contains "$(cat /sys/fs/cgroup/devices/$inst/priv/devices.list)" "c 10:229 rwm" "privileged: fuse too"
fi

# a device bound in by the admin works, and only that one
if command -v losetup >/dev/null && truncate -s 1M "$TDIR/disk.img" &&
	loop=$(losetup -f --show "$TDIR/disk.img" 2>/dev/null); then
	echo hello-disk | dd of="$loop" conv=notrunc status=none
	echo "create handle=withdisk privileged=true bind=$loop:/dev/disk0" >"$MNT/ctl" || fail "create with a bound device"
	assert_eq hello-disk "$(ctr_sh withdisk 'head -c 10 /dev/disk0')" "the bound device can be read"
	assert_eq "mknod OK open EPERM" "$(ctr_run withdisk '/bin/ctr-helper mknod /dev/sda b 8 0')" "other disks still refused"
	rmdir "$MNT/withdisk"
	losetup -d "$loop"
else
	say "no loop device: the bound-device case is not checked"
fi

# cgroup v2: the eBPF program, on the unified tree of this hybrid host
drv=$GFS_REPO/build/devices-v2
if [ -x "$drv" ] && [ -d /sys/fs/cgroup/unified ]; then
	grp=gardenfs-devtest-$$
	out=$("$drv" /sys/fs/cgroup/unified "$grp" 2>&1)
	rc=$?
	rmdir /sys/fs/cgroup/unified/$grp/* /sys/fs/cgroup/unified/$grp 2>/dev/null
	case $rc in
	0) ;;
	77) say "cgroup v2 device program not checked: $out" ;;
	*) fail "cgroup v2 device program: $(printf '%s\n' "$out" | grep FAIL | tr '\n' ';')" ;;
	esac
fi
gfs_done
