#!/bin/bash
# Attack: a container process takes a real-time scheduling class
# (SCHED_FIFO) or a negative nice value to starve the host's CPUs, or asks
# in its process spec for rlimits above what the host grants (rtprio,
# nice) so that it can do so later.
# Safe outcome: no hard limit is lifted for the container: `ulimit -r` and
# `ulimit -e` are 0, sched_setscheduler(SCHED_FIFO) fails with EPERM and
# setpriority(-5) with EACCES, for root and other users; a spec asking
# for rtprio or nice above the hard limit is refused with EPERM and a
# reason naming setrlimit and the limit.  A privileged container's root is
# host root: it may raise them only where the host itself holds
# CAP_SYS_RESOURCE.
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"

for u in root vcap; do
	out=$(ctr_run web "{\"path\": \"/bin/sh\", \"args\": [\"-c\", \"ulimit -r; ulimit -e; ulimit -Hr; ulimit -He\"], \"user\": \"$u\"}")
	assert_eq "0
0
0
0" "$out" "rtprio and nice limits are 0, soft and hard ($u)"
	out=$(ctr_run web "{\"path\": \"/bin/ctr-helper\", \"args\": [\"try\", \"sched-fifo\", \"nice-down\"], \"user\": \"$u\"}")
	assert_eq "sched-fifo EPERM
nice-down EACCES" "$out" "no real-time class, no negative nice ($u)"
done
out=$(ctr_sh web 'grep -E "^Max (realtime priority|nice priority)" /proc/1/limits 2>/dev/null || grep -E "^Max (realtime priority|nice priority)" /proc/self/limits')
assert_match "$out" 'Max nice priority +0 +0' "nice limit 0"
assert_match "$out" 'Max realtime priority +0 +0' "rtprio limit 0"

for spec in '{"path": "/bin/true", "rlimits": {"rtprio": 99}}' '{"path": "/bin/true", "rlimits": {"nice": 40}}'; do
	e0=$(lines "$MNT/web/errors")
	assert_errno EPERM "$MNT/web/procs/new" "$spec" "a spec above the hard limit: $spec"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/web/errors")" "one reason in errors"
	assert_match "$(tmo tail -n 1 "$MNT/web/errors")" "setrlimit .*above the container's hard limit 0" "the reason names the limit"
done
# asking for what it has is fine
assert_eq 0 "$(ctr_run web '{"path": "/bin/sh", "args": ["-c", "ulimit -r"], "rlimits": {"rtprio": 0}}')" "rtprio 0 is accepted"

bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
if [ $((0x$bnd >> 24 & 1)) -eq 1 ]; then
	assert_eq 5 "$(ctr_run priv '{"path": "/bin/sh", "args": ["-c", "ulimit -r"], "rlimits": {"rtprio": 5}}')" "privileged root may raise rtprio"
else
	assert_errno EPERM "$MNT/priv/procs/new" '{"path": "/bin/true", "rlimits": {"rtprio": 5}}' "privileged, host without CAP_SYS_RESOURCE: rtprio refused"
fi
gfs_done
