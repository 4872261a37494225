#!/bin/bash
# Attack: a process that runs as an ordinary user execs a setuid-root
# binary (one the image ships, or one root made earlier) to become root
# again.
# Safe outcome: with "no_new_privileges": true in the process spec the
# kernel's no_new_privs is set (NoNewPrivs: 1, inherited by children) and
# the setuid bit does nothing: the euid stays the user's and no capability
# is gained; without it, setuid behaves as usual (the bit is honoured, and
# root's set is still only Docker's default).  Works in privileged
# containers too.  A spec with a non-boolean value is refused (EINVAL).
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"

for c in web priv; do
	ctr_sh $c 'cp /bin/ctr-helper /tmp/suid && chmod 4755 /tmp/suid' >/dev/null
	assert_eq 0 "$LAST_STATUS" "a setuid-root copy of ctr-helper ($c)"
	assert_eq "NoNewPrivs:	0" "$(ctr_sh $c 'grep ^NoNewPrivs: /proc/self/status')" "no_new_privs is off by default ($c)"
	assert_eq "NoNewPrivs:	1" "$(ctr_run $c '{"path": "/bin/grep", "args": ["^NoNewPrivs:", "/proc/self/status"], "no_new_privileges": true}')" "no_new_privs set when asked ($c)"
	assert_eq "NoNewPrivs:	1" "$(ctr_run $c '{"path": "/bin/sh", "args": ["-c", "sh -c \"grep ^NoNewPrivs: /proc/self/status\""], "no_new_privileges": true, "user": "vcap"}')" "children inherit it ($c)"
	assert_eq "uid=1000 euid=0" "$(ctr_run $c '{"path": "/tmp/suid", "args": ["ids"], "user": "vcap"}')" "setuid honoured without no_new_privs ($c)"
	assert_eq "uid=1000 euid=1000" "$(ctr_run $c '{"path": "/tmp/suid", "args": ["ids"], "user": "vcap", "no_new_privileges": true}')" "setuid ignored with no_new_privs ($c)"
	eff=$(ctr_run $c '{"path": "/bin/sh", "args": ["-c", "exec /tmp/suid ids; "], "user": "vcap", "no_new_privileges": true}')
	assert_eq "uid=1000 euid=1000" "$eff" "not even through a shell ($c)"
done
assert_errno EINVAL "$MNT/web/procs/new" '{"path": "/bin/true", "no_new_privileges": "yes"}' "a non-boolean no_new_privileges"
assert_contains "$(tmo cat "$MNT/web/errors")" "no_new_privileges" "the reason names the field"
gfs_done
