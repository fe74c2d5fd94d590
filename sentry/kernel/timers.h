/* A process's timers: the three itimers (alarm, setitimer) and POSIX
 * timers (timer_create). They hang off the thread group, are not
 * inherited by fork, POSIX timers go at exec, and all go at exit.
 *
 * ITIMER_REAL and POSIX timers on the wall, monotonic and boot clocks
 * run on CLOCK_MONOTONIC (an absolute CLOCK_REALTIME expiry is converted
 * when armed). ITIMER_VIRTUAL and ITIMER_PROF, and timers on the process
 * CPU clock, follow the CPU time of the process's stub on the host: the
 * clock CLOCK_PROCESS_CPUTIME_ID reads in the sandbox, so a timer never
 * fires before that much CPU time shows there. VIRTUAL counts the
 * stub's system time too (it makes few system calls of its own: the
 * sentry serves them). The clock is sampled every few milliseconds:
 * they fire late by up to that much. A thread CPU clock is approximated
 * by the process's. */
#ifndef RC_SENTRY_KERNEL_TIMERS_H
#define RC_SENTRY_KERNEL_TIMERS_H

#include <stdint.h>
#include <time.h>

#include "abi/linux.h"

struct task;
struct thread_group;

struct k_itimerspec {
	struct k_timespec it_interval;
	struct k_timespec it_value;
};

/* The kernel's struct sigevent (64 bytes). */
struct k_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};
_Static_assert(sizeof(struct k_sigevent) == 64, "sigevent is 64 bytes");

/* which: ITIMER_REAL/VIRTUAL/PROF. value/interval in ns (value 0
 * disarms); the old setting is returned through old_value and
 * old_interval when those are not NULL. */
int itimer_set(struct task *t, int which, uint64_t value, uint64_t interval,
	       uint64_t *old_value, uint64_t *old_interval);
int itimer_get(struct task *t, int which, uint64_t *value, uint64_t *interval);

/* timer_create: ev NULL means SIGEV_SIGNAL with SIGALRM and the timer id
 * as the value. Returns the new id or -errno. */
int ptimer_create(struct task *t, int clock, const struct k_sigevent *ev);
int ptimer_set(struct task *t, int id, int flags, const struct k_itimerspec *new,
	       struct k_itimerspec *old);
int ptimer_get(struct task *t, int id, struct k_itimerspec *cur);
int ptimer_getoverrun(struct task *t, int id);
int ptimer_delete(struct task *t, int id);

/* An application clock id as ktimer terms: 0 for a timer on
 * CLOCK_MONOTONIC (with *host the clock an absolute time is read on), 1
 * for a CPU clock (*host the host CPU clock), or -EINVAL/-EOPNOTSUPP. */
int timer_clock(struct task *t, int clock, clockid_t *host);
/* An absolute time on a host clock as a CLOCK_MONOTONIC expiry. One in
 * the past expires at once; with an interval, the periods that went by
 * since then are in *missed (for ktimer.missed). */
uint64_t timer_abs_to_mono(clockid_t host, uint64_t abs_ns, uint64_t interval,
			   uint64_t *missed);

/* exec: POSIX timers are deleted, CPU timers follow the new stub. */
void timers_exec(struct task *t);
/* The last thread of tg is exiting: every timer goes. */
void timers_exit_group(struct thread_group *tg);

#endif
