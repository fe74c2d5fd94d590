/* Signals: sending (queues, job control side effects, waking a thread
 * that will take it), and delivery before each return to the
 * application (restart rules, default actions, group stop, handlers). */
#include "sentry/kernel/signal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "abi/errno_names.h"
#include "abi/flags.h"
#include "lib/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/pgrp.h"
#include "sentry/kernel/task.h"

enum sig_default { SD_TERM, SD_CORE, SD_IGN, SD_STOP, SD_CONT };

static enum sig_default default_action(int sig)
{
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return SD_CORE;
	case SIGCHLD: case SIGURG: case SIGWINCH:
		return SD_IGN;
	case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		return SD_STOP;
	case SIGCONT:
		return SD_CONT;
	default:
		return SD_TERM;
	}
}

#define STOP_SIGS (KSIG_BIT(SIGSTOP) | KSIG_BIT(SIGTSTP) | KSIG_BIT(SIGTTIN) | KSIG_BIT(SIGTTOU))
#define SYNC_SIGS (KSIG_BIT(SIGSEGV) | KSIG_BIT(SIGBUS) | KSIG_BIT(SIGILL) | \
		   KSIG_BIT(SIGTRAP) | KSIG_BIT(SIGFPE) | KSIG_BIT(SIGSYS))

static void kick_handler(int sig) { (void)sig; }

void signal_init_sentry(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIG_KICK, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void sigpending_clear(struct sigpending *p)
{
	while (p->head) {
		struct sigqueue *q = p->head;
		p->head = q->next;
		free(q);
	}
	p->mask = 0;
}

/* Removes every queued instance of the signals in set. */
static void flush_sigs(struct sigpending *p, uint64_t set)
{
	p->mask &= ~set;
	for (struct sigqueue **pp = &p->head; *pp;) {
		if (set & KSIG_BIT((*pp)->info.si_signo)) {
			struct sigqueue *q = *pp;
			*pp = q->next;
			free(q);
		} else {
			pp = &(*pp)->next;
		}
	}
}

static bool handler_is(const struct k_sigaction *a, void *h)
{
	return a->handler == (uint64_t)(uintptr_t)h;
}

/* Whether sig would be thrown away on arrival (tg->lock held). */
static bool ignored(struct thread_group *tg, int sig)
{
	const struct k_sigaction *a = &tg->sighand->actions[sig];
	if (sig == SIGKILL || sig == SIGSTOP)
		return false;
	if (handler_is(a, SIG_IGN))
		return true;
	return handler_is(a, SIG_DFL) && default_action(sig) == SD_IGN;
}

/* Tells the parent a child stopped or continued (tg->lock held). */
static void notify_parent_jobctl(struct thread_group *tg, int why)
{
	struct thread_group *p = tg->parent;
	struct k_siginfo info;

	if (!p)
		return;
	waitq_wake(&p->child_wq, 0);
	/* SA_NOCLDSTOP silences both reports. */
	if (p->sighand->actions[SIGCHLD].flags & SA_NOCLDSTOP)
		return;
	memset(&info, 0, sizeof(info));
	info.si_signo = SIGCHLD;
	info.si_code = why;
	info.chld.pid = tg->pid;
	info.chld.uid = tg->creds.ruid;
	info.chld.status = why == CLD_CONTINUED ? SIGCONT : tg->stop_sig;
	signal_send_tg(p, SIGCHLD, &info);
}

/* Picks a thread to take a group signal and wakes it: one that does not
 * block it, as Linux's complete_signal does; all of them for a fatal
 * signal (tg->lock held). */
static void wake_for(struct thread_group *tg, int sig, bool fatal)
{
	for (struct task *t = tg->tasks; t; t = t->tg_next) {
		if (fatal || !(t->sigmask & KSIG_BIT(sig)) || (t->sigwait_set & KSIG_BIT(sig))) {
			task_kick(t);
			if (!fatal)
				return;
		}
	}
}

static bool init_protected(struct thread_group *tg, int sig, const struct k_siginfo *info);

/* The wait(2) status of a group that sig kills: the core flag only where
 * Linux would write a core (a core-dumping signal, a dumpable process and
 * a non-zero RLIMIT_CORE); tg->lock held. */
static int death_status(struct thread_group *tg, int sig)
{
	bool core = default_action(sig) == SD_CORE && tg->dumpable &&
		    tg->rlimits[RLIMIT_CORE].cur != 0;
	return sig | (core ? 0x80 : 0);
}

/* The thread whose mask decides whether a process-directed signal is
 * blocked, as Linux looks at the task the pid names: the leader while it
 * lives, else any (tg->lock held). */
static struct task *group_leader(struct thread_group *tg)
{
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		if (x->tid == tg->pid)
			return x;
	return tg->tasks;
}

/* Whether sig, arriving now, kills the group: default action terminate,
 * and some thread that can take it does not block it (tg->lock held). A
 * stopped group takes nothing but SIGKILL until it continues (Linux's
 * wants_signal), so the signal waits in the queue. */
static bool fatal_now(struct thread_group *tg, struct task *t, int sig,
		      const struct k_siginfo *info)
{
	const struct k_sigaction *a = &tg->sighand->actions[sig];
	enum sig_default d = default_action(sig);
	struct k_siginfo none = {.si_code = K_SI_KERNEL};

	if (!handler_is(a, SIG_DFL) || (d != SD_TERM && d != SD_CORE))
		return false;
	if (tg->stopped)
		return false;
	if (init_protected(tg, sig, info ? info : &none))
		return false;
	if (t)
		return !(t->sigmask & KSIG_BIT(sig)) && !(t->sigwait_set & KSIG_BIT(sig));
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		if (!(x->sigmask & KSIG_BIT(sig)) && !(x->sigwait_set & KSIG_BIT(sig)))
			return true;
	return false;
}

/* The common part of sending; tg->lock held. t NULL: to the group. */
static int send_locked(struct thread_group *tg, struct task *t, int sig,
		       const struct k_siginfo *info)
{
	struct sigpending *pend = t ? &t->pending : &tg->shared_pending;
	struct task *target = t ? t : group_leader(tg);
	/* A blocked signal is queued even if ignored: the handler may
	 * change before it is unblocked (Linux's sig_ignored). */
	bool blocked = target && (target->sigmask & KSIG_BIT(sig));

	/* A signal to the group is not ignored while its leader blocks it
	 * (Linux's sig_ignored looks at the thread kill(2) names): it may
	 * be waited for (sigtimedwait, signalfd) or handled later. */
	for (struct task *x = t ? NULL : tg->tasks; x; x = x->tg_next)
		if (x->tid == tg->pid)
			blocked = x->sigmask & KSIG_BIT(sig);

	if (tg->state != TG_RUNNING || tg->exiting)
		return 0;
	/* Job control acts at sending time (prepare_signal). */
	if (sig == SIGCONT) {
		flush_sigs(&tg->shared_pending, STOP_SIGS);
		for (struct task *x = tg->tasks; x; x = x->tg_next)
			flush_sigs(&x->pending, STOP_SIGS);
		if (tg->stopped) {
			tg->stopped = false;
			tg->report_cont = true;
			tg->report_stop = false;
			notify_parent_jobctl(tg, CLD_CONTINUED);
			for (struct task *x = tg->tasks; x; x = x->tg_next)
				task_kick(x);
		}
	} else if (STOP_SIGS & KSIG_BIT(sig)) {
		flush_sigs(&tg->shared_pending, KSIG_BIT(SIGCONT));
		for (struct task *x = tg->tasks; x; x = x->tg_next)
			flush_sigs(&x->pending, KSIG_BIT(SIGCONT));
	}
	if (sig == SIGKILL) {
		/* Nothing catches or blocks it: the group ends now. */
		tg->exiting = true;
		tg->exit_status = SIGKILL;
		tg->stopped = false;
		for (struct task *x = tg->tasks; x; x = x->tg_next)
			task_kick(x);
		return 0;
	}
	if (!blocked && ignored(tg, sig))
		return 0;
	/* A signal that will kill takes the whole group at once, as Linux's
	 * complete_signal does: no thread needs to reach delivery first. */
	if (fatal_now(tg, t, sig, info)) {
		tg->exiting = true;
		tg->exit_status = death_status(tg, sig);
		tg->stopped = false;
		for (struct task *x = tg->tasks; x; x = x->tg_next)
			task_kick(x);
		return 0;
	}
	if (sig < KSIG_RTMIN && (pend->mask & KSIG_BIT(sig)))
		return 0; /* a standard signal queues once */
	struct sigqueue *q = calloc(1, sizeof(*q));
	if (q) {
		if (info)
			q->info = *info;
		else {
			q->info.si_code = K_SI_KERNEL;
		}
		q->info.si_signo = sig;
		struct sigqueue **pp = &pend->head;
		while (*pp)
			pp = &(*pp)->next;
		*pp = q;
	} else if (sig >= KSIG_RTMIN) {
		return -EAGAIN;
	}
	pend->mask |= KSIG_BIT(sig);
	if (t)
		task_kick(t);
	else
		wake_for(tg, sig, false);
	waitq_wake(&tg->signal_wq, (uint32_t)sig);
	return 0;
}

int signal_send_task(struct task *t, int sig, const struct k_siginfo *info)
{
	int r;
	if (sig <= 0 || sig > KSIG_MAX)
		return -EINVAL;
	pthread_mutex_lock(&t->tg->lock);
	r = send_locked(t->tg, t, sig, info);
	pthread_mutex_unlock(&t->tg->lock);
	return r;
}

int signal_send_tg(struct thread_group *tg, int sig, const struct k_siginfo *info)
{
	int r;
	if (sig <= 0 || sig > KSIG_MAX)
		return -EINVAL;
	pthread_mutex_lock(&tg->lock);
	r = send_locked(tg, NULL, sig, info);
	pthread_mutex_unlock(&tg->lock);
	return r;
}

int signal_send_group(struct thread_group *tg, int sig)
{
	struct k_siginfo info;

	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	if (sig == 0)
		return 0;
	/* From outside the sandbox (the control channel): no sender. */
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = K_SI_USER;
	if (current) {
		info.kill.pid = current->tg->pid;
		info.kill.uid = current->tg->creds.ruid;
	}
	return signal_send_tg(tg, sig, &info);
}

void signal_force(struct task *t, int sig, const struct k_siginfo *info)
{
	struct thread_group *tg = t->tg;
	struct k_sigaction *a;

	pthread_mutex_lock(&tg->lock);
	pthread_mutex_lock(&tg->sighand->lock);
	a = &tg->sighand->actions[sig];
	/* A blocked or ignored fault cannot be survived: take the default. */
	if ((t->sigmask & KSIG_BIT(sig)) || handler_is(a, SIG_IGN)) {
		a->handler = (uint64_t)(uintptr_t)SIG_DFL;
		t->sigmask &= ~KSIG_BIT(sig);
	}
	pthread_mutex_unlock(&tg->sighand->lock);
	/* A fault replaces whatever of the same signal waits. */
	flush_sigs(&t->pending, KSIG_BIT(sig));
	send_locked(tg, t, sig, info);
	pthread_mutex_unlock(&tg->lock);
}

void signal_force_fault(struct task *t, const struct ctx_stop_info *fi)
{
	struct k_siginfo info;

	memset(&info, 0, sizeof(info));
	info.si_signo = fi->signo;
	info.si_code = fi->code;
	info.fault.addr = fi->addr;
	log_debug("task %d: fault %s code %d at 0x%llx, rip 0x%llx", t->tid,
		  abi_signal_name(fi->signo), fi->code, (unsigned long long)fi->addr,
		  (unsigned long long)t->ctx->regs.rip);
	signal_force(t, fi->signo, &info);
}

bool task_interrupted(struct task *t)
{
	uint64_t pending = t->pending.mask | t->tg->shared_pending.mask;
	return atomic_load(&t->exiting) || t->tg->exiting ||
	       (pending & (~t->sigmask | t->sigwait_set)) || (t->tg->stopped);
}

/* Takes one queued signal out of p (tg->lock held). */
static int take(struct sigpending *p, int sig, struct k_siginfo *info)
{
	bool more = false;
	struct sigqueue **found = NULL;

	for (struct sigqueue **pp = &p->head; *pp; pp = &(*pp)->next) {
		if ((*pp)->info.si_signo != sig)
			continue;
		if (found) {
			more = true;
			break;
		}
		found = pp;
	}
	if (found) {
		struct sigqueue *q = *found;
		*info = q->info;
		*found = q->next;
		free(q);
	} else {
		/* Queueing failed for lack of memory: the bit alone. */
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = K_SI_KERNEL;
	}
	if (!more)
		p->mask &= ~KSIG_BIT(sig);
	return sig;
}

/* The lowest signal in set, synchronous faults first. */
static int pick(uint64_t set)
{
	uint64_t sync = set & SYNC_SIGS;
	if (sync)
		set = sync;
	return set ? __builtin_ctzll(set) + 1 : 0;
}

int signal_dequeue_from(struct sigpending *p, int sig, struct k_siginfo *info)
{
	return take(p, sig, info);
}

int signal_dequeue(struct task *t, uint64_t wanted, struct k_siginfo *info)
{
	uint64_t own = t->pending.mask & wanted, shared = t->tg->shared_pending.mask & wanted;
	if (own)
		return take(&t->pending, pick(own), info);
	if (shared)
		return take(&t->tg->shared_pending, pick(shared), info);
	return 0;
}

/* Restart a system call that a signal interrupted: back over the
 * syscall instruction, with the call number again. */
static void restart_call(struct task *t, long nr)
{
	struct user_regs_struct *r = &t->ctx->regs;
	r->rax = (uint64_t)nr;
	r->rip -= 2;
}

/* Applies the restart rule to the last call's result. handler: whether a
 * handler is about to run, and with which flags. */
static void fix_restart(struct task *t, bool handler, uint64_t sa_flags)
{
	long ret = t->sc_ret;
	struct user_regs_struct *r = &t->ctx->regs;

	if (ret != -ERESTARTSYS && ret != -ERESTARTNOINTR && ret != -ERESTARTNOHAND &&
	    ret != -ERESTART_RESTARTBLOCK)
		return;
	t->sc_ret = 0;
	if (handler) {
		if (ret == -ERESTARTNOINTR || (ret == -ERESTARTSYS && (sa_flags & SA_RESTART)))
			restart_call(t, t->sc_nr);
		else
			r->rax = (uint64_t)-EINTR;
		return;
	}
	if (ret == -ERESTART_RESTARTBLOCK)
		restart_call(t, __NR_restart_syscall);
	else
		restart_call(t, t->sc_nr);
}

/* Parks the task while its group is stopped. false: it must exit. */
static bool park_while_stopped(struct task *t)
{
	struct thread_group *tg = t->tg;

	while (tg->stopped && !tg->exiting && !atomic_load(&t->exiting)) {
		task_prepare_block(t);
		pthread_mutex_unlock(&tg->lock);
		task_block(t, 0);
		pthread_mutex_lock(&tg->lock);
	}
	return !(tg->exiting || atomic_load(&t->exiting));
}

/* Whether pid 1 of the sandbox drops sig: as Linux's init (and a
 * container's first process under runc), it takes no default action for
 * signals sent from inside its namespace, except the uncatchable ones.
 * Only containers ask for this (cfg.init_protect): a command wrapped by
 * `runsc-c run` behaves as it does outside, where it is not init. */
static bool init_protected(struct thread_group *tg, int sig, const struct k_siginfo *info)
{
	if (!kernel.cfg.init_protect || !tg->is_init || sig == SIGKILL || sig == SIGSTOP)
		return false;
	if (info->si_code > 0)
		return false; /* from the kernel: faults kill init too */
	return info->kill.pid != 0;
}

bool signal_deliver(struct task *t)
{
	struct thread_group *tg = t->tg;
	bool handled = false;

	pthread_mutex_lock(&tg->lock);
	for (;;) {
		struct k_siginfo info;
		struct k_sigaction act;
		uint64_t deliverable;
		int sig;

		if (!park_while_stopped(t))
			goto exit;
		deliverable = (t->pending.mask | tg->shared_pending.mask) & ~t->sigmask;
		if (!deliverable)
			break;
		sig = signal_dequeue(t, KSIG_BIT(pick(deliverable)), &info);
		if (!sig)
			break;
		pthread_mutex_lock(&tg->sighand->lock);
		act = tg->sighand->actions[sig];
		pthread_mutex_unlock(&tg->sighand->lock);
		if (handler_is(&act, SIG_IGN))
			continue;
		if (handler_is(&act, SIG_DFL)) {
			enum sig_default d = default_action(sig);
			if (d == SD_IGN || d == SD_CONT || init_protected(tg, sig, &info))
				continue;
			if (d == SD_STOP && sig != SIGSTOP) {
				/* Terminal stops are dropped in an orphaned
				 * process group: nobody is left to continue it.
				 * The tree is under kernel.lock, which comes
				 * first. */
				bool orphaned;
				pthread_mutex_unlock(&tg->lock);
				pthread_mutex_lock(&kernel.lock);
				orphaned = pgrp_orphaned_locked(tg->pgid, NULL);
				pthread_mutex_unlock(&kernel.lock);
				pthread_mutex_lock(&tg->lock);
				if (orphaned || tg->exiting)
					continue;
			}
			if (d == SD_STOP) {
				tg->stopped = true;
				tg->stop_sig = sig;
				tg->report_stop = true;
				tg->report_cont = false;
				notify_parent_jobctl(tg, CLD_STOPPED);
				for (struct task *x = tg->tasks; x; x = x->tg_next)
					if (x != t)
						task_kick(x);
				continue; /* parks at the top of the loop */
			}
			/* Terminate, with a core flag where Linux would dump. */
			if (!tg->exiting) {
				tg->exiting = true;
				tg->exit_status = death_status(tg, sig);
			}
			for (struct task *x = tg->tasks; x; x = x->tg_next)
				if (x != t)
					task_kick(x);
			goto exit;
		}
		/* A handler. */
		fix_restart(t, true, act.flags);
		uint64_t oldmask = t->restore_mask ? t->saved_mask : t->sigmask;
		t->restore_mask = false;
		pthread_mutex_unlock(&tg->lock);
		int r = sigframe_setup(t, sig, &info, &act, oldmask);
		pthread_mutex_lock(&tg->lock);
		if (r < 0) {
			/* No room for the frame: SIGSEGV, taken by default. */
			struct k_siginfo si = {.si_signo = SIGSEGV, .si_code = K_SI_KERNEL};
			pthread_mutex_unlock(&tg->lock);
			signal_force(t, SIGSEGV, &si);
			pthread_mutex_lock(&tg->sighand->lock);
			tg->sighand->actions[SIGSEGV].handler = (uint64_t)(uintptr_t)SIG_DFL;
			pthread_mutex_unlock(&tg->sighand->lock);
			pthread_mutex_lock(&tg->lock);
			continue;
		}
		handled = true;
		t->sigmask |= act.mask | ((act.flags & SA_NODEFER) ? 0 : KSIG_BIT(sig));
		t->sigmask &= ~KSIG_UNBLOCKABLE;
		if (act.flags & SA_RESETHAND) {
			pthread_mutex_lock(&tg->sighand->lock);
			tg->sighand->actions[sig].handler = (uint64_t)(uintptr_t)SIG_DFL;
			tg->sighand->actions[sig].flags &= ~(uint64_t)SA_SIGINFO;
			pthread_mutex_unlock(&tg->sighand->lock);
		}
	}
	if (!handled)
		fix_restart(t, false, 0);
	if (t->restore_mask && !handled) {
		/* sigsuspend and friends returned without a handler running. */
		t->sigmask = t->saved_mask;
		t->restore_mask = false;
	}
	t->sc_ret = 0;
	pthread_mutex_unlock(&tg->lock);
	return true;
exit:
	pthread_mutex_unlock(&tg->lock);
	return false;
}

void signal_reset_on_exec(struct task *t)
{
	struct sighand *sh = t->tg->sighand;

	pthread_mutex_lock(&sh->lock);
	for (int s = 1; s <= KSIG_MAX; s++) {
		struct k_sigaction *a = &sh->actions[s];
		if (!handler_is(a, SIG_IGN) && !handler_is(a, SIG_DFL))
			memset(a, 0, sizeof(*a));
	}
	pthread_mutex_unlock(&sh->lock);
	t->sigaltstack_sp = 0;
	t->sigaltstack_size = 0;
	t->sigaltstack_flags = 0;
}
