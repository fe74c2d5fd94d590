/* The sandbox-wide state of the sentry: configuration, the pid table,
 * and the processes the control channel knows about. */
#ifndef RC_SENTRY_KERNEL_KERNEL_H
#define RC_SENTRY_KERNEL_KERNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "abi/linux.h"

struct task;
struct thread_group;

struct sentry_config {
	bool strace;
	bool init_protect;      /* pid 1 ignores default-action signals from inside */
	char hostname[65];
	const char *platform;
};

#define PID_MAX 4194304 /* Linux's pid_max limit on 64-bit */

struct kernel {
	pthread_mutex_t lock;
	struct sentry_config cfg;
	struct timespec boot_time;      /* CLOCK_MONOTONIC at boot */
	int next_pid;
	bool wrapped;
	/* Live thread groups, for kill(), the control channel and wait. */
	struct thread_group **groups;
	int ngroups, capgroups;
	/* Called (with no lock held) when a thread group has exited. */
	void (*on_exit)(int pid, int wait_status, void *arg);
	void *on_exit_arg;
	/* Host CPU facts every program's auxv carries. */
	uint64_t host_hwcap, host_hwcap2, host_minsigstksz;
	struct k_rlimit64 default_rlimits[16];
};

extern struct kernel kernel;

void kernel_init(const struct sentry_config *cfg);
int kernel_alloc_pid(void);
int kernel_add_group(struct thread_group *tg);
int kernel_add_group_locked(struct thread_group *tg);
void kernel_remove_group(struct thread_group *tg);
/* Drops a reaped group from the table (kernel.lock held). */
void kernel_unhash_group_locked(struct thread_group *tg);
struct thread_group *kernel_find_group_locked(int pid);
/* Finds a task by tid (kernel.lock held); not referenced. */
struct task *kernel_find_task_locked(int tid);
/* exit.c: marks a zombie reaped and drops it (kernel.lock held). */
void thread_group_reap_locked(struct thread_group *tg);
/* Blocks until every thread group has been removed. */
void kernel_wait_no_groups(void);
/* Returns a referenced thread group, or NULL. */
struct thread_group *kernel_find_group(int pid);
void thread_group_put(struct thread_group *tg);
/* A random value for address-space layout randomisation. */
uint64_t kernel_random_u64(void);

#endif
