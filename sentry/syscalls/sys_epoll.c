/* epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
 * epoll_pwait2: argument checks in Linux's order; the rest is in
 * fs/anon/epoll.c. epoll_wait is never restarted: a signal makes it
 * return EINTR whatever SA_RESTART says. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "abi/linux.h"
#include "sentry/fs/anon/epoll.h"
#include "sentry/kernel/ktimer.h"
#include "sentry/kernel/poll.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"

#define EP_MAX_EVENTS (INT_MAX / (int)sizeof(struct k_epoll_event))
#define EPOLLEXCLUSIVE_OK_BITS                                                 \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET |     \
	 EPOLLEXCLUSIVE)

static long new_epoll(struct task *t, bool cloexec)
{
	struct file *f = epoll_new();
	long fd;

	if (!f)
		return -ENOMEM;
	fd = install_fd(t, f, cloexec);
	file_put(f);
	return fd;
}

SYSCALL(epoll_create)
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	return new_epoll(t, false);
}

SYSCALL(epoll_create1)
{
	int flags = (int)a[0];

	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	return new_epoll(t, flags & EPOLL_CLOEXEC);
}

SYSCALL(epoll_ctl)
{
	int op = (int)a[1], fd = (int)a[2];
	struct k_epoll_event ev = {0, 0};
	struct file *ep, *tf = NULL;
	long r;

	if (op != EPOLL_CTL_DEL && copy_from_user(t, &ev, a[3], sizeof(ev)) < 0)
		return -EFAULT;
	if (!(ep = get_fd(t, (int)a[0], false)))
		return -EBADF;
	if (!(tf = get_fd(t, fd, false))) {
		r = -EBADF;
		goto out;
	}
	/* The target must support poll: not regular files, directories. */
	r = -EPERM;
	if (!tf->ops->poll)
		goto out;
	r = -EINVAL;
	if (ep == tf || !is_epoll(ep))
		goto out;
	/* EPOLLEXCLUSIVE hooks in at ADD only, not onto another epoll. */
	if (op != EPOLL_CTL_DEL && (ev.events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			goto out;
		if (op == EPOLL_CTL_ADD &&
		    (is_epoll(tf) || (ev.events & ~(uint32_t)EPOLLEXCLUSIVE_OK_BITS)))
			goto out;
	}
	r = epoll_ctl_file(ep, op, fd, tf, op == EPOLL_CTL_DEL ? NULL : &ev);
out:
	file_put(tf);
	file_put(ep);
	return r;
}

static long do_epoll_wait(struct task *t, int epfd, uint64_t uevents, int max,
			  uint64_t deadline)
{
	struct k_epoll_event *out = NULL;
	struct file *ep;
	long n;

	if (max <= 0 || max > EP_MAX_EVENTS)
		return -EINVAL;
	if (!user_range_ok(uevents, (uint64_t)max * sizeof(struct k_epoll_event)))
		return -EFAULT;
	if (!(ep = get_fd(t, epfd, false)))
		return -EBADF;
	if (!is_epoll(ep)) {
		file_put(ep);
		return -EINVAL;
	}
	n = epoll_wait_file(t, ep, max, deadline, &out);
	file_put(ep);
	if (n > 0 && copy_to_user(t, uevents, out, (size_t)n * sizeof(*out)) < 0)
		n = -EFAULT;
	free(out);
	return n;
}

/* epoll_wait's milliseconds: negative waits for ever, 0 not at all. */
static uint64_t ms_deadline(int ms)
{
	if (ms < 0)
		return 0;
	return ms ? ktimer_add(monotonic_ns(), (uint64_t)ms * 1000000ULL) : 1;
}

SYSCALL(epoll_wait)
{
	return do_epoll_wait(t, (int)a[0], a[1], (int)a[2], ms_deadline((int)a[3]));
}

static long pwait(struct task *t, const uint64_t *a, uint64_t deadline)
{
	long r = poll_user_sigmask(t, a[4], a[5]);

	if (r < 0)
		return r;
	r = do_epoll_wait(t, (int)a[0], a[1], (int)a[2], deadline);
	poll_restore_sigmask(t, r == -EINTR);
	return r;
}

SYSCALL(epoll_pwait) { return pwait(t, a, ms_deadline((int)a[3])); }

SYSCALL(epoll_pwait2)
{
	uint64_t deadline = 0;

	if (a[3]) {
		struct k_timespec ts;
		uint64_t ns;
		if (copy_from_user(t, &ts, a[3], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		ns = ktimer_ts_ns(ts.tv_sec, ts.tv_nsec);
		deadline = ns ? ktimer_add(monotonic_ns(), ns) : 1;
	}
	return pwait(t, a, deadline);
}
