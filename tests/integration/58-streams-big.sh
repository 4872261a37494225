#!/bin/bash
# Big streams through the mount: a streamin past the container's disk limit
# fails at its close with EDQUOT or ENOSPC, one line in errors, keeps what
# fit, and the container and daemon go on; a 1 GiB streamin into one
# container, and the 1 GiB streamout of it, never hold up the daemon: while
# they run, another container starts processes whose stdout and wait are
# read, and `cat ping` answers, each within 1 s.
. "$(dirname "$0")/../streams-fs.sh"
command -v btrfs >/dev/null || skip "btrfs-progs missing"
stream_start --store-size 4G
bgpids=
trap 'rc=$?; for p in $bgpids; do kill "$p" 2>/dev/null; done; (exit $rc); gfs_cleanup' EXIT
C=$MNT/c

# tar_gen_big N MIB: a tar of N files of MIB MiB each on stdout, made on
# the fly (nothing on the host's disk)
tar_gen_big() {
	python3 - "$1" "$2" <<'PY'
import os, sys, tarfile
n, mib = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
block = bytes(range(256)) * 4096  # 1 MiB
for i in range(n):
    ti = tarfile.TarInfo("f%02d" % i)
    ti.size, ti.mode, ti.mtime = mib << 20, 0o644, 1600000000
    out.write(ti.tobuf(tarfile.GNU_FORMAT))
    for _ in range(mib):
        out.write(block)
out.write(b"\0" * 10240)
out.flush()
PY
}

# ---- the disk limit
echo byte_hard=20M >"$C/limits/disk" || fatal "setting the disk limit"
{ echo /tmp/full; tar_gen_big 5 10; } >"$TDIR/full"
n=$(lines "$C/errors")
got=$(sin "$C/streamin" "$TDIR/full" 1048576)
case $got in
"OK EDQUOT" | "EDQUOT EDQUOT" | "OK ENOSPC" | "ENOSPC ENOSPC") ;;
*) fail "50 MiB into a 20 MiB container: expected EDQUOT or ENOSPC at the close, got [$got]" ;;
esac
assert_eq 1 "$(errors_added c "$n")" "one line in errors for the full disk"
assert_match "$(tmo cat "$C/errors" | tail -1)" "^streamin /tmp/full: .*(quota|space)" "the reason names the stream and the limit"
kept=$(ls "$(in_ctr /tmp/full)" | wc -l)
[ "$kept" -ge 1 ] || fail "what fit before the limit stays ($kept files)"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon is fine after a full disk"
echo byte_hard=0 >"$C/limits/disk" || fail "lifting the disk limit"
assert_eq hi "$(ctr_sh c 'rm -rf /tmp/full; echo hi')" "the container goes on"
rm -f "$TDIR/full"

# ---- 1 GiB in and out while another container is served
mkdir "$MNT/other" || fatal "mkdir other"
slow=0 probes=0 worst=0
probe() { # one round of another container's work; records the slowest
	local t0 t id o st
	for what in ping run; do
		t0=$(now_ms)
		case $what in
		ping) o=$(tmo cat "$MNT/ping") ;;
		run)
			id=$(run_proc other "/bin/echo probe") &&
				o=$(tmo cat "$MNT/other/procs/$id/stdout") &&
				st=$(wait_proc other "$id")
			[ "$o" = probe ] && [ "$st" = 0 ] || fail "a process of the other container: [$o] [$st]"
			;;
		esac
		t=$(($(now_ms) - t0))
		probes=$((probes + 1))
		[ "$t" -gt "$worst" ] && worst=$t
		[ "$t" -gt 1000 ] && slow=$((slow + 1)) && say "$what took $t ms"
	done
}
# while_running PID: probe until it is done; ROUNDS: how many rounds
while_running() {
	ROUNDS=0
	while kill -0 "$1" 2>/dev/null; do
		probe
		ROUNDS=$((ROUNDS + 1))
		sleep 0.2
	done
}

({ echo /big; tar_gen_big 16 64; } >"$C/streamin"; echo $? >"$TDIR/in.rc") &
inpid=$!
bgpids="$bgpids $inpid"
while_running "$inpid"
wait "$inpid"
assert_eq 0 "$(cat "$TDIR/in.rc")" "1 GiB streamin"
[ "$ROUNDS" -ge 3 ] || say "only $ROUNDS probe rounds ran during the streamin (a fast machine)"
assert_eq "$((16 * 64 * 1048576))" "$(ctr_sh c 'cat /big/* | wc -c')" "1 GiB arrived"

(
	exec 3<>"$C/streamout"
	echo /big/ >&3 || exit 1
	tar -t <&3 >"$TDIR/list"
	echo $? >"$TDIR/out.rc"
) &
outpid=$!
bgpids="$bgpids $outpid"
while_running "$outpid"
wait "$outpid"
assert_eq 0 "$(cat "$TDIR/out.rc" 2>/dev/null)" "1 GiB streamout read whole by tar"
assert_eq 17 "$(wc -l <"$TDIR/list")" "every entry came out"
assert_eq 0 "$slow" "no request of the other container took more than 1 s (worst of $probes: $worst ms)"
say "worst answer during the 1 GiB streams: $worst ms of $probes probes"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon is fine"
gfs_done
