/* poll, ppoll, select, pselect6; eventfd and signalfd. The waiting is in
 * kernel/poll.c; here are the arguments, the timeouts and their
 * write-back, the temporary signal masks and the restart rules of
 * fs/select.c: select, ppoll and pselect6 return -ERESTARTNOHAND when a
 * signal interrupts them (restarted with the remaining time, which
 * they wrote back, unless a handler runs), poll restarts through
 * restart_syscall with its original deadline. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include "abi/errno_names.h"
#include "abi/linux.h"
#include "sentry/fs/anon/anon.h"
#include "sentry/kernel/ktimer.h"
#include "sentry/kernel/poll.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

/* A relative timeout as a deadline: 1 (already past) for zero. */
static uint64_t rel_deadline(uint64_t ns)
{
	return ns ? ktimer_add(monotonic_ns(), ns) : 1;
}

static bool ts_valid(const struct k_timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

/* What is left before deadline (for the write-back). */
static uint64_t left(uint64_t deadline)
{
	uint64_t now = monotonic_ns();
	return deadline > now ? deadline - now : 0;
}

/* --- poll --- */

static long sys_poll_on(struct task *t, uint64_t ufds, unsigned nfds, uint64_t deadline)
{
	struct k_pollfd *fds = NULL;
	size_t len = (size_t)nfds * sizeof(*fds);
	long r;

	if (nfds > t->tg->rlimits[RLIMIT_NOFILE].cur)
		return -EINVAL;
	if (nfds && !(fds = malloc(len)))
		return -ENOMEM;
	if (nfds && copy_from_user(t, fds, ufds, len) < 0) {
		free(fds);
		return -EFAULT;
	}
	r = do_poll(t, fds, nfds, deadline);
	/* revents go back even when interrupted. */
	if (nfds && copy_to_user(t, ufds, fds, len) < 0)
		r = -EFAULT;
	free(fds);
	return r;
}

/* deadline in restart_deadline (tv_sec -1: none); the arguments are
 * still in the registers, as nothing ran since the interrupted call. */
static long poll_restart(struct task *t)
{
	const struct user_regs_struct *regs = &t->ctx->regs;
	uint64_t deadline = t->restart_deadline.tv_sec < 0
				    ? 0
				    : ktimer_ts_ns(t->restart_deadline.tv_sec,
						   t->restart_deadline.tv_nsec);
	long r = sys_poll_on(t, regs->rdi, (unsigned)regs->rsi, deadline);

	if (r == -ERESTARTNOHAND) {
		t->restart_fn = poll_restart;
		r = -ERESTART_RESTARTBLOCK;
	}
	return r;
}

SYSCALL(poll)
{
	int timeout = (int)a[2];
	uint64_t deadline = timeout >= 0 ? rel_deadline((uint64_t)timeout * 1000000ULL) : 0;
	long r = sys_poll_on(t, a[0], (unsigned)a[1], deadline);

	if (r == -ERESTARTNOHAND) {
		t->restart_deadline.tv_sec = deadline ? (int64_t)(deadline / 1000000000ULL) : -1;
		t->restart_deadline.tv_nsec = (int64_t)(deadline % 1000000000ULL);
		t->restart_fn = poll_restart;
		r = -ERESTART_RESTARTBLOCK;
	}
	return r;
}

/* Linux's poll_select_finish: the mask back (unless a handler will
 * see the interruption), and the time left written back. */
static long finish(struct task *t, uint64_t uts, bool timeval, bool had_time,
		   uint64_t deadline, long r)
{
	uint64_t rem;
	int e;

	poll_restore_sigmask(t, r == -ERESTARTNOHAND);
	if (!uts || !had_time)
		return r;
	rem = left(deadline);
	if (timeval) {
		struct k_timeval tv = {(int64_t)(rem / 1000000000ULL),
				       (int64_t)(rem % 1000000000ULL / 1000)};
		e = copy_to_user(t, uts, &tv, sizeof(tv));
	} else {
		struct k_timespec ts = {(int64_t)(rem / 1000000000ULL),
					(int64_t)(rem % 1000000000ULL)};
		e = copy_to_user(t, uts, &ts, sizeof(ts));
	}
	/* Without the update the call cannot be restarted. */
	if (e < 0 && r == -ERESTARTNOHAND)
		r = -EINTR;
	return r;
}

/* A timespec argument as a deadline; *had_time: a non-zero timeout. */
static long get_ts_deadline(struct task *t, uint64_t uts, uint64_t *deadline, bool *had_time)
{
	struct k_timespec ts;

	*deadline = 0;
	*had_time = false;
	if (!uts)
		return 0;
	if (copy_from_user(t, &ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (!ts_valid(&ts))
		return -EINVAL;
	*had_time = ts.tv_sec || ts.tv_nsec;
	*deadline = rel_deadline(ktimer_ts_ns(ts.tv_sec, ts.tv_nsec));
	return 0;
}

SYSCALL(ppoll)
{
	uint64_t deadline;
	bool had_time;
	long r = get_ts_deadline(t, a[2], &deadline, &had_time);

	if (r < 0)
		return r;
	if ((r = poll_user_sigmask(t, a[3], a[4])) < 0)
		return r;
	r = sys_poll_on(t, a[0], (unsigned)a[1], deadline);
	return finish(t, a[2], false, had_time, deadline, r);
}

/* --- select --- */

static long core_select(struct task *t, int n, uint64_t uin, uint64_t uout, uint64_t uex,
			uint64_t deadline)
{
	uint64_t *sets[3] = {NULL, NULL, NULL}, user[3] = {uin, uout, uex};
	size_t bytes;
	int max;
	long r = 0;

	if (n < 0)
		return -EINVAL;
	/* Bits past the table's size are ignored (Linux's max_fds). */
	pthread_mutex_lock(&t->fdt->lock);
	max = t->fdt->nslots > 64 ? t->fdt->nslots : 64;
	pthread_mutex_unlock(&t->fdt->lock);
	if (n > max)
		n = max;
	bytes = ((size_t)n + 63) / 64 * 8;
	for (int i = 0; i < 3 && r == 0; i++) {
		if (!user[i] || !bytes)
			continue;
		if (!(sets[i] = malloc(bytes)))
			r = -ENOMEM;
		else if (copy_from_user(t, sets[i], user[i], bytes) < 0)
			r = -EFAULT;
	}
	if (r == 0)
		r = do_select(t, n, sets[0], sets[1], sets[2], deadline);
	for (int i = 0; i < 3; i++) {
		if (r >= 0 && sets[i] && copy_to_user(t, user[i], sets[i], bytes) < 0)
			r = -EFAULT;
		free(sets[i]);
	}
	return r;
}

SYSCALL(select)
{
	uint64_t deadline = 0;
	bool had_time = false;
	long r;

	if (a[4]) {
		struct k_timeval tv;
		int64_t sec, nsec;
		if (copy_from_user(t, &tv, a[4], sizeof(tv)) < 0)
			return -EFAULT;
		/* Linux folds whole seconds of tv_usec into tv_sec. */
		nsec = tv.tv_usec % 1000000 * 1000;
		if (__builtin_add_overflow(tv.tv_sec, tv.tv_usec / 1000000, &sec))
			sec = INT64_MAX;
		if (sec < 0 || nsec < 0)
			return -EINVAL;
		had_time = sec || nsec;
		deadline = rel_deadline(ktimer_ts_ns(sec, nsec));
	}
	r = core_select(t, (int)a[0], a[1], a[2], a[3], deadline);
	return finish(t, a[4], true, had_time, deadline, r);
}

SYSCALL(pselect6)
{
	struct {
		uint64_t ss;
		uint64_t ss_len;
	} pack = {0, 0};
	uint64_t deadline;
	bool had_time;
	long r;

	if (a[5] && copy_from_user(t, &pack, a[5], sizeof(pack)) < 0)
		return -EFAULT;
	if ((r = get_ts_deadline(t, a[4], &deadline, &had_time)) < 0)
		return r;
	if ((r = poll_user_sigmask(t, pack.ss, pack.ss_len)) < 0)
		return r;
	r = core_select(t, (int)a[0], a[1], a[2], a[3], deadline);
	return finish(t, a[4], false, had_time, deadline, r);
}

/* --- eventfd, signalfd --- */

static long install_new(struct task *t, struct file *f, bool cloexec)
{
	long fd;

	if (!f)
		return -ENOMEM;
	fd = install_fd(t, f, cloexec);
	file_put(f);
	return fd;
}

SYSCALL(eventfd2)
{
	int flags = (int)a[1];

	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	return install_new(t, eventfd_new((uint32_t)a[0], flags), flags & EFD_CLOEXEC);
}

SYSCALL(eventfd)
{
	return install_new(t, eventfd_new((uint32_t)a[0], 0), false);
}

static long do_signalfd(struct task *t, int ufd, uint64_t umask, uint64_t size, int flags)
{
	uint64_t mask;
	struct file *f;
	long r;

	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(t, &mask, umask, sizeof(mask)) < 0)
		return -EFAULT;
	if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
		return -EINVAL;
	if (ufd == -1)
		return install_new(t, signalfd_new(mask, flags), flags & SFD_CLOEXEC);
	if (!(f = get_fd(t, ufd, false)))
		return -EBADF;
	r = signalfd_set_mask(f, mask);
	file_put(f);
	return r < 0 ? r : ufd;
}

SYSCALL(signalfd4) { return do_signalfd(t, (int)a[0], a[1], a[2], (int)a[3]); }
SYSCALL(signalfd) { return do_signalfd(t, (int)a[0], a[1], a[2], 0); }
