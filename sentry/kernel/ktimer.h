/* Kernel timers: one sentry thread keeps every armed timer of the
 * sandbox (itimers, POSIX timers, timerfds) in a heap ordered by
 * CLOCK_MONOTONIC expiry, and sleeps on a condition variable until the
 * first is due. Timers on a process's CPU clock cannot be computed ahead
 * of time; they are sampled every KTIMER_CPU_POLL_NS while armed.
 *
 * Every ktimer field, and whatever state a fire callback touches, is
 * protected by the one ktimer lock; callbacks run with it held, so a
 * timer cancelled under the lock never fires afterwards.
 *
 * Lock order: ktimer lock -> kernel.lock -> thread_group.lock ->
 * waitq.lock -> task.block_lock. Nothing may call into ktimer holding a
 * lock that comes after it. */
#ifndef RC_SENTRY_KERNEL_KTIMER_H
#define RC_SENTRY_KERNEL_KTIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define KTIMER_CPU_POLL_NS 4000000ULL
/* Expiries further out than this are clamped (Linux's KTIME_MAX). */
#define KTIMER_FAR ((uint64_t)INT64_MAX)

struct ktimer;

/* Called under the ktimer lock with the number of expirations since the
 * last call (more than one when a periodic timer fell behind). When it
 * runs, a periodic timer is already re-armed and a one-shot disarmed. */
typedef void (*ktimer_fn)(struct ktimer *kt, uint64_t expirations);

struct ktimer {
	uint64_t when;       /* expiry on the timer's clock, 0: disarmed */
	uint64_t interval;   /* 0: one-shot */
	/* Expirations already due when armed (an absolute time in the
	 * past), counted in at the next one. */
	uint64_t missed;
	ktimer_fn fn;
	void *priv;
	/* CPU timers: the host CPU clock of the process's stub, sampled. */
	bool cpu;
	clockid_t host_clock;
	uint64_t last_cpu;   /* the clock when last sampled */
	size_t idx;          /* position in the heap or the CPU list */
};

void ktimer_init(struct ktimer *kt, ktimer_fn fn, void *priv);
/* A timer on a host CPU clock instead of CLOCK_MONOTONIC. */
void ktimer_init_cpu(struct ktimer *kt, ktimer_fn fn, void *priv, clockid_t host_clock);

void ktimer_lock(void);
void ktimer_unlock(void);

/* With the lock held. when is on the timer's clock (0 disarms);
 * returns -ENOMEM if the timer cannot be queued. */
int ktimer_arm_locked(struct ktimer *kt, uint64_t when, uint64_t interval);
void ktimer_cancel_locked(struct ktimer *kt);
/* Time left before the next expiry: 0 if disarmed, at least 1 if armed. */
uint64_t ktimer_remaining_locked(struct ktimer *kt);
/* The current value of the timer's clock (monotonic, or its CPU clock:
 * 0 if the clock cannot be read). */
uint64_t ktimer_now(struct ktimer *kt);

/* CLOCK_MONOTONIC now, and the sum a+b clamped to KTIMER_FAR. */
uint64_t ktimer_add(uint64_t a, uint64_t b);
/* A timespec as ns, clamped to KTIMER_FAR (assumed valid). */
uint64_t ktimer_ts_ns(int64_t sec, int64_t nsec);

#endif
