/* The x86-64 signal frame (sentry/kernel/sigframe.c): its layout against
 * the host C library's view of the same ABI (ucontext_t, mcontext_t's
 * gregs, siginfo_t), where frames go on the stack, and what
 * rt_sigreturn takes back from a frame the application may have
 * changed. */
#include "unit.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ucontext.h>

#include "sentry/kernel/sigframe.h"

#define GREG_OFF(i) (offsetof(ucontext_t, uc_mcontext.gregs) + (size_t)(i) * 8)
#define SC_OFF(f) (offsetof(struct k_ucontext, uc_mcontext) + offsetof(struct k_sigcontext, f))

UTest(sigframe, ucontext_matches_libc)
{
	cr_assert_eq(offsetof(struct k_ucontext, uc_flags), offsetof(ucontext_t, uc_flags));
	cr_assert_eq(offsetof(struct k_ucontext, uc_link), offsetof(ucontext_t, uc_link));
	cr_assert_eq(offsetof(struct k_ucontext, uc_stack), offsetof(ucontext_t, uc_stack));
	cr_assert_eq(offsetof(struct k_ucontext, uc_stack.ss_flags),
		     offsetof(ucontext_t, uc_stack.ss_flags));
	cr_assert_eq(offsetof(struct k_ucontext, uc_stack.ss_size),
		     offsetof(ucontext_t, uc_stack.ss_size));
	cr_assert_eq(offsetof(struct k_ucontext, uc_mcontext), offsetof(ucontext_t, uc_mcontext));
	cr_assert_eq(offsetof(struct k_ucontext, uc_sigmask), offsetof(ucontext_t, uc_sigmask));
}

UTest(sigframe, sigcontext_matches_gregs)
{
	static const struct {
		size_t off;
		int reg;
	} map[] = {
		{SC_OFF(r8), REG_R8},   {SC_OFF(r9), REG_R9},     {SC_OFF(r10), REG_R10},
		{SC_OFF(r11), REG_R11}, {SC_OFF(r12), REG_R12},   {SC_OFF(r13), REG_R13},
		{SC_OFF(r14), REG_R14}, {SC_OFF(r15), REG_R15},   {SC_OFF(rdi), REG_RDI},
		{SC_OFF(rsi), REG_RSI}, {SC_OFF(rbp), REG_RBP},   {SC_OFF(rbx), REG_RBX},
		{SC_OFF(rdx), REG_RDX}, {SC_OFF(rax), REG_RAX},   {SC_OFF(rcx), REG_RCX},
		{SC_OFF(rsp), REG_RSP}, {SC_OFF(rip), REG_RIP},   {SC_OFF(eflags), REG_EFL},
		{SC_OFF(cs), REG_CSGSFS}, {SC_OFF(err), REG_ERR}, {SC_OFF(trapno), REG_TRAPNO},
		{SC_OFF(oldmask), REG_OLDMASK}, {SC_OFF(cr2), REG_CR2},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		cr_assert_eq(map[i].off, GREG_OFF(map[i].reg), "gregs[%d] at %zu, ours at %zu",
			     map[i].reg, GREG_OFF(map[i].reg), map[i].off);
	/* fpregs follows the 23 gregs: the pointer unwinders follow. */
	cr_assert_eq(SC_OFF(fpstate), offsetof(ucontext_t, uc_mcontext.fpregs));
}

UTest(sigframe, rt_sigframe_layout)
{
	/* arch/x86/include/asm/sigframe.h: pretcode, then uc, then info;
	 * the handler's return address is at its stack pointer. */
	cr_assert_eq(offsetof(struct k_rt_sigframe, pretcode), 0);
	cr_assert_eq(offsetof(struct k_rt_sigframe, uc), 8);
	cr_assert_eq(offsetof(struct k_rt_sigframe, info), 8 + sizeof(struct k_ucontext));
	cr_assert_eq(sizeof(struct k_ucontext), 304);
	cr_assert_eq(sizeof(struct k_fpx_sw_bytes), 48);
}

UTest(sigframe, siginfo_matches_libc)
{
	cr_assert_eq(sizeof(struct k_siginfo), sizeof(siginfo_t));
	cr_assert_eq(offsetof(struct k_siginfo, si_signo), offsetof(siginfo_t, si_signo));
	cr_assert_eq(offsetof(struct k_siginfo, si_errno), offsetof(siginfo_t, si_errno));
	cr_assert_eq(offsetof(struct k_siginfo, si_code), offsetof(siginfo_t, si_code));
	cr_assert_eq(offsetof(struct k_siginfo, kill.pid), offsetof(siginfo_t, si_pid));
	cr_assert_eq(offsetof(struct k_siginfo, kill.uid), offsetof(siginfo_t, si_uid));
	cr_assert_eq(offsetof(struct k_siginfo, kill.value), offsetof(siginfo_t, si_value));
	cr_assert_eq(offsetof(struct k_siginfo, timer.tid), offsetof(siginfo_t, si_timerid));
	cr_assert_eq(offsetof(struct k_siginfo, timer.overrun), offsetof(siginfo_t, si_overrun));
	cr_assert_eq(offsetof(struct k_siginfo, chld.status), offsetof(siginfo_t, si_status));
	cr_assert_eq(offsetof(struct k_siginfo, chld.utime), offsetof(siginfo_t, si_utime));
	cr_assert_eq(offsetof(struct k_siginfo, chld.stime), offsetof(siginfo_t, si_stime));
	cr_assert_eq(offsetof(struct k_siginfo, fault.addr), offsetof(siginfo_t, si_addr));
	cr_assert_eq(offsetof(struct k_siginfo, fault.addr_lsb), offsetof(siginfo_t, si_addr_lsb));
	cr_assert_eq(offsetof(struct k_siginfo, poll.band), offsetof(siginfo_t, si_band));
	cr_assert_eq(offsetof(struct k_siginfo, poll.fd), offsetof(siginfo_t, si_fd));
	cr_assert_eq(offsetof(struct k_siginfo, sys.call_addr), offsetof(siginfo_t, si_call_addr));
	cr_assert_eq(offsetof(struct k_siginfo, sys.syscall), offsetof(siginfo_t, si_syscall));
	cr_assert_eq(offsetof(struct k_siginfo, sys.arch), offsetof(siginfo_t, si_arch));
}

/* Every register a distinct value, so a swapped pair shows. */
static void distinct_regs(struct user_regs_struct *r)
{
	uint64_t *w = (uint64_t *)r;
	for (size_t i = 0; i < sizeof(*r) / 8; i++)
		w[i] = 0x1000 + i * 0x111;
}

UTest(sigframe, fill_context_puts_each_register_in_its_greg)
{
	struct user_regs_struct r;
	struct k_sigcontext sc;
	const uint64_t *g = (const uint64_t *)&sc;

	distinct_regs(&r);
	memset(&sc, 0xa5, sizeof(sc));
	sigframe_fill_context(&r, &sc);
	cr_assert_eq(g[REG_R8], r.r8);
	cr_assert_eq(g[REG_R15], r.r15);
	cr_assert_eq(g[REG_RDI], r.rdi);
	cr_assert_eq(g[REG_RSI], r.rsi);
	cr_assert_eq(g[REG_RBP], r.rbp);
	cr_assert_eq(g[REG_RBX], r.rbx);
	cr_assert_eq(g[REG_RDX], r.rdx);
	cr_assert_eq(g[REG_RAX], r.rax);
	cr_assert_eq(g[REG_RCX], r.rcx);
	cr_assert_eq(g[REG_RSP], r.rsp);
	cr_assert_eq(g[REG_RIP], r.rip);
	cr_assert_eq(g[REG_EFL], r.eflags);
	cr_assert_eq(sc.cs, (uint16_t)r.cs);
	cr_assert_eq(sc.ss, (uint16_t)r.ss);
	/* Nothing of the sentry's leaks through the rest. */
	cr_assert_eq(sc.err, 0);
	cr_assert_eq(sc.cr2, 0);
	cr_assert_eq(sc.fpstate, 0);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(sc.reserved1[i], 0);
}

UTest(sigframe, restore_is_fill_context_reversed)
{
	struct user_regs_struct r, back;
	struct k_sigcontext sc;

	distinct_regs(&r);
	r.eflags = 0x246;
	r.cs = 0x33;
	r.ss = 0x2b;
	sigframe_fill_context(&r, &sc);
	memset(&back, 0, sizeof(back));
	back.eflags = 0x202;
	sigframe_restore_regs(&back, &sc);
	cr_assert_eq(back.r8, r.r8);
	cr_assert_eq(back.r11, r.r11);
	cr_assert_eq(back.rdi, r.rdi);
	cr_assert_eq(back.rax, r.rax);
	cr_assert_eq(back.rcx, r.rcx);
	cr_assert_eq(back.rsp, r.rsp);
	cr_assert_eq(back.rip, r.rip);
	cr_assert_eq(back.eflags, 0x246);
	cr_assert_eq(back.orig_rax, (uint64_t)-1, "a restored context never restarts a call");
}

UTest(sigframe, restore_takes_only_the_flags_a_handler_may_change)
{
	struct user_regs_struct r;
	struct k_sigcontext sc;

	memset(&sc, 0, sizeof(sc));
	memset(&r, 0, sizeof(r));
	r.eflags = 0x202; /* IF, and the reserved bit */
	/* IOPL 3, NT, VM, VIF, VIP, ID, and a clear IF: none of these. */
	sc.eflags = 0x3000 | 0x4000 | 0x20000 | 0x80000 | 0x100000 | 0x200000;
	sc.cs = 0x08; /* kernel code */
	sc.ss = 0x10;
	sigframe_restore_regs(&r, &sc);
	cr_assert_eq(r.eflags, 0x202);
	cr_assert_eq(r.cs, 0x33, "user code segment forced");
	cr_assert_eq(r.ss, 0x2b, "user stack segment forced");
	/* The arithmetic flags, DF, TF, AC and RF: taken. */
	sc.eflags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x800 | 0x400 | 0x100 | 0x40000 | 0x10000;
	sigframe_restore_regs(&r, &sc);
	cr_assert_eq(r.eflags, 0x202 | sc.eflags);
}

UTest(sigframe, placement_below_the_red_zone)
{
	static const size_t fpsizes[] = {0, 512 + 64, 832, 2696, 2440};
	uint64_t frame, fp;

	for (size_t i = 0; i < sizeof(fpsizes) / sizeof(fpsizes[0]); i++) {
		for (uint64_t sp = 0x7ffff000ULL - 64; sp < 0x7ffff000ULL; sp += 1) {
			size_t fs = fpsizes[i];
			sigframe_place(sp, false, 0, fs, &frame, &fp);
			cr_assert_eq((frame + 8) % 16, 0, "as after a call");
			cr_assert_leq(frame + sizeof(struct k_rt_sigframe), fs ? fp : sp - 128);
			if (fs) {
				cr_assert_eq(fp % 64, 0, "XSAVE wants 64-byte alignment");
				cr_assert_leq(fp + fs + 4, sp - 128, "the red zone is the code's");
				/* No more room than alignment needs. */
				cr_assert_gt(fp + fs + 4 + 64, sp - 128);
			} else {
				cr_assert_eq(fp, 0);
				cr_assert_gt(frame + sizeof(struct k_rt_sigframe) + 24, sp - 128);
			}
		}
	}
}

UTest(sigframe, placement_on_the_alternate_stack)
{
	const uint64_t alt = 0x10000000ULL, size = 8192, top = alt + size;
	uint64_t frame, fp;

	/* The interrupted sp does not matter there; no red zone. */
	sigframe_place(0x7ffe0000ULL, true, top, 832, &frame, &fp);
	cr_assert_eq((frame + 8) % 16, 0);
	cr_assert_eq(fp % 64, 0);
	cr_assert_geq(frame, alt);
	cr_assert_leq(fp + 832 + 4, top);
	cr_assert_gt(fp + 832 + 4 + 64, top);
	cr_assert_leq(frame + sizeof(struct k_rt_sigframe), fp);
	sigframe_place(0x7ffe0000ULL, true, top, 0, &frame, &fp);
	cr_assert_eq(fp, 0);
	cr_assert_leq(frame + sizeof(struct k_rt_sigframe), top);
	cr_assert_gt(frame + sizeof(struct k_rt_sigframe) + 24, top);
}
