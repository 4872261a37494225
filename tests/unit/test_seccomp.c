/* cmocka tests for runtime/init/seccomp.c: the program gfs_seccomp_build
 * makes (libseccomp's output behind our ENOSYS prologue) is run here by a
 * small classic-BPF interpreter on made-up seccomp_data, so every verdict
 * is checked without loading anything into the kernel: allowed calls,
 * refused ones (EPERM), clone3 and calls newer than the profile (ENOSYS),
 * the argument rules (clone, personality, socket) and the i386 and x32
 * ABIs; and that the program compiled into gardenfs-init is this one.  The
 * integration tests (tests/security/seccomp-default.sh) check the same against
 * the real kernel. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "runtime/init/harden.h"
#include "seccomp_filter.h" /* what gardenfs-init loads (build/gen) */

static struct sock_fprog prog;

/* The classic BPF subset seccomp programs use; anything else fails the
 * test rather than being guessed at. */
static uint32_t run(const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
	const unsigned char *data = (const unsigned char *)d;

	for (size_t pc = 0; pc < prog.len;) {
		struct sock_filter f = prog.filter[pc++];
		switch (f.code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(f.k + 4 <= sizeof *d);
			memcpy(&a, data + f.k, 4);
			break;
		case BPF_LD | BPF_MEM:
			a = mem[f.k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[f.k];
			break;
		case BPF_ST:
			mem[f.k] = a;
			break;
		case BPF_STX:
			mem[f.k] = x;
			break;
		case BPF_LD | BPF_IMM:
			a = f.k;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= f.k;
			break;
		case BPF_ALU | BPF_OR | BPF_K:
			a |= f.k;
			break;
		case BPF_JMP | BPF_JA:
			pc += f.k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == f.k ? f.jt : f.jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > f.k ? f.jt : f.jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= f.k ? f.jt : f.jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & f.k) ? f.jt : f.jf;
			break;
		case BPF_RET | BPF_K:
			return f.k;
		default:
			fail_msg("unknown BPF opcode 0x%x at %zu", f.code,
				 pc - 1);
		}
	}
	fail_msg("the program ran off its end");
	return 0;
}

static uint32_t verdict(uint32_t arch, int nr, uint64_t a0)
{
	struct seccomp_data d = {.nr = nr, .arch = arch, .args = {a0}};
	return run(&d);
}

#define ALLOW	SECCOMP_RET_ALLOW
#define EPERM_	(SECCOMP_RET_ERRNO | EPERM)
#define ENOSYS_ (SECCOMP_RET_ERRNO | ENOSYS)
#define X64	AUDIT_ARCH_X86_64
#define I386	AUDIT_ARCH_I386

static int setup(void **state)
{
	(void)state;
	gfs_err err = {0};
	assert_int_equal(gfs_seccomp_build(&prog, &err), 0);
	assert_true(prog.len > 100 && prog.len <= BPF_MAXINSNS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(prog.filter);
	return 0;
}

static void test_allowed(void **state)
{
	(void)state;
	const int nrs[] = {SYS_read,	   SYS_write,	SYS_openat, SYS_execve,
			   SYS_exit_group, SYS_mmap,	SYS_futex,  SYS_chroot,
			   SYS_ptrace,	   SYS_setuid,	SYS_capset, SYS_prctl,
			   SYS_seccomp,	   SYS_openat2, SYS_statx,  SYS_rseq,
			   SYS_futex_waitv};
	for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; i++)
		if (verdict(X64, nrs[i], 0) != ALLOW)
			fail_msg("syscall %d is not allowed", nrs[i]);
}

static void test_refused(void **state)
{
	(void)state;
	const int nrs[] = {
	    SYS_mount,
	    SYS_umount2,
	    SYS_unshare,
	    SYS_setns,
	    SYS_keyctl,
	    SYS_add_key,
	    SYS_request_key,
	    SYS_bpf,
	    SYS_perf_event_open,
	    SYS_open_by_handle_at,
	    SYS_kexec_load,
	    SYS_kexec_file_load,
	    SYS_init_module,
	    SYS_finit_module,
	    SYS_delete_module,
	    SYS_reboot,
	    SYS_swapon,
	    SYS_pivot_root,
	    SYS_io_uring_setup,
	    SYS_io_uring_enter,
	    SYS_userfaultfd,
	    SYS_open_tree,
	    SYS_move_mount,
	    SYS_fsopen,
	    SYS_mount_setattr,
	    SYS_sethostname,
	    SYS_settimeofday,
	    SYS_acct,
	    SYS_kcmp,
	    SYS_pidfd_getfd,
	    SYS_iopl,
	    SYS_quotactl,
	    SYS_syslog,
	    SYS_vhangup,
	    SYS_lookup_dcookie,
	    SYS_fanotify_init,
	};
	for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; i++)
		if (verdict(X64, nrs[i], 0) != EPERM_)
			fail_msg("syscall %d: want EPERM, got 0x%x", nrs[i],
				 verdict(X64, nrs[i], 0));
}

/* clone3 and everything above the profile's highest number: ENOSYS; the
 * numbers below that the profile does not allow: EPERM. */
static void test_enosys(void **state)
{
	(void)state;
	assert_int_equal(verdict(X64, SYS_clone3, 0), ENOSYS_);
	/* 451 cachestat, 452 fchmodat2, 462 mseal, and beyond */
	for (int nr = 451; nr < 1024; nr++)
		assert_int_equal(verdict(X64, nr, 0), ENOSYS_);
	assert_int_equal(verdict(X64, 0x3fffffff, 0), ENOSYS_);
	/* 335..423 are unused on x86_64: below the ceiling, so EPERM */
	assert_int_equal(verdict(X64, 400, 0), EPERM_);
	/* i386 the same way */
	assert_int_equal(verdict(I386, 3 /* read */, 0), ALLOW);
	assert_int_equal(verdict(I386, 21 /* mount */, 0), EPERM_);
	assert_int_equal(verdict(I386, 435 /* clone3 */, 0), ENOSYS_);
	assert_int_equal(verdict(I386, 452 /* fchmodat2 */, 0), ENOSYS_);
}

static void test_clone(void **state)
{
	(void)state;
	uint64_t fork_flags = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | 17;
	uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			  CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS;
	assert_int_equal(verdict(X64, SYS_clone, fork_flags), ALLOW);
	assert_int_equal(verdict(X64, SYS_clone, thread), ALLOW);
	const uint64_t ns[] = {CLONE_NEWUSER,  CLONE_NEWNS,  CLONE_NEWPID,
			       CLONE_NEWNET,   CLONE_NEWUTS, CLONE_NEWIPC,
			       CLONE_NEWCGROUP};
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		assert_int_equal(verdict(X64, SYS_clone, ns[i] | 17), EPERM_);
		assert_int_equal(verdict(I386, 120, ns[i] | 17), EPERM_);
	}
	/* CLONE_NEWTIME (0x80) sits in the exit signal's byte for clone
	 * and is only usable through clone3 or unshare, both refused */
	assert_int_equal(verdict(X64, SYS_unshare, CLONE_NEWTIME), EPERM_);
}

static void test_personality(void **state)
{
	(void)state;
	const uint64_t ok[] = {0, 8, 0x20000, 0x20008, 0xffffffff};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		assert_int_equal(verdict(X64, SYS_personality, ok[i]), ALLOW);
	/* READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, and junk in the upper half */
	assert_int_equal(verdict(X64, SYS_personality, 0x0400000), EPERM_);
	assert_int_equal(verdict(X64, SYS_personality, 0x0040000), EPERM_);
	assert_int_equal(verdict(X64, SYS_personality, 1ULL << 32), EPERM_);
}

static void test_socket(void **state)
{
	(void)state;
	for (uint64_t af = 0; af < 64; af++)
		assert_int_equal(verdict(X64, SYS_socket, af),
				 af == 40 ? EPERM_ : ALLOW);
	assert_int_equal(verdict(X64, SYS_socket, 0xffffffff), ALLOW);
	assert_int_equal(verdict(X64, SYS_socket, 0x80000000), ALLOW);
	/* the kernel reads the family as an int: 0x1_00000028 is AF_VSOCK */
	assert_int_equal(verdict(X64, SYS_socket, 0x100000028ULL), EPERM_);
	assert_int_equal(verdict(X64, SYS_socket, 0xffffffff00000002ULL),
			 EPERM_);
	assert_int_equal(verdict(I386, 359 /* socket */, 40), EPERM_);
	assert_int_equal(verdict(I386, 359, 2), ALLOW);
}

/* x32 calls and architectures we do not filter kill the process. */
static void test_foreign_abi(void **state)
{
	(void)state;
	assert_int_equal(verdict(X64, 0x40000000 | SYS_read, 0),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(X64, 0x40000000 | 520, 0),
			 SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(verdict(AUDIT_ARCH_AARCH64, 63, 0),
			 SECCOMP_RET_KILL_PROCESS);
}

/* Building twice gives the same program (nothing depends on state). */
static void test_stable(void **state)
{
	(void)state;
	struct sock_fprog again;
	gfs_err err = {0};
	assert_int_equal(gfs_seccomp_build(&again, &err), 0);
	assert_int_equal(again.len, prog.len);
	assert_memory_equal(again.filter, prog.filter,
			    prog.len * sizeof *prog.filter);
	free(again.filter);
}

/* The program built into gardenfs-init is this one. */
static void test_generated(void **state)
{
	(void)state;
	size_t n = sizeof gfs_seccomp_filter / sizeof gfs_seccomp_filter[0];
	assert_int_equal(n, prog.len);
	assert_memory_equal(gfs_seccomp_filter, prog.filter,
			    n * sizeof *prog.filter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allowed),	cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_enosys),	cmocka_unit_test(test_clone),
	    cmocka_unit_test(test_personality), cmocka_unit_test(test_socket),
	    cmocka_unit_test(test_foreign_abi), cmocka_unit_test(test_stable),
	    cmocka_unit_test(test_generated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
