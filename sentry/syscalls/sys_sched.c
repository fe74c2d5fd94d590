/* Scheduling attributes: affinity, policy and priority, nice values.
 * The host schedules the stub threads, so these are recorded and
 * reported back (inherited by fork) with Linux's checks, not applied.
 * Other tasks are found, and their attributes read and written, under
 * kernel.lock (a task leaves the tables under it before it is freed). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sentry/fs/synth/host_info.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define CAP_SYS_NICE 23
#define K_SCHED_RESET_ON_FORK 0x40000000
#define MAX_RT_PRIO 100
#define AFF_WORDS 16 /* sizeof(task_sched.affinity) / 8 */

static bool capable_nice(struct task *t)
{
	return t->tg->creds.cap_effective & (1ULL << CAP_SYS_NICE);
}

static bool rt_policy(int p) { return p == SCHED_FIFO || p == SCHED_RR; }

/* The task a pid argument names: 0 is the caller (kernel.lock held). */
static struct task *find_locked(struct task *t, int pid)
{
	return pid == 0 ? t : kernel_find_task_locked(pid);
}

/* Linux's check_same_owner, or CAP_SYS_NICE. */
static bool may_change(struct task *t, struct task *p)
{
	const struct creds *c = &t->tg->creds, *pc = &p->tg->creds;
	return c->euid == pc->euid || c->euid == pc->ruid || capable_nice(t);
}

/* --- affinity --- */

/* The kernel's cpumask size: nr_cpu_ids bits in whole longs. */
static size_t cpumask_bytes(void)
{
	size_t n = (size_t)((sysconf(_SC_NPROCESSORS_CONF) + 63) / 64) * 8;
	return n > AFF_WORDS * 8 ? AFF_WORDS * 8 : n ? n : 8;
}

static void online_mask(uint64_t *m)
{
	const struct host_info *h = host_info();
	memset(m, 0, AFF_WORDS * 8);
	memcpy(m, h->cpu_online, sizeof(h->cpu_online) < AFF_WORDS * 8 ? sizeof(h->cpu_online)
									 : AFF_WORDS * 8);
}

SYSCALL(sched_setaffinity)
{
	uint64_t mask[AFF_WORDS], online[AFF_WORDS], any = 0;
	size_t len = a[1], size = cpumask_bytes();
	int pid = (int)a[0];
	struct task *p;
	long r = 0;

	/* Shorter than the kernel's mask: the rest is clear; longer: cut. */
	memset(mask, 0, sizeof(mask));
	if (copy_from_user(t, mask, a[2], len < size ? len : size) < 0)
		return -EFAULT;
	online_mask(online);
	for (int i = 0; i < AFF_WORDS; i++)
		any |= (mask[i] &= online[i]);
	pthread_mutex_lock(&kernel.lock);
	p = pid < 0 ? NULL : find_locked(t, pid);
	if (!p)
		r = -ESRCH;
	else if (!may_change(t, p))
		r = -EPERM;
	else if (!any)
		r = -EINVAL; /* no CPU it could run on */
	else {
		memcpy(p->sched.affinity, mask, sizeof(mask));
		p->sched.affinity_set = true;
	}
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(sched_getaffinity)
{
	uint64_t mask[AFF_WORDS];
	size_t len = a[1], need = cpumask_bytes();
	int pid = (int)a[0];
	struct task *p;

	/* As in Linux, the length is checked before the pid. */
	if (len < need || (len & 7))
		return -EINVAL;
	online_mask(mask);
	pthread_mutex_lock(&kernel.lock);
	p = pid < 0 ? NULL : find_locked(t, pid);
	if (p && p->sched.affinity_set)
		memcpy(mask, p->sched.affinity, sizeof(mask));
	pthread_mutex_unlock(&kernel.lock);
	if (!p)
		return -ESRCH;
	if (copy_to_user(t, a[2], mask, need) < 0)
		return -EFAULT;
	return (long)need;
}

/* --- policy --- */

SYSCALL(sched_get_priority_max)
{
	switch ((int)a[0]) {
	case SCHED_FIFO: case SCHED_RR:
		return MAX_RT_PRIO - 1;
	case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE: case 6 /* SCHED_DEADLINE */:
		return 0;
	}
	return -EINVAL;
}

SYSCALL(sched_get_priority_min)
{
	switch ((int)a[0]) {
	case SCHED_FIFO: case SCHED_RR:
		return 1;
	case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE: case 6 /* SCHED_DEADLINE */:
		return 0;
	}
	return -EINVAL;
}

SYSCALL(sched_getscheduler)
{
	int pid = (int)a[0];
	struct task *p;
	long r;

	if (pid < 0)
		return -EINVAL;
	pthread_mutex_lock(&kernel.lock);
	p = find_locked(t, pid);
	r = p ? p->sched.policy | (p->sched.reset_on_fork ? K_SCHED_RESET_ON_FORK : 0) : -ESRCH;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(sched_getparam)
{
	int pid = (int)a[0], prio = 0;
	struct task *p;

	if (!a[1] || pid < 0)
		return -EINVAL;
	pthread_mutex_lock(&kernel.lock);
	p = find_locked(t, pid);
	if (p && rt_policy(p->sched.policy))
		prio = p->sched.rt_priority;
	pthread_mutex_unlock(&kernel.lock);
	if (!p)
		return -ESRCH;
	return copy_to_user(t, a[1], &prio, sizeof(prio)) < 0 ? -EFAULT : 0;
}

/* Linux's __sched_setscheduler checks (kernel.lock held); policy -1
 * keeps the current one. */
static long set_sched(struct task *t, struct task *p, int policy, int prio)
{
	bool reset = false;

	if (policy == -1) {
		policy = p->sched.policy;
		reset = p->sched.reset_on_fork;
	} else {
		reset = policy & K_SCHED_RESET_ON_FORK;
		policy &= ~K_SCHED_RESET_ON_FORK;
		if (policy != SCHED_OTHER && policy != SCHED_BATCH && policy != SCHED_IDLE &&
		    !rt_policy(policy) && policy != 6)
			return -EINVAL;
	}
	if ((unsigned)prio > MAX_RT_PRIO - 1)
		return -EINVAL;
	/* SCHED_DEADLINE needs sched_setattr's parameters. */
	if (policy == 6 || rt_policy(policy) != (prio != 0))
		return -EINVAL;
	if (!capable_nice(t)) {
		uint64_t rlim = p->tg->rlimits[RLIMIT_RTPRIO].cur;
		if (rt_policy(policy)) {
			if (policy != p->sched.policy && !rlim)
				return -EPERM;
			if (prio > p->sched.rt_priority && (uint64_t)prio > rlim)
				return -EPERM;
		}
		if (!may_change(t, p))
			return -EPERM;
		if (p->sched.reset_on_fork && !reset)
			return -EPERM;
	}
	p->sched.policy = policy;
	p->sched.rt_priority = rt_policy(policy) ? prio : 0;
	p->sched.reset_on_fork = reset;
	return 0;
}

static long do_setscheduler(struct task *t, int pid, int policy, uint64_t uparam)
{
	struct task *p;
	int prio;
	long r;

	if (!uparam || pid < 0)
		return -EINVAL;
	if (copy_from_user(t, &prio, uparam, sizeof(prio)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&kernel.lock);
	p = find_locked(t, pid);
	r = p ? set_sched(t, p, policy, prio) : -ESRCH;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(sched_setscheduler)
{
	if ((int)a[1] < 0)
		return -EINVAL;
	return do_setscheduler(t, (int)a[0], (int)a[1], a[2]);
}

SYSCALL(sched_setparam) { return do_setscheduler(t, (int)a[0], -1, a[1]); }

/* --- nice --- */

/* Whether a task matches which/who (kernel.lock held). */
static bool prio_match(struct task *t, struct task *p, int which, int who)
{
	switch (which) {
	case PRIO_PROCESS:
		return p->tid == (who ? who : t->tid);
	case PRIO_PGRP:
		return p->tg->pgid == (who ? who : t->tg->pgid);
	default: /* PRIO_USER: the real uid */
		return p->tg->creds.ruid == (who ? (uint32_t)who : t->tg->creds.ruid);
	}
}

SYSCALL(getpriority)
{
	int which = (int)a[0], who = (int)a[1];
	long r = -ESRCH;

	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	pthread_mutex_lock(&kernel.lock);
	for (int i = 0; i < kernel.ngroups; i++)
		for (struct task *p = kernel.groups[i]->tasks; p; p = p->tg_next)
			if (prio_match(t, p, which, who) && 20 - p->sched.nice > r)
				r = 20 - p->sched.nice; /* 1..40: the raw call's scale */
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(setpriority)
{
	int which = (int)a[0], who = (int)a[1], nice = (int)a[2];
	long r = -ESRCH;

	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -EINVAL;
	nice = nice < -20 ? -20 : nice > 19 ? 19 : nice;
	pthread_mutex_lock(&kernel.lock);
	for (int i = 0; i < kernel.ngroups; i++) {
		for (struct task *p = kernel.groups[i]->tasks; p; p = p->tg_next) {
			const struct creds *c = &t->tg->creds, *pc = &p->tg->creds;
			if (!prio_match(t, p, which, who))
				continue;
			/* Linux's set_one_prio; the last error stands. */
			if (pc->ruid != c->euid && pc->euid != c->euid && !capable_nice(t)) {
				r = -EPERM;
			} else if (nice < p->sched.nice && !capable_nice(t) &&
				   (uint64_t)(20 - nice) > p->tg->rlimits[RLIMIT_NICE].cur) {
				r = -EACCES;
			} else {
				if (r == -ESRCH)
					r = 0;
				p->sched.nice = nice;
			}
		}
	}
	pthread_mutex_unlock(&kernel.lock);
	return r;
}
