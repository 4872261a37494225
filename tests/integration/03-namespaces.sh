#!/bin/bash
# Namespaces: hostname = handle; pid 1 is gardenfs-init; loopback up and no
# other interface; /garden and the depot are not visible inside; unprivileged
# containers run as root inside but not on the host, and see the image's
# root-owned files as root; privileged ones are host root.
. "$(dirname "$0")/../lib.sh"
gfs_start

mkdir "$MNT/web" || fatal "mkdir web"

assert_eq web "$(ctr_run web hostname)" "hostname is the handle"
assert_eq web "$(ctr_sh web 'cat /proc/sys/kernel/hostname')" "kernel hostname is the handle"
assert_ne "$(hostname)" "$(ctr_run web hostname)" "hostname differs from the host's"

# pid 1 is our init, as ps shows it
ps_out=$(ctr_run web "ps -o pid,comm")
assert_match "$ps_out" '(^|[[:space:]])1[[:space:]]+gardenfs-init' "ps shows pid 1 as gardenfs-init"
assert_eq gardenfs-init "$(ctr_run web 'cat /proc/1/comm')" "comm of pid 1"
# the process sees few processes: its own namespace
n=$(ctr_sh web 'ls /proc | grep -c "^[0-9]"')
[ "${n:-99}" -le 5 ] || fail "pid namespace: $n processes visible inside"

# network: loopback up, and eth0 (networking): nothing else
link=$(ctr_run web "ip -o link show lo")
assert_match "$link" '<[^>]*LOOPBACK[^>]*,UP[,>]' "lo is UP"
assert_contains "$(ctr_run web 'ip -o addr show lo')" "127.0.0.1" "lo has 127.0.0.1"
ifs=$(ctr_sh web 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')
assert_eq "lo eth0" "$(echo $ifs | tr ' ' '\n' | sort -r | tr '\n' ' ' | sed 's/ $//')" "lo and eth0 in the network namespace"
# a TCP connection over loopback works
out=$(ctr_sh web 'nc -l -p 4000 127.0.0.1 > /tmp/got & sleep 0.3; echo over-lo | nc 127.0.0.1 4000; wait; cat /tmp/got')
assert_contains "$out" over-lo "TCP over loopback inside"

# the garden and the depot are not visible inside
out=$(ctr_sh web "grep -c fuse.gardenfs /proc/mounts")
assert_eq 0 "$out" "no gardenfs mount in the container's mount table"
out=$(ctr_sh web "ls $MNT 2>&1; ls $DEPOT 2>&1; ls /garden 2>&1; echo end")
assert_not_contains "$out" "ctl" "the garden is not reachable inside"
assert_not_contains "$out" "containers" "the depot is not reachable inside"
assert_not_contains "$(ctr_sh web 'ls / /mnt /tmp 2>/dev/null')" "instance" "no depot files in the container's tree"

# namespaces differ from the host's (host side, by the process's host pid)
id=$(run_proc web "/bin/sleep 30") || fail "start sleep"
pid=$(host_pid web "$id")
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
	for ns in mnt pid uts ipc net user; do
		assert_ne "$(readlink /proc/self/ns/$ns)" "$(readlink /proc/$pid/ns/$ns)" "$ns namespace of an unprivileged container"
	done
	uid=$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)
	assert_ne 0 "$uid" "unprivileged: host uid of container root"
	getent passwd "$uid" >/dev/null && fail "host uid $uid of container root belongs to a host account"
	ppid=$(awk '/^PPid:/ { print $2 }' /proc/$pid/status)
	assert_ne "$GFS_PID" "$ppid" "the daemon is not the parent of a container process"
	assert_eq gardenfs-init "$(cat /proc/$ppid/comm 2>/dev/null)" "the parent of a container process"
else
	fail "no host pid for a running process (status: $(tmo cat "$MNT/web/procs/$id/status" | tr '\n' ' '))"
fi
echo kill >"$MNT/web/procs/$id/signal"

# inside: root, the image's root files owned by root, 65536 ids mapped
assert_eq "uid=0(root) gid=0(root)" "$(ctr_run web id | cut -d' ' -f1,2)" "id inside"
assert_eq "0 0" "$(ctr_sh web 'ls -lnd /bin/busybox /etc/passwd' | awk '{ print $3, $4 }' | sort -u)" "owner of image files inside"
assert_eq "1000 1000" "$(ctr_sh web 'ls -lnd /home/vcap' | awk '{ print $3, $4 }')" "owner of /home/vcap (1000 in the image)"
map=$(ctr_sh web 'cat /proc/self/uid_map')
assert_match "$map" '^ *0 +[0-9]+ +[0-9]+' "uid_map present"
cnt=$(printf '%s\n' "$map" | awk '$1 == 0 { print $3 }')
[ "${cnt:-0}" -ge 65536 ] || fail "uid_map maps only ${cnt:-0} ids from 0 ([$map])"
# a non-root user of the image works (uid 1000 must be mapped)
assert_eq "1000" "$(ctr_run web '{"path": "/usr/bin/id", "args": ["-u"], "user": "vcap"}')" "id -u as vcap"

# privileged: host uid 0, no user namespace
echo "create handle=priv privileged=true" >"$MNT/ctl" || fail "create privileged"
id=$(run_proc priv "/bin/sleep 30")
pid=$(host_pid priv "$id")
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
	assert_eq 0 "$(awk '/^Uid:/ { print $2 }' /proc/$pid/status)" "privileged: host uid"
	assert_eq "$(readlink /proc/self/ns/user)" "$(readlink /proc/$pid/ns/user)" "privileged: no user namespace"
	assert_ne "$(readlink /proc/self/ns/pid)" "$(readlink /proc/$pid/ns/pid)" "privileged: own pid namespace"
else
	fail "no host pid in privileged container"
fi
echo kill >"$MNT/priv/procs/$id/signal"
assert_eq priv "$(ctr_run priv hostname)" "privileged hostname"
assert_eq "uid=0(root)" "$(ctr_run priv id | cut -d' ' -f1)" "privileged id"
gfs_done
