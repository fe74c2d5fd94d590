/* Anonymous files, Linux's anon_inode files: eventfd, signalfd, timerfd
 * and epoll. They have no inode and no path; fstat shows the one
 * anonymous inode Linux shares among all of them. */
#ifndef RC_SENTRY_FS_ANON_ANON_H
#define RC_SENTRY_FS_ANON_ANON_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/linux.h"

struct file;
struct task;
struct k_itimerspec;

/* The stat of the shared anonymous inode (mode 0600, no file type). */
int anon_stat(struct file *f, struct k_stat *st);

/* eventfd.c: a counter; flags are EFD_NONBLOCK (O_NONBLOCK) and
 * EFD_SEMAPHORE. NULL when out of memory. */
struct file *eventfd_new(uint64_t count, int flags);

/* signalfd.c: reads dequeue the caller's pending signals in mask. */
struct file *signalfd_new(uint64_t mask, int flags);
/* signalfd on an existing fd: a new mask, or -EINVAL if f is not one. */
int signalfd_set_mask(struct file *f, uint64_t mask);

/* timerfd.c: clock is one timerfd_create accepts (checked by the
 * caller); flags O_NONBLOCK. */
struct file *timerfd_new(int clock, int flags);
/* -EINVAL if f is not a timerfd. */
int timerfd_set(struct file *f, int flags, const struct k_itimerspec *new,
		struct k_itimerspec *old);
int timerfd_get(struct file *f, struct k_itimerspec *cur);

#endif
