/* select and pselect6: read/write/except sets over eventfds (also above
 * fd 64), EBADF for a closed fd in a set, the sets cleared on timeout,
 * the remaining time written back (tv_usec past a second folded into
 * tv_sec), EINTR under a handler even with SA_RESTART, and pselect6's
 * signal mask. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/select.h>
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

/* The raw call, which writes the time back (as glibc's does too). */
static long raw_select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	return syscall(SYS_select, n, r, w, e, tv);
}

static void test_sets(void)
{
	int empty = CHECK_SYS(eventfd(0, 0)), full = CHECK_SYS(eventfd(1, 0));
	int high = CHECK_SYS(dup2(full, 100)), closed = CHECK_SYS(eventfd(0, 0));
	struct timeval tv = {0, 0};
	fd_set r, w, e;

	close(closed);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	FD_SET(empty, &r);
	FD_SET(full, &r);
	FD_SET(high, &r);
	FD_SET(empty, &w);
	FD_SET(empty, &e);
	FD_SET(full, &e);
	/* full and 100 readable, empty writable; nothing exceptional. */
	CHECK_EQ(raw_select(high + 1, &r, &w, &e, &tv), 3);
	CHECK(!FD_ISSET(empty, &r));
	CHECK(FD_ISSET(full, &r));
	CHECK(FD_ISSET(high, &r));
	CHECK(FD_ISSET(empty, &w));
	CHECK(!FD_ISSET(empty, &e) && !FD_ISSET(full, &e));
	/* Only fds below n count. */
	FD_ZERO(&r);
	FD_SET(high, &r);
	CHECK_EQ(raw_select(high, &r, NULL, NULL, &tv), 0);
	/* A closed fd in a set. */
	FD_ZERO(&r);
	FD_SET(closed, &r);
	CHECK_ERR(raw_select(closed + 1, &r, NULL, NULL, &tv), EBADF);
	CHECK_ERR(raw_select(-1, NULL, NULL, NULL, &tv), EINVAL);
	CHECK_ERR(raw_select(1, BAD_PTR, NULL, NULL, &tv), EFAULT);
	close(empty);
	close(full);
	close(high);
}

static void test_timeouts(void)
{
	int fd = CHECK_SYS(eventfd(0, 0)), ready = CHECK_SYS(eventfd(1, 0));
	struct timeval tv;
	fd_set r;
	uint64_t t0;

	/* Timed out: the set comes back empty, no time left. */
	FD_ZERO(&r);
	FD_SET(fd, &r);
	tv = (struct timeval){0, 50000};
	t0 = now_ms();
	CHECK_EQ(raw_select(fd + 1, &r, NULL, NULL, &tv), 0);
	CHECK(now_ms() - t0 >= 45);
	CHECK(!FD_ISSET(fd, &r));
	CHECK_EQ(tv.tv_sec, 0);
	CHECK_EQ(tv.tv_usec, 0);
	/* 2 000 000 us is 2 s: ready at once, most of them left. */
	FD_ZERO(&r);
	FD_SET(ready, &r);
	tv = (struct timeval){0, 2000000};
	CHECK_EQ(raw_select(ready + 1, &r, NULL, NULL, &tv), 1);
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK(tv.tv_sec == 1 || (tv.tv_sec == 2 && tv.tv_usec == 0));
	tv = (struct timeval){0, -1};
	CHECK_ERR(raw_select(fd + 1, &r, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){-1, 0};
	CHECK_ERR(raw_select(fd + 1, &r, NULL, NULL, &tv), EINVAL);
	/* No fds: a sleep. */
	tv = (struct timeval){0, 30000};
	t0 = now_ms();
	CHECK_EQ(raw_select(0, NULL, NULL, NULL, &tv), 0);
	CHECK(now_ms() - t0 >= 25);
	close(fd);
	close(ready);
}

static void test_wakeup_and_signals(void)
{
	int fd = CHECK_SYS(eventfd(0, 0));
	struct timeval tv;
	fd_set r;
	pid_t pid = fork();

	if (pid == 0) {
		uint64_t one = 1;
		sleep_ms(50);
		_exit(write(fd, &one, 8) == 8 ? 0 : 1);
	}
	FD_ZERO(&r);
	FD_SET(fd, &r);
	CHECK_EQ(select(fd + 1, &r, NULL, NULL, NULL), 1);
	CHECK(FD_ISSET(fd, &r));
	reap(pid);
	uint64_t v;
	CHECK_EQ(read(fd, &v, 8), 8);

	/* Never restarted after a handler, even with SA_RESTART; the time
	 * left is written back. */
	set_handler(SIGUSR1, SA_RESTART);
	handled = 0;
	pid = signal_later(SIGUSR1, 30);
	FD_ZERO(&r);
	FD_SET(fd, &r);
	tv = (struct timeval){5, 0};
	CHECK_ERR(raw_select(fd + 1, &r, NULL, NULL, &tv), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	CHECK(tv.tv_sec <= 4); /* at least 30 ms went by */
	reap(pid);
	signal(SIGUSR1, SIG_DFL);
	close(fd);
}

static void test_pselect(void)
{
	int fd = CHECK_SYS(eventfd(0, 0));
	struct timespec ts;
	sigset_t block, none, cur;
	fd_set r;
	struct {
		const sigset_t *ss;
		size_t len;
	} pack;

	set_handler(SIGUSR2, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigemptyset(&none);
	CHECK_EQ(sigprocmask(SIG_BLOCK, &block, NULL), 0);
	handled = 0;
	raise(SIGUSR2);
	FD_ZERO(&r);
	FD_SET(fd, &r);
	/* Blocked during the call too: it times out, written back as 0. */
	ts = (struct timespec){0, 20000000};
	pack.ss = &block;
	pack.len = 8;
	CHECK_EQ(syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, &ts, &pack), 0);
	CHECK_EQ(ts.tv_sec, 0);
	CHECK_EQ(ts.tv_nsec, 0);
	CHECK_EQ(handled, 0);
	/* Let in for the call: EINTR, and blocked again after. */
	FD_SET(fd, &r);
	CHECK_ERR(pselect(fd + 1, &r, NULL, NULL, NULL, &none), EINTR);
	CHECK_EQ(handled, SIGUSR2);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK(sigismember(&cur, SIGUSR2));
	/* A bad mask size; none at all is fine with any size. */
	pack.ss = &none;
	pack.len = 4;
	ts = (struct timespec){0, 0};
	CHECK_ERR(syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, &ts, &pack), EINVAL);
	pack.ss = NULL;
	CHECK_EQ(syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, &ts, &pack), 0);
	ts = (struct timespec){0, 1000000000};
	CHECK_ERR(syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, &ts, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, NULL, BAD_PTR), EFAULT);
	CHECK_EQ(sigprocmask(SIG_UNBLOCK, &block, NULL), 0);
	signal(SIGUSR2, SIG_DFL);
	close(fd);
}

int main(void)
{
	test_sets();
	test_timeouts();
	test_wakeup_and_signals();
	test_pselect();
	return check_exit();
}
