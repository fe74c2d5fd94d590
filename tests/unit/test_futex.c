/* Futex queueing (sentry/kernel/futex_queue.c): wake counts (n <= 0 wakes
 * one, as Linux), bitsets, FIFO order, keys kept apart by address space,
 * address and kind, requeue limits, waiters that left before a wake,
 * PI waiters refusing plain wakes, FUTEX_WAKE_OP's decoding and
 * arithmetic with its edge values and bad inputs, and the PI word's
 * states. */
#include "unit.h"

#include <errno.h>
#include <linux/futex.h>

#include "sentry/kernel/futex_queue.h"

static struct futex_table ft;

static void setup(void) { futex_table_init(&ft); }
static void teardown(void) { futex_table_destroy(&ft); }

#define MAXW 16

/* Waiters in the order they were woken. */
static struct futex_waiter *woke[MAXW];
static int nwoke;

static void record(struct futex_waiter *w)
{
	cr_assert_lt(nwoke, MAXW);
	woke[nwoke++] = w;
}

static struct futex_key pkey(uint64_t mm, uint64_t addr)
{
	return (struct futex_key){.kind = FUTEX_KEY_PRIVATE, .object = mm, .offset = addr};
}

static void add(struct futex_waiter *w, struct futex_key k, uint32_t bitset)
{
	struct futex_bucket *b = futex_bucket_of(&ft, &k);

	*w = (struct futex_waiter){.key = k, .bitset = bitset, .wake = record};
	pthread_mutex_lock(&b->lock);
	futex_enqueue(b, w);
	pthread_mutex_unlock(&b->lock);
}

static int wake(struct futex_key k, int n, uint32_t bitset)
{
	struct futex_bucket *b = futex_bucket_of(&ft, &k);

	pthread_mutex_lock(&b->lock);
	int r = futex_wake_locked(b, &k, n, bitset);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static int count(struct futex_key k)
{
	struct futex_bucket *b = futex_bucket_of(&ft, &k);

	pthread_mutex_lock(&b->lock);
	int r = futex_count_waiters(b, &k);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static int requeue(struct futex_key k1, struct futex_key k2, int nwake, int nreq)
{
	struct futex_bucket *b1 = futex_bucket_of(&ft, &k1), *b2 = futex_bucket_of(&ft, &k2);

	futex_lock_two(b1, b2);
	int r = futex_requeue_locked(b1, &k1, b2, &k2, nwake, nreq);
	futex_unlock_two(b1, b2);
	return r;
}

TestSuite(futex_queue, .init = setup, .fini = teardown);

UTest(futex_queue, wake_counts)
{
	struct futex_waiter w[5];
	struct futex_key k = pkey(1, 0x1000);

	for (int i = 0; i < 5; i++)
		add(&w[i], k, FUTEXQ_BITSET_ANY);
	cr_assert_eq(wake(k, 2, FUTEXQ_BITSET_ANY), 2);
	cr_assert_eq(count(k), 3);
	/* Linux's loop checks the count after a wake: 0 and negative
	 * counts still wake one. */
	cr_assert_eq(wake(k, 0, FUTEXQ_BITSET_ANY), 1);
	cr_assert_eq(wake(k, -5, FUTEXQ_BITSET_ANY), 1);
	cr_assert_eq(wake(k, 100, FUTEXQ_BITSET_ANY), 1);
	cr_assert_eq(wake(k, 100, FUTEXQ_BITSET_ANY), 0);
	cr_assert_eq(wake(k, 0, FUTEXQ_BITSET_ANY), 0);
	cr_assert_eq(nwoke, 5);
	for (int i = 0; i < 5; i++) {
		cr_assert(w[i].woken);
		cr_assert_not(futex_queued(&w[i]));
		cr_assert_null(w[i].bucket);
	}
}

UTest(futex_queue, fifo_order)
{
	struct futex_waiter w[8];
	struct futex_key k = pkey(1, 0x2000);

	for (int i = 0; i < 8; i++)
		add(&w[i], k, FUTEXQ_BITSET_ANY);
	cr_assert_eq(wake(k, 3, FUTEXQ_BITSET_ANY), 3);
	cr_assert_eq(wake(k, 8, FUTEXQ_BITSET_ANY), 5);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(woke[i], &w[i], "woken %d out of order", i);
}

UTest(futex_queue, bitsets)
{
	struct futex_waiter a, b, c, d;
	struct futex_key k = pkey(1, 0x3000);

	add(&a, k, 0x1);
	add(&b, k, 0x2);
	add(&c, k, 0x3);
	add(&d, k, FUTEX_BITSET_MATCH_ANY);
	/* Bit 2 meets b, c and d, in that order; a is skipped. */
	cr_assert_eq(wake(k, 2, 0x2), 2);
	cr_assert_eq(woke[0], &b);
	cr_assert_eq(woke[1], &c);
	/* No bit in common with anyone left but d. */
	cr_assert_eq(wake(k, 10, 0x4), 1);
	cr_assert_eq(woke[2], &d);
	cr_assert_eq(wake(k, 10, 0x8), 0);
	cr_assert_eq(wake(k, 10, FUTEX_BITSET_MATCH_ANY), 1);
	cr_assert_eq(woke[3], &a);
}

UTest(futex_queue, keys_apart)
{
	struct futex_waiter w[6];
	struct futex_key mm1 = pkey(0x1000, 0x4000), mm2 = pkey(0x2000, 0x4000),
			 other = pkey(0x1000, 0x4004);
	/* The same numbers in a shared key are another futex. */
	struct futex_key shared = {.kind = FUTEX_KEY_SHARED, .object = 0x1000, .offset = 0x4000};
	struct futex_key shared2 = {.kind = FUTEX_KEY_SHARED, .object = 0x1001, .offset = 0x4000};

	add(&w[0], mm1, FUTEXQ_BITSET_ANY);
	add(&w[1], mm2, FUTEXQ_BITSET_ANY);
	add(&w[2], other, FUTEXQ_BITSET_ANY);
	add(&w[3], shared, FUTEXQ_BITSET_ANY);
	add(&w[4], shared2, FUTEXQ_BITSET_ANY);
	add(&w[5], shared, FUTEXQ_BITSET_ANY);
	cr_assert_not(futex_key_eq(&mm1, &shared));
	cr_assert_eq(wake(mm1, 10, FUTEXQ_BITSET_ANY), 1);
	cr_assert_eq(woke[0], &w[0]);
	cr_assert_eq(wake(shared, 10, FUTEXQ_BITSET_ANY), 2);
	cr_assert_eq(woke[1], &w[3]);
	cr_assert_eq(woke[2], &w[5]);
	cr_assert_eq(count(mm2), 1);
	cr_assert_eq(count(other), 1);
	cr_assert_eq(count(shared2), 1);
	cr_assert_eq(count(mm1), 0);
}

/* Many keys in few buckets: each still finds only its own. */
UTest(futex_queue, bucket_collisions)
{
	static struct futex_waiter w[4 * FUTEX_NBUCKETS];
	int n = 4 * FUTEX_NBUCKETS;

	for (int i = 0; i < n; i++)
		add(&w[i], pkey(7, 0x10000 + 4 * (uint64_t)i), FUTEXQ_BITSET_ANY);
	for (int i = 0; i < n; i++) {
		struct futex_key k = pkey(7, 0x10000 + 4 * (uint64_t)i);
		struct futex_bucket *b = futex_bucket_of(&ft, &k);
		pthread_mutex_lock(&b->lock);
		int r = futex_wake_locked(b, &k, 10, FUTEXQ_BITSET_ANY);
		pthread_mutex_unlock(&b->lock);
		cr_assert_eq(r, 1);
		cr_assert(w[i].woken);
		nwoke = 0;
	}
}

UTest(futex_queue, removed_waiter_not_counted)
{
	struct futex_waiter w[3];
	struct futex_key k = pkey(1, 0x5000);
	struct futex_bucket *b = futex_bucket_of(&ft, &k);

	for (int i = 0; i < 3; i++)
		add(&w[i], k, FUTEXQ_BITSET_ANY);
	/* w[0] timed out: it takes itself off under the lock. */
	struct futex_bucket *lb = futex_lock_waiter(&w[0]);
	cr_assert_eq(lb, b);
	cr_assert(futex_dequeue(&w[0]));
	cr_assert_not(futex_dequeue(&w[0]));
	pthread_mutex_unlock(&lb->lock);
	cr_assert_null(futex_lock_waiter(&w[0]));
	cr_assert_eq(wake(k, 1, FUTEXQ_BITSET_ANY), 1);
	cr_assert_eq(woke[0], &w[1]);
	cr_assert_not(w[0].woken);
	/* The last one leaves too (the tail of the bucket): a wake finds
	 * nobody, and a new waiter queues normally after it. */
	lb = futex_lock_waiter(&w[2]);
	cr_assert(futex_dequeue(&w[2]));
	pthread_mutex_unlock(&lb->lock);
	cr_assert_eq(wake(k, 5, FUTEXQ_BITSET_ANY), 0);
	add(&w[2], k, FUTEXQ_BITSET_ANY);
	cr_assert_eq(wake(k, 5, FUTEXQ_BITSET_ANY), 1);
	cr_assert_eq(woke[1], &w[2]);
	/* Woken: the waiter sees no bucket to lock. */
	cr_assert_null(futex_lock_waiter(&w[2]));
}

UTest(futex_queue, requeue_limits)
{
	struct futex_waiter w[8];
	struct futex_key k1 = pkey(1, 0x6000), k2 = pkey(1, 0x7000);

	for (int i = 0; i < 8; i++)
		add(&w[i], k1, FUTEXQ_BITSET_ANY);
	/* Two woken (the oldest), then three moved. */
	cr_assert_eq(requeue(k1, k2, 2, 3), 5);
	cr_assert_eq(nwoke, 2);
	cr_assert_eq(woke[0], &w[0]);
	cr_assert_eq(woke[1], &w[1]);
	cr_assert_eq(count(k1), 3);
	cr_assert_eq(count(k2), 3);
	for (int i = 2; i < 5; i++) {
		cr_assert(futex_key_eq(&w[i].key, &k2));
		cr_assert_eq(w[i].bucket, futex_bucket_of(&ft, &k2));
		cr_assert_not(w[i].woken);
	}
	/* Nothing asked for, nothing done. */
	cr_assert_eq(requeue(k1, k2, 0, 0), 0);
	/* Only moves: the rest of k1, still in order, behind k2's. */
	cr_assert_eq(requeue(k1, k2, 0, 100), 3);
	cr_assert_eq(count(k1), 0);
	cr_assert_eq(wake(k2, 100, FUTEXQ_BITSET_ANY), 6);
	for (int i = 2; i < 8; i++)
		cr_assert_eq(woke[i], &w[i]);
	/* Negative counts. */
	cr_assert_eq(requeue(k1, k2, -1, 0), -EINVAL);
	cr_assert_eq(requeue(k1, k2, 0, -1), -EINVAL);
}

UTest(futex_queue, requeue_same_key_and_wake_only)
{
	struct futex_waiter w[4];
	struct futex_key k = pkey(1, 0x8000);

	for (int i = 0; i < 4; i++)
		add(&w[i], k, FUTEXQ_BITSET_ANY);
	/* Wake only (nr_requeue 0) stops after the wakes. */
	cr_assert_eq(requeue(k, pkey(2, 0x8000), 1, 0), 1);
	cr_assert_eq(count(k), 3);
	/* Onto itself: counted, kept in place. */
	cr_assert_eq(requeue(k, k, 0, 2), 2);
	cr_assert_eq(count(k), 3);
	cr_assert_eq(wake(k, 10, FUTEXQ_BITSET_ANY), 3);
	cr_assert_eq(woke[1], &w[1]);
	cr_assert_eq(woke[3], &w[3]);
}

UTest(futex_queue, pi_waiters)
{
	struct futex_waiter plain, pi;
	struct futex_key k = pkey(1, 0x9000);
	struct futex_bucket *b = futex_bucket_of(&ft, &k);

	add(&pi, k, 0);
	pi.pi = true;
	/* A plain wake or requeue meeting a PI waiter: EINVAL. */
	cr_assert_eq(wake(k, 1, FUTEXQ_BITSET_ANY), -EINVAL);
	cr_assert_eq(requeue(k, pkey(1, 0x9004), 0, 1), -EINVAL);
	cr_assert_not(pi.woken);
	pthread_mutex_lock(&b->lock);
	cr_assert_eq(futex_first_waiter(b, &k), &pi);
	futex_wake_one(&pi);
	pthread_mutex_unlock(&b->lock);
	cr_assert(pi.woken);
	cr_assert_eq(woke[0], &pi);
	/* Plain waiters before a PI one are woken, then EINVAL. */
	add(&plain, k, FUTEXQ_BITSET_ANY);
	add(&pi, k, 0);
	pi.pi = true;
	cr_assert_eq(wake(k, 5, FUTEXQ_BITSET_ANY), -EINVAL);
	cr_assert(plain.woken);
	pthread_mutex_lock(&b->lock);
	cr_assert_eq(futex_first_waiter(b, &k), &pi);
	futex_dequeue(&pi);
	cr_assert_null(futex_first_waiter(b, &k));
	pthread_mutex_unlock(&b->lock);
}

/* ---- FUTEX_WAKE_OP ---- */

static uint32_t enc(unsigned op, unsigned cmp, int oparg, int cmparg)
{
	return FUTEX_OP(op, oparg & 0xfff, cmp, cmparg & 0xfff);
}

UTest(futex_wake_op, decode)
{
	struct futex_wake_op o;

	futex_wake_op_decode(enc(FUTEX_OP_ADD, FUTEX_OP_CMP_GE, 5, 7), &o);
	cr_assert_eq(o.op, FUTEX_OP_ADD);
	cr_assert_eq(o.cmp, FUTEX_OP_CMP_GE);
	cr_assert_eq(o.oparg, 5);
	cr_assert_eq(o.cmparg, 7);
	/* 12-bit arguments, sign extended. */
	futex_wake_op_decode(enc(FUTEX_OP_SET, FUTEX_OP_CMP_EQ, -1, -2048), &o);
	cr_assert_eq(o.oparg, -1);
	cr_assert_eq(o.cmparg, -2048);
	futex_wake_op_decode(enc(FUTEX_OP_SET, FUTEX_OP_CMP_EQ, 2047, 2047), &o);
	cr_assert_eq(o.oparg, 2047);
	cr_assert_eq(o.cmparg, 2047);
	futex_wake_op_decode(enc(FUTEX_OP_SET, FUTEX_OP_CMP_EQ, 2048, 0x800), &o);
	cr_assert_eq(o.oparg, -2048);
	cr_assert_eq(o.cmparg, -2048);
}

UTest(futex_wake_op, oparg_shift)
{
	struct futex_wake_op o;

	futex_wake_op_decode(enc(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, 0, 0), &o);
	cr_assert_eq(o.op, FUTEX_OP_OR);
	cr_assert_eq(o.oparg, 1);
	futex_wake_op_decode(enc(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, 31, 0), &o);
	cr_assert_eq((uint32_t)o.oparg, 0x80000000u);
	/* Out of range: masked to five bits, as Linux does (it only logs). */
	futex_wake_op_decode(enc(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, 32, 0), &o);
	cr_assert_eq(o.oparg, 1);
	futex_wake_op_decode(enc(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, 33, 0), &o);
	cr_assert_eq(o.oparg, 2);
	futex_wake_op_decode(enc(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, -1, 0), &o);
	cr_assert_eq((uint32_t)o.oparg, 0x80000000u);
	futex_wake_op_decode(enc(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, FUTEX_OP_CMP_EQ, 2047, 0), &o);
	cr_assert_eq((uint32_t)o.oparg, 0x80000000u);
}

static uint32_t apply(unsigned op, int oparg, uint32_t old)
{
	struct futex_wake_op o;
	uint32_t nv = 0xdeadbeef;

	futex_wake_op_decode(enc(op, FUTEX_OP_CMP_EQ, oparg, 0), &o);
	cr_assert_eq(futex_wake_op_apply(&o, old, &nv), 0);
	return nv;
}

UTest(futex_wake_op, ops)
{
	cr_assert_eq(apply(FUTEX_OP_SET, 5, 100), 5);
	cr_assert_eq(apply(FUTEX_OP_SET, -1, 100), 0xffffffffu);
	cr_assert_eq(apply(FUTEX_OP_ADD, 1, 41), 42);
	cr_assert_eq(apply(FUTEX_OP_ADD, -1, 0), 0xffffffffu);
	cr_assert_eq(apply(FUTEX_OP_ADD, 1, 0xffffffffu), 0);
	cr_assert_eq(apply(FUTEX_OP_ADD, 1, 0x7fffffffu), 0x80000000u);
	cr_assert_eq(apply(FUTEX_OP_OR, 0xf0, 0x0f), 0xff);
	cr_assert_eq(apply(FUTEX_OP_ANDN, 0x0f, 0xff), 0xf0);
	cr_assert_eq(apply(FUTEX_OP_ANDN, -1, 0xffffffffu), 0);
	cr_assert_eq(apply(FUTEX_OP_XOR, 0xff, 0x0f), 0xf0);
	cr_assert_eq(apply(FUTEX_OP_XOR, -1, 0), 0xffffffffu);
	cr_assert_eq(apply(FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 4, 1), 0x11);
	cr_assert_eq(apply(FUTEX_OP_ANDN | FUTEX_OP_OPARG_SHIFT, 31, 0xffffffffu), 0x7fffffffu);
	cr_assert_eq(apply(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 40, 0), 0x100);
}

UTest(futex_wake_op, unknown_op)
{
	struct futex_wake_op o;
	uint32_t nv = 7;

	for (unsigned op = 5; op < 8; op++) {
		futex_wake_op_decode(enc(op, FUTEX_OP_CMP_EQ, 1, 0), &o);
		cr_assert_eq(futex_wake_op_apply(&o, 3, &nv), -ENOSYS);
		cr_assert_eq(nv, 7, "an unknown op must not produce a value");
	}
}

static int cmp(unsigned c, int cmparg, uint32_t old)
{
	struct futex_wake_op o;

	futex_wake_op_decode(enc(FUTEX_OP_SET, c, 0, cmparg), &o);
	return futex_wake_op_compare(&o, old);
}

UTest(futex_wake_op, comparisons)
{
	cr_assert_eq(cmp(FUTEX_OP_CMP_EQ, 5, 5), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_EQ, 5, 6), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_NE, 5, 6), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_NE, 5, 5), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_LT, 5, 4), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_LT, 5, 5), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_LE, 5, 5), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_LE, 5, 6), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_GT, 5, 6), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_GT, 5, 5), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_GE, 5, 5), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_GE, 5, 4), 0);
	/* Signed: the old value as an int, the argument sign extended. */
	cr_assert_eq(cmp(FUTEX_OP_CMP_LT, 0, 0xffffffffu), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_GT, 0, 0x80000000u), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_EQ, -1, 0xffffffffu), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_EQ, -2048, 0xfffff800u), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_EQ, 0xfff, 0xfff), 0);
	cr_assert_eq(cmp(FUTEX_OP_CMP_GE, 2047, 2047), 1);
	cr_assert_eq(cmp(FUTEX_OP_CMP_LT, -2048, 0x80000000u), 1);
	for (unsigned c = 6; c < 16; c++)
		cr_assert_eq(cmp(c, 0, 0), -ENOSYS, "cmp %u", c);
}

/* ---- the PI word ---- */

UTest(futex_pi, lock_word)
{
	uint32_t nv = 0;

	cr_assert_eq(futex_pi_lock_word(0, 42, &nv), FUTEX_PI_ACQUIRE);
	cr_assert_eq(nv, 42);
	/* Free with bits left: the owner-died mark stays, waiters goes. */
	cr_assert_eq(futex_pi_lock_word(FUTEXQ_OWNER_DIED, 42, &nv), FUTEX_PI_ACQUIRE);
	cr_assert_eq(nv, 42 | FUTEXQ_OWNER_DIED);
	cr_assert_eq(futex_pi_lock_word(FUTEXQ_WAITERS | FUTEXQ_OWNER_DIED, 42, &nv),
		     FUTEX_PI_ACQUIRE);
	cr_assert_eq(nv, 42 | FUTEXQ_OWNER_DIED);
	/* Another's: wait, waiters flagged. */
	cr_assert_eq(futex_pi_lock_word(7, 42, &nv), FUTEX_PI_WAIT);
	cr_assert_eq(nv, 7 | FUTEXQ_WAITERS);
	cr_assert_eq(futex_pi_lock_word(7 | FUTEXQ_WAITERS | FUTEXQ_OWNER_DIED, 42, &nv),
		     FUTEX_PI_WAIT);
	cr_assert_eq(nv, 7 | FUTEXQ_WAITERS | FUTEXQ_OWNER_DIED);
	/* Ours already, whatever the flags. */
	cr_assert_eq(futex_pi_lock_word(42, 42, &nv), -EDEADLK);
	cr_assert_eq(futex_pi_lock_word(42 | FUTEXQ_WAITERS, 42, &nv), -EDEADLK);
	cr_assert_eq(futex_pi_lock_word(FUTEXQ_TID_MASK, FUTEXQ_TID_MASK, &nv), -EDEADLK);
}

UTest(futex_pi, handoff_word)
{
	cr_assert_eq(futex_pi_handoff_word(9, false), 9 | FUTEXQ_WAITERS);
	cr_assert_eq(futex_pi_handoff_word(9, true), 9 | FUTEXQ_WAITERS | FUTEXQ_OWNER_DIED);
	cr_assert_eq(FUTEXQ_WAITERS, FUTEX_WAITERS);
	cr_assert_eq(FUTEXQ_OWNER_DIED, FUTEX_OWNER_DIED);
	cr_assert_eq(FUTEXQ_TID_MASK, FUTEX_TID_MASK);
}
