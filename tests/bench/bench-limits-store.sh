#!/bin/bash
# tests/bench/bench-limits-store.sh: the numbers of issues 3 and 4.
#  - reading `metrics` of 100 containers, against reading their cgroup
#    memory.stat files directly (the floor: what the kernel costs);
#  - creating a container with the btrfs store (a subvolume per container)
#    against the plain-directory upper (--store-size 0);
#  - creating from a cached tarball image.
# Medians of BENCH_RUNS (default 25) runs; prints numbers, never fails on
# time.  Own mount points and depots, removed at the end (tests/lib.sh).
TEST_NAME=bench-limits-store
. "$(dirname "$0")/../lib.sh"
RUNS=${BENCH_RUNS:-25}
N=${BENCH_METRICS:-100}

gfs_start
cat >"$TDIR/b.py" <<'PY'
import os, statistics, sys, time
def med(xs): return statistics.median(xs) * 1000
def mkdirs(mnt, pre, n, create=None):
    ts = []
    for i in range(n):
        t = time.perf_counter()
        if create:
            fd = os.open(f"{mnt}/ctl", os.O_WRONLY)
            os.write(fd, (create % f"{pre}{i}").encode())
            os.close(fd)
        else:
            os.mkdir(f"{mnt}/{pre}{i}")
        ts.append(time.perf_counter() - t)
    return ts
def rmdirs(mnt, pre, n):
    for i in range(n):
        os.rmdir(f"{mnt}/{pre}{i}")
mode, mnt = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3])
if mode == "metrics":
    n, memcg = int(sys.argv[4]), sys.argv[5]
    mkdirs(mnt, "m", n)
    a, b = [], []
    for _ in range(runs):
        t = time.perf_counter()
        for i in range(n):
            with open(f"{mnt}/m{i}/metrics", "rb") as f: f.read()
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(n):
            with open(f"{memcg}/m{i}/memory.stat", "rb") as f: f.read()
        b.append(time.perf_counter() - t)
    rmdirs(mnt, "m", n)
    print(f"metrics of {n} containers      {med(a):8.2f} ms")
    print(f"their memory.stat directly    {med(b):8.2f} ms")
    print(f"ratio metrics / memory.stat   {med(a)/med(b):8.2f}")
elif mode == "create":
    create = sys.argv[4] if len(sys.argv) > 4 else None
    ts = mkdirs(mnt, "c", runs, create)
    rmdirs(mnt, "c", runs)
    print(f"{med(ts):.3f}")
PY

inst=$(cat "$DEPOT/instance")
say "metrics of $N containers, $RUNS rounds"
tmo python3 "$TDIR/b.py" metrics "$MNT" "$RUNS" "$N" "/sys/fs/cgroup/memory/$inst" || fail "metrics bench"

tar -C "$GFS_BASE_IMAGE" -czf "$TDIR/busybox.tgz" .
echo "create handle=warm rootfs=$TDIR/busybox.tgz" >"$MNT/ctl" || fail "warming the tarball cache"
store=$(tmo python3 "$TDIR/b.py" create "$MNT" "$RUNS") || fail "create with store"
tgz=$(tmo python3 "$TDIR/b.py" create "$MNT" "$RUNS" "create handle=%s rootfs=$TDIR/busybox.tgz") || fail "create from tarball"
rmdir "$MNT/warm"
gfs_stop

# the same on a depot without a store
mnt2=$TDIR/mnt2
depot2=$TDIR/depot2
mkdir -p "$mnt2" "$depot2"
"$GFS_BIN" -f --depot "$depot2" --rootfs "$IMAGE" --store-size 0 "$mnt2" 2>>"$TDIR/daemon2.log" &
pid2=$!
gfs_ledger "daemon $pid2"
wait_until 10 mounted "$mnt2" || fail "second daemon"
plain=$(tmo python3 "$TDIR/b.py" create "$mnt2" "$RUNS") || fail "create without store"
kill "$pid2"
wait "$pid2"

printf '%-34s %8.2f ms\n' "create, plain-directory upper" "$plain" "create, btrfs subvolume store" "$store" \
	"create from a cached tarball" "$tgz"
python3 -c "import sys; print('%-34s %8.2f' % ('ratio store / plain', float(sys.argv[1]) / float(sys.argv[2])))" "$store" "$plain"
gfs_done
