#!/bin/bash
# Handle validation: `/`, `.`, `..`, empty, over 255 bytes and control
# characters are refused with EINVAL (through ctl and mkdir); a duplicate is
# EEXIST.  A refused create leaves nothing and adds a line to errors.
. "$(dirname "$0")/../lib.sh"
gfs_start

listing() { ls -A "$MNT" | grep -vxE 'ctl|ping|capacity|errors' | sort; }
before=$(listing)

long256=$(printf 'a%.0s' $(seq 256))
long255=$(printf 'b%.0s' $(seq 255))

n0=$(lines "$MNT/errors")
assert_errno EINVAL "$MNT/ctl" "create handle=a/b" "handle with /"
assert_errno EINVAL "$MNT/ctl" "create handle=/" "handle /"
assert_errno EINVAL "$MNT/ctl" "create handle=." "handle ."
assert_errno EINVAL "$MNT/ctl" "create handle=.." "handle .."
assert_errno EINVAL "$MNT/ctl" "create handle=" "empty handle"
assert_errno EINVAL "$MNT/ctl" "create handle=''" "empty quoted handle"
assert_errno EINVAL "$MNT/ctl" "create handle=$long256" "256-byte handle"
# control characters: \x01, ESC, DEL, TAB inside quotes, a newline inside quotes
for hex in 01 1b 7f 09 0a; do
	got=$(gfs_io w "$MNT/ctl" hex "$(printf 'create handle="x' | hexof)${hex}$(printf 'y"' | hexof)" | head -n1)
	assert_eq EINVAL "$got" "handle with control byte 0x$hex"
done
n1=$(lines "$MNT/errors")
assert_eq $((n0 + 12)) "$n1" "one errors line per refused handle"
assert_eq "$before" "$(listing)" "refused handles created nothing"

# mkdir refuses the same things where the kernel lets them through
out=$(mkdir "$MNT/$(printf 'x\001y')" 2>&1) && fail "mkdir of a handle with \\001 succeeded"
assert_contains "$out" "Invalid argument" "mkdir with a control character"
out=$(mkdir "$MNT/$(printf 'x\033y')" 2>&1) && fail "mkdir of a handle with ESC succeeded"
assert_contains "$out" "Invalid argument" "mkdir with ESC"
assert_eq "$before" "$(listing)" "refused mkdirs created nothing"

# the longest legal handle works both ways
assert_errno OK "$MNT/ctl" "create handle=$long255" "255-byte handle via ctl"
[ -d "$MNT/$long255" ] || fail "255-byte handle not listed"
rmdir "$MNT/$long255" || fail "rmdir of the 255-byte handle"
mkdir "$MNT/$long255" || fail "mkdir of a 255-byte handle"
rmdir "$MNT/$long255" 2>/dev/null

# ordinary odd-but-legal handles
for h in web-1 a.b_c 'with space' ünïcode; do
	mkdir "$MNT/$h" || fail "mkdir of legal handle [$h]"
	assert_eq "$h" "$(ctr_run "$h" hostname)" "hostname of [$h]"
	rmdir "$MNT/$h" || fail "rmdir of [$h]"
done

# duplicates
mkdir "$MNT/dup" || fail "mkdir dup"
out=$(mkdir "$MNT/dup" 2>&1) && fail "second mkdir dup succeeded"
assert_contains "$out" "File exists" "mkdir of a duplicate"
assert_errno EEXIST "$MNT/ctl" "create handle=dup" "ctl create of a duplicate"
rmdir "$MNT/dup" || fail "rmdir dup"
# after destroy the handle can be used again
mkdir "$MNT/dup" || fail "mkdir dup after rmdir"
gfs_done
