/* epoll: create flags, epoll_ctl's errors (EEXIST, ENOENT, EBADF,
 * EINVAL, EPERM, ELOOP and the nesting limit, EPOLLEXCLUSIVE's rules),
 * level-triggered, edge-triggered and one-shot items (eventfds, pipes), nested epolls (an
 * epoll fd is pollable), registration by open file description (closing
 * one of two fds keeps the item; closing the last removes it), blocking
 * waits woken from another process, timeouts, maxevents, and
 * epoll_pwait/epoll_pwait2 with their signal masks. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((void *)8)
#define KERNEL_PTR ((void *)-4096L) /* no user range starts there */

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

static uint64_t take(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != 8)
		FAIL("eventfd read");
	return v;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* One event expected now: its data, or -1 (none), -2 (more than one). */
static long one_event(int ep, uint32_t *events)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, 0);
	if (n == 0)
		return -1;
	if (n != 1)
		return -2;
	if (events)
		*events = ev[0].events;
	return (long)ev[0].data.u64;
}

/* What /proc/self/fd shows for fd. */
static int fd_link_is(int fd, const char *want)
{
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return readlink(path, link, sizeof(link) - 1) > 0 && !strcmp(link, want);
}

static void test_create(void)
{
	int ep = CHECK_SYS(epoll_create1(0));
	int ep2 = CHECK_SYS(epoll_create1(EPOLL_CLOEXEC));
	int ep3 = CHECK_SYS(epoll_create(1));

	CHECK_EQ(fcntl(ep, F_GETFD), 0);
	CHECK_EQ(fcntl(ep2, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(ep, F_GETFL), O_RDWR);
	CHECK(fd_link_is(ep, "anon_inode:[eventpoll]"));
	CHECK_ERR(epoll_create1(0x40), EINVAL);
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epoll_create(-1), EINVAL);
	char b[16];
	CHECK_ERR(read(ep, b, sizeof(b)), EINVAL);
	close(ep);
	close(ep2);
	close(ep3);
}

static void test_ctl_errors(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), efd = CHECK_SYS(eventfd(0, 0));
	int closed = CHECK_SYS(eventfd(0, 0)), dir = CHECK_SYS(open("/", O_RDONLY | O_DIRECTORY));
	char name[] = "/tmp/epoll-test-XXXXXX";
	int reg = CHECK_SYS(mkstemp(name));
	struct epoll_event ev = {.events = EPOLLIN};

	unlink(name);
	close(closed);
	CHECK_EQ(add(ep, efd, EPOLLIN, 1), 0);
	CHECK_ERR(add(ep, efd, EPOLLIN, 1), EEXIST);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, dir, NULL), EPERM);
	CHECK_ERR(add(ep, reg, EPOLLIN, 1), EPERM);
	CHECK_ERR(add(ep, closed, EPOLLIN, 1), EBADF);
	CHECK_ERR(add(closed, efd, EPOLLIN, 1), EBADF);
	CHECK_ERR(add(ep, ep, EPOLLIN, 1), EINVAL);
	CHECK_ERR(add(efd, ep, EPOLLIN, 1), EINVAL);
	CHECK_ERR(epoll_ctl(ep, 99, efd, &ev), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, efd, BAD_PTR), EFAULT);
	/* DEL needs no event. */
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), 0);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), ENOENT);
	CHECK_ERR(mod(ep, efd, EPOLLIN, 1), ENOENT);
	/* EPOLLEXCLUSIVE: at ADD only, with plain events, not on an epoll. */
	CHECK_EQ(add(ep, efd, EPOLLIN | EPOLLEXCLUSIVE, 1), 0);
	CHECK_ERR(mod(ep, efd, EPOLLIN | EPOLLEXCLUSIVE, 1), EINVAL);
	CHECK_ERR(mod(ep, efd, EPOLLIN, 1), EINVAL);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), 0);
	CHECK_ERR(add(ep, efd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1), EINVAL);
	int inner = CHECK_SYS(epoll_create1(0));
	CHECK_ERR(add(ep, inner, EPOLLIN | EPOLLEXCLUSIVE, 1), EINVAL);
	/* EPOLLRDHUP and EPOLLWAKEUP are accepted. */
	CHECK_EQ(add(ep, efd, EPOLLIN | EPOLLRDHUP | EPOLLWAKEUP, 1), 0);
	/* maxevents and the events buffer. */
	struct epoll_event out[2];
	CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, out, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_epoll_wait, ep, KERNEL_PTR, 2, 0), EFAULT);
	CHECK_ERR(epoll_wait(efd, out, 2, 0), EINVAL);
	CHECK_ERR(epoll_wait(999, out, 2, 0), EBADF);
	close(inner);
	close(ep);
	close(efd);
	close(dir);
	close(reg);
}

static void test_level(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), efd = CHECK_SYS(eventfd(0, 0));
	uint32_t events = 0;

	CHECK_EQ(add(ep, efd, EPOLLIN, 77), 0);
	CHECK_EQ(one_event(ep, NULL), -1);
	post(efd, 1);
	CHECK_EQ(one_event(ep, &events), 77);
	CHECK_EQ(events, EPOLLIN);
	/* Level-triggered: reported while it holds. */
	CHECK_EQ(one_event(ep, &events), 77);
	take(efd);
	CHECK_EQ(one_event(ep, NULL), -1);
	/* Both directions; MOD changes the mask and the data. */
	CHECK_EQ(mod(ep, efd, EPOLLIN | EPOLLOUT, 78), 0);
	CHECK_EQ(one_event(ep, &events), 78);
	CHECK_EQ(events, EPOLLOUT);
	post(efd, 1);
	CHECK_EQ(one_event(ep, &events), 78);
	CHECK_EQ(events, EPOLLIN | EPOLLOUT);
	take(efd);
	close(ep);
	close(efd);
}

static void test_edge(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), efd = CHECK_SYS(eventfd(0, 0));

	CHECK_EQ(add(ep, efd, EPOLLIN | EPOLLET, 5), 0);
	CHECK_EQ(one_event(ep, NULL), -1);
	post(efd, 1);
	CHECK_EQ(one_event(ep, NULL), 5);
	/* Still readable, but no new event. */
	CHECK_EQ(one_event(ep, NULL), -1);
	/* Each write is a new event, even with data unread. */
	post(efd, 1);
	CHECK_EQ(one_event(ep, NULL), 5);
	CHECK_EQ(one_event(ep, NULL), -1);
	CHECK_EQ(take(efd), 2);
	CHECK_EQ(one_event(ep, NULL), -1);
	/* Ready when added: one event. */
	post(efd, 1);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), 0);
	CHECK_EQ(add(ep, efd, EPOLLIN | EPOLLET, 6), 0);
	CHECK_EQ(one_event(ep, NULL), 6);
	CHECK_EQ(one_event(ep, NULL), -1);
	close(ep);
	close(efd);
}

/* A pipe: each write an edge, and the writer's close a hang-up. */
static void test_pipe(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), fds[2], status;
	uint32_t events = 0;
	char buf[4] = "abc";
	pid_t pid;

	CHECK_EQ(pipe(fds), 0);
	CHECK_EQ(add(ep, fds[0], EPOLLIN | EPOLLRDHUP | EPOLLET, 31), 0);
	CHECK_EQ(add(ep, fds[1], EPOLLOUT, 32), 0);
	CHECK_EQ(one_event(ep, &events), 32);
	CHECK_EQ(events, EPOLLOUT);
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, fds[1], NULL), 0);
	pid = fork();
	if (pid == 0) {
		sleep_ms(30);
		_exit(write(fds[1], buf, 1) == 1 ? 0 : 1);
	}
	struct epoll_event ev[2];
	CHECK_EQ(epoll_wait(ep, ev, 2, -1), 1);
	CHECK_EQ(ev[0].data.u64, 31);
	CHECK_EQ(ev[0].events, EPOLLIN);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(one_event(ep, NULL), -1);
	CHECK_EQ(write(fds[1], buf, 1), 1);
	CHECK_EQ(one_event(ep, NULL), 31);
	CHECK_EQ(close(fds[1]), 0);
	CHECK_EQ(one_event(ep, &events), 31);
	CHECK_EQ(events, EPOLLIN | EPOLLHUP);
	CHECK_EQ(read(fds[0], buf, sizeof(buf)), 2);
	close(fds[0]);
	close(ep);
}

static void test_oneshot(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), efd = CHECK_SYS(eventfd(0, 0));

	CHECK_EQ(add(ep, efd, EPOLLIN | EPOLLONESHOT, 9), 0);
	post(efd, 1);
	CHECK_EQ(one_event(ep, NULL), 9);
	/* Disabled, even with new events. */
	CHECK_EQ(one_event(ep, NULL), -1);
	post(efd, 1);
	CHECK_EQ(one_event(ep, NULL), -1);
	/* Still registered; MOD re-arms it, and it is ready. */
	CHECK_ERR(add(ep, efd, EPOLLIN, 9), EEXIST);
	CHECK_EQ(mod(ep, efd, EPOLLIN | EPOLLONESHOT, 10), 0);
	CHECK_EQ(one_event(ep, NULL), 10);
	CHECK_EQ(one_event(ep, NULL), -1);
	close(ep);
	close(efd);
}

static void test_nested(void)
{
	int outer = CHECK_SYS(epoll_create1(0)), inner = CHECK_SYS(epoll_create1(0));
	int efd = CHECK_SYS(eventfd(0, 0));
	struct pollfd p = {inner, POLLIN, 0};
	uint32_t events = 0;
	int chain[6];

	CHECK_EQ(add(inner, efd, EPOLLIN, 1), 0);
	CHECK_EQ(add(outer, inner, EPOLLIN, 2), 0);
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(one_event(outer, NULL), -1);
	post(efd, 1);
	/* An epoll fd is readable while it has events. */
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK_EQ(p.revents, POLLIN);
	CHECK_EQ(one_event(outer, &events), 2);
	CHECK_EQ(events, EPOLLIN);
	CHECK_EQ(one_event(inner, NULL), 1);
	take(efd);
	CHECK_EQ(one_event(outer, NULL), -1);
	CHECK_EQ(poll(&p, 1, 0), 0);
	/* Loops are refused. */
	CHECK_ERR(add(inner, outer, EPOLLIN, 3), ELOOP);
	/* A chain of five epolls is the deepest allowed. */
	for (int i = 0; i < 6; i++)
		chain[i] = CHECK_SYS(epoll_create1(0));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(add(chain[i], chain[i + 1], EPOLLIN, 1), 0);
	CHECK_ERR(add(chain[4], chain[5], EPOLLIN, 1), ELOOP);
	CHECK_ERR(add(chain[5], chain[0], EPOLLIN, 1), ELOOP);
	for (int i = 0; i < 6; i++)
		close(chain[i]);
	close(outer);
	close(inner);
	close(efd);
}

/* Items belong to the open file description: a dup keeps one alive. */
static void test_close(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), efd = CHECK_SYS(eventfd(0, 0));
	int dupfd = CHECK_SYS(dup(efd)), again;

	CHECK_EQ(add(ep, efd, EPOLLIN, 11), 0);
	CHECK_EQ(close(efd), 0);
	post(dupfd, 1);
	CHECK_EQ(one_event(ep, NULL), 11);
	/* Registered as efd, not as the dup. */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, dupfd, NULL), ENOENT);
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), EBADF);
	CHECK_EQ(close(dupfd), 0);
	CHECK_EQ(one_event(ep, NULL), -1);
	/* The last close removed it: the same fd number adds afresh. */
	again = CHECK_SYS(eventfd(1, 0));
	CHECK_EQ(again, efd);
	CHECK_EQ(add(ep, again, EPOLLIN, 12), 0);
	CHECK_EQ(one_event(ep, NULL), 12);
	close(again);
	/* Closing the epoll with items in it. */
	efd = CHECK_SYS(eventfd(1, 0));
	CHECK_EQ(add(ep, efd, EPOLLIN, 13), 0);
	CHECK_EQ(close(ep), 0);
	CHECK_EQ(take(efd), 1);
	close(efd);
}

static void test_maxevents(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), fds[3];
	struct epoll_event ev[4];
	int seen = 0;

	for (int i = 0; i < 3; i++) {
		fds[i] = CHECK_SYS(eventfd(1, 0));
		CHECK_EQ(add(ep, fds[i], EPOLLIN, (uint64_t)1 << i), 0);
	}
	CHECK_EQ(epoll_wait(ep, ev, 2, 0), 2);
	seen |= (int)(ev[0].data.u64 | ev[1].data.u64);
	/* The one left out comes first next time. */
	CHECK_EQ(epoll_wait(ep, ev, 2, 0), 2);
	seen |= (int)(ev[0].data.u64 | ev[1].data.u64);
	CHECK_EQ(seen, 7);
	CHECK_EQ(epoll_wait(ep, ev, 4, 0), 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(ep);
}

static volatile sig_atomic_t handled;
static void on_signal(int sig) { handled = sig; }

static void test_blocking(void)
{
	int ep = CHECK_SYS(epoll_create1(0)), efd = CHECK_SYS(eventfd(0, 0)), status;
	struct epoll_event ev[2];
	struct sigaction sa;
	sigset_t block, none;
	pid_t pid, parent = getpid();
	uint64_t t0;

	CHECK_EQ(add(ep, efd, EPOLLIN, 21), 0);
	t0 = now_ms();
	CHECK_EQ(epoll_wait(ep, ev, 2, 50), 0);
	CHECK(now_ms() - t0 >= 45);
	pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		post(efd, 1);
		_exit(0);
	}
	CHECK_EQ(epoll_wait(ep, ev, 2, -1), 1);
	CHECK_EQ(ev[0].data.u64, 21);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	take(efd);

	/* Never restarted: EINTR even with SA_RESTART. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pid = fork();
	if (pid == 0) {
		sleep_ms(30);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_ERR(epoll_wait(ep, ev, 2, 5000), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	CHECK_EQ(waitpid(pid, &status, 0), pid);

	/* epoll_pwait's mask: the pending signal gets in for the call. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, &block, NULL);
	handled = 0;
	raise(SIGUSR1);
	CHECK_EQ(epoll_pwait(ep, ev, 2, 20, &block), 0);
	CHECK_EQ(handled, 0);
	CHECK_ERR(epoll_pwait(ep, ev, 2, -1, &none), EINTR);
	CHECK_EQ(handled, SIGUSR1);
	CHECK_ERR(syscall(SYS_epoll_pwait, ep, ev, 2, 0, &none, 4), EINVAL);
	/* epoll_pwait2: a timespec. */
	struct timespec ts = {0, 30000000};
	t0 = now_ms();
	CHECK_EQ(syscall(SYS_epoll_pwait2, ep, ev, 2, &ts, NULL, 8), 0);
	CHECK(now_ms() - t0 >= 25);
	ts = (struct timespec){0, 1000000000};
	CHECK_ERR(syscall(SYS_epoll_pwait2, ep, ev, 2, &ts, NULL, 8), EINVAL);
	post(efd, 1);
	CHECK_EQ(syscall(SYS_epoll_pwait2, ep, ev, 2, NULL, NULL, 8), 1);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(ep);
	close(efd);
}

int main(void)
{
	test_create();
	test_ctl_errors();
	test_level();
	test_edge();
	test_pipe();
	test_oneshot();
	test_nested();
	test_close();
	test_maxevents();
	test_blocking();
	return check_exit();
}
