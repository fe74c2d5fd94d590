/* File attributes: the stat family and statx; chmod, chown, the times
 * (utimensat, utimes, futimesat, utime); truncate; access and
 * faccessat2; umask; statfs; extended attributes. The tests run as root
 * (natively and in the sandbox) and check what root gets. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "check.h"
#include "fs_util.h"

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static long sys_faccessat2(int dirfd, const char *path, int mode, int flags)
{
	return syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

static long sys_utimensat(int dirfd, const char *path, const struct timespec *ts, int flags)
{
	return syscall(SYS_utimensat, dirfd, path, ts, flags);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_mode : 0;
}

static void test_stat(void)
{
	struct stat st, st2, lst;
	int fd;

	fs_put("f", "12345");
	CHECK_SYS(symlink("f", "sl"));
	CHECK_SYS(mkdir("d", 0755));
	CHECK_SYS(stat("f", &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK_EQ(st.st_size, 5);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_uid, geteuid());
	CHECK_EQ(st.st_gid, getegid());
	CHECK(st.st_blksize > 0);
	CHECK(st.st_ino != 0);
	/* stat follows the link, lstat does not. */
	CHECK_SYS(stat("sl", &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_SYS(lstat("sl", &lst));
	CHECK(S_ISLNK(lst.st_mode));
	CHECK_EQ(lst.st_size, 1);
	CHECK(lst.st_ino != st.st_ino);
	CHECK_EQ(lst.st_dev, st.st_dev);
	/* lstat of a non-link is stat. */
	CHECK_SYS(lstat("f", &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	/* fstat agrees with stat. */
	fd = CHECK_SYS(open("f", O_RDONLY));
	CHECK_SYS(fstat(fd, &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_EQ(st2.st_dev, st.st_dev);
	CHECK_EQ(st2.st_mode, st.st_mode);
	CHECK_EQ(st2.st_size, 5);
	/* A directory. */
	CHECK_SYS(stat("d", &st2));
	CHECK(S_ISDIR(st2.st_mode));
	CHECK_EQ(st2.st_nlink, 2);

	/* newfstatat: dirfd, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
	int dfd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(fstatat(dfd, "sl", &st2, AT_SYMLINK_NOFOLLOW));
	CHECK_EQ(st2.st_ino, lst.st_ino);
	CHECK_SYS(fstatat(dfd, "sl", &st2, 0));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_SYS(fstatat(fd, "", &st2, AT_EMPTY_PATH));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_SYS(fstatat(AT_FDCWD, "", &st2, AT_EMPTY_PATH));
	CHECK_EQ(st2.st_ino, fs_ino("."));
	CHECK_ERR(fstatat(fd, "", &st2, 0), ENOENT);
	CHECK_ERR(fstatat(dfd, "f", &st2, 0x4000000), EINVAL);
	CHECK_ERR(fstatat(9999, "f", &st2, 0), EBADF);
	CHECK_ERR(fstatat(fd, "x", &st2, 0), ENOTDIR);
	/* An O_PATH fd of the link, with AT_EMPTY_PATH, is the link. */
	int lfd = CHECK_SYS(open("sl", O_PATH | O_NOFOLLOW));
	CHECK_SYS(fstatat(lfd, "", &st2, AT_EMPTY_PATH));
	CHECK(S_ISLNK(st2.st_mode));
	CHECK_SYS(fstat(lfd, &st2));
	CHECK(S_ISLNK(st2.st_mode));
	close(lfd);
	/* Errors. */
	CHECK_ERR(stat("none", &st2), ENOENT);
	CHECK_ERR(stat("f/", &st2), ENOTDIR);
	CHECK_ERR(lstat("sl/", &st2), ENOTDIR);
	CHECK_ERR(stat("", &st2), ENOENT);
	CHECK_ERR(fstat(9999, &st2), EBADF);
	CHECK_ERR(syscall(SYS_stat, "f", (void *)8), EFAULT);

	/* statx: what was asked is there and agrees with stat. */
	struct statx sx;
	CHECK_SYS(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
	CHECK_EQ(sx.stx_mask & STATX_BASIC_STATS, STATX_BASIC_STATS);
	CHECK_EQ(sx.stx_mode, st.st_mode);
	CHECK_EQ(sx.stx_size, 5);
	CHECK_EQ(sx.stx_nlink, 1);
	CHECK_EQ(sx.stx_ino, st.st_ino);
	CHECK_EQ(sx.stx_uid, st.st_uid);
	CHECK_EQ(sx.stx_gid, st.st_gid);
	CHECK_EQ(sx.stx_blocks, st.st_blocks);
	CHECK_EQ(makedev(sx.stx_dev_major, sx.stx_dev_minor), st.st_dev);
	CHECK_EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	CHECK_EQ(sx.stx_mtime.tv_nsec, st.st_mtim.tv_nsec);
	CHECK_SYS(statx(AT_FDCWD, "sl", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
	CHECK(sx.stx_mask & STATX_TYPE);
	CHECK(S_ISLNK(sx.stx_mode));
	CHECK_SYS(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	CHECK_EQ(sx.stx_size, 5);
	CHECK_SYS(statx(dfd, "d", 0, STATX_NLINK | STATX_MODE, &sx));
	CHECK_EQ(sx.stx_nlink, 2);
	CHECK(S_ISDIR(sx.stx_mode));
	CHECK_ERR(statx(AT_FDCWD, "f", 0x4000000, STATX_BASIC_STATS, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
			STATX_BASIC_STATS, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "f", 0, 0x80000000U, &sx), EINVAL);
	CHECK_ERR(statx(AT_FDCWD, "none", 0, STATX_BASIC_STATS, &sx), ENOENT);
	close(fd);
	close(dfd);
}

static void test_chmod_chown(void)
{
	struct stat st;
	fs_put("m", "");
	CHECK_SYS(chmod("m", 0600));
	CHECK_EQ(mode_of("m"), S_IFREG | 0600);
	/* The file type bits of the argument are ignored. */
	CHECK_SYS(chmod("m", S_IFDIR | 0640));
	CHECK_EQ(mode_of("m"), S_IFREG | 0640);
	CHECK_SYS(chmod("m", 07777));
	CHECK_EQ(mode_of("m"), S_IFREG | 07777);
	int fd = CHECK_SYS(open("m", O_RDONLY));
	CHECK_SYS(fchmod(fd, 0711));
	CHECK_EQ(mode_of("m"), S_IFREG | 0711);
	CHECK_SYS(fchmodat(AT_FDCWD, "m", 0644, 0));
	CHECK_EQ(mode_of("m"), S_IFREG | 0644);
	/* chmod of a link changes its target. */
	CHECK_SYS(symlink("m", "ml"));
	CHECK_SYS(chmod("ml", 0604));
	CHECK_EQ(mode_of("m"), S_IFREG | 0604);
	CHECK(S_ISLNK(mode_of("ml")));
	CHECK_ERR(chmod("none", 0644), ENOENT);
	CHECK_ERR(fchmod(9999, 0644), EBADF);
	int pfd = CHECK_SYS(open("m", O_PATH));
	CHECK_ERR(fchmod(pfd, 0644), EBADF);
	CHECK_ERR(fchown(pfd, -1, -1), EBADF);
	close(pfd);

	/* chown to -1/-1 changes nothing; to our own ids, nothing visible. */
	uid_t uid = geteuid();
	gid_t gid = getegid();
	CHECK_SYS(chown("m", -1, -1));
	CHECK_SYS(stat("m", &st));
	CHECK_EQ(st.st_uid, uid);
	CHECK_EQ(st.st_gid, gid);
	CHECK_EQ(st.st_mode, S_IFREG | 0604);
	CHECK_SYS(chown("m", uid, gid));
	CHECK_SYS(fchown(fd, uid, -1));
	CHECK_SYS(fchown(fd, -1, gid));
	CHECK_SYS(lchown("ml", uid, gid));
	CHECK_SYS(fchownat(AT_FDCWD, "ml", uid, gid, AT_SYMLINK_NOFOLLOW));
	CHECK_SYS(fchownat(fd, "", -1, -1, AT_EMPTY_PATH));
	CHECK_ERR(fchownat(AT_FDCWD, "m", uid, gid, 0x1), EINVAL);
	CHECK_ERR(chown("none", uid, gid), ENOENT);
	CHECK_SYS(stat("m", &st));
	CHECK_EQ(st.st_uid, uid);
	CHECK_EQ(st.st_gid, gid);
	/* Root may give the file away, and take it back. */
	if (uid == 0) {
		CHECK_SYS(chown("m", 1234, 5678));
		CHECK_SYS(stat("m", &st));
		CHECK_EQ(st.st_uid, 1234);
		CHECK_EQ(st.st_gid, 5678);
		CHECK_SYS(lchown("ml", 4321, -1));
		CHECK_SYS(lstat("ml", &st));
		CHECK_EQ(st.st_uid, 4321);
		CHECK_SYS(stat("m", &st));
		CHECK_EQ(st.st_uid, 1234);
		CHECK_SYS(fchown(fd, 0, 0));
		CHECK_SYS(stat("m", &st));
		CHECK_EQ(st.st_uid, 0);
		CHECK_EQ(st.st_gid, 0);
	}
	/* Any chown of a non-directory clears set-user-ID, and set-group-ID
	 * with group execute: even to -1/-1, even by root. */
	CHECK_SYS(fchmod(fd, 06755));
	CHECK_EQ(mode_of("m"), S_IFREG | 06755);
	CHECK_SYS(chown("m", -1, -1));
	CHECK_EQ(mode_of("m"), S_IFREG | 0755);
	CHECK_SYS(fchmod(fd, 06745));
	CHECK_SYS(fchown(fd, uid, gid));
	CHECK_EQ(mode_of("m"), S_IFREG | 02745);
	/* Not on a directory. */
	CHECK_SYS(mkdir("sd", 0755));
	CHECK_SYS(chmod("sd", 06755));
	CHECK_SYS(chown("sd", uid, gid));
	CHECK_EQ(mode_of("sd"), S_IFDIR | 06755);
	/* Root writing or truncating keeps them (CAP_FSETID). */
	if (uid == 0) {
		int w = CHECK_SYS(open("m", O_WRONLY));
		CHECK_SYS(fchmod(w, 06755));
		CHECK_EQ(write(w, "x", 1), 1);
		CHECK_EQ(mode_of("m"), S_IFREG | 06755);
		CHECK_SYS(ftruncate(w, 0));
		CHECK_EQ(mode_of("m"), S_IFREG | 06755);
		close(w);
	}
	CHECK_SYS(chmod("m", 0644));
	close(fd);
}

static void get_times(const char *path, struct timespec *at, struct timespec *mt)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		FAIL("lstat %s: %s", path, check_errname(errno));
		return;
	}
	*at = st.st_atim;
	*mt = st.st_mtim;
}

static void test_times(void)
{
	struct timespec ts[2], at, mt, before, after;
	struct stat st;

	fs_put("t", "");
	/* Explicit times read back exactly. */
	ts[0] = (struct timespec){1000000000, 123456789};
	ts[1] = (struct timespec){1100000000, 987654321};
	CHECK_SYS(utimensat(AT_FDCWD, "t", ts, 0));
	get_times("t", &at, &mt);
	CHECK_EQ(at.tv_sec, 1000000000);
	CHECK_EQ(at.tv_nsec, 123456789);
	CHECK_EQ(mt.tv_sec, 1100000000);
	CHECK_EQ(mt.tv_nsec, 987654321);
	/* UTIME_OMIT leaves one alone; UTIME_NOW sets the other to now. */
	clock_gettime(CLOCK_REALTIME, &before);
	ts[0] = (struct timespec){0, UTIME_OMIT};
	ts[1] = (struct timespec){0, UTIME_NOW};
	CHECK_SYS(utimensat(AT_FDCWD, "t", ts, 0));
	clock_gettime(CLOCK_REALTIME, &after);
	get_times("t", &at, &mt);
	CHECK_EQ(at.tv_sec, 1000000000);
	CHECK_EQ(at.tv_nsec, 123456789);
	/* File times come from a coarse clock: allow a second either way. */
	CHECK(mt.tv_sec >= before.tv_sec - 1 && mt.tv_sec <= after.tv_sec + 1);
	/* Both omitted: a successful no-op, which does not even look at
	 * the path. */
	ts[0] = ts[1] = (struct timespec){5, UTIME_OMIT};
	CHECK_SYS(utimensat(AT_FDCWD, "t", ts, 0));
	get_times("t", &at, &mt);
	CHECK_EQ(at.tv_sec, 1000000000);
	CHECK_SYS(utimensat(AT_FDCWD, "none", ts, 0));
	/* NULL times: both now. */
	ts[0] = ts[1] = (struct timespec){2000, 0};
	CHECK_SYS(utimensat(AT_FDCWD, "t", ts, 0));
	clock_gettime(CLOCK_REALTIME, &before);
	CHECK_SYS(utimensat(AT_FDCWD, "t", NULL, 0));
	clock_gettime(CLOCK_REALTIME, &after);
	get_times("t", &at, &mt);
	CHECK(at.tv_sec >= before.tv_sec - 1 && at.tv_sec <= after.tv_sec + 1);
	CHECK(mt.tv_sec >= before.tv_sec - 1 && mt.tv_sec <= after.tv_sec + 1);
	/* Bad nanoseconds. */
	ts[0] = (struct timespec){0, 1000000000};
	ts[1] = (struct timespec){0, 0};
	CHECK_ERR(utimensat(AT_FDCWD, "t", ts, 0), EINVAL);
	ts[0].tv_nsec = -1;
	CHECK_ERR(utimensat(AT_FDCWD, "t", ts, 0), EINVAL);
	ts[0].tv_nsec = 0;
	CHECK_ERR(utimensat(AT_FDCWD, "t", ts, 0x1), EINVAL);
	CHECK_ERR(utimensat(AT_FDCWD, "none", ts, 0), ENOENT);
	/* AT_SYMLINK_NOFOLLOW sets the link's own times. */
	CHECK_SYS(symlink("t", "tl"));
	ts[0] = (struct timespec){3000, 1};
	ts[1] = (struct timespec){4000, 2};
	CHECK_SYS(utimensat(AT_FDCWD, "tl", ts, AT_SYMLINK_NOFOLLOW));
	get_times("tl", &at, &mt);
	CHECK_EQ(mt.tv_sec, 4000);
	get_times("t", &at, &mt);
	CHECK(mt.tv_sec != 4000);
	/* A NULL path with a dirfd is futimens on that fd. */
	int fd = CHECK_SYS(open("t", O_RDWR));
	ts[0] = (struct timespec){5000, 5};
	ts[1] = (struct timespec){6000, 6};
	CHECK_SYS(sys_utimensat(fd, NULL, ts, 0));
	get_times("t", &at, &mt);
	CHECK_EQ(at.tv_sec, 5000);
	CHECK_EQ(mt.tv_sec, 6000);
	CHECK_EQ(mt.tv_nsec, 6);
	CHECK_ERR(sys_utimensat(AT_FDCWD, NULL, ts, 0), EFAULT);
	CHECK_ERR(sys_utimensat(fd, NULL, ts, AT_SYMLINK_NOFOLLOW), EINVAL);
	CHECK_ERR(sys_utimensat(9999, NULL, ts, 0), EBADF);
	/* futimens, and AT_EMPTY_PATH. */
	ts[1] = (struct timespec){7000, 7};
	CHECK_SYS(futimens(fd, ts));
	get_times("t", &at, &mt);
	CHECK_EQ(mt.tv_sec, 7000);
	ts[1] = (struct timespec){7500, 7};
	CHECK_SYS(utimensat(fd, "", ts, AT_EMPTY_PATH));
	get_times("t", &at, &mt);
	CHECK_EQ(mt.tv_sec, 7500);

	/* utimes and futimesat: microseconds. */
	struct timeval tv[2] = {{8000, 1}, {9000, 999999}};
	CHECK_SYS(utimes("t", tv));
	get_times("t", &at, &mt);
	CHECK_EQ(at.tv_sec, 8000);
	CHECK_EQ(at.tv_nsec, 1000);
	CHECK_EQ(mt.tv_sec, 9000);
	CHECK_EQ(mt.tv_nsec, 999999000);
	tv[1].tv_usec = 1000000;
	CHECK_ERR(utimes("t", tv), EINVAL);
	tv[1].tv_usec = -1;
	CHECK_ERR(utimes("t", tv), EINVAL);
	int dfd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	tv[1] = (struct timeval){10000, 10};
	CHECK_SYS(syscall(SYS_futimesat, dfd, "t", tv));
	get_times("t", &at, &mt);
	CHECK_EQ(mt.tv_sec, 10000);
	CHECK_EQ(mt.tv_nsec, 10000);
	/* futimesat with a NULL path works on the fd itself. */
	tv[1] = (struct timeval){11000, 11};
	CHECK_SYS(syscall(SYS_futimesat, fd, NULL, tv));
	get_times("t", &at, &mt);
	CHECK_EQ(mt.tv_sec, 11000);
	CHECK_ERR(syscall(SYS_futimesat, AT_FDCWD, NULL, tv), EFAULT);
	clock_gettime(CLOCK_REALTIME, &before);
	CHECK_SYS(utimes("t", NULL));
	clock_gettime(CLOCK_REALTIME, &after);
	get_times("t", &at, &mt);
	CHECK(mt.tv_sec >= before.tv_sec - 1 && mt.tv_sec <= after.tv_sec + 1);
	/* utime: whole seconds. */
	struct utimbuf ub = {12000, 13000};
	CHECK_SYS(syscall(SYS_utime, "t", &ub));
	get_times("t", &at, &mt);
	CHECK_EQ(at.tv_sec, 12000);
	CHECK_EQ(at.tv_nsec, 0);
	CHECK_EQ(mt.tv_sec, 13000);
	CHECK_EQ(mt.tv_nsec, 0);
	close(dfd);

	/* Changing times, and writing, update ctime; writing updates mtime. */
	ts[0] = ts[1] = (struct timespec){1, 0};
	CHECK_SYS(futimens(fd, ts));
	CHECK_SYS(fstat(fd, &st));
	CHECK(st.st_ctim.tv_sec > 1);
	CHECK_EQ(write(fd, "w", 1), 1);
	CHECK_SYS(fstat(fd, &st));
	CHECK(st.st_mtim.tv_sec > 1);
	close(fd);
}

static void test_truncate(void)
{
	struct stat st;

	fs_put("tr", "0123456789");
	CHECK_SYS(truncate("tr", 4));
	CHECK_SYS(stat("tr", &st));
	CHECK_EQ(st.st_size, 4);
	CHECK_SYS(truncate("tr", 100));
	CHECK_SYS(stat("tr", &st));
	CHECK_EQ(st.st_size, 100);
	CHECK_SYS(symlink("tr", "trl"));
	CHECK_SYS(truncate("trl", 7)); /* follows the link */
	CHECK_SYS(stat("tr", &st));
	CHECK_EQ(st.st_size, 7);
	CHECK_ERR(truncate("tr", -1), EINVAL);
	CHECK_ERR(truncate("none", 0), ENOENT);
	CHECK_SYS(mkdir("trd", 0755));
	CHECK_ERR(truncate("trd", 0), EISDIR);

	int fd = CHECK_SYS(open("tr", O_RDONLY));
	CHECK_ERR(ftruncate(fd, 0), EINVAL); /* not open for writing */
	close(fd);
	fd = CHECK_SYS(open("tr", O_WRONLY));
	CHECK_ERR(ftruncate(fd, -1), EINVAL);
	CHECK_SYS(ftruncate(fd, 2));
	close(fd);
	/* O_APPEND does not forbid ftruncate (only an append-only inode
	 * would). */
	fd = CHECK_SYS(open("tr", O_WRONLY | O_APPEND));
	CHECK_SYS(ftruncate(fd, 1));
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 1);
	close(fd);
	fd = CHECK_SYS(open("trd", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(ftruncate(fd, 0), EINVAL);
	close(fd);
	CHECK_ERR(ftruncate(9999, 0), EBADF);
}

static void test_access(void)
{
	fs_put("a0", "");
	CHECK_SYS(chmod("a0", 0));
	fs_put("ax", "");
	CHECK_SYS(chmod("ax", 0100));
	fs_put("ao", "");
	CHECK_SYS(chmod("ao", 0001));
	CHECK_SYS(mkdir("ad", 0));
	CHECK_SYS(symlink("none", "adangle"));

	CHECK_SYS(access("a0", F_OK));
	CHECK_ERR(access("none", F_OK), ENOENT);
	CHECK_ERR(access("a0/", F_OK), ENOTDIR);
	if (geteuid() == 0) {
		/* Root reads and writes anything, and executes a file only if
		 * some x bit is set; directories are always searchable. */
		CHECK_SYS(access("a0", R_OK));
		CHECK_SYS(access("a0", W_OK));
		CHECK_SYS(access("a0", R_OK | W_OK));
		CHECK_ERR(access("a0", X_OK), EACCES);
		CHECK_ERR(access("a0", R_OK | X_OK), EACCES);
		CHECK_SYS(access("ax", X_OK));
		CHECK_SYS(access("ao", X_OK));
		CHECK_SYS(access("ax", R_OK | W_OK | X_OK));
		CHECK_SYS(access("ad", R_OK | W_OK | X_OK));
		CHECK_SYS(access("ad", X_OK));
	}
	/* faccessat relative to a dirfd. */
	int dfd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(faccessat(dfd, "ax", X_OK, 0));
	CHECK_ERR(syscall(SYS_faccessat, dfd, "none", F_OK), ENOENT);
	/* faccessat2: AT_SYMLINK_NOFOLLOW checks the link itself. */
	CHECK_ERR(sys_faccessat2(dfd, "adangle", F_OK, 0), ENOENT);
	CHECK_SYS(sys_faccessat2(dfd, "adangle", F_OK, AT_SYMLINK_NOFOLLOW));
	CHECK_SYS(sys_faccessat2(dfd, "ax", X_OK, AT_EACCESS));
	CHECK_ERR(sys_faccessat2(dfd, "a0", X_OK, AT_EACCESS), EACCES);
	int fd = CHECK_SYS(open("ax", O_RDONLY));
	CHECK_SYS(sys_faccessat2(fd, "", X_OK, AT_EMPTY_PATH));
	CHECK_ERR(sys_faccessat2(fd, "", X_OK, 0), ENOENT);
	close(fd);
	/* Bad mode or flags. */
	CHECK_ERR(access("ax", 8), EINVAL);
	CHECK_ERR(sys_faccessat2(dfd, "ax", F_OK, 0x1), EINVAL);
	CHECK_ERR(sys_faccessat2(dfd, "ax", 0x10, 0), EINVAL);
	close(dfd);
	CHECK_SYS(rmdir("ad"));
}

static void test_umask(void)
{
	mode_t old = umask(027);
	CHECK_EQ(umask(077), 027);
	CHECK_EQ(umask(0), 077);
	CHECK_EQ(umask(01777), 0);
	CHECK_EQ(umask(027), 0777); /* only the permission bits are kept */
	int fd = CHECK_SYS(open("um", O_WRONLY | O_CREAT, 0666));
	close(fd);
	CHECK_EQ(mode_of("um"), S_IFREG | 0640);
	CHECK_SYS(mkdir("umd", 0777));
	CHECK_EQ(mode_of("umd"), S_IFDIR | 0750);
	/* The mode given is still masked, not added to. */
	fd = CHECK_SYS(open("um2", O_WRONLY | O_CREAT, 0600));
	close(fd);
	CHECK_EQ(mode_of("um2"), S_IFREG | 0600);
	umask(old);
}

static void test_statfs(void)
{
	struct statfs a, b;

	CHECK_SYS(statfs(".", &a));
	CHECK(a.f_bsize > 0);
	CHECK_EQ(a.f_namelen, 255);
	CHECK(a.f_blocks >= a.f_bfree);
	CHECK(a.f_bfree >= a.f_bavail);
	int fd = CHECK_SYS(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(fstatfs(fd, &b));
	CHECK_EQ(a.f_type, b.f_type);
	CHECK_EQ(a.f_bsize, b.f_bsize);
	CHECK_EQ(a.f_namelen, b.f_namelen);
	CHECK(!memcmp(&a.f_fsid, &b.f_fsid, sizeof(a.f_fsid)));
	close(fd);
	/* O_PATH is enough for fstatfs. */
	fd = CHECK_SYS(open(".", O_PATH));
	CHECK_SYS(fstatfs(fd, &b));
	CHECK_EQ(a.f_type, b.f_type);
	close(fd);
	CHECK_ERR(statfs("none", &a), ENOENT);
	CHECK_ERR(fstatfs(9999, &a), EBADF);
}

static void test_xattr(void)
{
	char buf[256];
	ssize_t n;

	fs_put("x", "");
	CHECK_SYS(symlink("x", "xl"));
	CHECK_SYS(mkdir("xd", 0755));
	int r = setxattr("x", "user.test", "value", 5, 0);
	if (r < 0) {
		/* No xattrs here: every call says so. */
		CHECK_EQ(errno, ENOTSUP);
		CHECK_ERR(getxattr("x", "user.test", buf, sizeof(buf)), ENOTSUP);
		CHECK_ERR(removexattr("x", "user.test"), ENOTSUP);
		CHECK_ERR(setxattr("xd", "user.test", "v", 1, 0), ENOTSUP);
		n = listxattr("x", buf, sizeof(buf));
		CHECK(n == 0 || (n < 0 && errno == ENOTSUP));
		return;
	}
	/* Round trip. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(getxattr("x", "user.test", buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "value", 5));
	/* Size query with size 0; ERANGE for a small buffer. */
	CHECK_EQ(getxattr("x", "user.test", NULL, 0), 5);
	CHECK_ERR(getxattr("x", "user.test", buf, 4), ERANGE);
	/* XATTR_CREATE on an existing name, XATTR_REPLACE on a missing one. */
	CHECK_ERR(setxattr("x", "user.test", "v2", 2, XATTR_CREATE), EEXIST);
	CHECK_ERR(setxattr("x", "user.nope", "v2", 2, XATTR_REPLACE), ENODATA);
	CHECK_ERR(getxattr("x", "user.nope", buf, sizeof(buf)), ENODATA);
	CHECK_SYS(setxattr("x", "user.test", "v2", 2, XATTR_REPLACE));
	CHECK_EQ(getxattr("x", "user.test", buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "v2", 2));
	CHECK_SYS(setxattr("x", "user.other", "o", 1, XATTR_CREATE));
	/* Both flags: each applies. */
	CHECK_ERR(setxattr("x", "user.third", "o", 1, XATTR_CREATE | XATTR_REPLACE), ENODATA);
	CHECK_ERR(setxattr("x", "user.test", "o", 1, XATTR_CREATE | XATTR_REPLACE), EEXIST);
	CHECK_ERR(setxattr("x", "user.third", "o", 1, 4), EINVAL);
	/* An empty value. */
	CHECK_SYS(setxattr("x", "user.empty", "", 0, 0));
	CHECK_EQ(getxattr("x", "user.empty", buf, sizeof(buf)), 0);
	/* listxattr: NUL-terminated names, size query, ERANGE. */
	n = listxattr("x", NULL, 0);
	CHECK(n >= (ssize_t)(sizeof("user.test") + sizeof("user.other") + sizeof("user.empty")));
	CHECK_ERR(listxattr("x", buf, 5), ERANGE);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(listxattr("x", buf, sizeof(buf)), n);
	int seen = 0;
	for (ssize_t off = 0; off < n; off += (ssize_t)strlen(buf + off) + 1) {
		if (!strcmp(buf + off, "user.test") || !strcmp(buf + off, "user.other") ||
		    !strcmp(buf + off, "user.empty"))
			seen++;
	}
	CHECK_EQ(seen, 3);
	CHECK_EQ(buf[n - 1], 0);
	/* removexattr. */
	CHECK_SYS(removexattr("x", "user.other"));
	CHECK_ERR(getxattr("x", "user.other", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(removexattr("x", "user.other"), ENODATA);
	CHECK_SYS(removexattr("x", "user.empty"));

	/* Names: longer than 255 is ERANGE, empty is ERANGE, no known
	 * namespace is EOPNOTSUPP, a bare "user." is EINVAL. */
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memcpy(longname, "user.", 5);
	CHECK_ERR(setxattr("x", longname, "v", 1, 0), ERANGE);
	CHECK_ERR(getxattr("x", longname, buf, sizeof(buf)), ERANGE);
	CHECK_ERR(removexattr("x", longname), ERANGE);
	longname[255] = 0; /* exactly 255: fine */
	CHECK_ERR(getxattr("x", longname, buf, sizeof(buf)), ENODATA);
	CHECK_SYS(setxattr("x", longname, "L", 1, 0));
	CHECK_EQ(getxattr("x", longname, buf, sizeof(buf)), 1);
	CHECK_SYS(removexattr("x", longname));
	CHECK_ERR(getxattr("x", "", buf, sizeof(buf)), ERANGE);
	CHECK_ERR(setxattr("x", "nonamespace", "v", 1, 0), EOPNOTSUPP);
	CHECK_ERR(getxattr("x", "nonamespace", buf, sizeof(buf)), EOPNOTSUPP);
	CHECK_ERR(setxattr("x", "user.", "v", 1, 0), EINVAL);

	/* Paths follow links; the l* calls do not, and a link takes no
	 * user.* attributes (EPERM to set, ENODATA to get). */
	CHECK_EQ(getxattr("xl", "user.test", buf, sizeof(buf)), 2);
	CHECK_ERR(lgetxattr("xl", "user.test", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(lsetxattr("xl", "user.test", "v", 1, 0), EPERM);
	CHECK_ERR(lremovexattr("xl", "user.test"), EPERM);
	CHECK_EQ(llistxattr("xl", buf, sizeof(buf)), 0);
	CHECK_EQ(lgetxattr("x", "user.test", buf, sizeof(buf)), 2);
	CHECK_SYS(lsetxattr("x", "user.l", "l", 1, 0));
	CHECK_SYS(lremovexattr("x", "user.l"));
	/* A directory takes them too. */
	CHECK_SYS(setxattr("xd", "user.d", "dir", 3, 0));
	CHECK_EQ(getxattr("xd", "user.d", buf, sizeof(buf)), 3);
	/* A fifo does not. */
	CHECK_SYS(mknod("xf", S_IFIFO | 0644, 0));
	CHECK_ERR(setxattr("xf", "user.f", "v", 1, 0), EPERM);
	CHECK_ERR(getxattr("xf", "user.f", buf, sizeof(buf)), ENODATA);

	/* The f* calls, on any fd but O_PATH. */
	int fd = CHECK_SYS(open("x", O_RDONLY));
	CHECK_SYS(fsetxattr(fd, "user.fd", "FD", 2, 0));
	CHECK_EQ(fgetxattr(fd, "user.fd", buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "FD", 2));
	CHECK_EQ(getxattr("x", "user.fd", buf, sizeof(buf)), 2);
	n = flistxattr(fd, NULL, 0);
	CHECK_EQ(n, listxattr("x", NULL, 0));
	CHECK_SYS(fremovexattr(fd, "user.fd"));
	CHECK_ERR(fgetxattr(fd, "user.fd", buf, sizeof(buf)), ENODATA);
	close(fd);
	fd = CHECK_SYS(open("x", O_PATH));
	CHECK_ERR(fgetxattr(fd, "user.test", buf, sizeof(buf)), EBADF);
	CHECK_ERR(fsetxattr(fd, "user.test", "v", 1, 0), EBADF);
	CHECK_ERR(flistxattr(fd, buf, sizeof(buf)), EBADF);
	close(fd);
	CHECK_ERR(fgetxattr(9999, "user.test", buf, sizeof(buf)), EBADF);
	CHECK_ERR(getxattr("none", "user.test", buf, sizeof(buf)), ENOENT);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_stat();
	test_chmod_chown();
	test_times();
	test_truncate();
	test_access();
	test_umask();
	test_statfs();
	test_xattr();
	fs_cleanup();
	return check_exit();
}
