/* The ktimer thread (sentry/kernel/ktimer.c): one-shot timers fire once,
 * in expiry order and never early; cancelled ones never fire; periodic
 * ones count every period; missed expirations are counted in; timers on
 * a CPU clock (this process's) come and go from their list. */
#include "unit.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/ktimer.h"
#include "sentry/kernel/wait.h"

#define N 200

struct rec {
	struct ktimer kt;
	uint64_t deadline;
	uint64_t fired_at;
	uint64_t total;   /* expirations counted */
	uint64_t last_when;
	int fires;
	int seq;          /* the order it fired in */
	bool cancelled;
};

static int fire_seq;

static void on_fire(struct ktimer *kt, uint64_t n)
{
	struct rec *r = kt->priv;

	r->fired_at = kt->cpu ? ktimer_now(kt) : monotonic_ns();
	r->total += n;
	r->last_when = kt->when;
	r->fires++;
	r->seq = fire_seq++;
}

/* Waits (polling) until fired() holds under the lock. */
static void wait_until(bool (*fired)(void *), void *arg)
{
	for (;;) {
		bool done;
		ktimer_lock();
		done = fired(arg);
		ktimer_unlock();
		if (done)
			return;
		usleep(1000);
	}
}

static struct rec recs[N];

static bool all_fired(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		if (!recs[i].cancelled && !recs[i].fires)
			return false;
	return true;
}

UTest(ktimer, one_shots_in_order_never_early)
{
	uint64_t now = monotonic_ns();

	srand(7);
	ktimer_lock();
	for (int i = 0; i < N; i++) {
		recs[i] = (struct rec){0};
		ktimer_init(&recs[i].kt, on_fire, &recs[i]);
		recs[i].deadline = now + 1000000ULL + (uint64_t)(rand() % 30000) * 1000ULL;
		cr_assert_eq(ktimer_arm_locked(&recs[i].kt, recs[i].deadline, 0), 0);
	}
	for (int i = 0; i < N; i += 4) {
		ktimer_cancel_locked(&recs[i].kt);
		recs[i].cancelled = true;
		cr_assert_eq(ktimer_remaining_locked(&recs[i].kt), 0);
	}
	ktimer_unlock();
	wait_until(all_fired, NULL);
	usleep(5000);
	ktimer_lock();
	for (int i = 0; i < N; i++) {
		struct rec *r = &recs[i];
		if (r->cancelled) {
			cr_assert_eq(r->fires, 0, "cancelled timer %d fired", i);
			continue;
		}
		cr_assert_eq(r->fires, 1, "timer %d fired %d times", i, r->fires);
		cr_assert_eq(r->total, 1);
		cr_assert_geq(r->fired_at, r->deadline, "timer %d early", i);
		cr_assert_eq(r->kt.when, 0, "a fired one-shot is disarmed");
	}
	/* They fired in the order of their deadlines. */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			if (!recs[i].cancelled && !recs[j].cancelled &&
			    recs[i].deadline < recs[j].deadline)
				cr_assert_lt(recs[i].seq, recs[j].seq, "timers %d and %d", i, j);
	ktimer_unlock();
}

static bool fired_n(void *arg)
{
	struct rec *r = arg;
	return r->total >= 10;
}

UTest(ktimer, periodic_counts_every_period)
{
	struct rec r = {0};
	uint64_t start = monotonic_ns() + 1000000ULL, interval = 2000000ULL;

	ktimer_init(&r.kt, on_fire, &r);
	ktimer_lock();
	cr_assert_eq(ktimer_arm_locked(&r.kt, start, interval), 0);
	cr_assert_gt(ktimer_remaining_locked(&r.kt), 0);
	ktimer_unlock();
	wait_until(fired_n, &r);
	ktimer_lock();
	/* Re-armed before each call: one period past the last counted. */
	cr_assert_eq(r.last_when, start + r.total * interval);
	cr_assert_geq(r.fired_at, start + (r.total - 1) * interval);
	ktimer_cancel_locked(&r.kt);
	cr_assert_eq(ktimer_remaining_locked(&r.kt), 0);
	ktimer_unlock();
}

static bool fired_once(void *arg)
{
	return ((struct rec *)arg)->fires > 0;
}

UTest(ktimer, missed_expirations_count_in)
{
	struct rec r = {0};

	ktimer_init(&r.kt, on_fire, &r);
	ktimer_lock();
	cr_assert_eq(ktimer_arm_locked(&r.kt, monotonic_ns(), 0), 0);
	r.kt.missed = 5;
	ktimer_unlock();
	wait_until(fired_once, &r);
	cr_assert_eq(r.total, 6);
	cr_assert_eq(r.kt.missed, 0);
}

UTest(ktimer, cpu_clock_timers)
{
	struct rec a = {0}, b = {0}, c = {0};
	volatile uint64_t spin = 0;

	ktimer_init_cpu(&a.kt, on_fire, &a, CLOCK_PROCESS_CPUTIME_ID);
	ktimer_init_cpu(&b.kt, on_fire, &b, CLOCK_PROCESS_CPUTIME_ID);
	ktimer_init_cpu(&c.kt, on_fire, &c, CLOCK_PROCESS_CPUTIME_ID);
	ktimer_lock();
	a.deadline = ktimer_now(&a.kt) + 10000000ULL;
	c.deadline = a.deadline + 5000000ULL;
	cr_assert_eq(ktimer_arm_locked(&a.kt, a.deadline, 0), 0);
	cr_assert_eq(ktimer_arm_locked(&b.kt, a.deadline, 0), 0);
	cr_assert_eq(ktimer_arm_locked(&c.kt, c.deadline, 0), 0);
	ktimer_cancel_locked(&b.kt); /* from the middle of the list */
	ktimer_unlock();
	for (;;) {
		bool done;
		spin++;
		if (spin % 100000)
			continue;
		ktimer_lock();
		done = a.fires && c.fires;
		ktimer_unlock();
		if (done)
			break;
	}
	cr_assert_eq(b.fires, 0);
	cr_assert_geq(a.fired_at, a.deadline);
	cr_assert_geq(c.fired_at, c.deadline);
	/* Both fired and left the list: arming again still works. */
	ktimer_lock();
	cr_assert_eq(ktimer_arm_locked(&a.kt, ktimer_now(&a.kt) + 1000000000ULL, 0), 0);
	ktimer_cancel_locked(&a.kt);
	ktimer_unlock();
}

UTest(ktimer, clamped_arithmetic)
{
	cr_assert_eq(ktimer_add(KTIMER_FAR - 1, 5), KTIMER_FAR);
	cr_assert_eq(ktimer_add(1, 2), 3);
	cr_assert_eq(ktimer_ts_ns(INT64_MAX, 999999999), KTIMER_FAR);
	cr_assert_eq(ktimer_ts_ns(2, 5), 2000000005ULL);
	cr_assert_eq(ktimer_ts_ns(-1, 0), 0);
}
