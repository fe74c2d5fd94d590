/* signalfd and signalfd4: reading dequeues pending signals in the mask
 * (kill, sigqueue with a value, SIGCHLD from a child, thread-directed
 * before process-directed), several per read, a new mask on an existing
 * fd, blocking reads woken by another process, readiness for poll and
 * epoll, and the argument checks. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* What /proc/self/fd shows for fd. */
static int fd_link_is(int fd, const char *want)
{
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return readlink(path, link, sizeof(link) - 1) > 0 && !strcmp(link, want);
}

static sigset_t set_of(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

static int pending(int sig)
{
	sigset_t p;
	sigpending(&p);
	return sigismember(&p, sig);
}

static void test_read(void)
{
	sigset_t mask = set_of(SIGUSR1, SIGRTMIN);
	struct signalfd_siginfo si[4];
	int fd = CHECK_SYS(signalfd(-1, &mask, SFD_NONBLOCK));
	struct stat st;

	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode, 0600);
	CHECK(fd_link_is(fd, "anon_inode:[signalfd]"));
	CHECK_ERR(read(fd, si, sizeof(si[0])), EAGAIN);
	CHECK_ERR(read(fd, si, sizeof(si[0]) - 1), EINVAL);

	/* kill: SI_USER from us. */
	CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	CHECK(pending(SIGUSR1));
	CHECK_EQ(read(fd, si, sizeof(si)), sizeof(si[0]));
	CHECK_EQ(si[0].ssi_signo, SIGUSR1);
	CHECK_EQ(si[0].ssi_code, SI_USER);
	CHECK_EQ(si[0].ssi_pid, getpid());
	CHECK_EQ(si[0].ssi_uid, getuid());
	CHECK(!pending(SIGUSR1));

	/* sigqueue: real-time signals queue, each with its value, and one
	 * read takes as many as fit. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 100 + i}), 0);
	CHECK_EQ(read(fd, si, 2 * sizeof(si[0])), 2 * sizeof(si[0]));
	CHECK_EQ(si[0].ssi_signo, SIGRTMIN);
	CHECK_EQ(si[0].ssi_code, SI_QUEUE);
	CHECK_EQ(si[0].ssi_int, 100);
	CHECK_EQ(si[1].ssi_int, 101);
	CHECK_EQ(si[1].ssi_pid, getpid());
	CHECK_EQ(read(fd, si, sizeof(si)), sizeof(si[0]));
	CHECK_EQ(si[0].ssi_int, 102);
	CHECK_EQ(si[0].ssi_ptr & 0xffffffff, 102);

	/* Not in the mask: stays pending. A new mask on the same fd. */
	CHECK_EQ(kill(getpid(), SIGUSR2), 0);
	CHECK_ERR(read(fd, si, sizeof(si)), EAGAIN);
	mask = set_of(SIGUSR2, 0);
	CHECK_EQ(signalfd(fd, &mask, 0), fd);
	CHECK_EQ(read(fd, si, sizeof(si)), sizeof(si[0]));
	CHECK_EQ(si[0].ssi_signo, SIGUSR2);

	/* Thread-directed signals come before process-directed ones. */
	mask = set_of(SIGUSR1, SIGUSR2);
	CHECK_EQ(signalfd(fd, &mask, 0), fd);
	CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	CHECK_EQ(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2), 0);
	CHECK_EQ(read(fd, si, sizeof(si)), 2 * sizeof(si[0]));
	CHECK_EQ(si[0].ssi_signo, SIGUSR2);
	CHECK_EQ(si[0].ssi_code, SI_TKILL);
	CHECK_EQ(si[1].ssi_signo, SIGUSR1);
	close(fd);
}

static void test_errors(void)
{
	sigset_t mask = set_of(SIGUSR1, 0);
	int efd = CHECK_SYS(eventfd(0, 0)), fd;

	CHECK_ERR(syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, &mask, 8, 0x1), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, (void *)8, 8, 0), EFAULT);
	CHECK_ERR(signalfd(efd, &mask, 0), EINVAL);
	CHECK_ERR(signalfd(999, &mask, 0), EBADF);
	CHECK_ERR(signalfd(-2, &mask, 0), EBADF);
	/* SIGKILL and SIGSTOP in the mask are dropped, not refused. */
	mask = set_of(SIGKILL, SIGSTOP);
	fd = CHECK_SYS(signalfd(-1, &mask, SFD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	/* The old call has no flags argument. */
	int fd2 = CHECK_SYS(syscall(SYS_signalfd, -1, &mask, 8));
	CHECK_EQ(fcntl(fd2, F_GETFL), O_RDWR);
	close(fd);
	close(fd2);
	close(efd);
}

static void test_chld(void)
{
	sigset_t mask = set_of(SIGCHLD, 0);
	struct signalfd_siginfo si;
	int fd = CHECK_SYS(signalfd(-1, &mask, 0)), status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(7);
	/* Blocks until the child has gone. */
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_signo, SIGCHLD);
	CHECK_EQ(si.ssi_code, CLD_EXITED);
	CHECK_EQ(si.ssi_pid, pid);
	CHECK_EQ(si.ssi_status, 7);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	close(fd);
}

static void test_ready(void)
{
	sigset_t mask = set_of(SIGUSR1, 0);
	struct signalfd_siginfo si;
	int fd = CHECK_SYS(signalfd(-1, &mask, 0)), ep = CHECK_SYS(epoll_create1(0)), status;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3}, out[2];
	struct pollfd p = {fd, POLLIN, 0};
	pid_t pid, parent = getpid();

	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	/* Another process's kill wakes poll and then epoll_wait. */
	pid = fork();
	if (pid == 0) {
		sleep_ms(40);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_EQ(poll(&p, 1, -1), 1);
	CHECK_EQ(p.revents, POLLIN);
	CHECK_EQ(epoll_wait(ep, out, 2, -1), 1);
	CHECK_EQ(out[0].data.u64, 3);
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(si.ssi_pid, pid);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	pid = fork();
	if (pid == 0) {
		sleep_ms(40);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_EQ(epoll_wait(ep, out, 2, -1), 1);
	CHECK_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	close(ep);
	close(fd);
}

int main(void)
{
	sigset_t all = set_of(SIGUSR1, SIGUSR2);

	/* signalfd reads what would otherwise be delivered: block them. */
	sigaddset(&all, SIGRTMIN);
	sigaddset(&all, SIGCHLD);
	CHECK_EQ(sigprocmask(SIG_BLOCK, &all, NULL), 0);
	test_read();
	test_errors();
	test_chld();
	test_ready();
	return check_exit();
}
