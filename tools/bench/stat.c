/* Microbenchmark: stat of an existing path (a path walk and attributes).
 * Prints the median ns per stat over several batches.
 * usage: stat [ITERATIONS] [PATH] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	const char *path = argc > 2 ? argv[2] : "/etc/passwd";
	enum { BATCHES = 7 };
	double per[BATCHES];
	struct stat st;

	if (iters <= 0)
		iters = 20000;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			if (stat(path, &st) < 0) {
				perror(path);
				return 1;
			}
		}
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	printf("%.1f\n", bench_median(per, BATCHES));
	return 0;
}
