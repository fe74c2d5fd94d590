/* splice between a pipe and a regular file both ways (with and without
 * offsets) and between pipes, tee, vmsplice in and out of a pipe, and
 * their errors and flags. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs_util.h"

#define ALL_FLAGS (SPLICE_F_MOVE | SPLICE_F_MORE | SPLICE_F_GIFT)
#define BIG 200000

static char src[BIG] __attribute__((aligned(4096))), dst[BIG];

static int nread(int fd) { int n = -1; return ioctl(fd, FIONREAD, &n) == 0 ? n : -1; }

static int make_file(const char *name, size_t len)
{
	int fd = (int)CHECK_SYS(open(name, O_RDWR | O_CREAT | O_TRUNC, 0600));
	for (size_t i = 0; i < len; i++)
		src[i] = (char)(i * 7 % 253);
	CHECK_EQ(write(fd, src, len), (ssize_t)len);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_file_to_pipe(void)
{
	int p[2], fd = make_file("in", 10000);
	loff_t off = 1000;

	CHECK_SYS(pipe(p));
	/* With an offset: the file position stays. */
	CHECK_EQ(splice(fd, &off, p[1], NULL, 5000, ALL_FLAGS), 5000);
	CHECK_EQ(off, 6000);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	CHECK_EQ(nread(p[0]), 5000);
	CHECK_EQ(read(p[0], dst, sizeof(dst)), 5000);
	CHECK(!memcmp(dst, src + 1000, 5000));
	/* Without: the file position moves. */
	CHECK_EQ(splice(fd, NULL, p[1], NULL, 3000, 0), 3000);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3000);
	CHECK_EQ(read(p[0], dst, sizeof(dst)), 3000);
	CHECK(!memcmp(dst, src, 3000));
	/* At most what fits in the pipe; nothing at the end of the file. */
	off = 0;
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
	CHECK_EQ(splice(fd, &off, p[1], NULL, 10000, 0), 4096);
	CHECK_EQ(splice(fd, &off, p[1], NULL, 10000, SPLICE_F_NONBLOCK), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(read(p[0], dst, sizeof(dst)), 4096);
	off = 10000;
	CHECK_EQ(splice(fd, &off, p[1], NULL, 100, 0), 0);
	off = -1;
	CHECK_ERR(splice(fd, &off, p[1], NULL, 100, 0), EINVAL);
	close(p[0]);
	close(p[1]);
	close(fd);
}

static void test_pipe_to_file(void)
{
	int p[2], fd = (int)CHECK_SYS(open("out", O_RDWR | O_CREAT | O_TRUNC, 0600));
	loff_t off = 100;

	for (int i = 0; i < 3000; i++)
		src[i] = (char)(i % 101);
	CHECK_SYS(pipe(p));
	CHECK_EQ(write(p[1], src, 3000), 3000);
	CHECK_EQ(splice(p[0], NULL, fd, &off, 2000, 0), 2000);
	CHECK_EQ(off, 2100);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	CHECK_EQ(nread(p[0]), 1000);
	CHECK_EQ(pread(fd, dst, 2000, 100), 2000);
	CHECK(!memcmp(dst, src, 2000));
	/* Without an offset; short when the pipe runs dry. */
	CHECK_EQ(splice(p[0], NULL, fd, NULL, 5000, 0), 1000);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 1000);
	CHECK_EQ(pread(fd, dst, 1000, 0), 1000);
	CHECK(!memcmp(dst, src + 2000, 1000));
	/* Empty: EAGAIN when asked not to wait, 0 once no writer is left. */
	CHECK_ERR(splice(p[0], NULL, fd, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN);
	close(p[1]);
	CHECK_EQ(splice(p[0], NULL, fd, NULL, 10, 0), 0);
	close(p[0]);

	/* O_APPEND outputs are refused. */
	int ap = (int)CHECK_SYS(open("out", O_WRONLY | O_APPEND));
	CHECK_SYS(pipe(p));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_ERR(splice(p[0], NULL, ap, NULL, 1, 0), EINVAL);
	close(ap);
	close(p[0]);
	close(p[1]);
	close(fd);
}

/* A big file through a pipe into another, in a loop as cat-like tools
 * do; the child drains the pipe while the parent fills it. */
static void test_copy_loop(void)
{
	int in = make_file("big", BIG), out, p[2];
	size_t left = BIG;
	pid_t pid;
	int st = -1;

	out = (int)CHECK_SYS(open("copy", O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_SYS(pipe(p));
	pid = fork();
	if (pid == 0) {
		ssize_t n;
		close(p[1]);
		while ((n = splice(p[0], NULL, out, NULL, 1 << 20, 0)) > 0)
			;
		_exit(n == 0 ? 0 : 1);
	}
	close(p[0]);
	while (left) {
		ssize_t n = splice(in, NULL, p[1], NULL, left, SPLICE_F_MORE);
		if (n <= 0) {
			FAIL("splice: %zd (%s)", n, check_errname(errno));
			break;
		}
		left -= (size_t)n;
	}
	close(p[1]);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(pread(out, dst, BIG, 0), BIG);
	CHECK(!memcmp(dst, src, BIG));
	close(in);
	close(out);
}

static void test_pipe_to_pipe(void)
{
	int a[2], b[2];

	CHECK_SYS(pipe(a));
	CHECK_SYS(pipe(b));
	CHECK_EQ(write(a[1], "hello", 5), 5);
	CHECK_EQ(write(a[1], "world", 5), 5);
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 7, SPLICE_F_MOVE), 7);
	CHECK_EQ(nread(a[0]), 3);
	CHECK_EQ(nread(b[0]), 7);
	CHECK_EQ(read(b[0], dst, sizeof(dst)), 7);
	CHECK(!memcmp(dst, "hellowo", 7));
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 100, 0), 3);
	CHECK_EQ(read(b[0], dst, sizeof(dst)), 3);
	CHECK(!memcmp(dst, "rld", 3));
	CHECK_ERR(splice(a[0], NULL, b[1], NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
	/* Output full. */
	CHECK_EQ(fcntl(b[1], F_SETPIPE_SZ, 4096), 4096);
	memset(src, 'f', 4096);
	CHECK_EQ(write(b[1], src, 4096), 4096);
	CHECK_EQ(write(a[1], "z", 1), 1);
	CHECK_ERR(splice(a[0], NULL, b[1], NULL, 1, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_EQ(read(b[0], dst, sizeof(dst)), 4096);
	/* Same pipe, offsets, no writer left. */
	CHECK_ERR(splice(a[0], NULL, a[1], NULL, 1, 0), EINVAL);
	loff_t off = 0;
	CHECK_ERR(splice(a[0], &off, b[1], NULL, 1, 0), ESPIPE);
	CHECK_ERR(splice(a[0], NULL, b[1], &off, 1, 0), ESPIPE);
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 1, 0), 1);
	CHECK_EQ(read(b[0], dst, sizeof(dst)), 1);
	CHECK_EQ(dst[0], 'z');
	/* No writer left: 0, once the output has room. */
	close(a[1]);
	CHECK_EQ(splice(a[0], NULL, b[1], NULL, 1, 0), 0);
	/* No reader: EPIPE (SIGPIPE ignored here). */
	signal(SIGPIPE, SIG_IGN);
	close(b[0]);
	CHECK_SYS(pipe(a));
	CHECK_EQ(write(a[1], "q", 1), 1);
	CHECK_ERR(splice(a[0], NULL, b[1], NULL, 1, 0), EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(a[0]);
	close(a[1]);
	close(b[1]);
}

static void test_errors(void)
{
	int p[2], f1 = make_file("e1", 10), f2 = make_file("e2", 10);

	CHECK_SYS(pipe(p));
	CHECK_EQ(splice(p[0], NULL, p[1], NULL, 0, 0), 0);
	CHECK_ERR(splice(p[0], NULL, f1, NULL, 1, 0x10), EINVAL);
	CHECK_ERR(splice(f1, NULL, f2, NULL, 1, 0), EINVAL);
	CHECK_ERR(splice(-1, NULL, p[1], NULL, 1, 0), EBADF);
	CHECK_ERR(splice(f1, NULL, p[0], NULL, 1, 0), EBADF);
	CHECK_ERR(splice(p[1], NULL, f1, NULL, 1, 0), EBADF);
	CHECK_ERR(splice(f1, (loff_t *)8, p[1], NULL, 1, 0), EFAULT);
	CHECK_ERR(tee(p[0], f1, 1, 0), EINVAL);
	CHECK_ERR(tee(p[0], p[1], 1, 0), EINVAL);
	CHECK_ERR(tee(p[0], p[1], 1, 0x10), EINVAL);
	CHECK_ERR(tee(-1, p[1], 1, 0), EBADF);
	struct iovec v = {src, 1};
	CHECK_ERR(vmsplice(f1, &v, 1, 0), EBADF);
	CHECK_ERR(vmsplice(p[1], &v, 1, 0x10), EINVAL);
	CHECK_ERR(vmsplice(-1, &v, 1, 0), EBADF);
	close(p[0]);
	close(p[1]);
	close(f1);
	close(f2);
}

static void test_tee(void)
{
	int a[2], b[2];

	CHECK_SYS(pipe(a));
	CHECK_SYS(pipe(b));
	CHECK_ERR(tee(a[0], b[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
	CHECK_EQ(write(a[1], "data", 4), 4);
	CHECK_EQ(write(a[1], "more", 4), 4);
	CHECK_EQ(tee(a[0], b[1], 6, 0), 6);
	CHECK_EQ(nread(a[0]), 8); /* nothing consumed */
	CHECK_EQ(read(b[0], dst, sizeof(dst)), 6);
	CHECK(!memcmp(dst, "datamo", 6));
	CHECK_EQ(tee(a[0], b[1], 100, ALL_FLAGS), 8);
	CHECK_EQ(read(b[0], dst, sizeof(dst)), 8);
	CHECK(!memcmp(dst, "datamore", 8));
	CHECK_EQ(read(a[0], dst, sizeof(dst)), 8);
	close(a[1]);
	CHECK_EQ(tee(a[0], b[1], 10, 0), 0);
	close(a[0]);
	close(b[0]);
	close(b[1]);
}

static void test_vmsplice(void)
{
	int p[2];
	char x[8], y[16];
	struct iovec in[3] = {{"abc", 3}, {NULL, 0}, {"defg", 4}};
	struct iovec out[2] = {{x, 4}, {y, sizeof(y)}};

	CHECK_SYS(pipe(p));
	CHECK_EQ(vmsplice(p[1], in, 3, SPLICE_F_GIFT), 7);
	CHECK_EQ(nread(p[0]), 7);
	CHECK_EQ(read(p[0], dst, sizeof(dst)), 7);
	CHECK(!memcmp(dst, "abcdefg", 7));
	CHECK_EQ(vmsplice(p[1], in, 0, 0), 0);

	/* Out of the read end into memory. */
	CHECK_EQ(write(p[1], "123456", 6), 6);
	CHECK_EQ(vmsplice(p[0], out, 2, 0), 6);
	CHECK(!memcmp(x, "1234", 4));
	CHECK(!memcmp(y, "56", 2));
	CHECK_ERR(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK), EAGAIN);
	struct iovec bad = {(void *)8, 4};
	CHECK_EQ(write(p[1], "zz", 2), 2);
	CHECK_ERR(vmsplice(p[0], &bad, 1, 0), EFAULT);
	CHECK_ERR(vmsplice(p[1], &bad, 1, 0), EFAULT);
	CHECK_EQ(read(p[0], dst, sizeof(dst)), 2); /* the fault took nothing */

	/* Full pipe. */
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
	memset(src, 'v', 8192);
	struct iovec big = {src, 8192};
	CHECK_EQ(vmsplice(p[1], &big, 1, 0), 4096);
	CHECK_ERR(vmsplice(p[1], &big, 1, SPLICE_F_NONBLOCK), EAGAIN);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_file_to_pipe();
	test_pipe_to_file();
	test_copy_loop();
	test_pipe_to_pipe();
	test_errors();
	test_tee();
	test_vmsplice();
	fs_cleanup();
	return check_exit();
}
