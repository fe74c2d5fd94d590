/* The kernel-layout signal frame of x86-64 (asm/sigframe.h, ucontext,
 * sigcontext), for sigframe.c and its unit tests. */
#ifndef RC_SENTRY_KERNEL_SIGFRAME_H
#define RC_SENTRY_KERNEL_SIGFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "sentry/kernel/signal.h"

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;       /* user address of the XSAVE area, or 0 */
	uint64_t reserved1[8];
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext is 256 bytes");

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags;
		int32_t pad;
		uint64_t ss_size;
	} uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;      /* sa_restorer: the handler returns there */
	struct k_ucontext uc;
	struct k_siginfo info;
};
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "rt_sigframe is 440 bytes");

/* The software-reserved bytes at offset 464 of the FXSAVE area. */
struct k_fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

/* The interrupted registers as the frame's sigcontext holds them. */
void sigframe_fill_context(const struct user_regs_struct *r, struct k_sigcontext *sc);
/* rt_sigreturn's half: registers back from a sigcontext, with only the
 * flags a handler may change taken from it and user segments forced. */
void sigframe_restore_regs(struct user_regs_struct *r, const struct k_sigcontext *sc);
/* Where a frame for an interrupted stack pointer sp goes: *frame for
 * the struct k_rt_sigframe, *fpaddr for fpsize bytes of XSAVE state and
 * the closing magic (0 when fpsize is 0). use_altstack: on the alternate
 * stack whose top is alt_top, else below sp's red zone. */
void sigframe_place(uint64_t sp, bool use_altstack, uint64_t alt_top, size_t fpsize,
		    uint64_t *frame, uint64_t *fpaddr);

#endif
