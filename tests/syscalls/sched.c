/* Scheduling queries: sched_yield, sched_getaffinity, getcpu. The CPU a
 * thread reports running on is always one it may run on. */
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((void *)8)
#define NO_SUCH_PID 0x3ffffff0

int main(void)
{
	unsigned char mask[1024];
	cpu_set_t set;
	unsigned cpu = ~0u, node = ~0u;
	long n, m;

	CHECK_EQ(sched_yield(), 0);
	CHECK_EQ(syscall(SYS_sched_yield), 0);

	/* The kernel copies out its mask size: whole longs, at most len. */
	memset(mask, 0xee, sizeof(mask));
	n = CHECK_SYS(syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask));
	CHECK(n >= 8 && n <= (long)sizeof(mask) && n % 8 == 0);
	if (n >= 8 && n < (long)sizeof(mask)) {
		int untouched = 1, cpus = 0;
		for (long i = n; i < (long)sizeof(mask); i++)
			untouched &= mask[i] == 0xee;
		CHECK(untouched);
		for (long i = 0; i < n; i++)
			cpus += __builtin_popcount(mask[i]);
		CHECK(cpus >= 1);
		/* Exactly the kernel's size is enough. */
		CHECK_EQ(syscall(SYS_sched_getaffinity, 0, n, mask), n);
		/* By own pid and tid, as for 0. */
		CHECK_EQ(syscall(SYS_sched_getaffinity, getpid(), sizeof(mask), mask), n);
		CHECK_EQ(syscall(SYS_sched_getaffinity, gettid(), sizeof(mask), mask), n);
	}
	/* Lengths not in whole longs, or too short for any CPU. */
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 0, mask), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 4, mask), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(mask) - 1, mask), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, NO_SUCH_PID, 4, mask), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof(mask), BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_sched_getaffinity, NO_SUCH_PID, sizeof(mask), mask), ESRCH);
	CHECK_ERR(syscall(SYS_sched_getaffinity, -1, sizeof(mask), mask), ESRCH);

	/* libc agrees, and the CPU we run on is in the set. */
	CPU_ZERO(&set);
	CHECK_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	CHECK(CPU_COUNT(&set) >= 1);
	for (int i = 0; i < 100; i++) {
		m = syscall(SYS_getcpu, &cpu, &node, NULL);
		if (m != 0) {
			FAIL("getcpu: %s", check_errname(errno));
			break;
		}
		if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set)) {
			FAIL("getcpu says cpu %u, not in the affinity mask", cpu);
			break;
		}
	}
	CHECK(node != ~0u);
	CHECK_EQ(syscall(SYS_getcpu, NULL, NULL, NULL), 0);
	CHECK_EQ(syscall(SYS_getcpu, &cpu, NULL, NULL), 0);
	CHECK(sched_getcpu() >= 0);
	CHECK_ERR(syscall(SYS_getcpu, BAD_PTR, NULL, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_getcpu, NULL, BAD_PTR, NULL), EFAULT);
	return check_exit();
}
