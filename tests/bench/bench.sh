#!/bin/bash
# tests/bench/bench.sh: the numbers of issue 2, section 9.  Medians of
# BENCH_RUNS (default 25, at least 20) runs of: mkdir of a container; run
# `true` and read its wait; rmdir; the whole cycle; and, on an OCI bundle of
# the same busybox tree, `crun run` and `runc run` of `true`.  Then the
# daemon's RSS with 100 idle containers.  It prints numbers and never fails
# on time; it fails only when something does not work at all.
#
# Uses its own mount point, depot and bundle (tests/lib.sh) and removes
# everything, the crun/runc containers and their cgroups included.
TEST_NAME=bench
. "$(dirname "$0")/../lib.sh"
RUNS=${BENCH_RUNS:-25}
[ "$RUNS" -ge 20 ] || RUNS=20
IDLE=${BENCH_IDLE:-100}

# crun and runc make no network either: like with like (bench-net.sh has
# what networking adds)
gfs_start --network-pool none
say "gardenfs $GFS_BIN, $RUNS runs each, without networking"

# ---- gardenfs: time the file operations themselves (no fork of shell tools)
cat >"$TDIR/bench_gfs.py" <<'PY'
import os, statistics, sys, time
mnt, runs = sys.argv[1], int(sys.argv[2])
t = {"mkdir": [], "run": [], "rmdir": [], "cycle": []}
def run_true(h):
    fd = os.open(f"{mnt}/{h}/procs/new", os.O_RDWR)
    os.write(fd, b"/bin/true")
    pid = os.read(fd, 64).strip().decode()
    os.close(fd)
    fd = os.open(f"{mnt}/{h}/procs/{pid}/wait", os.O_RDONLY)
    st = os.read(fd, 64).strip()
    os.close(fd)
    if st != b"0":
        sys.exit(f"true exited {st!r}")
for i in range(runs + 2):            # two warm-up runs, not counted
    h = f"bench{i}"
    t0 = time.perf_counter()
    os.mkdir(f"{mnt}/{h}")
    t1 = time.perf_counter()
    run_true(h)
    t2 = time.perf_counter()
    os.rmdir(f"{mnt}/{h}")
    t3 = time.perf_counter()
    if i >= 2:
        t["mkdir"].append(t1 - t0); t["run"].append(t2 - t1)
        t["rmdir"].append(t3 - t2); t["cycle"].append(t3 - t0)
for k, v in t.items():
    print(k, "%.3f" % (statistics.median(v) * 1000), "%.3f" % (min(v) * 1000), "%.3f" % (max(v) * 1000))
PY
gfs_out=$(tmo python3 "$TDIR/bench_gfs.py" "$MNT" "$RUNS") || fatal "gardenfs cycle failed: $gfs_out"
med() { printf '%s\n' "$gfs_out" | awk -v k="$1" '$1 == k { print $2 }'; }

# ---- crun and runc on an OCI bundle of the same tree
B=$TDIR/bundle
mkdir -p "$B"
cp -a "$GFS_BASE_IMAGE" "$B/rootfs"
cat >"$TDIR/edit_spec.py" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["true"]
c["process"]["terminal"] = False
c["root"]["readonly"] = True
json.dump(c, open(p, "w"), indent=1)
PY
# One timing loop, run inside the runtime's mount namespace.  crun 1.8
# refuses hybrid cgroups, so its loop runs in a private mount namespace with
# the cgroup2 mount at /sys/fs/cgroup/unified removed (the host keeps it).
cat >"$TDIR/bench_oci.py" <<'PY'
import os, statistics, subprocess, sys, time
rt, bundle, state, prefix, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
if rt == "crun" and os.path.ismount("/sys/fs/cgroup/unified"):
    subprocess.run(["umount", "/sys/fs/cgroup/unified"], check=True)
ts = []
for i in range(runs + 2):
    cid = f"{prefix}-{i}"
    t0 = time.perf_counter()
    r = subprocess.run([rt, "--root", state, "run", "--bundle", bundle, cid],
                       stdin=subprocess.DEVNULL, capture_output=True)
    dt = time.perf_counter() - t0
    subprocess.run([rt, "--root", state, "delete", "-f", cid], capture_output=True)
    if r.returncode != 0:
        sys.exit(f"{rt} run failed ({r.returncode}): {r.stderr.decode().strip()}")
    if i >= 2:
        ts.append(dt)
print("%.3f %.3f %.3f" % (statistics.median(ts) * 1000, min(ts) * 1000, max(ts) * 1000))
PY
prefix=gfsbench-$$
oci_cleanup() {
	local rt
	for rt in crun runc; do
		[ -d "$TDIR/$rt-state" ] || continue
		for c in $("$rt" --root "$TDIR/$rt-state" list -q 2>/dev/null); do
			"$rt" --root "$TDIR/$rt-state" delete -f "$c" >/dev/null 2>&1
		done
	done
	find /sys/fs/cgroup -maxdepth 4 -type d -name "$prefix-*" 2>/dev/null | sort -r | xargs -r rmdir 2>/dev/null
	return 0
}
oci_bench() { # RUNTIME
	local rt=$1
	command -v "$rt" >/dev/null || { echo "n/a ($rt not installed)"; return; }
	(cd "$B" && rm -f config.json && "$rt" spec >/dev/null 2>&1) || { echo "n/a ($rt spec failed)"; return; }
	python3 "$TDIR/edit_spec.py" "$B/config.json"
	mkdir -p "$TDIR/$rt-state"
	local out
	if [ "$rt" = crun ]; then
		out=$(timeout 300 unshare -m python3 "$TDIR/bench_oci.py" "$rt" "$B" "$TDIR/$rt-state" "$prefix-$rt" "$RUNS" 2>&1)
	else
		out=$(timeout 300 python3 "$TDIR/bench_oci.py" "$rt" "$B" "$TDIR/$rt-state" "$prefix-$rt" "$RUNS" 2>&1)
	fi
	local rc=$?
	oci_cleanup
	[ $rc -eq 0 ] && echo "$out" || echo "n/a ($(echo "$out" | tail -n1))"
}
crun_out=$(oci_bench crun)
runc_out=$(oci_bench runc)
crun_ms=$(echo "$crun_out" | awk '$1 ~ /^[0-9.]+$/ { print $1 }')
runc_ms=$(echo "$runc_out" | awk '$1 ~ /^[0-9.]+$/ { print $1 }')

# ---- cat ping, unloaded and with one container frozen (its init stopped
# by SIGSTOP, a spawn into it waiting): the loop must not notice
cat >"$TDIR/bench_ping.py" <<'PY'
import os, statistics, sys, time
path, n = sys.argv[1], int(sys.argv[2])
ts = []
for i in range(n + 20):
    t0 = time.perf_counter()
    fd = os.open(path, os.O_RDONLY); os.read(fd, 4096); os.close(fd)
    if i >= 20:
        ts.append(time.perf_counter() - t0)
print("%.1f" % (statistics.median(ts) * 1e6))
PY
ping_idle=$(python3 "$TDIR/bench_ping.py" "$MNT/ping" 2000)
mkdir "$MNT/frozen" || fatal "mkdir frozen"
read -r fpid _ <"$DEPOT/containers/frozen/init.pid"
kill -STOP "$fpid"
(gfs_io rw "$MNT/frozen/procs/new" str "/bin/true" >/dev/null) &
spawner=$!
sleep 0.2
ping_frozen=$(python3 "$TDIR/bench_ping.py" "$MNT/ping" 2000)
kill -CONT "$fpid"
wait $spawner
rmdir "$MNT/frozen"

# ---- RSS with idle containers
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$GFS_PID/status)
t0=$(now_ms)
for i in $(seq "$IDLE"); do
	mkdir "$MNT/idle$i" || fatal "mkdir idle$i"
done
t1=$(now_ms)
sleep 1
rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$GFS_PID/status)
t2=$(now_ms)
for i in $(seq "$IDLE"); do rmdir "$MNT/idle$i"; done
t3=$(now_ms)

ratio() { [ -n "$2" ] && python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2" || echo n/a; }
echo
printf '%-34s %10s %10s %10s\n' "operation ($RUNS runs)" "median ms" "min ms" "max ms"
printf '%-34s %10s %10s %10s\n' "gardenfs mkdir" $(printf '%s\n' "$gfs_out" | awk '$1 == "mkdir" { print $2, $3, $4 }')
printf '%-34s %10s %10s %10s\n' "gardenfs run true + read wait" $(printf '%s\n' "$gfs_out" | awk '$1 == "run" { print $2, $3, $4 }')
printf '%-34s %10s %10s %10s\n' "gardenfs rmdir" $(printf '%s\n' "$gfs_out" | awk '$1 == "rmdir" { print $2, $3, $4 }')
printf '%-34s %10s %10s %10s\n' "gardenfs whole cycle" $(printf '%s\n' "$gfs_out" | awk '$1 == "cycle" { print $2, $3, $4 }')
if [ -n "$crun_ms" ]; then
	printf '%-34s %10s %10s %10s\n' "crun run true" $crun_out
else
	printf '%-34s %s\n' "crun run true" "$crun_out"
fi
if [ -n "$runc_ms" ]; then
	printf '%-34s %10s %10s %10s\n' "runc run true" $runc_out
else
	printf '%-34s %s\n' "runc run true" "$runc_out"
fi
echo
printf '%-34s %10s   (target <= 1.2)\n' "gardenfs cycle / crun run" "$(ratio "$(med cycle)" "$crun_ms")"
printf '%-34s %10s   (target < 1)\n' "gardenfs cycle / runc run" "$(ratio "$(med cycle)" "$runc_ms")"
echo
printf '%-34s %10s us\n' "cat ping (open+read+close)" "$ping_idle"
printf '%-34s %10s us\n' "cat ping, one container frozen" "$ping_frozen"
printf '%-34s %10s   (target <= 2)\n' "frozen / unloaded" "$(ratio "$ping_frozen" "$ping_idle")"
echo
printf '%-34s %10s KiB\n' "daemon RSS, no container" "$rss0"
printf '%-34s %10s KiB\n' "daemon RSS, $IDLE idle containers" "$rss"
printf '%-34s %10s ms (%s ms each)\n' "mkdir of $IDLE containers (shell)" $((t1 - t0)) "$(ratio $((t1 - t0)) "$IDLE")"
printf '%-34s %10s ms\n' "rmdir of $IDLE containers (shell)" $((t3 - t2))
gfs_done
