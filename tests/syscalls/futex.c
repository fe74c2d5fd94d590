/* futex(2) without priority inheritance: WAIT/WAKE, private and shared
 * (across fork), WAIT_BITSET/WAKE_BITSET, REQUEUE and CMP_REQUEUE,
 * WAKE_OP, timeouts (relative; absolute on CLOCK_MONOTONIC and
 * CLOCK_REALTIME; already past), the errors (EAGAIN, ETIMEDOUT, EINVAL,
 * EFAULT, ENOSYS), robust lists at thread death (a held robust mutex
 * gives EOWNERDEAD; a lock in flight at death wakes a waiter), and the
 * CLONE_CHILD_CLEARTID wake pthread_join relies on.
 *
 * No sleeps decide anything: a waiter is known to be queued when a
 * requeue onto its own word counts it (CMP_REQUEUE returns the number of
 * waiters it moved). */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((uint32_t *)8)

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts,
		  uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* futex with a count in the timeout's place (REQUEUE, WAKE_OP). */
static long futex2(uint32_t *uaddr, int op, uint32_t val, long val2, uint32_t *uaddr2,
		   uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

/* Waits until a waiter sits on w (expecting value v), without waking
 * it: a requeue of one waiter onto the same word counts it. */
static int waiters_on(uint32_t *w, uint32_t v, int private)
{
	return (int)futex2(w, FUTEX_CMP_REQUEUE | private, 0, INT32_MAX, w, v);
}

static void wait_queued(uint32_t *w, uint32_t v, int private, int n)
{
	/* A sleep, not a yield: on a loaded machine a new thread may not
	 * run for many yields. The bound is a count of sleeps (at least
	 * 10 s of them), so a machine that stands still does not trip it. */
	const struct timespec pause = {0, 50 * 1000};

	for (int i = 0; i < 200000; i++) {
		if (waiters_on(w, v, private) >= n)
			return;
		nanosleep(&pause, NULL);
	}
	FAIL("no %d waiter(s) on the word", n);
}

struct waiter {
	uint32_t *word;
	uint32_t val;
	int op;       /* FUTEX_WAIT or FUTEX_WAIT_BITSET, with flags */
	uint32_t bitset;
	long ret;
	int err;
};

static void *wait_body(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = {20, 0}; /* a bound, so a bug fails, not hangs */
	struct timespec abs;

	if ((w->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) {
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += 20;
		w->ret = futex(w->word, w->op, w->val, &abs, NULL, w->bitset);
	} else {
		w->ret = futex(w->word, w->op, w->val, &ts, NULL, 0);
	}
	w->err = w->ret < 0 ? errno : 0;
	return NULL;
}

static void start(pthread_t *t, struct waiter *w, uint32_t *word, int op, uint32_t bitset)
{
	w->word = word;
	w->val = *word;
	w->op = op;
	w->bitset = bitset;
	w->ret = -2;
	CHECK_EQ(pthread_create(t, NULL, wait_body, w), 0);
}

static void test_wait_wake(void)
{
	static uint32_t word;
	struct waiter w[3];
	pthread_t t[3];

	word = 0;
	/* Nobody waits: nothing woken. A zero count wakes one, as Linux. */
	CHECK_EQ(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	for (int i = 0; i < 3; i++) {
		start(&t[i], &w[i], &word, FUTEX_WAIT_PRIVATE, 0);
		wait_queued(&word, 0, FUTEX_PRIVATE_FLAG, i + 1);
	}
	CHECK_EQ(futex(&word, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0), 1);
	CHECK_EQ(futex(&word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0), 2);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(pthread_join(t[i], NULL), 0);
		CHECK_EQ(w[i].ret, 0);
	}
	/* The shared (non-private) calls meet on private memory too. */
	start(&t[0], &w[0], &word, FUTEX_WAIT, 0);
	wait_queued(&word, 0, 0, 1);
	CHECK_EQ(futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
	CHECK_EQ(pthread_join(t[0], NULL), 0);
	CHECK_EQ(w[0].ret, 0);
}

static void test_errors(void)
{
	static uint32_t word = 7;
	struct timespec ts = {0, 20 * 1000 * 1000}, abs, bad = {0, 1000000000};

	/* The value differs: at once. */
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0), EAGAIN);
	/* Relative timeout. */
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 7, &ts, NULL, 0), ETIMEDOUT);
	/* Absolute, monotonic and realtime; and one already past. */
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 0;
	abs.tv_nsec = abs.tv_nsec / 2;
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &abs, NULL,
			FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	abs.tv_sec = 1;
	abs.tv_nsec = 0;
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	/* Bad arguments. */
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 7, &bad, NULL, 0), EINVAL);
	CHECK_ERR(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 7, &ts, NULL, 0),
		  EINVAL);
	CHECK_ERR(futex(BAD_PTR, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), EFAULT);
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 7, (struct timespec *)BAD_PTR, NULL, 0), EFAULT);
	/* CLOCK_REALTIME only where an absolute time is taken. */
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &ts, NULL, 0), ENOSYS);
	CHECK_ERR(futex(&word, 99, 0, NULL, NULL, 0), ENOSYS);
}

static void test_bitset_requeue(void)
{
	static uint32_t a, b;
	struct waiter w1, w2;
	pthread_t t1, t2;

	a = b = 0;
	start(&t1, &w1, &a, FUTEX_WAIT_BITSET_PRIVATE, 0x1);
	start(&t2, &w2, &a, FUTEX_WAIT_BITSET_PRIVATE, 0x6);
	wait_queued(&a, 0, FUTEX_PRIVATE_FLAG, 2);
	/* CMP_REQUEUE checks the word first. */
	CHECK_ERR(futex2(&a, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &b, 5), EAGAIN);
	/* Wake none, move both to b: the count is of moved waiters. */
	CHECK_EQ(futex2(&a, FUTEX_CMP_REQUEUE_PRIVATE, 0, 2, &b, 0), 2);
	CHECK_EQ(futex(&a, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0), 0);
	/* On b, each bitset wakes only its own. */
	CHECK_EQ(futex(&b, FUTEX_WAKE_BITSET_PRIVATE, INT32_MAX, NULL, NULL, 0x8), 0);
	CHECK_EQ(futex(&b, FUTEX_WAKE_BITSET_PRIVATE, INT32_MAX, NULL, NULL, 0x4), 1);
	CHECK_EQ(pthread_join(t2, NULL), 0);
	CHECK_EQ(w2.ret, 0);
	/* Plain REQUEUE: wake up to val, move up to val2; returns both. */
	CHECK_EQ(futex2(&b, FUTEX_REQUEUE_PRIVATE, 0, 1, &a, 0), 1);
	CHECK_EQ(futex(&a, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
	CHECK_EQ(pthread_join(t1, NULL), 0);
	CHECK_EQ(w1.ret, 0);
	CHECK_ERR(futex2(&a, FUTEX_CMP_REQUEUE_PRIVATE, 0, -1, &b, 0), EINVAL);
}

static void test_wake_op(void)
{
	static uint32_t a, b;
	struct waiter wa, wb;
	pthread_t ta, tb;

	a = 0;
	b = 10;
	/* No waiters: b += 5 still happens; returns 0. */
	CHECK_EQ(futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
			FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 10)), 0);
	CHECK_EQ(b, 15);
	start(&ta, &wa, &a, FUTEX_WAIT_PRIVATE, 0);
	start(&tb, &wb, &b, FUTEX_WAIT_PRIVATE, 0);
	wait_queued(&a, 0, FUTEX_PRIVATE_FLAG, 1);
	wait_queued(&b, 15, FUTEX_PRIVATE_FLAG, 1);
	/* b = b | 1 (old 15 > 20 is false): a's waiter only. */
	CHECK_EQ(futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
			FUTEX_OP(FUTEX_OP_OR, 1, FUTEX_OP_CMP_GT, 20)), 1);
	CHECK_EQ(b, 15);
	CHECK_EQ(pthread_join(ta, NULL), 0);
	CHECK_EQ(wa.ret, 0);
	/* b = 1 << 4 with OPARG_SHIFT (old 15 == 15): b's waiter too. */
	CHECK_EQ(futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
			FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_EQ, 15)), 1);
	CHECK_EQ(b, 16);
	CHECK_EQ(pthread_join(tb, NULL), 0);
	/* b changed under the waiter's value: it saw the wake or EAGAIN. */
	CHECK(wb.ret == 0 || wb.err == EAGAIN);
	CHECK_ERR(futex2(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, BAD_PTR,
			 FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)), EFAULT);
}

/* Across fork, in MAP_SHARED memory: a shared futex meets. */
static void test_shared_fork(void)
{
	uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int st;

	CHECK(w != MAP_FAILED);
	if (w == MAP_FAILED)
		return;
	*w = 0;
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ts = {20, 0};
		_exit(futex(w, FUTEX_WAIT, 0, &ts, NULL, 0) == 0 ? 0 : 1);
	}
	CHECK(pid > 0);
	wait_queued(w, 0, 0, 1);
	CHECK_EQ(futex(w, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(st, 0);
	munmap(w, 4096);
}

/* ---- robust lists ---- */

static pthread_mutex_t robust_mutex;

static void *hold_and_die(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust_mutex);
	return NULL; /* still holding it */
}

struct raw_robust {
	void *next;
	long futex_offset;
	void *pending;
};

struct locked {
	void *next; /* the entry, as glibc links its mutexes */
	uint32_t word;
};

static struct raw_robust raw_head;
static struct locked in_flight;

/* A lock released in user space whose wake the thread never made: the
 * death of the thread with the lock still pending wakes one waiter. */
static void *die_with_pending(void *arg)
{
	(void)arg;
	raw_head.next = &raw_head;
	raw_head.futex_offset = (long)offsetof(struct locked, word);
	raw_head.pending = &in_flight;
	syscall(SYS_set_robust_list, &raw_head, sizeof(raw_head));
	syscall(SYS_exit, 0); /* the thread only; CLEARTID lets join see it */
	return NULL;
}

static void test_robust(void)
{
	pthread_mutexattr_t at;
	pthread_t t;
	struct waiter w;

	CHECK_EQ(pthread_mutexattr_init(&at), 0);
	CHECK_EQ(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST), 0);
	CHECK_EQ(pthread_mutex_init(&robust_mutex, &at), 0);
	CHECK_EQ(pthread_create(&t, NULL, hold_and_die, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(pthread_mutex_lock(&robust_mutex), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(&robust_mutex), 0);
	CHECK_EQ(pthread_mutex_unlock(&robust_mutex), 0);
	CHECK_EQ(pthread_mutex_lock(&robust_mutex), 0);
	CHECK_EQ(pthread_mutex_unlock(&robust_mutex), 0);

	in_flight.word = 0;
	start(&t, &w, &in_flight.word, FUTEX_WAIT, 0); /* robust wakes are shared */
	wait_queued(&in_flight.word, 0, 0, 1);
	pthread_t d;
	CHECK_EQ(pthread_create(&d, NULL, die_with_pending, NULL), 0);
	CHECK_EQ(pthread_join(d, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(w.ret, 0);
	CHECK_EQ(in_flight.word, 0);
}

int main(void)
{
	test_wait_wake();
	test_errors();
	test_bitset_requeue();
	test_wake_op();
	test_shared_fork();
	test_robust();
	return check_exit();
}
