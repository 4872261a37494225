/* The seccomp filter of unprivileged containers, built with libseccomp from
 * Docker's default profile, as that profile stands for a container with
 * Docker's default capabilities (so the rules it grants only with
 * CAP_SYS_ADMIN, CAP_SYS_PTRACE, ... are not granted, and chroot, which
 * needs CAP_SYS_CHROOT, is).  Like Docker 25 we do not allow io_uring: its
 * operations bypass seccomp entirely.
 *
 * libseccomp's program answers EPERM for everything it does not allow.  In
 * front of it sits a short prologue (runc does the same) that answers
 * ENOSYS for system call numbers above the highest one the profile names,
 * per architecture: a syscall newer than the profile looks to a program as
 * if the kernel were older, and libc falls back (fchmodat2, cachestat,
 * map_shadow_stack, ...), where EPERM would be taken as a real refusal.
 *
 * This file runs at build time (tools/mkseccomp.c turns the program into
 * build/gen/seccomp_filter.h, which runtime/init/seccomp_load.c loads):
 * with libseccomp linked statically its syscall tables are frozen at build
 * time anyway, so the program is the same, and no container pays the
 * 10-30 ms libseccomp takes to generate it. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/init/harden.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* Allowed without conditions, on every architecture that has them
 * (libseccomp skips a name an architecture lacks). */
static const char *const allowed[] = {
    /* files and directories */
    "access",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "close",
    "close_range",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futimesat",
    "getcwd",
    "getdents",
    "getdents64",
    "getxattr",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "name_to_handle_at",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pread64",
    "preadv",
    "preadv2",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "sendfile",
    "sendfile64",
    "setxattr",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "tee",
    "truncate",
    "truncate64",
    "umask",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vmsplice",
    "write",
    "writev",
    /* waiting, events, notification */
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "fanotify_mark",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "_newselect",
    "pause",
    "poll",
    "ppoll",
    "ppoll_time64",
    "pselect6",
    "pselect6_time64",
    "select",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    /* asynchronous I/O (the old interface; io_uring is not allowed) */
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    /* memory */
    "brk",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mremap",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "remap_file_pages",
    /* processes, threads, signals */
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "fork",
    "futex",
    "futex_time64",
    "futex_waitv",
    "get_robust_list",
    "get_thread_area",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrlimit",
    "getrusage",
    "getsid",
    "gettid",
    "ioprio_get",
    "ioprio_set",
    "kill",
    "pidfd_open",
    "pidfd_send_signal",
    "prctl",
    "prlimit64",
    "process_mrelease",
    "restart_syscall",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setitimer",
    "setpgid",
    "setpriority",
    "setrlimit",
    "setsid",
    "sigaltstack",
    "sigprocmask",
    "sigreturn",
    "tgkill",
    "tkill",
    "ugetrlimit",
    "vfork",
    "wait4",
    "waitid",
    "waitpid",
    /* credentials */
    "capget",
    "capset",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getuid",
    "getuid32",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setuid",
    "setuid32",
    /* sockets (socket itself is checked below) */
    "accept",
    "accept4",
    "bind",
    "connect",
    "getpeername",
    "getsockname",
    "getsockopt",
    "listen",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "send",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setsockopt",
    "shutdown",
    "socketcall",
    "socketpair",
    /* System V and POSIX IPC */
    "ipc",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "pipe",
    "pipe2",
    /* time */
    "adjtimex",
    "alarm",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "getitimer",
    "gettimeofday",
    "nanosleep",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "times",
    /* everything else */
    "getcpu",
    "getrandom",
    "ioctl",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "sysinfo",
    "uname",
    /* Docker allows these from kernel 4.8 on, where ptrace can no longer
     * be used to get around seccomp */
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    /* granted with CAP_SYS_CHROOT, which the default set has */
    "chroot",
    /* x86 only */
    "arch_prctl",
    "modify_ldt",
};

/* Named by the profile but granted only with capabilities the default set
 * lacks (or, io_uring, no longer at all): refused with EPERM like anything
 * else not allowed.  Listed so that they count as known to the profile: the
 * ENOSYS ceiling is the highest of all the numbers named here and above. */
static const char *const known_refused[] = {
    "acct",
    "bpf",
    "clock_settime",
    "clock_settime64",
    "delete_module",
    "fanotify_init",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_mempolicy",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kcmp",
    "lookup_dcookie",
    "mbind",
    "mount",
    "mount_setattr",
    "move_mount",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pidfd_getfd",
    "process_madvise",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "setdomainname",
    "sethostname",
    "setns",
    "settimeofday",
    "stime",
    "syslog",
    "umount",
    "umount2",
    "unshare",
    "vhangup",
    /* conditional below */
    "socket",
    "personality",
    "clone",
    "clone3",
};

/* personality(2) values Docker allows: PER_LINUX, UNAME26, PER_LINUX32,
 * PER_LINUX32|UNAME26 and the query 0xffffffff. */
static const uint64_t personalities[] = {0x0, 0x8, 0x20000, 0x20008,
					 0xffffffff};

/* clone(2) flags that make namespaces: refused without CAP_SYS_ADMIN. */
#define CLONE_NS_FLAGS                                                         \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |           \
	 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

static const struct {
	uint32_t scmp, audit;
} arches[] = {
    {SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64},
    {SCMP_ARCH_X86, AUDIT_ARCH_I386},
};
#define NARCH (sizeof arches / sizeof arches[0])

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name,
	       unsigned n, const struct scmp_arg_cmp *cmp, gfs_err *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* no architecture of ours has it */
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r < 0)
		return gfs_error_sys(err, -r, "seccomp rule for %s", name);
	return 0;
}

/* socket(2) unless the family is AF_VSOCK.  The family is an int, so the
 * kernel ignores the upper half of the register; a plain 64-bit "!= 40"
 * would let 0x100000028 through.  So: below 40, or in [41, 2^32) as
 * aligned power-of-two blocks (one masked compare each), upper half 0. */
static int add_socket(scmp_filter_ctx ctx, gfs_err *err)
{
	struct scmp_arg_cmp lt = SCMP_A0_64(SCMP_CMP_LT, AF_VSOCK);
	int r = add(ctx, SCMP_ACT_ALLOW, "socket", 1, &lt, err);
	for (uint64_t start = AF_VSOCK + 1; r == 0 && start < (1ULL << 32);) {
		uint64_t size = start & -start; /* its alignment */
		while (start + size > (1ULL << 32))
			size >>= 1;
		struct scmp_arg_cmp m =
		    SCMP_A0_64(SCMP_CMP_MASKED_EQ, ~(size - 1), start);
		r = add(ctx, SCMP_ACT_ALLOW, "socket", 1, &m, err);
		start += size;
	}
	return r;
}

static int add_rules(scmp_filter_ctx ctx, gfs_err *err)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof allowed[0];
	     i++)
		r = add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL, err);
	for (size_t i = 0;
	     r == 0 && i < sizeof personalities / sizeof personalities[0];
	     i++) {
		struct scmp_arg_cmp c =
		    SCMP_A0_64(SCMP_CMP_EQ, personalities[i]);
		r = add(ctx, SCMP_ACT_ALLOW, "personality", 1, &c, err);
	}
	if (r == 0) {
		/* flags are an unsigned long: all 64 bits count */
		struct scmp_arg_cmp c =
		    SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0);
		r = add(ctx, SCMP_ACT_ALLOW, "clone", 1, &c, err);
	}
	if (r == 0)
		/* its flags are behind a pointer, out of seccomp's reach:
		 * ENOSYS sends glibc back to clone */
		r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err);
	if (r == 0)
		r = add_socket(ctx, err);
	return r;
}

/* The highest number the profile names on arch. */
static int ceiling(uint32_t arch)
{
	int max = -1;
	const char *const *lists[] = {allowed, known_refused};
	size_t lens[] = {sizeof allowed / sizeof allowed[0],
			 sizeof known_refused / sizeof known_refused[0]};
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lens[l]; i++) {
			int nr = seccomp_syscall_resolve_name_arch(arch,
								   lists[l][i]);
			if (nr > max)
				max = nr;
		}
	return max;
}

/* The ENOSYS prologue (see the top of the file); returns its length.
 * out has room for 4 + 3 * NARCH instructions. */
static size_t prologue(struct sock_filter *out, const int *ceil)
{
	size_t n = 0;
	/* per arch: jeq arch, ld nr, [x86_64: jge x32 bit], jgt ceiling */
	size_t per[NARCH];
	size_t total = 1;
	for (size_t a = 0; a < NARCH; a++) {
		per[a] = arches[a].audit == AUDIT_ARCH_X86_64 ? 4 : 3;
		total += per[a];
	}
	size_t enosys = total;	 /* index of the ENOSYS return */
	size_t rest = total + 1; /* libseccomp's program */

	out[n++] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	for (size_t a = 0; a < NARCH; a++) {
		size_t next = n + per[a]; /* the next arch's jeq */
		if (a == NARCH - 1)
			next = rest;
		out[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      arches[a].audit, 0,
						      (uint8_t)(next - n - 1));
		n++;
		out[n++] = (struct sock_filter)BPF_STMT(
		    BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr));
		if (arches[a].audit == AUDIT_ARCH_X86_64) {
			/* x32 calls: libseccomp's program refuses them */
			out[n] = (struct sock_filter)BPF_JUMP(
			    BPF_JMP | BPF_JGE | BPF_K, 0x40000000U,
			    (uint8_t)(rest - n - 1), 0);
			n++;
		}
		out[n] = (struct sock_filter)BPF_JUMP(
		    BPF_JMP | BPF_JGT | BPF_K, (uint32_t)ceil[a],
		    (uint8_t)(enosys - n - 1), (uint8_t)(rest - n - 1));
		n++;
	}
	out[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						SECCOMP_RET_ERRNO | ENOSYS);
	return n;
}

int gfs_seccomp_build(struct sock_fprog *prog, gfs_err *err)
{
	int ceil[NARCH];
	int r;

	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return gfs_error(err, ENOMEM, "seccomp_init");
	cleanup_close int mfd = -1;
	/* we load the program ourselves, after deciding on no_new_privs */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				     SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		r = gfs_error_sys(err, -r, "seccomp attributes");
		goto out;
	}
	/* a binary tree instead of ~300 compares in a row; not fatal */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t a = 0; a < NARCH; a++) {
		ceil[a] = ceiling(arches[a].scmp);
		if (ceil[a] < 0) {
			r = gfs_error(err, EINVAL,
				      "seccomp: no syscalls known");
			goto out;
		}
		if (arches[a].scmp == seccomp_arch_native())
			continue;
		r = seccomp_arch_add(ctx, arches[a].scmp);
		if (r < 0 && r != -EEXIST) {
			r = gfs_error_sys(err, -r, "seccomp_arch_add");
			goto out;
		}
	}
	r = add_rules(ctx, err);
	if (r < 0)
		goto out;
	mfd = memfd_create("seccomp", MFD_CLOEXEC);
	if (mfd < 0) {
		r = gfs_error_sys(err, errno, "memfd_create");
		goto out;
	}
	r = seccomp_export_bpf(ctx, mfd);
	if (r < 0) {
		r = gfs_error_sys(err, -r, "seccomp_export_bpf");
		goto out;
	}
	off_t len = lseek(mfd, 0, SEEK_END);
	size_t body = (size_t)len / sizeof(struct sock_filter);
	size_t cap = body + 4 + 4 * NARCH;
	if (len <= 0 || (size_t)len % sizeof(struct sock_filter) ||
	    cap > BPF_MAXINSNS) {
		r = gfs_error(err, E2BIG, "seccomp program of %lld bytes",
			      (long long)len);
		goto out;
	}
	struct sock_filter *f = xcalloc(cap, sizeof *f);
	size_t n = prologue(f, ceil);
	if (pread(mfd, f + n, (size_t)len, 0) != len) {
		free(f);
		r = gfs_error_sys(err, errno ? errno : EIO,
				  "reading the seccomp program");
		goto out;
	}
	prog->filter = f;
	prog->len = (unsigned short)(n + body);
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}
