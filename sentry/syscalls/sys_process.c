/* Processes: fork, vfork, clone, clone3, execve, execveat, exit,
 * exit_group, wait4, waitid, sessions and process groups, getrusage,
 * times. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

#include "sentry/kernel/clone.h"
#include "sentry/kernel/cputime.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait_child.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

SYSCALL(fork)
{
	struct clone_params cp = {.exit_signal = SIGCHLD};
	return do_clone(t, &cp);
}

SYSCALL(vfork)
{
	struct clone_params cp = {.flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD};
	return do_clone(t, &cp);
}

/* x86-64: clone(flags, newsp, parent_tid, child_tid, tls). */
SYSCALL(clone)
{
	struct clone_params cp = {
		.flags = a[0] & ~0xffULL,
		.exit_signal = a[0] & 0xff,
		.stack = a[1],
		.parent_tid = a[2],
		.child_tid = a[3],
		.tls = a[4],
	};
	return do_clone(t, &cp);
}

struct k_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

SYSCALL(clone3)
{
	struct k_clone_args ca;
	struct clone_params cp;
	uint64_t size = a[1];

	memset(&ca, 0, sizeof(ca));
	if (size < 64 /* CLONE_ARGS_SIZE_VER0 */ || size > 4096)
		return -EINVAL;
	if (copy_from_user(t, &ca, a[0], size < sizeof(ca) ? size : sizeof(ca)) < 0)
		return -EFAULT;
	for (uint64_t off = sizeof(ca); off < size; off += 8) {
		uint64_t v = 0;
		size_t n = size - off < 8 ? (size_t)(size - off) : 8;
		if (copy_from_user(t, &v, a[0] + off, n) < 0)
			return -EFAULT;
		if (v)
			return -E2BIG;
	}
	if (ca.flags & 0xffULL || ca.set_tid || ca.set_tid_size)
		return -EINVAL; /* the signal comes in exit_signal; set_tid needs a pid ns */
	if (ca.flags & (1ULL << 33) /* CLONE_INTO_CGROUP */)
		return -EINVAL;
	if ((ca.stack && !ca.stack_size) || (!ca.stack && ca.stack_size))
		return -EINVAL;
	/* A thread or a CLONE_PARENT sibling signals no one of its own. */
	if ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal)
		return -EINVAL;
	cp.flags = ca.flags;
	cp.exit_signal = ca.exit_signal;
	cp.stack = ca.stack ? ca.stack + ca.stack_size : 0; /* stacks grow down */
	cp.tls = ca.tls;
	cp.parent_tid = ca.parent_tid;
	cp.child_tid = ca.child_tid;
	return do_clone(t, &cp);
}

SYSCALL(execve) { return do_execveat(t, AT_FDCWD, a[0], a[1], a[2], 0); }
SYSCALL(execveat) { return do_execveat(t, (int)a[0], a[1], a[2], a[3], (int)a[4]); }

SYSCALL(exit_group)
{
	thread_group_exit(t->tg, ((int)a[0] & 0xff) << 8);
	atomic_store(&t->exiting, true);
	return 0;
}

SYSCALL(exit)
{
	/* This thread only; the last one ends the process with its code. */
	t->exit_code = (int)a[0];
	atomic_store(&t->exiting, true);
	return 0;
}

static void times_of(struct wait_result *res, uint64_t urusage, struct task *t)
{
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	ru.ru_utime.tv_sec = (time_t)(res->utime_ns / 1000000000ULL);
	ru.ru_utime.tv_usec = (suseconds_t)(res->utime_ns % 1000000000ULL / 1000);
	ru.ru_stime.tv_sec = (time_t)(res->stime_ns / 1000000000ULL);
	ru.ru_stime.tv_usec = (suseconds_t)(res->stime_ns % 1000000000ULL / 1000);
	copy_to_user(t, urusage, &ru, sizeof(ru));
}

SYSCALL(wait4)
{
	int pid = (int)a[0], opts = (int)a[2];
	struct wait_sel w = {.options = WEXITED};
	struct wait_result res;
	int r;

	if (opts & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	if (opts & WUNTRACED)
		w.options |= WSTOPPED;
	w.options |= opts & (WNOHANG | WCONTINUED | __WCLONE | __WALL);
	if (pid > 0) {
		w.idtype = P_PID;
		w.id = pid;
	} else if (pid == 0) {
		w.idtype = P_PGID;
		w.id = t->tg->pgid;
	} else if (pid == -1) {
		w.idtype = P_ALL;
	} else {
		w.idtype = P_PGID;
		w.id = -pid;
	}
	r = do_wait(t, &w, &res);
	if (r <= 0)
		return r;
	if (a[1] && copy_to_user(t, a[1], &res.wstatus, sizeof(int)) < 0)
		return -EFAULT;
	if (a[3])
		times_of(&res, a[3], t);
	return res.pid;
}

SYSCALL(waitid)
{
	int idtype = (int)a[0], opts = (int)a[3];
	struct wait_sel w = {.idtype = idtype, .id = (int)a[1], .options = opts};
	struct wait_result res;
	struct k_siginfo si;
	int r;

	if (opts & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD |
		     __WALL | __WCLONE))
		return -EINVAL;
	if (!(opts & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	switch (idtype) {
	case P_ALL:
		break;
	case P_PID:
		if ((int)a[1] <= 0)
			return -EINVAL;
		break;
	case P_PGID:
		if ((int)a[1] < 0)
			return -EINVAL;
		if ((int)a[1] == 0)
			w.id = t->tg->pgid;
		break;
	default:
		return -EINVAL; /* P_PIDFD needs pidfds */
	}
	r = do_wait(t, &w, &res);
	if (r < 0)
		return r;
	memset(&si, 0, sizeof(si));
	if (r > 0) {
		si.si_signo = SIGCHLD;
		si.si_code = res.code;
		si.chld.pid = res.pid;
		si.chld.uid = res.uid;
		si.chld.status = res.status;
	}
	/* WNOHANG with nothing to report: a zeroed siginfo (si_pid 0). */
	if (a[2] && copy_to_user(t, a[2], &si, sizeof(si)) < 0)
		return -EFAULT;
	if (a[4] && r > 0)
		times_of(&res, a[4], t);
	return 0;
}

SYSCALL(getppid)
{
	int p;
	pthread_mutex_lock(&kernel.lock);
	p = t->tg->ppid;
	pthread_mutex_unlock(&kernel.lock);
	return p;
}

/* Process groups and sessions. */
static struct thread_group *find_tg(struct task *t, int pid)
{
	return pid == 0 ? t->tg : kernel_find_group_locked(pid);
}

SYSCALL(getpgid)
{
	struct thread_group *tg;
	int r;

	if ((int)a[0] < 0)
		return -ESRCH;
	pthread_mutex_lock(&kernel.lock);
	tg = find_tg(t, (int)a[0]);
	r = tg ? tg->pgid : -ESRCH;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(getpgrp)
{
	int r;
	pthread_mutex_lock(&kernel.lock);
	r = t->tg->pgid;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(getsid)
{
	struct thread_group *tg;
	int r;

	if ((int)a[0] < 0)
		return -ESRCH;
	pthread_mutex_lock(&kernel.lock);
	tg = find_tg(t, (int)a[0]);
	r = tg ? tg->sid : -ESRCH;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(setsid)
{
	struct thread_group *tg = t->tg;
	int r;

	pthread_mutex_lock(&kernel.lock);
	/* A process group leader cannot start a session; nor may a process
	 * group with this id exist. */
	r = tg->pid;
	if (tg->pgid == tg->pid)
		r = -EPERM;
	for (int i = 0; r > 0 && i < kernel.ngroups; i++)
		if (kernel.groups[i]->pgid == tg->pid && kernel.groups[i] != tg)
			r = -EPERM;
	if (r > 0)
		tg->pgid = tg->sid = tg->pid;
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

SYSCALL(setpgid)
{
	int pid = (int)a[0], pgid = (int)a[1];
	struct thread_group *tg;
	int r = 0;

	if (pgid < 0)
		return -EINVAL;
	pthread_mutex_lock(&kernel.lock);
	tg = find_tg(t, pid);
	if (!tg) {
		/* A thread that does not lead its process: EINVAL. */
		struct task *x = kernel_find_task_locked(pid);
		r = x && x->tg->pid != pid ? -EINVAL : -ESRCH;
		goto out;
	}
	if (tg != t->tg && tg->parent != t->tg) {
		r = -ESRCH;
		goto out;
	}
	if (pgid == 0)
		pgid = tg->pid;
	/* Rules of setpgid(2), in Linux's order: the target is us, or our
	 * child in our session that has not exec'd; not a session leader;
	 * the group is its own pid or an existing group in the session. */
	if (tg != t->tg && tg->sid != t->tg->sid) {
		r = -EPERM;
		goto out;
	}
	if (tg != t->tg && tg->did_exec) {
		r = -EACCES;
		goto out;
	}
	if (tg->sid == tg->pid) {
		r = -EPERM;
		goto out;
	}
	if (pgid != tg->pid) {
		bool found = false;
		for (int i = 0; i < kernel.ngroups; i++)
			if (kernel.groups[i]->pgid == pgid && kernel.groups[i]->sid == t->tg->sid &&
			    kernel.groups[i]->state != TG_DEAD)
				found = true;
		if (!found) {
			r = -EPERM;
			goto out;
		}
	}
	tg->pgid = pgid;
out:
	pthread_mutex_unlock(&kernel.lock);
	return r;
}

static void ns_to_tv(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000ULL);
	tv->tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000);
}

SYSCALL(getrusage)
{
	int who = (int)a[0];
	struct rusage ru;
	uint64_t user, sys;

	memset(&ru, 0, sizeof(ru));
	switch (who) {
	case RUSAGE_SELF:
		cputime_group(t, &user, &sys);
		break;
	case RUSAGE_THREAD:
		cputime_thread(t, &user, &sys);
		break;
	case RUSAGE_CHILDREN:
		pthread_mutex_lock(&t->tg->lock);
		user = t->tg->cutime_ns;
		sys = t->tg->cstime_ns;
		pthread_mutex_unlock(&t->tg->lock);
		break;
	default:
		return -EINVAL;
	}
	ns_to_tv(user, &ru.ru_utime);
	ns_to_tv(sys, &ru.ru_stime);
	return copy_to_user(t, a[1], &ru, sizeof(ru));
}

SYSCALL(times)
{
	struct tms tb;
	struct timespec now;
	uint64_t user, sys;

	if (a[0]) {
		cputime_group(t, &user, &sys);
		memset(&tb, 0, sizeof(tb));
		/* In USER_HZ (100) ticks. */
		tb.tms_utime = (clock_t)(user / 10000000ULL);
		tb.tms_stime = (clock_t)(sys / 10000000ULL);
		pthread_mutex_lock(&t->tg->lock);
		tb.tms_cutime = (clock_t)(t->tg->cutime_ns / 10000000ULL);
		tb.tms_cstime = (clock_t)(t->tg->cstime_ns / 10000000ULL);
		pthread_mutex_unlock(&t->tg->lock);
		if (copy_to_user(t, a[0], &tb, sizeof(tb)) < 0)
			return -EFAULT;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec * 100 + now.tv_nsec / 10000000);
}
