/* Clocks. The application's vDSO answers most clock reads without
 * trapping; these handlers serve the rest and must agree with it, so the
 * wall and monotonic clocks are the host's. CPU-time clocks are the
 * stub's (the time the application itself ran). */
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "abi/linux.h"
#include "abi/errno_names.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_SCHED 2
#define MAKE_CPUCLOCK(pid, flags) ((clockid_t)((~(unsigned)(pid)) << 3) | (flags))

/* The host lets a thread's CPU clock be read only from its own thread
 * group, which the sentry is not in. A stub thread that leads its stub
 * process, for a thread group of one task, is all that runs there: its
 * clock is the stub's process clock, which the sentry may read. */
static long thread_clock(struct task *t, pid_t hpid, pid_t htid, int type,
			 clockid_t *out)
{
	if (htid != hpid || t->tg->nr_tasks != 1)
		return -EINVAL; /* needs the clock read inside the stub */
	*out = MAKE_CPUCLOCK(hpid, type);
	return 0;
}

/* Maps an application clock id to a host one, or -EINVAL. */
static long host_clock(struct task *t, int clk, clockid_t *out)
{
	pid_t hpid = platform->as_host_pid(t->mm->as);
	pid_t htid = platform->ctx_host_tid(t->ctx);

	switch (clk) {
	case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME: case CLOCK_TAI:
		*out = clk;
		return 0;
	case CLOCK_REALTIME_ALARM:
		*out = CLOCK_REALTIME;
		return 0;
	case CLOCK_BOOTTIME_ALARM:
		*out = CLOCK_BOOTTIME;
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
		*out = MAKE_CPUCLOCK(hpid, CPUCLOCK_SCHED);
		return 0;
	case CLOCK_THREAD_CPUTIME_ID:
		return thread_clock(t, hpid, htid, CPUCLOCK_SCHED, out);
	}
	if (clk < 0) {
		/* A CPU clock of a pid or tid: only our own, for now. The pid
		 * is in the high bits, inverted (an arithmetic shift, as in
		 * Linux's CPUCLOCK_PID). */
		int pid = ~(clk >> 3);
		int type = clk & 3, thread = clk & CPUCLOCK_PERTHREAD;
		if (type == 3)
			return -EINVAL;
		if (pid != 0 && pid != (thread ? t->tid : t->tg->pid))
			return -EINVAL;
		if (thread)
			return thread_clock(t, hpid, htid, type, out);
		*out = MAKE_CPUCLOCK(hpid, type);
		return 0;
	}
	return -EINVAL;
}

SYSCALL(clock_gettime)
{
	struct k_timespec kts;
	struct timespec ts;
	clockid_t hc;
	long r = host_clock(t, (int)a[0], &hc);

	if (r < 0)
		return r;
	if (clock_gettime(hc, &ts) < 0)
		return -EINVAL;
	kts.tv_sec = ts.tv_sec;
	kts.tv_nsec = ts.tv_nsec;
	return copy_to_user(t, a[1], &kts, sizeof(kts));
}

SYSCALL(clock_getres)
{
	struct k_timespec kts;
	struct timespec ts;
	clockid_t hc;
	long r = host_clock(t, (int)a[0], &hc);

	if (r < 0)
		return r;
	if (clock_getres(hc, &ts) < 0)
		return -EINVAL;
	if (!a[1])
		return 0;
	kts.tv_sec = ts.tv_sec;
	kts.tv_nsec = ts.tv_nsec;
	return copy_to_user(t, a[1], &kts, sizeof(kts));
}

SYSCALL(gettimeofday)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (a[0]) {
		struct k_timeval tv = {ts.tv_sec, ts.tv_nsec / 1000};
		if (copy_to_user(t, a[0], &tv, sizeof(tv)) < 0)
			return -EFAULT;
	}
	if (a[1]) {
		int tz[2] = {0, 0}; /* the sandbox runs in UTC */
		if (copy_to_user(t, a[1], tz, sizeof(tz)) < 0)
			return -EFAULT;
	}
	return 0;
}

SYSCALL(time)
{
	int64_t now = (int64_t)time(NULL);
	if (a[0] && copy_to_user(t, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return now;
}

/* Continues a nanosleep that a signal interrupted without a handler. */
static long sleep_on(struct task *t)
{
	uint64_t deadline = (uint64_t)t->restart_deadline.tv_sec * 1000000000ULL +
			    (uint64_t)t->restart_deadline.tv_nsec;
	int r = task_block(t, deadline);

	while (r == 0) { /* woken for something else: sleep on */
		task_prepare_block(t);
		r = task_block(t, deadline);
	}
	if (r == -ETIMEDOUT)
		return 0;
	t->restart_fn = sleep_on;
	return -ERESTART_RESTARTBLOCK;
}

static long do_sleep(struct task *t, clockid_t clk, int flags, uint64_t ureq, uint64_t urem)
{
	struct k_timespec kreq;
	uint64_t req, deadline, now;
	int r;

	if (copy_from_user(t, &kreq, ureq, sizeof(kreq)) < 0)
		return -EFAULT;
	if (kreq.tv_sec < 0 || kreq.tv_nsec < 0 || kreq.tv_nsec >= 1000000000)
		return -EINVAL;
	req = (uint64_t)kreq.tv_sec * 1000000000ULL + (uint64_t)kreq.tv_nsec;
	now = monotonic_ns();
	if (flags & TIMER_ABSTIME) {
		/* An absolute time on clk, as a monotonic deadline from now. */
		struct timespec c;
		clock_gettime(clk, &c);
		uint64_t cnow = (uint64_t)c.tv_sec * 1000000000ULL + (uint64_t)c.tv_nsec;
		deadline = req > cnow ? now + (req - cnow) : now;
	} else {
		deadline = now + req;
	}
	if (deadline < now)
		deadline = UINT64_MAX; /* overflow: forever */
	if (!deadline)
		deadline = 1;
	task_prepare_block(t);
	for (;;) {
		r = task_block(t, deadline);
		if (r == -ETIMEDOUT)
			return 0;
		if (r == -EINTR)
			break;
		task_prepare_block(t);
	}
	if (flags & TIMER_ABSTIME)
		return -ERESTARTNOHAND; /* the same call again computes the rest */
	if (urem) {
		uint64_t left = deadline > monotonic_ns() ? deadline - monotonic_ns() : 0;
		struct k_timespec krem = {(int64_t)(left / 1000000000ULL),
					  (int64_t)(left % 1000000000ULL)};
		if (copy_to_user(t, urem, &krem, sizeof(krem)) < 0)
			return -EFAULT;
	}
	t->restart_deadline.tv_sec = (int64_t)(deadline / 1000000000ULL);
	t->restart_deadline.tv_nsec = (int64_t)(deadline % 1000000000ULL);
	t->restart_fn = sleep_on;
	return -ERESTART_RESTARTBLOCK;
}

SYSCALL(nanosleep) { return do_sleep(t, CLOCK_MONOTONIC, 0, a[0], a[1]); }

SYSCALL(clock_nanosleep)
{
	/* Linux ignores flag bits other than TIMER_ABSTIME. */
	int clk = (int)a[0], flags = (int)a[1] & TIMER_ABSTIME;

	switch (clk) {
	case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_TAI:
		break;
	case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE: case CLOCK_THREAD_CPUTIME_ID:
		return -EOPNOTSUPP; /* clocks without a sleep operation */
	default:
		return clk < 0 || clk == CLOCK_PROCESS_CPUTIME_ID ? -ENOTSUP : -EINVAL;
	}
	return do_sleep(t, clk, flags, a[2], a[3]);
}
