#!/bin/bash
# Destroy leaves nothing behind: no mount under the depot, no cgroup
# directory, no init, no process, no depot directory; the handle can be
# reused and starts from scratch.
. "$(dirname "$0")/../lib.sh"
gfs_start
inst=$(cat "$DEPOT/instance")

check_destroy() { # HANDLE HOW(rmdir|ctl)
	local h=$1 init st pids p cgs ctl
	run_proc "$h" "/bin/sh -c 'sleep 1000 & sleep 1000 & echo x > /tmp/f; wait'" >/dev/null || fail "$h: run"
	run_proc "$h" "/bin/sleep 1000" >/dev/null
	sleep 0.5
	read -r init st <"$DEPOT/containers/$h/init.pid" || fail "$h: no init.pid"
	pids=$(find /sys/fs/cgroup/pids/$inst/$h -name cgroup.procs -exec cat {} + 2>/dev/null)
	[ "$(echo $pids | wc -w)" -ge 5 ] || fail "$h: expected init + 5 processes in the pids cgroup, found [$pids]"
	cgs=$(ls -d /sys/fs/cgroup/*/$inst/$h 2>/dev/null)
	[ -n "$cgs" ] || fail "$h: no cgroup directories before destroy"
	local cdir
	cdir=$(kv "$MNT/$h/info" container_path)
	if [ "$2" = rmdir ]; then
		rmdir "$MNT/$h" || fail "$h: rmdir"
	else
		echo "destroy $h" >"$MNT/ctl" || fail "$h: ctl destroy"
	fi
	[ -e "$MNT/$h" ] && fail "$h: still listed"
	local m
	m=$(awk -v d="$DEPOT/containers/$h" 'index($2, d) == 1 || index($4, d) > 0' /proc/mounts)
	m=$m$(grep -F "/containers/$h/" /proc/mounts | grep -v "^gardenfs ")
	assert_eq "" "$m" "$h: no mount of the container left"
	for c in $cgs; do [ -d "$c" ] && fail "$h: cgroup $c left"; done
	if [ -d /proc/$init ] && [ "$(cat /proc/$init/comm 2>/dev/null)" = gardenfs-init ]; then
		fail "$h: init $init still running"
	fi
	for p in $pids; do
		[ -d /proc/$p ] && grep -q "/$inst/$h" /proc/$p/cgroup 2>/dev/null && fail "$h: process $p still running"
	done
	[ -e "$DEPOT/containers/$h" ] && fail "$h: $DEPOT/containers/$h left: $(ls -A "$DEPOT/containers/$h" | head -5 | tr '\n' ' ')"
	[ -n "$cdir" ] && [ -e "$cdir" ] && fail "$h: container_path $cdir left"
	return 0
}

mkdir "$MNT/web" || fatal "mkdir"
check_destroy web rmdir
echo "create handle=pw privileged=true" >"$MNT/ctl" || fatal "create pw"
check_destroy pw ctl
echo "create handle=st" >"$MNT/ctl" && echo kill >"$MNT/st/stop"
rmdir "$MNT/st" || fail "rmdir of a stopped container"
[ -e "$DEPOT/containers/st" ] && fail "stopped container's depot dir left"

# the handle is fresh when reused
mkdir "$MNT/web" || fatal "mkdir web again"
assert_eq "" "$(ls "$MNT/web/properties")" "no old properties"
ctr_sh web '[ -e /tmp/f ] && echo present || echo absent' >"$TDIR/out"
assert_eq absent "$(cat "$TDIR/out")" "no old files"
assert_eq "$LAST_ID" "$(ls "$MNT/web/procs" | grep -E '^[0-9]+$')" "only the new process in procs/"
rmdir "$MNT/web"

# destroying many at once: nothing left either
for i in 1 2 3 4 5 6; do mkdir "$MNT/m$i" && run_proc m$i "/bin/sleep 1000" >/dev/null; done
for i in 1 2 3 4 5 6; do rmdir "$MNT/m$i" & done
wait_until 20 sh -c "! ls '$MNT' | grep -q '^m[0-9]'" || fail "parallel rmdirs did not finish"
sleep 0.5
assert_eq "" "$(ls /sys/fs/cgroup/memory/$inst 2>/dev/null | grep '^m[0-9]')" "no cgroups after parallel destroys"
assert_eq "" "$(ls "$DEPOT/containers" 2>/dev/null)" "no depot dirs after all destroys"
assert_eq "" "$(awk -v d="$DEPOT/containers/" 'index($2, d) == 1' /proc/mounts)" "no mounts under the depot's containers"
gfs_done
