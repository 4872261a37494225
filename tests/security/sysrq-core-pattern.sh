#!/bin/bash
# Attack: container root writes the host kernel's knobs: core_pattern
# ("|/path" makes the host kernel run a program of the container's as
# host root on the next crash), modprobe and uevent_helper (the same
# trick), or /proc/sysrq-trigger (crash or reboot the host).
# Safe outcome: all of them are read-only in unprivileged and privileged
# containers alike (EROFS); the host's values are unchanged.  The test
# writes only values that change nothing (the current value, or the
# harmless sysrq 'h'), so that even a broken mask could not harm the host.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"

knobs="/proc/sys/kernel/core_pattern /proc/sys/kernel/modprobe /sys/kernel/uevent_helper /proc/sys/kernel/sysrq"
before=
for k in $knobs; do [ -e "$k" ] && before="$before$k=$(cat "$k");"; done
checked=0
for c in web priv; do
	for k in $knobs; do
		[ -e "$k" ] || continue
		v=$(cat "$k")
		out=$(ctr_sh $c "(printf '%s\n' '$v' > $k) 2>&1 || echo refused")
		assert_contains "$out" "Read-only file system" "$k refuses writes ($c)"
		checked=$((checked + 1))
	done
	if [ -e /proc/sysrq-trigger ]; then
		out=$(ctr_sh $c '(echo h > /proc/sysrq-trigger) 2>&1 || echo refused')
		assert_contains "$out" "Read-only file system" "/proc/sysrq-trigger refuses writes ($c)"
	else
		assert_eq absent "$(ctr_sh $c '[ -e /proc/sysrq-trigger ] && echo present || echo absent')" "no sysrq-trigger here, none inside ($c)"
	fi
	# with a pattern that would run a container program: refused too
	# (tried only when the harmless write was refused; put back at once
	# if it went through)
	out=$(ctr_sh $c "(printf '%s\n' '$(cat /proc/sys/kernel/core_pattern)' > /proc/sys/kernel/core_pattern) 2>&1 || echo refused")
	case $out in
	*refused*)
		cp=$(cat /proc/sys/kernel/core_pattern)
		out=$(ctr_sh $c "(echo '|/tmp/evil %p' > /proc/sys/kernel/core_pattern) 2>&1 || echo refused")
		case $(cat /proc/sys/kernel/core_pattern) in *evil*) printf '%s\n' "$cp" >/proc/sys/kernel/core_pattern ;; esac
		assert_contains "$out" refused "core_pattern cannot point at a container program ($c)"
		;;
	*) fail "core_pattern is writable ($c): not trying a harmful value" ;;
	esac
done
[ "$checked" -gt 0 ] || fail "no knob to check on this host"
after=
for k in $knobs; do [ -e "$k" ] && after="$after$k=$(cat "$k");"; done
assert_eq "$before" "$after" "the host's knobs are unchanged"
assert_not_contains "$(cat /proc/sys/kernel/core_pattern)" evil "core_pattern untouched"
gfs_done
