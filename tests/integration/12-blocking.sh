#!/bin/bash
# Blocking reads of wait, stdout and stderr can be interrupted (Ctrl-C) and
# return at once; poll(2) and select(2) wake when output or the exit arrives.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
P=$MNT/web/procs

id=$(run_proc web "/bin/sleep 1000") || fatal "run sleep"

# A reader with SIGINT at its default action, as at a terminal (background
# jobs of a script ignore SIGINT, so plain cat would not do).
reader() { # FILE
	exec python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
fd = os.open(sys.argv[1], os.O_RDONLY)
print("started", flush=True)
data = os.read(fd, 4096)
print("returned", data, flush=True)' "$1"
}

for f in wait stdout stderr; do
	reader "$P/$id/$f" >"$TDIR/rd.$f" 2>&1 &
	rpid=$!
	wait_until 5 grep -q started "$TDIR/rd.$f" || fail "$f reader did not start"
	sleep 0.5
	kill -0 $rpid 2>/dev/null || fail "read of $f returned at once: $(cat "$TDIR/rd.$f")"
	t0=$(now_ms)
	kill -INT $rpid
	if wait_until 3 sh -c "! kill -0 $rpid 2>/dev/null"; then
		dt=$(($(now_ms) - t0))
		[ $dt -le 2000 ] || fail "read of $f took $dt ms to return after SIGINT"
	else
		fail "read of $f not interrupted by SIGINT within 3 s"
		kill -KILL $rpid 2>/dev/null
	fi
	wait $rpid 2>/dev/null
	assert_eq 130 "$(wait $rpid 2>/dev/null; echo $?)" "$f reader died of SIGINT" >/dev/null 2>&1
	# and with SIGTERM on a plain cat
	cat "$P/$id/$f" >/dev/null &
	cpid=$!
	sleep 0.3
	kill -TERM $cpid
	wait_until 3 sh -c "! kill -0 $cpid 2>/dev/null" || { fail "cat $f not ended by SIGTERM"; kill -KILL $cpid; }
	wait $cpid 2>/dev/null
done
# the daemon is fine and the process untouched
assert_eq ok "$(tmo cat "$MNT/ping")" "ping after interrupted reads"
assert_eq running "$(kv "$P/$id/status" state)" "process still running after its readers were interrupted"
echo kill >"$P/$id/signal"
assert_eq 137 "$(wait_proc web "$id")" "a new wait reader after the interrupted ones"

# poll and select wake when output arrives, and on EOF
id=$(run_proc web "/bin/sh -c 'sleep 1; echo x; sleep 1'") || fatal "run"
out=$(tmo python3 -c '
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
p = select.poll(); p.register(fd, select.POLLIN)
first = p.poll(200)
t0 = time.monotonic()
ev = p.poll(8000)
dt = time.monotonic() - t0
data = os.read(fd, 100) if ev else b""
ev2 = p.poll(8000)          # now EOF when the process exits
eof = os.read(fd, 100) if ev2 else b"(no wakeup)"
print("early=%s" % bool(first), "woke=%s" % bool(ev), "dt=%.2f" % dt, "data=%r" % data, "eof=%r" % eof)
' "$P/$id/stdout")
assert_contains "$out" "early=False" "poll on stdout with no output yet does not report readable"
assert_contains "$out" "woke=True" "poll on stdout wakes when output arrives"
assert_contains "$out" "data=b'x\\n'" "the data after the wakeup"
assert_contains "$out" "eof=b''" "poll wakes for EOF at exit"
dt=$(printf '%s' "$out" | sed -n 's/.*dt=\([0-9.]*\).*/\1/p')
python3 -c "import sys; d=float(sys.argv[1]); sys.exit(0 if 0.4 < d < 5 else 1)" "${dt:-0}" ||
	fail "poll woke after ${dt:-?} s; output came after about 0.8 s [$out]"

id=$(run_proc web "/bin/sh -c 'sleep 1; exit 4'") || fatal "run"
out=$(tmo python3 -c '
import os, select, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
r0, _, _ = select.select([fd], [], [], 0.2)
t0 = time.monotonic()
r, _, _ = select.select([fd], [], [], 8)
print("early=%s" % bool(r0), "woke=%s" % bool(r), "data=%r" % (os.read(fd, 100) if r else b""))
' "$P/$id/wait")
assert_contains "$out" "early=False" "select on wait before the exit"
assert_contains "$out" "woke=True" "select on wait wakes at the exit"
assert_contains "$out" "data=b'4\\n'" "wait data after select"
gfs_done
