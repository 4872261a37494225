#!/bin/bash
# Streams and limits: a streamin past the container's disk limit fails with
# EDQUOT or ENOSPC, keeps what fit, and leaves the daemon and container
# working; a stream whose writer stalls is killed by its time limit
# (ETIMEDOUT) and nothing waits on it; a streamout whose reader goes away
# ends the helper.
. "$(dirname "$0")/../stream-lib.sh"
command -v btrfs >/dev/null || skip "btrfs-progs missing"
stream_start --store-size 1G
bgpids=
trap 'rc=$?; for p in $bgpids; do kill "$p" 2>/dev/null; done; (exit $rc); gfs_cleanup' EXIT

# ---- the disk limit
echo byte_hard=20M >"$MNT/c/limits/disk" || fatal "setting the disk limit"
mkdir -p "$TDIR/big"
for i in 1 2 3 4 5; do
	head -c 10485760 /dev/urandom >"$TDIR/big/f$i"
done
tar -C "$TDIR/big" -cf "$TDIR/big.tar" .
sd_in /tmp/big <"$TDIR/big.tar"
v=$(sd_verdict)
case $v in
EDQUOT | ENOSPC) ;;
*) fail "50M into a 20M container: expected EDQUOT or ENOSPC, got $v ($(sd_reason))" ;;
esac
assert_contains "$(sd_reason)" "writing" "the reason names the write that failed"
kept=$(ls "$(in_ctr /tmp/big)" | wc -l)
[ "$kept" -ge 1 ] || fail "what fit before the limit was kept ($kept files)"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon answers after a full disk"
# a full container cannot even start a process (its output counts too):
# raise the limit, free the space, streams work again
echo byte_hard=200M >"$MNT/c/limits/disk" || fail "raising the disk limit"
assert_eq hi "$(ctr_sh c 'rm -rf /tmp/big; sync; echo hi')" "the container runs and can free its space"
tar -C "$TDIR/big" -cf - f1 | sd_in /tmp/small
assert_stream done "10M fits once the space is free"

# ---- the time limit: a writer that stalls
flag=$TDIR/never
mkfifo "$TDIR/stall"
tar_slow "$flag" "f:a:x" WAIT "f:b:y" >"$TDIR/stall" &
bgpids="$bgpids $!"
t0=$(now_ms)
sd_in -t 1500 /tmp/slow <"$TDIR/stall"
t1=$(now_ms)
assert_stream ETIMEDOUT "a stalled streamin past its 1.5 s limit"
assert_contains "$(sd_reason)" "time limit" "the reason says so"
[ $((t1 - t0)) -lt 10000 ] || fail "the time limit took $((t1 - t0)) ms to act"
assert_eq x "$(ctr_sh c 'cat /tmp/slow/a')" "what came before the stall stays"
touch "$flag"

# ---- a streamout whose reader goes away
head -c 8388608 /dev/urandom >"$TDIR/f8"
tar -C "$TDIR" -cf - f8 | sd_in /tmp/out8
assert_stream done "8M in"
sd_out /tmp/out8/ | head -c 1000 >/dev/null
v=$(sd_verdict)
assert_eq EPIPE "$v" "a streamout whose reader left"
left=$(ps -eo pid=,comm= | awk '$2 == "gardenfs-stream"' | while read -r pid _; do
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "pid=$P " && echo "$pid"
done)
assert_eq "" "$left" "no stream helper of this container is left"
gfs_done
