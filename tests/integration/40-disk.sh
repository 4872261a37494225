#!/bin/bash
# The btrfs store: a container's disk limit is enforced at the limit and not
# below it, per container, for privileged containers too; usage grows with
# data; limits change at run time; inode limits are refused; the store
# survives a restart; destroy and stop leave no subvolume, qgroup, mount or
# loop device.
. "$(dirname "$0")/../lib.sh"
command -v btrfs >/dev/null || skip "btrfs-progs missing"
gfs_start --store-size 2G
STORE=$DEPOT/store

assert_eq 2147483648 "$(kv "$MNT/capacity" disk_in_bytes)" "capacity is the store's size"
assert_match "$(awk -v m="$STORE" '$2 == m { print $3 }' /proc/mounts)" '^btrfs$' "the store is a btrfs mount"

mkdir "$MNT/a" || fatal "mkdir a"
want=$(printf '%s 0\n' block_soft block_hard inode_soft inode_hard byte_soft byte_hard)
assert_eq "$want" "$(tmo cat "$MNT/a/limits/disk")" "no disk limit reads as zeros"

echo "byte_hard=16M byte_soft=12M" >"$MNT/a/limits/disk" || fail "set byte_hard"
assert_eq 16777216 "$(kv "$MNT/a/limits/disk" byte_hard)" "byte_hard reads back"
assert_eq 12582912 "$(kv "$MNT/a/limits/disk" byte_soft)" "byte_soft is kept"
assert_eq ok "$(ctr_sh a 'dd if=/dev/urandom of=/tmp/f8 bs=1M count=8 2>/dev/null && sync && echo ok')" "8M under a 16M limit"
# the output files count too, so dd's verdict is told after freeing space
out=$(ctr_sh a 'dd if=/dev/urandom of=/tmp/f20 bs=1M count=20 2>/dev/null; rc=$?; rm -f /tmp/f20; sync; echo $rc')
assert_ne 0 "$out" "writing 20M past a 16M limit fails"
assert_ne "" "$out" "the process could report after freeing space"
# another container is not affected
mkdir "$MNT/b" || fatal "mkdir b"
assert_eq ok "$(ctr_sh b 'dd if=/dev/urandom of=/tmp/f20 bs=1M count=20 2>/dev/null && sync && echo ok')" "20M without a limit"
# usage grows by about what was written
sync
u0=$(kv "$MNT/b/metrics" disk.bytes_used)
ctr_sh b 'dd if=/dev/urandom of=/tmp/f10 bs=1M count=10 2>/dev/null; sync' >/dev/null
sync
u1=$(kv "$MNT/b/metrics" disk.bytes_used)
d=$((u1 - u0))
[ "$d" -ge $((9 * 1048576)) ] && [ "$d" -le $((12 * 1048576)) ] || fail "disk.bytes_used grew by $d, not about 10 MiB ($u0 -> $u1)"
i0=$(kv "$MNT/b/metrics" disk.inodes_used)
ctr_sh b 'mkdir /tmp/many && cd /tmp/many && i=0; while [ $i -lt 50 ]; do : > f$i; i=$((i+1)); done; sync' >/dev/null
sync
i1=$(kv "$MNT/b/metrics" disk.inodes_used)
[ $((i1 - i0)) -ge 51 ] || fail "disk.inodes_used grew by $((i1 - i0)) after 51 new inodes"

# limits change at run time: raise, then 1 KiB blocks win over bytes
echo "byte_hard=64M" >"$MNT/a/limits/disk" || fail "raise to 64M"
assert_eq ok "$(ctr_sh a 'dd if=/dev/urandom of=/tmp/f20 bs=1M count=20 2>/dev/null && sync && echo ok')" "20M after raising to 64M"
echo "block_hard=32768" >"$MNT/a/limits/disk" || fail "block_hard"
assert_eq 32768 "$(kv "$MNT/a/limits/disk" block_hard)" "block_hard reads back"
assert_eq 12582912 "$(kv "$MNT/a/limits/disk" byte_soft)" "a write of one key keeps the others"
out=$(ctr_sh a 'dd if=/dev/urandom of=/tmp/g bs=1M count=20 2>/dev/null; rc=$?; rm -f /tmp/g; sync; echo $rc')
assert_ne 0 "$out" "block_hard=32768 (32M) stops a further 20M over 28M used"

# bad input: EINVAL, a line in errors, nothing changes
before=$(lines "$MNT/a/errors")
assert_errno EINVAL "$MNT/a/limits/disk" "inode_hard=5" "inode limits are refused"
assert_errno EINVAL "$MNT/a/limits/disk" "byte_hard=12Q" "bad size"
assert_errno EINVAL "$MNT/a/limits/disk" "bytes_hard=1M" "unknown key"
assert_errno EINVAL "$MNT/a/limits/disk" "junk" "no ="
assert_eq "$((before + 4))" "$(lines "$MNT/a/errors")" "a line in errors per refusal"
assert_contains "$(tmo cat "$MNT/a/errors")" "inode" "the reason names inode limits"
assert_eq 32768 "$(kv "$MNT/a/limits/disk" block_hard)" "block_hard kept"
assert_eq 0 "$(kv "$MNT/a/limits/disk" inode_hard)" "inode_hard kept at 0"

# at creation, and for a privileged container's root
echo "create handle=p privileged=true disk=byte_hard=8M" >"$MNT/ctl" || fail "create with disk="
assert_eq 8388608 "$(kv "$MNT/p/limits/disk" byte_hard)" "disk= at create"
out=$(ctr_sh p 'dd if=/dev/zero of=/tmp/z bs=1M count=16 2>/dev/null; rc=$?; rm -f /tmp/z; sync; echo $rc')
assert_ne 0 "$out" "privileged root cannot write past its limit"
assert_ne "" "$out" "privileged: the process reported"
assert_errno EINVAL "$MNT/ctl" "create handle=q disk=inode_hard=1" "create with an inode limit"
[ -e "$MNT/q" ] && fail "a refused create left a container"

# the store survives a restart, with its data and limits
gfs_restart
assert_contains "$(ctr_sh b 'ls /tmp')" f10 "data after a restart"
assert_eq 32768 "$(kv "$MNT/a/limits/disk" block_hard)" "limits after a restart"

# destroy leaves no subvolume and no qgroup; stop frees the store
rmdir "$MNT/a" "$MNT/b" "$MNT/p" || fail "rmdir"
# the disk is released in the background, soon after rmdir returns
wait_until 30 sh -c "[ -z \"\$(btrfs subvolume list '$STORE' 2>&1)\" ]"
sync
subs=$(btrfs subvolume list "$STORE" 2>&1)
assert_eq "" "$subs" "no subvolume left after destroy"
q=$(btrfs qgroup show "$STORE" 2>/dev/null | awk '$1 ~ /^0\// && $1 != "0/5"')
assert_eq "" "$q" "no qgroup left after destroy"
gfs_stop
awk -v m="$STORE" '$2 == m { f = 1 } END { exit !f }' /proc/mounts && fail "the store is still mounted after the daemon stopped with no container"
losetup -a | grep -q "$DEPOT/store.img" && fail "a loop device is still attached"
gfs_done
