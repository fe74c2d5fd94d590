#include "sentry/kernel/cputime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "platform/platform.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

/* Linux's CPU clock ids for a process or thread (CPUCLOCK_SCHED), as
 * glibc's clock_getcpuclockid builds them. */
static clockid_t process_clock(pid_t pid) { return (clockid_t)((~(unsigned)pid) << 3) | 2; }
static clockid_t thread_clock(pid_t tid) { return (clockid_t)((~(unsigned)tid) << 3) | 6; }

static uint64_t read_clock(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) < 0)
		return 0; /* the thread or process is gone */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t stub_ns(struct mm *mm)
{
	pid_t pid;

	if (!mm || !mm->as)
		return 0;
	pid = platform->as_host_pid(mm->as);
	return pid > 0 ? read_clock(process_clock(pid)) : 0;
}

void cputime_task_start(struct task *t)
{
	if (pthread_getcpuclockid(pthread_self(), &t->cpu_clock) == 0)
		atomic_store(&t->cpu_clock_set, true);
}

void cputime_task_exit(struct task *t, int last)
{
	uint64_t sys = atomic_load(&t->cpu_clock_set) ? read_clock(t->cpu_clock) : 0;
	/* A stub shared with another process (vfork, CLONE_VM) runs on. */
	uint64_t user = last && t->mm && atomic_load(&t->mm->refs) == 1 ? stub_ns(t->mm) : 0;

	pthread_mutex_lock(&t->tg->lock);
	t->tg->stime_ns += sys;
	t->tg->utime_ns += user;
	pthread_mutex_unlock(&t->tg->lock);
}

void cputime_exec(struct task *t, struct mm *old)
{
	uint64_t user = old && atomic_load(&old->refs) == 1 ? stub_ns(old) : 0;

	pthread_mutex_lock(&t->tg->lock);
	t->tg->utime_ns += user;
	pthread_mutex_unlock(&t->tg->lock);
}

void cputime_group(struct task *t, uint64_t *user_ns, uint64_t *sys_ns)
{
	struct thread_group *tg = t->tg;
	uint64_t live = 0;

	pthread_mutex_lock(&tg->lock);
	/* A listed task's thread has not finished: its clock is valid. */
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		if (atomic_load(&x->cpu_clock_set))
			live += read_clock(x->cpu_clock);
	*sys_ns = tg->stime_ns + live;
	*user_ns = tg->utime_ns;
	pthread_mutex_unlock(&tg->lock);
	*user_ns += stub_ns(t->mm);
}

void cputime_thread(struct task *t, uint64_t *user_ns, uint64_t *sys_ns)
{
	pid_t tid = platform->ctx_host_tid ? platform->ctx_host_tid(t->ctx) : 0;

	/* The host keeps a thread's clock to its own process: the stub
	 * thread's is out of reach, the whole stub's is not. A process of
	 * one thread has all of it. */
	*user_ns = tid > 0 ? read_clock(thread_clock(tid)) : 0;
	if (!*user_ns && t->tg->nr_tasks == 1)
		*user_ns = stub_ns(t->mm);
	*sys_ns = atomic_load(&t->cpu_clock_set) ? read_clock(t->cpu_clock) : 0;
}
