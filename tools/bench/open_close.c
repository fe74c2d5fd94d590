/* Microbenchmark: open and close of an existing file (a path walk, an
 * open file description, an fd). Prints the median ns per open+close
 * pair over several batches. usage: open_close [ITERATIONS] [PATH] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	const char *path = argc > 2 ? argv[2] : "/etc/passwd";
	enum { BATCHES = 7 };
	double per[BATCHES];

	if (iters <= 0)
		iters = 20000;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				perror(path);
				return 1;
			}
			close(fd);
		}
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	printf("%.1f\n", bench_median(per, BATCHES));
	return 0;
}
