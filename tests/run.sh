#!/bin/bash
# tests/run.sh [FILTER]: run every integration and security test
# (tests/integration/*.sh, tests/security/*.sh, or those whose name matches
# the glob *FILTER*), print each with PASS, FAIL or SKIP,
# then check that the tests left nothing behind, and end with the line
# `N passed, N failed[, N skipped]`.  Exit status 1 if anything failed.
#
# Each test runs in its own process group with a deadline (GFS_TEST_TIMEOUT,
# default 300 s).  Output of a failed test is shown; GFS_VERBOSE=1 shows all.
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
filter=${1:-}
limit=${GFS_TEST_TIMEOUT:-300}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: the integration tests need root" >&2
fi

run_root=$(mktemp -d /tmp/gfs-run.XXXXXX) || exit 1
# the test users of --group (tests/lib.sh gfs_users) walk to their mounts
chmod 755 "$run_root"
export GFS_LEDGER=$run_root/ledger
export GFS_TMPDIR=$run_root
: >"$GFS_LEDGER"

passed=0 failed=0 skipped=0
failures=

for t in tests/integration/*.sh tests/security/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	case $name in *$filter*) ;; *) continue ;; esac
	log=$run_root/$name.log
	start=$(date +%s%N)
	# setsid: the test and all it starts form a group that timeout can end
	TEST_NAME=$name timeout -k 10 "$limit" setsid bash "$t" >"$log" 2>&1 </dev/null
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	case $rc in
	0)
		passed=$((passed + 1))
		printf 'PASS %-28s %6d ms\n' "$name" "$ms"
		[ -n "${GFS_VERBOSE:-}" ] && sed 's/^/    /' "$log"
		;;
	77)
		skipped=$((skipped + 1))
		printf 'SKIP %-28s %s\n' "$name" "$(grep -m1 '^SKIP' "$log" | sed 's/^SKIP: [^:]*: //')"
		;;
	*)
		failed=$((failed + 1))
		failures="$failures $name"
		[ $rc -eq 124 ] && echo "    (timed out after $limit s)" >>"$log"
		printf 'FAIL %-28s %6d ms (exit %d)\n' "$name" "$ms" "$rc"
		sed 's/^/    /' "$log" | tail -n 60
		;;
	esac
done

# ---- leftovers: what the tests made must be gone
leftovers=

# mounts under the run's directory: the FUSE mounts, overlays, stores
m=$(awk -v t="$run_root/" 'index($2, t) == 1 { print $2 " (" $3 ")" }' /proc/mounts)
[ -n "$m" ] && leftovers="$leftovers
mounts:
$m"

# daemons we started
for pid in $(awk '$1 == "daemon" { print $2 }' "$GFS_LEDGER" | sort -u); do
	if [ "$(cat /proc/$pid/comm 2>/dev/null)" = gardenfs ] &&
		tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -q "$run_root/"; then
		leftovers="$leftovers
daemon still running: pid $pid"
	fi
done

# container inits: those our depots recorded, and any gardenfs-init in a
# cgroup of one of our instances
instances=$(awk '$1 == "instance" { print $2 }' "$GFS_LEDGER" | sort -u)
while read -r tag pid st; do
	[ "$tag" = init ] || continue
	if [ "$(cat /proc/$pid/comm 2>/dev/null)" = gardenfs-init ]; then
		now=$(awk '{ sub(/^.*\) /, ""); print $20 }' /proc/$pid/stat 2>/dev/null)
		[ -z "$st" ] || [ "$now" = "$st" ] && leftovers="$leftovers
gardenfs-init still running: pid $pid"
	fi
done <"$GFS_LEDGER"
for pid in $(pgrep -x gardenfs-init); do
	for inst in $instances; do
		if grep -q "/$inst/" /proc/$pid/cgroup 2>/dev/null; then
			leftovers="$leftovers
gardenfs-init pid $pid in cgroup of $inst"
		fi
	done
done

# cgroup directories of our instances
for inst in $instances; do
	for d in /sys/fs/cgroup/*/"$inst"; do
		[ -d "$d" ] && leftovers="$leftovers
cgroup dir left: $d"
	done
done

# links (bridges, veths, ifbs) and nft tables of our daemons' network tags
for tag in $(awk '$1 == "nettag" && $2 != "" { print $2 }' "$GFS_LEDGER" | sort -u); do
	l=$(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep "^$tag")
	[ -n "$l" ] && leftovers="$leftovers
links left: $(echo $l)"
	nft list table ip "gardenfs_$tag" >/dev/null 2>&1 && leftovers="$leftovers
nft table left: gardenfs_$tag"
done

# reapers of our depots, alive (a zombie is the host's pid 1's to reap)
for pid in $(ps -eo pid=,stat=,comm= | awk '$3 == "gardenfs-reaper" && $2 !~ /^Z/ { print $1 }'); do
	tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -q "$run_root/" &&
		leftovers="$leftovers
reaper still running: pid $pid"
done

# test accounts (tests/lib.sh gfs_users: group gfstPID, users gfstPIDm and
# gfstPIDo) whose test is over
dead_accounts=
for name in $(getent passwd | cut -d: -f1) $(getent group | cut -d: -f1); do
	case $name in gfst[0-9]*) ;; *) continue ;; esac
	pid=${name#gfst}
	pid=${pid%[mo]}
	case $pid in '' | *[!0-9]*) continue ;; esac
	[ -d "/proc/$pid" ] && continue
	dead_accounts="$dead_accounts $name"
	leftovers="$leftovers
test account left: $name"
done

# temporary directories
for d in $(awk '$1 == "tdir" { print $2 }' "$GFS_LEDGER"); do
	[ -e "$d" ] && leftovers="$leftovers
temporary directory left: $d"
done

if [ -n "$leftovers" ]; then
	failed=$((failed + 1))
	failures="$failures leftovers"
	echo "FAIL leftovers: the tests left things behind:$leftovers" | sed '2,$s/^/    /'
fi

# Whatever a test left (e.g. one killed by the deadline before its trap
# ran), clean it now with the tests' own cleanup, so that the machine is
# clean even when the suite failed.
if [ -n "$leftovers" ]; then
	for name in $dead_accounts; do
		getent passwd "$name" >/dev/null && userdel "$name" 2>/dev/null
		getent group "$name" >/dev/null && groupdel "$name" 2>/dev/null
	done
	for d in $(awk '$1 == "tdir" { print $2 }' "$GFS_LEDGER"); do
		[ -e "$d" ] || continue
		dpid=
		for pid in $(awk '$1 == "daemon" { print $2 }' "$GFS_LEDGER"); do
			tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -q "$d/" && dpid=$pid
		done
		(
			TEST_NAME=cleanup
			. tests/lib.sh
			TDIR=$d MNT=$d/mnt DEPOT=$d/depot GFS_PID=$dpid
			gfs_cleanup
		) </dev/null >/dev/null 2>&1
	done
fi

if [ -z "$leftovers" ]; then
	rm -rf --one-file-system "$run_root"
else
	echo "    (logs kept in $run_root)"
fi

[ -n "$failures" ] && echo "failed:$failures"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
