/* Microbenchmark: process and thread life cycles. Prints the median ns
 * per cycle over several batches.
 * usage: spawn fork|exec|thread [ITERATIONS]
 *   fork:   fork, the child _exits, the parent waits
 *   exec:   fork, the child execs this program with "noop", which exits
 *   thread: pthread_create of a thread that returns, pthread_join */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

static const char *self;

static int cycle_fork(void)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

static int cycle_exec(void)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl(self, self, "noop", (char *)NULL);
		_exit(127);
	}
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int cycle_thread(void)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, thread_fn, NULL))
		return -1;
	return pthread_join(t, &ret) ? -1 : 0;
}

int main(int argc, char **argv)
{
	enum { BATCHES = 5 };
	double per[BATCHES];
	int (*cycle)(void);
	long iters;

	if (argc > 1 && !strcmp(argv[1], "noop"))
		return 0;
	if (argc < 2) {
		fprintf(stderr, "usage: spawn fork|exec|thread [ITERATIONS]\n");
		return 2;
	}
	self = argv[0];
	if (!strcmp(argv[1], "fork"))
		cycle = cycle_fork;
	else if (!strcmp(argv[1], "exec"))
		cycle = cycle_exec;
	else if (!strcmp(argv[1], "thread"))
		cycle = cycle_thread;
	else {
		fprintf(stderr, "spawn: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	iters = argc > 2 ? atol(argv[2]) : 200;
	if (iters <= 0)
		iters = 200;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			if (cycle() < 0) {
				perror("spawn: cycle failed");
				return 1;
			}
		}
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	printf("%.0f\n", bench_median(per, BATCHES));
	return 0;
}
