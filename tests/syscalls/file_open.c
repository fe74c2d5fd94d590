/* open, openat, creat and openat2: creation and truncation flags, what
 * may be opened how, the path walk (symlinks, the 40-link limit, "." and
 * "..", trailing slashes, name length limits), dirfds, openat2's resolve
 * restrictions; then the fd table: dup, dup2, dup3, fcntl's fd commands,
 * close, close_range and RLIMIT_NOFILE. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "fs_util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* The kernel's O_LARGEFILE, which x86-64 Linux sets on every open (the
 * C library's O_LARGEFILE is 0 there). */
#define K_O_LARGEFILE 0100000

/* Linux answers EAGAIN to a ".." lookup under RESOLVE_BENEATH or
 * RESOLVE_IN_ROOT when any rename or mount happened on the machine during
 * it (openat2(2) says: retry), so a busy host makes it fail natively. */
static long sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	long r;
	int tries = 0;

	do
		r = syscall(SYS_openat2, dirfd, path, how, size);
	while (r < 0 && errno == EAGAIN && !(how->resolve & RESOLVE_CACHED) && ++tries < 1000);
	return r;
}

static int oa2(int dirfd, const char *path, unsigned long long flags,
	       unsigned long long resolve)
{
	struct open_how how = {.flags = flags, .resolve = resolve};
	return (int)sys_openat2(dirfd, path, &how, sizeof(how));
}

static long sys_close_range(unsigned first, unsigned last, unsigned flags)
{
	return syscall(SYS_close_range, first, last, flags);
}

/* The file behind fd is the one at path. */
static int same_file(int fd, const char *path)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
		return 0;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static off_t fd_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

static void test_create_flags(void)
{
	char buf[32];
	int fd, fd2;

	/* O_CREAT | O_EXCL creates once, then EEXIST. */
	fd = CHECK_SYS(open("f", O_WRONLY | O_CREAT | O_EXCL, 0640));
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_EQ(fd_size(fd), 10);
	close(fd);
	CHECK_ERR(open("f", O_WRONLY | O_CREAT | O_EXCL, 0640), EEXIST);
	CHECK_ERR(open("f", O_RDONLY | O_CREAT | O_EXCL, 0640), EEXIST);
	/* O_CREAT alone opens what is there, untouched. */
	fd = CHECK_SYS(open("f", O_RDONLY | O_CREAT, 0600));
	CHECK_EQ(fd_size(fd), 10);
	close(fd);
	struct stat st;
	CHECK_SYS(stat("f", &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0640);

	/* O_TRUNC empties an existing file. */
	fd = CHECK_SYS(open("f", O_RDWR | O_TRUNC));
	CHECK_EQ(fd_size(fd), 0);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);

	/* creat is O_CREAT | O_WRONLY | O_TRUNC. */
	fs_put("c", "old contents");
	fd = CHECK_SYS(creat("c", 0600));
	CHECK_EQ(fd_size(fd), 0);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	CHECK_ERR(read(fd, buf, 1), EBADF);
	close(fd);
	fd = CHECK_SYS(creat("c2", 0600));
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_mode, S_IFREG | 0600);
	close(fd);

	/* O_APPEND: every write goes to the end, wherever the offset was. */
	fs_put("app", "abc");
	fd = CHECK_SYS(open("app", O_RDWR | O_APPEND));
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	CHECK_EQ(write(fd, "de", 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	CHECK_EQ(lseek(fd, 1, SEEK_SET), 1);
	CHECK_EQ(write(fd, "fg", 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 7);
	/* Linux appends even for pwrite on an O_APPEND file. */
	CHECK_EQ(pwrite(fd, "h", 1, 0), 1);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 8);
	CHECK(!memcmp(buf, "abcdefgh", 8));
	/* Another description without O_APPEND writes where it is. */
	fd2 = CHECK_SYS(open("app", O_WRONLY));
	CHECK_EQ(write(fd2, "X", 1), 1);
	close(fd2);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 8);
	CHECK(!memcmp(buf, "Xbcdefgh", 8));
	close(fd);

	/* The access mode is what F_GETFL reports, with O_LARGEFILE. */
	fd = CHECK_SYS(open("app", O_RDONLY));
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDONLY | K_O_LARGEFILE);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	close(fd);
	fd = CHECK_SYS(open("app", O_WRONLY | O_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFL), O_WRONLY | K_O_LARGEFILE);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(read(fd, buf, 1), EBADF);
	close(fd);
}

static void test_types(void)
{
	char buf[8];
	struct stat st;
	int fd;

	CHECK_SYS(mkdir("dir", 0755));
	fs_put("file", "data");
	/* O_DIRECTORY on a file. */
	CHECK_ERR(open("file", O_RDONLY | O_DIRECTORY), ENOTDIR);
	fd = CHECK_SYS(open("dir", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(read(fd, buf, sizeof(buf)), EISDIR);
	close(fd);
	/* Directories cannot be opened for writing, nor created over. */
	CHECK_ERR(open("dir", O_WRONLY), EISDIR);
	CHECK_ERR(open("dir", O_RDWR), EISDIR);
	CHECK_ERR(open("dir", O_RDONLY | O_TRUNC), EISDIR);
	CHECK_ERR(open("dir", O_RDONLY | O_CREAT, 0644), EISDIR);
	CHECK_ERR(open("dir", O_WRONLY | O_CREAT, 0644), EISDIR);
	CHECK_ERR(open("dir", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	CHECK_ERR(open(".", O_RDONLY | O_CREAT, 0644), EISDIR);

	/* Symlinks: O_NOFOLLOW refuses a final one. */
	CHECK_SYS(symlink("file", "lnk"));
	CHECK_ERR(open("lnk", O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK_ERR(open("lnk", O_RDONLY | O_NOFOLLOW | O_CREAT, 0644), ELOOP);
	CHECK_ERR(open("lnk", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	fd = CHECK_SYS(open("lnk", O_RDONLY));
	CHECK(same_file(fd, "file"));
	close(fd);
	/* ... but not one in the middle of the path. */
	CHECK_SYS(symlink("dir", "dlnk"));
	fd = CHECK_SYS(open("dlnk/new", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644));
	close(fd);
	CHECK(fs_exists("dir/new"));

	/* O_PATH: a handle on the name; fstat works, I/O does not. */
	fd = CHECK_SYS(open("file", O_PATH));
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 4);
	CHECK_ERR(read(fd, buf, 1), EBADF);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	CHECK_ERR(fchmod(fd, 0600), EBADF);
	CHECK(fcntl(fd, F_GETFL) & O_PATH);
	close(fd);
	/* O_PATH | O_NOFOLLOW opens the link itself. */
	fd = CHECK_SYS(open("lnk", O_PATH | O_NOFOLLOW));
	CHECK_SYS(fstatat(fd, "", &st, AT_EMPTY_PATH));
	CHECK(S_ISLNK(st.st_mode));
	close(fd);
	/* An O_PATH directory works as a dirfd. */
	fd = CHECK_SYS(open("dir", O_PATH | O_DIRECTORY));
	CHECK_SYS(fstatat(fd, "new", &st, 0));
	close(fd);

	/* O_CREAT through a dangling symlink creates its target. */
	CHECK_SYS(symlink("target", "dangling"));
	CHECK_ERR(open("dangling", O_RDONLY), ENOENT);
	CHECK_ERR(open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0600), EEXIST);
	fd = CHECK_SYS(open("dangling", O_WRONLY | O_CREAT, 0600));
	close(fd);
	CHECK_SYS(lstat("target", &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK(same_file(fd = open("dangling", O_RDONLY), "target"));
	close(fd);
	/* Also when the target is absolute and a chain of links. */
	char abs[128];
	snprintf(abs, sizeof(abs), "%s/dir/abs-target", fs_tmpdir);
	CHECK_SYS(symlink(abs, "dangling-abs"));
	CHECK_SYS(symlink("dangling-abs", "dangling2"));
	fd = CHECK_SYS(open("dangling2", O_WRONLY | O_CREAT, 0600));
	close(fd);
	CHECK(fs_exists("dir/abs-target"));
	/* A dangling link to a missing directory. */
	CHECK_SYS(symlink("nodir/x", "dangling3"));
	CHECK_ERR(open("dangling3", O_WRONLY | O_CREAT, 0600), ENOENT);

	/* A trailing slash names a directory. */
	CHECK_ERR(open("file/", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("lnk/", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("newfile/", O_WRONLY | O_CREAT, 0644), EISDIR);
	CHECK(!fs_exists("newfile"));
	fd = CHECK_SYS(open("dir/", O_RDONLY));
	close(fd);
	fd = CHECK_SYS(open("dlnk/", O_RDONLY));
	CHECK(same_file(fd, "dir"));
	close(fd);
	fd = CHECK_SYS(open("dir//", O_RDONLY | O_DIRECTORY));
	close(fd);
}

static void test_walk(void)
{
	char name[64], target[64];
	struct stat st, st2;
	int fd;

	CHECK_SYS(mkdir("w", 0755));
	CHECK_SYS(mkdir("w/sub", 0755));
	fs_put("w/f", "x");

	/* Symlink loops. */
	CHECK_SYS(symlink("loop1", "w/loop2"));
	CHECK_SYS(symlink("loop2", "w/loop1"));
	CHECK_SYS(symlink("self", "w/self"));
	CHECK_ERR(open("w/loop1", O_RDONLY), ELOOP);
	CHECK_ERR(open("w/self", O_RDONLY), ELOOP);
	CHECK_ERR(open("w/self/x", O_RDONLY), ELOOP);
	CHECK_ERR(open("w/loop1", O_WRONLY | O_CREAT, 0644), ELOOP);
	CHECK_ERR(stat("w/loop1", &st), ELOOP);
	CHECK_SYS(lstat("w/loop1", &st));

	/* A chain of 40 links resolves; 41 is one too many. l0 -> f, and
	 * lN -> l(N-1). */
	CHECK_SYS(symlink("f", "w/l0"));
	for (int i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "w/l%d", i);
		snprintf(target, sizeof(target), "l%d", i - 1);
		CHECK_SYS(symlink(target, name));
	}
	fd = CHECK_SYS(open("w/l39", O_RDONLY));
	CHECK(same_file(fd, "w/f"));
	close(fd);
	CHECK_ERR(open("w/l40", O_RDONLY), ELOOP);
	CHECK_SYS(stat("w/l39", &st));
	CHECK_ERR(stat("w/l40", &st), ELOOP);
	/* The count is per walk: links in the middle count too. 39 links
	 * to a directory, then one more at the end: 40. */
	CHECK_SYS(symlink("sub", "w/d0"));
	for (int i = 1; i <= 39; i++) {
		snprintf(name, sizeof(name), "w/d%d", i);
		snprintf(target, sizeof(target), "d%d", i - 1);
		CHECK_SYS(symlink(target, name));
	}
	CHECK_SYS(symlink("../f", "w/sub/up"));
	fd = CHECK_SYS(open("w/d38/up", O_RDONLY));
	CHECK(same_file(fd, "w/f"));
	close(fd);
	CHECK_ERR(open("w/d39/up", O_RDONLY), ELOOP);
	fd = CHECK_SYS(open("w/d39/up", O_RDONLY | O_PATH | O_NOFOLLOW));
	close(fd);

	/* Name length limits: a 255-byte component is fine, 256 is not. */
	char comp[300];
	memset(comp, 'n', 255);
	comp[255] = 0;
	fd = CHECK_SYS(open(comp, O_WRONLY | O_CREAT, 0644));
	close(fd);
	CHECK_SYS(unlink(comp));
	memset(comp, 'n', 256);
	comp[256] = 0;
	CHECK_ERR(open(comp, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
	CHECK_ERR(open(comp, O_RDONLY), ENAMETOOLONG);
	CHECK_ERR(mkdir(comp, 0755), ENAMETOOLONG);
	char mid[320];
	snprintf(mid, sizeof(mid), "%s/x", comp);
	CHECK_ERR(open(mid, O_RDONLY), ENAMETOOLONG);
	/* A path of 4095 bytes (4096 with its NUL) is fine; 4096 is not. */
	static char longp[8192];
	size_t n = 0;
	while (n < 4095 - 3)
		longp[n++] = '.', longp[n++] = '/';
	strcpy(longp + n, "w/f");
	CHECK_EQ(strlen(longp), 4095);
	fd = CHECK_SYS(open(longp, O_RDONLY));
	close(fd);
	memmove(longp + 1, longp, strlen(longp) + 1);
	longp[0] = '/';
	longp[1] = '.';
	CHECK_EQ(strlen(longp), 4096);
	CHECK_ERR(open(longp, O_RDONLY), ENAMETOOLONG);
	CHECK_ERR(stat(longp, &st), ENAMETOOLONG);

	/* A missing or non-directory component in the middle. */
	CHECK_ERR(open("w/nope/f", O_RDONLY), ENOENT);
	CHECK_ERR(open("w/nope/f", O_WRONLY | O_CREAT, 0644), ENOENT);
	CHECK_ERR(open("w/f/x", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("w/f/x", O_WRONLY | O_CREAT, 0644), ENOTDIR);
	CHECK_ERR(open("w/f/..", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("w/f/.", O_RDONLY), ENOTDIR);
	CHECK_ERR(open("", O_RDONLY), ENOENT);
	CHECK_ERR(open("", O_WRONLY | O_CREAT, 0644), ENOENT);

	/* "." and "..". */
	fd = CHECK_SYS(open("w/sub/../f", O_RDONLY));
	CHECK(same_file(fd, "w/f"));
	close(fd);
	fd = CHECK_SYS(open("w/./sub/./.", O_RDONLY | O_DIRECTORY));
	CHECK(same_file(fd, "w/sub"));
	close(fd);
	fd = CHECK_SYS(open("w/sub/..", O_RDONLY | O_DIRECTORY));
	CHECK(same_file(fd, "w"));
	close(fd);
	/* ".." at the root is the root. */
	CHECK_SYS(stat("/", &st));
	CHECK_SYS(stat("/../..", &st2));
	CHECK_EQ(st.st_ino, st2.st_ino);
	CHECK_EQ(st.st_dev, st2.st_dev);
	snprintf(mid, sizeof(mid), "/../..%s/w/f", fs_tmpdir);
	fd = CHECK_SYS(open(mid, O_RDONLY));
	CHECK(same_file(fd, "w/f"));
	close(fd);
	/* ".." from a symlinked directory goes up from where the link led. */
	CHECK_SYS(symlink("w/sub", "tosub"));
	CHECK_SYS(mkdir("w/sub/deeper", 0755));
	fd = CHECK_SYS(open("tosub/deeper/..", O_RDONLY));
	CHECK(same_file(fd, "w/sub"));
	close(fd);
}

static void test_dirfd(void)
{
	struct stat st;
	int dfd, fd, ffd;

	CHECK_SYS(mkdir("at", 0755));
	dfd = CHECK_SYS(open("at", O_RDONLY | O_DIRECTORY));
	fd = CHECK_SYS(openat(dfd, "g", O_WRONLY | O_CREAT, 0644));
	close(fd);
	CHECK(fs_exists("at/g"));
	CHECK(!fs_exists("g"));
	fd = CHECK_SYS(openat(dfd, "../at/g", O_RDONLY));
	CHECK(same_file(fd, "at/g"));
	close(fd);
	/* AT_FDCWD is the working directory. */
	fd = CHECK_SYS(openat(AT_FDCWD, "at/g", O_RDONLY));
	CHECK(same_file(fd, "at/g"));
	close(fd);
	/* An absolute path ignores dirfd, even a bad one. */
	char abs[128];
	snprintf(abs, sizeof(abs), "%s/at/g", fs_tmpdir);
	fd = CHECK_SYS(openat(9999, abs, O_RDONLY));
	close(fd);
	/* A relative path needs a good directory fd. */
	CHECK_ERR(openat(9999, "g", O_RDONLY), EBADF);
	CHECK_ERR(openat(-5, "g", O_RDONLY), EBADF);
	ffd = CHECK_SYS(openat(dfd, "g", O_RDONLY));
	CHECK_ERR(openat(ffd, "x", O_RDONLY), ENOTDIR);
	CHECK_ERR(openat(ffd, "x", O_WRONLY | O_CREAT, 0644), ENOTDIR);
	CHECK_ERR(fstatat(ffd, "x", &st, 0), ENOTDIR);
	close(ffd);
	/* The dirfd stays attached to its directory through a rename. */
	CHECK_SYS(rename("at", "at2"));
	fd = CHECK_SYS(openat(dfd, "g", O_RDONLY));
	CHECK(same_file(fd, "at2/g"));
	close(fd);
	CHECK_SYS(rename("at2", "at"));
	close(dfd);
}

static void test_openat2(void)
{
	struct open_how how;
	struct stat st, st2;
	int dfd, fd;

	CHECK_SYS(mkdir("root", 0755));
	CHECK_SYS(mkdir("root/sub", 0755));
	fs_put("root/in", "in");
	fs_put("out", "out");
	fs_put("root/sub/out", "decoy");
	CHECK_SYS(symlink("../out", "root/up"));
	CHECK_SYS(symlink("/out", "root/absl"));
	CHECK_SYS(symlink("in", "root/rel"));
	CHECK_SYS(symlink("sub/../in", "root/relup"));
	dfd = CHECK_SYS(open("root", O_RDONLY | O_DIRECTORY));

	/* Plain openat2 behaves as openat. */
	fd = CHECK_SYS(oa2(dfd, "in", O_RDONLY, 0));
	CHECK(same_file(fd, "root/in"));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, "up", O_RDONLY, 0));
	CHECK(same_file(fd, "out"));
	close(fd);

	/* RESOLVE_BENEATH: nothing may leave the starting directory. */
	CHECK_ERR(oa2(dfd, "../out", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(oa2(dfd, "sub/../../out", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(oa2(dfd, "up", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(oa2(dfd, "absl", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	char abs[128];
	snprintf(abs, sizeof(abs), "%s/root/in", fs_tmpdir);
	CHECK_ERR(oa2(dfd, abs, O_RDONLY, RESOLVE_BENEATH), EXDEV);
	CHECK_ERR(oa2(dfd, "..", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	fd = CHECK_SYS(oa2(dfd, "sub/../in", O_RDONLY, RESOLVE_BENEATH));
	CHECK(same_file(fd, "root/in"));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, "rel", O_RDONLY, RESOLVE_BENEATH));
	CHECK(same_file(fd, "root/in"));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, "relup", O_RDONLY, RESOLVE_BENEATH));
	CHECK(same_file(fd, "root/in"));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, ".", O_RDONLY, RESOLVE_BENEATH));
	CHECK(same_file(fd, "root"));
	close(fd);
	/* Creating beneath. */
	fd = CHECK_SYS(oa2(dfd, "sub/made", O_WRONLY | O_CREAT, RESOLVE_BENEATH));
	close(fd);
	CHECK(fs_exists("root/sub/made"));
	CHECK_ERR(oa2(dfd, "../made", O_WRONLY | O_CREAT, RESOLVE_BENEATH), EXDEV);
	CHECK(!fs_exists("made"));

	/* RESOLVE_IN_ROOT: ".." stops at the starting directory, and
	 * absolute paths and links start there. */
	fd = CHECK_SYS(oa2(dfd, "../../in", O_RDONLY, RESOLVE_IN_ROOT));
	CHECK(same_file(fd, "root/in"));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, "/in", O_RDONLY, RESOLVE_IN_ROOT));
	CHECK(same_file(fd, "root/in"));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, "..", O_RDONLY, RESOLVE_IN_ROOT));
	CHECK(same_file(fd, "root"));
	close(fd);
	/* "../out" from root/ clamps to root/out, which does not exist. */
	CHECK_ERR(oa2(dfd, "up", O_RDONLY, RESOLVE_IN_ROOT), ENOENT);
	/* "/out" is root/out too; root/sub/out is reachable as /sub/out. */
	CHECK_ERR(oa2(dfd, "absl", O_RDONLY, RESOLVE_IN_ROOT), ENOENT);
	fd = CHECK_SYS(oa2(dfd, "sub/../../sub/out", O_RDONLY, RESOLVE_IN_ROOT));
	CHECK(same_file(fd, "root/sub/out"));
	close(fd);

	/* RESOLVE_NO_SYMLINKS: any link on the way is ELOOP. */
	CHECK_ERR(oa2(dfd, "rel", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	CHECK_SYS(symlink("sub", "root/sublink"));
	CHECK_ERR(oa2(dfd, "sublink/out", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	fd = CHECK_SYS(oa2(dfd, "sub/out", O_RDONLY, RESOLVE_NO_SYMLINKS));
	close(fd);
	/* O_PATH | O_NOFOLLOW of the link itself is not following it. */
	fd = CHECK_SYS(oa2(dfd, "rel", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS));
	close(fd);

	/* RESOLVE_NO_XDEV: fine within one filesystem... */
	fd = CHECK_SYS(oa2(dfd, "sub/../in", O_RDONLY, RESOLVE_NO_XDEV));
	close(fd);
	fd = CHECK_SYS(oa2(dfd, "..", O_RDONLY, RESOLVE_NO_XDEV));
	close(fd);
	/* ... and EXDEV on crossing into another mount, where one exists. */
	if (stat("/", &st) == 0 && stat("/proc", &st2) == 0 && st.st_dev != st2.st_dev) {
		CHECK_ERR(oa2(AT_FDCWD, "/proc", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
		int rfd = CHECK_SYS(open("/", O_RDONLY | O_DIRECTORY));
		CHECK_ERR(oa2(rfd, "proc", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
		close(rfd);
	}

	/* Argument checks. */
	CHECK_ERR(oa2(dfd, "in", O_RDONLY | (1ULL << 40), 0), EINVAL);
	CHECK_ERR(oa2(dfd, "in", O_RDONLY, 0x80), EINVAL);
	CHECK_ERR(oa2(dfd, "in", O_RDONLY, 1ULL << 40), EINVAL);
	CHECK_ERR(oa2(dfd, "in", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT), EINVAL);
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY;
	how.mode = 0644; /* mode without O_CREAT */
	CHECK_ERR(sys_openat2(dfd, "in", &how, sizeof(how)), EINVAL);
	how.flags = O_WRONLY | O_CREAT;
	how.mode = 010000; /* beyond 07777 */
	CHECK_ERR(sys_openat2(dfd, "in", &how, sizeof(how)), EINVAL);
	how.mode = 0;
	how.flags = O_RDONLY;
	CHECK_ERR(sys_openat2(dfd, "in", &how, sizeof(how) - 1), EINVAL);
	CHECK_ERR(sys_openat2(dfd, "in", &how, 0), EINVAL);
	/* A larger struct is fine if the extra bytes are zero. */
	struct {
		struct open_how how;
		unsigned long long extra;
	} big = {.how = {.flags = O_RDONLY}};
	fd = CHECK_SYS(sys_openat2(dfd, "in", &big.how, sizeof(big)));
	close(fd);
	big.extra = 1;
	CHECK_ERR(sys_openat2(dfd, "in", &big.how, sizeof(big)), E2BIG);
	/* openat2 does not silently drop unknown open flags as open does. */
	fd = CHECK_SYS(open("root/in", O_RDONLY | (1 << 30)));
	close(fd);
	CHECK_ERR(oa2(dfd, "in", O_RDONLY | (1 << 30), 0), EINVAL);
	close(dfd);
}

static void test_dup(void)
{
	int fd, d, r;

	fs_put("dupf", "0123456789");
	fd = CHECK_SYS(open("dupf", O_RDWR));
	/* dup takes the lowest free fd and shares the description. */
	d = CHECK_SYS(dup(fd));
	CHECK(d > fd);
	CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
	CHECK_EQ(lseek(d, 0, SEEK_CUR), 4);
	CHECK_EQ(fcntl(d, F_GETFD), 0);
	close(d);
	CHECK_ERR(dup(9999), EBADF);
	CHECK_ERR(dup(-1), EBADF);

	/* dup2: to a chosen fd, replacing it; the same fd is a no-op. */
	int other = CHECK_SYS(open("dupf", O_RDONLY));
	CHECK_EQ(dup2(fd, other), other);
	CHECK_EQ(lseek(other, 0, SEEK_CUR), 4);
	CHECK_EQ(fcntl(other, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_EQ(dup2(fd, fd), fd);
	CHECK_ERR(dup2(9999, 9999), EBADF);
	CHECK_ERR(dup2(fd, -1), EBADF);
	CHECK_EQ(dup2(fd, 200), 200);
	CHECK(fd_open(200));
	close(200);
	close(other);

	/* dup3: same fd is EINVAL, only O_CLOEXEC is allowed. */
	CHECK_ERR(dup3(fd, fd, 0), EINVAL);
	CHECK_ERR(dup3(fd, 201, O_NONBLOCK), EINVAL);
	CHECK_ERR(dup3(fd, 201, ~O_CLOEXEC), EINVAL);
	CHECK_ERR(dup3(9999, 201, 0), EBADF);
	CHECK_EQ(dup3(fd, 201, O_CLOEXEC), 201);
	CHECK_EQ(fcntl(201, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(dup3(fd, 201, 0), 201);
	CHECK_EQ(fcntl(201, F_GETFD), 0);
	close(201);

	/* fcntl: F_DUPFD takes the lowest free fd at or above the argument. */
	d = CHECK_SYS(fcntl(fd, F_DUPFD, 100));
	CHECK_EQ(d, 100);
	r = CHECK_SYS(fcntl(fd, F_DUPFD, 100));
	CHECK_EQ(r, 101);
	CHECK_EQ(fcntl(r, F_GETFD), 0);
	close(r);
	r = CHECK_SYS(fcntl(fd, F_DUPFD_CLOEXEC, 100));
	CHECK_EQ(r, 101);
	CHECK_EQ(fcntl(r, F_GETFD), FD_CLOEXEC);
	close(r);
	close(d);
	CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL);
	/* F_GETFD / F_SETFD. */
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_SYS(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_SYS(fcntl(fd, F_SETFD, 0));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	/* F_GETFL / F_SETFL: O_APPEND and O_NONBLOCK round trip; the
	 * access mode cannot change. */
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | K_O_LARGEFILE);
	CHECK_SYS(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | O_APPEND | O_NONBLOCK | K_O_LARGEFILE);
	/* The flag is the description's: a dup sees it. */
	d = CHECK_SYS(dup(fd));
	CHECK_EQ(fcntl(d, F_GETFL), O_RDWR | O_APPEND | O_NONBLOCK | K_O_LARGEFILE);
	CHECK_EQ(write(d, "A", 1), 1);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
	close(d);
	CHECK_SYS(fcntl(fd, F_SETFL, O_WRONLY));
	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | K_O_LARGEFILE);
	CHECK_ERR(fcntl(9999, F_GETFL), EBADF);
	CHECK_ERR(fcntl(fd, 12345), EINVAL);
	close(fd);
}

static void test_close(void)
{
	int fds[6];

	CHECK_ERR(close(-1), EBADF);
	CHECK_ERR(close(9999), EBADF);
	int fd = CHECK_SYS(open("dupf", O_RDONLY));
	CHECK_SYS(close(fd));
	CHECK_ERR(close(fd), EBADF);

	/* close_range closes [first, last] and leaves the rest. */
	for (int i = 0; i < 6; i++)
		fds[i] = CHECK_SYS(fcntl(0, F_DUPFD, 300 + i));
	CHECK_EQ(fds[0], 300);
	CHECK_SYS(sys_close_range(301, 302, 0));
	CHECK(fd_open(300));
	CHECK(!fd_open(301));
	CHECK(!fd_open(302));
	CHECK(fd_open(303));
	/* CLOSE_RANGE_CLOEXEC marks instead of closing. */
	CHECK_SYS(sys_close_range(303, 304, CLOSE_RANGE_CLOEXEC));
	CHECK_EQ(fcntl(303, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(304, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(305, F_GETFD), 0);
	/* Gaps and an open-ended range are fine. */
	CHECK_SYS(sys_close_range(300, ~0U, 0));
	for (int i = 0; i < 6; i++)
		CHECK(!fd_open(300 + i));
	CHECK_ERR(sys_close_range(10, 5, 0), EINVAL);
	CHECK_ERR(sys_close_range(300, 301, 1U << 10), EINVAL);
	CHECK_SYS(sys_close_range(5000, 6000, 0));
	CHECK(fd_open(0) && fd_open(1) && fd_open(2));
}

static void test_nofile(void)
{
	struct rlimit old, rl;
	int fds[64], n = 0, fd;

	CHECK_SYS(getrlimit(RLIMIT_NOFILE, &old));
	rl = old;
	rl.rlim_cur = 16;
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &rl));
	for (;;) {
		fd = open("dupf", O_RDONLY);
		if (fd < 0)
			break;
		if (n == 64) {
			close(fd);
			break;
		}
		fds[n++] = fd;
	}
	CHECK_EQ(fd, -1);
	CHECK_EQ(errno, EMFILE);
	CHECK(n > 0 && fds[n - 1] == 15);
	CHECK_ERR(dup(0), EMFILE);
	CHECK_ERR(fcntl(0, F_DUPFD, 0), EMFILE);
	CHECK_ERR(fcntl(0, F_DUPFD, 16), EINVAL);
	CHECK_ERR(dup2(0, 16), EBADF);
	CHECK_ERR(dup3(0, 16, 0), EBADF);
	CHECK_ERR(creat("more", 0644), EMFILE);
	CHECK(!fs_exists("more"));
	/* Freeing one makes room for exactly one. */
	close(fds[--n]);
	fd = CHECK_SYS(dup(0));
	CHECK_EQ(fd, 15);
	close(fd);
	CHECK_EQ(dup2(0, 15), 15);
	close(15);
	while (n)
		close(fds[--n]);
	CHECK_SYS(setrlimit(RLIMIT_NOFILE, &old));
	fd = CHECK_SYS(fcntl(0, F_DUPFD, 16));
	close(fd);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_create_flags();
	test_types();
	test_walk();
	test_dirfd();
	test_openat2();
	test_dup();
	test_close();
	test_nofile();
	fs_cleanup();
	return check_exit();
}
