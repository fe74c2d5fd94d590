/* Signal system calls: dispositions, masks, sending, waiting, and
 * rt_sigreturn. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "abi/errno_names.h"
#include "abi/linux.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define CAP_KILL 5

SYSCALL(rt_sigaction)
{
	int sig = (int)a[0];
	struct k_sigaction act, old;
	struct sighand *sh = t->tg->sighand;

	if (a[3] != 8)
		return -EINVAL;
	if (sig < 1 || sig > KSIG_MAX)
		return -EINVAL;
	if (a[1]) {
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
		if (copy_from_user(t, &act, a[1], sizeof(act)) < 0)
			return -EFAULT;
		act.mask &= ~KSIG_UNBLOCKABLE;
	}
	pthread_mutex_lock(&t->tg->lock);
	pthread_mutex_lock(&sh->lock);
	old = sh->actions[sig];
	if (a[1]) {
		sh->actions[sig] = act;
		/* Setting SIG_IGN (or SIG_DFL for a signal whose default is to
		 * ignore) discards it where it is pending (POSIX). */
		bool ign = act.handler == (uint64_t)(uintptr_t)SIG_IGN ||
			   (act.handler == (uint64_t)(uintptr_t)SIG_DFL &&
			    (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH));
		if (ign) {
			struct thread_group *tg = t->tg;
			struct k_siginfo tmp;
			while (tg->shared_pending.mask & KSIG_BIT(sig))
				signal_dequeue_from(&tg->shared_pending, sig, &tmp);
			for (struct task *x = tg->tasks; x; x = x->tg_next)
				while (x->pending.mask & KSIG_BIT(sig))
					signal_dequeue_from(&x->pending, sig, &tmp);
		}
	}
	pthread_mutex_unlock(&sh->lock);
	pthread_mutex_unlock(&t->tg->lock);
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigprocmask)
{
	uint64_t set, old;

	if (a[3] != 8)
		return -EINVAL;
	if (a[1] && copy_from_user(t, &set, a[1], sizeof(set)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&t->tg->lock);
	old = t->sigmask;
	if (a[1]) {
		switch ((int)a[0]) {
		case SIG_BLOCK:
			t->sigmask |= set;
			break;
		case SIG_UNBLOCK:
			t->sigmask &= ~set;
			break;
		case SIG_SETMASK:
			t->sigmask = set;
			break;
		default:
			pthread_mutex_unlock(&t->tg->lock);
			return -EINVAL;
		}
		t->sigmask &= ~KSIG_UNBLOCKABLE;
	}
	pthread_mutex_unlock(&t->tg->lock);
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigpending)
{
	uint64_t set;

	if (a[1] > 8)
		return -EINVAL;
	pthread_mutex_lock(&t->tg->lock);
	set = (t->pending.mask | t->tg->shared_pending.mask) & t->sigmask;
	pthread_mutex_unlock(&t->tg->lock);
	return copy_to_user(t, a[0], &set, a[1]);
}

struct k_stack_t {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

SYSCALL(sigaltstack)
{
	struct k_stack_t ss, old = {t->sigaltstack_sp, t->sigaltstack_flags, 0,
				    t->sigaltstack_size};
	uint64_t sp = t->ctx->regs.rsp;
	bool on = t->sigaltstack_size && sp > t->sigaltstack_sp &&
		  sp - t->sigaltstack_sp <= t->sigaltstack_size;

	if (!t->sigaltstack_size)
		old.ss_flags = SS_DISABLE;
	else if (on)
		old.ss_flags |= SS_ONSTACK;
	if (a[0]) {
		if (copy_from_user(t, &ss, a[0], sizeof(ss)) < 0)
			return -EFAULT;
		if (on)
			return -EPERM; /* cannot change the stack we run on */
		int mode = ss.ss_flags & ~(int32_t)SS_AUTODISARM;
		if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->sigaltstack_sp = 0;
			t->sigaltstack_size = 0;
			t->sigaltstack_flags = 0;
		} else {
			if (ss.ss_size < kernel.host_minsigstksz)
				return -ENOMEM;
			t->sigaltstack_sp = ss.ss_sp;
			t->sigaltstack_size = ss.ss_size;
			t->sigaltstack_flags = ss.ss_flags & (int32_t)SS_AUTODISARM;
		}
	}
	if (a[1] && copy_to_user(t, a[1], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigreturn)
{
	long r = sigframe_restore(t);

	if (r < 0 && r > -4096 && r == -EFAULT) {
		/* A frame the kernel would refuse: SIGSEGV. */
		struct k_siginfo si = {.si_signo = SIGSEGV, .si_code = K_SI_KERNEL};
		signal_force(t, SIGSEGV, &si);
		return -EFAULT;
	}
	t->regs_set = true; /* rax is the interrupted code's */
	return r;
}

/* Whether t may signal target (kill(2)'s permission rule). */
static bool may_signal(struct task *t, struct thread_group *target, int sig)
{
	const struct creds *c = &t->tg->creds, *tc = &target->creds;
	if (creds_capable(c, CAP_KILL))
		return true;
	if (c->euid == tc->ruid || c->euid == tc->suid || c->ruid == tc->ruid ||
	    c->ruid == tc->suid)
		return true;
	return sig == SIGCONT && t->tg->sid == target->sid;
}

static void user_info(struct task *t, int sig, int code, struct k_siginfo *info)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = sig;
	info->si_code = code;
	info->kill.pid = t->tg->pid;
	info->kill.uid = t->tg->creds.ruid;
}

/* Sends to every group matching (kernel.lock held by the caller). A
 * process group: 0 if any got it, else -EPERM if one was there, else
 * -ESRCH (__kill_pgrp_info). Everyone (kill -1) but init and ourselves:
 * 0 once anyone was there even if none could be signalled, else -ESRCH
 * (kill_something_info). Zombies count: they are there. */
static int send_many(struct task *t, int sig, const struct k_siginfo *info, int pgid, bool all)
{
	int sent = 0, denied = 0;

	for (int i = 0; i < kernel.ngroups; i++) {
		struct thread_group *tg = kernel.groups[i];
		if (tg->state == TG_DEAD)
			continue;
		if (all ? (tg->is_init || tg == t->tg) : tg->pgid != pgid)
			continue;
		if (!may_signal(t, tg, sig)) {
			denied++;
			continue;
		}
		sent++;
		if (sig && tg->state == TG_RUNNING)
			signal_send_tg(tg, sig, info);
	}
	if (all)
		return sent || denied ? 0 : -ESRCH;
	return sent ? 0 : denied ? -EPERM : -ESRCH;
}

SYSCALL(kill)
{
	int pid = (int)a[0], sig = (int)a[1];
	struct k_siginfo info;
	struct thread_group *tg;
	int r;

	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	user_info(t, sig, K_SI_USER, &info);
	pthread_mutex_lock(&kernel.lock);
	if (pid > 0) {
		tg = kernel_find_group_locked(pid);
		if (!tg || tg->state == TG_DEAD)
			r = -ESRCH;
		else if (!may_signal(t, tg, sig))
			r = -EPERM;
		else
			r = sig && tg->state == TG_RUNNING ? signal_send_tg(tg, sig, &info) : 0;
	} else if (pid == 0) {
		r = send_many(t, sig, &info, t->tg->pgid, false);
	} else if (pid == -1) {
		r = send_many(t, sig, &info, 0, true);
	} else if (pid == INT32_MIN) {
		r = -ESRCH;
	} else {
		r = send_many(t, sig, &info, -pid, false);
	}
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

static long send_thread(struct task *t, int tgid, int tid, int sig, struct k_siginfo *info)
{
	struct task *target;
	long r;

	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	pthread_mutex_lock(&kernel.lock);
	target = kernel_find_task_locked(tid);
	if (!target || (tgid > 0 && target->tg->pid != tgid))
		r = -ESRCH;
	else if (!may_signal(t, target->tg, sig))
		r = -EPERM;
	else
		r = sig ? signal_send_task(target, sig, info) : 0;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(tkill)
{
	struct k_siginfo info;
	if ((int)a[0] <= 0)
		return -EINVAL;
	user_info(t, (int)a[1], K_SI_TKILL, &info);
	return send_thread(t, 0, (int)a[0], (int)a[1], &info);
}

SYSCALL(tgkill)
{
	struct k_siginfo info;
	if ((int)a[0] <= 0 || (int)a[1] <= 0)
		return -EINVAL;
	user_info(t, (int)a[2], K_SI_TKILL, &info);
	return send_thread(t, (int)a[0], (int)a[1], (int)a[2], &info);
}

/* rt_sigqueueinfo and rt_tgsigqueueinfo: the caller's siginfo, which may
 * not pretend to come from the kernel or from kill(2). */
static int user_siginfo(struct task *t, uint64_t uinfo, int sig, struct k_siginfo *info)
{
	if (copy_from_user(t, info, uinfo, sizeof(*info)) < 0)
		return -EFAULT;
	if ((info->si_code >= 0 || info->si_code == K_SI_TKILL) && info->kill.pid != t->tg->pid)
		return -EPERM;
	info->si_signo = sig;
	return 0;
}

SYSCALL(rt_sigqueueinfo)
{
	struct k_siginfo info;
	struct thread_group *tg;
	int sig = (int)a[1], r;

	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	r = user_siginfo(t, a[2], sig, &info);
	if (r < 0)
		return r;
	pthread_mutex_lock(&kernel.lock);
	tg = kernel_find_group_locked((int)a[0]);
	if (!tg || tg->state != TG_RUNNING)
		r = -ESRCH;
	else if (!may_signal(t, tg, sig))
		r = -EPERM;
	else
		r = sig ? signal_send_tg(tg, sig, &info) : 0;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(rt_tgsigqueueinfo)
{
	struct k_siginfo info;
	int r;

	if ((int)a[0] <= 0 || (int)a[1] <= 0)
		return -EINVAL;
	r = user_siginfo(t, a[3], (int)a[2], &info);
	if (r < 0)
		return r;
	return send_thread(t, (int)a[0], (int)a[1], (int)a[2], &info);
}

/* Sleeps until a signal is delivered: pause, rt_sigsuspend. */
static long wait_for_signal(struct task *t)
{
	for (;;) {
		task_prepare_block(t);
		if (task_block(t, 0) == -EINTR)
			return -ERESTARTNOHAND;
	}
}

SYSCALL(pause) { return wait_for_signal(t); }

SYSCALL(rt_sigsuspend)
{
	uint64_t mask;

	if (a[1] != 8)
		return -EINVAL;
	if (copy_from_user(t, &mask, a[0], sizeof(mask)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&t->tg->lock);
	t->saved_mask = t->sigmask;
	t->restore_mask = true;
	t->sigmask = mask & ~KSIG_UNBLOCKABLE;
	pthread_mutex_unlock(&t->tg->lock);
	return wait_for_signal(t);
}

SYSCALL(rt_sigtimedwait)
{
	uint64_t set, deadline = 0;
	struct k_siginfo info;
	int sig = 0;

	if (a[3] != 8)
		return -EINVAL;
	if (copy_from_user(t, &set, a[0], sizeof(set)) < 0)
		return -EFAULT;
	set &= ~KSIG_UNBLOCKABLE;
	if (a[2]) {
		struct k_timespec ts;
		if (copy_from_user(t, &ts, a[2], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		deadline = monotonic_ns() + (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		if (!deadline)
			deadline = 1;
	}
	for (;;) {
		int r;
		pthread_mutex_lock(&t->tg->lock);
		sig = signal_dequeue(t, set, &info);
		if (!sig) {
			/* While waiting, the awaited signals are unblocked in
			 * effect: note them so a sender wakes us. */
			t->sigwait_set = set;
		}
		pthread_mutex_unlock(&t->tg->lock);
		if (sig)
			break;
		if (a[2] && deadline <= monotonic_ns() + 1) {
			t->sigwait_set = 0;
			return -EAGAIN;
		}
		task_prepare_block(t);
		r = task_block(t, deadline);
		t->sigwait_set = 0;
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r == -EINTR) {
			/* Maybe one of ours: look again before giving up. */
			pthread_mutex_lock(&t->tg->lock);
			sig = signal_dequeue(t, set, &info);
			pthread_mutex_unlock(&t->tg->lock);
			if (sig)
				break;
			return -EINTR;
		}
	}
	if (a[1] && copy_to_user(t, a[1], &info, sizeof(info)) < 0)
		return -EFAULT;
	return sig;
}

SYSCALL(restart_syscall)
{
	long (*fn)(struct task *) = t->restart_fn;
	t->restart_fn = NULL;
	return fn ? fn(t) : -EINTR;
}
