#!/bin/bash
# 1000 readers parked on wait hold up nothing: ping, mkdir and a process run
# still answer within a couple of seconds (a functional check, not a
# benchmark), and all 1000 get the status.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
ids=
for i in 1 2 3 4; do
	ids="$ids $(run_proc web "/bin/sleep 1000")"
done
set -- $ids
[ $# -eq 4 ] || fatal "could not start the sleepers"

N=1000
pids=
for i in $(seq $N); do
	eval "id=\${$(((i % 4) + 1))}"
	cat "$MNT/web/procs/$id/wait" >>"$TDIR/statuses" &
	pids="$pids $!"
done
sleep 3
alive=0
for p in $pids; do kill -0 $p 2>/dev/null && alive=$((alive + 1)); done
assert_eq $N $alive "readers still parked on wait"

check_fast() { # WHAT COMMAND...
	local what=$1 t0 dt
	shift
	t0=$(now_ms)
	timeout -k 1 10 "$@" || fail "$what failed or hung"
	dt=$(($(now_ms) - t0))
	[ $dt -le 2500 ] || fail "$what took $dt ms with $N parked readers"
	say "$what: $dt ms"
}
check_fast "cat ping" cat "$MNT/ping"
check_fast "mkdir" mkdir "$MNT/second"
check_fast "ls" ls "$MNT/web/procs"
check_fast "cat info" cat "$MNT/web/info"
t0=$(now_ms)
assert_eq fast "$(GFS_TMO=10 ctr_run second 'echo fast')" "a process in another container"
dt=$(($(now_ms) - t0))
[ $dt -le 3000 ] || fail "running a process took $dt ms with $N parked readers"
check_fast "rmdir" rmdir "$MNT/second"

# wake them all
for id in $ids; do echo kill >"$MNT/web/procs/$id/signal"; done
end=$(($(date +%s) + 30))
for p in $pids; do
	while kill -0 $p 2>/dev/null && [ "$(date +%s)" -lt $end ]; do sleep 0.1; done
done
left=0
for p in $pids; do kill -0 $p 2>/dev/null && { left=$((left + 1)); kill $p 2>/dev/null; }; done
assert_eq 0 $left "readers still blocked 30 s after the processes died"
wait $pids 2>/dev/null
assert_eq $N "$(grep -c '^137$' "$TDIR/statuses")" "readers that got 137"
assert_eq $N "$(wc -l <"$TDIR/statuses")" "lines read by all readers"
assert_eq ok "$(tmo cat "$MNT/ping")" "ping at the end"
gfs_done
