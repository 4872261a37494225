/* Into the container, and locked down: the steps that make a hostile
 * archive or container harmless to the host.
 *
 * 1. setns through the init's pidfd into its user namespace (unless the
 *    container is privileged) and mount namespace.  Joining a mount
 *    namespace sets our root and cwd to its root, which is the container's
 *    root file system; we check that against the init's /proc/PID/root
 *    (bubblewrap's habit: verify that a syscall did what it claims).  From
 *    here on no descriptor or path of the host is open or reachable.
 * 2. Become the user: the container's root (keeping only the capabilities
 *    unpacking needs) or another user (no capabilities at all, so the
 *    kernel's permission checks give EACCES where that user may not
 *    write).  The bounding set goes too.
 * 3. no_new_privs and a seccomp filter: no exec, no fork, no mounts, no
 *    namespaces, no ptrace, no sockets, no file handles, and no new
 *    executable mapping, so no library or gconv module can be loaded from
 *    the container whatever glibc or libarchive would try (CVE-2019-14271
 *    was Docker cp loading the container's NSS modules).
 * 4. The parent-death signal (after the credential changes, which clear
 *    it): a stream never outlives the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/stream/child.h"

int sx_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = resolve};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Raw syscalls: a credential change must apply to this one thread, now. */
static int set_ids(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	if (syscall(SYS_setgroups, n, groups) < 0 ||
	    syscall(SYS_setresgid, gid, gid, gid) < 0 ||
	    syscall(SYS_setresuid, uid, uid, uid) < 0)
		return -errno;
	return 0;
}

static const cap_value_t keep_in[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_MKNOD, CAP_SETFCAP,
};
static const cap_value_t keep_out[] = {CAP_DAC_OVERRIDE};

static bool kept(const cap_value_t *keep, size_t n, cap_value_t v)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == v)
			return true;
	return false;
}

/* Bounding set down to keep (needs CAP_SETPCAP: before the rest goes). */
static int drop_bounding(const cap_value_t *keep, size_t n, gfs_err *err)
{
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		if (kept(keep, n, v) || !CAP_IS_SUPPORTED(v))
			continue;
		if (cap_drop_bound(v) < 0)
			return gfs_error_sys(err, errno,
					     "dropping capability %d", (int)v);
	}
	return 0;
}

/* Exactly keep in the permitted and effective sets, nothing inheritable
 * or ambient; then read back and compare. */
static int set_caps(const cap_value_t *keep, size_t n, gfs_err *err)
{
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	cap_t c = cap_init();
	if (!c)
		return gfs_error_sys(err, errno, "cap_init");
	if (n && (cap_set_flag(c, CAP_PERMITTED, (int)n, keep, CAP_SET) < 0 ||
		  cap_set_flag(c, CAP_EFFECTIVE, (int)n, keep, CAP_SET) < 0)) {
		cap_free(c);
		return gfs_error_sys(err, errno, "cap_set_flag");
	}
	int r = cap_set_proc(c);
	int e = errno;
	cap_t now = r == 0 ? cap_get_proc() : NULL;
	bool same = now && cap_compare(c, now) == 0;
	cap_free(now);
	cap_free(c);
	if (r < 0)
		return gfs_error_sys(err, e, "setting capabilities");
	if (!same)
		return gfs_error(err, EPERM,
				 "capabilities are not what was set");
	return 0;
}

static int seccomp_lock(gfs_err *err)
{
	/* everything a tar stream never needs and an exploit would */
	static const char *const deny[] = {
	    "execve",
	    "execveat",
	    "fork",
	    "vfork",
	    "clone",
	    "clone3",
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	    "mount",
	    "umount2",
	    "pivot_root",
	    "chroot",
	    "setns",
	    "unshare",
	    "move_mount",
	    "open_tree",
	    "fsopen",
	    "fsconfig",
	    "fsmount",
	    "fspick",
	    "mount_setattr",
	    "open_by_handle_at",
	    "name_to_handle_at",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "kexec_load",
	    "kexec_file_load",
	    "bpf",
	    "perf_event_open",
	    "userfaultfd",
	    "io_uring_setup",
	    "io_uring_enter",
	    "io_uring_register",
	    "keyctl",
	    "add_key",
	    "request_key",
	    "personality",
	    "uselib",
	    "swapon",
	    "swapoff",
	    "reboot",
	    "acct",
	    "quotactl",
	    "socket",
	    "socketpair",
	    "memfd_create",
	    "setuid",
	    "setgid",
	    "setreuid",
	    "setregid",
	    "setresuid",
	    "setresgid",
	    "setgroups",
	    "setfsuid",
	    "setfsgid",
	    "capset",
	    "pidfd_open",
	    "pidfd_getfd",
	    "process_madvise",
	    "lookup_dcookie",
	    "syslog",
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return gfs_error(err, ENOMEM, "seccomp_init");
	int r = 0;
	for (size_t i = 0; i < sizeof deny / sizeof deny[0] && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(deny[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* no new executable memory: nothing can be loaded or run */
	if (r == 0)
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (r == 0)
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (r == 0)
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	/* no typing into a terminal we might hold */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, TIOCSTI));
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return gfs_error(err, -r, "installing the seccomp filter: %s",
				 strerror(-r));
	return 0;
}

int sx_enter(const struct sx_cfg *c, gfs_err *err)
{
	char p[64];
	struct stat want, got;
	int r;

	/* the init's root as the host sees it, to check what setns gives */
	snprintf(p, sizeof p, "/proc/%d/root", (int)c->init_pid);
	if (stat(p, &want) < 0)
		return gfs_error_sys(err, errno == ENOENT ? ESRCH : errno,
				     "the container's init");
	int flags = CLONE_NEWNS | (c->privileged ? 0 : CLONE_NEWUSER);
	if (setns(SX_INIT_FD, flags) < 0)
		return gfs_error_sys(err, errno,
				     "entering the container's namespaces");
	close(SX_INIT_FD);
	if (stat("/", &got) < 0 || got.st_dev != want.st_dev ||
	    got.st_ino != want.st_ino)
		return gfs_error(err, EIO,
				 "the mount namespace's root is not the "
				 "container's root");
	if (chdir("/") < 0)
		return gfs_error_sys(err, errno, "chdir /");

	/* In a joined user namespace we are still host root, which it does
	 * not map; become its root first, so that the switch to a user
	 * below is a root-to-user switch and clears the capabilities. */
	if (!c->privileged && (r = set_ids(0, 0, NULL, 0)) < 0)
		return gfs_error_sys(err, -r,
				     "becoming root in the user namespace");
	const cap_value_t *keep = c->in ? keep_in : keep_out;
	size_t nkeep = c->in ? sizeof keep_in / sizeof keep_in[0]
			     : sizeof keep_out / sizeof keep_out[0];
	if (!c->as_root)
		nkeep = 0;
	r = drop_bounding(keep, nkeep, err);
	if (r < 0)
		return r;
	r = set_ids(c->uid, c->gid, c->groups, c->ngroups);
	if (r < 0)
		return gfs_error_sys(err, -r, "becoming uid %u gid %u",
				     (unsigned)c->uid, (unsigned)c->gid);
	r = set_caps(keep, nkeep, err);
	if (r < 0)
		return r;
	umask(0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	r = seccomp_lock(err);
	if (r < 0)
		return r;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != c->ppid)
		return gfs_error(err, ESRCH, "the daemon is gone");
	return 0;
}
