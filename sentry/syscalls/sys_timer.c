/* alarm, getitimer/setitimer, the timer_* family and timerfd_*: the
 * argument checks in Linux's order; the timers are in kernel/timers.c
 * and fs/anon/timerfd.c. */
#include <errno.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>

#include "abi/linux.h"
#include "sentry/fs/anon/anon.h"
#include "sentry/kernel/ktimer.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"

#define CAP_WAKE_ALARM 35

struct k_itimerval {
	struct k_timeval it_interval;
	struct k_timeval it_value;
};

static bool tv_valid(const struct k_timeval *tv)
{
	return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

static bool ts_valid(const struct k_timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

static struct k_timeval ns_tv(uint64_t ns)
{
	return (struct k_timeval){(int64_t)(ns / 1000000000ULL),
				  (int64_t)(ns % 1000000000ULL / 1000)};
}

/* --- itimers --- */

SYSCALL(alarm)
{
	uint64_t old, oi;

	itimer_set(t, ITIMER_REAL, (uint64_t)(uint32_t)a[0] * 1000000000ULL, 0, &old, &oi);
	/* A pending alarm never reads as 0; half a second rounds up. */
	if ((old < 1000000000ULL && old) || old % 1000000000ULL >= 500000000ULL)
		return (long)(old / 1000000000ULL + 1);
	return (long)(old / 1000000000ULL);
}

SYSCALL(setitimer)
{
	struct k_itimerval nv = {{0, 0}, {0, 0}}, ov;
	uint64_t value, interval, old, oi;
	int r;

	/* A NULL new value disarms, as Linux still allows. */
	if (a[1]) {
		if (copy_from_user(t, &nv, a[1], sizeof(nv)) < 0)
			return -EFAULT;
		if (!tv_valid(&nv.it_value) || !tv_valid(&nv.it_interval))
			return -EINVAL;
	}
	value = ktimer_ts_ns(nv.it_value.tv_sec, nv.it_value.tv_usec * 1000);
	interval = ktimer_ts_ns(nv.it_interval.tv_sec, nv.it_interval.tv_usec * 1000);
	r = itimer_set(t, (int)a[0], value, value ? interval : 0, &old, &oi);
	if (r < 0 || !a[2])
		return r;
	ov.it_value = ns_tv(old);
	ov.it_interval = ns_tv(oi);
	return copy_to_user(t, a[2], &ov, sizeof(ov)) < 0 ? -EFAULT : 0;
}

SYSCALL(getitimer)
{
	struct k_itimerval cur;
	uint64_t value, interval;
	int r = itimer_get(t, (int)a[0], &value, &interval);

	if (r < 0)
		return r;
	cur.it_value = ns_tv(value);
	cur.it_interval = ns_tv(interval);
	return copy_to_user(t, a[1], &cur, sizeof(cur)) < 0 ? -EFAULT : 0;
}

/* --- POSIX timers --- */

SYSCALL(timer_create)
{
	struct k_sigevent ev;
	int32_t id;

	if (a[1] && copy_from_user(t, &ev, a[1], sizeof(ev)) < 0)
		return -EFAULT;
	id = ptimer_create(t, (int)a[0], a[1] ? &ev : NULL);
	if (id < 0)
		return id;
	if (copy_to_user(t, a[2], &id, sizeof(id)) < 0) {
		ptimer_delete(t, id);
		return -EFAULT;
	}
	return 0;
}

SYSCALL(timer_settime)
{
	struct k_itimerspec nv, ov;
	int r;

	if (!a[2])
		return -EINVAL;
	if (copy_from_user(t, &nv, a[2], sizeof(nv)) < 0)
		return -EFAULT;
	if (!ts_valid(&nv.it_value) || !ts_valid(&nv.it_interval))
		return -EINVAL;
	r = ptimer_set(t, (int)a[0], (int)a[1], &nv, a[3] ? &ov : NULL);
	if (r < 0 || !a[3])
		return r;
	return copy_to_user(t, a[3], &ov, sizeof(ov)) < 0 ? -EFAULT : 0;
}

SYSCALL(timer_gettime)
{
	struct k_itimerspec cur;
	int r = ptimer_get(t, (int)a[0], &cur);

	if (r < 0)
		return r;
	return copy_to_user(t, a[1], &cur, sizeof(cur)) < 0 ? -EFAULT : 0;
}

SYSCALL(timer_getoverrun) { return ptimer_getoverrun(t, (int)a[0]); }
SYSCALL(timer_delete) { return ptimer_delete(t, (int)a[0]); }

/* --- timerfd --- */

SYSCALL(timerfd_create)
{
	int clock = (int)a[0], flags = (int)a[1];
	struct file *f;
	long fd;

	if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	switch (clock) {
	case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
		break;
	case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
		if (!(t->tg->creds.cap_effective & (1ULL << CAP_WAKE_ALARM)))
			return -EPERM;
		break;
	default:
		return -EINVAL;
	}
	if (!(f = timerfd_new(clock, flags)))
		return -ENOMEM;
	fd = install_fd(t, f, flags & TFD_CLOEXEC);
	file_put(f);
	return fd;
}

SYSCALL(timerfd_settime)
{
	struct k_itimerspec nv, ov;
	int flags = (int)a[1];
	struct file *f;
	int r;

	if (copy_from_user(t, &nv, a[2], sizeof(nv)) < 0)
		return -EFAULT;
	if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
	    !ts_valid(&nv.it_value) || !ts_valid(&nv.it_interval))
		return -EINVAL;
	if (!(f = get_fd(t, (int)a[0], false)))
		return -EBADF;
	r = timerfd_set(f, flags, &nv, a[3] ? &ov : NULL);
	file_put(f);
	if (r < 0 || !a[3])
		return r;
	return copy_to_user(t, a[3], &ov, sizeof(ov)) < 0 ? -EFAULT : 0;
}

SYSCALL(timerfd_gettime)
{
	struct k_itimerspec cur;
	struct file *f = get_fd(t, (int)a[0], false);
	int r;

	if (!f)
		return -EBADF;
	r = timerfd_get(f, &cur);
	file_put(f);
	if (r < 0)
		return r;
	return copy_to_user(t, a[1], &cur, sizeof(cur)) < 0 ? -EFAULT : 0;
}
