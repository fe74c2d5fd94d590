/* Microbenchmark: a round trip between two parties. Prints the median ns
 * per round trip over several batches.
 * usage: pingpong pipe|futex [ITERATIONS]
 *   pipe:  one byte to a child process through a pipe and back through
 *          another
 *   futex: two threads take turns on a futex word (wait/wake each way) */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

static long iters;

static double run_pipe(void)
{
	int to[2], from[2], st;
	char c = 'x';
	uint64_t t0;
	pid_t pid;

	if (pipe(to) < 0 || pipe(from) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		while (read(to[0], &c, 1) == 1)
			if (write(from[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
			return -1;
	}
	t0 = now_ns() - t0;
	close(to[1]);
	close(from[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return (double)t0 / (double)iters;
}

static _Atomic int turn; /* 0: main's turn, 1: the partner's */

static void fwait(int val)
{
	while (atomic_load(&turn) == val)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void fpass(int to)
{
	atomic_store(&turn, to);
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		fwait(0);
		fpass(0);
	}
	return NULL;
}

static double run_futex(void)
{
	pthread_t t;
	uint64_t t0;

	atomic_store(&turn, 0);
	if (pthread_create(&t, NULL, partner, NULL))
		return -1;
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		fpass(1);
		fwait(1);
	}
	t0 = now_ns() - t0;
	pthread_join(t, NULL);
	return (double)t0 / (double)iters;
}

int main(int argc, char **argv)
{
	enum { BATCHES = 5 };
	double per[BATCHES];
	double (*run)(void);

	if (argc < 2) {
		fprintf(stderr, "usage: pingpong pipe|futex [ITERATIONS]\n");
		return 2;
	}
	if (!strcmp(argv[1], "pipe"))
		run = run_pipe;
	else if (!strcmp(argv[1], "futex"))
		run = run_futex;
	else {
		fprintf(stderr, "pingpong: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	iters = argc > 2 ? atol(argv[2]) : 2000;
	if (iters <= 0)
		iters = 2000;
	for (int b = 0; b < BATCHES; b++) {
		per[b] = run();
		if (per[b] < 0) {
			perror("pingpong: round trip failed");
			return 1;
		}
	}
	printf("%.0f\n", bench_median(per, BATCHES));
	return 0;
}
