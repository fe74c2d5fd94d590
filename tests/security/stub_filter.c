/* Invariant 1, the systrap stub filter itself: runs the program the stubs
 * install through a classic-BPF interpreter, on the calls application code
 * could make by jumping into the stub code, and checks each verdict. */
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "platform/stub.h"
#include "platform/systrap/systrap_impl.h"

static struct sock_filter prog[STUB_DATA_FILTER_MAX];
static int prog_len;
static int failures;

/* A classic-BPF interpreter for what seccomp accepts. */
static uint32_t run(const struct seccomp_data *d)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	const uint8_t *data = (const uint8_t *)d;

	for (int pc = 0; pc < prog_len; pc++) {
		const struct sock_filter *f = &prog[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k > sizeof(*d) - 4)
				return 0xdead;
			memcpy(&A, data + f->k, 4);
			break;
		case BPF_LD | BPF_MEM: A = M[f->k]; break;
		case BPF_LDX | BPF_MEM: X = M[f->k]; break;
		case BPF_ST: M[f->k] = A; break;
		case BPF_ALU | BPF_ADD | BPF_X: A += X; break;
		case BPF_ALU | BPF_ADD | BPF_K: A += f->k; break;
		case BPF_RET | BPF_K: return f->k;
		case BPF_JMP | BPF_JA: pc += (int)f->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += A == f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += A > f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += A >= f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_X: pc += A >= X ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += A & f->k ? f->jt : f->jf; break;
		default:
			return 0xbad;
		}
	}
	return 0xfa11; /* fell off the end */
}

#define ALLOW SECCOMP_RET_ALLOW
#define KILL SECCOMP_RET_KILL_PROCESS
#define TRAP SECCOMP_RET_TRAP
#define TRACE_ SECCOMP_RET_TRACE
#define IN_STUB (STUB_BASE + 0x100)

static void check6(const char *what, uint64_t ip, int nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint32_t want)
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64,
				 .instruction_pointer = ip,
				 .args = {a0, a1, a2, a3, a4, a5}};
	uint32_t got = run(&d);

	if (got != want) {
		printf("FAIL: %s: verdict 0x%x, want 0x%x\n", what, got, want);
		failures++;
	}
}

#define check(what, ip, nr, a0, a1, a2, a3, a4, want) \
	check6(what, ip, nr, a0, a1, a2, a3, a4, 0, want)
#define S(what, nr, a0, a1, a2, a3, a4, want) \
	check(what, IN_STUB, nr, a0, a1, a2, a3, a4, want)
#define SLOTS_MMAP(what, addr, len, prot, flags, off, want) \
	check6(what, IN_STUB, __NR_mmap, addr, len, prot, flags, 3, off, want)

int main(void)
{
	const uint64_t top = STUB_BASE, pg = 4096;
	struct seccomp_data i386 = {.nr = 39, .arch = AUDIT_ARCH_I386,
				    .instruction_pointer = IN_STUB};

	prog_len = systrap_stub_filter(prog, STUB_DATA_FILTER_MAX);
	if (prog_len <= 0) {
		printf("FAIL: cannot build the filter (%d)\n", prog_len);
		return 1;
	}
	/* Application code: everything traps, whatever it is. */
	check("app openat", 0x400000, __NR_openat, 0, 0, 0, 0, 0, TRAP);
	check("app getpid", 0x7ffff000, __NR_getpid, 0, 0, 0, 0, 0, TRAP);
	check("syscall ending at STUB_BASE", STUB_BASE, __NR_openat, 0, 0, 0, 0, 0, TRAP);
	check("past the code page", STUB_BASE + STUB_CODE_SIZE, __NR_futex, STUB_SLOTS, 1, 0, 0, 0, TRAP);
	if (run(&i386) != KILL) {
		printf("FAIL: a 32-bit call is not killed\n");
		failures++;
	}
	/* From the stub code: what it needs, nothing else. */
	S("rt_sigreturn", __NR_rt_sigreturn, 0, 0, 0, 0, 0, ALLOW);
	S("futex wake on a slot", __NR_futex, STUB_SLOTS, FUTEX_WAKE, 1, 0, 0, ALLOW);
	S("futex wait on a slot", __NR_futex, STUB_SLOTS + 0x8000, FUTEX_WAIT, 1, 0, 0, ALLOW);
	S("futex below the slots", __NR_futex, STUB_SLOTS - 4, FUTEX_WAKE, 1, 0, 0, KILL);
	S("futex past the slots", __NR_futex, STUB_SLOTS_END, FUTEX_WAKE, 1, 0, 0, KILL);
	S("futex in app memory", __NR_futex, 0x10000, FUTEX_WAKE, 1, 0, 0, KILL);
	S("futex, high bits", __NR_futex, STUB_SLOTS + (1ULL << 32), FUTEX_WAKE, 1, 0, 0, KILL);
	S("futex requeue", __NR_futex, STUB_SLOTS, FUTEX_CMP_REQUEUE, 1, 0, 0, KILL);
	S("mmap fixed below", __NR_mmap, 0x10000, pg, 7, MAP_PRIVATE | MAP_FIXED, -1, ALLOW);
	S("mmap fixed, last page", __NR_mmap, top - pg, pg, 3, MAP_SHARED | MAP_FIXED, 5, ALLOW);
	S("mmap not fixed", __NR_mmap, 0x10000, pg, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, KILL);
	S("mmap over the stub code", __NR_mmap, top, pg, 7, MAP_PRIVATE | MAP_FIXED, -1, KILL);
	S("mmap over the slots", __NR_mmap, STUB_SLOTS, pg, 3, MAP_PRIVATE | MAP_FIXED, -1, KILL);
	S("mmap reaching the stub", __NR_mmap, top - pg, 2 * pg, 3, MAP_PRIVATE | MAP_FIXED, -1, KILL);
	S("mmap, length wraps", __NR_mmap, 0x10000, (uint64_t)-0x10000, 3, MAP_PRIVATE | MAP_FIXED, -1, KILL);
	S("mmap, huge length", __NR_mmap, 0x10000, 1ULL << 47, 3, MAP_PRIVATE | MAP_FIXED, -1, KILL);
	S("mmap, carry into the stub", __NR_mmap, 0x7dfffffff000, 0x1000 + 0xffffffffULL, 3,
	  MAP_PRIVATE | MAP_FIXED, -1, KILL);
	S("mmap, flag high bits", __NR_mmap, 0x10000, pg, 3, MAP_FIXED | (1ULL << 32), -1, KILL);
	S("munmap below", __NR_munmap, 0x10000, 1ULL << 40, 0, 0, 0, ALLOW);
	S("munmap the stub", __NR_munmap, top, pg, 0, 0, 0, KILL);
	S("munmap everything", __NR_munmap, 0, HOST_TASK_SIZE, 0, 0, 0, KILL);
	S("mprotect below", __NR_mprotect, 0x10000, pg, 7, 0, 0, ALLOW);
	S("mprotect the stub code", __NR_mprotect, top, pg, 7, 0, 0, KILL);
	S("madvise the slots", __NR_madvise, STUB_SLOTS, pg, MADV_DONTNEED, 0, 0, KILL);
	S("madvise below", __NR_madvise, 0x10000, pg, MADV_DONTNEED, 0, 0, ALLOW);
	S("mremap in place", __NR_mremap, 0x10000, pg, 2 * pg, 0, 0, ALLOW);
	S("mremap may move", __NR_mremap, 0x10000, pg, 2 * pg, MREMAP_MAYMOVE, 0, KILL);
	S("mremap fixed below", __NR_mremap, 0x10000, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED,
	  0x20000, ALLOW);
	S("mremap onto the stub", __NR_mremap, 0x10000, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED,
	  STUB_SLOTS, KILL);
	S("mremap the slots away", __NR_mremap, STUB_SLOTS, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED,
	  0x20000, KILL);
	S("recvmsg on the channel", __NR_recvmsg, 0, 0x1000, 0, 0, 0, ALLOW);
	S("recvmsg on another fd", __NR_recvmsg, 1, 0x1000, 0, 0, 0, KILL);
	S("close", __NR_close, 3, 0, 0, 0, 0, ALLOW);
	S("close the channel", __NR_close, 0, 0, 0, 0, 0, KILL);
	S("arch_prctl set fs", __NR_arch_prctl, ARCH_SET_FS, 0, 0, 0, 0, ALLOW);
	S("arch_prctl other", __NR_arch_prctl, 0x1021, 0, 0, 0, 0, KILL);
	/* A forked child replacing the slots it shares with its parent:
	 * exactly that mapping, nothing like it. */
	SLOTS_MMAP("mmap the slots", STUB_SLOTS, STUB_SLOTS_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, 0, ALLOW);
	SLOTS_MMAP("mmap the slots private", STUB_SLOTS, STUB_SLOTS_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_FIXED, 0, KILL);
	SLOTS_MMAP("mmap the slots executable", STUB_SLOTS, STUB_SLOTS_SIZE, 7,
		   MAP_SHARED | MAP_FIXED, 0, KILL);
	SLOTS_MMAP("mmap one slot", STUB_SLOTS + STUB_SLOT_SIZE, STUB_SLOT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, 0, KILL);
	SLOTS_MMAP("mmap part of the slots", STUB_SLOTS, STUB_SLOT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, 0, KILL);
	SLOTS_MMAP("mmap the slots at an offset", STUB_SLOTS, STUB_SLOTS_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, 4096, KILL);
	SLOTS_MMAP("mmap the slots, length high bits", STUB_SLOTS, STUB_SLOTS_SIZE | (1ULL << 32),
		   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, 0, KILL);
	SLOTS_MMAP("mmap over the stub data", STUB_DATA, STUB_SLOTS_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, 0, KILL);
	/* clone: traced (so it runs only under the sentry's ptrace), from
	 * its two instructions, in their two shapes. */
	{
		const uint64_t thr = SYSTRAP_ADDR(systrap_clone_thread) + 2;
		const uint64_t frk = SYSTRAP_ADDR(systrap_clone_fork) + 2;
		const uint64_t stack = STUB_SLOTS + 3 * STUB_SLOT_SIZE + 0x7000;
		const uint64_t tf = SYSTRAP_THREAD_FLAGS, ff = SYSTRAP_FORK_FLAGS;

		check("clone a thread", thr, __NR_clone, tf, stack, 0, 0, 0, TRACE_);
		check("clone a thread, top of the slots", thr, __NR_clone, tf, STUB_SLOTS_END, 0, 0, 0,
		      TRACE_);
		check("clone a thread, stack in app memory", thr, __NR_clone, tf, 0x7fff0000, 0, 0,
		      0, KILL);
		check("clone a thread, no stack", thr, __NR_clone, tf, 0, 0, 0, 0, KILL);
		check("clone a thread, stack in a message page", thr, __NR_clone, tf,
		      STUB_SLOTS + 0x100, 0, 0, 0, KILL);
		check("clone a thread, stack past the slots", thr, __NR_clone, tf,
		      STUB_SLOTS_END + 16, 0, 0, 0, KILL);
		check("clone a thread, stack high bits", thr, __NR_clone, tf, stack | (1ULL << 40),
		      0, 0, 0, KILL);
		check("clone a thread, no CLONE_THREAD", thr, __NR_clone, tf & ~(uint64_t)CLONE_THREAD,
		      stack, 0, 0, 0, KILL);
		check("clone a thread with settls", thr, __NR_clone, tf | CLONE_SETTLS, stack, 0, 0,
		      0, KILL);
		check("clone a fork at the thread site", thr, __NR_clone, ff, 0, 0, 0, 0, KILL);
		check("clone a fork", frk, __NR_clone, ff, 0, 0, 0, 0, TRACE_);
		check("clone a fork with a stack", frk, __NR_clone, ff, stack, 0, 0, 0, KILL);
		check("clone a fork sharing memory", frk, __NR_clone, ff | CLONE_VM, 0, 0, 0, 0, KILL);
		check("clone a fork, not the factory's child", frk, __NR_clone, SIGCHLD, 0, 0, 0, 0,
		      KILL);
		check("clone a thread at the fork site", frk, __NR_clone, tf, stack, 0, 0, 0, KILL);
		check("clone, flags high bits", frk, __NR_clone, ff | (1ULL << 32), 0, 0, 0, 0, KILL);
		check("clone elsewhere in the stub", thr + 16, __NR_clone, tf, stack, 0, 0, 0, KILL);
		check("clone from the application", 0x400000, __NR_clone, tf, stack, 0, 0, 0, TRAP);
	}
	S("dup2 onto the channel", __NR_dup2, 5, 0, 0, 0, 0, ALLOW);
	S("dup2 elsewhere", __NR_dup2, 0, 3, 0, 0, 0, KILL);
	S("close_range past the channel", __NR_close_range, 1, ~0U, 0, 0, 0, ALLOW);
	S("close_range the channel", __NR_close_range, 0, ~0U, 0, 0, 0, KILL);
	S("close_range unshare", __NR_close_range, 1, ~0U, 2, 0, 0, KILL);
	S("prctl pdeathsig kill", __NR_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, ALLOW);
	S("prctl pdeathsig other", __NR_prctl, PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0, KILL);
	S("prctl pdeathsig high bits", __NR_prctl, PR_SET_PDEATHSIG, SIGKILL | (1ULL << 32), 0, 0,
	  0, KILL);
	S("prctl other", __NR_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0, KILL);
	S("exit", __NR_exit, 0, 0, 0, 0, 0, ALLOW);
	S("getppid", __NR_getppid, 0, 0, 0, 0, 0, ALLOW);
	/* Syscall patching: core serialisation of this process only. */
	S("membarrier sync core", __NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0,
	  0, 0, 0, ALLOW);
	S("membarrier register sync core", __NR_membarrier,
	  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0, ALLOW);
	S("membarrier sync core flags", __NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	  1, 0, 0, 0, KILL);
	S("membarrier global", __NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0, 0, 0, KILL);
	/* Never, with any arguments. */
	static const int never[] = {
		__NR_open, __NR_openat, __NR_openat2, __NR_socket, __NR_connect,
		__NR_execve, __NR_execveat, __NR_fork, __NR_vfork, __NR_clone,
		__NR_clone3, __NR_kill, __NR_tgkill, __NR_tkill, __NR_ptrace,
		__NR_read, __NR_write, __NR_sendmsg, __NR_ioctl, __NR_getpid,
		__NR_prctl, __NR_seccomp, __NR_rt_sigaction, __NR_rt_sigprocmask,
		__NR_sigaltstack, __NR_dup, __NR_dup3, __NR_process_vm_writev, __NR_mkdir,
		__NR_unshare, __NR_setns, __NR_bpf, __NR_memfd_create, __NR_exit_group,
		__NR_pidfd_open, __NR_pidfd_getfd, __NR_io_uring_setup, __NR_shmat,
		__NR_brk, __NR_pkey_mprotect, __NR_process_madvise, __NR_remap_file_pages,
	};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "syscall %d from the stub", never[i]);
		S(what, never[i], 0, 0, 0, 0, 0, KILL);
	}
	if (failures)
		return 1;
	printf("systrap stub filter: %d instructions, every verdict as expected\n", prog_len);
	return 0;
}
