#!/bin/bash
# Attack: a container process reads kernel interfaces that leak host
# memory, keys, timers and hardware (/proc/kcore, /proc/keys,
# /proc/timer_list, /sys/firmware, ...) or writes ones that change the
# host's kernel (/proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/bus).
# Safe outcome: runc's default masks are in place in unprivileged and
# privileged containers alike: each masked directory is an empty read-only
# tmpfs, each masked file is the null device (reads give nothing), each
# read-only path refuses writes with EROFS; a path this kernel lacks is
# simply absent; the daemon refuses to start a container when a mask
# cannot be made (checked by the code, not here).
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"

masked_dirs="/proc/acpi /proc/asound /proc/scsi /sys/firmware /sys/devices/virtual/powercap"
masked_files="/proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug"
readonly="/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger"
seen=0
for c in web priv; do
	for d in $masked_dirs; do
		if [ ! -e "$d" ]; then
			assert_eq absent "$(ctr_sh $c "[ -e $d ] && echo present || echo absent")" "$d absent here and inside ($c)"
			continue
		fi
		seen=$((seen + 1))
		out=$(ctr_sh $c "ls -A $d | wc -l; awk '\$2 == \"$d\" { print \$3, \$4 }' /proc/mounts; touch $d/x 2>&1 || echo refused")
		assert_match "$out" "^0
tmpfs ro," "$d is an empty read-only tmpfs ($c)"
		assert_contains "$out" refused "$d: no file can be made in it ($c)"
	done
	for f in $masked_files; do
		if [ ! -e "$f" ]; then
			assert_eq absent "$(ctr_sh $c "[ -e $f ] && echo present || echo absent")" "$f absent here and inside ($c)"
			continue
		fi
		seen=$((seen + 1))
		out=$(ctr_sh $c "stat -c '%F %t:%T' $f; head -c 100 $f | wc -c")
		assert_eq "character special file 1:3
0" "$out" "$f is the null device and reads nothing ($c)"
	done
	for p in $readonly; do
		if [ ! -e "$p" ]; then
			assert_eq absent "$(ctr_sh $c "[ -e $p ] && echo present || echo absent")" "$p absent here and inside ($c)"
			continue
		fi
		seen=$((seen + 1))
		out=$(ctr_sh $c "awk '\$2 == \"$p\" { print \$4 }' /proc/mounts")
		assert_match "$out" '^ro,' "$p is mounted read-only ($c)"
	done
	# writes to /proc/sys are refused with EROFS (writing the value it
	# already has, so that nothing changes even if the mask were gone)
	v=$(cat /proc/sys/vm/overcommit_memory)
	out=$(ctr_sh $c "(echo $v > /proc/sys/vm/overcommit_memory) 2>&1 || echo refused")
	assert_contains "$out" "Read-only file system" "/proc/sys/vm refuses writes: EROFS ($c)"
	out=$(ctr_sh $c 'grep -c " /sys sysfs ro," /proc/mounts')
	assert_eq 1 "$out" "/sys is read-only ($c)"
done
[ "$seen" -gt 0 ] || fail "none of the masked paths exists on this kernel: nothing was checked"
gfs_done
