/* Microbenchmark: the cost of one trapped system call. Prints the median
 * ns per getpid over several batches. usage: getpid [ITERATIONS] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
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
			syscall(SYS_getpid);
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	printf("%.1f\n", bench_median(per, BATCHES));
	return 0;
}
