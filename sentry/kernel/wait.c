#include "sentry/kernel/wait.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/task.h"

uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void waitq_init(struct waitq *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = NULL;
}

void wq_entry_init(struct wq_entry *e, struct task *t)
{
	e->task = t;
	e->fn = NULL;
	e->mask = 0;
	e->priv = NULL;
	e->q = NULL;
	e->prev = e->next = NULL;
}

void waitq_add(struct waitq *q, struct wq_entry *e)
{
	pthread_mutex_lock(&q->lock);
	e->q = q;
	e->prev = NULL;
	e->next = q->head;
	if (q->head)
		q->head->prev = e;
	q->head = e;
	pthread_mutex_unlock(&q->lock);
}

void waitq_remove(struct wq_entry *e)
{
	struct waitq *q = e->q;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	if (e->q == q) {
		if (e->prev)
			e->prev->next = e->next;
		else
			q->head = e->next;
		if (e->next)
			e->next->prev = e->prev;
		e->q = NULL;
	}
	pthread_mutex_unlock(&q->lock);
}

void waitq_wake(struct waitq *q, uint32_t events)
{
	pthread_mutex_lock(&q->lock);
	for (struct wq_entry *e = q->head, *next; e; e = next) {
		next = e->next;
		if (events && e->mask && !(e->mask & events))
			continue;
		if (e->fn)
			e->fn(e, events);
		else if (e->task)
			task_wake(e->task);
	}
	pthread_mutex_unlock(&q->lock);
}

bool waitq_active(struct waitq *q)
{
	bool r;
	pthread_mutex_lock(&q->lock);
	r = q->head != NULL;
	pthread_mutex_unlock(&q->lock);
	return r;
}

void task_prepare_block(struct task *t)
{
	pthread_mutex_lock(&t->block_lock);
	t->woken = false;
	pthread_mutex_unlock(&t->block_lock);
}

void task_wake(struct task *t)
{
	pthread_mutex_lock(&t->block_lock);
	t->woken = true;
	pthread_cond_signal(&t->block_cond);
	if (t->host_waiting && t->kick_fd >= 0) {
		uint64_t one = 1;
		if (write(t->kick_fd, &one, sizeof(one)) < 0)
			(void)0;
	}
	pthread_mutex_unlock(&t->block_lock);
}

int task_block(struct task *t, uint64_t deadline_ns)
{
	int r = 0;

	pthread_mutex_lock(&t->block_lock);
	while (!t->woken) {
		if (task_interrupted(t)) {
			r = -EINTR;
			break;
		}
		if (deadline_ns) {
			uint64_t now = monotonic_ns();
			struct timespec ts;
			if (now >= deadline_ns) {
				r = -ETIMEDOUT;
				break;
			}
			/* The condition variable runs on CLOCK_MONOTONIC. */
			ts.tv_sec = (time_t)(deadline_ns / 1000000000ULL);
			ts.tv_nsec = (long)(deadline_ns % 1000000000ULL);
			pthread_cond_timedwait(&t->block_cond, &t->block_lock, &ts);
		} else {
			pthread_cond_wait(&t->block_cond, &t->block_lock);
		}
	}
	t->woken = false;
	pthread_mutex_unlock(&t->block_lock);
	return r;
}

int task_block_host_fd(struct task *t, int fd, short events, uint64_t deadline_ns)
{
	struct pollfd p[2] = {{fd, events, 0}, {t->kick_fd, POLLIN, 0}};
	int r;

	pthread_mutex_lock(&t->block_lock);
	t->host_waiting = true;
	pthread_mutex_unlock(&t->block_lock);
	for (;;) {
		int timeout = -1;
		if (task_interrupted(t)) {
			r = -EINTR;
			break;
		}
		if (deadline_ns) {
			uint64_t now = monotonic_ns();
			if (now >= deadline_ns) {
				r = -ETIMEDOUT;
				break;
			}
			timeout = (int)((deadline_ns - now + 999999) / 1000000);
		}
		r = poll(p, t->kick_fd >= 0 ? 2 : 1, timeout);
		if (r < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (r > 0 && (p[1].revents & POLLIN)) {
			uint64_t v;
			if (read(t->kick_fd, &v, sizeof(v)) < 0)
				(void)0;
		}
		if (r > 0 && p[0].revents) {
			r = p[0].revents;
			break;
		}
	}
	pthread_mutex_lock(&t->block_lock);
	t->host_waiting = false;
	pthread_mutex_unlock(&t->block_lock);
	return r;
}

int task_init_blocking(struct task *t)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&t->block_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->block_cond, &ca);
	pthread_condattr_destroy(&ca);
	t->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return t->kick_fd < 0 ? -errno : 0;
}
