/* Futex wait queues: the part of futexes that is pure bookkeeping, with
 * no tasks, platforms or application memory (futex.c adds those).
 *
 * Waiters are kept in hashed buckets by key, in FIFO order per bucket.
 * A waiter is a struct the caller embeds in its own wait state; waking
 * one dequeues it, sets woken and calls its wake function, all under the
 * bucket lock. Callers hold the bucket lock (or both, for two keys)
 * around every call below but the bucket/lock helpers themselves.
 *
 * Lock order: two buckets are locked lowest address first. */
#ifndef RC_SENTRY_KERNEL_FUTEX_QUEUE_H
#define RC_SENTRY_KERNEL_FUTEX_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The futex word's bits for priority-inheritance futexes (linux/futex.h). */
#define FUTEXQ_WAITERS 0x80000000u
#define FUTEXQ_OWNER_DIED 0x40000000u
#define FUTEXQ_TID_MASK 0x3fffffffu
#define FUTEXQ_BITSET_ANY 0xffffffffu

enum futex_key_kind {
	FUTEX_KEY_PRIVATE = 1, /* object: the address space; offset: the address */
	FUTEX_KEY_SHARED = 2,  /* object: what is mapped; offset: offset in it */
};

struct futex_key {
	uint64_t object;
	uint64_t offset;
	int kind;
};

struct futex_waiter;
typedef void (*futex_wake_fn)(struct futex_waiter *w);

struct futex_waiter {
	struct futex_key key;
	uint32_t bitset;          /* FUTEX_WAIT_BITSET's mask; 0 for PI waiters */
	bool pi;                  /* waits in FUTEX_LOCK_PI */
	uint32_t pi_owner;        /* PI: the tid that holds the lock */
	bool woken;               /* set when a wake or hand-off dequeued it */
	futex_wake_fn wake;       /* called under the bucket lock */
	/* The bucket whose lock guards w: set while queued, and cleared
	 * only once a waker is done with w (then w may be freed). */
	struct futex_bucket *bucket;
	struct futex_waiter *next, **pprev;
};

#define FUTEX_NBUCKETS 256

struct futex_bucket {
	pthread_mutex_t lock;
	struct futex_waiter *head;
	struct futex_waiter **tail;
};

struct futex_table {
	struct futex_bucket buckets[FUTEX_NBUCKETS];
};

void futex_table_init(struct futex_table *ft);
void futex_table_destroy(struct futex_table *ft);

bool futex_key_eq(const struct futex_key *a, const struct futex_key *b);
struct futex_bucket *futex_bucket_of(struct futex_table *ft, const struct futex_key *k);
/* Locks one bucket, or two in address order (a and b may be the same). */
void futex_lock_two(struct futex_bucket *a, struct futex_bucket *b);
void futex_unlock_two(struct futex_bucket *a, struct futex_bucket *b);

/* Queues w (its key set) at the tail of b. */
void futex_enqueue(struct futex_bucket *b, struct futex_waiter *w);
/* Takes w out of its bucket; false if it was not queued (a wake or a
 * requeue got there first, or it never was). */
bool futex_dequeue(struct futex_waiter *w);
bool futex_queued(const struct futex_waiter *w);
/* For the waiter itself, holding no lock: locks and returns the bucket
 * that now guards w, or NULL once w was dequeued for good (woken). */
struct futex_bucket *futex_lock_waiter(struct futex_waiter *w);
/* Dequeues w, marks it woken and calls its wake function. */
void futex_wake_one(struct futex_waiter *w);

/* FUTEX_WAKE: wakes the oldest waiters on k whose bitset meets bitset,
 * up to n; as Linux, n <= 0 still wakes one. Returns how many, or
 * -EINVAL on meeting a PI waiter (those woken before it stay woken). */
int futex_wake_locked(struct futex_bucket *b, const struct futex_key *k, int n,
		      uint32_t bitset);
/* FUTEX_REQUEUE: wakes up to nr_wake waiters on k1, then moves up to
 * nr_requeue more to k2 (in b2), oldest first; both buckets locked.
 * Returns woken + moved, -EINVAL for negative counts or a PI waiter. */
int futex_requeue_locked(struct futex_bucket *b1, const struct futex_key *k1,
			 struct futex_bucket *b2, const struct futex_key *k2,
			 int nr_wake, int nr_requeue);
/* The oldest waiter on k, or NULL. */
struct futex_waiter *futex_first_waiter(struct futex_bucket *b, const struct futex_key *k);
int futex_count_waiters(struct futex_bucket *b, const struct futex_key *k);

/* FUTEX_WAKE_OP's encoded operation: op and cmp as given, args sign
 * extended from 12 bits, and 1 << oparg when FUTEX_OP_OPARG_SHIFT is
 * set (a shift outside 0..31 is masked to 5 bits, as Linux does). */
struct futex_wake_op {
	unsigned op, cmp;
	int32_t oparg, cmparg;
};

void futex_wake_op_decode(uint32_t encoded, struct futex_wake_op *out);
/* The new value of the word; -ENOSYS for an unknown op. */
int futex_wake_op_apply(const struct futex_wake_op *o, uint32_t old, uint32_t *nv);
/* Whether the old value passes the comparison (signed); -ENOSYS for an
 * unknown cmp. */
int futex_wake_op_compare(const struct futex_wake_op *o, uint32_t old);

/* FUTEX_LOCK_PI on a word holding uval, for tid: the word to write and
 * what it means (kernel/futex/pi.c, futex_lock_pi_atomic). */
enum futex_pi_lock {
	FUTEX_PI_ACQUIRE = 1, /* the word was free: nv makes tid the owner */
	FUTEX_PI_WAIT = 2,    /* owned by another: nv has FUTEX_WAITERS set */
};
/* Returns FUTEX_PI_*, or -EDEADLK when tid already owns it. */
int futex_pi_lock_word(uint32_t uval, uint32_t tid, uint32_t *nv);
/* The word that hands a PI lock to tid: waiters stay flagged while the
 * sentry may hold waiters, and a dead owner is recorded. */
uint32_t futex_pi_handoff_word(uint32_t tid, bool owner_died);

#endif
