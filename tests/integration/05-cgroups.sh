#!/bin/bash
# Cgroups: every process of a container (its init, its processes, their
# children) is in /<instance>/<handle> of every v1 controller (or the v2
# group); destroy removes the directories.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
inst=$(cat "$DEPOT/instance" 2>/dev/null)
assert_match "$inst" '^gardenfs-' "DEPOT/instance names the cgroup group"

# a process that has a child
id=$(run_proc web "/bin/sh -c 'sleep 100 & sleep 100; wait'") || fatal "run"
pid=$(host_pid web "$id")
[ -n "$pid" ] && [ -d "/proc/$pid" ] || fatal "no host pid for process $id"
sleep 0.3
read -r initpid _ <"$DEPOT/containers/web/init.pid" 2>/dev/null
children=$(pgrep -P "$pid")
[ -n "$children" ] || fail "no child of the shell found"

check_cg() { # PID WHAT
	local f=/proc/$1/cgroup
	[ -r "$f" ] || { fail "$2: no $f"; return; }
	local n=0 line
	while IFS= read -r line; do
		# v1: ID:CONTROLLERS:/PATH; skip named hierarchies and the empty v2 line on hybrid
		ctrls=$(printf '%s' "$line" | cut -d: -f2)
		path=$(printf '%s' "$line" | cut -d: -f3-)
		case $ctrls in memory | pids | cpu,cpuacct | cpu | cpuacct | devices | freezer | blkio)
			n=$((n + 1))
			case $path in */$inst/web | */$inst/web/*) ;; *) fail "$2: $ctrls cgroup is $path, not .../$inst/web" ;; esac ;;
		esac
	done <"$f"
	[ -d /sys/fs/cgroup/memory ] && [ $n -eq 0 ] && fail "$2: no v1 controller line in $f"
	return 0
}
check_cg "$pid" "the process"
for c in $children; do check_cg "$c" "a child of the process"; done
[ -n "$initpid" ] && check_cg "$initpid" "the container's init"

for ctl in memory pids cpu; do
	d=/sys/fs/cgroup/$ctl/$inst/web
	[ -d /sys/fs/cgroup/$ctl ] || continue
	[ -d "$d" ] || { fail "no cgroup dir $d"; continue; }
	all=$(find "$d" -name cgroup.procs -exec cat {} +)
	printf '%s\n' $all | grep -qx "$pid" || fail "$d does not hold process $pid"
done

# the whole tree of the container is in it: the count of pids in the
# memory cgroup equals what ps inside sees (+ the ps itself and its shell)
inside=$(ctr_sh web 'ls /proc | grep -c "^[0-9]"')
incg=$(find /sys/fs/cgroup/pids/$inst/web -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l)
[ "$incg" -ge 4 ] || fail "pids cgroup holds $incg processes, expected init + sh + 2 sleeps at least"

# a second container has its own group
mkdir "$MNT/db" || fail "mkdir db"
[ -d /sys/fs/cgroup/memory/$inst/db ] || fail "no memory cgroup for db"

# destroy removes them
rmdir "$MNT/web" || fail "rmdir web"
for ctl in /sys/fs/cgroup/*/; do
	[ -d "$ctl$inst/web" ] && fail "cgroup $ctl$inst/web left after destroy"
done
kill -0 "$pid" 2>/dev/null && [ "$(cat /proc/$pid/comm 2>/dev/null)" = sh ] && fail "process $pid survived destroy"
gfs_done
