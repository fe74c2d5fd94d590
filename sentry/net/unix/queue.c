/* Messages and receive queues: allocation, the send-buffer charge that
 * blocks writers (Linux's sk_wmem_alloc and skb truesize), queue
 * operations, and the waits of sending and receiving. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"
#include "sentry/vfs/file.h"

/* What Linux charges for a message of len bytes: the data and its
 * shared info rounded to a kmalloc size (pages past one page), plus the
 * sk_buff. Measured on Linux: 768 bytes for 1, 2304 for 1000. */
static size_t truesize(size_t len)
{
	size_t head = len + 320, b = 512;

	if (head > 4096)
		return ((head + 4095) & ~(size_t)4095) + 256;
	while (b < head)
		b <<= 1;
	return b + 256;
}

struct unix_msg *unix_msg_alloc(size_t len)
{
	struct unix_msg *m = calloc(1, sizeof(*m) + len);
	if (m) {
		m->len = len;
		m->truesize = truesize(len);
	}
	return m;
}

void unix_msg_charge(struct unix_msg *msg, struct unix_sock *from)
{
	unix_sock_get(from);
	msg->from = from;
	atomic_fetch_add(&from->wmem, msg->truesize);
}

bool unix_writable(struct unix_sock *u)
{
	return u->state != UNIX_LISTEN && (atomic_load(&u->wmem) << 2) <= (size_t)u->sndbuf;
}

void unix_msg_free(struct unix_msg *msg)
{
	struct unix_sock *from = msg->from;

	if (msg->fds) {
		for (int i = 0; i < msg->fds->count; i++) {
			unix_notinflight(msg->fds->files[i]);
			unix_fput(msg->fds->files[i]);
		}
		free(msg->fds);
	}
	if (from) {
		atomic_fetch_sub(&from->wmem, msg->truesize);
		/* Linux's unix_write_space: writers wake once a quarter of
		 * the buffer is free again. */
		if (unix_writable(from))
			waitq_wake(&from->wq, POLLOUT | POLLWRNORM | POLLWRBAND);
		unix_sock_put(from);
	}
	unix_sock_put(msg->embryo);
	free(msg);
}

void unix_msg_free_list(struct unix_msg *list)
{
	while (list) {
		struct unix_msg *next = list->next;
		unix_msg_free(list);
		list = next;
	}
}

void unix_queue_tail(struct unix_sock *u, struct unix_msg *msg)
{
	msg->next = NULL;
	if (u->rq_tail)
		u->rq_tail->next = msg;
	else
		u->rq_head = msg;
	u->rq_tail = msg;
	u->rq_count++;
}

struct unix_msg *unix_dequeue(struct unix_sock *u)
{
	struct unix_msg *m = u->rq_head;

	if (!m)
		return NULL;
	u->rq_head = m->next;
	if (!u->rq_head)
		u->rq_tail = NULL;
	u->rq_count--;
	m->next = NULL;
	return m;
}

struct unix_msg *unix_queue_detach(struct unix_sock *u)
{
	struct unix_msg *list = u->rq_head;

	u->rq_head = u->rq_tail = NULL;
	u->rq_count = 0;
	return list;
}

void unix_timeo_init(struct unix_timeo *to, uint64_t timeo, bool nonblock)
{
	to->nonblock = nonblock || timeo == 0;
	to->has_timeout = timeo != UNIX_TIMEO_INF;
	to->deadline = 0;
	if (!to->nonblock && to->has_timeout) {
		uint64_t now = monotonic_ns();
		to->deadline = timeo > UINT64_MAX - now ? UINT64_MAX : now + timeo;
	}
}

static int block(struct task *t, struct wq_entry *e, pthread_mutex_t *lock,
		 struct unix_timeo *to)
{
	int r;

	pthread_mutex_unlock(lock);
	r = task_block(t, to->deadline);
	waitq_remove(e);
	pthread_mutex_lock(lock);
	if (r == -ETIMEDOUT) {
		/* One more look, then EAGAIN (Linux: timeo reached 0). */
		to->nonblock = true;
		return 0;
	}
	return r == -EINTR ? sock_intr_errno(to->has_timeout) : 0;
}

int unix_wait(struct task *t, struct waitq *q, pthread_mutex_t *lock, struct unix_timeo *to)
{
	struct wq_entry e;

	if (to->nonblock)
		return -EAGAIN;
	wq_entry_init(&e, t);
	task_prepare_block(t);
	waitq_add(q, &e);
	return block(t, &e, lock, to);
}

static bool wmem_room(struct unix_sock *u)
{
	return atomic_load(&u->wmem) < (size_t)u->sndbuf;
}

int unix_wait_for_wmem(struct task *t, struct unix_sock *u, struct unix_timeo *to)
{
	struct wq_entry e;
	int r;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		r = unix_sock_error(u);
		if (r)
			break;
		r = -EPIPE;
		if (u->shutdown & UNIX_SEND_SHUTDOWN)
			break;
		r = 0;
		if (wmem_room(u))
			break;
		r = -EAGAIN;
		if (to->nonblock)
			break;
		/* The charge falls without u->lock (a reader frees our
		 * message): look again once queued, or a wake-up between
		 * the test and the queueing would be lost. */
		wq_entry_init(&e, t);
		task_prepare_block(t);
		waitq_add(&u->wq, &e);
		if (wmem_room(u)) {
			waitq_remove(&e);
			continue;
		}
		r = block(t, &e, &u->lock, to);
		if (r)
			break;
	}
	pthread_mutex_unlock(&u->lock);
	return r;
}

/* Files dropped while a drop is in progress on this thread wait here:
 * releasing a socket frees its queue, whose files may be sockets with
 * queues of their own. */
static __thread struct file **pending;
static __thread size_t npending, cappending;
static __thread bool draining;

void unix_fput(struct file *f)
{
	if (draining) {
		if (npending == cappending) {
			size_t cap = cappending ? cappending * 2 : 16;
			struct file **n = realloc(pending, cap * sizeof(*n));
			if (!n) {
				file_put(f); /* out of memory: recurse instead */
				return;
			}
			pending = n;
			cappending = cap;
		}
		pending[npending++] = f;
		return;
	}
	draining = true;
	file_put(f);
	while (npending)
		file_put(pending[--npending]);
	free(pending);
	pending = NULL;
	cappending = 0;
	draining = false;
}
