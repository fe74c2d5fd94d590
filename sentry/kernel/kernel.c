#include "sentry/kernel/kernel.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "sentry/kernel/task.h"

struct kernel kernel = {.lock = PTHREAD_MUTEX_INITIALIZER};
static pthread_cond_t groups_cond = PTHREAD_COND_INITIALIZER;

static _Atomic uint64_t rng_state;

void kernel_init(const struct sentry_config *cfg)
{
	uint64_t seed = 0;

	kernel.cfg = *cfg;
	clock_gettime(CLOCK_MONOTONIC, &kernel.boot_time);
	kernel.next_pid = 1;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)kernel.boot_time.tv_nsec * 0x9e3779b97f4a7c15ULL;
	rng_state = seed | 1;
	kernel.host_hwcap = getauxval(AT_HWCAP);
	kernel.host_hwcap2 = getauxval(AT_HWCAP2);
	kernel.host_minsigstksz = getauxval(AT_MINSIGSTKSZ);
	if (!kernel.host_minsigstksz)
		kernel.host_minsigstksz = 2048;
	/* The sandbox starts with the limits its creator had. */
	for (int r = 0; r < RLIM_NLIMITS && r < 16; r++) {
		struct rlimit rl;
		if (getrlimit(r, &rl) == 0) {
			kernel.default_rlimits[r].cur = rl.rlim_cur;
			kernel.default_rlimits[r].max = rl.rlim_max;
		} else {
			kernel.default_rlimits[r].cur = kernel.default_rlimits[r].max =
				K_RLIM_INFINITY;
		}
	}
}

uint64_t kernel_random_u64(void)
{
	/* splitmix64 over an atomic counter: layout randomisation only,
	 * never for secrets (AT_RANDOM and getrandom use the host). */
	uint64_t z = atomic_fetch_add(&rng_state, 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Whether id is a live pid or tid (kernel.lock held). */
static bool id_in_use(int id)
{
	for (int i = 0; i < kernel.ngroups; i++) {
		struct thread_group *tg = kernel.groups[i];
		if (tg->pid == id || tg->pgid == id || tg->sid == id)
			return true;
		for (struct task *t = tg->tasks; t; t = t->tg_next)
			if (t->tid == id)
				return true;
	}
	return false;
}

int kernel_alloc_pid(void)
{
	int pid;

	pthread_mutex_lock(&kernel.lock);
	/* Increasing, wrapping at pid_max, skipping ids still in use
	 * (including process group and session ids), as Linux does. */
	for (int tries = 0;; tries++) {
		if (tries >= PID_MAX) {
			pid = -EAGAIN;
			break;
		}
		pid = kernel.next_pid++;
		if (kernel.next_pid >= PID_MAX)
			kernel.next_pid = 2;
		if (!kernel.wrapped && kernel.next_pid == 2)
			kernel.wrapped = true;
		if (!kernel.wrapped || !id_in_use(pid))
			break;
	}
	pthread_mutex_unlock(&kernel.lock);
	return pid;
}

int kernel_add_group(struct thread_group *tg)
{
	int ret = 0;
	pthread_mutex_lock(&kernel.lock);
	ret = kernel_add_group_locked(tg);
	pthread_mutex_unlock(&kernel.lock);
	return ret;
}

int kernel_add_group_locked(struct thread_group *tg)
{
	if (kernel.ngroups == kernel.capgroups) {
		int cap = kernel.capgroups ? kernel.capgroups * 2 : 16;
		struct thread_group **g = realloc(kernel.groups, (size_t)cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		kernel.groups = g;
		kernel.capgroups = cap;
	}
	atomic_fetch_add(&tg->refs, 1);
	kernel.groups[kernel.ngroups++] = tg;
	return 0;
}

void kernel_unhash_group_locked(struct thread_group *tg)
{
	for (int i = 0; i < kernel.ngroups; i++) {
		if (kernel.groups[i] == tg) {
			kernel.groups[i] = kernel.groups[--kernel.ngroups];
			pthread_cond_broadcast(&groups_cond);
			thread_group_put(tg);
			return;
		}
	}
}

void kernel_remove_group(struct thread_group *tg)
{
	pthread_mutex_lock(&kernel.lock);
	kernel_unhash_group_locked(tg);
	pthread_mutex_unlock(&kernel.lock);
}

struct thread_group *kernel_find_group_locked(int pid)
{
	for (int i = 0; i < kernel.ngroups; i++)
		if (kernel.groups[i]->pid == pid && kernel.groups[i]->state != TG_DEAD)
			return kernel.groups[i];
	return NULL;
}

struct thread_group *kernel_find_group(int pid)
{
	struct thread_group *tg;
	pthread_mutex_lock(&kernel.lock);
	tg = kernel_find_group_locked(pid);
	if (tg)
		atomic_fetch_add(&tg->refs, 1);
	pthread_mutex_unlock(&kernel.lock);
	return tg;
}

struct task *kernel_find_task_locked(int tid)
{
	for (int i = 0; i < kernel.ngroups; i++)
		for (struct task *t = kernel.groups[i]->tasks; t; t = t->tg_next)
			if (t->tid == tid)
				return t;
	return NULL;
}

void thread_group_put(struct thread_group *tg)
{
	if (!tg || atomic_fetch_sub(&tg->refs, 1) != 1)
		return;
	sigpending_clear(&tg->shared_pending);
	sighand_put(tg->sighand);
	free(tg->creds.groups);
	pthread_mutex_destroy(&tg->lock);
	free(tg);
}

struct sighand *sighand_new(void)
{
	struct sighand *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	atomic_init(&sh->refs, 1);
	pthread_mutex_init(&sh->lock, NULL);
	return sh;
}

void sighand_put(struct sighand *sh)
{
	if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

void kernel_wait_no_groups(void)
{
	pthread_mutex_lock(&kernel.lock);
	while (kernel.ngroups > 0)
		pthread_cond_wait(&groups_cond, &kernel.lock);
	pthread_mutex_unlock(&kernel.lock);
}
