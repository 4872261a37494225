#!/bin/bash
# Attack: a container process creates a nested user namespace, where it is
# root with every capability again, to reach kernel code that checks only
# ns_capable (the source of many container escapes: netfilter, overlayfs,
# io_uring, ...), or joins another namespace with setns.
# Safe outcome: unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER) and setns fail
# with EPERM for root and for other users, clone3 fails with ENOSYS (its
# flags are out of seccomp's reach), busybox unshare -U fails, and the
# limit in /proc/sys/user cannot be raised (read-only /proc/sys).
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"

for u in root vcap; do
	out=$(ctr_run web "{\"path\": \"/bin/ctr-helper\", \"args\": [\"try\", \"unshare-user\", \"clone-newuser\", \"setns\", \"clone3\"], \"user\": \"$u\"}")
	assert_eq "unshare-user EPERM
clone-newuser EPERM
setns EPERM
clone3 ENOSYS" "$out" "no nested user namespace ($u)"
	out=$(ctr_run web "{\"path\": \"/bin/sh\", \"args\": [\"-c\", \"unshare -U -r id -u 2>&1; echo rc=\$?\"], \"user\": \"$u\"}")
	assert_contains "$out" "rc=1" "busybox unshare -U -r fails ($u)"
	assert_not_contains "$out" "
0
" "never root in a new namespace ($u)"
done
# the process really is where it started
a=$(ctr_sh web 'readlink /proc/self/ns/user')
b=$(ctr_sh web 'readlink /proc/1/ns/user 2>/dev/null || echo hidden')
assert_match "$a" '^user:\[[0-9]+\]$' "a user namespace"
out=$(ctr_sh web '(echo 100000 > /proc/sys/user/max_user_namespaces) 2>&1 || echo refused')
assert_contains "$out" "Read-only file system" "max_user_namespaces cannot be raised"
[ "$b" = hidden ] || assert_eq "$a" "$b" "the same user namespace as the init"
gfs_done
