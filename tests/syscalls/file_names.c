/* Operations on names: mkdir, rmdir, unlink, rename (with renameat2's
 * flags), link, symlink and readlink, mknod; getdents64; the working
 * directory (chdir, fchdir, getcwd). */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "fs_util.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

static long sys_renameat2(int od, const char *o, int nd, const char *n, unsigned flags)
{
	return syscall(SYS_renameat2, od, o, nd, n, flags);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_mode : 0;
}

static nlink_t nlink_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_nlink : 0;
}

static ino_t lino(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* The contents of a small file, or "" if it cannot be read. */
static const char *contents(const char *path)
{
	static char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void test_mkdir_rmdir(void)
{
	mode_t old = umask(022);

	CHECK_SYS(mkdir("d", 0777));
	CHECK_EQ(mode_of("d"), S_IFDIR | 0755);
	CHECK_EQ(nlink_of("d"), 2);
	CHECK_ERR(mkdir("d", 0755), EEXIST);
	CHECK_ERR(mkdir("d/", 0755), EEXIST);
	CHECK_ERR(mkdir(".", 0755), EEXIST);
	CHECK_ERR(mkdir("..", 0755), EEXIST);
	fs_put("file", "x");
	CHECK_ERR(mkdir("file", 0755), EEXIST);
	CHECK_ERR(mkdir("file/sub", 0755), ENOTDIR);
	CHECK_ERR(mkdir("none/sub", 0755), ENOENT);
	CHECK_ERR(mkdir("", 0755), ENOENT);
	/* A name taken by a symlink, even a dangling one, exists. */
	CHECK_SYS(symlink("nowhere", "dangle"));
	CHECK_ERR(mkdir("dangle", 0755), EEXIST);
	CHECK(!fs_exists("nowhere"));
	/* A trailing slash is fine for mkdir. */
	CHECK_SYS(mkdir("d2/", 0700));
	CHECK_EQ(mode_of("d2"), S_IFDIR | 0700);
	/* Subdirectories add to the parent's link count. */
	CHECK_SYS(mkdir("d/s1", 0755));
	CHECK_SYS(mkdir("d/s2", 0755));
	CHECK_EQ(nlink_of("d"), 4);
	/* mkdirat relative to a dirfd; the umask applies, and S_ISVTX is
	 * kept. */
	int dfd = CHECK_SYS(open("d", O_RDONLY | O_DIRECTORY));
	umask(027);
	CHECK_SYS(mkdirat(dfd, "s3", 01777));
	CHECK_EQ(mode_of("d/s3"), S_IFDIR | 01750);
	umask(0);
	CHECK_SYS(mkdirat(dfd, "s4", 0777));
	CHECK_EQ(mode_of("d/s4"), S_IFDIR | 0777);
	umask(022);
	CHECK_ERR(mkdirat(dfd, "s4", 0777), EEXIST);
	CHECK_ERR(mkdirat(9999, "s5", 0777), EBADF);

	/* rmdir. */
	CHECK_ERR(rmdir("d"), ENOTEMPTY);
	CHECK_ERR(rmdir("."), EINVAL);
	CHECK_ERR(rmdir("d/."), EINVAL);
	CHECK_ERR(rmdir("d/s1/.."), ENOTEMPTY);
	CHECK_ERR(rmdir("file"), ENOTDIR);
	CHECK_ERR(rmdir("none"), ENOENT);
	CHECK_ERR(rmdir("file/"), ENOTDIR);
	CHECK_SYS(symlink("d2", "d2link"));
	CHECK_ERR(rmdir("d2link"), ENOTDIR);
	CHECK_ERR(rmdir("d2link/"), ENOTDIR);
	CHECK_SYS(rmdir("d/s1"));
	CHECK_EQ(nlink_of("d"), 5);
	CHECK_SYS(rmdir("d/s2/"));
	CHECK_ERR(rmdir("d/s2"), ENOENT);
	CHECK_EQ(nlink_of("d"), 4);
	/* An open directory can be removed; it then takes no new entries,
	 * and reading it is ENOENT (Linux's iterate_dir on a dead dir). */
	int s3 = CHECK_SYS(openat(dfd, "s3", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(unlinkat(dfd, "s3", AT_REMOVEDIR));
	struct stat st;
	CHECK_SYS(fstat(s3, &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_ERR(openat(s3, "new", O_WRONLY | O_CREAT, 0644), ENOENT);
	CHECK_ERR(mkdirat(s3, "new", 0755), ENOENT);
	char dbuf[256];
	CHECK_ERR(syscall(SYS_getdents64, s3, dbuf, sizeof(dbuf)), ENOENT);
	close(s3);

	/* unlink / unlinkat. */
	CHECK_ERR(unlink("d"), EISDIR);
	CHECK_ERR(unlinkat(AT_FDCWD, "d", 0), EISDIR);
	CHECK_ERR(unlinkat(AT_FDCWD, "file", AT_REMOVEDIR), ENOTDIR);
	CHECK_ERR(unlinkat(AT_FDCWD, "file", 0x1), EINVAL);
	CHECK_ERR(unlink("file/"), ENOTDIR);
	CHECK_ERR(unlink("none"), ENOENT);
	CHECK_ERR(unlink(""), ENOENT);
	CHECK_SYS(unlinkat(dfd, "s4", AT_REMOVEDIR));
	CHECK(!fs_exists("d/s4"));
	/* Unlinking a symlink removes the link, not its target. */
	CHECK_SYS(unlink("d2link"));
	CHECK(fs_exists("d2"));
	/* An open file outlives its name. */
	int fd = CHECK_SYS(open("file", O_RDONLY));
	CHECK_SYS(unlink("file"));
	CHECK(!fs_exists("file"));
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
	CHECK_EQ(c, 'x');
	close(fd);
	close(dfd);
	CHECK_SYS(rmdir("d"));
	CHECK_SYS(rmdir("d2"));
	CHECK_SYS(unlink("dangle"));
	umask(old);
}

static void test_rename(void)
{
	struct stat st;

	CHECK_SYS(mkdir("r", 0755));
	CHECK_SYS(chdir("r"));
	fs_put("a", "A");
	fs_put("b", "B");
	/* Over an existing file: b now has a's contents and inode. */
	ino_t ia = lino("a");
	CHECK_SYS(rename("a", "b"));
	CHECK(!fs_exists("a"));
	CHECK_EQ(lino("b"), ia);
	CHECK(!strcmp(contents("b"), "A"));
	/* To a new name, and to itself. */
	CHECK_SYS(rename("b", "c"));
	CHECK_SYS(rename("c", "c"));
	CHECK(!strcmp(contents("c"), "A"));
	CHECK_ERR(rename("none", "x"), ENOENT);
	CHECK_ERR(rename("c", "none/x"), ENOENT);
	CHECK_ERR(rename("c", ""), ENOENT);

	/* Directories. */
	CHECK_SYS(mkdir("d1", 0755));
	CHECK_SYS(mkdir("d2", 0755));
	CHECK_SYS(mkdir("full", 0755));
	fs_put("full/x", "x");
	fs_put("d1/in", "in");
	ino_t id1 = lino("d1");
	CHECK_SYS(rename("d1", "d2")); /* over an empty directory */
	CHECK(!fs_exists("d1"));
	CHECK_EQ(lino("d2"), id1);
	CHECK(!strcmp(contents("d2/in"), "in"));
	CHECK_ERR(rename("d2", "full"), ENOTEMPTY);
	CHECK_ERR(rename("c", "d2"), EISDIR);
	CHECK_ERR(rename("d2", "c"), ENOTDIR);
	CHECK_ERR(rename("d2", "d2/sub"), EINVAL);
	CHECK_SYS(mkdir("d2/sub", 0755));
	CHECK_ERR(rename("d2", "d2/sub/deeper"), EINVAL);
	CHECK_ERR(rename("d2/sub", "d2/sub/x"), EINVAL);
	CHECK_ERR(rename(".", "x"), EBUSY);
	CHECK_ERR(rename("d2/sub", "."), EBUSY);
	CHECK_ERR(rename("d2/sub", ".."), EBUSY);
	/* Trailing slashes: fine on directories, not on files. */
	CHECK_SYS(rename("d2/sub/", "sub2/"));
	CHECK(S_ISDIR(mode_of("sub2")));
	CHECK_ERR(rename("c/", "c2"), ENOTDIR);
	CHECK_ERR(rename("c", "c2/"), ENOTDIR);
	/* A moved directory's ".." is its new parent, and the link counts
	 * follow. */
	CHECK_EQ(nlink_of("d2"), 2);
	CHECK_SYS(rename("sub2", "d2/moved"));
	CHECK_EQ(nlink_of("d2"), 3);
	CHECK_SYS(stat("d2/moved/..", &st));
	CHECK_EQ(st.st_ino, lino("d2"));

	/* RENAME_NOREPLACE. */
	fs_put("n1", "1");
	fs_put("n2", "2");
	CHECK_ERR(sys_renameat2(AT_FDCWD, "n1", AT_FDCWD, "n2", RENAME_NOREPLACE), EEXIST);
	CHECK(!strcmp(contents("n2"), "2"));
	CHECK_SYS(sys_renameat2(AT_FDCWD, "n1", AT_FDCWD, "n3", RENAME_NOREPLACE));
	CHECK(!fs_exists("n1"));
	CHECK(!strcmp(contents("n3"), "1"));
	CHECK_ERR(sys_renameat2(AT_FDCWD, "n2", AT_FDCWD, "n3",
				RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
	CHECK_ERR(sys_renameat2(AT_FDCWD, "n2", AT_FDCWD, "n3", 1U << 20), EINVAL);

	/* RENAME_EXCHANGE swaps, also a file with a directory in another
	 * directory. */
	ino_t i2 = lino("n2"), i3 = lino("n3");
	CHECK_SYS(sys_renameat2(AT_FDCWD, "n2", AT_FDCWD, "n3", RENAME_EXCHANGE));
	CHECK_EQ(lino("n2"), i3);
	CHECK_EQ(lino("n3"), i2);
	CHECK(!strcmp(contents("n2"), "1"));
	CHECK_ERR(sys_renameat2(AT_FDCWD, "n2", AT_FDCWD, "nope", RENAME_EXCHANGE), ENOENT);
	CHECK(fs_exists("n2"));
	CHECK_SYS(mkdir("xd", 0755));
	CHECK_SYS(mkdir("xd/inner", 0755));
	fs_put("xd/inner/f", "f");
	CHECK_SYS(mkdir("other", 0755));
	fs_put("other/file", "file");
	ino_t idir = lino("xd/inner"), ifile = lino("other/file");
	CHECK_EQ(nlink_of("xd"), 3);
	CHECK_EQ(nlink_of("other"), 2);
	int xfd = CHECK_SYS(open("xd", O_RDONLY | O_DIRECTORY));
	int ofd = CHECK_SYS(open("other", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(sys_renameat2(xfd, "inner", ofd, "file", RENAME_EXCHANGE));
	CHECK_EQ(lino("xd/inner"), ifile);
	CHECK_EQ(lino("other/file"), idir);
	CHECK(S_ISREG(mode_of("xd/inner")));
	CHECK(S_ISDIR(mode_of("other/file")));
	CHECK(!strcmp(contents("other/file/f"), "f"));
	CHECK_EQ(nlink_of("xd"), 2);
	CHECK_EQ(nlink_of("other"), 3);
	CHECK_SYS(stat("other/file/..", &st));
	CHECK_EQ(st.st_ino, lino("other"));
	/* A directory cannot be exchanged with its own ancestor. */
	CHECK_ERR(sys_renameat2(AT_FDCWD, "other", AT_FDCWD, "other/file", RENAME_EXCHANGE),
		  EINVAL);
	close(xfd);
	close(ofd);

	/* Two hard links of one file: success, and nothing happens. */
	fs_put("h1", "h");
	CHECK_SYS(link("h1", "h2"));
	CHECK_SYS(rename("h1", "h2"));
	CHECK(fs_exists("h1"));
	CHECK(fs_exists("h2"));
	CHECK_EQ(nlink_of("h1"), 2);
	CHECK_SYS(chdir(".."));
}

static void test_link(void)
{
	struct stat st;

	CHECK_SYS(mkdir("l", 0755));
	fs_put("l/f", "data");
	CHECK_EQ(nlink_of("l/f"), 1);
	CHECK_SYS(link("l/f", "l/g"));
	CHECK_EQ(nlink_of("l/f"), 2);
	CHECK_EQ(nlink_of("l/g"), 2);
	CHECK_EQ(lino("l/f"), lino("l/g"));
	CHECK_ERR(link("l/f", "l/g"), EEXIST);
	CHECK_ERR(link("l/none", "l/h"), ENOENT);
	CHECK_ERR(link("l", "l2"), EPERM);
	CHECK_ERR(link("l/f", "l/none/h"), ENOENT);
	CHECK_ERR(link("l/f/", "l/h"), ENOTDIR);
	CHECK_ERR(link("l/f", "l/h/"), ENOENT);
	CHECK_SYS(unlink("l/f"));
	CHECK_EQ(nlink_of("l/g"), 1);
	CHECK(!strcmp(contents("l/g"), "data"));

	/* linkat: a symlink itself, or with AT_SYMLINK_FOLLOW its target. */
	CHECK_SYS(symlink("g", "l/sl"));
	CHECK_SYS(linkat(AT_FDCWD, "l/sl", AT_FDCWD, "l/sl2", 0));
	CHECK(S_ISLNK(mode_of("l/sl2")));
	CHECK_EQ(lino("l/sl2"), lino("l/sl"));
	CHECK_SYS(linkat(AT_FDCWD, "l/sl", AT_FDCWD, "l/g2", AT_SYMLINK_FOLLOW));
	CHECK(S_ISREG(mode_of("l/g2")));
	CHECK_EQ(lino("l/g2"), lino("l/g"));
	CHECK_EQ(nlink_of("l/g"), 2);
	CHECK_ERR(linkat(AT_FDCWD, "l/g", AT_FDCWD, "l/g3", 0x1), EINVAL);
	int dfd = CHECK_SYS(open("l", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(linkat(dfd, "g", dfd, "g3", 0));
	CHECK_EQ(nlink_of("l/g"), 3);
	close(dfd);
	CHECK_SYS(lstat("l/g", &st));
	CHECK_EQ(st.st_nlink, 3);

	/* symlink / readlink. */
	char buf[64];
	memset(buf, '#', sizeof(buf));
	CHECK_EQ(readlink("l/sl", buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'g');
	CHECK_EQ(buf[1], '#'); /* no NUL added */
	CHECK_SYS(symlink("a/long/target", "l/long"));
	CHECK_SYS(lstat("l/long", &st));
	CHECK_EQ(st.st_size, 13);
	CHECK_EQ(st.st_mode & S_IFMT, S_IFLNK);
	memset(buf, '#', sizeof(buf));
	CHECK_EQ(readlink("l/long", buf, 6), 6); /* truncated to bufsiz */
	CHECK(!memcmp(buf, "a/long#", 7));
	CHECK_ERR(readlink("l/g", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(readlink("l", buf, sizeof(buf)), EINVAL);
	CHECK_ERR(syscall(SYS_readlink, "l/long", buf, 0), EINVAL);
	CHECK_ERR(syscall(SYS_readlink, "l/long", buf, -1), EINVAL);
	CHECK_ERR(readlink("l/none", buf, sizeof(buf)), ENOENT);
	/* readlink does not follow the final link, only the ones before. */
	CHECK_SYS(symlink("l", "lk"));
	CHECK_EQ(readlink("lk/long", buf, sizeof(buf)), 13);
	dfd = CHECK_SYS(open("l", O_RDONLY | O_DIRECTORY));
	CHECK_EQ(readlinkat(dfd, "long", buf, sizeof(buf)), 13);
	CHECK(!memcmp(buf, "a/long/target", 13));
	/* An O_PATH fd of the link itself, with an empty path. */
	int lfd = CHECK_SYS(openat(dfd, "long", O_PATH | O_NOFOLLOW));
	CHECK_EQ(readlinkat(lfd, "", buf, sizeof(buf)), 13);
	close(lfd);
	CHECK_SYS(symlinkat("../x", dfd, "rel"));
	CHECK_EQ(readlink("l/rel", buf, sizeof(buf)), 4);
	CHECK_ERR(symlinkat("t", dfd, "rel"), EEXIST);
	CHECK_ERR(symlink("", "l/empty"), ENOENT);
	CHECK_ERR(symlink("t", "l/none/x"), ENOENT);
	CHECK_ERR(symlink("t", "l/g"), EEXIST);
	/* A trailing slash: an existing name still exists, a new one is
	 * ENOENT (only mkdir may end in '/'). */
	CHECK_ERR(symlink("t", "l/g/"), EEXIST);
	CHECK_ERR(symlink("t", "l/new/"), ENOENT);
	CHECK_ERR(link("l/g", "l/g2/"), EEXIST);
	CHECK(!fs_exists("l/new"));
	close(dfd);
}

static void test_mknod(void)
{
	mode_t old = umask(022);

	CHECK_SYS(mkdir("m", 0755));
	CHECK_SYS(mknod("m/fifo", S_IFIFO | 0666, 0));
	CHECK_EQ(mode_of("m/fifo"), S_IFIFO | 0644);
	CHECK_SYS(mknod("m/reg", S_IFREG | 0600, 0));
	CHECK_EQ(mode_of("m/reg"), S_IFREG | 0600);
	struct stat st;
	CHECK_SYS(stat("m/reg", &st));
	CHECK_EQ(st.st_size, 0);
	CHECK_SYS(mknod("m/plain", 0640, 0)); /* no type: a regular file */
	CHECK_EQ(mode_of("m/plain"), S_IFREG | 0640);
	int dfd = CHECK_SYS(open("m", O_RDONLY | O_DIRECTORY));
	CHECK_SYS(mknodat(dfd, "fifo2", S_IFIFO | 0600, 0));
	CHECK_EQ(mode_of("m/fifo2"), S_IFIFO | 0600);
	CHECK_ERR(mknodat(dfd, "fifo2", S_IFIFO | 0600, 0), EEXIST);
	CHECK_ERR(mknod("m/dir", S_IFDIR | 0755, 0), EPERM);
	CHECK_ERR(mknod("m/bad", 0170000 | 0644, 0), EINVAL);
	CHECK_ERR(mknod("m/none/x", S_IFIFO | 0644, 0), ENOENT);
	CHECK_ERR(mknod("m/slash/", S_IFIFO | 0644, 0), ENOENT);
	CHECK_ERR(mknod("m/fifo/", S_IFIFO | 0644, 0), EEXIST);
	CHECK(!fs_exists("m/slash"));
	close(dfd);
	umask(old);
}

struct ent {
	char name[32];
	unsigned char type;
	ino_t ino;
	int seen;
};

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Marks the entries of buf[0, n) in want; returns how many were found,
 * or -1 on an unexpected, repeated or mistyped entry. */
static int mark(struct ent *want, int nwant, const char *buf, long n)
{
	int found = 0;
	for (long off = 0; off < n;) {
		const struct linux_dirent64 *d = (const void *)(buf + off);
		int i;
		if (d->d_reclen == 0 || d->d_reclen % 8) {
			FAIL("bad d_reclen %u", d->d_reclen);
			return -1;
		}
		for (i = 0; i < nwant; i++)
			if (!strcmp(want[i].name, d->d_name))
				break;
		if (i == nwant) {
			FAIL("unexpected entry '%s'", d->d_name);
			return -1;
		}
		if (want[i].seen++) {
			FAIL("entry '%s' seen twice", d->d_name);
			return -1;
		}
		if (d->d_type != want[i].type) {
			FAIL("'%s': d_type %u, expected %u", d->d_name, d->d_type, want[i].type);
			return -1;
		}
		if (d->d_ino != want[i].ino) {
			FAIL("'%s': d_ino %llu, expected %llu", d->d_name, d->d_ino,
			     (unsigned long long)want[i].ino);
			return -1;
		}
		found++;
		off += d->d_reclen;
	}
	return found;
}

static void test_getdents(void)
{
	struct ent want[] = {
		{".", DT_DIR, 0, 0},   {"..", DT_DIR, 0, 0},  {"file", DT_REG, 0, 0},
		{"dir", DT_DIR, 0, 0}, {"link", DT_LNK, 0, 0}, {"fifo", DT_FIFO, 0, 0},
		{"a-rather-long-name-of-a-file", DT_REG, 0, 0},
	};
	const int nwant = (int)(sizeof(want) / sizeof(want[0]));
	char buf[4096];
	long n;

	CHECK_SYS(mkdir("g", 0755));
	fs_put("g/file", "f");
	CHECK_SYS(mkdir("g/dir", 0755));
	CHECK_SYS(symlink("file", "g/link"));
	CHECK_SYS(mknod("g/fifo", S_IFIFO | 0644, 0));
	fs_put("g/a-rather-long-name-of-a-file", "");
	want[0].ino = lino("g");
	want[1].ino = lino(".");
	for (int i = 2; i < nwant; i++) {
		char p[64];
		snprintf(p, sizeof(p), "g/%s", want[i].name);
		want[i].ino = lino(p);
	}
	int fd = CHECK_SYS(open("g", O_RDONLY | O_DIRECTORY));

	/* One big buffer: everything at once, then 0 at the end. */
	n = CHECK_SYS(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	CHECK_EQ(mark(want, nwant, buf, n), nwant);
	CHECK_EQ(syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);

	/* Back to the start with lseek, then a buffer that holds just one
	 * entry: one per call. "." needs 24 bytes; the long name 48. */
	for (int i = 0; i < nwant; i++)
		want[i].seen = 0;
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, 23), EINVAL);
	int calls = 0, total = 0;
	for (;;) {
		n = syscall(SYS_getdents64, fd, buf, 48);
		if (n <= 0) {
			CHECK_EQ(n, 0);
			break;
		}
		calls++;
		int got = mark(want, nwant, buf, n);
		if (got < 0)
			break;
		total += got;
		if (calls > 2 * nwant) {
			FAIL("getdents64 does not end");
			break;
		}
	}
	CHECK_EQ(total, nwant);
	/* Short names fit two to a 48-byte buffer. */
	CHECK(calls < nwant);
	CHECK(calls >= 4);

	/* Once more from 0 with a 24-byte buffer: exactly one short entry
	 * per call; the long name does not fit (EINVAL) and needs 48. */
	for (int i = 0; i < nwant; i++)
		want[i].seen = 0;
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	total = 0;
	bool einval = false;
	for (int i = 0; i < 2 * nwant; i++) {
		n = syscall(SYS_getdents64, fd, buf, 24);
		if (n < 0) {
			CHECK_EQ(errno, EINVAL);
			einval = true;
			n = CHECK_SYS(syscall(SYS_getdents64, fd, buf, 48));
			CHECK_EQ(n, 48);
			CHECK(!strcmp(((struct linux_dirent64 *)buf)->d_name, want[nwant - 1].name));
		} else if (n == 0) {
			break;
		} else {
			CHECK_EQ(n, 24);
		}
		if (mark(want, nwant, buf, n) != 1)
			break;
		total++;
	}
	CHECK_EQ(total, nwant);
	CHECK(einval);

	/* Errors. */
	CHECK_ERR(syscall(SYS_getdents64, 9999, buf, sizeof(buf)), EBADF);
	int ffd = CHECK_SYS(open("g/file", O_RDONLY));
	CHECK_ERR(syscall(SYS_getdents64, ffd, buf, sizeof(buf)), ENOTDIR);
	close(ffd);
	close(fd);

	/* An emptied directory lists just "." and "..". */
	CHECK_SYS(mkdir("empty", 0755));
	fd = CHECK_SYS(open("empty", O_RDONLY | O_DIRECTORY));
	struct ent dots[] = {{".", DT_DIR, lino("empty"), 0}, {"..", DT_DIR, lino("."), 0}};
	n = CHECK_SYS(syscall(SYS_getdents64, fd, buf, sizeof(buf)));
	CHECK_EQ(mark(dots, 2, buf, n), 2);
	close(fd);
}

static long raw_getcwd(char *buf, size_t size)
{
	return syscall(SYS_getcwd, buf, size);
}

static void test_cwd(void)
{
	char buf[512], want[512];
	size_t base = strlen(fs_tmpdir);

	CHECK_EQ(raw_getcwd(buf, sizeof(buf)), (long)base + 1);
	CHECK(!strcmp(buf, fs_tmpdir));
	CHECK_ERR(raw_getcwd(buf, base), ERANGE);
	CHECK_ERR(raw_getcwd(buf, 1), ERANGE);
	CHECK_ERR(raw_getcwd(buf, 0), ERANGE);
	CHECK_EQ(raw_getcwd(buf, base + 1), (long)base + 1);

	CHECK_SYS(mkdir("c", 0755));
	CHECK_SYS(mkdir("c/d", 0755));
	CHECK_SYS(chdir("c/d"));
	snprintf(want, sizeof(want), "%s/c/d", fs_tmpdir);
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, want));
	CHECK_SYS(chdir(".."));
	snprintf(want, sizeof(want), "%s/c", fs_tmpdir);
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, want));
	/* A symlink is followed, and getcwd shows where it led. */
	CHECK_SYS(symlink("d", "dl"));
	CHECK_SYS(chdir("dl"));
	snprintf(want, sizeof(want), "%s/c/d", fs_tmpdir);
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, want));
	/* Errors leave the working directory alone. */
	fs_put("file", "");
	CHECK_ERR(chdir("file"), ENOTDIR);
	CHECK_ERR(chdir("none"), ENOENT);
	CHECK_ERR(chdir(""), ENOENT);
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, want));

	/* fchdir: back to the top, and errors. */
	int top = CHECK_SYS(open(fs_tmpdir, O_RDONLY | O_DIRECTORY));
	CHECK_SYS(fchdir(top));
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, fs_tmpdir));
	int ffd = CHECK_SYS(open("c/d/file", O_RDONLY));
	CHECK_ERR(fchdir(ffd), ENOTDIR);
	close(ffd);
	CHECK_ERR(fchdir(9999), EBADF);
	int pfd = CHECK_SYS(open("c/d", O_PATH | O_DIRECTORY));
	CHECK_SYS(fchdir(pfd));
	close(pfd);
	snprintf(want, sizeof(want), "%s/c/d", fs_tmpdir);
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, want));

	/* The working directory follows a rename of an ancestor. */
	CHECK_SYS(renameat(top, "c", top, "renamed"));
	snprintf(want, sizeof(want), "%s/renamed/d", fs_tmpdir);
	CHECK(raw_getcwd(buf, sizeof(buf)) > 0 && !strcmp(buf, want));
	CHECK(fs_exists("file")); /* still there, relative to the cwd */

	/* A removed working directory has no name. */
	CHECK_SYS(mkdir("gone", 0755));
	CHECK_SYS(chdir("gone"));
	CHECK_SYS(unlinkat(top, "renamed/d/gone", AT_REMOVEDIR));
	CHECK_ERR(raw_getcwd(buf, sizeof(buf)), ENOENT);
	struct stat st;
	CHECK_SYS(stat(".", &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_ERR(open("new", O_WRONLY | O_CREAT, 0644), ENOENT);
	CHECK_SYS(fchdir(top));
	CHECK(raw_getcwd(buf, sizeof(buf)) > 0 && !strcmp(buf, fs_tmpdir));
	close(top);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_mkdir_rmdir();
	test_rename();
	test_link();
	test_mknod();
	test_getdents();
	test_cwd();
	fs_cleanup();
	return check_exit();
}
