/* The timer thread: a binary heap of armed CLOCK_MONOTONIC timers and a
 * list of armed CPU-clock timers, under one lock (see ktimer.h). */
#include "sentry/kernel/ktimer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "lib/log.h"
#include "sentry/kernel/wait.h"

#define NOT_QUEUED SIZE_MAX
/* A periodic timer re-armed eagerly with a tiny interval would keep the
 * thread busy; its wake-ups are spaced at least this far apart. The
 * expiration count stays exact: it is computed from the elapsed time. */
#define MIN_REARM_NS 50000ULL

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static bool started;
/* Heap of monotonic timers ordered by key (when, or later: MIN_REARM). */
static struct ktimer **heap;
static uint64_t *keys;
static size_t nheap, capheap;
static struct ktimer **cpus;
static size_t ncpus, capcpus;

void ktimer_lock(void) { pthread_mutex_lock(&lock); }
void ktimer_unlock(void) { pthread_mutex_unlock(&lock); }

uint64_t ktimer_add(uint64_t a, uint64_t b)
{
	return a >= KTIMER_FAR || b >= KTIMER_FAR - a ? KTIMER_FAR : a + b;
}

uint64_t ktimer_ts_ns(int64_t sec, int64_t nsec)
{
	if (sec < 0 || nsec < 0)
		return 0;
	if ((uint64_t)sec >= KTIMER_FAR / 1000000000ULL)
		return KTIMER_FAR;
	return ktimer_add((uint64_t)sec * 1000000000ULL, (uint64_t)nsec);
}

void ktimer_init(struct ktimer *kt, ktimer_fn fn, void *priv)
{
	*kt = (struct ktimer){.fn = fn, .priv = priv, .idx = NOT_QUEUED};
}

void ktimer_init_cpu(struct ktimer *kt, ktimer_fn fn, void *priv, clockid_t host_clock)
{
	ktimer_init(kt, fn, priv);
	kt->cpu = true;
	kt->host_clock = host_clock;
}

uint64_t ktimer_now(struct ktimer *kt)
{
	struct timespec ts;

	if (!kt->cpu)
		return monotonic_ns();
	/* The stub may be gone (the process is exiting): the clock stops. */
	if (clock_gettime(kt->host_clock, &ts) == 0)
		kt->last_cpu = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return kt->last_cpu;
}

/* --- the heap --- */

static void heap_set(size_t i, struct ktimer *kt, uint64_t key)
{
	heap[i] = kt;
	keys[i] = key;
	kt->idx = i;
}

static void sift_up(size_t i)
{
	struct ktimer *kt = heap[i];
	uint64_t key = keys[i];

	while (i > 0 && keys[(i - 1) / 2] > key) {
		heap_set(i, heap[(i - 1) / 2], keys[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, kt, key);
}

static void sift_down(size_t i)
{
	struct ktimer *kt = heap[i];
	uint64_t key = keys[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && keys[c + 1] < keys[c])
			c++;
		if (keys[c] >= key)
			break;
		heap_set(i, heap[c], keys[c]);
		i = c;
	}
	heap_set(i, kt, key);
}

static int heap_insert(struct ktimer *kt, uint64_t key)
{
	if (nheap == capheap) {
		size_t cap = capheap ? capheap * 2 : 64;
		struct ktimer **h = realloc(heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		heap = h;
		uint64_t *k = realloc(keys, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		keys = k;
		capheap = cap;
	}
	heap_set(nheap++, kt, key);
	sift_up(nheap - 1);
	return 0;
}

static void heap_remove(struct ktimer *kt)
{
	size_t i = kt->idx;

	kt->idx = NOT_QUEUED;
	if (--nheap == i)
		return;
	heap_set(i, heap[nheap], keys[nheap]);
	sift_up(i);
	sift_down(heap[i]->idx);
}

/* --- the CPU list --- */

static int cpu_insert(struct ktimer *kt)
{
	if (ncpus == capcpus) {
		size_t cap = capcpus ? capcpus * 2 : 16;
		struct ktimer **c = realloc(cpus, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		cpus = c;
		capcpus = cap;
	}
	kt->idx = ncpus;
	cpus[ncpus++] = kt;
	return 0;
}

static void cpu_remove(struct ktimer *kt)
{
	size_t i = kt->idx;

	kt->idx = NOT_QUEUED;
	if (--ncpus == i)
		return;
	cpus[i] = cpus[ncpus];
	cpus[i]->idx = i;
}

static void dequeue(struct ktimer *kt)
{
	if (kt->idx == NOT_QUEUED)
		return;
	if (kt->cpu)
		cpu_remove(kt);
	else
		heap_remove(kt);
}

/* --- the thread --- */

/* kt is due at now: counts its expirations, re-arms or disarms it, and
 * calls its function. */
static void expire(struct ktimer *kt, uint64_t now)
{
	uint64_t n = 1 + kt->missed;

	kt->missed = 0;
	if (kt->interval) {
		uint64_t late = now - kt->when, steps;
		n += late / kt->interval;
		steps = n;
		if (steps > (KTIMER_FAR - kt->when) / kt->interval)
			kt->when = KTIMER_FAR;
		else
			kt->when += steps * kt->interval;
		if (!kt->cpu) {
			uint64_t key = kt->when;
			if (key < now + MIN_REARM_NS)
				key = now + MIN_REARM_NS;
			keys[kt->idx] = key;
			sift_down(kt->idx);
		}
	} else {
		dequeue(kt);
		kt->when = 0;
	}
	kt->fn(kt, n);
}

static void *ktimer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		uint64_t now = monotonic_ns(), next = 0;

		while (nheap && keys[0] <= now)
			expire(heap[0], now);
		/* A callback does not arm or cancel other CPU timers, so the
		 * index only stays put when the timer did. */
		for (size_t i = 0; i < ncpus;) {
			struct ktimer *kt = cpus[i];
			uint64_t v = ktimer_now(kt);
			if (v && v >= kt->when)
				expire(kt, v);
			if (i < ncpus && cpus[i] == kt)
				i++;
		}
		if (nheap)
			next = keys[0];
		if (ncpus && (!next || next > now + KTIMER_CPU_POLL_NS))
			next = now + KTIMER_CPU_POLL_NS;
		if (next) {
			struct timespec ts = {(time_t)(next / 1000000000ULL),
					      (long)(next % 1000000000ULL)};
			pthread_cond_timedwait(&cond, &lock, &ts);
		} else {
			pthread_cond_wait(&cond, &lock);
		}
	}
	return NULL;
}

/* Starts the thread at the first arming (lock held). It takes no host
 * signals: those are for task threads. */
static int start_thread(void)
{
	pthread_condattr_t ca;
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cond, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, ktimer_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		log_warn("cannot start the timer thread: %d", r);
		pthread_cond_destroy(&cond);
		return -EAGAIN;
	}
	started = true;
	return 0;
}

int ktimer_arm_locked(struct ktimer *kt, uint64_t when, uint64_t interval)
{
	int r;

	dequeue(kt);
	kt->when = 0;
	kt->interval = 0;
	kt->missed = 0;
	if (!when)
		return 0;
	if (!started && (r = start_thread()) < 0)
		return r;
	r = kt->cpu ? cpu_insert(kt) : heap_insert(kt, when);
	if (r < 0)
		return r;
	kt->when = when;
	kt->interval = interval;
	pthread_cond_signal(&cond);
	return 0;
}

void ktimer_cancel_locked(struct ktimer *kt)
{
	dequeue(kt);
	kt->when = 0;
	kt->interval = 0;
	kt->missed = 0;
}

uint64_t ktimer_remaining_locked(struct ktimer *kt)
{
	uint64_t now;

	if (!kt->when)
		return 0;
	now = ktimer_now(kt);
	return kt->when > now ? kt->when - now : 1;
}
