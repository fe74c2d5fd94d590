/* eventfd and eventfd2: the counter, EFD_SEMAPHORE, EFD_NONBLOCK and
 * EFD_CLOEXEC, the overflow rules, 8-byte reads and writes, blocking
 * reads and writes woken from another process, interruption by a
 * signal, poll readiness, and fstat of the anonymous inode. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
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

/* What /proc/self/fd shows for fd. */
static int fd_link_is(int fd, const char *want)
{
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return readlink(path, link, sizeof(link) - 1) > 0 && !strcmp(link, want);
}

static short revents(int fd, short events)
{
	struct pollfd p = {fd, events, 0};
	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static void test_counter(void)
{
	uint64_t v = 0;
	char buf[16];
	int fd = CHECK_SYS(eventfd(5, 0));

	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR);
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_EQ(revents(fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM), POLLIN | POLLOUT);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 5);
	CHECK_EQ(revents(fd, POLLIN | POLLOUT), POLLOUT);
	/* Writes add; a longer buffer reads 8 bytes, but a write must be
	 * exactly 8. */
	v = 7;
	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	v = 3;
	memcpy(buf, &v, 8);
	CHECK_ERR(write(fd, buf, sizeof(buf)), EINVAL);
	CHECK_EQ(write(fd, buf, 8), 8);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 8);
	memcpy(&v, buf, 8);
	CHECK_EQ(v, 10);
	/* Shorter than 8 bytes, the maximum value, a bad buffer. */
	CHECK_ERR(read(fd, buf, 4), EINVAL);
	CHECK_ERR(write(fd, buf, 7), EINVAL);
	v = UINT64_MAX;
	CHECK_ERR(write(fd, &v, sizeof(v)), EINVAL);
	v = 1;
	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	CHECK_ERR(syscall(SYS_read, fd, BAD_PTR, 8), EFAULT);
	CHECK_ERR(syscall(SYS_write, fd, BAD_PTR, 8), EFAULT);
	CHECK_ERR(syscall(SYS_eventfd2, 0, 0x100), EINVAL);
	CHECK_EQ(close(fd), 0);
}

static void test_flags(void)
{
	uint64_t v;
	int fd = CHECK_SYS(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));

	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	/* Up to UINT64_MAX - 1 fits; one more would block. */
	v = UINT64_MAX - 1;
	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	CHECK_EQ(revents(fd, POLLIN | POLLOUT), POLLIN);
	v = 1;
	CHECK_ERR(write(fd, &v, sizeof(v)), EAGAIN);
	v = 0; /* adding nothing always fits */
	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, UINT64_MAX - 1);
	/* F_SETFL takes O_NONBLOCK away. */
	CHECK_EQ(fcntl(fd, F_SETFL, 0), 0);
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR);
	close(fd);

	/* The old call: no flags, the count from its one argument. */
	fd = CHECK_SYS(syscall(SYS_eventfd, 2));
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 2);
	close(fd);
}

static void test_semaphore(void)
{
	uint64_t v;
	int fd = CHECK_SYS(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK));

	for (int i = 0; i < 3; i++) {
		v = 0;
		CHECK_EQ(read(fd, &v, sizeof(v)), 8);
		CHECK_EQ(v, 1);
	}
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	v = 2;
	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 1);
	close(fd);
}

static void test_stat(void)
{
	struct stat st;
	int fd = CHECK_SYS(eventfd(0, 0));

	CHECK_EQ(fstat(fd, &st), 0);
	/* The anonymous inode: no file type, rw for its owner. */
	CHECK_EQ(st.st_mode, 0600);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(st.st_blksize, 4096);
	CHECK(fd_link_is(fd, "anon_inode:[eventfd]"));
	close(fd);
}

/* A blocked read returns when another process writes. */
static void test_block_read(void)
{
	uint64_t v = 0, t0;
	int fd = CHECK_SYS(eventfd(0, 0)), status;
	pid_t pid = fork();

	if (pid == 0) {
		uint64_t one = 42;
		sleep_ms(50);
		_exit(write(fd, &one, sizeof(one)) == 8 ? 0 : 1);
	}
	t0 = now_ms();
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 42);
	CHECK(now_ms() - t0 >= 40);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	close(fd);
}

/* A blocked write returns when another process reads. */
static void test_block_write(void)
{
	uint64_t v = UINT64_MAX - 1;
	int fd = CHECK_SYS(eventfd(0, 0)), status;
	pid_t pid;

	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	pid = fork();
	if (pid == 0) {
		uint64_t got;
		sleep_ms(50);
		_exit(read(fd, &got, sizeof(got)) == 8 && got == UINT64_MAX - 1 ? 0 : 1);
	}
	v = 5;
	CHECK_EQ(write(fd, &v, sizeof(v)), 8);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 5);
	close(fd);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* A signal with a handler interrupts a blocked read: EINTR without
 * SA_RESTART, the read goes on with it. */
static void test_interrupt(void)
{
	struct sigaction sa;
	uint64_t v;
	int fd = CHECK_SYS(eventfd(0, 0)), status;
	pid_t pid, parent = getpid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	CHECK_ERR(read(fd, &v, sizeof(v)), EINTR);
	CHECK(got_usr1);
	CHECK_EQ(waitpid(pid, &status, 0), pid);

	got_usr1 = 0;
	sa.sa_flags = SA_RESTART;
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	pid = fork();
	if (pid == 0) {
		uint64_t one = 9;
		sleep_ms(50);
		kill(parent, SIGUSR1);
		sleep_ms(50);
		_exit(write(fd, &one, sizeof(one)) == 8 ? 0 : 1);
	}
	v = 0;
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 9);
	CHECK(got_usr1);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	signal(SIGUSR1, SIG_DFL);
	close(fd);
}

int main(void)
{
	test_counter();
	test_flags();
	test_semaphore();
	test_stat();
	test_block_read();
	test_block_write();
	test_interrupt();
	return check_exit();
}
