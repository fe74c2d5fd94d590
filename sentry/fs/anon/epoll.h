/* epoll (fs/eventpoll.c): an interest list of (file, fd) items, each
 * hooked on its file's wait queue, and a ready list the hooks fill. */
#ifndef RC_SENTRY_FS_ANON_EPOLL_H
#define RC_SENTRY_FS_ANON_EPOLL_H

#include <stdbool.h>
#include <stdint.h>

struct file;
struct task;

/* struct epoll_event as x86-64 lays it out: packed, 12 bytes. */
struct k_epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));

struct file *epoll_new(void);
bool is_epoll(struct file *f);

/* epoll_ctl on ep (an epoll file) for fd, whose file is tf; ev is NULL
 * for EPOLL_CTL_DEL. The caller has checked the fds and the flags that
 * need no epoll state (see sys_poll.c). */
int epoll_ctl_file(struct file *ep, int op, int fd, struct file *tf,
		   const struct k_epoll_event *ev);

/* Waits for events: out gets up to max of them (*out malloc'd, to be
 * freed by the caller). deadline: 0 waits for ever, else a
 * CLOCK_MONOTONIC time (one already past: do not wait). Returns the
 * number, or -EINTR. */
int epoll_wait_file(struct task *t, struct file *ep, int max, uint64_t deadline,
		    struct k_epoll_event **out);

/* The last reference to f is going: it leaves every epoll it is in
 * (called by file_put before the file's own release). */
void eventpoll_release(struct file *f);

#endif
