#!/bin/bash
# Nothing holds up the daemon: while one container's init is frozen
# (SIGSTOP from the host), while a spawn in another hangs before exec
# (strace delays its execve), and while a 200 MiB tarball image unpacks,
# `cat ping`, `mkdir` of another container and a read of another
# container's stdout each answer within 1 s.  The stuck operations end
# with a reason once their time is up.
. "$(dirname "$0")/../lib.sh"
command -v strace >/dev/null || skip "needs strace"
gfs_start
mkdir "$MNT/ok" || fatal "mkdir ok"
ticker=$(run_proc ok "/bin/sh -c 'while :; do echo tick; sleep 0.2; done'") || fatal "ticker"
mkdir "$MNT/frozen" "$MNT/hang" || fatal "mkdir"

quick() { # WHAT CMD...: CMD must finish within 1 s
	local what=$1 t0 dt
	shift
	t0=$(now_ms)
	timeout 5 "$@" >/dev/null 2>&1 || fail "$what failed"
	dt=$(($(now_ms) - t0))
	[ $dt -lt 1000 ] || fail "$what took $dt ms while the daemon had stuck work"
	say "$what: $dt ms"
}
probe() { # TAG
	quick "$1: cat ping" cat "$MNT/ping"
	quick "$1: mkdir" mkdir "$MNT/probe-$1"
	quick "$1: read another container's stdout" head -c 5 "$MNT/ok/procs/$ticker/stdout"
	quick "$1: ls" ls "$MNT"
	rmdir "$MNT/probe-$1" || fail "rmdir probe-$1"
}

# 1. a frozen init: a spawn into it waits, everything else goes on
read -r fpid _ <"$DEPOT/containers/frozen/init.pid"
kill -STOP "$fpid"
t0=$(now_ms)
(gfs_io rw "$MNT/frozen/procs/new" str "/bin/true" >"$TDIR/frozen.out") &
spawner=$!
sleep 0.3
probe frozen
wait $spawner
dt=$(($(now_ms) - t0))
assert_eq ETIMEDOUT "$(head -n1 "$TDIR/frozen.out")" "a spawn into a frozen init fails"
[ $dt -ge 5000 ] || fail "the spawn into the frozen init gave up after only $dt ms"
assert_contains "$(cat "$MNT/frozen/errors")" "did not start" "the reason is in errors"
kill -CONT "$fpid"

# 2. a spawn that hangs before exec: its execve is held for 30 s
read -r hpid _ <"$DEPOT/containers/hang/init.pid"
strace -q -f -p "$hpid" -e trace=execve -e inject=execve:delay_enter=30000000 -o /dev/null &
tracer=$!
sleep 0.5
t0=$(now_ms)
(gfs_io rw "$MNT/hang/procs/new" str "/bin/true" >"$TDIR/hang.out") &
spawner=$!
sleep 0.3
probe hang
wait $spawner
dt=$(($(now_ms) - t0))
kill $tracer 2>/dev/null
wait $tracer 2>/dev/null
assert_eq ETIMEDOUT "$(head -n1 "$TDIR/hang.out")" "a spawn stuck before exec fails"
[ $dt -lt 20000 ] || fail "the stuck spawn took $dt ms to fail"
assert_contains "$(cat "$MNT/hang/errors")" "did not start" "the reason for the stuck spawn is in errors"
# the container is fine afterwards
assert_eq hi "$(ctr_run hang 'echo hi')" "a new process in hang after the stuck one"

# 3. a 200 MiB tarball unpacking
mkdir -p "$TDIR/big"
cp -a "$IMAGE/." "$TDIR/big/"
head -c 200M /dev/urandom >"$TDIR/big/blob"
tar -C "$TDIR/big" -cf - . | gzip -1 >"$TDIR/big.tar.gz"
rm -rf "$TDIR/big"
t0=$(now_ms)
(echo "create handle=big rootfs=$TDIR/big.tar.gz" >"$MNT/ctl"; echo $? >"$TDIR/big.rc"; now_ms >"$TDIR/big.t") &
creator=$!
sleep 0.2
probe image
tprobe=$(now_ms)
wait $creator
assert_eq 0 "$(cat "$TDIR/big.rc")" "the big image's create"
tbig=$(cat "$TDIR/big.t")
say "the big create took $((tbig - t0)) ms; the probes were done after $((tprobe - t0)) ms"
[ "$tbig" -gt "$tprobe" ] || say "(the unpack was faster than the probes: they overlapped it only in part)"
assert_eq 200 "$(ctr_sh big 'du -m /blob | cut -f1')" "the big image's file"

gfs_done
