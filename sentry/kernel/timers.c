/* Process timers: itimers and POSIX timers on the ktimer thread (see
 * timers.h). All their state is under the ktimer lock.
 *
 * A POSIX timer's signal is queued once: while it is still pending, later
 * expirations only raise the overrun in its siginfo, as Linux does with
 * its preallocated sigqueue. Whether it has been delivered is seen by
 * looking for it in the pending queues (it is gone once dequeued), which
 * also gives timer_getoverrun the count of the last one delivered. */
#include "sentry/kernel/timers.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "platform/platform.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/ktimer.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

#define CPUCLOCK_SCHED 2
#define CPUCLOCK_PERTHREAD 4
#define MAKE_CPUCLOCK(pid, type) ((clockid_t)((~(unsigned)(pid)) << 3) | (type))

#define K_SIGEV_SIGNAL 0
#define K_SIGEV_NONE 1
#define K_SIGEV_THREAD 2
#define K_SIGEV_THREAD_ID 4

/* Linux bounds timers by RLIMIT_SIGPENDING through their sigqueues; a
 * fixed bound keeps the sentry's memory safe. */
#define PTIMERS_MAX 32768
/* CPU-clock timers cost the timer thread a clock read each every few
 * milliseconds while armed: fewer of those. */
#define PTIMERS_CPU_MAX 64

struct ptimer {
	struct ktimer kt;
	struct proc_timers *pt;
	int id;
	clockid_t host;          /* the clock absolute times are read on */
	int notify, signo, tid;
	uint64_t value;          /* sigev_value */
	bool queued;             /* a signal of ours may be pending */
	int overrun_queued;      /* the overrun in that signal's siginfo */
	int overrun_last;        /* of the last signal delivered */
	struct ptimer *next;
};

struct proc_timers {
	struct thread_group *tg;
	struct ktimer itimers[3];
	struct ptimer *list;
	int count, ncpu, next_id;
};

static const int itimer_sig[3] = {SIGALRM, SIGVTALRM, SIGPROF};

static void itimer_fire(struct ktimer *kt, uint64_t n)
{
	struct proc_timers *pt = kt->priv;

	(void)n; /* a standard signal: later expirations merge */
	signal_send_tg(pt->tg, itimer_sig[kt - pt->itimers], NULL);
}

/* The group's timers, created on first use (ktimer lock held). */
static struct proc_timers *proc_timers(struct thread_group *tg, bool create)
{
	struct proc_timers *pt = tg->timers;

	if (pt || !create)
		return pt;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pt->tg = tg;
	for (int i = 0; i < 3; i++)
		ktimer_init(&pt->itimers[i], itimer_fire, pt);
	tg->timers = pt;
	return pt;
}

static pid_t stub_pid(struct task *t)
{
	return t->mm && t->mm->as ? platform->as_host_pid(t->mm->as) : 0;
}

/* --- itimers --- */

int itimer_set(struct task *t, int which, uint64_t value, uint64_t interval,
	       uint64_t *old_value, uint64_t *old_interval)
{
	struct proc_timers *pt;
	struct ktimer *kt;
	int r = 0;

	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	ktimer_lock();
	pt = proc_timers(t->tg, value != 0);
	if (!pt) {
		ktimer_unlock();
		if (value)
			return -ENOMEM;
		if (old_value)
			*old_value = *old_interval = 0;
		return 0;
	}
	kt = &pt->itimers[which];
	if (old_value) {
		*old_value = ktimer_remaining_locked(kt);
		*old_interval = kt->interval;
	}
	ktimer_cancel_locked(kt);
	if (which != ITIMER_REAL)
		ktimer_init_cpu(kt, itimer_fire, pt, MAKE_CPUCLOCK(stub_pid(t), CPUCLOCK_SCHED));
	if (value)
		r = ktimer_arm_locked(kt, ktimer_add(ktimer_now(kt), value), interval);
	ktimer_unlock();
	return r;
}

int itimer_get(struct task *t, int which, uint64_t *value, uint64_t *interval)
{
	struct proc_timers *pt;

	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	*value = *interval = 0;
	ktimer_lock();
	pt = proc_timers(t->tg, false);
	if (pt) {
		*value = ktimer_remaining_locked(&pt->itimers[which]);
		*interval = pt->itimers[which].interval;
	}
	ktimer_unlock();
	return 0;
}

/* --- POSIX timers: their pending signal --- */

static bool is_ours(const struct sigqueue *q, const struct ptimer *p)
{
	return q->info.si_signo == p->signo && q->info.si_code == K_SI_TIMER &&
	       q->info.timer.tid == p->id;
}

static struct sigqueue *find_in(struct sigpending *sp, const struct ptimer *p)
{
	for (struct sigqueue *q = sp->head; q; q = q->next)
		if (is_ours(q, p))
			return q;
	return NULL;
}

/* p's signal if it is still pending anywhere in its group (tg->lock). */
static struct sigqueue *find_queued(struct thread_group *tg, const struct ptimer *p)
{
	struct sigqueue *q = find_in(&tg->shared_pending, p);

	for (struct task *x = tg->tasks; x && !q; x = x->tg_next)
		q = find_in(&x->pending, p);
	return q;
}

static void remove_from(struct sigpending *sp, const struct ptimer *p)
{
	bool more = false;

	for (struct sigqueue **pp = &sp->head; *pp;) {
		if (is_ours(*pp, p)) {
			struct sigqueue *q = *pp;
			*pp = q->next;
			free(q);
			continue;
		}
		more |= (*pp)->info.si_signo == p->signo;
		pp = &(*pp)->next;
	}
	if (!more)
		sp->mask &= ~KSIG_BIT(p->signo);
}

/* Drops p's pending signal: the timer is deleted or re-armed, and Linux
 * discards a signal from an earlier arming (tg->lock held). */
static void drop_queued(struct thread_group *tg, struct ptimer *p)
{
	if (p->notify == K_SIGEV_NONE)
		return;
	if (find_in(&tg->shared_pending, p))
		remove_from(&tg->shared_pending, p);
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		if (find_in(&x->pending, p))
			remove_from(&x->pending, p);
	p->queued = false;
}

/* Notes a delivery that happened since the last look (tg->lock). */
static void reconcile(struct thread_group *tg, struct ptimer *p)
{
	if (p->queued && !find_queued(tg, p)) {
		p->overrun_last = p->overrun_queued;
		p->queued = false;
	}
}

static int sat_int(uint64_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

static void ptimer_fire(struct ktimer *kt, uint64_t n)
{
	struct ptimer *p = kt->priv;
	struct thread_group *tg = p->pt->tg;
	struct task *target = NULL;
	struct k_siginfo info;
	struct sigqueue *q;

	if (p->notify == K_SIGEV_NONE)
		return;
	/* kernel.lock keeps a target thread from going away until sent. */
	pthread_mutex_lock(&kernel.lock);
	pthread_mutex_lock(&tg->lock);
	q = find_queued(tg, p);
	if (q) {
		uint64_t o = (uint64_t)(uint32_t)q->info.timer.overrun + n;
		q->info.timer.overrun = sat_int(o);
		p->overrun_queued = q->info.timer.overrun;
		pthread_mutex_unlock(&tg->lock);
		pthread_mutex_unlock(&kernel.lock);
		return;
	}
	reconcile(tg, p);
	if (p->notify == K_SIGEV_THREAD_ID) {
		for (struct task *x = tg->tasks; x; x = x->tg_next)
			if (x->tid == p->tid)
				target = x;
	}
	pthread_mutex_unlock(&tg->lock);
	memset(&info, 0, sizeof(info));
	info.si_signo = p->signo;
	info.si_code = K_SI_TIMER;
	info.timer.tid = p->id;
	info.timer.overrun = sat_int(n - 1);
	info.timer.value = p->value;
	if (p->notify != K_SIGEV_THREAD_ID || target) {
		int r = target ? signal_send_task(target, p->signo, &info)
			       : signal_send_tg(tg, p->signo, &info);
		if (r == 0) {
			p->queued = true;
			p->overrun_queued = info.timer.overrun;
		}
	}
	pthread_mutex_unlock(&kernel.lock);
}

/* --- POSIX timers --- */

int timer_clock(struct task *t, int clock, clockid_t *host)
{
	switch (clock) {
	case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM:
		*host = CLOCK_REALTIME;
		return 0;
	case CLOCK_MONOTONIC:
		*host = CLOCK_MONOTONIC;
		return 0;
	case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
		*host = CLOCK_BOOTTIME;
		return 0;
	case CLOCK_TAI:
		*host = CLOCK_TAI;
		return 0;
	case CLOCK_MONOTONIC_RAW: case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
		return -EOPNOTSUPP; /* clocks without timers in Linux */
	case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID:
		*host = MAKE_CPUCLOCK(stub_pid(t), CPUCLOCK_SCHED);
		return 1;
	}
	if (clock < 0) {
		/* A CPU clock by pid or tid (an arithmetic shift, as Linux's
		 * CPUCLOCK_PID): only the caller's own. */
		int pid = ~(clock >> 3), type = clock & 3;
		if (type == 3)
			return -EINVAL;
		if (pid != 0 && pid != ((clock & CPUCLOCK_PERTHREAD) ? t->tid : t->tg->pid))
			return -EINVAL;
		*host = MAKE_CPUCLOCK(stub_pid(t), type);
		return 1;
	}
	return -EINVAL;
}

uint64_t timer_abs_to_mono(clockid_t host, uint64_t abs_ns, uint64_t interval,
			   uint64_t *missed)
{
	struct timespec ts;
	uint64_t now, ago, mono = monotonic_ns();

	*missed = 0;
	if (host == CLOCK_MONOTONIC) {
		now = mono;
	} else {
		clock_gettime(host, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
	if (abs_ns > now)
		return ktimer_add(mono, abs_ns - now);
	/* Due already: the whole periods since then count as expired, the
	 * rest places the next period where it falls. */
	ago = now - abs_ns;
	if (interval) {
		*missed = ago / interval;
		ago %= interval;
	}
	return mono > ago ? mono - ago : 1;
}

int ptimer_create(struct task *t, int clock, const struct k_sigevent *ev)
{
	struct proc_timers *pt;
	struct ptimer *p;
	clockid_t host;
	int kind = timer_clock(t, clock, &host);

	if (kind < 0)
		return kind;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -EAGAIN;
	if (kind)
		ktimer_init_cpu(&p->kt, ptimer_fire, p, host);
	else
		ktimer_init(&p->kt, ptimer_fire, p);
	p->host = host;
	if (ev) {
		/* Linux's good_sigevent. */
		p->notify = ev->notify;
		p->signo = ev->signo;
		p->value = ev->value;
		p->tid = ev->tid;
		switch (ev->notify) {
		case K_SIGEV_THREAD_ID: {
			bool found = false;
			pthread_mutex_lock(&t->tg->lock);
			for (struct task *x = t->tg->tasks; x; x = x->tg_next)
				found |= x->tid == ev->tid;
			pthread_mutex_unlock(&t->tg->lock);
			if (!found)
				goto inval;
		}
			/* fall through */
		case K_SIGEV_SIGNAL: case K_SIGEV_THREAD:
			if (ev->signo <= 0 || ev->signo > KSIG_MAX)
				goto inval;
			break;
		case K_SIGEV_NONE:
			break;
		default:
			goto inval;
		}
	} else {
		p->notify = K_SIGEV_SIGNAL;
		p->signo = SIGALRM;
	}
	ktimer_lock();
	pt = proc_timers(t->tg, true);
	if (!pt || pt->count >= PTIMERS_MAX || (kind && pt->ncpu >= PTIMERS_CPU_MAX)) {
		ktimer_unlock();
		free(p);
		return -EAGAIN;
	}
	/* The next free id, as Linux hands them out. */
	for (;;) {
		bool used = false;
		p->id = pt->next_id;
		pt->next_id = pt->next_id == INT_MAX ? 0 : pt->next_id + 1;
		for (struct ptimer *x = pt->list; x && !used; x = x->next)
			used = x->id == p->id;
		if (!used)
			break;
	}
	if (!ev)
		p->value = (uint64_t)(uint32_t)p->id;
	p->pt = pt;
	p->next = pt->list;
	pt->list = p;
	pt->count++;
	pt->ncpu += p->kt.cpu;
	ktimer_unlock();
	return p->id;
inval:
	free(p);
	return -EINVAL;
}

/* The timer with id (ktimer lock held), or NULL. */
static struct ptimer *find(struct task *t, int id)
{
	struct proc_timers *pt = proc_timers(t->tg, false);

	for (struct ptimer *p = pt ? pt->list : NULL; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static struct k_timespec ns_ts(uint64_t ns)
{
	return (struct k_timespec){(int64_t)(ns / 1000000000ULL), (int64_t)(ns % 1000000000ULL)};
}

static void current_setting(struct ptimer *p, struct k_itimerspec *cur)
{
	cur->it_value = ns_ts(ktimer_remaining_locked(&p->kt));
	cur->it_interval = ns_ts(p->kt.interval);
}

int ptimer_set(struct task *t, int id, int flags, const struct k_itimerspec *new,
	       struct k_itimerspec *old)
{
	uint64_t value = ktimer_ts_ns(new->it_value.tv_sec, new->it_value.tv_nsec);
	uint64_t interval = ktimer_ts_ns(new->it_interval.tv_sec, new->it_interval.tv_nsec);
	struct ptimer *p;
	uint64_t when = 0, missed = 0;
	int r;

	ktimer_lock();
	p = find(t, id);
	if (!p) {
		ktimer_unlock();
		return -EINVAL;
	}
	if (old)
		current_setting(p, old);
	pthread_mutex_lock(&t->tg->lock);
	drop_queued(t->tg, p);
	pthread_mutex_unlock(&t->tg->lock);
	p->overrun_last = 0;
	if (value) {
		if (!(flags & TIMER_ABSTIME))
			when = ktimer_add(ktimer_now(&p->kt), value);
		else if (p->kt.cpu)
			when = value;
		else
			when = timer_abs_to_mono(p->host, value, interval, &missed);
	}
	r = ktimer_arm_locked(&p->kt, when, interval);
	p->kt.missed = missed;
	ktimer_unlock();
	return r;
}

int ptimer_get(struct task *t, int id, struct k_itimerspec *cur)
{
	struct ptimer *p;

	ktimer_lock();
	p = find(t, id);
	if (p)
		current_setting(p, cur);
	ktimer_unlock();
	return p ? 0 : -EINVAL;
}

int ptimer_getoverrun(struct task *t, int id)
{
	struct ptimer *p;
	int r = -EINVAL;

	ktimer_lock();
	p = find(t, id);
	if (p) {
		pthread_mutex_lock(&t->tg->lock);
		reconcile(t->tg, p);
		pthread_mutex_unlock(&t->tg->lock);
		r = p->overrun_last;
	}
	ktimer_unlock();
	return r;
}

/* Unlinks and frees p (ktimer lock held; tg->lock taken when a pending
 * signal must go too). */
static void destroy(struct proc_timers *pt, struct ptimer *p, bool drop_signal)
{
	ktimer_cancel_locked(&p->kt);
	if (drop_signal) {
		pthread_mutex_lock(&pt->tg->lock);
		drop_queued(pt->tg, p);
		pthread_mutex_unlock(&pt->tg->lock);
	}
	for (struct ptimer **pp = &pt->list; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	pt->count--;
	pt->ncpu -= p->kt.cpu;
	free(p);
}

int ptimer_delete(struct task *t, int id)
{
	struct ptimer *p;

	ktimer_lock();
	p = find(t, id);
	if (p)
		destroy(p->pt, p, true);
	ktimer_unlock();
	return p ? 0 : -EINVAL;
}

void timers_exec(struct task *t)
{
	struct proc_timers *pt;
	pid_t pid = stub_pid(t);

	ktimer_lock();
	pt = proc_timers(t->tg, false);
	if (pt) {
		while (pt->list)
			destroy(pt, pt->list, true);
		/* The CPU itimers carry on, on the new image's stub. */
		for (int i = ITIMER_VIRTUAL; i <= ITIMER_PROF; i++) {
			struct ktimer *kt = &pt->itimers[i];
			uint64_t left = kt->when > kt->last_cpu ? kt->when - kt->last_cpu : 1;
			uint64_t interval = kt->interval;
			if (!kt->when)
				continue;
			ktimer_cancel_locked(kt);
			ktimer_init_cpu(kt, itimer_fire, pt, MAKE_CPUCLOCK(pid, CPUCLOCK_SCHED));
			ktimer_arm_locked(kt, ktimer_add(ktimer_now(kt), left), interval);
		}
	}
	ktimer_unlock();
}

void timers_exit_group(struct thread_group *tg)
{
	struct proc_timers *pt;

	ktimer_lock();
	pt = tg->timers;
	tg->timers = NULL;
	if (pt) {
		while (pt->list)
			destroy(pt, pt->list, false);
		for (int i = 0; i < 3; i++)
			ktimer_cancel_locked(&pt->itimers[i]);
		free(pt);
	}
	ktimer_unlock();
}
