#!/bin/bash
# Attack: a process spec names a user that a sloppy parser would turn into
# host root or an unintended id: "-1" and "4294967295" (the "no change" id
# of setuid), ids outside the container's mapping, "0:0" spellings, or a
# user whose *name* is a number ("1000" with uid 1001) so that the wrong
# entry is picked.
# Safe outcome, as defined here: a decimal number is always a uid (never
# looked up as a name), "UID:GID" and "NAME:GROUP" as documented; "-1",
# "4294967295", "+0", "1e3" or "root " are names, and not found: ENOENT;
# a uid outside the 65536 mapped ids: EINVAL; every reason in errors; no
# process ever runs as host root in an unprivileged container.
. "$(dirname "$0")/../lib.sh"
test_image >/dev/null
cat >>"$IMAGE/etc/passwd" <<'P'
1000:x:1001:1001:a user named 1000:/home/n:/bin/sh
0:x:1002:1002:a user named 0:/:/bin/sh
P
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"

ids() { # USER: "uid gid" of a process run as USER
	ctr_run web "{\"path\": \"/bin/sh\", \"args\": [\"-c\", \"echo \$(id -u) \$(id -g)\"], \"user\": \"$1\"}"
}
assert_eq "1 1" "$(ids 1)" "user 1: uid 1 (daemon), its group"
assert_eq "0 0" "$(ids 0:0)" "user 0:0"
assert_eq "0 0" "$(ids 00)" "user 00 is uid 0"
assert_eq "1000 1000" "$(ids 1000)" "user 1000 is uid 1000, not the user named 1000"
assert_eq "0 0" "$(ids 0)" "user 0 is uid 0, not the user named 0"
assert_eq "1000 50" "$(ids 1000:50)" "uid:gid"
assert_eq "1000 5" "$(ids vcap:tty)" "name:group"
assert_eq 65535 "$(ids 65535 | cut -d' ' -f1)" "the highest mapped uid"

for u in -1 4294967295 +0 1e3 "root " "0:-1" "0:4294967295" "root:root:root" "vcap:nosuchgroup"; do
	e0=$(lines "$MNT/web/errors")
	assert_errno ENOENT "$MNT/web/procs/new" "{\"path\": \"/bin/true\", \"user\": \"$u\"}" "user [$u]"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/web/errors")" "a reason for user [$u]"
done
for u in 65536 4294967294 1000000; do
	assert_errno EINVAL "$MNT/web/procs/new" "{\"path\": \"/bin/true\", \"user\": \"$u\"}" "unmapped uid $u"
	assert_contains "$(tmo tail -n 1 "$MNT/web/errors")" "not mapped" "the reason for uid $u"
done

# from the host: never uid 0, whatever the spelling
base=
for u in 0 0:0 00 root 1 1000 65535; do
	id=$(run_proc web "{\"path\": \"/bin/sleep\", \"args\": [\"30\"], \"user\": \"$u\"}") || { fail "start as $u"; continue; }
	pid=$(host_pid web "$id")
	hu=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$pid/status 2>/dev/null)
	hg=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' /proc/$pid/status 2>/dev/null)
	case " $hu $hg " in *" 0 "*) fail "user $u runs with host id 0 ($hu / $hg)" ;; esac
	[ -n "$hu" ] || fail "no status for user $u"
	[ "$u" = 0 ] && base=${hu%% *}
	echo kill >"$MNT/web/procs/$id/signal"
done
[ -n "$base" ] && [ "$base" -gt 65535 ] || fail "container root is host uid [$base]"
gfs_done
