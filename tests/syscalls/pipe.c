/* Pipes: data, EOF, PIPE_BUF atomicity and merging, O_NONBLOCK, EPIPE
 * with SIGPIPE, packet mode, the pipe-size fcntls, FIONREAD, fstat,
 * /proc/self/fd links and reopening, blocking with and without
 * SA_RESTART, and poll readiness where poll(2) exists. Nothing waits on
 * a clock: wherever another process must act while we block, the
 * outcome is the same whichever goes first. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096
#define DEF_SIZE (16 * PAGE)

static char buf[1 << 20];

static int nread(int fd) { int n = -1; return ioctl(fd, FIONREAD, &n) == 0 ? n : -1; }

/* Reads exactly len bytes (or up to EOF); returns how many. */
static size_t readn(int fd, char *p, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);
	CHECK_SYS(fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK));
}

/* Waits for child pid and checks it exited with 0. A signal still on
 * its way from the child may interrupt the wait. */
static void reap(pid_t pid)
{
	int st = -1;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	CHECK_EQ(r, pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

static void test_basic(void)
{
	int p[2], q[2];
	struct stat st, st2, sq;
	char link[64], want[64];
	ssize_t n;

	CHECK_SYS(pipe(p));
	CHECK_EQ(write(p[1], "hello", 5), 5);
	CHECK_EQ(nread(p[0]), 5);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(nread(p[0]), 0);

	/* Access modes, no status flags. */
	CHECK_EQ(fcntl(p[0], F_GETFL), O_RDONLY);
	CHECK_EQ(fcntl(p[1], F_GETFL), O_WRONLY);
	CHECK_EQ(fcntl(p[0], F_GETFD), 0);
	CHECK_ERR(write(p[0], "x", 1), EBADF);
	CHECK_ERR(read(p[1], buf, 1), EBADF);
	CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
	CHECK_ERR(pread(p[0], buf, 1, 0), ESPIPE);
	CHECK_ERR(pwrite(p[1], "x", 1, 0), ESPIPE);

	/* fstat: a fifo, one inode for both ends, another for another pipe. */
	CHECK_SYS(fstat(p[0], &st));
	CHECK_SYS(fstat(p[1], &st2));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(st.st_blksize, PAGE);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_EQ(st.st_dev, st2.st_dev);
	CHECK_SYS(pipe(q));
	CHECK_SYS(fstat(q[0], &sq));
	CHECK(sq.st_ino != st.st_ino);
	struct statfs sfs;
	CHECK_SYS(fstatfs(p[0], &sfs));
	CHECK_EQ(sfs.f_type, 0x50495045); /* PIPEFS_MAGIC */
	/* The pipe's inode takes a mode, seen from both ends. */
	CHECK_SYS(fchmod(q[1], 0640));
	CHECK_SYS(fstat(q[0], &sq));
	CHECK_EQ(sq.st_mode, S_IFIFO | 0640);

	/* /proc names it by inode. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
	n = readlink(link, buf, 64);
	snprintf(want, sizeof(want), "pipe:[%" PRIu64 "]", (uint64_t)st.st_ino);
	CHECK_EQ(n, (ssize_t)strlen(want));
	CHECK(n > 0 && !memcmp(buf, want, (size_t)n));

	/* Reopening through /proc gives another end of the same pipe
	 * (bash's /dev/fd/N, `cat /dev/stdin`). */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[1]);
	int w2 = (int)CHECK_SYS(open(link, O_WRONLY));
	CHECK_EQ(write(w2, "via proc", 8), 8);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 8);
	CHECK(!memcmp(buf, "via proc", 8));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
	int r2 = (int)CHECK_SYS(open(link, O_RDONLY));
	CHECK_EQ(write(p[1], "ab", 2), 2);
	CHECK_EQ(read(r2, buf, 1), 1);
	CHECK_EQ(read(p[0], buf + 1, 1), 1);
	CHECK(!memcmp(buf, "ab", 2));

	/* EOF only once every writer, the reopened one too, is gone. */
	close(p[1]);
	set_nonblock(p[0], true);
	CHECK_ERR(read(p[0], buf, 1), EAGAIN);
	close(w2);
	CHECK_EQ(read(p[0], buf, 1), 0);
	CHECK_EQ(read(r2, buf, 1), 0);
	close(p[0]);
	close(r2);
	close(q[0]);
	close(q[1]);
}

static void test_pipe2_flags(void)
{
	int p[2];

	CHECK_SYS(pipe2(p, O_CLOEXEC | O_NONBLOCK));
	CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[0], F_GETFL), O_RDONLY | O_NONBLOCK);
	CHECK_EQ(fcntl(p[1], F_GETFL), O_WRONLY | O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	CHECK_SYS(pipe2(p, O_DIRECT));
	CHECK_EQ(fcntl(p[1], F_GETFL), O_WRONLY | O_DIRECT);
	close(p[0]);
	close(p[1]);
	CHECK_ERR(pipe2(p, O_APPEND), EINVAL);
	CHECK_ERR(pipe2(p, 0x1), EINVAL);
	CHECK_ERR(syscall(SYS_pipe2, (void *)8, 0), EFAULT);
	CHECK_ERR(syscall(SYS_pipe, (void *)8), EFAULT);
}

/* Full at 16 pages; a write of at most PIPE_BUF goes in whole or not at
 * all; the part of a write beyond whole pages merges into the last
 * buffer only if it fits there. */
static void test_nonblock_atomic(void)
{
	int p[2];
	size_t total = 0;
	ssize_t n;

	CHECK_EQ(PIPE_BUF, PAGE);
	CHECK_SYS(pipe2(p, O_NONBLOCK));
	CHECK_ERR(read(p[0], buf, 1), EAGAIN);
	memset(buf, 'a', sizeof(buf));
	while ((n = write(p[1], buf, PAGE)) > 0)
		total += (size_t)n;
	CHECK_ERR(write(p[1], buf, PAGE), EAGAIN);
	CHECK_ERR(write(p[1], buf, 1), EAGAIN);
	CHECK_EQ(total, DEF_SIZE);
	CHECK_EQ(nread(p[0]), DEF_SIZE);
	CHECK_EQ(readn(p[0], buf, DEF_SIZE), DEF_SIZE);

	/* 15 pages and 4000 bytes fill the 16 buffers. */
	CHECK_EQ(write(p[1], buf, 15 * PAGE + 4000), 15 * PAGE + 4000);
	CHECK_ERR(write(p[1], buf, 200), EAGAIN); /* 96 would fit: not split */
	CHECK_EQ(write(p[1], buf, 96), 96);        /* fits the last buffer */
	CHECK_ERR(write(p[1], buf, 1), EAGAIN);
	/* One page out, one buffer free: a bigger write goes in part. */
	CHECK_EQ(read(p[0], buf, PAGE), PAGE);
	CHECK_EQ(write(p[1], buf, 3 * PAGE), PAGE);
	CHECK_EQ(readn(p[0], buf, sizeof(buf)), DEF_SIZE);

	/* Small writes share a buffer: 40 of 100 bytes, then a new one. */
	for (int i = 0; i < 16 * 40; i++)
		CHECK_EQ(write(p[1], buf, 100), 100);
	CHECK_ERR(write(p[1], buf, 100), EAGAIN);
	CHECK_EQ(nread(p[0]), 16 * 40 * 100);
	close(p[0]);
	close(p[1]);
}

/* Two writers' PIPE_BUF-sized records never interleave. */
static void test_atomic_writers(void)
{
	enum { RECORDS = 300 };
	int p[2];
	pid_t kids[2];
	int seen[2] = {0, 0};

	CHECK_SYS(pipe(p));
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			char rec[PIPE_BUF];
			close(p[0]);
			memset(rec, 'A' + k, sizeof(rec));
			for (int i = 0; i < RECORDS; i++)
				if (write(p[1], rec, sizeof(rec)) != (ssize_t)sizeof(rec))
					_exit(1);
			_exit(0);
		}
		CHECK(kids[k] > 0);
	}
	close(p[1]);
	for (;;) {
		char rec[PIPE_BUF];
		size_t n = readn(p[0], rec, sizeof(rec));
		bool same = true;
		if (n == 0)
			break;
		CHECK_EQ(n, sizeof(rec));
		for (size_t i = 1; i < n; i++)
			same &= rec[i] == rec[0];
		CHECK(same);
		if (rec[0] == 'A' || rec[0] == 'B')
			seen[rec[0] - 'A']++;
	}
	CHECK_EQ(seen[0], RECORDS);
	CHECK_EQ(seen[1], RECORDS);
	reap(kids[0]);
	reap(kids[1]);
	close(p[0]);
}

/* A write bigger than the pipe blocks until a reader takes it all. */
static void test_big_write(void)
{
	int p[2];
	pid_t pid;

	CHECK_SYS(pipe(p));
	pid = fork();
	if (pid == 0) {
		size_t got;
		close(p[1]);
		got = readn(p[0], buf, sizeof(buf));
		for (size_t i = 0; i < got; i++)
			if (buf[i] != (char)(i % 251))
				_exit(2);
		_exit(got == sizeof(buf) ? 0 : 1);
	}
	close(p[0]);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i % 251);
	CHECK_EQ(write(p[1], buf, sizeof(buf)), sizeof(buf));
	close(p[1]);
	reap(pid);
}

static volatile sig_atomic_t got_sig, sig_code, sig_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	sig_code = si->si_code;
	sig_pid = si->si_pid;
}

static void handle(int sig, bool restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | (restart ? SA_RESTART : 0);
	CHECK_SYS(sigaction(sig, &sa, NULL));
}

static void test_epipe(void)
{
	int p[2];
	pid_t pid;

	/* SIGPIPE to the writer, from itself, and EPIPE. */
	handle(SIGPIPE, false);
	CHECK_SYS(pipe(p));
	close(p[0]);
	got_sig = 0;
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	CHECK_EQ(got_sig, SIGPIPE);
	CHECK_EQ(sig_code, SI_USER);
	CHECK_EQ(sig_pid, getpid());
	close(p[1]);

	/* Ignored: EPIPE alone. */
	signal(SIGPIPE, SIG_IGN);
	CHECK_SYS(pipe(p));
	close(p[0]);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	close(p[1]);

	/* A writer blocked on a full pipe gets EPIPE when the last reader
	 * goes (or at once if the reader went first). */
	CHECK_SYS(pipe2(p, O_NONBLOCK));
	memset(buf, 'z', DEF_SIZE);
	CHECK_EQ(write(p[1], buf, DEF_SIZE), DEF_SIZE);
	set_nonblock(p[1], false);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		close(p[0]);
		_exit(0);
	}
	close(p[0]);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	close(p[1]);
	reap(pid);
	signal(SIGPIPE, SIG_DFL);
}

/* A reader blocked on an empty pipe is woken by data, and by the last
 * writer going. */
static void test_blocking_read(void)
{
	int p[2];
	pid_t pid;

	CHECK_SYS(pipe(p));
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(write(p[1], "late", 4) == 4 ? 0 : 1);
	}
	close(p[1]);
	CHECK_EQ(readn(p[0], buf, 4), 4);
	CHECK(!memcmp(buf, "late", 4));
	CHECK_EQ(read(p[0], buf, 1), 0);
	close(p[0]);
	reap(pid);
}

/* Signals against a blocked read: EINTR without SA_RESTART; with it the
 * read goes on and returns the data that comes after the signals. */
static void test_interrupt(void)
{
	int p[2], stop[2];
	pid_t pid, parent = getpid();
	ssize_t n;

	CHECK_SYS(pipe(p));
	CHECK_SYS(pipe2(stop, O_NONBLOCK));
	handle(SIGUSR1, false);
	pid = fork();
	if (pid == 0) {
		/* Until the parent says it saw EINTR. */
		while (read(stop[0], buf, 1) != 1) {
			kill(parent, SIGUSR1);
			sched_yield();
		}
		_exit(0);
	}
	do {
		got_sig = 0;
		n = read(p[0], buf, 1);
	} while (n < 0 && errno != EINTR);
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, EINTR);
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(write(stop[1], "s", 1), 1);
	reap(pid);

	handle(SIGUSR1, true);
	got_sig = 0;
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 100; i++) {
			kill(parent, SIGUSR1);
			sched_yield();
		}
		_exit(write(p[1], "R", 1) == 1 ? 0 : 1);
	}
	CHECK_EQ(read(p[0], buf, 1), 1);
	CHECK_EQ(buf[0], 'R');
	CHECK_EQ(got_sig, SIGUSR1);
	reap(pid);
	signal(SIGUSR1, SIG_DFL);
	close(p[0]);
	close(p[1]);
	close(stop[0]);
	close(stop[1]);
}

/* O_DIRECT: each write is a packet; a read takes one, dropping what
 * does not fit. */
static void test_packets(void)
{
	int p[2];

	CHECK_SYS(pipe2(p, O_DIRECT | O_NONBLOCK));
	CHECK_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(write(p[1], "bb", 2), 2);
	CHECK_EQ(write(p[1], "0123456789", 10), 10);
	CHECK_EQ(write(p[1], "ccc", 3), 3);
	CHECK_EQ(nread(p[0]), 16);
	CHECK_EQ(read(p[0], buf, 100), 1);
	CHECK_EQ(read(p[0], buf, 100), 2);
	CHECK(!memcmp(buf, "bb", 2));
	CHECK_EQ(read(p[0], buf, 4), 4);
	CHECK(!memcmp(buf, "0123", 4));
	CHECK_EQ(read(p[0], buf, 100), 3);
	CHECK(!memcmp(buf, "ccc", 3));
	CHECK_ERR(read(p[0], buf, 100), EAGAIN);
	/* No merging: 16 one-byte packets fill the pipe. */
	for (int i = 0; i < 16; i++)
		CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_ERR(write(p[1], "x", 1), EAGAIN);
	/* A big write is split into page-sized packets. */
	for (int i = 0; i < 16; i++)
		CHECK_EQ(read(p[0], buf, 100), 1);
	CHECK_EQ(write(p[1], buf, PAGE + 10), PAGE + 10);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), PAGE);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 10);
	close(p[0]);
	close(p[1]);
}

/* Whether we have CAP_SYS_RESOURCE, and dropping it (-1 if we cannot). */
static int cap_resource(bool drop)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	if (drop) {
		d[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
		return syscall(SYS_capset, &h, d) < 0 ? -1 : 0;
	}
	return !!(d[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32)));
}

static void test_pipe_size(void)
{
	int p[2];
	int cap = cap_resource(false), max = 0;
	FILE *mf = fopen("/proc/sys/fs/pipe-max-size", "r");
	pid_t pid;

	CHECK(mf != NULL);
	if (mf) {
		CHECK_EQ(fscanf(mf, "%d", &max), 1);
		fclose(mf);
	}
	/* Linux's default; a power of two so that it is granted exactly. */
	if (max != 1 << 20)
		printf("pipe-max-size is %d\n", max);
	if (max < PAGE || (max & (max - 1)))
		max = 1 << 20;

	CHECK_SYS(pipe2(p, O_NONBLOCK));
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), DEF_SIZE);
	CHECK_EQ(fcntl(p[1], F_GETPIPE_SZ), DEF_SIZE);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 100000), 131072);
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), 131072);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 0), PAGE);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1), PAGE);
	/* One buffer: a bigger write goes in part. */
	CHECK_EQ(write(p[1], buf, PAGE + 1), PAGE);
	CHECK_ERR(write(p[1], buf, 1), EAGAIN);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 3 * PAGE), 4 * PAGE);
	CHECK_EQ(write(p[1], buf, PAGE), PAGE);
	/* Two buffers in use: cannot shrink to one. */
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, PAGE), EBUSY);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 2 * PAGE), 2 * PAGE);
	CHECK_EQ(nread(p[0]), 2 * PAGE);
	CHECK_EQ(readn(p[0], buf, 2 * PAGE), 2 * PAGE);
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, (int)0x80000001u), EINVAL);
	/* Up to /proc/sys/fs/pipe-max-size for anyone; above it only with
	 * CAP_SYS_RESOURCE. */
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, max), max);
	if (cap == 1)
		CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 2 * max), 2 * max);
	else if (cap == 0)
		CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 2 * max), EPERM);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 1 << 16), 1 << 16);
	pid = fork();
	if (pid == 0) {
		if (cap_resource(true) == 0 && cap_resource(false) == 0) {
			if (fcntl(p[1], F_SETPIPE_SZ, 2 * max) != -1 || errno != EPERM)
				_exit(1);
		}
		_exit(fcntl(p[1], F_SETPIPE_SZ, max) == max ? 0 : 2);
	}
	reap(pid);
	CHECK_EQ(fcntl(p[0], F_GETPIPE_SZ), max);
	close(p[0]);
	close(p[1]);
	/* Not a pipe. */
	CHECK_ERR(fcntl(0, F_GETPIPE_SZ), EBADF);
	CHECK_ERR(fcntl(0, F_SETPIPE_SZ, PAGE), EBADF);
}

/* poll(2) readiness, as Linux's pipe_poll; skipped without poll. */
static void test_poll(void)
{
	struct pollfd f[2];
	int p[2];

	CHECK_SYS(pipe(p));
	f[0] = (struct pollfd){p[0], POLLIN | POLLOUT, 0};
	f[1] = (struct pollfd){p[1], POLLIN | POLLOUT, 0};
	if (poll(f, 2, 0) < 0 && errno == ENOSYS) {
		printf("poll: not implemented, skipped\n");
		close(p[0]);
		close(p[1]);
		return;
	}
	CHECK_EQ(f[0].revents, 0);
	CHECK_EQ(f[1].revents, POLLOUT);
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(poll(f, 2, 0), 2);
	CHECK_EQ(f[0].revents, POLLIN);
	CHECK_EQ(f[1].revents, POLLOUT);
	close(p[1]);
	CHECK_EQ(poll(f, 1, 0), 1);
	CHECK_EQ(f[0].revents, POLLIN | POLLHUP);
	CHECK_EQ(read(p[0], buf, 1), 1);
	CHECK_EQ(poll(f, 1, 0), 1);
	CHECK_EQ(f[0].revents, POLLHUP);
	close(p[0]);

	CHECK_SYS(pipe(p));
	f[1].fd = p[1];
	close(p[0]);
	CHECK_EQ(poll(&f[1], 1, 0), 1);
	CHECK_EQ(f[1].revents, POLLOUT | POLLERR);
	close(p[1]);
}

int main(void)
{
	test_basic();
	test_pipe2_flags();
	test_nonblock_atomic();
	test_atomic_writers();
	test_big_write();
	test_epipe();
	test_blocking_read();
	test_interrupt();
	test_packets();
	test_pipe_size();
	test_poll();
	return check_exit();
}
