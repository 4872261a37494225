#!/bin/bash
# tests/bench/bench-net.sh: what networking costs.  Medians of BENCH_RUNS
# creates and destroys with networking and without (a second daemon with
# --network-pool none); BENCH_NET_N (default 1000) containers with
# networking on one daemon (a /20): the create time of the first and of the
# last, and the host memory each takes; throughput host -> container through
# net/in and container -> container, against the same transfer over a plain
# veth pair between namespaces the bench makes, with the same tools (busybox
# nc as the sink, python3 or busybox nc as the source).  Prints figures and
# ratios; never fails on time.
TEST_NAME=bench-net
. "$(dirname "$0")/../lib.sh"
RUNS=${BENCH_RUNS:-25}
N=${BENCH_NET_N:-1000}
MB=${BENCH_NET_MB:-512}
gfs_setup
BB=$GFS_BASE_IMAGE/bin/busybox
[ -x "$BB" ] || skip "no busybox in $GFS_BASE_IMAGE"

ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

cat >"$TDIR/cycle.py" <<'PY'
import os, statistics, sys, time
mnt, runs = sys.argv[1], int(sys.argv[2])
mk, rm = [], []
for i in range(runs + 2):
    h = f"n{i}"
    t0 = time.perf_counter(); os.mkdir(f"{mnt}/{h}"); t1 = time.perf_counter()
    os.rmdir(f"{mnt}/{h}"); t2 = time.perf_counter()
    if i >= 2:
        mk.append(t1 - t0); rm.append(t2 - t1)
print("%.3f %.3f" % (statistics.median(mk) * 1000, statistics.median(rm) * 1000))
PY

# ---- create and destroy, with networking and without
gfs_net_pick
gfs_start --network-pool "$GFS_POOL" --port-pool "$GFS_PORTS"
out=$(python3 "$TDIR/cycle.py" "$MNT" "$RUNS") || fatal "cycle with networking: $out"
read -r mk_net rm_net <<<"$out"
gfs_stop
gfs_start --network-pool none
out=$(python3 "$TDIR/cycle.py" "$MNT" "$RUNS") || fatal "cycle without networking: $out"
read -r mk_none rm_none <<<"$out"
gfs_stop

# ---- N containers with networking on a /20
for _ in $(seq 50); do
	a=$((100 + RANDOM % 100)) b=$((RANDOM % 16 * 16))
	ip -o -4 addr | grep -qE " 10\.$a\.($b|$((b + 15)))\." || break
done
BIGPOOL=10.$a.$b.0/20
mem_used() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
gfs_start --network-pool "$BIGPOOL" --port-pool "$GFS_PORTS" --max-containers "$N"
m0=$(mem_used)
rss0=$(awk '/^VmRSS:/ { print $2 }' /proc/$GFS_PID/status)
cat >"$TDIR/many.py" <<'PY'
import os, sys, time
mnt, n = sys.argv[1], int(sys.argv[2])
ts = []
for i in range(n):
    t0 = time.perf_counter(); os.mkdir(f"{mnt}/m{i}"); ts.append(time.perf_counter() - t0)
k = max(1, n // 100)
first = sorted(ts[:k])[k // 2]; last = sorted(ts[-k:])[k // 2]
print("%.3f %.3f %.1f" % (first * 1000, last * 1000, sum(ts)))
PY
read -r first last total < <(python3 "$TDIR/many.py" "$MNT" "$N")
sleep 2
m1=$(mem_used)
rss1=$(awk '/^VmRSS:/ { print $2 }' /proc/$GFS_PID/status)
ok=$(ctr_run "m$((N - 1))" "cat /proc/net/dev" | grep -c eth0)
per_kib=$(((m0 - m1) / N))
t0=$(now_ms)
for i in $(seq 0 $((N - 1))); do rmdir "$MNT/m$i"; done
t1=$(now_ms)
gfs_stop

# ---- throughput: through net/in, container to container, plain veths
gfs_start --network-pool "$GFS_POOL" --port-pool "$GFS_PORTS"
mkdir "$MNT/sink" "$MNT/src" || fatal "mkdir"
ext=$(kv "$MNT/sink/info" external_ip)
sip=$(kv "$MNT/sink/info" container_ip)
exec 3<>"$MNT/sink/net/in"
printf '0 5000' >&3
read -r hp _ <&3
exec 3>&-
cat >"$TDIR/send.py" <<'PY'
import socket, sys, time
host, port, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
buf = b"\0" * (1 << 20)
for _ in range(50):
    try:
        s = socket.create_connection((host, port), timeout=5); break
    except OSError:
        time.sleep(0.1)
t0 = time.perf_counter()
for _ in range(mb):
    s.sendall(buf)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print("%.1f" % (mb / (time.perf_counter() - t0)))
PY
run_proc sink "/bin/sh -c 'nc -l -p 5000 > /dev/null'" >/dev/null
sleep 0.3
tp_netin=$(python3 "$TDIR/send.py" "$ext" "$hp" "$MB")
run_proc sink "/bin/sh -c 'nc -l -p 5001 > /dev/null'" >/dev/null
sleep 0.3
t0c=$(now_ms)
ctr_sh src "head -c $((MB << 20)) /dev/zero | nc $sip 5001" >/dev/null
t1c=$(now_ms)
tp_c2c=$(python3 -c "import sys; print('%.1f' % (int(sys.argv[1]) * 1000 / max(1, int(sys.argv[2]))))" "$MB" $((t1c - t0c)))
rmdir "$MNT/sink" "$MNT/src"
gfs_stop

# the same over a plain veth pair: host -> namespace, namespace -> namespace
PL=gfsb$((RANDOM % 10000))
NS1= NS2= SINKS=
plain_cleanup() {
	for p in $NS1 $NS2 $SINKS; do kill -KILL "$p" 2>/dev/null; done
	ip link del "${PL}a" 2>/dev/null
	return 0
}
trap 'plain_cleanup; gfs_cleanup' EXIT
unshare -n sleep 1000 &
NS1=$!
unshare -n sleep 1000 &
NS2=$!
sleep 0.2
for _ in $(seq 30); do
	PN=10.$((200 + RANDOM % 51)).$((RANDOM % 250))
	ip -o addr | grep -q " $PN\." || break
done
ip link add "${PL}a" type veth peer name "${PL}b"
ip link set "${PL}b" netns "$NS1"
ip addr add "$PN.1/30" dev "${PL}a"
ip link set "${PL}a" up
nsenter -t "$NS1" -n sh -c "ip addr add $PN.2/30 dev ${PL}b; ip link set ${PL}b up; ip link set lo up"
# busybox nc leaves when its stdin ends: give it one that does not
mkfifo "$TDIR/hold"
exec 9<>"$TDIR/hold"
nsenter -t "$NS1" -n "$BB" nc -l -p 5000 <&9 >/dev/null &
SINKS="$SINKS $!"
sleep 0.3
tp_plain=$(python3 "$TDIR/send.py" "$PN.2" 5000 "$MB")
ip link add "${PL}c" type veth peer name "${PL}d"
ip link set "${PL}c" netns "$NS1"
ip link set "${PL}d" netns "$NS2"
nsenter -t "$NS1" -n sh -c "ip addr add $PN.5/30 dev ${PL}c; ip link set ${PL}c up"
nsenter -t "$NS2" -n sh -c "ip addr add $PN.6/30 dev ${PL}d; ip link set ${PL}d up; ip link set lo up"
nsenter -t "$NS2" -n "$BB" nc -l -p 5001 <&9 >/dev/null &
SINKS="$SINKS $!"
sleep 0.3
t0p=$(now_ms)
nsenter -t "$NS1" -n "$BB" sh -c "$BB head -c $((MB << 20)) /dev/zero | $BB nc $PN.6 5001" ||
	fail "the plain namespace-to-namespace transfer"
t1p=$(now_ms)
tp_plain2=$(python3 -c "import sys; print('%.1f' % (int(sys.argv[1]) * 1000 / max(1, int(sys.argv[2]))))" "$MB" $((t1p - t0p)))

echo
printf '%-44s %10s %10s %8s\n' "operation ($RUNS runs, median)" "net ms" "none ms" "added"
printf '%-44s %10s %10s %8s\n' "mkdir" "$mk_net" "$mk_none" "$(python3 -c "print('%.2f' % ($mk_net - $mk_none))")"
printf '%-44s %10s %10s %8s\n' "rmdir" "$rm_net" "$rm_none" "$(python3 -c "print('%.2f' % ($rm_net - $rm_none))")"
echo "   (target: networking adds at most 2 ms to a create)"
echo
printf '%-44s %10s\n' "$N containers with networking: created" "$ok/1 checked, ${total} s"
printf '%-44s %10s ms\n' "create #1 (median of the first 1%)" "$first"
printf '%-44s %10s ms\n' "create #$N (median of the last 1%)" "$last"
printf '%-44s %10s   (target <= 1.5)\n' "last / first" "$(ratio "$last" "$first")"
printf '%-44s %10s KiB\n' "host memory per container (MemAvailable)" "$per_kib"
printf '%-44s %10s KiB\n' "daemon RSS, empty / with $N" "$rss0 / $rss1"
printf '%-44s %10s ms\n' "rmdir of $N (shell)" $((t1 - t0))
echo
printf '%-44s %10s MiB/s\n' "host -> container via net/in" "$tp_netin"
printf '%-44s %10s MiB/s\n' "host -> namespace over a plain veth" "$tp_plain"
printf '%-44s %10s   (target >= 0.9)\n' "ratio" "$(ratio "$tp_netin" "$tp_plain")"
printf '%-44s %10s MiB/s\n' "container -> container" "$tp_c2c"
printf '%-44s %10s MiB/s\n' "namespace -> namespace over a plain veth" "$tp_plain2"
printf '%-44s %10s   (target >= 0.9)\n' "ratio" "$(ratio "$tp_c2c" "$tp_plain2")"
gfs_done
