/* Signal dispositions, masks and sending. Handlers are recorded; running
 * them comes with the signal frame (see sentry/kernel/signal.c). */
#include <errno.h>
#include <signal.h>

#include "abi/linux.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define SIGBIT(s) (1ULL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

SYSCALL(rt_sigaction)
{
	int sig = (int)a[0];
	struct k_sigaction act, old;
	struct thread_group *tg = t->tg;

	if (a[3] != 8)
		return -EINVAL;
	if (sig < 1 || sig > KSIG_MAX)
		return -EINVAL;
	if (a[1]) {
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
		if (copy_from_user(t, &act, a[1], sizeof(act)) < 0)
			return -EFAULT;
		act.mask &= ~UNBLOCKABLE;
	}
	pthread_mutex_lock(&tg->lock);
	old = tg->actions[sig];
	if (a[1])
		tg->actions[sig] = act;
	pthread_mutex_unlock(&tg->lock);
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(rt_sigprocmask)
{
	uint64_t set, old = t->sigmask;

	if (a[3] != 8)
		return -EINVAL;
	if (a[1]) {
		if (copy_from_user(t, &set, a[1], sizeof(set)) < 0)
			return -EFAULT;
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
			return -EINVAL;
		}
		t->sigmask &= ~UNBLOCKABLE;
	}
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
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

	if (!t->sigaltstack_size)
		old.ss_flags = SS_DISABLE;
	if (a[0]) {
		if (copy_from_user(t, &ss, a[0], sizeof(ss)) < 0)
			return -EFAULT;
		int mode = ss.ss_flags & ~SS_AUTODISARM;
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
			t->sigaltstack_flags = ss.ss_flags & SS_AUTODISARM;
		}
	}
	if (a[1] && copy_to_user(t, a[1], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

/* Until fork exists a sandbox holds one process, pid 1, which leads its
 * process group and session: these are the targets there can be. */
static long send_group(int pid, int sig)
{
	struct thread_group *tg;
	long r;

	tg = kernel_find_group(pid);
	if (!tg)
		return -ESRCH;
	r = signal_send_group(tg, sig);
	thread_group_put(tg);
	return r;
}

SYSCALL(kill)
{
	int pid = (int)a[0], sig = (int)a[1];

	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	if (pid > 0)
		return send_group(pid, sig);
	if (pid == 0)
		return send_group(t->tg->pid, sig); /* our process group */
	if (pid == -1)
		return -ESRCH; /* all but init and ourselves: nobody */
	return -pid == 1 ? send_group(1, sig) : -ESRCH;
}

static long send_thread(int tgid, int tid, int sig)
{
	struct thread_group *tg;
	bool found = false;
	long r;

	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	/* A task's tid names its group while groups have one thread. */
	tg = kernel_find_group(tgid > 0 ? tgid : tid);
	if (!tg)
		return -ESRCH;
	pthread_mutex_lock(&tg->lock);
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		found |= x->tid == tid;
	pthread_mutex_unlock(&tg->lock);
	r = found ? signal_send_group(tg, sig) : -ESRCH;
	thread_group_put(tg);
	return r;
}

SYSCALL(tkill)
{
	(void)t;
	if ((int)a[0] <= 0)
		return -EINVAL;
	return send_thread(0, (int)a[0], (int)a[1]);
}

SYSCALL(tgkill)
{
	(void)t;
	if ((int)a[0] <= 0 || (int)a[1] <= 0)
		return -EINVAL;
	return send_thread((int)a[0], (int)a[1], (int)a[2]);
}
