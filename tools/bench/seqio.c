/* Microbenchmark: 64 MiB of sequential I/O in 1 MiB calls, no fsync.
 * Prints the median ms per 64 MiB over several passes.
 *   seqio write DIR     creates, writes and closes DIR/seqio.PID each pass
 *   seqio read DIR      writes DIR/seqio.PID once (untimed), then reads it
 *   seqio readfile FILE reads an existing FILE (the first 64 MiB) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

enum { CHUNK = 1 << 20, TOTAL = 64 << 20, PASSES = 5 };

static char buf[CHUNK];

static int write_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	for (size_t done = 0; done < TOTAL; done += CHUNK) {
		if (write(fd, buf, CHUNK) != CHUNK) {
			int e = errno ? errno : EIO;
			close(fd);
			return -e;
		}
	}
	return close(fd) < 0 ? -errno : 0;
}

static int read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (done < TOTAL && (n = read(fd, buf, CHUNK)) > 0)
		done += (size_t)n;
	close(fd);
	return done == TOTAL ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	double ms[PASSES];
	char path[4096];
	bool writing, made = false;
	int r = 0;

	if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "read") &&
			  strcmp(argv[1], "readfile"))) {
		fprintf(stderr, "usage: seqio write|read DIR, or seqio readfile FILE\n");
		return 2;
	}
	writing = !strcmp(argv[1], "write");
	if (!strcmp(argv[1], "readfile")) {
		snprintf(path, sizeof(path), "%s", argv[2]);
	} else {
		snprintf(path, sizeof(path), "%s/seqio.%d", argv[2], (int)getpid());
		made = true;
	}
	memset(buf, 'x', sizeof(buf));
	if (!strcmp(argv[1], "read"))
		r = write_file(path);
	for (int p = 0; r == 0 && p < PASSES; p++) {
		uint64_t t0 = now_ns();
		r = writing ? write_file(path) : read_file(path);
		ms[p] = (double)(now_ns() - t0) / 1e6;
	}
	if (made)
		unlink(path);
	if (r < 0) {
		fprintf(stderr, "seqio %s %s: %s\n", argv[1], path, strerror(-r));
		return 1;
	}
	printf("%.1f\n", bench_median(ms, PASSES));
	return 0;
}
