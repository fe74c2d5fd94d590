/* Blocking in the sentry: a task waiting for an event sleeps on its own
 * condition variable; wait queues hold the tasks (or callbacks) to wake
 * when something happens. A wait ends when the task is woken, when a
 * signal it must handle arrives, or at a deadline (DESIGN.md, "Threads,
 * blocking and signals").
 *
 * The pattern (no lost wake-ups):
 *     struct wq_entry e;
 *     wq_entry_init(&e, t);
 *     for (;;) {
 *         lock(obj);
 *         if (ready(obj)) { unlock(obj); break; }
 *         task_prepare_block(t);          // before the entry goes in
 *         waitq_add(&obj->wq, &e);
 *         unlock(obj);
 *         r = task_block(t, deadline);
 *         waitq_remove(&e);
 *         if (r < 0) return r == -EINTR ? -ERESTARTSYS : r;
 *     }
 *
 * Lock order: an object's lock -> waitq.lock -> task.block_lock. */
#ifndef RC_SENTRY_KERNEL_WAIT_H
#define RC_SENTRY_KERNEL_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct task;
struct wq_entry;

/* Called under the queue's lock with the events that woke it. */
typedef void (*wq_wake_fn)(struct wq_entry *e, uint32_t events);

struct wq_entry {
	struct task *task;      /* woken by task_wake when fn is NULL */
	wq_wake_fn fn;
	uint32_t mask;          /* events this entry cares about (0: all) */
	void *priv;
	struct waitq *q;
	struct wq_entry *prev, *next;
};

struct waitq {
	pthread_mutex_t lock;
	struct wq_entry *head;
};

#define WAITQ_INIT {PTHREAD_MUTEX_INITIALIZER, NULL}

void waitq_init(struct waitq *q);
void wq_entry_init(struct wq_entry *e, struct task *t);
void waitq_add(struct waitq *q, struct wq_entry *e);
/* Safe to call on an entry that is not (or no longer) queued. */
void waitq_remove(struct wq_entry *e);
/* Wakes every entry whose mask has one of events (events 0: all). */
void waitq_wake(struct waitq *q, uint32_t events);
bool waitq_active(struct waitq *q);

/* Marks the start of a wait: wake-ups from here on end the next block. */
void task_prepare_block(struct task *t);
/* Wakes t if it is blocked (or makes its next block return at once). */
void task_wake(struct task *t);
/* Sleeps until woken, interrupted by a signal (-EINTR), or the
 * CLOCK_MONOTONIC deadline in ns passes (-ETIMEDOUT; 0 = no deadline). */
int task_block(struct task *t, uint64_t deadline_ns);
/* Waits for a host fd to be ready (poll events), interruptibly: for the
 * few host fds the sentry reads directly (imported stdio). Returns the
 * revents, -EINTR or -ETIMEDOUT. */
int task_block_host_fd(struct task *t, int fd, short events, uint64_t deadline_ns);

uint64_t monotonic_ns(void);

#endif
