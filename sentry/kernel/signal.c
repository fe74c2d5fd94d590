/* Signals, as far as the skeleton goes: dispositions are recorded by
 * rt_sigaction, and a signal whose action is the default one takes that
 * action (terminate, core, ignore). Running handlers needs the signal
 * frame (the processes-and-signals issue); until then such a signal stays
 * pending and is logged. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "abi/flags.h"
#include "lib/log.h"
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

/* Applies sig to tg; called with tg->lock held. */
static void apply_locked(struct thread_group *tg, int sig)
{
	const struct k_sigaction *act = &tg->actions[sig];
	enum sig_default d = default_action(sig);

	if (sig != SIGKILL && sig != SIGSTOP) {
		if (act->handler == (uint64_t)(uintptr_t)SIG_IGN)
			return;
		if (act->handler != (uint64_t)(uintptr_t)SIG_DFL) {
			tg->pending |= 1ULL << (sig - 1);
			log_warn("signal %s has a handler; handler delivery is not "
				 "implemented yet, left pending", abi_signal_name(sig));
			return;
		}
	}
	if (d == SD_IGN || d == SD_CONT || d == SD_STOP)
		return; /* job control stops arrive with the signals issue */
	if (!tg->exiting) {
		tg->exiting = true;
		tg->exit_status = sig | (d == SD_CORE ? 0x80 : 0);
	}
	for (struct task *t = tg->tasks; t; t = t->tg_next)
		task_kick(t);
}

int signal_send_group(struct thread_group *tg, int sig)
{
	if (sig < 0 || sig > KSIG_MAX)
		return -EINVAL;
	if (sig == 0)
		return 0;
	pthread_mutex_lock(&tg->lock);
	apply_locked(tg, sig);
	pthread_mutex_unlock(&tg->lock);
	return 0;
}

void signal_force_fault(struct task *t, const struct ctx_stop_info *info)
{
	struct thread_group *tg = t->tg;
	int sig = info->signo;

	log_debug("task %d: fault %s code %d at 0x%llx, rip 0x%llx", t->tid,
		  abi_signal_name(sig), info->code, (unsigned long long)info->addr,
		  (unsigned long long)t->ctx->regs.rip);
	pthread_mutex_lock(&tg->lock);
	/* A fault cannot be ignored or blocked: with no handler able to
	 * run, the default action applies. */
	if (!tg->exiting) {
		tg->exiting = true;
		tg->exit_status = sig | (default_action(sig) == SD_CORE ? 0x80 : 0);
	}
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		task_kick(x);
	pthread_mutex_unlock(&tg->lock);
}

bool task_interrupted(struct task *t)
{
	uint64_t pending = t->pending | t->tg->pending;
	return atomic_load(&t->exiting) || t->tg->exiting || (pending & ~t->sigmask);
}
