#!/bin/bash
# wait: blocks until exit, then the status (128+signal when killed), the same
# on every read; signal: term, kill and other names; status keys.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
P=$MNT/web/procs

id=$(run_proc web "/bin/sh -c 'sleep 1; exit 3'")
# status while running
st=$(tmo cat "$P/$id/status")
assert_match "$(kv "$P/$id/status" pid)" '^[0-9]+$' "status pid"
assert_eq running "$(kv "$P/$id/status" state)" "status state while running"
assert_contains "$(kv "$P/$id/status" command)" "/bin/sh" "status command"
has_key "$P/$id/status" exit_status && fail "exit_status present while running: [$st]"
# wait blocks until the exit
t0=$(now_ms)
assert_eq 3 "$(wait_proc web "$id")" "exit 3 -> 3"
dt=$(($(now_ms) - t0))
[ $dt -ge 500 ] || fail "wait returned after $dt ms, before the process ended"
assert_eq 3 "$(wait_proc web "$id")" "wait read again"
assert_eq 3 "$(wait_proc web "$id")" "wait read a third time"
assert_eq exited "$(kv "$P/$id/status" state)" "state after exit"
assert_eq 3 "$(kv "$P/$id/status" exit_status)" "exit_status after exit"
# two waiters at once get the same
id=$(run_proc web "/bin/sh -c 'sleep 0.5; exit 42'")
tmo cat "$P/$id/wait" >"$TDIR/w1" &
w1=$!
tmo cat "$P/$id/wait" >"$TDIR/w2" &
wait $w1 $!
assert_eq 42 "$(cat "$TDIR/w1")" "first concurrent waiter"
assert_eq 42 "$(cat "$TDIR/w2")" "second concurrent waiter"

# signals
sigtest() { # NAME EXPECTED-STATUS
	local id
	id=$(run_proc web "/bin/sleep 100") || { fail "run sleep"; return; }
	sleep 0.2
	echo "$1" >"$P/$id/signal" || fail "write $1 to signal"
	assert_eq "$2" "$(wait_proc web "$id")" "wait after signal $1"
}
sigtest kill 137
sigtest term 143
sigtest hup 129
sigtest int 130
sigtest usr1 138
sigtest KILL 137 # names in capitals too? (as kill -l prints them)
# without a newline
id=$(run_proc web "/bin/sleep 100")
assert_errno OK "$P/$id/signal" "term" "signal without a newline"
assert_eq 143 "$(wait_proc web "$id")" "status after term without newline"

# a handled signal: the process decides its status
id=$(run_proc web "/bin/sh -c 'trap \"echo got-hup; exit 7\" HUP; while :; do sleep 0.1; done'")
sleep 0.3
echo hup >"$P/$id/signal"
assert_eq 7 "$(wait_proc web "$id")" "trapped hup: exit 7"
assert_eq got-hup "$(tmo cat "$P/$id/stdout")" "the trap ran"

# signal to an exited process: ESRCH; unknown names: EINVAL
assert_errno ESRCH "$P/$id/signal" "term" "signal to an exited process"
id=$(run_proc web "/bin/sleep 100")
assert_errno EINVAL "$P/$id/signal" "nosuchsig" "unknown signal name"
assert_errno EINVAL "$P/$id/signal" $'\n' "an empty line to signal" # (a 0-byte write never reaches the daemon)
assert_eq running "$(kv "$P/$id/status" state)" "bad signal writes changed nothing"
echo kill >"$P/$id/signal"
wait_proc web "$id" >/dev/null

# a process killed from inside the container: 128+9
id=$(run_proc web "/bin/sh -c 'kill -9 \$\$'")
assert_eq 137 "$(wait_proc web "$id")" "killed by its own signal"
# exit statuses 0 and 255
assert_eq 0 "$(ctr_run web /bin/true >/dev/null; echo "$LAST_STATUS")" "true"
assert_eq 1 "$(ctr_run web /bin/false >/dev/null; echo "$LAST_STATUS")" "false"
assert_eq 255 "$(ctr_run web "/bin/sh -c 'exit 255'" >/dev/null; echo "$LAST_STATUS")" "exit 255"
gfs_done
