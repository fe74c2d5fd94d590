/* Microbenchmark: small, cheap calls. Prints the median ns per call over
 * several batches.
 * usage: smallio zero|pread|mmap|clock [ITERATIONS] [FILE]
 *   zero:  read 4 KiB from /dev/zero
 *   pread: pread 4 KiB at offset 0 of FILE (default /etc/passwd)
 *   mmap:  mmap 1 MiB anonymous, touch every page, munmap
 *   clock: clock_gettime(CLOCK_MONOTONIC) (the vDSO) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

static char buf[4096];
static int fd = -1;

static int op_read(void)
{
	return read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) ? 0 : -1;
}

static int op_pread(void)
{
	return pread(fd, buf, sizeof(buf), 0) < 0 ? -1 : 0;
}

static int op_mmap(void)
{
	const size_t len = 1 << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	return munmap(p, len);
}

static int op_clock(void)
{
	struct timespec ts;
	return clock_gettime(CLOCK_MONOTONIC, &ts);
}

int main(int argc, char **argv)
{
	enum { BATCHES = 7 };
	double per[BATCHES];
	const char *file = argc > 3 ? argv[3] : "/etc/passwd";
	int (*op)(void);
	long iters;

	if (argc < 2) {
		fprintf(stderr, "usage: smallio zero|pread|mmap|clock [ITERATIONS] [FILE]\n");
		return 2;
	}
	if (!strcmp(argv[1], "zero")) {
		op = op_read;
		file = "/dev/zero";
	} else if (!strcmp(argv[1], "pread")) {
		op = op_pread;
	} else if (!strcmp(argv[1], "mmap")) {
		op = op_mmap;
		file = NULL;
	} else if (!strcmp(argv[1], "clock")) {
		op = op_clock;
		file = NULL;
	} else {
		fprintf(stderr, "smallio: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	if (file && (fd = open(file, O_RDONLY)) < 0) {
		perror(file);
		return 1;
	}
	iters = argc > 2 ? atol(argv[2]) : 20000;
	if (iters <= 0)
		iters = 20000;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			if (op() < 0) {
				perror("smallio");
				return 1;
			}
		}
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	printf("%.1f\n", bench_median(per, BATCHES));
	return 0;
}
