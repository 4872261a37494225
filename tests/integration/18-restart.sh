#!/bin/bash
# Reliability: kill -9 the daemon and start a new one on the same depot:
# every container and property, every running process (which kept running),
# every byte of output (also what was written while no daemon ran), and the
# exit status of a process that exited meanwhile are there again.
. "$(dirname "$0")/../lib.sh"
gfs_start
echo "create handle=web env=E=1 property=team=core" >"$MNT/ctl" || fatal "create web"
mkdir "$MNT/db" || fatal "mkdir db"
echo "created" >"$MNT/db/properties/note"
printf 'line1\nline2' >"$MNT/web/properties/multi"

ticker=$(run_proc web "/bin/sh -c 'i=0; while [ \$i -lt 40 ]; do echo tick\$i; echo err\$i >&2; i=\$((i+1)); sleep 0.1; done'") || fatal "ticker"
shortlived=$(run_proc web "/bin/sh -c 'sleep 1.5; exit 5'") || fatal "short"
sleeper=$(run_proc db "/bin/sleep 1000") || fatal "sleeper"
echoer=$(run_proc db "/bin/cat") || fatal "cat"
done_before=$(run_proc db "/bin/sh -c 'echo before; exit 9'")
wait_proc db "$done_before" >/dev/null
spid=$(host_pid db "$sleeper")
tpid=$(host_pid web "$ticker")
sleep 0.3

gfs_kill9
say "daemon killed"
# the processes go on while no daemon runs
sleep 1
[ -n "$spid" ] && [ -d /proc/$spid ] || fail "the sleeper died with the daemon"
[ -n "$tpid" ] && [ -d /proc/$tpid ] || fail "the ticker died with the daemon"
sleep 2 # the short-lived process exits now, the ticker writes on

gfs_start
assert_eq "db web" "$(ls "$MNT" | grep -vxE 'ctl|ping|capacity|errors' | sort | tr '\n' ' ' | sed 's/ $//')" "containers after restart"
assert_eq core "$(tmo cat "$MNT/web/properties/team")" "property from create after restart"
assert_eq created "$(tmo cat "$MNT/db/properties/note")" "property after restart"
assert_eq "line1
line2" "$(tmo cat "$MNT/web/properties/multi")" "multi-line property after restart"
assert_eq active "$(kv "$MNT/web/info" state)" "state after restart"

# the sleeper is the same process, still running
assert_eq running "$(kv "$MNT/db/procs/$sleeper/status" state)" "sleeper state after restart"
assert_eq "$spid" "$(host_pid db "$sleeper")" "sleeper host pid after restart"
assert_contains " $(kv "$MNT/db/info" process_ids) " " $sleeper " "process_ids after restart"

# exit status of a process that exited while no daemon ran
assert_eq 5 "$(wait_proc web "$shortlived")" "exit status from the downtime"
assert_eq 9 "$(wait_proc db "$done_before")" "exit status from before the kill"
assert_eq before "$(tmo cat "$MNT/db/procs/$done_before/stdout")" "output from before the kill"

# every byte of the ticker's output, from byte 0, including the downtime
assert_eq 0 "$(GFS_TMO=30 wait_proc web "$ticker")" "ticker exit"
assert_eq "$(for i in $(seq 0 39); do echo tick$i; done)" "$(tmo cat "$MNT/web/procs/$ticker/stdout")" "ticker stdout whole"
assert_eq "$(for i in $(seq 0 39); do echo err$i; done)" "$(tmo cat "$MNT/web/procs/$ticker/stderr")" "ticker stderr whole"

# stdin of a process started before the kill still works
echo "still there" >"$MNT/db/procs/$echoer/stdin" || fail "write to the stdin of a process from before the restart"
assert_eq 0 "$(wait_proc db "$echoer")" "cat exits at EOF after restart"
assert_eq "still there" "$(tmo cat "$MNT/db/procs/$echoer/stdout")" "cat's output after restart"

# signals reach the old process, and new processes run
echo term >"$MNT/db/procs/$sleeper/signal" || fail "signal after restart"
assert_eq 143 "$(wait_proc db "$sleeper")" "sleeper status after term"
assert_eq 1 "$(ctr_sh web 'echo $E')" "container env for a new process after restart"
assert_eq web "$(ctr_run web hostname)" "a new process in a restored container"

# a reader parked across a kill: start one, kill the daemon, restart, the
# new daemon serves a new reader
long=$(run_proc web "/bin/sh -c 'echo one; sleep 2; echo two'")
gfs_kill9
gfs_start
assert_eq "one
two" "$(tmo cat "$MNT/web/procs/$long/stdout")" "output across a second kill -9"

# a clean stop (SIGTERM) keeps them too, and destroy after restart works
gfs_stop
gfs_start
assert_eq created "$(tmo cat "$MNT/db/properties/note")" "property after a clean restart"
rmdir "$MNT/web" || fail "rmdir after restart"
rmdir "$MNT/db" || fail "rmdir db after restart"
[ -d /proc/$spid ] && [ "$(cat /proc/$spid/comm 2>/dev/null)" = sleep ] && fail "sleeper alive after destroy"
gfs_done
