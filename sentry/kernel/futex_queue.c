/* Futex wait queues and the pure rules of futex(2): bucket hashing, FIFO
 * wake and requeue, FUTEX_WAKE_OP's arithmetic, the PI word's states. */
#include "sentry/kernel/futex_queue.h"

#include <errno.h>
#include <linux/futex.h>

#include "lib/lockpair.h"

void futex_table_init(struct futex_table *ft)
{
	for (int i = 0; i < FUTEX_NBUCKETS; i++) {
		pthread_mutex_init(&ft->buckets[i].lock, NULL);
		ft->buckets[i].head = NULL;
		ft->buckets[i].tail = &ft->buckets[i].head;
	}
}

void futex_table_destroy(struct futex_table *ft)
{
	for (int i = 0; i < FUTEX_NBUCKETS; i++)
		pthread_mutex_destroy(&ft->buckets[i].lock);
}

bool futex_key_eq(const struct futex_key *a, const struct futex_key *b)
{
	return a->kind == b->kind && a->object == b->object && a->offset == b->offset;
}

struct futex_bucket *futex_bucket_of(struct futex_table *ft, const struct futex_key *k)
{
	uint64_t h = k->object * 0x9e3779b97f4a7c15ULL ^ k->offset * 0xc2b2ae3d27d4eb4fULL ^
		     (uint64_t)k->kind;
	return &ft->buckets[(h >> 32) % FUTEX_NBUCKETS];
}

void futex_lock_two(struct futex_bucket *a, struct futex_bucket *b)
{
	mutex_lock_pair(&a->lock, &b->lock);
}

void futex_unlock_two(struct futex_bucket *a, struct futex_bucket *b)
{
	mutex_unlock_pair(&a->lock, &b->lock);
}

/* Links w at b's tail and makes b its guard. */
static void link_tail(struct futex_bucket *b, struct futex_waiter *w)
{
	w->next = NULL;
	w->pprev = b->tail;
	*b->tail = w;
	b->tail = &w->next;
	__atomic_store_n(&w->bucket, b, __ATOMIC_RELEASE);
}

/* Unlinks w (queued) from its bucket; w->bucket is left as it was. */
static void unlink_waiter(struct futex_waiter *w)
{
	if (w->next)
		w->next->pprev = w->pprev;
	else
		w->bucket->tail = w->pprev;
	*w->pprev = w->next;
	w->next = NULL;
	w->pprev = NULL;
}

void futex_enqueue(struct futex_bucket *b, struct futex_waiter *w)
{
	w->woken = false;
	link_tail(b, w);
}

bool futex_dequeue(struct futex_waiter *w)
{
	if (!w->pprev)
		return false;
	unlink_waiter(w);
	__atomic_store_n(&w->bucket, NULL, __ATOMIC_RELEASE);
	return true;
}

bool futex_queued(const struct futex_waiter *w)
{
	return w->pprev != NULL;
}

struct futex_bucket *futex_lock_waiter(struct futex_waiter *w)
{
	for (;;) {
		struct futex_bucket *b = __atomic_load_n(&w->bucket, __ATOMIC_ACQUIRE);
		if (!b)
			return NULL;
		pthread_mutex_lock(&b->lock);
		/* A requeue may have moved w meanwhile. */
		if (__atomic_load_n(&w->bucket, __ATOMIC_RELAXED) == b)
			return b;
		pthread_mutex_unlock(&b->lock);
	}
}

void futex_wake_one(struct futex_waiter *w)
{
	/* Unlinked, but w->bucket stays set until the wake function is done
	 * with w: a waiter that sees it clear may return and free w. */
	if (w->pprev)
		unlink_waiter(w);
	w->woken = true;
	if (w->wake)
		w->wake(w);
	__atomic_store_n(&w->bucket, NULL, __ATOMIC_RELEASE);
}

int futex_wake_locked(struct futex_bucket *b, const struct futex_key *k, int n,
		      uint32_t bitset)
{
	int woken = 0;

	for (struct futex_waiter *w = b->head, *next; w; w = next) {
		next = w->next;
		if (!futex_key_eq(&w->key, k))
			continue;
		if (w->pi)
			return -EINVAL;
		if (!(w->bitset & bitset))
			continue;
		futex_wake_one(w);
		if (++woken >= n)
			break;
	}
	return woken;
}

int futex_requeue_locked(struct futex_bucket *b1, const struct futex_key *k1,
			 struct futex_bucket *b2, const struct futex_key *k2,
			 int nr_wake, int nr_requeue)
{
	int count = 0;

	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	for (struct futex_waiter *w = b1->head, *next; w; w = next) {
		next = w->next;
		if (count - nr_wake >= nr_requeue)
			break;
		if (!futex_key_eq(&w->key, k1))
			continue;
		if (w->pi)
			return -EINVAL;
		if (++count <= nr_wake) {
			futex_wake_one(w);
			continue;
		}
		/* Within one bucket it keeps its place (as Linux); across,
		 * straight from one guard to the other: the waiter must
		 * never see its bucket clear while still queued. */
		w->key = *k2;
		if (b1 != b2) {
			unlink_waiter(w);
			link_tail(b2, w);
		}
	}
	return count;
}

struct futex_waiter *futex_first_waiter(struct futex_bucket *b, const struct futex_key *k)
{
	for (struct futex_waiter *w = b->head; w; w = w->next)
		if (futex_key_eq(&w->key, k))
			return w;
	return NULL;
}

int futex_count_waiters(struct futex_bucket *b, const struct futex_key *k)
{
	int n = 0;

	for (struct futex_waiter *w = b->head; w; w = w->next)
		n += futex_key_eq(&w->key, k);
	return n;
}

static int32_t sign_extend12(uint32_t v)
{
	return (int32_t)(v << 20) >> 20;
}

void futex_wake_op_decode(uint32_t encoded, struct futex_wake_op *out)
{
	out->op = (encoded >> 28) & 7;
	out->cmp = (encoded >> 24) & 15;
	out->oparg = sign_extend12((encoded >> 12) & 0xfff);
	out->cmparg = sign_extend12(encoded & 0xfff);
	/* Linux masks a bad shift (and logs it) rather than failing. */
	if (encoded & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28))
		out->oparg = (int32_t)(1u << (out->oparg & 31));
}

int futex_wake_op_apply(const struct futex_wake_op *o, uint32_t old, uint32_t *nv)
{
	uint32_t arg = (uint32_t)o->oparg;

	switch (o->op) {
	case FUTEX_OP_SET: *nv = arg; return 0;
	case FUTEX_OP_ADD: *nv = old + arg; return 0;
	case FUTEX_OP_OR: *nv = old | arg; return 0;
	case FUTEX_OP_ANDN: *nv = old & ~arg; return 0;
	case FUTEX_OP_XOR: *nv = old ^ arg; return 0;
	default: return -ENOSYS;
	}
}

int futex_wake_op_compare(const struct futex_wake_op *o, uint32_t old)
{
	int32_t v = (int32_t)old;

	switch (o->cmp) {
	case FUTEX_OP_CMP_EQ: return v == o->cmparg;
	case FUTEX_OP_CMP_NE: return v != o->cmparg;
	case FUTEX_OP_CMP_LT: return v < o->cmparg;
	case FUTEX_OP_CMP_LE: return v <= o->cmparg;
	case FUTEX_OP_CMP_GT: return v > o->cmparg;
	case FUTEX_OP_CMP_GE: return v >= o->cmparg;
	default: return -ENOSYS;
	}
}

int futex_pi_lock_word(uint32_t uval, uint32_t tid, uint32_t *nv)
{
	if ((uval & FUTEXQ_TID_MASK) == tid)
		return -EDEADLK;
	if (!(uval & FUTEXQ_TID_MASK)) {
		/* Free (the bits left say why userspace came in): take it,
		 * keeping a dead owner's mark for the new owner to see. */
		*nv = (uval & FUTEXQ_OWNER_DIED) | tid;
		return FUTEX_PI_ACQUIRE;
	}
	*nv = uval | FUTEXQ_WAITERS;
	return FUTEX_PI_WAIT;
}

uint32_t futex_pi_handoff_word(uint32_t tid, bool owner_died)
{
	return tid | FUTEXQ_WAITERS | (owner_died ? FUTEXQ_OWNER_DIED : 0);
}
