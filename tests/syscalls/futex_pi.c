/* Priority-inheritance futexes, as glibc's PTHREAD_PRIO_INHERIT mutexes
 * use them and raw: contention from four threads, trylock, error-checking
 * relock, timed and clock locks timing out, a robust PI mutex whose owner
 * thread exits (EOWNERDEAD, then consistent), and the raw calls' errors:
 * UNLOCK_PI by a non-owner (EPERM), LOCK_PI on our own tid (EDEADLK),
 * TRYLOCK_PI on a word another live thread holds (EAGAIN, waiters bit
 * left set), a tid no thread has (ESRCH), the hand-off at unlock (the
 * waiter's tid with FUTEX_WAITERS), timeouts, and a signal that
 * interrupts LOCK_PI (the call restarts, the handler runs).
 */
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static long futex_(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* An absolute time ms from now on clock. */
static struct timespec after_ms(clockid_t clock, int ms)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static long elapsed_ms(const struct timespec *from)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - from->tv_sec) * 1000 + (now.tv_nsec - from->tv_nsec) / 1000000;
}

static void pi_mutex_init(pthread_mutex_t *m, int type, bool robust)
{
	pthread_mutexattr_t a;

	CHECK_EQ(pthread_mutexattr_init(&a), 0);
	CHECK_EQ(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
	CHECK_EQ(pthread_mutexattr_settype(&a, type), 0);
	if (robust)
		CHECK_EQ(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
	CHECK_EQ(pthread_mutex_init(m, &a), 0);
	pthread_mutexattr_destroy(&a);
}

/* ---- contention ---- */

#define NTHREADS 4
#define ITERS 5000

static pthread_mutex_t count_lock;
static long counter;

static void *count_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		if (pthread_mutex_lock(&count_lock) != 0)
			return (void *)1;
		/* Not atomic: a second owner would lose increments. */
		long v = counter;
		if (i % 64 == 0)
			sched_yield();
		counter = v + 1;
		if (pthread_mutex_unlock(&count_lock) != 0)
			return (void *)1;
	}
	return NULL;
}

static void test_contention(void)
{
	pthread_t th[NTHREADS];
	void *ret;

	pi_mutex_init(&count_lock, PTHREAD_MUTEX_NORMAL, false);
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, count_thread, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		CHECK_EQ(pthread_join(th[i], &ret), 0);
		CHECK(ret == NULL);
	}
	CHECK_EQ(counter, NTHREADS * ITERS);
	CHECK_EQ(pthread_mutex_destroy(&count_lock), 0);
}

/* ---- a mutex held by another thread ---- */

struct holder {
	pthread_mutex_t *m;
	atomic_int state; /* 1: holds it; 2: told to let go */
	int hold_ms;      /* or this long */
	bool exit_holding;
};

static void *hold_thread(void *arg)
{
	struct holder *h = arg;

	if (pthread_mutex_lock(h->m) != 0)
		return (void *)1;
	atomic_store(&h->state, 1);
	if (h->hold_ms)
		sleep_ms(h->hold_ms);
	else
		while (atomic_load(&h->state) != 2)
			sleep_ms(1);
	if (!h->exit_holding && pthread_mutex_unlock(h->m) != 0)
		return (void *)1;
	return NULL;
}

static void start_holder(pthread_t *th, struct holder *h)
{
	CHECK_EQ(pthread_create(th, NULL, hold_thread, h), 0);
	while (atomic_load(&h->state) != 1)
		sleep_ms(1);
}

static void stop_holder(pthread_t th, struct holder *h)
{
	void *ret;

	atomic_store(&h->state, 2);
	CHECK_EQ(pthread_join(th, &ret), 0);
	CHECK(ret == NULL);
}

static void test_trylock_timedlock(void)
{
	pthread_mutex_t m;
	struct holder h = {.m = &m};
	struct timespec t0, ts;
	pthread_t th;

	pi_mutex_init(&m, PTHREAD_MUTEX_NORMAL, false);
	start_holder(&th, &h);
	CHECK_EQ(pthread_mutex_trylock(&m), EBUSY);

	/* FUTEX_LOCK_PI with an absolute CLOCK_REALTIME timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ts = after_ms(CLOCK_REALTIME, 100);
	CHECK_EQ(pthread_mutex_timedlock(&m, &ts), ETIMEDOUT);
	CHECK(elapsed_ms(&t0) >= 90);

	/* FUTEX_LOCK_PI2: the same on CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ts = after_ms(CLOCK_MONOTONIC, 100);
	CHECK_EQ(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
	CHECK(elapsed_ms(&t0) >= 90);

	stop_holder(th, &h);
	/* Free again: every call takes it. */
	CHECK_EQ(pthread_mutex_trylock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	ts = after_ms(CLOCK_REALTIME, 100);
	CHECK_EQ(pthread_mutex_timedlock(&m, &ts), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

static void test_errorcheck(void)
{
	pthread_mutex_t m;

	pi_mutex_init(&m, PTHREAD_MUTEX_ERRORCHECK, false);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ(pthread_mutex_lock(&m), EDEADLK);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), EPERM);
	CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

/* A robust PI mutex whose owner exits holding it, while we wait for it
 * (the lock is handed to us) and after (we find it free, owner died). */
static void test_robust(void)
{
	pthread_mutex_t m;
	struct holder h = {.m = &m, .hold_ms = 100, .exit_holding = true};
	pthread_t th;

	pi_mutex_init(&m, PTHREAD_MUTEX_NORMAL, true);
	start_holder(&th, &h);
	CHECK_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(pthread_mutex_lock(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);

	struct holder h2 = {.m = &m, .exit_holding = true};
	start_holder(&th, &h2);
	atomic_store(&h2.state, 2);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(&m), 0);
	CHECK_EQ(pthread_mutex_unlock(&m), 0);
	CHECK_EQ(pthread_mutex_destroy(&m), 0);
}

/* ---- raw calls ---- */

static _Atomic uint32_t word;
static atomic_int raw_state;
static _Atomic uint32_t raw_holder_tid;

/* Takes word with LOCK_PI, then holds it until told (raw_state 2). */
static void *raw_hold_thread(void *arg)
{
	(void)arg;
	atomic_store(&raw_holder_tid, (uint32_t)gettid_());
	if (futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL) != 0)
		return (void *)1;
	atomic_store(&raw_state, 1);
	while (atomic_load(&raw_state) != 2)
		sleep_ms(1);
	if (futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL) != 0)
		return (void *)1;
	return NULL;
}

static void test_raw_errors(void)
{
	uint32_t me = (uint32_t)gettid_();
	struct timespec ts;
	pthread_t th;
	void *ret;

	/* Free: LOCK_PI takes it, UNLOCK_PI frees it. */
	atomic_store(&word, 0);
	CHECK_EQ(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(atomic_load(&word), me);
	CHECK_EQ(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(atomic_load(&word), 0);
	CHECK_EQ(futex_(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(atomic_load(&word), me);

	/* Ours already. */
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EDEADLK);
	CHECK_ERR(futex_(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), EDEADLK);
	CHECK_EQ(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0);

	/* Not ours: free, or another's. */
	CHECK_ERR(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM);
	atomic_store(&raw_state, 0);
	CHECK_EQ(pthread_create(&th, NULL, raw_hold_thread, NULL), 0);
	while (atomic_load(&raw_state) != 1)
		sleep_ms(1);
	uint32_t holder = atomic_load(&raw_holder_tid);
	CHECK_EQ(atomic_load(&word), holder);
	CHECK_ERR(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM);
	CHECK_EQ(atomic_load(&word), holder);

	/* Held by a live thread: TRYLOCK_PI fails, leaving the waiters bit
	 * set (so the holder's unlock comes to the kernel). */
	CHECK_ERR(futex_(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), EAGAIN);
	CHECK_EQ(atomic_load(&word), holder | FUTEX_WAITERS);

	/* Timeouts: LOCK_PI's is absolute CLOCK_REALTIME; LOCK_PI2's is
	 * CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME; LOCK_PI takes no
	 * FUTEX_CLOCK_REALTIME. */
	ts = after_ms(CLOCK_REALTIME, 50);
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, &ts), ETIMEDOUT);
	ts = after_ms(CLOCK_MONOTONIC, 50);
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI2_PRIVATE, 0, &ts), ETIMEDOUT);
	ts = after_ms(CLOCK_REALTIME, 50);
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI2_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts),
		  ETIMEDOUT);
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts), ENOSYS);
	ts.tv_nsec = 1000000000;
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, &ts), EINVAL);

	/* Hand-off: the holder's unlock gives the lock to us, the waiter
	 * (the waiters bit stays). Should the holder unlock before we
	 * queue, we take a free lock instead: no bit. */
	atomic_store(&raw_state, 2);
	CHECK_EQ(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), 0);
	uint32_t got = atomic_load(&word);
	if (got != (me | FUTEX_WAITERS) && got != me)
		FAIL("after the hand-off the word is %#x, want %#x (or %#x)", got,
		     me | FUTEX_WAITERS, me);
	CHECK_EQ(pthread_join(th, &ret), 0);
	CHECK(ret == NULL);
	CHECK_EQ(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(atomic_load(&word), 0);

	/* A tid no thread has (above any pid_max): ESRCH, after the waiters
	 * bit went in. */
	atomic_store(&word, 0x3ffffff0u);
	CHECK_ERR(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), ESRCH);
	CHECK_EQ(atomic_load(&word), 0x3ffffff0u | FUTEX_WAITERS);
	CHECK_ERR(futex_(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), ESRCH);

	/* Free but for the owner-died bit: taken, the bit kept. */
	atomic_store(&word, FUTEX_OWNER_DIED);
	CHECK_EQ(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(atomic_load(&word), me | FUTEX_OWNER_DIED);
	CHECK_EQ(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(atomic_load(&word), 0);

	/* Misaligned. */
	CHECK_ERR(syscall(SYS_futex, (char *)&word + 1, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EINVAL);
}

/* A signal while blocked in LOCK_PI: the handler runs and the call goes
 * on (ERESTARTNOINTR: even without SA_RESTART). */
static atomic_int handled;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static atomic_int waiter_state;
static long waiter_ret;

static void *lock_waiter_thread(void *arg)
{
	(void)arg;
	atomic_store(&waiter_state, 1);
	waiter_ret = futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
	if (waiter_ret == 0 && futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL) != 0)
		waiter_ret = -2;
	atomic_store(&waiter_state, 2);
	return NULL;
}

static void test_raw_signal(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t th;

	CHECK_SYS(sigaction(SIGUSR1, &sa, NULL));
	atomic_store(&word, 0);
	CHECK_EQ(futex_(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(pthread_create(&th, NULL, lock_waiter_thread, NULL), 0);
	while (atomic_load(&waiter_state) != 1)
		sleep_ms(1);
	/* Until it is queued: the waiters bit. */
	while (!(atomic_load(&word) & FUTEX_WAITERS))
		sleep_ms(1);
	CHECK_EQ(pthread_kill(th, SIGUSR1), 0);
	while (!atomic_load(&handled))
		sleep_ms(1);
	sleep_ms(20);
	CHECK_EQ(atomic_load(&waiter_state), 1);
	CHECK_EQ(futex_(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(waiter_ret, 0);
	CHECK_EQ(atomic_load(&word), 0);
	CHECK_EQ(atomic_load(&handled), 1);
}

int main(void)
{
	test_raw_errors();
	test_raw_signal();
	test_errorcheck();
	test_trylock_timedlock();
	test_robust();
	test_contention();
	return check_exit();
}
