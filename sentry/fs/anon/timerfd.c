/* timerfd: a timer whose expirations are read as a count (fs/timerfd.c).
 * The timer runs on the ktimer thread; the count and the timer are under
 * the ktimer lock.
 *
 * TFD_TIMER_CANCEL_ON_SET is accepted: the sandbox cannot set the clock,
 * and a host clock change is not reported (read never fails with
 * ECANCELED).
 *
 * Lock order: ktimer lock -> waitq.lock. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#include "abi/errno_names.h"
#include "sentry/fs/anon/anon.h"
#include "sentry/kernel/ktimer.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/file.h"

struct timerfd {
	struct ktimer kt;
	uint64_t ticks;          /* expirations not yet read */
	clockid_t host;          /* the clock absolute times are read on */
	struct waitq wq;
};

static const struct file_ops timerfd_ops;

static void tfd_fire(struct ktimer *kt, uint64_t n)
{
	struct timerfd *tfd = kt->priv;

	tfd->ticks = tfd->ticks > UINT64_MAX - n ? UINT64_MAX : tfd->ticks + n;
	waitq_wake(&tfd->wq, POLLIN);
}

static ssize_t tfd_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	struct timerfd *tfd = f->priv;
	struct task *t = current;
	struct wq_entry w;
	uint64_t ticks;

	(void)pos;
	if (len < sizeof(ticks))
		return -EINVAL;
	ktimer_lock();
	while (tfd->ticks == 0) {
		int r;
		if ((f->flags & O_NONBLOCK) || !t) {
			ktimer_unlock();
			return -EAGAIN;
		}
		wq_entry_init(&w, t);
		task_prepare_block(t);
		waitq_add(&tfd->wq, &w);
		ktimer_unlock();
		r = task_block(t, 0);
		waitq_remove(&w);
		if (r < 0)
			return r == -EINTR ? -ERESTARTSYS : r;
		ktimer_lock();
	}
	ticks = tfd->ticks;
	tfd->ticks = 0;
	ktimer_unlock();
	memcpy(buf, &ticks, sizeof(ticks));
	return sizeof(ticks);
}

static uint32_t tfd_poll(struct file *f, struct wq_entry *w)
{
	struct timerfd *tfd = f->priv;
	uint32_t events;

	ktimer_lock();
	if (w)
		waitq_add(&tfd->wq, w);
	events = tfd->ticks ? POLLIN : 0;
	ktimer_unlock();
	return events;
}

static void tfd_release(struct file *f)
{
	struct timerfd *tfd = f->priv;

	ktimer_lock();
	ktimer_cancel_locked(&tfd->kt);
	ktimer_unlock();
	free(tfd);
}

static const struct file_ops timerfd_ops = {
	.read = tfd_read,
	.stat = anon_stat,
	.poll = tfd_poll,
	.release = tfd_release,
	.stream = 1,
	.anon_name = "[timerfd]",
};

struct file *timerfd_new(int clock, int flags)
{
	struct timerfd *tfd = calloc(1, sizeof(*tfd));
	struct file *f;

	if (!tfd)
		return NULL;
	ktimer_init(&tfd->kt, tfd_fire, tfd);
	waitq_init(&tfd->wq);
	switch (clock) {
	case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM:
		tfd->host = CLOCK_REALTIME;
		break;
	case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
		tfd->host = CLOCK_BOOTTIME;
		break;
	default:
		tfd->host = CLOCK_MONOTONIC;
	}
	f = file_new(&timerfd_ops, O_RDWR | (flags & O_NONBLOCK), tfd);
	if (!f)
		free(tfd);
	return f;
}

static struct k_timespec ns_ts(uint64_t ns)
{
	return (struct k_timespec){(int64_t)(ns / 1000000000ULL), (int64_t)(ns % 1000000000ULL)};
}

/* The setting now (ktimer lock held): an expired one-shot shows 0. */
static void current_setting(struct timerfd *tfd, struct k_itimerspec *cur)
{
	uint64_t now = monotonic_ns();

	cur->it_value = ns_ts(tfd->kt.when > now ? tfd->kt.when - now : 0);
	cur->it_interval = ns_ts(tfd->kt.interval);
}

int timerfd_set(struct file *f, int flags, const struct k_itimerspec *new,
		struct k_itimerspec *old)
{
	struct timerfd *tfd = f->priv;
	uint64_t value = ktimer_ts_ns(new->it_value.tv_sec, new->it_value.tv_nsec);
	uint64_t interval = ktimer_ts_ns(new->it_interval.tv_sec, new->it_interval.tv_nsec);
	uint64_t when = 0, missed = 0;
	int r;

	if (f->ops != &timerfd_ops)
		return -EINVAL;
	ktimer_lock();
	if (old)
		current_setting(tfd, old);
	tfd->ticks = 0;
	if (value)
		when = (flags & TFD_TIMER_ABSTIME)
			       ? timer_abs_to_mono(tfd->host, value, interval, &missed)
			       : ktimer_add(monotonic_ns(), value);
	r = ktimer_arm_locked(&tfd->kt, when, interval);
	tfd->kt.missed = missed;
	ktimer_unlock();
	return r;
}

int timerfd_get(struct file *f, struct k_itimerspec *cur)
{
	if (f->ops != &timerfd_ops)
		return -EINVAL;
	ktimer_lock();
	current_setting(f->priv, cur);
	ktimer_unlock();
	return 0;
}
