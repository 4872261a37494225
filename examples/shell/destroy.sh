#!/bin/sh
# destroy.sh [MOUNTPOINT] HANDLE...: destroy containers, whatever runs in
# them, and check that they are gone.  Two equivalent ways: rmdir of the
# (non-empty) directory, or `destroy H` written to ctl.
#
#   sh examples/shell/destroy.sh /garden web db
set -eu
G=/garden
case ${1:-} in /*) G=$1; shift ;; esac
[ $# -gt 0 ] || { echo "usage: $0 [MOUNTPOINT] HANDLE..." >&2; exit 2; }

ok=0
for h in "$@"; do
	if [ ! -d "$G/$h" ]; then
		echo "$h: no such container" >&2
		ok=1
		continue
	fi
	# a stop first is optional: destroy kills every process anyway
	echo kill >"$G/$h/stop"
	if rmdir "$G/$h"; then
		echo "$h destroyed"
	elif echo "destroy $h" >"$G/ctl"; then
		echo "$h destroyed (through ctl)"
	else
		# why? the daemon keeps the reason in errors
		tail -n 1 "$G/errors" >&2
		ok=1
	fi
	[ ! -e "$G/$h" ] || { echo "$h is still there" >&2; ok=1; }
done
exit $ok
