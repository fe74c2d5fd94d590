/* poll and ppoll: readiness of eventfds, POLLNVAL, negative fds, the
 * RLIMIT_NOFILE bound, timeouts (at least as long as asked), wake-ups
 * from another process (eventfd, pipe), pipe hang-ups, signals (EINTR with a handler even under
 * SA_RESTART; a stop and continue restarts the call), and ppoll's
 * temporary signal mask and remaining-time write-back. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((void *)8)

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

static void post(int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != 8)
		FAIL("eventfd write");
}

static volatile sig_atomic_t handled;
static void on_signal(int sig) { handled = sig; }

static void set_handler(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

/* A child that sends sig to us after ms milliseconds. */
static pid_t signal_later(int sig, int ms)
{
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		sleep_ms(ms);
		kill(parent, sig);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
}

static void test_ready(void)
{
	int a = CHECK_SYS(eventfd(0, 0)), b = CHECK_SYS(eventfd(1, 0));
	int closed = CHECK_SYS(eventfd(0, 0));
	struct pollfd p[4];

	close(closed);
	p[0] = (struct pollfd){a, POLLIN, 0x7777};
	p[1] = (struct pollfd){b, POLLIN | POLLOUT, 0};
	p[2] = (struct pollfd){-1, POLLIN, 0x5555};
	p[3] = (struct pollfd){closed, POLLIN, 0};
	/* b is ready both ways, the closed fd is POLLNVAL, -1 is skipped. */
	CHECK_EQ(poll(p, 4, 0), 2);
	CHECK_EQ(p[0].revents, 0);
	CHECK_EQ(p[1].revents, POLLIN | POLLOUT);
	CHECK_EQ(p[2].revents, 0);
	CHECK_EQ(p[3].revents, POLLNVAL);
	/* Only the asked-for events, but POLLERR/POLLHUP always. */
	p[1].events = POLLOUT;
	CHECK_EQ(poll(&p[1], 1, 0), 1);
	CHECK_EQ(p[1].revents, POLLOUT);
	p[0].events = 0;
	CHECK_EQ(poll(&p[0], 1, 0), 0);
	CHECK_EQ(poll(NULL, 0, 0), 0);
	CHECK_ERR(syscall(SYS_poll, BAD_PTR, 1, 0), EFAULT);
	close(a);
	close(b);
}

/* Pipes: data, a writer gone (POLLHUP), a reader gone (POLLERR), which
 * come even when not asked for. */
static void test_pipe(void)
{
	int fds[2];
	struct pollfd p[2];
	char c = 'x';

	CHECK_EQ(pipe(fds), 0);
	p[0] = (struct pollfd){fds[0], POLLIN, 0};
	p[1] = (struct pollfd){fds[1], POLLOUT, 0};
	CHECK_EQ(poll(p, 2, 0), 1);
	CHECK_EQ(p[0].revents, 0);
	CHECK_EQ(p[1].revents, POLLOUT);
	CHECK_EQ(write(fds[1], &c, 1), 1);
	CHECK_EQ(poll(p, 1, 0), 1);
	CHECK_EQ(p[0].revents, POLLIN);
	CHECK_EQ(close(fds[1]), 0);
	p[0].events = 0;
	CHECK_EQ(poll(p, 1, 0), 1);
	CHECK_EQ(p[0].revents, POLLHUP);
	p[0].events = POLLIN;
	CHECK_EQ(poll(p, 1, 0), 1);
	CHECK_EQ(p[0].revents, POLLIN | POLLHUP);
	CHECK_EQ(close(fds[0]), 0);

	CHECK_EQ(pipe(fds), 0);
	CHECK_EQ(close(fds[0]), 0);
	p[1] = (struct pollfd){fds[1], POLLOUT, 0};
	CHECK_EQ(poll(&p[1], 1, 0), 1);
	CHECK_EQ(p[1].revents, POLLOUT | POLLERR);
	CHECK_EQ(close(fds[1]), 0);

	/* A writer in another process wakes a sleeping poll. */
	CHECK_EQ(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		_exit(write(fds[1], &c, 1) == 1 ? 0 : 1);
	}
	p[0] = (struct pollfd){fds[0], POLLIN, 0};
	CHECK_EQ(poll(p, 1, -1), 1);
	CHECK_EQ(p[0].revents, POLLIN);
	reap(pid);
	close(fds[0]);
	close(fds[1]);
}

static void test_nofile_limit(void)
{
	struct rlimit old, rl;
	struct pollfd p[9];

	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = 8;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	for (int i = 0; i < 9; i++)
		p[i] = (struct pollfd){-1, 0, 0};
	CHECK_EQ(poll(p, 8, 0), 0);
	CHECK_ERR(poll(p, 9, 0), EINVAL);
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
}

static void test_timeout(void)
{
	int fd = CHECK_SYS(eventfd(0, 0));
	struct pollfd p = {fd, POLLIN, 0};
	uint64_t t0 = now_ms();

	CHECK_EQ(poll(&p, 1, 60), 0);
	CHECK(now_ms() - t0 >= 50);
	t0 = now_ms();
	CHECK_EQ(poll(NULL, 0, 30), 0);
	CHECK(now_ms() - t0 >= 25);
	close(fd);
}

/* poll sleeps until another process makes an fd ready. */
static void test_wakeup(void)
{
	int a = CHECK_SYS(eventfd(0, 0)), b = CHECK_SYS(eventfd(0, 0));
	struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
	pid_t pid = fork();

	if (pid == 0) {
		sleep_ms(50);
		post(b, 1);
		_exit(0);
	}
	CHECK_EQ(poll(p, 2, -1), 1);
	CHECK_EQ(p[0].revents, 0);
	CHECK_EQ(p[1].revents, POLLIN);
	reap(pid);
	close(a);
	close(b);
}

static void test_signals(void)
{
	int fd = CHECK_SYS(eventfd(0, 0));
	struct pollfd p = {fd, POLLIN, 0};
	pid_t pid;
	uint64_t t0;

	/* A handler ends poll with EINTR, SA_RESTART or not. */
	set_handler(SIGUSR1, 0);
	handled = 0;
	pid = signal_later(SIGUSR1, 30);
	CHECK_ERR(poll(&p, 1, -1), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	reap(pid);
	set_handler(SIGUSR1, SA_RESTART);
	handled = 0;
	pid = signal_later(SIGUSR1, 30);
	CHECK_ERR(poll(&p, 1, 5000), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	reap(pid);
	signal(SIGUSR1, SIG_DFL);

	/* Stopped and continued, no handler: poll goes on, to its first
	 * deadline. */
	pid = fork();
	if (pid == 0) {
		pid_t parent = getppid();
		sleep_ms(20);
		kill(parent, SIGSTOP);
		sleep_ms(20);
		kill(parent, SIGCONT);
		_exit(0);
	}
	t0 = now_ms();
	CHECK_EQ(poll(&p, 1, 150), 0);
	CHECK(now_ms() - t0 >= 140);
	reap(pid);
	pid = fork();
	if (pid == 0) {
		pid_t parent = getppid();
		sleep_ms(20);
		kill(parent, SIGSTOP);
		sleep_ms(20);
		kill(parent, SIGCONT);
		sleep_ms(20);
		post(fd, 1);
		_exit(0);
	}
	CHECK_EQ(poll(&p, 1, -1), 1);
	CHECK_EQ(p.revents, POLLIN);
	reap(pid);
	close(fd);
}

static int blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

static void test_ppoll(void)
{
	int fd = CHECK_SYS(eventfd(0, 0));
	struct pollfd p = {fd, POLLIN, 0};
	struct timespec ts;
	sigset_t block, none;
	pid_t pid;
	uint64_t t0;

	/* The remaining time is written back (the raw call: libc's passes
	 * a copy): 0 after a timeout. */
	ts = (struct timespec){0, 40000000};
	t0 = now_ms();
	CHECK_EQ(syscall(SYS_ppoll, &p, 1, &ts, NULL, 8), 0);
	CHECK(now_ms() - t0 >= 35);
	CHECK_EQ(ts.tv_sec, 0);
	CHECK_EQ(ts.tv_nsec, 0);
	/* Ready at once: most of the time is left. */
	post(fd, 1);
	ts = (struct timespec){5, 0};
	CHECK_EQ(syscall(SYS_ppoll, &p, 1, &ts, NULL, 8), 1);
	CHECK(ts.tv_sec >= 3 && ts.tv_sec <= 5);
	CHECK_ERR(ppoll(&p, 1, &(struct timespec){0, 1000000000}, NULL), EINVAL);
	CHECK_ERR(ppoll(&p, 1, &(struct timespec){-1, 0}, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_ppoll, &p, 1, BAD_PTR, NULL, 8), EFAULT);
	uint64_t v;
	CHECK_EQ(read(fd, &v, 8), 8);

	/* The mask for the call: SIGUSR1 blocked around it, let in during
	 * it. A pending one ends even a zero-timeout ppoll with EINTR. */
	set_handler(SIGUSR1, SA_RESTART);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	CHECK_EQ(sigprocmask(SIG_BLOCK, &block, NULL), 0);
	handled = 0;
	raise(SIGUSR1);
	CHECK_EQ(handled, 0);
	ts = (struct timespec){0, 0};
	CHECK_ERR(ppoll(&p, 1, &ts, &none), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	CHECK(blocked(SIGUSR1));
	/* Blocked by the call's mask: the signal waits, ppoll times out. */
	handled = 0;
	raise(SIGUSR1);
	ts = (struct timespec){0, 20000000};
	CHECK_EQ(ppoll(&p, 1, &ts, &block), 0);
	CHECK_EQ(handled, 0);
	CHECK_ERR(ppoll(&p, 1, &ts, &none), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	/* Arriving during the wait. */
	handled = 0;
	pid = signal_later(SIGUSR1, 30);
	ts = (struct timespec){5, 0};
	CHECK_ERR(syscall(SYS_ppoll, &p, 1, &ts, &none, 8), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	CHECK(blocked(SIGUSR1));
	CHECK(ts.tv_sec <= 4); /* at least 30 ms went by */
	reap(pid);
	/* The raw call checks the mask size only with a mask. */
	CHECK_ERR(syscall(SYS_ppoll, &p, 1, &ts, &none, 4), EINVAL);
	ts = (struct timespec){0, 0};
	CHECK_EQ(syscall(SYS_ppoll, &p, 1, &ts, NULL, 4), 0);
	CHECK_EQ(sigprocmask(SIG_UNBLOCK, &block, NULL), 0);
	signal(SIGUSR1, SIG_DFL);
	close(fd);
}

int main(void)
{
	test_ready();
	test_pipe();
	test_nofile_limit();
	test_timeout();
	test_wakeup();
	test_signals();
	test_ppoll();
	return check_exit();
}
