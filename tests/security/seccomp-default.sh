#!/bin/bash
# Attack: a process in an unprivileged container reaches kernel interfaces
# that no container needs and that have a history of privilege escalations
# (new user namespaces, mount, keyrings, bpf, perf, open_by_handle_at,
# kexec, modules, io_uring, AF_VSOCK, odd personalities).
# Safe outcome: every such call fails with EPERM from the seccomp filter
# (Docker's default profile), clone3 and calls newer than the profile fail
# with ENOSYS so that libc falls back (threads still work), ordinary calls
# work, and every process of the container, however started, shows
# "Seccomp: 2".  Privileged containers have no filter (as in Garden).
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"

# filtered, as root and as another user, with and without no_new_privs
assert_eq "Seccomp:	2" "$(ctr_sh web 'grep "^Seccomp:" /proc/self/status')" "root's process is filtered"
assert_eq "Seccomp:	2" "$(ctr_run web '{"path": "/bin/grep", "args": ["^Seccomp:", "/proc/self/status"], "user": "vcap"}')" "vcap's process is filtered"
assert_eq "Seccomp:	2" "$(ctr_run web '{"path": "/bin/grep", "args": ["^Seccomp:", "/proc/self/status"], "no_new_privileges": true}')" "filtered with no_new_privs too"
# children inherit it, and the init's own status shows what it is
assert_eq "Seccomp:	2" "$(ctr_sh web 'sh -c "grep ^Seccomp: /proc/self/status"')" "a child of a process is filtered"

# what the profile refuses: EPERM
refused="unshare-user unshare-mount unshare-cgroup clone-newuser clone-newns setns
mount umount pivot_root keyctl add_key request_key bpf perf_event_open
open_by_handle_at kexec_load init_module finit_module delete_module iopl
swapon reboot sethostname syslog userfaultfd io_uring_setup personality-rie
socket-vsock socket-vsock-high"
out=$(ctr_run web "/bin/ctr-helper try $(echo $refused)")
for c in $refused; do
	assert_eq "$c EPERM" "$(printf '%s\n' "$out" | grep "^$c ")" "$c refused with EPERM"
done

# clone3 and calls the profile does not know: ENOSYS, as on an old kernel
out=$(ctr_run web "/bin/ctr-helper try clone3 fchmodat2 syscall-500")
assert_eq "clone3 ENOSYS
fchmodat2 ENOSYS
syscall-500 ENOSYS" "$out" "clone3 and newer calls: ENOSYS"

# what it allows still works: fork, clone without namespaces, threads
# (glibc tries clone3 first), sockets, chroot, personality queries, ptrace
out=$(ctr_run web "/bin/ctr-helper try fork clone socket-inet chroot personality-ok ptrace-me")
assert_eq "fork OK
clone OK
socket-inet OK
chroot OK
personality-ok OK
ptrace-me OK" "$out" "allowed calls work"
assert_eq OK "$(ctr_run web '/bin/ctr-helper thread')" "a thread starts (clone3 falls back to clone)"
assert_eq OK "$(ctr_run web '{"path": "/bin/ctr-helper", "args": ["thread"], "user": "vcap"}')" "a thread as vcap"

# the shell tools an attacker would reach for
out=$(ctr_sh web 'unshare -U true 2>&1; echo "rc=$?"')
assert_contains "$out" "rc=1" "busybox unshare -U fails"
assert_contains "$out" "Operation not permitted" "busybox unshare -U: EPERM"
out=$(ctr_sh web 'mkdir -p /tmp/m; mount -t tmpfs none /tmp/m 2>&1; echo "rc=$?"')
assert_contains "$out" "rc=1" "mount fails"
out=$(ctr_sh web 'grep -c " /tmp/m " /proc/mounts')
assert_eq 0 "$out" "nothing was mounted"

# privileged: no filter
echo "create handle=priv privileged=true" >"$MNT/ctl" || fail "create privileged"
assert_eq "Seccomp:	0" "$(ctr_sh priv 'grep "^Seccomp:" /proc/self/status')" "privileged: no filter"
gfs_done
