/* Microbenchmark: the cost of one system call the sentry answers. Prints
 * the median ns per getpid over several batches. It calls libc's getpid(),
 * whose `mov $39,%eax; syscall` is a site systrap patches (glibc caches no
 * pid since 2.25: every call enters the kernel, or the sentry); the
 * systrap-nopatch column of bench.sh is the trapped cost.
 * usage: getpid [ITERATIONS] */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	enum { BATCHES = 7 };
	double per[BATCHES];

	if (iters <= 0)
		iters = 20000;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++)
			getpid();
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	printf("%.1f\n", bench_median(per, BATCHES));
	return 0;
}
