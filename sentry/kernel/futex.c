/* Futexes: futex(2) over the wait queues of futex_queue.c. Keys are
 * (mm, address) for process-private futexes, or (shared object, offset)
 * for futexes in shared mappings, so processes sharing memory after fork
 * or through a file meet on the same key. The value check and the
 * queueing happen under the bucket lock, and every waker takes that lock,
 * so no wake-up is lost between the check and the sleep.
 *
 * Priority-inheritance futexes (FUTEX_LOCK_PI and friends) keep Linux's
 * protocol on the word: owner tid | FUTEX_WAITERS | FUTEX_OWNER_DIED,
 * with the lock handed straight to the oldest waiter at unlock. The
 * priority inheritance itself means nothing here: the sentry does not
 * schedule the host threads that run the application, so waiters are
 * served first come, first served.
 *
 * The application takes and releases these locks with its own
 * compare-and-swap on the word, so every change the sentry makes to it
 * is a compare-and-swap run by the task's stub thread (word_cmpxchg), as
 * FUTEX_WAKE_OP's update is.
 *
 * Lock order: bucket.lock -> kernel.lock -> thread_group.lock ->
 * task.block_lock. */
#include "sentry/kernel/futex.h"

#include "abi/errno_names.h"

#include <errno.h>
#include <linux/futex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sentry/kernel/futex_queue.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"

/* A task waiting in FUTEX_WAIT or FUTEX_LOCK_PI. */
struct fwait {
	struct futex_waiter q;
	struct task *task;
	uint64_t uaddr;   /* in task's address space: where a PI hand-off writes */
	int error;        /* PI: set with woken when the lock could not be passed */
};

static struct futex_table table;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_table(void)
{
	futex_table_init(&table);
}

static struct fwait *fwait_of(struct futex_waiter *q)
{
	return (struct fwait *)((char *)q - offsetof(struct fwait, q));
}

static void wake_task(struct futex_waiter *q)
{
	task_wake(fwait_of(q)->task);
}

/* Works out the key of uaddr for this task. */
static int get_key(struct task *t, uint64_t uaddr, bool private, struct futex_key *k)
{
	struct mm *mm = t->mm;
	struct vma *v;
	int r = 0;

	if (uaddr & 3)
		return -EINVAL;
	if (!user_range_ok(uaddr, 4))
		return -EFAULT;
	k->kind = FUTEX_KEY_PRIVATE;
	k->object = (uintptr_t)mm;
	k->offset = uaddr;
	if (private)
		return 0;
	pthread_mutex_lock(&mm->lock);
	v = vma_find(mm, uaddr);
	if (!v) {
		r = -EFAULT;
	} else if (v->shared_id) {
		/* A shared mapping: key by what is mapped, not by where. */
		k->kind = FUTEX_KEY_SHARED;
		k->object = v->shared_id;
		k->offset = v->off + (uaddr - v->start);
	}
	pthread_mutex_unlock(&mm->lock);
	return r;
}

static int read_word(struct task *t, uint64_t uaddr, uint32_t *v)
{
	return copy_from_user(t, v, uaddr, sizeof(*v));
}

/* Compare-and-exchange on a futex word, the caller holding its bucket
 * lock: the task's own stub thread runs a locked cmpxchg (the platform's
 * as_cmpxchg32), so it is atomic against the application's threads,
 * which take and release PI locks with their own cmpxchg on the word.
 * *cur gets the value found; the write happens only if it was old.
 *
 * The platform may run it only on memory mapped writable (a fault in the
 * stub would end the application): checked under the mm lock, which
 * keeps the mapping in place. Without the platform call (or from a task
 * whose stub cannot run it, as one already gone), copying in and out is
 * atomic against other futex calls only. */
static int word_cmpxchg(struct task *t, uint64_t uaddr, uint32_t old, uint32_t nv,
			uint32_t *cur)
{
	struct mm *mm = t->mm;
	long prev = -ENOSYS;
	int r;

	if (platform->as_cmpxchg32 && mm && mm->as && !(uaddr & 3)) {
		pthread_mutex_lock(&mm->lock);
		struct vma *v = vma_find(mm, uaddr);
		if (!v || !(v->prot & PROT_WRITE) || !(v->prot & PROT_READ))
			prev = -EFAULT;
		else
			prev = platform->as_cmpxchg32(mm->as, uaddr, old, nv);
		pthread_mutex_unlock(&mm->lock);
		if (prev >= 0) {
			*cur = (uint32_t)prev;
			return 0;
		}
		if (prev == -EFAULT)
			return -EFAULT;
	}
	r = read_word(t, uaddr, cur);
	if (r < 0 || *cur != old)
		return r;
	return copy_to_user(t, uaddr, &nv, sizeof(nv));
}

/* Waits on the waiter w (queued, task_prepare_block done) until it is
 * woken (0), the deadline passes or a signal comes (-errno from
 * task_block); on an error w is off its queue. */
static int wait_queued(struct fwait *w, uint64_t deadline)
{
	struct futex_bucket *b;
	int r;

	for (;;) {
		r = task_block(w->task, deadline);
		b = futex_lock_waiter(&w->q);
		if (!b)
			return 0;
		if (w->q.woken) {
			pthread_mutex_unlock(&b->lock);
			return 0;
		}
		if (r < 0) {
			futex_dequeue(&w->q);
			pthread_mutex_unlock(&b->lock);
			return r;
		}
		/* Woken for another reason (a requeue moved us, or a stray
		 * wake): keep waiting. */
		task_prepare_block(w->task);
		pthread_mutex_unlock(&b->lock);
	}
}

static long futex_wait(struct task *t, uint64_t uaddr, bool private, uint32_t val,
		       uint64_t deadline, uint32_t bitset)
{
	struct fwait w = {.q = {.bitset = bitset, .wake = wake_task}, .task = t, .uaddr = uaddr};
	struct futex_bucket *b;
	uint32_t cur;
	int r;

	if (!bitset)
		return -EINVAL;
	r = get_key(t, uaddr, private, &w.q.key);
	if (r < 0)
		return r;
	b = futex_bucket_of(&table, &w.q.key);
	task_prepare_block(t);
	pthread_mutex_lock(&b->lock);
	r = read_word(t, uaddr, &cur);
	if (r == 0 && cur != val)
		r = -EAGAIN;
	if (r < 0) {
		pthread_mutex_unlock(&b->lock);
		return r;
	}
	futex_enqueue(b, &w.q);
	pthread_mutex_unlock(&b->lock);
	r = wait_queued(&w, deadline);
	return r == -EINTR ? -ERESTARTSYS : r;
}

static long futex_wake(struct task *t, uint64_t uaddr, bool private, int n, uint32_t bitset)
{
	struct futex_key k;
	struct futex_bucket *b;
	int r;

	if (!bitset)
		return -EINVAL;
	r = get_key(t, uaddr, private, &k);
	if (r < 0)
		return r;
	b = futex_bucket_of(&table, &k);
	pthread_mutex_lock(&b->lock);
	r = futex_wake_locked(b, &k, n, bitset);
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* FUTEX_REQUEUE and FUTEX_CMP_REQUEUE. A requeued waiter keeps sleeping;
 * it only finds itself in another bucket. */
static long futex_requeue(struct task *t, uint64_t uaddr, uint64_t uaddr2, bool private,
			  int nwake, int nreq, bool cmp, uint32_t val3)
{
	struct futex_key k1, k2;
	struct futex_bucket *b1, *b2;
	uint32_t cur;
	int r;

	if (nwake < 0 || nreq < 0)
		return -EINVAL;
	r = get_key(t, uaddr, private, &k1);
	if (r == 0)
		r = get_key(t, uaddr2, private, &k2);
	if (r < 0)
		return r;
	b1 = futex_bucket_of(&table, &k1);
	b2 = futex_bucket_of(&table, &k2);
	futex_lock_two(b1, b2);
	if (cmp) {
		r = read_word(t, uaddr, &cur);
		if (r == 0 && cur != val3)
			r = -EAGAIN;
		if (r < 0)
			goto out;
	}
	r = futex_requeue_locked(b1, &k1, b2, &k2, nwake, nreq);
out:
	futex_unlock_two(b1, b2);
	return r;
}

/* FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg); wake on uaddr; and on
 * uaddr2 if the old value passes cmp. As Linux, an unknown op fails
 * before the write and an unknown cmp after it. The update is atomic
 * against every other futex call, not against application threads
 * touching the word in the same instant (see word_cmpxchg). glibc no
 * longer uses WAKE_OP. */
static long futex_wake_op(struct task *t, uint64_t uaddr, uint64_t uaddr2, bool private,
			  int n1, int n2, uint32_t encoded)
{
	struct futex_wake_op o;
	struct futex_key k1, k2;
	struct futex_bucket *b1, *b2;
	uint32_t old, nv;
	int r, hit, r2;

	futex_wake_op_decode(encoded, &o);
	r = get_key(t, uaddr, private, &k1);
	if (r == 0)
		r = get_key(t, uaddr2, private, &k2);
	if (r < 0)
		return r;
	b1 = futex_bucket_of(&table, &k1);
	b2 = futex_bucket_of(&table, &k2);
	futex_lock_two(b1, b2);
	r = read_word(t, uaddr2, &old);
	if (r < 0)
		goto out;
	/* The update is atomic against the application's threads, as
	 * Linux's: compare-and-swap until the word held what we read. */
	for (int tries = 0;; tries++) {
		uint32_t cur;

		r = futex_wake_op_apply(&o, old, &nv);
		if (r < 0)
			goto out;
		r = word_cmpxchg(t, uaddr2, old, nv, &cur);
		if (r < 0)
			goto out;
		if (cur == old)
			break;
		if (tries > 1000) {
			r = -EAGAIN; /* the word never held still */
			goto out;
		}
		old = cur;
	}
	hit = futex_wake_op_compare(&o, old);
	if (hit < 0) {
		r = hit;
		goto out;
	}
	r = futex_wake_locked(b1, &k1, n1, FUTEXQ_BITSET_ANY);
	if (r >= 0 && hit) {
		r2 = futex_wake_locked(b2, &k2, n2, FUTEXQ_BITSET_ANY);
		r = r2 < 0 ? r2 : r + r2;
	}
out:
	futex_unlock_two(b1, b2);
	return r;
}

/* The PI lock's alleged owner: 0 if it is a live thread, -ESRCH if no
 * thread has that tid, -EBUSY while it is on its way out (its futex exit
 * may not have run yet). Bucket lock held. */
static int owner_state(uint32_t tid)
{
	struct task *o;
	int r = 0;

	pthread_mutex_lock(&kernel.lock);
	o = kernel_find_task_locked((int)tid);
	if (!o) {
		r = -ESRCH;
	} else {
		pthread_mutex_lock(&o->tg->lock);
		if (atomic_load(&o->exiting) || o->tg->exiting)
			r = -EBUSY;
		pthread_mutex_unlock(&o->tg->lock);
	}
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

/* Gives the PI lock on w's key to w (the oldest waiter): writes its tid
 * in the word and wakes it; the waiters behind it now wait on it. Bucket
 * lock held. */
static int pi_hand_off(struct futex_bucket *b, struct fwait *w, bool owner_died)
{
	uint32_t tid = (uint32_t)w->task->tid, cur, nv;
	int r = read_word(w->task, w->uaddr, &cur);

	if (r < 0)
		return r;
	nv = futex_pi_handoff_word(tid, owner_died || (cur & FUTEXQ_OWNER_DIED));
	r = word_cmpxchg(w->task, w->uaddr, cur, nv, &cur);
	if (r < 0)
		return r;
	for (struct futex_waiter *q = b->head; q; q = q->next)
		if (q != &w->q && futex_key_eq(&q->key, &w->q.key))
			q->pi_owner = tid;
	futex_wake_one(&w->q);
	return 0;
}

/* Sleeps a little, interruptibly, while an owner finishes exiting. */
static int wait_owner_exit(struct task *t, uint64_t deadline)
{
	uint64_t until = monotonic_ns() + 1000000;

	if (deadline && deadline < until)
		until = deadline;
	task_prepare_block(t);
	int r = task_block(t, until);
	if (r == -ETIMEDOUT)
		return deadline && monotonic_ns() >= deadline ? -ETIMEDOUT : 0;
	return r;
}

/* FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and FUTEX_TRYLOCK_PI
 * (kernel/futex/pi.c: futex_lock_pi, futex_lock_pi_atomic). */
static long futex_lock_pi(struct task *t, uint64_t uaddr, bool private, uint64_t deadline,
			  bool trylock)
{
	struct fwait w = {.q = {.pi = true, .wake = wake_task}, .task = t, .uaddr = uaddr};
	struct futex_bucket *b;
	struct futex_waiter *top;
	uint32_t uval, nv, cur, owner;
	int r, act;

	r = get_key(t, uaddr, private, &w.q.key);
	if (r < 0)
		return r;
	b = futex_bucket_of(&table, &w.q.key);
retry:
	task_prepare_block(t);
	pthread_mutex_lock(&b->lock);
	r = read_word(t, uaddr, &uval);
	if (r < 0)
		goto out;
	act = futex_pi_lock_word(uval, (uint32_t)t->tid, &nv);
	if (act < 0) {
		r = act;
		goto out;
	}
	top = futex_first_waiter(b, &w.q.key);
	if (top && !top->pi) {
		/* FUTEX_WAIT waiters on a PI word: the word is misused. */
		r = -EINVAL;
		goto out;
	}
	if (act == FUTEX_PI_ACQUIRE) {
		if (top)
			nv |= FUTEXQ_WAITERS;
		r = word_cmpxchg(t, uaddr, uval, nv, &cur);
		if (r == 0 && cur != uval) {
			pthread_mutex_unlock(&b->lock);
			goto retry;
		}
		goto out;
	}
	owner = uval & FUTEXQ_TID_MASK;
	if (top && top->pi_owner != owner) {
		/* The word names another owner than the one the waiters
		 * wait on: userspace changed it behind our back. */
		r = -EINVAL;
		goto out;
	}
	/* Waiters flagged first, so the owner's unlock comes to us; then
	 * the owner checked (Linux does it in this order too: an ESRCH
	 * leaves FUTEX_WAITERS set). */
	if (nv != uval) {
		r = word_cmpxchg(t, uaddr, uval, nv, &cur);
		if (r == 0 && cur != uval) {
			pthread_mutex_unlock(&b->lock);
			goto retry;
		}
		if (r < 0)
			goto out;
	}
	if (!top) {
		r = owner_state(owner);
		if (r == -EBUSY) {
			pthread_mutex_unlock(&b->lock);
			r = wait_owner_exit(t, deadline);
			if (r < 0)
				return r == -EINTR ? -ERESTARTNOINTR : r;
			goto retry;
		}
		if (r == -ESRCH) {
			/* Unless the word changed meanwhile (an exit just
			 * released it): then try again. */
			if (read_word(t, uaddr, &cur) == 0 && cur != nv) {
				pthread_mutex_unlock(&b->lock);
				goto retry;
			}
			goto out;
		}
	}
	if (trylock) {
		r = -EWOULDBLOCK;
		goto out;
	}
	w.q.pi_owner = owner;
	futex_enqueue(b, &w.q);
	pthread_mutex_unlock(&b->lock);
	r = wait_queued(&w, deadline);
	if (r == 0)
		return w.error;
	/* A signal: the call starts again with the same absolute
	 * timeout, whatever SA_RESTART says. */
	return r == -EINTR ? -ERESTARTNOINTR : r;
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* FUTEX_UNLOCK_PI: the oldest waiter gets the lock, or the word is 0. */
static long futex_unlock_pi(struct task *t, uint64_t uaddr, bool private)
{
	struct futex_key k;
	struct futex_bucket *b;
	struct futex_waiter *top;
	uint32_t uval, cur, tid = (uint32_t)t->tid;
	int r;

	if (uaddr & 3)
		return -EINVAL;
	r = read_word(t, uaddr, &uval);
	if (r < 0)
		return r;
	if ((uval & FUTEXQ_TID_MASK) != tid)
		return -EPERM;
	r = get_key(t, uaddr, private, &k);
	if (r < 0)
		return r;
	b = futex_bucket_of(&table, &k);
	pthread_mutex_lock(&b->lock);
	r = read_word(t, uaddr, &uval);
	if (r < 0)
		goto out;
	if ((uval & FUTEXQ_TID_MASK) != tid) {
		r = -EPERM;
		goto out;
	}
	top = futex_first_waiter(b, &k);
	if (top) {
		r = -EINVAL;
		if (top->pi && top->pi_owner == tid)
			r = pi_hand_off(b, fwait_of(top), false);
		goto out;
	}
	r = word_cmpxchg(t, uaddr, uval, 0, &cur);
	if (r == 0 && cur != uval)
		r = -EAGAIN;
out:
	pthread_mutex_unlock(&b->lock);
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

	pthread_once(&once, init_table);
	if ((cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_TRYLOCK_PI ||
	     cmd == FUTEX_UNLOCK_PI) && !platform->as_cmpxchg32)
		return -ENOSYS; /* a platform that cannot keep the word atomic */
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
	    cmd != FUTEX_LOCK_PI2)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		r = deadline_of(t, utimeout, false, false, &deadline);
		return r < 0 ? r : futex_wait(t, uaddr, private, val, deadline, FUTEXQ_BITSET_ANY);
	case FUTEX_WAIT_BITSET:
		r = deadline_of(t, utimeout, true, realtime, &deadline);
		return r < 0 ? r : futex_wait(t, uaddr, private, val, deadline, val3);
	case FUTEX_WAKE:
		return futex_wake(t, uaddr, private, (int)val, FUTEXQ_BITSET_ANY);
	case FUTEX_WAKE_BITSET:
		return futex_wake(t, uaddr, private, (int)val, val3);
	case FUTEX_REQUEUE:
		return futex_requeue(t, uaddr, uaddr2, private, (int)val, (int)utimeout, false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(t, uaddr, uaddr2, private, (int)val, (int)utimeout, true, val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(t, uaddr, uaddr2, private, (int)val, (int)utimeout, val3);
	case FUTEX_LOCK_PI:
		/* Always an absolute CLOCK_REALTIME timeout. */
		r = deadline_of(t, utimeout, true, true, &deadline);
		return r < 0 ? r : futex_lock_pi(t, uaddr, private, deadline, false);
	case FUTEX_LOCK_PI2:
		r = deadline_of(t, utimeout, true, realtime, &deadline);
		return r < 0 ? r : futex_lock_pi(t, uaddr, private, deadline, false);
	case FUTEX_TRYLOCK_PI:
		return futex_lock_pi(t, uaddr, private, 0, true);
	case FUTEX_UNLOCK_PI:
		return futex_unlock_pi(t, uaddr, private);
	default:
		/* FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (glibc's
		 * condition variables do not use them). */
		return -ENOSYS;
	}
}

long futex_wake_address(struct task *t, uint64_t uaddr)
{
	pthread_once(&once, init_table);
	return futex_wake(t, uaddr, false, 1, FUTEXQ_BITSET_ANY);
}

void futex_robust_pi_death(struct task *t, uint64_t uaddr)
{
	struct futex_key k;
	struct futex_bucket *b;
	uint32_t uval, cur;

	pthread_once(&once, init_table);
	if (get_key(t, uaddr, false, &k) < 0)
		return;
	b = futex_bucket_of(&table, &k);
	pthread_mutex_lock(&b->lock);
	/* Marked dead, waiters flag kept; futex_exit_pi hands it on. */
	if (read_word(t, uaddr, &uval) == 0 && (uval & FUTEXQ_TID_MASK) == (uint32_t)t->tid)
		word_cmpxchg(t, uaddr, uval, (uval & FUTEXQ_WAITERS) | FUTEXQ_OWNER_DIED, &cur);
	pthread_mutex_unlock(&b->lock);
}

void futex_exit_pi(struct task *t)
{
	uint32_t tid = (uint32_t)t->tid;

	pthread_once(&once, init_table);
	for (int i = 0; i < FUTEX_NBUCKETS; i++) {
		struct futex_bucket *b = &table.buckets[i];
		struct futex_waiter *q;

		pthread_mutex_lock(&b->lock);
		do {
			for (q = b->head; q; q = q->next)
				if (q->pi && q->pi_owner == tid)
					break;
			/* q is the oldest waiter on its key (all on a key
			 * wait on the same owner). */
			if (q && pi_hand_off(b, fwait_of(q), true) < 0) {
				/* The word is gone: the waiter fails rather
				 * than waits for ever. */
				fwait_of(q)->error = -EFAULT;
				futex_wake_one(q);
			}
		} while (q);
		pthread_mutex_unlock(&b->lock);
	}
}
