/* Reading and writing regular files: read/write and their positional and
 * vectored forms, lseek (including SEEK_DATA/SEEK_HOLE), sparse files,
 * ftruncate, the fsync family, fallocate, FIONREAD, sendfile and
 * copy_file_range; RLIMIT_FSIZE. */
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "fs_util.h"

#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif

static off_t fd_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static off_t pos(int fd) { return lseek(fd, 0, SEEK_CUR); }

/* Every byte of [p, p+len) is c. */
static int all(const char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

/* Reads len bytes at off and checks they all are c. */
static int range_is(int fd, off_t off, size_t len, char c)
{
	static char buf[1 << 16];
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		if (pread(fd, buf, n, off) != (ssize_t)n || !all(buf, n, c))
			return 0;
		len -= n;
		off += (off_t)n;
	}
	return 1;
}

static long sys_preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return syscall(SYS_preadv2, fd, iov, cnt, off, 0L, flags);
}

static long sys_pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return syscall(SYS_pwritev2, fd, iov, cnt, off, 0L, flags);
}

static void test_rw(void)
{
	char buf[64];
	int fd = CHECK_SYS(open("rw", O_RDWR | O_CREAT | O_TRUNC, 0644));

	CHECK_EQ(write(fd, "hello world", 11), 11);
	CHECK_EQ(pos(fd), 11);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0); /* at EOF */
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(read(fd, buf, 5), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 6); /* short at EOF */
	CHECK(!memcmp(buf, " world", 6));
	CHECK_EQ(write(fd, "", 0), 0);
	CHECK_EQ(read(fd, buf, 0), 0);

	/* pread/pwrite leave the position alone. */
	CHECK_EQ(lseek(fd, 2, SEEK_SET), 2);
	CHECK_EQ(pread(fd, buf, 5, 6), 5);
	CHECK(!memcmp(buf, "world", 5));
	CHECK_EQ(pwrite(fd, "W", 1, 6), 1);
	CHECK_EQ(pos(fd), 2);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	CHECK(!memcmp(buf, "hello World", 11));
	CHECK_EQ(pread(fd, buf, sizeof(buf), 11), 0);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 1000), 0);
	CHECK_ERR(pread(fd, buf, 1, -1), EINVAL);
	CHECK_ERR(pwrite(fd, buf, 1, -1), EINVAL);

	/* readv/writev: one call, several buffers, in order. */
	struct iovec iov[3];
	char a[3], b[4], c[8];
	iov[0] = (struct iovec){"AB", 2};
	iov[1] = (struct iovec){"", 0};
	iov[2] = (struct iovec){"CDE", 3};
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(writev(fd, iov, 3), 5);
	CHECK_EQ(pos(fd), 5);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	iov[0] = (struct iovec){a, sizeof(a)};
	iov[1] = (struct iovec){b, sizeof(b)};
	iov[2] = (struct iovec){c, sizeof(c)};
	CHECK_EQ(readv(fd, iov, 3), 11);
	CHECK(!memcmp(a, "ABC", 3));
	CHECK(!memcmp(b, "DE W", 4));
	CHECK(!memcmp(c, "orld", 4));
	CHECK_EQ(pos(fd), 11);
	CHECK_ERR(syscall(SYS_readv, fd, iov, -1), EINVAL);
	CHECK_ERR(syscall(SYS_readv, fd, iov, 1025), EINVAL);
	CHECK_EQ(readv(fd, iov, 0), 0);

	/* preadv/pwritev: at an offset, position untouched. */
	iov[0] = (struct iovec){"xy", 2};
	iov[1] = (struct iovec){"z", 1};
	CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
	CHECK_EQ(pwritev(fd, iov, 2, 20), 3);
	CHECK_EQ(pos(fd), 1);
	CHECK_EQ(fd_size(fd), 23);
	iov[0] = (struct iovec){a, 2};
	iov[1] = (struct iovec){b, 4};
	memset(b, '?', sizeof(b));
	CHECK_EQ(preadv(fd, iov, 2, 20), 3);
	CHECK(!memcmp(a, "xy", 2));
	CHECK_EQ(b[0], 'z');
	CHECK_EQ(b[1], '?');
	CHECK_EQ(pos(fd), 1);
	CHECK_ERR(preadv(fd, iov, 2, -1), EINVAL);
	/* The gap between 11 and 20 reads back as zeros. */
	CHECK(range_is(fd, 11, 9, 0));

	/* preadv2/pwritev2: offset -1 is the file position, which moves. */
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	iov[0] = (struct iovec){a, 3};
	CHECK_EQ(sys_preadv2(fd, iov, 1, -1, 0), 3);
	CHECK(!memcmp(a, "ABC", 3));
	CHECK_EQ(pos(fd), 3);
	iov[0] = (struct iovec){"12", 2};
	CHECK_EQ(sys_pwritev2(fd, iov, 1, -1, 0), 2);
	CHECK_EQ(pos(fd), 5);
	CHECK_EQ(pread(fd, buf, 6, 0), 6);
	CHECK(!memcmp(buf, "ABC12 ", 6));
	/* ... an offset leaves it. */
	iov[0] = (struct iovec){a, 2};
	CHECK_EQ(sys_preadv2(fd, iov, 1, 3, 0), 2);
	CHECK(!memcmp(a, "12", 2));
	CHECK_EQ(pos(fd), 5);
	iov[0] = (struct iovec){"Q", 1};
	CHECK_EQ(sys_pwritev2(fd, iov, 1, 0, 0), 1);
	CHECK_EQ(pos(fd), 5);
	/* RWF_APPEND writes at the end, whatever the offset. */
	CHECK_EQ(sys_pwritev2(fd, iov, 1, 0, RWF_APPEND), 1);
	CHECK_EQ(fd_size(fd), 24);
	CHECK_EQ(pread(fd, buf, 1, 23), 1);
	CHECK_EQ(buf[0], 'Q');
	CHECK_EQ(pos(fd), 5);
	/* Unknown flags. */
	CHECK_ERR(sys_preadv2(fd, iov, 1, 0, 0x4000), EOPNOTSUPP);
	CHECK_ERR(sys_pwritev2(fd, iov, 1, -1, 0x4000), EOPNOTSUPP);
	CHECK_ERR(sys_preadv2(fd, iov, 1, -2, 0), EINVAL);
	close(fd);

	/* Access modes. */
	fd = CHECK_SYS(open("rw", O_RDONLY));
	CHECK_ERR(write(fd, "x", 1), EBADF);
	CHECK_ERR(pwrite(fd, "x", 1, 0), EBADF);
	iov[0] = (struct iovec){"x", 1};
	CHECK_ERR(writev(fd, iov, 1), EBADF);
	close(fd);
	fd = CHECK_SYS(open("rw", O_WRONLY));
	CHECK_ERR(read(fd, buf, 1), EBADF);
	CHECK_ERR(pread(fd, buf, 1, 0), EBADF);
	iov[0] = (struct iovec){buf, 1};
	CHECK_ERR(readv(fd, iov, 1), EBADF);
	close(fd);
	CHECK_ERR(read(9999, buf, 1), EBADF);
	CHECK_ERR(write(-1, buf, 1), EBADF);
	/* A bad buffer. */
	fd = CHECK_SYS(open("rw", O_RDWR));
	CHECK_ERR(syscall(SYS_read, fd, 8L, 4L), EFAULT);
	CHECK_ERR(syscall(SYS_write, fd, 8L, 4L), EFAULT);
	close(fd);
}

static void test_lseek(void)
{
	int fd = CHECK_SYS(open("seek", O_RDWR | O_CREAT | O_TRUNC, 0644));
	char buf[16];

	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_EQ(lseek(fd, 5, SEEK_SET), 5);
	CHECK_EQ(lseek(fd, -2, SEEK_CUR), 3);
	CHECK_EQ(lseek(fd, 2, SEEK_CUR), 5);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 10);
	CHECK_EQ(lseek(fd, -4, SEEK_END), 6);
	CHECK_EQ(read(fd, buf, 2), 2);
	CHECK(!memcmp(buf, "67", 2));
	/* Beyond EOF is allowed; reading there gives nothing. */
	CHECK_EQ(lseek(fd, 100, SEEK_END), 110);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(fd_size(fd), 10);
	/* A negative result, and unknown whence, are EINVAL and keep the
	 * position. */
	CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	CHECK_ERR(lseek(fd, -5, SEEK_CUR), EINVAL);
	CHECK_ERR(lseek(fd, -11, SEEK_END), EINVAL);
	CHECK_ERR(lseek(fd, 0, 5), EINVAL);
	CHECK_ERR(lseek(fd, 0, -1), EINVAL);
	CHECK_EQ(pos(fd), 4);
	CHECK_ERR(lseek(9999, 0, SEEK_SET), EBADF);

	/* SEEK_DATA / SEEK_HOLE on a dense file: data up to the size, then
	 * the implicit hole at EOF; ENXIO from EOF on. */
	CHECK_EQ(lseek(fd, 0, SEEK_DATA), 0);
	CHECK_EQ(lseek(fd, 3, SEEK_DATA), 3);
	CHECK_EQ(lseek(fd, 0, SEEK_HOLE), 10);
	CHECK_EQ(lseek(fd, 9, SEEK_HOLE), 10);
	CHECK_ERR(lseek(fd, 10, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, 10, SEEK_HOLE), ENXIO);
	CHECK_ERR(lseek(fd, 1000, SEEK_DATA), ENXIO);
	CHECK_ERR(lseek(fd, -1, SEEK_DATA), ENXIO);
	CHECK_EQ(pos(fd), 10); /* the last successful SEEK_HOLE moved it */

	/* A sparse file: data at [0, 4096) and [1 MiB, 1 MiB + 4096). A
	 * filesystem may report the hole between or treat it all as data;
	 * either way the answers must agree. */
	const off_t MB = 1 << 20;
	static char page[4096];
	memset(page, 'd', sizeof(page));
	int sp = CHECK_SYS(open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK_EQ(pwrite(sp, page, sizeof(page), 0), 4096);
	CHECK_EQ(pwrite(sp, page, sizeof(page), MB), 4096);
	CHECK_EQ(fd_size(sp), MB + 4096);
	off_t hole = lseek(sp, 0, SEEK_HOLE);
	CHECK(hole >= 4096 && hole <= MB + 4096);
	if (hole < MB) {
		/* Holes are tracked (in blocks or pages): the one found runs
		 * up to the data at 1 MiB. */
		CHECK_EQ(lseek(sp, hole, SEEK_DATA), MB);
		CHECK_EQ(lseek(sp, MB - 1, SEEK_HOLE), MB - 1);
		CHECK_EQ(lseek(sp, MB - 1, SEEK_DATA), MB);
		CHECK_EQ(lseek(sp, MB, SEEK_HOLE), MB + 4096);
	} else {
		CHECK_EQ(hole, MB + 4096);
		CHECK_EQ(lseek(sp, 5000, SEEK_DATA), 5000);
	}
	CHECK_EQ(lseek(sp, MB + 100, SEEK_DATA), MB + 100);
	CHECK_ERR(lseek(sp, MB + 4096, SEEK_DATA), ENXIO);
	/* The hole reads as zeros. */
	CHECK(range_is(sp, 4096, (size_t)(MB - 4096), 0));
	CHECK(range_is(sp, MB, 4096, 'd'));
	/* A file that ends in a hole. */
	CHECK_SYS(ftruncate(sp, 3 * MB));
	off_t tail = lseek(sp, MB, SEEK_HOLE);
	CHECK(tail >= MB + 4096 && tail <= 3 * MB);
	if (hole < MB) {
		CHECK(tail < 3 * MB);
		CHECK_ERR(lseek(sp, tail, SEEK_DATA), ENXIO);
	} else {
		CHECK_EQ(tail, 3 * MB);
		CHECK_EQ(lseek(sp, 2 * MB, SEEK_DATA), 2 * MB);
	}
	close(sp);
	close(fd);
}

static void test_truncate_sync(void)
{
	char buf[32];
	int fd = CHECK_SYS(open("trunc", O_RDWR | O_CREAT | O_TRUNC, 0644));

	CHECK_EQ(write(fd, "abcdefgh", 8), 8);
	/* Grow: zeros after the old end; the position does not move. */
	CHECK_SYS(ftruncate(fd, 8192));
	CHECK_EQ(fd_size(fd), 8192);
	CHECK_EQ(pos(fd), 8);
	CHECK(range_is(fd, 8, 8192 - 8, 0));
	/* Shrink, then grow again: the cut bytes do not come back. */
	CHECK_SYS(ftruncate(fd, 3));
	CHECK_EQ(fd_size(fd), 3);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "abc", 3));
	CHECK_SYS(ftruncate(fd, 8));
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 8);
	CHECK(!memcmp(buf, "abc\0\0\0\0\0", 8));
	/* Writing at a position past a shrunk end leaves a hole. */
	CHECK_SYS(ftruncate(fd, 0));
	CHECK_EQ(write(fd, "Z", 1), 1); /* position 8 */
	CHECK_EQ(fd_size(fd), 9);
	CHECK(range_is(fd, 0, 8, 0));
	CHECK_ERR(ftruncate(fd, -1), EINVAL);

	/* The sync family. */
	CHECK_SYS(fsync(fd));
	CHECK_SYS(fdatasync(fd));
	CHECK_SYS(syncfs(fd));
	sync();
	CHECK_ERR(fsync(9999), EBADF);
	CHECK_ERR(fdatasync(-1), EBADF);
	CHECK_ERR(syncfs(9999), EBADF);
	int ro = CHECK_SYS(open("trunc", O_RDONLY));
	CHECK_SYS(fsync(ro)); /* allowed on a read-only fd */
	close(ro);
	int dfd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(fsync(dfd));
	close(dfd);
	close(fd);
}

static void test_fallocate(void)
{
	struct stat st;
	char buf[16];
	int fd = CHECK_SYS(open("falloc", O_RDWR | O_CREAT | O_TRUNC, 0644));

	CHECK_EQ(write(fd, "0123456789", 10), 10);
	/* Mode 0 extends the size; the new range reads as zeros. */
	CHECK_SYS(fallocate(fd, 0, 0, 8192));
	CHECK_EQ(fd_size(fd), 8192);
	CHECK(range_is(fd, 10, 8192 - 10, 0));
	CHECK_EQ(pread(fd, buf, 10, 0), 10);
	CHECK(!memcmp(buf, "0123456789", 10));
	/* Within the size it changes nothing. */
	CHECK_SYS(fallocate(fd, 0, 100, 100));
	CHECK_EQ(fd_size(fd), 8192);
	/* KEEP_SIZE allocates without growing. */
	CHECK_SYS(fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 65536));
	CHECK_EQ(fd_size(fd), 8192);
	CHECK_SYS(fstat(fd, &st));
	/* PUNCH_HOLE needs KEEP_SIZE; where supported it zeroes the range
	 * and keeps the size. */
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4), EOPNOTSUPP);
	int r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 5);
	if (r == 0) {
		CHECK_EQ(fd_size(fd), 8192);
		CHECK_EQ(pread(fd, buf, 10, 0), 10);
		CHECK(!memcmp(buf, "01\0\0\0\0\0" "789", 10));
		/* A whole page punched out of the middle becomes a hole. */
		CHECK_SYS(pwrite(fd, "x", 1, 8191));
		CHECK_SYS(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4095));
		CHECK(range_is(fd, 4096, 4095, 0));
		CHECK_EQ(pread(fd, buf, 1, 8191), 1);
		CHECK_EQ(buf[0], 'x');
		/* Beyond EOF: nothing to punch, the size stays. */
		CHECK_SYS(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8000, 10000));
		CHECK_EQ(fd_size(fd), 8192);
		CHECK(range_is(fd, 8000, 192, 0));
	} else {
		CHECK_EQ(errno, EOPNOTSUPP);
	}
	/* Bad arguments. */
	CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
	CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
	CHECK_ERR(fallocate(fd, 0, 0, -1), EINVAL);
	CHECK_ERR(fallocate(9999, 0, 0, 1), EBADF);
	close(fd);
	fd = CHECK_SYS(open("falloc", O_RDONLY));
	CHECK_ERR(fallocate(fd, 0, 0, 1), EBADF);
	close(fd);
	fd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(fallocate(fd, 0, 0, 1), EBADF);
	close(fd);
}

static void test_fionread(void)
{
	int fd = CHECK_SYS(open("fionread", O_RDWR | O_CREAT | O_TRUNC, 0644));
	int n = -1;

	CHECK_SYS(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, 0);
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_SYS(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, 0);
	CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
	CHECK_SYS(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, 7);
	/* Past EOF, Linux reports the (negative) difference. */
	CHECK_EQ(lseek(fd, 15, SEEK_SET), 15);
	CHECK_SYS(ioctl(fd, FIONREAD, &n));
	CHECK_EQ(n, -5);
	CHECK_ERR(ioctl(9999, FIONREAD, &n), EBADF);
	CHECK_ERR(ioctl(fd, FIONREAD, (void *)8), EFAULT);
	/* An ioctl files do not have. */
	CHECK_ERR(ioctl(fd, TIOCGWINSZ, &n), ENOTTY);
	close(fd);
}

static void test_sendfile(void)
{
	char buf[64];
	int in, out;
	off_t off;

	fs_put("src", "abcdefghijklmnopqrstuvwxyz");
	in = CHECK_SYS(open("src", O_RDONLY));
	out = CHECK_SYS(open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644));
	/* With an offset: it is advanced, the input position is not. */
	off = 3;
	CHECK_EQ(sendfile(out, in, &off, 5), 5);
	CHECK_EQ(off, 8);
	CHECK_EQ(pos(in), 0);
	CHECK_EQ(pos(out), 5);
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 5);
	CHECK(!memcmp(buf, "defgh", 5));
	/* Without: the input position moves. */
	CHECK_EQ(lseek(in, 20, SEEK_SET), 20);
	CHECK_EQ(sendfile(out, in, NULL, 100), 6);
	CHECK_EQ(pos(in), 26);
	CHECK_EQ(pos(out), 11);
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 11);
	CHECK(!memcmp(buf, "defghuvwxyz", 11));
	/* At EOF, and with count 0: nothing. */
	CHECK_EQ(sendfile(out, in, NULL, 10), 0);
	off = 26;
	CHECK_EQ(sendfile(out, in, &off, 10), 0);
	CHECK_EQ(off, 26);
	off = 0;
	CHECK_EQ(sendfile(out, in, &off, 0), 0);
	/* Errors. */
	off = -1;
	CHECK_ERR(sendfile(out, in, &off, 1), EINVAL);
	CHECK_ERR(sendfile(out, 9999, NULL, 1), EBADF);
	CHECK_ERR(sendfile(9999, in, NULL, 1), EBADF);
	CHECK_ERR(sendfile(in, out, NULL, 1), EBADF); /* in is read-only */
	int wo = CHECK_SYS(open("src", O_WRONLY));
	CHECK_ERR(sendfile(out, wo, NULL, 1), EBADF);
	close(wo);
	int app = CHECK_SYS(open("dst", O_WRONLY | O_APPEND));
	CHECK_ERR(sendfile(app, in, NULL, 1), EINVAL);
	close(app);
	close(in);
	close(out);
}

static long sys_cfr(int in, off_t *ioff, int out, off_t *ooff, size_t len, unsigned flags)
{
	return syscall(SYS_copy_file_range, in, ioff, out, ooff, len, flags);
}

static void test_copy_file_range(void)
{
	char buf[64];
	off_t io, oo;
	int in, out;

	fs_put("cin", "0123456789ABCDEFGHIJ");
	in = CHECK_SYS(open("cin", O_RDONLY));
	out = CHECK_SYS(open("cout", O_RDWR | O_CREAT | O_TRUNC, 0644));
	/* Explicit offsets: both advance, positions stay. */
	io = 10;
	oo = 2;
	CHECK_EQ(sys_cfr(in, &io, out, &oo, 5, 0), 5);
	CHECK_EQ(io, 15);
	CHECK_EQ(oo, 7);
	CHECK_EQ(pos(in), 0);
	CHECK_EQ(pos(out), 0);
	CHECK_EQ(fd_size(out), 7);
	CHECK_EQ(pread(out, buf, sizeof(buf), 0), 7);
	CHECK(!memcmp(buf, "\0\0ABCDE", 7));
	/* File positions. */
	CHECK_EQ(lseek(in, 4, SEEK_SET), 4);
	CHECK_EQ(sys_cfr(in, NULL, out, NULL, 3, 0), 3);
	CHECK_EQ(pos(in), 7);
	CHECK_EQ(pos(out), 3);
	CHECK_EQ(pread(out, buf, 7, 0), 7);
	CHECK(!memcmp(buf, "456BCDE", 7));
	/* Short at EOF; nothing from EOF on. */
	io = 18;
	CHECK_EQ(sys_cfr(in, &io, out, NULL, 100, 0), 2);
	io = 20;
	CHECK_EQ(sys_cfr(in, &io, out, NULL, 100, 0), 0);
	CHECK_EQ(sys_cfr(in, NULL, out, NULL, 0, 0), 0);
	/* Errors. */
	CHECK_ERR(sys_cfr(in, NULL, out, NULL, 1, 1), EINVAL);
	/* A negative offset wraps when the length is added. */
	io = -1;
	CHECK_ERR(sys_cfr(in, &io, out, NULL, 1, 0), EOVERFLOW);
	oo = -5;
	CHECK_ERR(sys_cfr(in, NULL, out, &oo, 10, 0), EOVERFLOW);
	CHECK_ERR(sys_cfr(9999, NULL, out, NULL, 1, 0), EBADF);
	CHECK_ERR(sys_cfr(out, NULL, in, NULL, 1, 0), EBADF); /* in is read-only */
	int app = CHECK_SYS(open("cout", O_WRONLY | O_APPEND));
	CHECK_ERR(sys_cfr(in, NULL, app, NULL, 1, 0), EBADF);
	close(app);
	int dfd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(sys_cfr(dfd, NULL, out, NULL, 1, 0), EISDIR);
	close(dfd);

	/* Within one file: ranges that do not overlap are fine... */
	int rw = CHECK_SYS(open("cin", O_RDWR));
	io = 0;
	oo = 20;
	CHECK_EQ(sys_cfr(rw, &io, rw, &oo, 5, 0), 5);
	CHECK_EQ(pread(rw, buf, sizeof(buf), 0), 25);
	CHECK(!memcmp(buf, "0123456789ABCDEFGHIJ01234", 25));
	/* ... overlapping ones are EINVAL. */
	io = 0;
	oo = 3;
	CHECK_ERR(sys_cfr(rw, &io, rw, &oo, 5, 0), EINVAL);
	io = 3;
	oo = 0;
	CHECK_ERR(sys_cfr(rw, &io, rw, &oo, 5, 0), EINVAL);
	/* The overlap is judged on the length after shortening to EOF. */
	io = 20;
	oo = 26;
	CHECK_EQ(sys_cfr(rw, &io, rw, &oo, 100, 0), 5);
	CHECK_EQ(fd_size(rw), 31);
	close(rw);
	close(in);
	close(out);
}

static volatile sig_atomic_t xfsz;
static void on_xfsz(int sig) { xfsz = sig; }

/* RLIMIT_FSIZE: a write crossing the limit is cut short, one at or past it
 * fails with EFBIG and raises SIGXFSZ; pipes do not count. In a child, so
 * the limit stays there. */
static void test_fsize_limit(void)
{
	char buf[800];
	int st;
	pid_t pid = CHECK_SYS(fork());

	if (pid == 0) {
		struct rlimit rl = {1000, 1000};
		int fd = CHECK_SYS(open("fsize", O_RDWR | O_CREAT | O_TRUNC, 0644));
		int afd = CHECK_SYS(open("fsize", O_WRONLY | O_APPEND));
		int p[2];

		CHECK_SYS(pipe(p));
		signal(SIGXFSZ, on_xfsz);
		CHECK_SYS(setrlimit(RLIMIT_FSIZE, &rl));
		memset(buf, 'f', sizeof(buf));
		CHECK_EQ(write(fd, buf, sizeof(buf)), 800);
		CHECK_EQ(xfsz, 0);
		CHECK_EQ(write(fd, buf, sizeof(buf)), 200);
		CHECK_EQ(fd_size(fd), 1000);
		CHECK_ERR(write(fd, buf, 1), EFBIG);
		CHECK_EQ(xfsz, SIGXFSZ);
		xfsz = 0;
		CHECK_ERR(pwrite(fd, buf, 1, 5000), EFBIG);
		CHECK_EQ(xfsz, SIGXFSZ);
		CHECK_EQ(pwrite(fd, buf, 10, 995), 5);
		xfsz = 0;
		CHECK_ERR(write(afd, buf, 1), EFBIG); /* appends start at 1000 */
		CHECK_EQ(xfsz, SIGXFSZ);
		CHECK_ERR(ftruncate(fd, 2000), EFBIG);
		CHECK_EQ(write(p[1], buf, sizeof(buf)), 800);
		CHECK_SYS(unlink("fsize"));
		_exit(check_exit());
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_rw();
	test_lseek();
	test_truncate_sync();
	test_fallocate();
	test_fionread();
	test_sendfile();
	test_copy_file_range();
	test_fsize_limit();
	fs_cleanup();
	return check_exit();
}
