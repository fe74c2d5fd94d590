/* The x86-64 signal frame (struct rt_sigframe): building it on the
 * application's stack for a handler, and restoring from it at
 * rt_sigreturn, as arch/x86/kernel/signal.c does. The layout is the
 * kernel's ABI: glibc's ucontext_t and every unwinder read it. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "lib/util.h"
#include "sentry/kernel/sigframe.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define FP_XSTATE_MAGIC2_SIZE 4
#endif
#define REDZONE 128
#define USER_CS 0x33
#define USER_DS 0x2b
/* The flags a signal handler may change (FIX_EFLAGS). */
#define FIX_EFLAGS (0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000)
#define EFLAGS_TF 0x100
#define EFLAGS_DF 0x400
#define EFLAGS_RF 0x10000
#define SS_AUTODISARM (1U << 31)

/* The features XSAVE covers on this CPU (XCR0), what the kernel puts in
 * the frame's software bytes. */
static uint64_t xcr0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static bool on_altstack(const struct task *t, uint64_t sp)
{
	return t->sigaltstack_size && sp > t->sigaltstack_sp &&
	       sp - t->sigaltstack_sp <= t->sigaltstack_size;
}

void sigframe_fill_context(const struct user_regs_struct *r, struct k_sigcontext *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->r8 = r->r8; sc->r9 = r->r9; sc->r10 = r->r10; sc->r11 = r->r11;
	sc->r12 = r->r12; sc->r13 = r->r13; sc->r14 = r->r14; sc->r15 = r->r15;
	sc->rdi = r->rdi; sc->rsi = r->rsi; sc->rbp = r->rbp; sc->rbx = r->rbx;
	sc->rdx = r->rdx; sc->rax = r->rax; sc->rcx = r->rcx; sc->rsp = r->rsp;
	sc->rip = r->rip; sc->eflags = r->eflags;
	sc->cs = (uint16_t)r->cs;
	sc->ss = (uint16_t)r->ss;
}

void sigframe_place(uint64_t sp, bool use_altstack, uint64_t alt_top, size_t fpsize,
		    uint64_t *frame, uint64_t *fpaddr)
{
	/* The red zone below the interrupted code's stack pointer is its
	 * own (the ABI's 128 bytes); a fresh alternate stack has none. */
	sp = use_altstack ? alt_top : sp - REDZONE;
	*fpaddr = 0;
	if (fpsize) {
		sp -= fpsize + FP_XSTATE_MAGIC2_SIZE;
		sp &= ~63ULL; /* XSAVE needs 64-byte alignment */
		*fpaddr = sp;
	}
	sp -= sizeof(struct k_rt_sigframe);
	*frame = (sp & ~15ULL) - 8; /* as after a call: (rsp + 8) % 16 == 0 */
}

void sigframe_restore_regs(struct user_regs_struct *r, const struct k_sigcontext *sc)
{
	r->r8 = sc->r8; r->r9 = sc->r9; r->r10 = sc->r10; r->r11 = sc->r11;
	r->r12 = sc->r12; r->r13 = sc->r13; r->r14 = sc->r14; r->r15 = sc->r15;
	r->rdi = sc->rdi; r->rsi = sc->rsi; r->rbp = sc->rbp; r->rbx = sc->rbx;
	r->rdx = sc->rdx; r->rax = sc->rax; r->rcx = sc->rcx; r->rsp = sc->rsp;
	r->rip = sc->rip;
	r->eflags = (r->eflags & ~(uint64_t)FIX_EFLAGS) | (sc->eflags & FIX_EFLAGS);
	/* Never the application's choice: user code and stack segments. */
	r->cs = USER_CS;
	r->ss = USER_DS;
	r->orig_rax = (uint64_t)-1; /* no restart of what the handler interrupted */
}

int sigframe_setup(struct task *t, int sig, const struct k_siginfo *info,
		   const struct k_sigaction *act, uint64_t oldmask)
{
	struct user_regs_struct *r = &t->ctx->regs;
	size_t fpsize = platform_info.fpstate_size;
	struct k_rt_sigframe f;
	uint64_t sp = r->rsp, fpaddr, frame;
	uint8_t *fp = NULL;
	int ret;

	if (!(act->flags & K_SA_RESTORER))
		return -EFAULT; /* x86-64 handlers return through sa_restorer */
	if (!platform->ctx_get_fpstate)
		fpsize = 0; /* a platform without FPU access: no fpstate */
	if (fpsize) {
		fp = calloc(1, fpsize + FP_XSTATE_MAGIC2_SIZE);
		if (!fp)
			return -ENOMEM;
		ret = platform->ctx_get_fpstate(t->ctx, fp, fpsize);
		if (ret < 0) {
			free(fp);
			return ret;
		}
		/* The software bytes the kernel keeps in the FXSAVE area's
		 * reserved part, and the closing magic. */
		struct k_fpx_sw_bytes sw = {
			.magic1 = FP_XSTATE_MAGIC1,
			.extended_size = (uint32_t)(fpsize + FP_XSTATE_MAGIC2_SIZE),
			.xfeatures = xcr0(),
			.xstate_size = (uint32_t)fpsize,
		};
		memcpy(fp + 464, &sw, sizeof(sw));
		uint32_t m2 = FP_XSTATE_MAGIC2;
		memcpy(fp + fpsize, &m2, sizeof(m2));
	}
	/* Where the frame goes: the alternate stack if asked and not on it. */
	sigframe_place(sp, (act->flags & SA_ONSTACK) && t->sigaltstack_size && !on_altstack(t, sp),
		       t->sigaltstack_sp + t->sigaltstack_size, fpsize, &frame, &fpaddr);

	memset(&f, 0, sizeof(f));
	f.pretcode = act->restorer;
	f.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (fpaddr ? UC_FP_XSTATE : 0);
	f.uc.uc_stack.ss_sp = t->sigaltstack_sp;
	f.uc.uc_stack.ss_size = t->sigaltstack_size;
	f.uc.uc_stack.ss_flags = !t->sigaltstack_size ? SS_DISABLE
				 : on_altstack(t, r->rsp) ? SS_ONSTACK : 0;
	if (t->sigaltstack_flags & SS_AUTODISARM)
		f.uc.uc_stack.ss_flags |= (int32_t)SS_AUTODISARM;
	sigframe_fill_context(r, &f.uc.uc_mcontext);
	f.uc.uc_mcontext.oldmask = oldmask;
	f.uc.uc_mcontext.fpstate = fpaddr;
	f.uc.uc_sigmask = oldmask;
	if (act->flags & SA_SIGINFO)
		f.info = *info;
	f.info.si_signo = sig;

	if (!user_range_ok(frame, sizeof(f)) ||
	    (fp && copy_to_user(t, fpaddr, fp, fpsize + FP_XSTATE_MAGIC2_SIZE) < 0) ||
	    copy_to_user(t, frame, &f, sizeof(f)) < 0) {
		free(fp);
		return -EFAULT;
	}
	free(fp);
	/* An auto-disarming alternate stack is off while the handler runs. */
	if ((act->flags & SA_ONSTACK) && (t->sigaltstack_flags & SS_AUTODISARM)) {
		t->sigaltstack_sp = 0;
		t->sigaltstack_size = 0;
		t->sigaltstack_flags = 0;
	}
	r->rdi = (uint64_t)sig;
	r->rsi = frame + offsetof(struct k_rt_sigframe, info);
	r->rdx = frame + offsetof(struct k_rt_sigframe, uc);
	r->rax = 0;
	r->rsp = frame;
	r->rip = act->handler;
	r->eflags &= ~(uint64_t)(EFLAGS_DF | EFLAGS_TF | EFLAGS_RF);
	r->cs = USER_CS;
	r->ss = USER_DS;
	/* Handlers start with clean FPU state. */
	return platform->ctx_reset_fpstate(t->ctx);
}

long sigframe_restore(struct task *t)
{
	struct user_regs_struct *r = &t->ctx->regs;
	uint64_t frame = r->rsp - 8;
	size_t fpsize = platform_info.fpstate_size;
	struct k_rt_sigframe f;
	const struct k_sigcontext *sc = &f.uc.uc_mcontext;

	if (copy_from_user(t, &f, frame, sizeof(f)) < 0)
		return -EFAULT;
	sigframe_restore_regs(r, sc);

	pthread_mutex_lock(&t->tg->lock);
	t->sigmask = f.uc.uc_sigmask & ~KSIG_UNBLOCKABLE;
	pthread_mutex_unlock(&t->tg->lock);

	/* The alternate stack as the frame recorded it (errors ignored, as
	 * Linux's restore_altstack). */
	if (f.uc.uc_stack.ss_flags & SS_DISABLE) {
		t->sigaltstack_sp = t->sigaltstack_size = 0;
		t->sigaltstack_flags = 0;
	} else if (f.uc.uc_stack.ss_size >= 2048) {
		t->sigaltstack_sp = f.uc.uc_stack.ss_sp;
		t->sigaltstack_size = f.uc.uc_stack.ss_size;
		t->sigaltstack_flags = f.uc.uc_stack.ss_flags & (int32_t)SS_AUTODISARM;
	}

	if (!sc->fpstate || !fpsize || !platform->ctx_set_fpstate)
		return platform->ctx_reset_fpstate(t->ctx) < 0 ? -EFAULT : (long)r->rax;
	uint8_t *fp = malloc(fpsize);
	long ret = (long)r->rax;
	if (!fp)
		return -EFAULT;
	if (copy_from_user(t, fp, sc->fpstate, fpsize) < 0) {
		ret = -EFAULT;
	} else {
		/* The host checks the XSAVE header; a bad one is a bad frame. */
		if (platform->ctx_set_fpstate(t->ctx, fp, fpsize) < 0)
			ret = -EFAULT;
	}
	free(fp);
	return ret;
}
