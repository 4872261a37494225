#!/bin/bash
# info (state, process_ids, container_path, network fields present and
# empty), stop term/kill (returns when all are dead, state stopped,
# procs/new then EPERM, output still readable), events empty.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
I=$MNT/web/info

for k in state events host_ip container_ip external_ip container_path process_ids mapped_ports; do
	has_key "$I" $k || fail "info has no $k key: [$(tmo cat "$I" | tr '\n' '|')]"
done
assert_eq active "$(kv "$I" state)" "state"
assert_eq "" "$(kv "$I" process_ids)" "process_ids with no process"
cp=$(kv "$I" container_path)
[ -n "$cp" ] && [ -d "$cp" ] || fail "container_path [$cp] is not a directory on the host"
for k in mapped_ports events; do
	assert_eq "" "$(kv "$I" $k)" "$k is empty in a new container"
done
# its addresses: a /30 of the test's pool, host side .1, container .2
hip=$(kv "$I" host_ip)
cip=$(kv "$I" container_ip)
assert_match "$hip" '^10\.[0-9]+\.[0-9]+\.[0-9]*[159]$|^10\.[0-9]+\.[0-9]+\.[0-9]+$' "host_ip is an address"
assert_eq "${hip%.*}.$((${hip##*.} + 1))" "$cip" "container_ip follows host_ip"
assert_match "$(kv "$I" external_ip)" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "external_ip is the host's address"
assert_contains "$(ctr_run web 'ip -o -4 addr show eth0')" "$cip/30" "the container has its address on eth0"
tmo cat "$I" | grep -qv '^[a-z_]*\( .*\)\?$' && fail "info has a line that is not 'key value': [$(tmo cat "$I")]"

# process_ids: running ones only
a=$(run_proc web "/bin/sleep 1000")
b=$(run_proc web "/bin/true")
wait_proc web "$b" >/dev/null
c=$(run_proc web "/bin/sh -c 'trap \"\" TERM; echo ready; while :; do sleep 0.2; done'")
assert_eq "$a $c" "$(kv "$I" process_ids | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')" "process_ids lists the running processes"

# events: empty, and a read never blocks
assert_eq "" "$(timeout 3 cat "$MNT/web/events")" "events of a healthy container"
assert_eq 0 "$(timeout 3 cat "$MNT/web/events" >/dev/null; echo $?)" "events does not block"

# stop term: TERM to all, KILL after 10 s for those ignoring it
timeout 5 head -n1 "$MNT/web/procs/$c/stdout" >/dev/null
t0=$(now_ms)
echo term >"$MNT/web/stop" || fail "write term to stop"
dt=$(($(now_ms) - t0))
[ $dt -ge 8000 ] || fail "stop term returned after $dt ms, though a process ignores SIGTERM (10 s grace)"
[ $dt -le 20000 ] || fail "stop term took $dt ms"
assert_eq 143 "$(timeout 2 cat "$MNT/web/procs/$a/wait")" "sleep got SIGTERM (wait ready when stop returns)"
assert_eq 137 "$(timeout 2 cat "$MNT/web/procs/$c/wait")" "the TERM-ignoring process got SIGKILL"
assert_eq stopped "$(kv "$I" state)" "state after stop term"
assert_eq "" "$(kv "$I" process_ids)" "no process ids after stop"
assert_errno EPERM "$MNT/web/procs/new" "/bin/true" "procs/new of a stopped container"
assert_eq ready "$(tmo cat "$MNT/web/procs/$c/stdout")" "output of a stopped container's process still readable"
assert_eq 0 "$(tmo cat "$MNT/web/procs/$b/wait")" "wait of an earlier process still readable"
echo v >"$MNT/web/properties/after" || fail "set a property on a stopped container"
# stop again: nothing to do, still fine
assert_errno OK "$MNT/web/stop" "kill" "stop kill of a stopped container"
rmdir "$MNT/web" || fail "rmdir of a stopped container"

# stop kill: at once
mkdir "$MNT/k" || fatal "mkdir k"
d=$(run_proc k "/bin/sh -c 'trap \"\" TERM; echo ready; while :; do sleep 0.2; done'")
e=$(run_proc k "/bin/sh -c 'sleep 1000 & sleep 1000 & wait'")
timeout 5 head -n1 "$MNT/k/procs/$d/stdout" >/dev/null
epid=$(host_pid k "$e")
sleep 0.3
kids=$(pgrep -P "$epid")
t0=$(now_ms)
echo kill >"$MNT/k/stop" || fail "write kill to stop"
dt=$(($(now_ms) - t0))
[ $dt -le 3000 ] || fail "stop kill took $dt ms"
assert_eq 137 "$(timeout 2 cat "$MNT/k/procs/$d/wait")" "status after stop kill"
for p in $epid $kids; do
	[ -d /proc/$p ] && [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep -o "$(cat /proc/$p/comm 2>/dev/null)" = sh ] &&
		fail "process $p ($(cat /proc/$p/comm)) still alive after stop kill"
done
assert_eq stopped "$(kv "$MNT/k/info" state)" "state after stop kill"
assert_errno EPERM "$MNT/k/procs/new" "/bin/true" "procs/new after stop kill"
gfs_done
