#!/bin/bash
# limits/memory, limits/cpu, limits/pids: set at creation and at any time,
# read back exactly, every bad value refused with EINVAL, a line in errors
# and the old value kept; the cgroup files really change.
. "$(dirname "$0")/../lib.sh"
gfs_start
inst=$(cat "$DEPOT/instance")
memcg=/sys/fs/cgroup/memory/$inst
[ -d /sys/fs/cgroup/memory ] || skip "this test reads cgroup v1 files"

mkdir "$MNT/web" || fatal "mkdir web"
# nothing set reads as 0
assert_eq "limit_in_bytes 0" "$(tmo cat "$MNT/web/limits/memory")" "memory unset"
assert_eq "limit_in_shares 0" "$(tmo cat "$MNT/web/limits/cpu")" "cpu unset"
assert_eq "max 0" "$(tmo cat "$MNT/web/limits/pids")" "pids unset"

echo 128M >"$MNT/web/limits/memory" || fail "echo 128M > limits/memory"
assert_eq "limit_in_bytes 134217728" "$(tmo cat "$MNT/web/limits/memory")" "128M reads back"
assert_eq 134217728 "$(cat "$memcg/web/memory.limit_in_bytes")" "the cgroup has 128M"
if [ -e "$memcg/web/memory.memsw.limit_in_bytes" ]; then
	assert_eq 134217728 "$(cat "$memcg/web/memory.memsw.limit_in_bytes")" "memsw follows"
fi
# lowering and raising both work (Garden's order of writes)
echo 64M >"$MNT/web/limits/memory" || fail "lower to 64M"
assert_eq 67108864 "$(cat "$memcg/web/memory.limit_in_bytes")" "lowered to 64M"
echo 1G >"$MNT/web/limits/memory" || fail "raise to 1G"
assert_eq 1073741824 "$(cat "$memcg/web/memory.limit_in_bytes")" "raised to 1G"
echo 134217728 >"$MNT/web/limits/memory" || fail "plain bytes"
assert_eq "limit_in_bytes 134217728" "$(tmo cat "$MNT/web/limits/memory")" "plain number reads back"

echo 50 >"$MNT/web/limits/cpu" || fail "echo 50 > limits/cpu"
assert_eq "limit_in_shares 50" "$(tmo cat "$MNT/web/limits/cpu")" "50 shares read back"
cpudir=$(awk '$3=="cgroup" && $4 ~ /(^|,)cpu(,|$)/ {print $2; exit}' /proc/mounts)
assert_eq 50 "$(cat "$cpudir/$inst/web/cpu.shares")" "cpu.shares is 50"

echo 64 >"$MNT/web/limits/pids" || fail "echo 64 > limits/pids"
assert_eq "max 64" "$(tmo cat "$MNT/web/limits/pids")" "pids 64 read back"
assert_eq 64 "$(cat "/sys/fs/cgroup/pids/$inst/web/pids.max")" "pids.max is 64"

# bad values: EINVAL, a line in errors, the old value kept
before=$(lines "$MNT/web/errors")
n=0
for bad in "-1" "+1" "1X" "1KB" "1.5M" "0x10" $'\n' " 1" "1 " \
	"99999999999999999999" "16777216T" $'1\n2' "abc"; do
	assert_errno EINVAL "$MNT/web/limits/memory" "$bad" "memory [$bad]"
	n=$((n + 1))
done
for bad in "-5" "+5" "5K" "ten" $'5\nmax' "18446744073709551616"; do
	assert_errno EINVAL "$MNT/web/limits/cpu" "$bad" "cpu [$bad]"
	assert_errno EINVAL "$MNT/web/limits/pids" "$bad" "pids [$bad]"
	n=$((n + 2))
done
got=$(gfs_io w "$MNT/web/limits/memory" size 1048576 | head -n1)
assert_eq EINVAL "$got" "a 1 MiB write to limits/memory"
n=$((n + 1))
after=$(lines "$MNT/web/errors")
assert_eq "$((before + n))" "$after" "one line in errors per refused write"
assert_eq "limit_in_bytes 134217728" "$(tmo cat "$MNT/web/limits/memory")" "memory kept after bad writes"
assert_eq 134217728 "$(cat "$memcg/web/memory.limit_in_bytes")" "cgroup kept after bad writes"
assert_eq "limit_in_shares 50" "$(tmo cat "$MNT/web/limits/cpu")" "cpu kept"
assert_eq "max 64" "$(tmo cat "$MNT/web/limits/pids")" "pids kept"

# a split write (two writes on one descriptor) is refused, value kept
python3 - "$MNT/web/limits/memory" <<'PY' || fail "split write to limits/memory was accepted"
import os, sys, errno
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"96M")
try:
    os.write(fd, b"8M\n")
except OSError as e:
    sys.exit(0 if e.errno == errno.EINVAL else 1)
sys.exit(1)
PY
assert_eq "limit_in_bytes 100663296" "$(tmo cat "$MNT/web/limits/memory")" "the first write of the split one stands"

# limits at creation
echo "create handle=lim memory=32M cpu=100 pids=20" >"$MNT/ctl" || fail "create with limits"
assert_eq "limit_in_bytes 33554432" "$(tmo cat "$MNT/lim/limits/memory")" "memory= at create"
assert_eq "limit_in_shares 100" "$(tmo cat "$MNT/lim/limits/cpu")" "cpu= at create"
assert_eq "max 20" "$(tmo cat "$MNT/lim/limits/pids")" "pids= at create"
assert_eq 33554432 "$(cat "$memcg/lim/memory.limit_in_bytes")" "cgroup at create"
assert_errno EINVAL "$MNT/ctl" "create handle=bad memory=12Q" "create with a bad memory="
[ -e "$MNT/bad" ] && fail "a create with a bad limit left a container"

# limits survive a restart
gfs_restart
assert_eq "limit_in_shares 50" "$(tmo cat "$MNT/web/limits/cpu")" "cpu after restart"
assert_eq "max 20" "$(tmo cat "$MNT/lim/limits/pids")" "pids after restart"

rmdir "$MNT/web" "$MNT/lim" || fail "rmdir"
[ -d "$memcg/web" ] && fail "memory cgroup left after rmdir"
gfs_done
