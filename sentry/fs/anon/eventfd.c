/* eventfd: a 64-bit counter. Reads take it (or 1 of it, EFD_SEMAPHORE)
 * and block at 0; writes add to it and block while the sum would reach
 * UINT64_MAX (fs/eventfd.c).
 *
 * Lock order: eventfd.lock -> waitq.lock. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "abi/errno_names.h"
#include "sentry/fs/anon/anon.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/file.h"

struct eventfd {
	pthread_mutex_t lock;
	uint64_t count;
	bool semaphore;
	struct waitq wq;
};

/* Waits (e->lock held, and held again on return) until the counter
 * changes; -EAGAIN for a non-blocking file, -ERESTARTSYS on a signal. */
static int wait_change(struct file *f, struct eventfd *e)
{
	struct task *t = current;
	struct wq_entry w;
	int r;

	if ((f->flags & O_NONBLOCK) || !t)
		return -EAGAIN;
	wq_entry_init(&w, t);
	task_prepare_block(t);
	waitq_add(&e->wq, &w);
	pthread_mutex_unlock(&e->lock);
	r = task_block(t, 0);
	waitq_remove(&w);
	pthread_mutex_lock(&e->lock);
	return r == -EINTR ? -ERESTARTSYS : r;
}

static ssize_t efd_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t v;
	int r;

	(void)pos;
	if (len < sizeof(v))
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	while (e->count == 0) {
		if ((r = wait_change(f, e)) < 0) {
			pthread_mutex_unlock(&e->lock);
			return r;
		}
	}
	v = e->semaphore ? 1 : e->count;
	e->count -= v;
	waitq_wake(&e->wq, POLLOUT);
	pthread_mutex_unlock(&e->lock);
	memcpy(buf, &v, sizeof(v));
	return sizeof(v);
}

static ssize_t efd_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t v;
	int r;

	(void)pos;
	if (len != sizeof(v)) /* exactly 8, where a read takes 8 of more */
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (v == UINT64_MAX)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	while (UINT64_MAX - e->count <= v) {
		if ((r = wait_change(f, e)) < 0) {
			pthread_mutex_unlock(&e->lock);
			return r;
		}
	}
	e->count += v;
	/* Even a write of 0 wakes readers, and edge-triggered epoll. */
	waitq_wake(&e->wq, POLLIN);
	pthread_mutex_unlock(&e->lock);
	return sizeof(v);
}

static uint32_t efd_poll(struct file *f, struct wq_entry *w)
{
	struct eventfd *e = f->priv;
	uint32_t events = 0;
	uint64_t count;

	pthread_mutex_lock(&e->lock);
	if (w)
		waitq_add(&e->wq, w);
	count = e->count;
	pthread_mutex_unlock(&e->lock);
	/* As Linux reports them: no RDNORM/WRNORM. */
	if (count > 0)
		events |= POLLIN;
	if (count == UINT64_MAX)
		events |= POLLERR;
	if (UINT64_MAX - 1 > count)
		events |= POLLOUT;
	return events;
}

static void efd_release(struct file *f)
{
	struct eventfd *e = f->priv;

	pthread_mutex_destroy(&e->lock);
	free(e);
}

static const struct file_ops eventfd_ops = {
	.read = efd_read,
	.write = efd_write,
	.stat = anon_stat,
	.poll = efd_poll,
	.release = efd_release,
	.stream = 1,
	.anon_name = "[eventfd]",
};

struct file *eventfd_new(uint64_t count, int flags)
{
	struct eventfd *e = calloc(1, sizeof(*e));
	struct file *f;

	if (!e)
		return NULL;
	pthread_mutex_init(&e->lock, NULL);
	waitq_init(&e->wq);
	e->count = count;
	e->semaphore = flags & EFD_SEMAPHORE;
	f = file_new(&eventfd_ops, O_RDWR | (flags & O_NONBLOCK), e);
	if (!f) {
		pthread_mutex_destroy(&e->lock);
		free(e);
	}
	return f;
}
