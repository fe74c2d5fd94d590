/* Futexes. Waiters are kept in hashed buckets by key: (mm, address) for
 * process-private futexes, or (shared object, offset) for futexes in
 * shared mappings, so processes sharing memory after fork or through a
 * file meet on the same key. The value check and the queueing happen
 * under the bucket lock, and every waker takes that lock, so no wake-up
 * is lost between the check and the sleep.
 *
 * Lock order: bucket.lock -> task.block_lock. */
#include "sentry/kernel/futex.h"

#include "abi/errno_names.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"

#define NBUCKETS 256

struct fkey {
	uintptr_t object;   /* the mm (private) or the shared object's id */
	uint64_t offset;    /* the address (private) or offset in the object */
};

struct fwaiter {
	struct fkey key;
	uint32_t bitset;
	struct task *task;
	bool woken;
	struct fwaiter *next, **pprev;
};

struct bucket {
	pthread_mutex_t lock;
	struct fwaiter *head;
};

static struct bucket buckets[NBUCKETS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_buckets(void)
{
	for (int i = 0; i < NBUCKETS; i++)
		pthread_mutex_init(&buckets[i].lock, NULL);
}

static struct bucket *bucket_of(const struct fkey *k)
{
	uint64_t h = (uint64_t)k->object * 0x9e3779b97f4a7c15ULL ^ k->offset * 0xc2b2ae3d27d4eb4fULL;
	return &buckets[(h >> 32) % NBUCKETS];
}

static bool key_eq(const struct fkey *a, const struct fkey *b)
{
	return a->object == b->object && a->offset == b->offset;
}

/* Works out the key of uaddr for this task. */
static int get_key(struct task *t, uint64_t uaddr, bool private, struct fkey *k)
{
	struct mm *mm = t->mm;
	struct vma *v;
	int r = 0;

	if (uaddr & 3)
		return -EINVAL;
	if (!user_range_ok(uaddr, 4))
		return -EFAULT;
	if (private) {
		k->object = (uintptr_t)mm;
		k->offset = uaddr;
		return 0;
	}
	pthread_mutex_lock(&mm->lock);
	v = vma_find(mm, uaddr);
	if (!v) {
		r = -EFAULT;
	} else if (v->shared_id) {
		/* A shared mapping: key by what is mapped, not by where. */
		k->object = (uintptr_t)v->shared_id;
		k->offset = v->off + (uaddr - v->start);
	} else {
		k->object = (uintptr_t)mm;
		k->offset = uaddr;
	}
	pthread_mutex_unlock(&mm->lock);
	return r;
}

static void enqueue(struct bucket *b, struct fwaiter *w)
{
	w->next = b->head;
	if (b->head)
		b->head->pprev = &w->next;
	b->head = w;
	w->pprev = &b->head;
}

static void dequeue(struct fwaiter *w)
{
	if (!w->pprev)
		return;
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
}

/* Wakes up to n waiters on key in b (locked); returns how many. */
static int wake_locked(struct bucket *b, const struct fkey *k, int n, uint32_t bitset)
{
	int woken = 0;

	for (struct fwaiter *w = b->head, *next; w && woken < n; w = next) {
		next = w->next;
		if (!key_eq(&w->key, k) || !(w->bitset & bitset))
			continue;
		dequeue(w);
		w->woken = true;
		task_wake(w->task);
		woken++;
	}
	return woken;
}

static int read_word(struct task *t, uint64_t uaddr, uint32_t *v)
{
	return copy_from_user(t, v, uaddr, sizeof(*v));
}

static long futex_wait(struct task *t, uint64_t uaddr, bool private, uint32_t val,
		       uint64_t deadline, uint32_t bitset)
{
	struct fwaiter w = {.bitset = bitset, .task = t};
	struct bucket *b;
	uint32_t cur;
	int r;

	if (!bitset)
		return -EINVAL;
	r = get_key(t, uaddr, private, &w.key);
	if (r < 0)
		return r;
	b = bucket_of(&w.key);
	task_prepare_block(t);
	pthread_mutex_lock(&b->lock);
	r = read_word(t, uaddr, &cur);
	if (r == 0 && cur != val)
		r = -EAGAIN;
	if (r < 0) {
		pthread_mutex_unlock(&b->lock);
		return r;
	}
	enqueue(b, &w);
	pthread_mutex_unlock(&b->lock);
	for (;;) {
		r = task_block(t, deadline);
		pthread_mutex_lock(&b->lock);
		if (w.woken) {
			pthread_mutex_unlock(&b->lock);
			return 0;
		}
		if (r < 0) {
			dequeue(&w);
			pthread_mutex_unlock(&b->lock);
			return r == -EINTR ? -ERESTARTSYS : r;
		}
		/* Woken for another reason (a requeue moved us, or a stray
		 * wake): keep waiting. */
		task_prepare_block(t);
		pthread_mutex_unlock(&b->lock);
	}
}

static long futex_wake(struct task *t, uint64_t uaddr, bool private, int n, uint32_t bitset)
{
	struct fkey k;
	struct bucket *b;
	int r;

	if (!bitset)
		return -EINVAL;
	r = get_key(t, uaddr, private, &k);
	if (r < 0)
		return r;
	if (n <= 0)
		return 0;
	b = bucket_of(&k);
	pthread_mutex_lock(&b->lock);
	r = wake_locked(b, &k, n, FUTEX_BITSET_MATCH_ANY & bitset);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static void lock_two(struct bucket *a, struct bucket *b)
{
	if (a == b) {
		pthread_mutex_lock(&a->lock);
	} else if (a < b) {
		pthread_mutex_lock(&a->lock);
		pthread_mutex_lock(&b->lock);
	} else {
		pthread_mutex_lock(&b->lock);
		pthread_mutex_lock(&a->lock);
	}
}

static void unlock_two(struct bucket *a, struct bucket *b)
{
	pthread_mutex_unlock(&a->lock);
	if (a != b)
		pthread_mutex_unlock(&b->lock);
}

/* FUTEX_REQUEUE and FUTEX_CMP_REQUEUE. A requeued waiter keeps sleeping;
 * it only finds itself in another bucket. */
static long futex_requeue(struct task *t, uint64_t uaddr, uint64_t uaddr2, bool private,
			  int nwake, int nreq, bool cmp, uint32_t val3)
{
	struct fkey k1, k2;
	struct bucket *b1, *b2;
	int r, woken, moved = 0;
	uint32_t cur;

	if (nwake < 0 || nreq < 0)
		return -EINVAL;
	r = get_key(t, uaddr, private, &k1);
	if (r == 0)
		r = get_key(t, uaddr2, private, &k2);
	if (r < 0)
		return r;
	b1 = bucket_of(&k1);
	b2 = bucket_of(&k2);
	lock_two(b1, b2);
	if (cmp) {
		r = read_word(t, uaddr, &cur);
		if (r == 0 && cur != val3)
			r = -EAGAIN;
		if (r < 0) {
			unlock_two(b1, b2);
			return r;
		}
	}
	woken = wake_locked(b1, &k1, nwake, FUTEX_BITSET_MATCH_ANY);
	for (struct fwaiter *w = b1->head, *next; w && moved < nreq; w = next) {
		next = w->next;
		if (!key_eq(&w->key, &k1))
			continue;
		dequeue(w);
		w->key = k2;
		enqueue(b2, w);
		moved++;
	}
	unlock_two(b1, b2);
	return woken + moved;
}

/* FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg); wake on uaddr; and on
 * uaddr2 if the old value passes cmp. The sentry cannot make this
 * read-modify-write atomic against application threads touching the word
 * at the same instant (it holds no mapping of application memory); it is
 * atomic against every other futex call. glibc no longer uses WAKE_OP. */
static long futex_wake_op(struct task *t, uint64_t uaddr, uint64_t uaddr2, bool private,
			  int n1, int n2, uint32_t encoded)
{
	unsigned op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	int oparg = (int)(encoded << 8) >> 20, cmparg = (int)(encoded << 20) >> 20;
	struct fkey k1, k2;
	struct bucket *b1, *b2;
	uint32_t old, nv;
	bool hit;
	int r;

	if ((encoded >> 28) & 8)
		oparg = oparg < 0 || oparg > 31 ? -1 : (int)(1u << oparg);
	if (oparg == -1 && ((encoded >> 28) & 8))
		return -EINVAL;
	r = get_key(t, uaddr, private, &k1);
	if (r == 0)
		r = get_key(t, uaddr2, private, &k2);
	if (r < 0)
		return r;
	b1 = bucket_of(&k1);
	b2 = bucket_of(&k2);
	lock_two(b1, b2);
	r = read_word(t, uaddr2, &old);
	if (r < 0)
		goto out;
	switch (op) {
	case FUTEX_OP_SET: nv = (uint32_t)oparg; break;
	case FUTEX_OP_ADD: nv = old + (uint32_t)oparg; break;
	case FUTEX_OP_OR: nv = old | (uint32_t)oparg; break;
	case FUTEX_OP_ANDN: nv = old & ~(uint32_t)oparg; break;
	case FUTEX_OP_XOR: nv = old ^ (uint32_t)oparg; break;
	default: r = -ENOSYS; goto out;
	}
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: hit = (int)old == cmparg; break;
	case FUTEX_OP_CMP_NE: hit = (int)old != cmparg; break;
	case FUTEX_OP_CMP_LT: hit = (int)old < cmparg; break;
	case FUTEX_OP_CMP_LE: hit = (int)old <= cmparg; break;
	case FUTEX_OP_CMP_GT: hit = (int)old > cmparg; break;
	case FUTEX_OP_CMP_GE: hit = (int)old >= cmparg; break;
	default: r = -ENOSYS; goto out;
	}
	r = copy_to_user(t, uaddr2, &nv, sizeof(nv));
	if (r < 0)
		goto out;
	r = wake_locked(b1, &k1, n1, FUTEX_BITSET_MATCH_ANY);
	if (hit)
		r += wake_locked(b2, &k2, n2, FUTEX_BITSET_MATCH_ANY);
out:
	unlock_two(b1, b2);
	return r;
}

/* Converts the timeout argument to a CLOCK_MONOTONIC deadline in ns.
 * abs: the value is an absolute time on clock (FUTEX_CLOCK_REALTIME or
 * not); otherwise relative. */
static int deadline_of(struct task *t, uint64_t uts, bool abs, bool realtime, uint64_t *out)
{
	struct k_timespec ts;

	*out = 0;
	if (!uts)
		return 0;
	if (copy_from_user(t, &ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
		return -EINVAL;
	uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (!abs) {
		*out = monotonic_ns() + ns;
	} else if (realtime) {
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		uint64_t now_rt = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
		uint64_t mono = monotonic_ns();
		*out = ns > now_rt ? mono + (ns - now_rt) : mono;
	} else {
		*out = ns;
	}
	if (*out == 0)
		*out = 1; /* 0 means "no deadline" to task_block */
	return 0;
}

long do_futex(struct task *t, uint64_t uaddr, int op, uint32_t val, uint64_t utimeout,
	      uint64_t uaddr2, uint32_t val3)
{
	bool private = op & FUTEX_PRIVATE_FLAG;
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	int cmd = op & FUTEX_CMD_MASK;
	uint64_t deadline;
	int r;

	pthread_once(&once, init_buckets);
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
	    cmd != FUTEX_LOCK_PI2)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		r = deadline_of(t, utimeout, false, false, &deadline);
		return r < 0 ? r : futex_wait(t, uaddr, private, val, deadline, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAIT_BITSET:
		r = deadline_of(t, utimeout, true, realtime, &deadline);
		return r < 0 ? r : futex_wait(t, uaddr, private, val, deadline, val3);
	case FUTEX_WAKE:
		return futex_wake(t, uaddr, private, (int)val, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAKE_BITSET:
		return futex_wake(t, uaddr, private, (int)val, val3);
	case FUTEX_REQUEUE:
		return futex_requeue(t, uaddr, uaddr2, private, (int)val, (int)utimeout, false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(t, uaddr, uaddr2, private, (int)val, (int)utimeout, true, val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(t, uaddr, uaddr2, private, (int)val, (int)utimeout, val3);
	default:
		/* The PI operations arrive with priority-inheritance mutexes. */
		return -ENOSYS;
	}
}

long futex_wake_address(struct task *t, uint64_t uaddr)
{
	pthread_once(&once, init_buckets);
	return futex_wake(t, uaddr, false, 1, FUTEX_BITSET_MATCH_ANY);
}
