/* Scheduling attributes: sched_setaffinity (a mask with an online CPU,
 * read back by sched_getaffinity, inherited by fork; EINVAL without
 * one), the priority ranges, the policy calls (SCHED_OTHER; a real-time
 * policy for a privileged caller, EPERM otherwise), and nice values
 * through getpriority/setpriority. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NO_SUCH_PID 0x3ffffff0

static void test_affinity(void)
{
	cpu_set_t all, one, got, none;
	int first = -1, status;
	pid_t pid;

	CPU_ZERO(&all);
	CHECK_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
	for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
		if (CPU_ISSET(i, &all))
			first = i;
	CHECK(first >= 0);
	/* One CPU: read back as set. */
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	CHECK_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
	CPU_ZERO(&got);
	CHECK_EQ(sched_getaffinity(0, sizeof(got), &got), 0);
	CHECK(CPU_EQUAL(&got, &one));
	CHECK_EQ(sched_getaffinity(getpid(), sizeof(got), &got), 0);
	CHECK(CPU_EQUAL(&got, &one));
	/* A child inherits it. */
	pid = fork();
	if (pid == 0) {
		cpu_set_t c;
		CPU_ZERO(&c);
		_exit(sched_getaffinity(0, sizeof(c), &c) == 0 && CPU_EQUAL(&c, &one) ? 0 : 1);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	/* Every bit: only the CPUs there are stay. */
	memset(&got, 0xff, sizeof(got));
	CHECK_EQ(sched_setaffinity(0, sizeof(got), &got), 0);
	CPU_ZERO(&got);
	CHECK_EQ(sched_getaffinity(0, sizeof(got), &got), 0);
	CHECK(CPU_EQUAL(&got, &all));
	/* No CPU that exists: refused. */
	CPU_ZERO(&none);
	CHECK_ERR(sched_setaffinity(0, sizeof(none), &none), EINVAL);
	CPU_SET(CPU_SETSIZE - 1, &none);
	CHECK_ERR(sched_setaffinity(0, sizeof(none), &none), EINVAL);
	CHECK_ERR(sched_setaffinity(NO_SUCH_PID, sizeof(all), &all), ESRCH);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof(all), (void *)8), EFAULT);
	CHECK_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
}

static void test_policy(void)
{
	struct sched_param sp = {0};
	int r;

	CHECK_EQ(sched_get_priority_max(SCHED_FIFO), 99);
	CHECK_EQ(sched_get_priority_min(SCHED_FIFO), 1);
	CHECK_EQ(sched_get_priority_max(SCHED_RR), 99);
	CHECK_EQ(sched_get_priority_min(SCHED_RR), 1);
	CHECK_EQ(sched_get_priority_max(SCHED_OTHER), 0);
	CHECK_EQ(sched_get_priority_min(SCHED_OTHER), 0);
	CHECK_EQ(sched_get_priority_max(SCHED_BATCH), 0);
	CHECK_EQ(sched_get_priority_max(SCHED_IDLE), 0);
	CHECK_ERR(sched_get_priority_max(42), EINVAL);
	CHECK_ERR(sched_get_priority_min(-1), EINVAL);

	CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
	CHECK_EQ(sched_getscheduler(getpid()), SCHED_OTHER);
	CHECK_ERR(sched_getscheduler(-1), EINVAL);
	CHECK_ERR(sched_getscheduler(NO_SUCH_PID), ESRCH);
	sp.sched_priority = 7;
	CHECK_EQ(sched_getparam(0, &sp), 0);
	CHECK_EQ(sp.sched_priority, 0);
	CHECK_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL);
	CHECK_ERR(sched_getparam(NO_SUCH_PID, &sp), ESRCH);

	/* SCHED_OTHER takes priority 0 only; the real-time ones 1..99. */
	sp.sched_priority = 0;
	CHECK_EQ(sched_setscheduler(0, SCHED_OTHER, &sp), 0);
	CHECK_EQ(sched_setparam(0, &sp), 0);
	sp.sched_priority = 1;
	CHECK_ERR(sched_setscheduler(0, SCHED_OTHER, &sp), EINVAL);
	CHECK_ERR(sched_setparam(0, &sp), EINVAL);
	sp.sched_priority = 0;
	CHECK_ERR(sched_setscheduler(0, SCHED_FIFO, &sp), EINVAL);
	sp.sched_priority = 100;
	CHECK_ERR(sched_setscheduler(0, SCHED_FIFO, &sp), EINVAL);
	CHECK_ERR(sched_setscheduler(0, 42, &sp), EINVAL);
	CHECK_ERR(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
	sp.sched_priority = 0;
	CHECK_ERR(sched_setscheduler(NO_SUCH_PID, SCHED_OTHER, &sp), ESRCH);

	/* A real-time policy needs privilege. */
	sp.sched_priority = 10;
	r = sched_setscheduler(0, SCHED_FIFO, &sp);
	if (r == 0) {
		CHECK_EQ(sched_getscheduler(0), SCHED_FIFO);
		sp.sched_priority = 0;
		CHECK_EQ(sched_getparam(0, &sp), 0);
		CHECK_EQ(sp.sched_priority, 10);
		sp.sched_priority = 20;
		CHECK_EQ(sched_setparam(0, &sp), 0);
		CHECK_EQ(sched_getparam(0, &sp), 0);
		CHECK_EQ(sp.sched_priority, 20);
		sp.sched_priority = 0;
		CHECK_EQ(sched_setscheduler(0, SCHED_OTHER, &sp), 0);
		CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
	} else {
		CHECK_EQ(errno, EPERM);
	}
	/* SCHED_BATCH is anyone's. */
	sp.sched_priority = 0;
	CHECK_EQ(sched_setscheduler(0, SCHED_BATCH, &sp), 0);
	CHECK_EQ(sched_getscheduler(0), SCHED_BATCH);
	CHECK_EQ(sched_setscheduler(0, SCHED_OTHER, &sp), 0);
}

static void test_nice(void)
{
	int base, status;
	pid_t pid;

	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	CHECK_EQ(errno, 0);
	/* The raw call answers 20 - nice. */
	CHECK_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 20 - base);
	if (base < 19) {
		CHECK_EQ(setpriority(PRIO_PROCESS, 0, base + 1), 0);
		CHECK_EQ(getpriority(PRIO_PROCESS, 0), base + 1);
		CHECK_EQ(getpriority(PRIO_PROCESS, gettid()), base + 1);
		/* Inherited by a child. */
		pid = fork();
		if (pid == 0)
			_exit(getpriority(PRIO_PROCESS, 0) == base + 1 ? 0 : 1);
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK_EQ(status, 0);
		/* Going back down needs privilege (or RLIMIT_NICE). */
		if (setpriority(PRIO_PROCESS, 0, base) == 0)
			CHECK_EQ(getpriority(PRIO_PROCESS, 0), base);
		else
			CHECK_EQ(errno, EACCES);
	}
	/* Out of range values are clamped. */
	CHECK_EQ(setpriority(PRIO_PROCESS, 0, 100), 0);
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), 19);
	/* A process group of its own: the group's value is its own. */
	pid = fork();
	if (pid == 0) {
		int ok = setpgid(0, 0) == 0 && setpriority(PRIO_PGRP, 0, 19) == 0 &&
			 getpriority(PRIO_PGRP, 0) == 19 && getpriority(PRIO_PGRP, getpid()) == 19;
		_exit(ok ? 0 : 1);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	CHECK_EQ(getpriority(PRIO_USER, getuid()), getpriority(PRIO_USER, 0));
	CHECK_ERR(getpriority(7, 0), EINVAL);
	CHECK_ERR(setpriority(7, 0, 0), EINVAL);
	CHECK_ERR(getpriority(PRIO_PROCESS, NO_SUCH_PID), ESRCH);
	CHECK_ERR(setpriority(PRIO_PROCESS, NO_SUCH_PID, 0), ESRCH);
	CHECK_ERR(getpriority(PRIO_PGRP, NO_SUCH_PID), ESRCH);
}

int main(void)
{
	test_affinity();
	test_policy();
	test_nice();
	return check_exit();
}
