/* The core of poll, ppoll, select and pselect6 (fs/select.c): poll every
 * file, queue on the wait queues of all of them, sleep until one wakes
 * us, a signal arrives or the deadline passes, and poll again. */
#ifndef RC_SENTRY_KERNEL_POLL_H
#define RC_SENTRY_KERNEL_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;

struct k_pollfd {
	int32_t fd;
	int16_t events;
	int16_t revents;
};

/* Deadlines: 0 waits for ever, else a CLOCK_MONOTONIC time; one already
 * past polls once without waiting. */

/* Fills revents; returns how many fds have some, or -ERESTARTNOHAND
 * when a signal came first, or -ENOMEM. */
int do_poll(struct task *t, struct k_pollfd *fds, size_t n, uint64_t deadline);

/* select over fds 0..n-1: in/out/ex are bitmaps of (n+63)/64 words
 * (NULL for none), replaced by the ready sets. Returns the number of
 * bits set, -EBADF for a set bit naming no open file,
 * -ERESTARTNOHAND, or -ENOMEM. */
int do_select(struct task *t, int n, uint64_t *in, uint64_t *out, uint64_t *ex,
	      uint64_t deadline);

/* A temporary signal mask for the call (ppoll, pselect6, epoll_pwait):
 * the caller's mask comes back when the call returns, or, if a signal
 * interrupted it, after that signal's handler (sigsuspend's rule). */
void poll_set_sigmask(struct task *t, uint64_t mask);
void poll_restore_sigmask(struct task *t, bool interrupted);
/* The sigmask argument of those calls (NULL: none): installs it, or
 * -EINVAL for a size other than 8, -EFAULT. */
int poll_user_sigmask(struct task *t, uint64_t umask, uint64_t size);

#endif
