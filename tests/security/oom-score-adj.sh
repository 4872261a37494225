#!/bin/bash
# Attack: a container process lowers its oom_score_adj (to -999, like the
# protected init) so that, when the host runs out of memory, the OOM
# killer picks a host process instead.  The kernel lets any process go
# back down to its oom_score_adj_min, which children inherit from whoever
# set it with CAP_SYS_RESOURCE: writing -999 to the init through
# oom_score_adj would have given every container process that floor.
# Safe outcome: every container process starts at 0 and can raise its
# value but never lower it below 0 (EACCES), as root or another user,
# also after raising it; the init keeps its protection (-941, set through
# the legacy oom_adj that leaves the floor at 0) where the daemon holds
# CAP_SYS_RESOURCE, and stays at 0 where it does not.
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"

for u in root vcap; do
	assert_eq 0 "$(ctr_run web "{\"path\": \"/bin/cat\", \"args\": [\"/proc/self/oom_score_adj\"], \"user\": \"$u\"}")" "a process starts at 0 ($u)"
	out=$(ctr_run web "{\"path\": \"/bin/sh\", \"args\": [\"-c\", \"/bin/ctr-helper oom-adj -999; /bin/ctr-helper oom-adj -1; echo 500 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj; /bin/ctr-helper oom-adj -999; /bin/ctr-helper oom-adj 0; /bin/ctr-helper oom-adj -1; cat /proc/self/oom_score_adj\"], \"user\": \"$u\"}")
	assert_eq "EACCES
EACCES
500
EACCES
OK
EACCES
500" "$out" "never below 0, back down to 0 after a raise ($u)"
done
out=$(ctr_sh web '(echo -999 > /proc/self/oom_score_adj) 2>&1; cat /proc/self/oom_score_adj')
assert_contains "$out" "Permission denied" "echo -999 is refused"
assert_match "$out" '0$' "and changes nothing"

# the init, from the host
init=$(cut -d' ' -f1 "$DEPOT/containers/web/init.pid")
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/$GFS_PID/status)
if [ $((0x$bnd >> 24 & 1)) -eq 1 ]; then
	assert_eq -941 "$(cat /proc/$init/oom_score_adj)" "the init is protected"
else
	assert_eq 0 "$(cat /proc/$init/oom_score_adj)" "the init without CAP_SYS_RESOURCE on the host: unprotected, 0"
fi
# a container process cannot lower the init's either
out=$(ctr_sh web '(echo -1000 > /proc/1/oom_score_adj) 2>&1 || echo refused')
assert_contains "$out" refused "the init's value cannot be lowered from inside"

# privileged: processes start at 0 too
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"
assert_eq 0 "$(ctr_run priv '/bin/cat /proc/self/oom_score_adj')" "privileged: a process starts at 0"
gfs_done
