/* write, writev, readv, read, pread64/pwrite64 argument checks, and the
 * fd calls around them (fstat, fcntl, close, ioctl) on the standard
 * descriptors. The runner gives the program stdin </dev/null and stdout
 * redirected to a regular file; checks whose Linux result depends on the
 * kind of file are made only for the kinds they hold for. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((void *)8)
#define KERNEL_PTR ((void *)0xffff800000000000UL)

int main(void)
{
	static const char msg[] = "write_exit: write\n";
	char buf[64];
	struct stat st0, st1, st2;
	struct iovec iov[3];
	long written = 0, n;
	int fl, dup_fd, plain;
	struct termios tio;
	struct winsize ws;

	CHECK_SYS(fstat(1, &st0));
	/* Files and pipes report bad buffers; /dev/null never reads them. */
	plain = S_ISREG(st0.st_mode) || S_ISFIFO(st0.st_mode);

	/* write returns the count written. */
	n = CHECK_SYS(write(1, msg, sizeof(msg) - 1));
	CHECK_EQ(n, sizeof(msg) - 1);
	written += n > 0 ? n : 0;
	n = CHECK_SYS(syscall(SYS_write, 1, "raw\n", 4));
	CHECK_EQ(n, 4);
	written += n > 0 ? n : 0;

	/* Zero-length writes. */
	CHECK_EQ(write(1, msg, 0), 0);
	CHECK_EQ(syscall(SYS_write, 1, msg, 0), 0);
	if (plain)
		CHECK_EQ(syscall(SYS_write, 1, BAD_PTR, 0), 0);

	/* Bad descriptors. */
	CHECK_ERR(syscall(SYS_write, -1, msg, 1), EBADF);
	CHECK_ERR(syscall(SYS_write, 0x7fffffff, msg, 1), EBADF);
	CHECK_ERR(syscall(SYS_write, 4000, msg, 1), EBADF);

	/* Bad buffers. */
	if (plain) {
		CHECK_ERR(syscall(SYS_write, 1, BAD_PTR, 4), EFAULT);
		CHECK_ERR(syscall(SYS_write, 1, KERNEL_PTR, 4), EFAULT);
		CHECK_ERR(syscall(SYS_write, 1, (void *)-1L, 4), EFAULT);
	}

	/* writev gathers; its count is the total. */
	iov[0] = (struct iovec){(void *)"write", 5};
	iov[1] = (struct iovec){(void *)"v ", 2};
	iov[2] = (struct iovec){(void *)"ok\n", 3};
	n = CHECK_SYS(writev(1, iov, 3));
	CHECK_EQ(n, 10);
	written += n > 0 ? n : 0;
	iov[1].iov_len = 0;
	n = CHECK_SYS(syscall(SYS_writev, 1, iov, 3));
	CHECK_EQ(n, 8);
	written += n > 0 ? n : 0;
	CHECK_EQ(syscall(SYS_writev, 1, iov, 0), 0);
	CHECK_ERR(syscall(SYS_writev, 1, iov, IOV_MAX + 1), EINVAL);
	CHECK_ERR(syscall(SYS_writev, 1, iov, -1), EINVAL);
	CHECK_ERR(syscall(SYS_writev, 1, BAD_PTR, 2), EFAULT);
	CHECK_ERR(syscall(SYS_writev, -1, iov, 1), EBADF);
	iov[0] = (struct iovec){(void *)"x", (size_t)SSIZE_MAX + 1};
	CHECK_ERR(syscall(SYS_writev, 1, iov, 1), EINVAL);
	if (plain) {
		iov[0] = (struct iovec){BAD_PTR, 4};
		CHECK_ERR(syscall(SYS_writev, 1, iov, 1), EFAULT);
	}

	/* Reads from the write-only stdout, and from stdin at end of file. */
	fl = (int)CHECK_SYS(fcntl(1, F_GETFL));
	if ((fl & O_ACCMODE) == O_WRONLY) {
		CHECK_ERR(syscall(SYS_read, 1, buf, sizeof(buf)), EBADF);
		iov[0] = (struct iovec){buf, sizeof(buf)};
		CHECK_ERR(syscall(SYS_readv, 1, iov, 1), EBADF);
		/* (A pipe has no positional reads: ESPIPE comes first.) */
		if (S_ISREG(st0.st_mode))
			CHECK_ERR(syscall(SYS_pread64, 1, buf, sizeof(buf), 0), EBADF);
	}
	CHECK_ERR(syscall(SYS_read, -1, buf, sizeof(buf)), EBADF);
	CHECK_ERR(syscall(SYS_readv, 4000, iov, 1), EBADF);
	CHECK_SYS(fstat(0, &st1));
	if (S_ISCHR(st1.st_mode) && st1.st_rdev == makedev(1, 3)) {
		/* /dev/null: reads see end of file at once. */
		CHECK_EQ(read(0, buf, sizeof(buf)), 0);
		iov[0] = (struct iovec){buf, 8};
		iov[1] = (struct iovec){buf + 8, 8};
		CHECK_EQ(readv(0, iov, 2), 0);
		CHECK_EQ(syscall(SYS_readv, 0, iov, 0), 0);
		CHECK_ERR(syscall(SYS_readv, 0, iov, IOV_MAX + 1), EINVAL);
	}

	/* A negative offset is refused before the descriptor is looked at. */
	CHECK_ERR(syscall(SYS_pwrite64, 1, msg, 1, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_pread64, 0, buf, 1, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_pwrite64, -1, msg, 1, -1L), EINVAL);
	CHECK_ERR(syscall(SYS_pwrite64, -1, msg, 1, 0L), EBADF);
	if (S_ISFIFO(st0.st_mode))
		CHECK_ERR(syscall(SYS_pwrite64, 1, msg, 1, 0L), ESPIPE);

	/* Terminal requests on what is not a terminal. */
	if (plain) {
		CHECK_ERR(ioctl(1, TCGETS, &tio), ENOTTY);
		CHECK_ERR(ioctl(1, TIOCGWINSZ, &ws), ENOTTY);
	}
	CHECK_ERR(ioctl(-1, TCGETS, &tio), EBADF);

	/* A duplicate writes to the same file, has its own close-on-exec
	 * flag, and is gone after close. */
	dup_fd = (int)CHECK_SYS(fcntl(1, F_DUPFD, 10));
	CHECK(dup_fd >= 10);
	if (dup_fd >= 10) {
		n = CHECK_SYS(write(dup_fd, "dup\n", 4));
		CHECK_EQ(n, 4);
		written += n > 0 ? n : 0;
		CHECK_EQ(fcntl(dup_fd, F_GETFD), 0);
		CHECK_EQ(fcntl(dup_fd, F_SETFD, FD_CLOEXEC), 0);
		CHECK_EQ(fcntl(dup_fd, F_GETFD), FD_CLOEXEC);
		CHECK_EQ(fcntl(1, F_GETFD) & FD_CLOEXEC, 0);
		CHECK_EQ(fcntl(dup_fd, F_GETFL), fl);
		CHECK_SYS(fstat(dup_fd, &st1));
		CHECK_EQ(st1.st_ino, st0.st_ino);
		CHECK_EQ(st1.st_dev, st0.st_dev);
		CHECK_EQ(close(dup_fd), 0);
		CHECK_ERR(close(dup_fd), EBADF);
		CHECK_ERR(syscall(SYS_write, dup_fd, "x", 1), EBADF);
		CHECK_ERR(fcntl(dup_fd, F_GETFD), EBADF);
		CHECK_ERR(fstat(dup_fd, &st1), EBADF);
	}
	CHECK_ERR(fcntl(1, F_DUPFD, -1), EINVAL);
	CHECK_ERR(fcntl(-1, F_DUPFD, 0), EBADF);

	/* fstat and fstatat(AT_EMPTY_PATH) describe the same file; a
	 * regular stdout grew by exactly what was written. */
	CHECK_SYS(fstat(1, &st1));
	CHECK_SYS(syscall(SYS_newfstatat, 1, "", &st2, AT_EMPTY_PATH));
	CHECK_EQ(st1.st_ino, st2.st_ino);
	CHECK_EQ(st1.st_dev, st2.st_dev);
	CHECK_EQ(st1.st_mode, st2.st_mode);
	CHECK_EQ(st1.st_size, st2.st_size);
	if (S_ISREG(st0.st_mode) && !(fl & O_APPEND))
		CHECK_EQ(st1.st_size - st0.st_size, written);
	CHECK_ERR(syscall(SYS_fstat, 1, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_fstat, -1, &st1), EBADF);

	return check_exit();
}
