#!/bin/bash
# Attack: a container process keeps (or regains across exec) capabilities
# beyond what a container needs: inheritable or ambient ones that survive
# exec, a bounding set that lets file capabilities or setuid binaries hand
# out CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_RAWIO, ..., or a non-root
# user with capabilities in effect.
# Safe outcome: in an unprivileged container root has exactly Docker's
# default set (CapEff = CapPrm = CapBnd = 00000000a80425fb), every other
# user has none in effect or permitted, the bounding set of every process
# is the default set, inheritable and ambient are empty, for children and
# after exec too.  Privileged containers: root has the host's full set, any
# other user none.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"

DEF=00000000a80425fb
caps() { # CTR SPEC: the five Cap lines as "Inh Prm Eff Bnd Amb"
	ctr_run "$1" "$2" | awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s%s", sep, $2; sep = " " } END { print "" }'
}
status='"path": "/bin/cat", "args": ["/proc/self/status"]'

assert_eq "0000000000000000 $DEF $DEF $DEF 0000000000000000" "$(caps web "{$status}")" "root: Docker's default set"
assert_eq "0000000000000000 $DEF $DEF $DEF 0000000000000000" "$(caps web "{$status, \"user\": \"0:0\"}")" "uid 0 by number"
assert_eq "0000000000000000 $DEF $DEF $DEF 0000000000000000" "$(caps web "{$status, \"no_new_privileges\": true}")" "root with no_new_privs"
for u in vcap 1000 nobody 1 4321 65535; do
	assert_eq "0000000000000000 0000000000000000 0000000000000000 $DEF 0000000000000000" \
		"$(caps web "{$status, \"user\": \"$u\"}")" "user $u: nothing in effect, bounding set the default"
done
# a child's exec keeps them so (no inheritable, no ambient to pick up)
assert_eq "0000000000000000 $DEF $DEF $DEF 0000000000000000" \
	"$(caps web '{"path": "/bin/sh", "args": ["-c", "exec cat /proc/self/status"]}')" "root after another exec"
assert_eq "0000000000000000 0000000000000000 0000000000000000 $DEF 0000000000000000" \
	"$(caps web '{"path": "/bin/sh", "args": ["-c", "sh -c \"cat /proc/self/status\""], "user": "vcap"}')" "vcap's child"

# what they mean: root may chown (CAP_CHOWN) but not load modules or
# change the clock; vcap cannot chown another's file
out=$(ctr_sh web 'touch /tmp/f && chown 1000 /tmp/f && echo chown-ok; date -s 2000-01-01 2>&1 | grep -q "not permitted" && echo no-clock')
assert_eq "chown-ok
no-clock" "$out" "root's capabilities in practice"
out=$(ctr_run web '{"path": "/bin/sh", "args": ["-c", "chown 1000 /etc/hosts 2>/dev/null || echo refused"], "user": "vcap"}')
assert_eq refused "$out" "vcap cannot chown root's file"

# a setuid-root binary run by vcap gets root's default set, no more
if has_helper; then
	out=$(ctr_sh web 'cp /bin/ctr-helper /tmp/suid && chmod 4755 /tmp/suid && ls -l /tmp/suid' )
	assert_match "$out" '^-rwsr-xr-x' "a setuid copy in the container"
	bnd=$(ctr_run web '{"path": "/tmp/suid", "args": ["ids"], "user": "vcap"}')
	assert_eq "uid=1000 euid=0" "$bnd" "setuid works without no_new_privs"
fi

# privileged: root has the host's bounding set, others nothing
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"
host=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
assert_eq "0000000000000000 $host $host $host 0000000000000000" "$(caps priv "{$status}")" "privileged root: the host's full set"
assert_eq "0000000000000000 0000000000000000 0000000000000000 $host 0000000000000000" "$(caps priv "{$status, \"user\": \"vcap\"}")" "privileged vcap: nothing in effect"
gfs_done
