/* The seccomp filters of systrap stubs (security invariant 1).
 *
 * Two filters stack in every stub; the host applies the strictest answer.
 *
 * The factory filter (installed by the factory on itself, inherited by
 * every stub): syscalls from outside the stub code trap (SIGSYS); from the
 * stub code, the calls the factory and a newborn stub make run, any other
 * kills the process.
 *
 * The stub filter (installed by each stub just before its birth stop, and
 * inherited by its threads and forks): syscalls from outside the stub code
 * trap, and the SIGSYS handler hands them to the sentry. From the stub
 * code only these run, each with the argument checks that close a hole:
 *   rt_sigreturn   (leaving the handler)
 *   futex          FUTEX_WAIT or FUTEX_WAKE, on an address in the slots
 *   mmap           MAP_FIXED, [addr, addr+len) below the stub region; or
 *                  exactly the slots (a forked child replacing the slots it
 *                  shares with its parent): STUB_SLOTS, STUB_SLOTS_SIZE,
 *                  PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, offset 0
 *   munmap, mprotect, madvise   the range below the stub region
 *   mremap         the old range below the stub region; a move only with
 *                  MREMAP_FIXED, to a range below it
 *   recvmsg        on fd 0 (the channel) only
 *   close          any fd but 0
 *   close_range    from fd 1 up, no flags
 *   dup2           onto fd 0 only (a forked child's own channel)
 *   arch_prctl     ARCH_SET_FS and ARCH_SET_GS only
 *   prctl          PR_SET_PDEATHSIG, SIGKILL only
 *   membarrier     MEMBARRIER_CMD_(REGISTER_)PRIVATE_EXPEDITED_SYNC_CORE,
 *                  no flags (syscall patching: the other threads of the
 *                  stub see rewritten code)
 *   getppid        (a new stub checks the factory did not die before it
 *                  asked to die with it)
 *   exit           (a thread the sentry ends)
 *   clone          SECCOMP_RET_TRACE, and only from the instruction of the
 *                  stub that makes threads, with the thread flags and a
 *                  stack in the slots, or from the one that forks, with
 *                  CLONE_PARENT|SIGCHLD and no stack; anything else kills.
 * Everything else from the stub code, and every call of another
 * architecture (int 0x80 after a far jump to 32-bit code), kills the stub.
 *
 * Why clone is traced. Argument checks cannot tell the sentry's clone from
 * the application's: application code can jump to the stub's clone
 * instruction with exactly the registers the sentry would use (the slots
 * are readable, a stack address is all a thread needs). So the filter
 * returns SECCOMP_RET_TRACE, which runs the call only while a ptrace
 * tracer with PTRACE_O_TRACESECCOMP is attached to the calling thread and
 * fails it with ENOSYS otherwise. The sentry attaches to one stub thread
 * for the length of one command it posted (clone.c), checks the thread's
 * registers at the seccomp stop (the instruction, the flags, the stack,
 * the slot and frame the handler works on) and takes the child's id from
 * the kernel's clone event, not from the slot; then it detaches from both.
 * Application code in any other thread gets ENOSYS; a thread that is
 * being traced runs application code only if the application forged its
 * slot words, and then its clone must still pass the register check, so
 * it makes at most the one child the sentry asked for, which the sentry
 * adopts. Every stub thread and process is thus one the sentry made and
 * knows.
 *
 * Residual risk. Application code can jump into the stub code (or end a
 * syscall instruction at STUB_BASE + n) with any registers, so it can make
 * any call above with any arguments the checks let through; none reaches
 * the host beyond the stub's own address space:
 *   - no open, socket, exec, kill, ptrace or untraced clone is reachable;
 *   - memory calls cannot touch the stub region, so the stub code and the
 *     signal stacks stay where the sentry put them; the one call that maps
 *     over the slots maps a whole shared read-write region and needs an
 *     mmap-able fd in the stub's table (only fds in flight, see below): the
 *     application can so cut its own stub off from the sentry, which then
 *     sees no stops and kills it. Below the stub region the application
 *     can only do what it could already ask the sentry to do, except that
 *     the sentry's bookkeeping (/proc/PID/maps, RLIMIT_AS) no longer
 *     matches the host: the application lies only to itself;
 *   - recvmsg can take an fd in flight to its own stub (one the sentry is
 *     passing for an mmap of this same address space, or a forked child's
 *     channel and slots) into the stub's fd table, and dup2 can put it on
 *     fd 0; the stub can do nothing with it but mmap and close (no read,
 *     write, ioctl or sendmsg is allowed), the sentry only passes fds whose
 *     access mode the application already had, and the failed command
 *     fails the application's own mmap or fork;
 *   - exit ends one of its own stub threads, prctl only asks for a
 *     SIGKILL when the factory dies, and getppid tells the factory's host
 *     pid (which the stub data page holds anyway): the sentry sees the
 *     thread die like any other;
 *   - futex waits and wakes on slot words can stall or confuse its own
 *     stub threads, and any thread can write any slot of its address
 *     space: a forged resume makes another of its own threads run
 *     application code while the sentry believes it stopped, and its next
 *     trap reports to a slot nobody reads yet. The sentry treats all of it
 *     like any other misbehaving application: a stop that does not come
 *     after an interrupt gets the stub killed (systrap.c), and a stub
 *     thread that is not where a command left it at a clone stop gets the
 *     stub killed (clone.c). A sentry thread waiting for a command whose
 *     stub thread was sent elsewhere waits until that stub dies, as for
 *     every command;
 *   - rt_sigreturn with a forged frame sets the application's own
 *     registers, signal mask (blocking SIGSYS makes the next trap kill the
 *     stub; blocking the interrupt signal is handled as above), signal
 *     stack (the handler kills the stub if it finds itself elsewhere) or a
 *     32-bit code segment (killed by the architecture check).
 * The stub holds no fd but its channel, runs in fresh network, IPC and UTS
 * namespaces with no_new_privs, and dies with the factory (its forks too:
 * they are the factory's children, CLONE_PARENT, and set PR_SET_PDEATHSIG
 * again before they run application code). The tracing needs the host to
 * let the sentry ptrace its stubs (as the ptrace platform does); where it
 * does not, clone fails and fork and threads return an error on systrap. */
#include <errno.h>
#include <asm/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "platform/stub.h"
#include "platform/systrap/systrap_impl.h"

/* A tiny assembler: forward jumps to labels, resolved at the end. */
enum { MAX_INSNS = STUB_DATA_FILTER_MAX, MAX_LABELS = 32, NEXT = -1 };

struct bpf_asm {
	struct sock_filter f[MAX_INSNS];
	int jt[MAX_INSNS], jf[MAX_INSNS]; /* label or NEXT, for jumps */
	int at[MAX_LABELS];               /* instruction index of each label */
	unsigned n, nlabels;
	unsigned fixed; /* the first instructions come resolved already */
	bool overflow;
};

static int label(struct bpf_asm *a)
{
	if (a->nlabels == MAX_LABELS) {
		a->overflow = true;
		return 0;
	}
	a->at[a->nlabels] = -1;
	return (int)a->nlabels++;
}

static void here(struct bpf_asm *a, int l) { a->at[l] = (int)a->n; }

static void emit(struct bpf_asm *a, uint16_t code, uint32_t k, int jt, int jf)
{
	if (a->n == MAX_INSNS) {
		a->overflow = true;
		return;
	}
	a->f[a->n] = (struct sock_filter){.code = code, .k = k};
	a->jt[a->n] = jt;
	a->jf[a->n] = jf;
	a->n++;
}

#define ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define ARG_HI(i) (ARG_LO(i) + 4)

static void ld(struct bpf_asm *a, uint32_t off) { emit(a, BPF_LD | BPF_W | BPF_ABS, off, NEXT, NEXT); }
static void ld_mem(struct bpf_asm *a, uint32_t m) { emit(a, BPF_LD | BPF_MEM, m, NEXT, NEXT); }
static void ldx_mem(struct bpf_asm *a, uint32_t m) { emit(a, BPF_LDX | BPF_MEM, m, NEXT, NEXT); }
static void st(struct bpf_asm *a, uint32_t m) { emit(a, BPF_ST, m, NEXT, NEXT); }
static void add_x(struct bpf_asm *a) { emit(a, BPF_ALU | BPF_ADD | BPF_X, 0, NEXT, NEXT); }
static void add_k(struct bpf_asm *a, uint32_t k) { emit(a, BPF_ALU | BPF_ADD | BPF_K, k, NEXT, NEXT); }
static void ret(struct bpf_asm *a, uint32_t v) { emit(a, BPF_RET | BPF_K, v, NEXT, NEXT); }
static void jmp(struct bpf_asm *a, int l) { emit(a, BPF_JMP | BPF_JA, 0, l, NEXT); }
static void jeq(struct bpf_asm *a, uint32_t k, int t, int f) { emit(a, BPF_JMP | BPF_JEQ | BPF_K, k, t, f); }
static void jgt(struct bpf_asm *a, uint32_t k, int t, int f) { emit(a, BPF_JMP | BPF_JGT | BPF_K, k, t, f); }
static void jge(struct bpf_asm *a, uint32_t k, int t, int f) { emit(a, BPF_JMP | BPF_JGE | BPF_K, k, t, f); }
static void jge_x(struct bpf_asm *a, int t, int f) { emit(a, BPF_JMP | BPF_JGE | BPF_X, 0, t, f); }
static void jset(struct bpf_asm *a, uint32_t k, int t, int f) { emit(a, BPF_JMP | BPF_JSET | BPF_K, k, t, f); }

static int resolve(struct bpf_asm *a, struct sock_filter *out, unsigned cap)
{
	if (a->overflow || a->n > cap)
		return -E2BIG;
	for (unsigned i = 0; i < a->n; i++) {
		struct sock_filter *f = &a->f[i];
		int off[2] = {0, 0};
		if (i < a->fixed) {
			out[i] = *f;
			continue;
		}
		for (int k = 0; k < 2; k++) {
			int l = k ? a->jf[i] : a->jt[i];
			if (l == NEXT)
				continue;
			if (a->at[l] < 0 || a->at[l] <= (int)i)
				return -EINVAL; /* unplaced, or backwards */
			off[k] = a->at[l] - (int)i - 1;
		}
		if (BPF_CLASS(f->code) == BPF_JMP && BPF_OP(f->code) == BPF_JA) {
			f->k = (uint32_t)off[0];
		} else if (BPF_CLASS(f->code) == BPF_JMP) {
			if (off[0] > 255 || off[1] > 255)
				return -E2BIG;
			f->jt = (uint8_t)off[0];
			f->jf = (uint8_t)off[1];
		}
		out[i] = *f;
	}
	return (int)a->n;
}

/* Jumps to ok if [arg a, arg a + arg l) ends at or below STUB_BASE, to
 * kill if not (or if the sum wraps). 64-bit arithmetic on 32-bit halves:
 * M[0] lo(a), M[1] lo(end), M[2] hi(a) + carry. */
static void range_below_stub(struct bpf_asm *a, int ai, int li, int ok, int kill)
{
	const uint32_t top_hi = (uint32_t)(STUB_BASE >> 32);
	const uint32_t top_lo = (uint32_t)STUB_BASE;
	int carry = label(a), nocarry = label(a), sum = label(a), edge = label(a);

	/* Both below 2^47, so the high sum cannot wrap. */
	ld(a, ARG_HI(ai));
	jge(a, 0x8000, kill, NEXT);
	ld(a, ARG_HI(li));
	jge(a, 0x8000, kill, NEXT);
	ld(a, ARG_LO(ai));
	st(a, 0);
	ld(a, ARG_LO(li));
	ldx_mem(a, 0);
	add_x(a);
	st(a, 1);
	jge_x(a, nocarry, carry); /* lo(end) >= lo(a): no carry */
	here(a, carry);
	ld(a, ARG_HI(ai));
	add_k(a, 1);
	jmp(a, sum);
	here(a, nocarry);
	ld(a, ARG_HI(ai));
	here(a, sum);
	st(a, 2);
	ld(a, ARG_HI(li));
	ldx_mem(a, 2);
	add_x(a); /* A = hi(end) */
	jgt(a, top_hi, kill, NEXT);
	jeq(a, top_hi, edge, ok);
	here(a, edge);
	ld_mem(a, 1);
	jgt(a, top_lo, kill, ok);
}

int systrap_stub_filter(struct sock_filter *out, unsigned cap)
{
	static struct bpf_asm as; /* large; built once, at init */
	struct bpf_asm *a = &as;
	const uint64_t thread_ip = SYSTRAP_ADDR(systrap_clone_thread) + 2;
	const uint64_t fork_ip = SYSTRAP_ADDR(systrap_clone_fork) + 2;
	const uint32_t ip_lo = offsetof(struct seccomp_data, instruction_pointer);
	int l_kill, l_allow, l_futex, l_mmap, l_mremap, l_mremap_new, l_range01,
		l_recvmsg, l_close, l_arch_prctl, l_mmap_slots, l_clone, l_clone_thread,
		l_clone_fork, l_trace, l_dup2, l_close_range, l_prctl, l_membarrier;
	unsigned n;

	/* The prologue lets through only calls from the stub code page, so
	 * the high half of the instruction pointer is known. */
	_Static_assert(((STUB_BASE + STUB_CODE_SIZE - 1) >> 32) == (STUB_BASE >> 32),
		       "stub code must not straddle a 4 GiB boundary");
	_Static_assert((STUB_SLOTS >> 32) == ((STUB_SLOTS_END - 1) >> 32) &&
			       (STUB_SLOTS >> 32) == (STUB_BASE >> 32),
		       "the slots share the stub's 4 GiB window");

	memset(a, 0, sizeof(*a));
	l_kill = label(a);
	l_allow = label(a);
	l_futex = label(a);
	l_mmap = label(a);
	l_mremap = label(a);
	l_mremap_new = label(a);
	l_range01 = label(a);
	l_recvmsg = label(a);
	l_close = label(a);
	l_arch_prctl = label(a);
	l_mmap_slots = label(a);
	l_clone = label(a);
	l_clone_thread = label(a);
	l_clone_fork = label(a);
	l_trace = label(a);
	l_dup2 = label(a);
	l_close_range = label(a);
	l_prctl = label(a);
	l_membarrier = label(a);

	n = stub_filter_prologue(a->f, SECCOMP_RET_TRAP);
	a->n = a->fixed = n;

	ld(a, offsetof(struct seccomp_data, nr));
	jeq(a, __NR_rt_sigreturn, l_allow, NEXT);
	jeq(a, __NR_futex, l_futex, NEXT);
	jeq(a, __NR_mmap, l_mmap, NEXT);
	jeq(a, __NR_munmap, l_range01, NEXT);
	jeq(a, __NR_mprotect, l_range01, NEXT);
	jeq(a, __NR_madvise, l_range01, NEXT);
	jeq(a, __NR_mremap, l_mremap, NEXT);
	jeq(a, __NR_recvmsg, l_recvmsg, NEXT);
	jeq(a, __NR_close, l_close, NEXT);
	jeq(a, __NR_arch_prctl, l_arch_prctl, NEXT);
	jeq(a, __NR_clone, l_clone, NEXT);
	jeq(a, __NR_exit, l_allow, NEXT);
	jeq(a, __NR_dup2, l_dup2, NEXT);
	jeq(a, __NR_close_range, l_close_range, NEXT);
	jeq(a, __NR_prctl, l_prctl, NEXT);
	jeq(a, __NR_getppid, l_allow, NEXT);
	jeq(a, __NR_membarrier, l_membarrier, NEXT);
	jmp(a, l_kill);

	/* membarrier: only the core serialisation of syscall patching (and
	 * its registration), for this process's own threads. */
	here(a, l_membarrier);
	ld(a, ARG_LO(1));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(0));
	jeq(a, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, l_allow, NEXT);
	jeq(a, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, l_allow, l_kill);

	/* futex(uaddr in the slots, FUTEX_WAIT or FUTEX_WAKE, ...) */
	here(a, l_futex);
	ld(a, ARG_HI(0));
	jeq(a, (uint32_t)(STUB_SLOTS >> 32), NEXT, l_kill);
	ld(a, ARG_LO(0));
	jge(a, (uint32_t)STUB_SLOTS, NEXT, l_kill);
	jge(a, (uint32_t)STUB_SLOTS_END, l_kill, NEXT);
	ld(a, ARG_LO(1)); /* the op is an int */
	jeq(a, FUTEX_WAIT, l_allow, NEXT);
	jeq(a, FUTEX_WAKE, l_allow, l_kill);

	/* mmap: always at a fixed address (flags are an unsigned long). An
	 * address in the stub's 4 GiB window is at or above STUB_BASE: only
	 * the slots, exactly. */
	here(a, l_mmap);
	ld(a, ARG_HI(0));
	jeq(a, (uint32_t)(STUB_SLOTS >> 32), l_mmap_slots, NEXT);
	ld(a, ARG_HI(3));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(3));
	jset(a, MAP_FIXED, l_range01, l_kill);

	/* mremap: moves only to where the sentry says. */
	here(a, l_mremap);
	ld(a, ARG_HI(3));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(3));
	jset(a, MREMAP_FIXED, l_mremap_new, NEXT);
	jset(a, MREMAP_MAYMOVE, l_kill, l_range01);
	here(a, l_mremap_new);
	range_below_stub(a, 4, 2, l_range01, l_kill);

	here(a, l_range01);
	range_below_stub(a, 0, 1, l_allow, l_kill);

	/* recvmsg(STUB_CTRL_FD, ...): the fd is an int. */
	here(a, l_recvmsg);
	ld(a, ARG_LO(0));
	jeq(a, STUB_CTRL_FD, l_allow, l_kill);

	here(a, l_close);
	ld(a, ARG_LO(0));
	jeq(a, STUB_CTRL_FD, l_kill, l_allow);

	here(a, l_arch_prctl);
	ld(a, ARG_LO(0));
	jeq(a, ARCH_SET_FS, l_allow, NEXT);
	jeq(a, ARCH_SET_GS, l_allow, l_kill);

	here(a, l_mmap_slots);
	ld(a, ARG_LO(0));
	jeq(a, (uint32_t)STUB_SLOTS, NEXT, l_kill);
	ld(a, ARG_HI(1));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(1));
	jeq(a, (uint32_t)STUB_SLOTS_SIZE, NEXT, l_kill);
	ld(a, ARG_HI(2));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(2));
	jeq(a, PROT_READ | PROT_WRITE, NEXT, l_kill);
	ld(a, ARG_HI(3));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(3));
	jeq(a, MAP_SHARED | MAP_FIXED, NEXT, l_kill);
	ld(a, ARG_HI(5));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(5));
	jeq(a, 0, l_allow, l_kill);

	/* clone: from one of its two instructions, in one shape each. */
	here(a, l_clone);
	ld(a, ip_lo);
	jeq(a, (uint32_t)thread_ip, l_clone_thread, NEXT);
	jeq(a, (uint32_t)fork_ip, l_clone_fork, l_kill);
	here(a, l_clone_thread);
	ld(a, ARG_HI(0));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(0));
	jeq(a, SYSTRAP_THREAD_FLAGS, NEXT, l_kill);
	ld(a, ARG_HI(1)); /* the stack: in the slots, past a message page */
	jeq(a, (uint32_t)(STUB_SLOTS >> 32), NEXT, l_kill);
	ld(a, ARG_LO(1));
	jge(a, (uint32_t)(STUB_SLOTS + SLOT_STACK), NEXT, l_kill);
	jgt(a, (uint32_t)STUB_SLOTS_END, l_kill, l_trace);
	here(a, l_clone_fork);
	ld(a, ARG_HI(0));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(0));
	jeq(a, SYSTRAP_FORK_FLAGS, NEXT, l_kill);
	ld(a, ARG_HI(1));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(1));
	jeq(a, 0, l_trace, l_kill);

	/* dup2(any, STUB_CTRL_FD): the fds are unsigned ints. */
	here(a, l_dup2);
	ld(a, ARG_LO(1));
	jeq(a, STUB_CTRL_FD, l_allow, l_kill);

	/* close_range(first >= 1, any, no flags) keeps the channel. */
	here(a, l_close_range);
	ld(a, ARG_LO(2));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(0));
	jeq(a, STUB_CTRL_FD, l_kill, l_allow);

	/* prctl(PR_SET_PDEATHSIG, SIGKILL): the option is an int, the
	 * signal an unsigned long. */
	here(a, l_prctl);
	ld(a, ARG_LO(0));
	jeq(a, PR_SET_PDEATHSIG, NEXT, l_kill);
	ld(a, ARG_HI(1));
	jeq(a, 0, NEXT, l_kill);
	ld(a, ARG_LO(1));
	jeq(a, SIGKILL, l_allow, l_kill);

	here(a, l_trace);
	ret(a, SECCOMP_RET_TRACE);

	here(a, l_kill);
	ret(a, SECCOMP_RET_KILL_PROCESS);
	here(a, l_allow);
	ret(a, SECCOMP_RET_ALLOW);
	return resolve(a, out, cap);
}

/* What the factory and a newborn stub may do from the stub code, on top of
 * the stub filter's calls (which must be here too: the two stack). */
static const int factory_allowed[] = {
	__NR_munmap, __NR_recvmsg, __NR_mmap, __NR_fork, __NR_close, __NR_dup2,
	__NR_getpid, __NR_sigaltstack, __NR_rt_sigaction, __NR_prctl,
	__NR_seccomp, __NR_futex, __NR_rt_sigreturn, __NR_mprotect,
	__NR_mremap, __NR_madvise, __NR_arch_prctl,
	/* threads and forks of an address space, and the end of a thread */
	__NR_clone, __NR_exit, __NR_close_range, __NR_getppid,
	/* syscall patching: other threads see the rewritten code */
	__NR_membarrier,
};

int systrap_factory_filter(struct sock_fprog *prog)
{
	return stub_filter_build(factory_allowed,
				 sizeof(factory_allowed) / sizeof(factory_allowed[0]),
				 SECCOMP_RET_TRAP, prog);
}
