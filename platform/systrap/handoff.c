/* Passing the turn between a sentry thread and its stub thread through the
 * slot's state word: the side that waits spins for a while, then sleeps on
 * the word with FUTEX_WAIT after announcing it (SM_*_SLEEPING), so the
 * other side makes the FUTEX_WAKE call only when someone sleeps.
 *
 * Each side's store of the state and load of the other's flag are ordered
 * by a full barrier (xchg in the stub, seq_cst here), as is each side's
 * store of its own flag and reload of the state: one of the two always
 * sees the other, so no wakeup is lost.
 *
 * The spin policy, measured on the 2-core VM (getpid round trip, medians;
 * native 0.15 us; a seccomp trap to an in-process SIGSYS handler and back
 * 2.3 us, the floor for any signal-based trap here):
 *   no spin, both sides sleep                 50 us (a cross-CPU futex
 *                                             wakeup is an IPI, a VM exit)
 *   ... with the stub pinned to our CPU       8-24 us
 *   fixed spin of 2000 pause rounds (56 us)   2.5 us alone, 11 us with two
 *                                             sandboxes at once
 *   adaptive spin, up to 10 / 20 / 50 us      2.6-50 / 2.6 / 2.6-13 us
 *                                             alone; 8 / 5-8 / 8-13 us two
 *                                             at once
 *   ... switching to pinned sleeping when     6-13 us alone, 8-10 us two
 *       spins fail                            at once (a probe finds the
 *                                             stub queued on our CPU)
 *   ptrace, for comparison                    11-17 us alone, 10 us two
 * So: each side spins up to SPIN_US before it sleeps. Its budget halves
 * each time it had to sleep (the other side was busy or descheduled) and
 * is whole again when answered within it; from nothing, every
 * probe_every-th round spins in full to see whether spinning pays again,
 * and a probe that fails doubles the interval (up to PROBE_MAX), so a
 * context whose partner always takes long costs almost no spinning. The
 * threads are never pinned. */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "platform/systrap/systrap_impl.h"

unsigned systrap_spin_max;

/* How long a sleeping wait lasts before we look at the stub's health. */
#define WAIT_SLICE_NS 100000000L
/* Slices a stub may ignore a pending interrupt before it is killed: the
 * interrupt signal is delivered as soon as the stub thread runs, so only
 * a stub that has blocked it (a forged sigreturn frame) or stopped
 * waiting for us (forged slot words) reaches this. */
#define INTERRUPT_SLICES 30
/* Slices to wait for the birth of a stub. */
#define BIRTH_SLICES 100
#define PROBE_MIN 16
#define PROBE_MAX 1024

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

void systrap_post(struct systrap_slot *s)
{
	atomic_store_explicit((_Atomic uint32_t *)&s->state, SLOT_CMD, memory_order_seq_cst);
	if (atomic_load_explicit((_Atomic uint32_t *)&s->stub_sleeping, memory_order_seq_cst))
		futex(&s->state, FUTEX_WAKE, 1, NULL);
}

void systrap_post_resume(struct systrap_ctx *c, struct systrap_slot *s)
{
	/* The stub spun for our last answer unless it had gone to sleep. */
	bool slept = atomic_load_explicit((_Atomic uint32_t *)&s->stub_sleeping,
					  memory_order_relaxed);
	bool probe = false;

	c->stub_spin = slept ? c->round_stub_spin / 2 : systrap_spin_max;
	if (c->spin == 0 && c->stub_spin == 0) {
		if (c->probe_every < PROBE_MIN)
			c->probe_every = PROBE_MIN;
		probe = ++c->rounds % c->probe_every == 0;
	}
	c->probing = probe;
	c->round_spin = probe ? systrap_spin_max : c->spin;
	c->round_stub_spin = probe ? systrap_spin_max : c->stub_spin;
	s->spin = c->round_stub_spin;
	systrap_post(s);
}

static bool stopped(struct systrap_slot *s)
{
	return atomic_load_explicit((_Atomic uint32_t *)&s->state, memory_order_acquire) ==
	       SLOT_STOPPED;
}

int systrap_thread_alive(const struct systrap_thread *t)
{
	return systrap_thread_signal(t, 0) < 0 ? -ESRCH : 0;
}

int systrap_thread_signal(const struct systrap_thread *t, int sig)
{
	if (t->tpidfd >= 0)
		return syscall(SYS_pidfd_send_signal, t->tpidfd, sig, NULL, 0) < 0 ? -errno : 0;
	/* No thread pidfds (kernels before 6.9): tgkill, right after the
	 * process pidfd shows the pid still names our stub. Only a stub
	 * that died and whose pid the host gave a new process between the
	 * two calls could misdirect it. */
	if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	return syscall(SYS_tgkill, t->pid, t->tid, sig) < 0 ? -errno : 0;
}

static int alive(const struct systrap_thread *who)
{
	return who ? systrap_thread_alive(who) : systrap_factory_alive();
}

/* After a round's wait: keep spinning if it paid, else halve. */
static void adapt(struct systrap_ctx *c, bool answered)
{
	c->spin = answered ? systrap_spin_max : c->round_spin / 2;
	if (c->probing) {
		if (answered)
			c->probe_every = PROBE_MIN;
		else if (c->probe_every < PROBE_MAX)
			c->probe_every *= 2;
	}
}

int systrap_wait(struct systrap_ctx *c, struct systrap_slot *s,
		 const struct systrap_thread *who, bool app_running)
{
	const struct timespec slice = {0, WAIT_SLICE_NS};
	_Atomic uint32_t *sleeping = (_Atomic uint32_t *)&s->sentry_sleeping;
	/* A memory call in the stub takes microseconds: spin the most. A
	 * birth takes a fork: sleep. */
	unsigned spin = app_running ? c->round_spin : !who ? 0 : systrap_spin_max;
	unsigned ignored = 0, slices = 0;
	int ret = 0;

	for (unsigned i = 0; i < spin; i++) {
		if (stopped(s)) {
			if (app_running)
				adapt(c, true);
			return 0;
		}
		cpu_relax();
	}
	if (app_running)
		adapt(c, false);
	atomic_store_explicit(sleeping, 1, memory_order_seq_cst);
	for (;;) {
		uint32_t v = atomic_load_explicit((_Atomic uint32_t *)&s->state,
						  memory_order_seq_cst);
		if (v == SLOT_STOPPED)
			break;
		if (futex(&s->state, FUTEX_WAIT, v, &slice) == 0 || errno != ETIMEDOUT)
			continue;
		/* A slice passed with no stop. */
		if (alive(who) < 0) {
			ret = -ESRCH;
			break;
		}
		if (!who && ++slices >= BIRTH_SLICES) {
			ret = -ETIMEDOUT;
			break;
		}
		if (app_running && who && atomic_load(&c->interrupt)) {
			if (++ignored >= INTERRUPT_SLICES) {
				/* The whole stub: its threads are one application. */
				syscall(SYS_pidfd_send_signal, who->pidfd, SIGKILL, NULL, 0);
				ret = -ESRCH;
				break;
			}
			systrap_thread_signal(who, SYSTRAP_SIG_INTR);
		}
	}
	atomic_store_explicit(sleeping, 0, memory_order_relaxed);
	return ret;
}
