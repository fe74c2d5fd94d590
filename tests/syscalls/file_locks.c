/* Advisory locks: flock (owned by the open file description), OFD record
 * locks (also per description) and POSIX record locks (per process:
 * never in conflict within one process, and dropped when any fd of the
 * file is closed). Everything runs in one process, with separate open()s
 * standing in for other lock owners; nothing ever waits. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "fs_util.h"

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* F_GETLK / F_OFD_GETLK for [start, start+len): fills *out. */
static int getlk(int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
	*out = (struct flock){.l_type = type, .l_whence = SEEK_SET, .l_start = start,
			      .l_len = len};
	return fcntl(fd, cmd, out);
}

static void test_flock(void)
{
	fs_put("fl", "data");
	int a = CHECK_SYS(open("fl", O_RDWR));
	int b = CHECK_SYS(open("fl", O_RDONLY));

	/* Shared locks coexist; an exclusive one does not. */
	CHECK_SYS(flock(a, LOCK_SH));
	CHECK_SYS(flock(b, LOCK_SH | LOCK_NB));
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* The failed conversion dropped b's shared lock (Linux removes the
	 * old lock first), so a may now convert to exclusive. */
	CHECK_SYS(flock(a, LOCK_EX | LOCK_NB));
	CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* Relocking in the same mode is a no-op. */
	CHECK_SYS(flock(a, LOCK_EX | LOCK_NB));
	/* Downgrade: others may share again. */
	CHECK_SYS(flock(a, LOCK_SH | LOCK_NB));
	CHECK_SYS(flock(b, LOCK_SH | LOCK_NB));
	CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_SYS(flock(b, LOCK_UN));
	CHECK_SYS(flock(a, LOCK_EX | LOCK_NB));
	/* Unlocking what is not locked is fine. */
	CHECK_SYS(flock(b, LOCK_UN));

	/* A dup shares the description, and so the lock. */
	int a2 = CHECK_SYS(dup(a));
	CHECK_SYS(flock(a2, LOCK_EX | LOCK_NB));
	close(a);
	CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK); /* a2 still holds it */
	close(a2);
	CHECK_SYS(flock(b, LOCK_EX | LOCK_NB)); /* the last close released it */
	CHECK_SYS(flock(b, LOCK_UN));

	/* flock and fcntl locks do not interact. */
	a = CHECK_SYS(open("fl", O_RDWR));
	CHECK_SYS(flock(b, LOCK_EX | LOCK_NB));
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 0, 0));
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	CHECK_SYS(flock(b, LOCK_UN));

	/* Errors. */
	CHECK_ERR(flock(a, 0), EINVAL);
	CHECK_ERR(flock(a, LOCK_NB), EINVAL);
	CHECK_ERR(flock(a, LOCK_SH | LOCK_EX), EINVAL);
	CHECK_ERR(flock(9999, LOCK_SH), EBADF);
	int p = CHECK_SYS(open("fl", O_PATH));
	CHECK_ERR(flock(p, LOCK_SH | LOCK_NB), EBADF);
	close(p);
	close(a);
	close(b);
}

static void test_ofd(void)
{
	struct flock fl;

	fs_put("ofd", "0123456789");
	int a = CHECK_SYS(open("ofd", O_RDWR));
	int b = CHECK_SYS(open("ofd", O_RDWR));

	/* Two descriptions conflict, even in one process. */
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 0, 100));
	CHECK_ERR(lk(b, F_OFD_SETLK, F_WRLCK, 50, 10), EAGAIN);
	CHECK_ERR(lk(b, F_OFD_SETLK, F_RDLCK, 99, 1), EAGAIN);
	/* F_OFD_GETLK reports the conflicting lock, with l_pid -1. */
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 50, 10, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_whence, SEEK_SET);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 100);
	CHECK_EQ(fl.l_pid, -1);
	/* The holder itself sees no conflict. */
	CHECK_SYS(getlk(a, F_OFD_GETLK, F_WRLCK, 50, 10, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	/* Beyond the range, no conflict; F_UNLCK leaves the rest alone. */
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 100, 10, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	CHECK_EQ(fl.l_start, 100);
	CHECK_EQ(fl.l_len, 10);
	CHECK_SYS(lk(b, F_OFD_SETLK, F_WRLCK, 100, 10));

	/* Unlocking the middle splits a's lock in two. */
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 40, 20));
	CHECK_SYS(lk(b, F_OFD_SETLK, F_WRLCK, 40, 20));
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 0, 40, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 40);
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_RDLCK, 60, 40, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 60);
	CHECK_EQ(fl.l_len, 40);
	/* And b's pieces are what a now trips over. */
	CHECK_SYS(getlk(a, F_OFD_GETLK, F_RDLCK, 45, 1, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 40);
	CHECK_EQ(fl.l_len, 20);
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	CHECK_SYS(lk(b, F_OFD_SETLK, F_UNLCK, 0, 0));

	/* Read locks share. */
	CHECK_SYS(lk(a, F_OFD_SETLK, F_RDLCK, 0, 10));
	CHECK_SYS(lk(b, F_OFD_SETLK, F_RDLCK, 5, 10));
	CHECK_ERR(lk(b, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
	/* Converting one's own lock: a's read lock becomes a write lock
	 * where b has none. */
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 0, 5));
	CHECK_ERR(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10), EAGAIN);
	CHECK_SYS(lk(b, F_OFD_SETLK, F_UNLCK, 0, 0));
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));

	/* l_len 0 reaches to EOF and beyond; a negative length ends at
	 * l_start. */
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 1000, 0));
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 5000, 1, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 1000);
	CHECK_EQ(fl.l_len, 0);
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 10, -5));
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, &fl));
	CHECK_EQ(fl.l_start, 5);
	CHECK_EQ(fl.l_len, 5);
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	/* SEEK_CUR and SEEK_END are resolved to absolute offsets. */
	CHECK_EQ(lseek(a, 20, SEEK_SET), 20);
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 2, .l_len = 3};
	CHECK_SYS(fcntl(a, F_OFD_SETLK, &fl));
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, &fl));
	CHECK_EQ(fl.l_whence, SEEK_SET);
	CHECK_EQ(fl.l_start, 22);
	CHECK_EQ(fl.l_len, 3);
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -4, .l_len = 2};
	CHECK_SYS(fcntl(a, F_OFD_SETLK, &fl));
	CHECK_SYS(getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, &fl));
	CHECK_EQ(fl.l_start, 6);
	CHECK_EQ(fl.l_len, 2);
	CHECK_SYS(lk(a, F_OFD_SETLK, F_UNLCK, 0, 0));

	/* l_pid must be 0 for the OFD commands. */
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = 1};
	CHECK_ERR(fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_pid = getpid()};
	CHECK_ERR(fcntl(a, F_OFD_GETLK, &fl), EINVAL);
	/* Other errors. */
	CHECK_ERR(lk(a, F_OFD_SETLK, 42, 0, 1), EINVAL);
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = 7};
	CHECK_ERR(fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	CHECK_ERR(lk(a, F_OFD_SETLK, F_WRLCK, -1, 1), EINVAL);
	CHECK_ERR(lk(a, F_OFD_SETLK, F_WRLCK, 2, -5), EINVAL);
	int ro = CHECK_SYS(open("ofd", O_RDONLY));
	CHECK_ERR(lk(ro, F_OFD_SETLK, F_WRLCK, 0, 1), EBADF);
	CHECK_SYS(lk(ro, F_OFD_SETLK, F_RDLCK, 0, 1));
	int wo = CHECK_SYS(open("ofd", O_WRONLY));
	CHECK_ERR(lk(wo, F_OFD_SETLK, F_RDLCK, 0, 1), EBADF);
	/* Closing a description drops its locks. */
	CHECK_ERR(lk(wo, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
	close(ro);
	CHECK_SYS(lk(wo, F_OFD_SETLK, F_WRLCK, 0, 1));
	/* A dup shares the description's locks. */
	int wo2 = CHECK_SYS(dup(wo));
	CHECK_SYS(lk(wo2, F_OFD_SETLK, F_WRLCK, 0, 1));
	close(wo);
	CHECK_ERR(lk(a, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
	close(wo2);
	CHECK_SYS(lk(a, F_OFD_SETLK, F_WRLCK, 0, 1));
	close(a);
	close(b);
}

static void test_posix(void)
{
	struct flock fl;

	fs_put("px", "0123456789");
	int a = CHECK_SYS(open("px", O_RDWR));
	int b = CHECK_SYS(open("px", O_RDWR));

	/* One process never conflicts with itself, whatever the fd. */
	CHECK_SYS(lk(a, F_SETLK, F_WRLCK, 0, 10));
	CHECK_SYS(lk(b, F_SETLK, F_WRLCK, 0, 10));
	CHECK_SYS(lk(b, F_SETLK, F_RDLCK, 5, 10));
	CHECK_SYS(getlk(b, F_GETLK, F_WRLCK, 0, 100, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	/* But an OFD lock sees the process's locks, with its pid. */
	int c = CHECK_SYS(open("px", O_RDWR));
	CHECK_SYS(getlk(c, F_OFD_GETLK, F_WRLCK, 0, 5, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 5);
	CHECK_EQ(fl.l_pid, getpid());
	CHECK_ERR(lk(c, F_OFD_SETLK, F_RDLCK, 0, 1), EAGAIN);
	CHECK_SYS(getlk(c, F_OFD_GETLK, F_WRLCK, 10, 5, &fl));
	CHECK_EQ(fl.l_type, F_RDLCK);
	CHECK_EQ(fl.l_start, 5);
	CHECK_EQ(fl.l_len, 10);
	CHECK_SYS(lk(c, F_OFD_SETLK, F_RDLCK, 10, 5)); /* read shares with read */
	/* ... and the process's POSIX locks see OFD locks. */
	CHECK_ERR(lk(a, F_SETLK, F_WRLCK, 12, 1), EAGAIN);
	CHECK_SYS(getlk(a, F_GETLK, F_WRLCK, 12, 1, &fl));
	CHECK_EQ(fl.l_type, F_RDLCK);
	CHECK_EQ(fl.l_start, 10);
	CHECK_EQ(fl.l_len, 5);
	CHECK_EQ(fl.l_pid, -1);
	CHECK_SYS(lk(c, F_OFD_SETLK, F_UNLCK, 0, 0));

	/* F_UNLCK of the middle splits the range. */
	CHECK_SYS(lk(a, F_SETLK, F_UNLCK, 0, 0));
	CHECK_SYS(lk(a, F_SETLK, F_WRLCK, 0, 30));
	CHECK_SYS(lk(a, F_SETLK, F_UNLCK, 10, 10));
	CHECK_SYS(getlk(c, F_OFD_GETLK, F_WRLCK, 10, 10, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	CHECK_SYS(getlk(c, F_OFD_GETLK, F_WRLCK, 0, 10, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 10);
	CHECK_SYS(getlk(c, F_OFD_GETLK, F_WRLCK, 20, 100, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 20);
	CHECK_EQ(fl.l_len, 10);

	/* Closing any fd of the file drops all of the process's locks on
	 * it, even one through which no lock was taken. */
	close(b);
	CHECK_SYS(getlk(c, F_OFD_GETLK, F_WRLCK, 0, 0, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	CHECK_SYS(lk(c, F_OFD_SETLK, F_WRLCK, 0, 0));
	CHECK_ERR(lk(a, F_SETLK, F_RDLCK, 0, 1), EAGAIN);
	CHECK_SYS(lk(c, F_OFD_SETLK, F_UNLCK, 0, 0));
	/* So does closing one by dup2 over it, or by close_range. */
	fs_put("other", "");
	int other = CHECK_SYS(open("other", O_RDONLY));
	b = CHECK_SYS(open("px", O_RDONLY));
	CHECK_SYS(lk(a, F_SETLK, F_WRLCK, 0, 1));
	CHECK_ERR(lk(c, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
	CHECK_EQ(dup2(other, b), b);
	CHECK_SYS(lk(c, F_OFD_SETLK, F_WRLCK, 0, 1));
	CHECK_SYS(lk(c, F_OFD_SETLK, F_UNLCK, 0, 0));
	CHECK_SYS(close(b));
	b = CHECK_SYS(open("px", O_RDONLY));
	CHECK_SYS(lk(a, F_SETLK, F_WRLCK, 0, 1));
	CHECK_ERR(lk(c, F_OFD_SETLK, F_WRLCK, 0, 1), EAGAIN);
	CHECK_SYS(syscall(SYS_close_range, b, b, 0));
	CHECK_SYS(lk(c, F_OFD_SETLK, F_WRLCK, 0, 1));
	CHECK_SYS(lk(c, F_OFD_SETLK, F_UNLCK, 0, 0));
	close(other);

	/* Errors. */
	CHECK_ERR(lk(a, F_SETLK, 42, 0, 1), EINVAL);
	CHECK_ERR(lk(9999, F_SETLK, F_WRLCK, 0, 1), EBADF);
	int ro = CHECK_SYS(open("px", O_RDONLY));
	CHECK_ERR(lk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
	close(ro);
	close(a);
	close(c);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_flock();
	test_ofd();
	test_posix();
	fs_cleanup();
	return check_exit();
}
