/* Microbenchmark: the cost of one trapped system call. Prints the median
 * ns per getpid over several batches. usage: getpid [ITERATIONS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: never traps */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

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
	qsort(per, BATCHES, sizeof(per[0]), cmp);
	printf("%.1f\n", per[BATCHES / 2]);
	return 0;
}
