/* /dev: the memory devices' exact behaviour (null, zero, full, random,
 * urandom), their nodes, the links into /proc/self/fd, /dev/shm and
 * /dev/tty. Only absolute /dev paths are used. */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"

static char buf[65536];

static bool all(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

static void check_node(const char *path, unsigned maj, unsigned min)
{
	struct stat st;

	if (CHECK_SYS(stat(path, &st)) < 0)
		return;
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0666);
	CHECK_EQ(major(st.st_rdev), maj);
	CHECK_EQ(minor(st.st_rdev), min);
}

static void check_null(void)
{
	int fd = CHECK_SYS(open("/dev/null", O_RDWR | O_CLOEXEC));

	check_node("/dev/null", 1, 3);
	if (fd < 0)
		return;
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(write(fd, buf, sizeof(buf)), (long)sizeof(buf));
	CHECK_EQ(pwrite(fd, buf, 10, 12345), 10);
	CHECK_EQ(lseek(fd, 1000, SEEK_SET), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 0);
	close(fd);
}

static void check_zero(void)
{
	int fd = CHECK_SYS(open("/dev/zero", O_RDWR | O_CLOEXEC));
	char *p;

	check_node("/dev/zero", 1, 5);
	if (fd < 0)
		return;
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(read(fd, buf, sizeof(buf)), (long)sizeof(buf));
	CHECK(all(buf, sizeof(buf), 0));
	memset(buf, 'x', 100);
	CHECK_EQ(pread(fd, buf, 100, 1 << 30), 100);
	CHECK(all(buf, 100, 0));
	CHECK_EQ(write(fd, "abc", 3), 3);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
	/* A private mapping is zeroed, writable memory. */
	p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK(all(p, 2 * 4096, 0));
		memset(p, 7, 2 * 4096);
		CHECK_EQ(p[4097], 7);
		munmap(p, 2 * 4096);
	}
	/* A shared one too; a fresh private one sees none of it. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK(all(p, 4096, 0));
		p[0] = 1;
		munmap(p, 4096);
	}
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK(all(p, 4096, 0));
		munmap(p, 4096);
	}
	close(fd);
}

static void check_full(void)
{
	int fd = CHECK_SYS(open("/dev/full", O_RDWR | O_CLOEXEC));

	check_node("/dev/full", 1, 7);
	if (fd < 0)
		return;
	CHECK_ERR(write(fd, "x", 1), ENOSPC);
	memset(buf, 'x', 4096);
	CHECK_EQ(read(fd, buf, 4096), 4096);
	CHECK(all(buf, 4096, 0));
	CHECK_EQ(lseek(fd, 5, SEEK_SET), 0);
	close(fd);
}

static void check_random(const char *path, unsigned min)
{
	char a[64], b[64];
	int fd = CHECK_SYS(open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));

	check_node(path, 1, min);
	if (fd < 0)
		return;
	CHECK_EQ(read(fd, a, sizeof(a)), (long)sizeof(a));
	CHECK_EQ(read(fd, b, sizeof(b)), (long)sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(!all(a, sizeof(a), 0));
	CHECK_EQ(read(fd, buf, sizeof(buf)), (long)sizeof(buf));
	close(fd);
	/* Writing adds to the pool: anyone may, and it succeeds. */
	fd = CHECK_SYS(open(path, O_WRONLY | O_CLOEXEC));
	if (fd >= 0) {
		CHECK_EQ(write(fd, a, sizeof(a)), (long)sizeof(a));
		close(fd);
	}
}

static void check_links(void)
{
	static const struct {
		const char *path, *target;
	} links[] = {
		{"/dev/fd", "/proc/self/fd"},
		{"/dev/stdin", "/proc/self/fd/0"},
		{"/dev/stdout", "/proc/self/fd/1"},
		{"/dev/stderr", "/proc/self/fd/2"},
	};
	struct stat st;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		ssize_t n = readlink(links[i].path, buf, sizeof(buf));
		CHECK(n == (ssize_t)strlen(links[i].target) &&
		      !memcmp(buf, links[i].target, (size_t)n));
	}
	CHECK_EQ(stat("/dev/fd", &st), 0);
	CHECK(S_ISDIR(st.st_mode));
}

static void check_shm(void)
{
	struct stat st;
	int fd;

	CHECK_EQ(stat("/dev/shm", &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 01777);
	fd = open("/dev/shm/devfs-test", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, "hello", 5), 5);
		CHECK_EQ(pread(fd, buf, 5, 0), 5);
		CHECK(!memcmp(buf, "hello", 5));
		close(fd);
		CHECK_EQ(unlink("/dev/shm/devfs-test"), 0);
	}
}

static void check_tty(void)
{
	int fd;

	check_node("/dev/tty", 5, 0);
	/* With a controlling terminal it opens; without one, ENXIO. */
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		CHECK(isatty(fd));
		close(fd);
	} else {
		CHECK_EQ(errno, ENXIO);
	}
}

int main(void)
{
	check_null();
	check_zero();
	check_full();
	check_random("/dev/random", 8);
	check_random("/dev/urandom", 9);
	check_links();
	check_shm();
	check_tty();
	return check_exit();
}
