/* File-backed mmap: MAP_PRIVATE and MAP_SHARED of a regular file,
 * coherence with read and write, msync, mincore, and the access checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char dir[64];

static int make_file(const char *name, size_t size, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_TRUNC | flags, 0644);
	CHECK_SYS(fd);
	for (size_t i = 0; i < size; i++) {
		char c = (char)('a' + i % 26);
		CHECK_EQ(pwrite(fd, &c, 1, (off_t)i), 1);
	}
	return fd;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char vec[4];
	char buf[16], path[128];
	char *p, *q;
	int fd, ro;

	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
		CHECK_SYS(-1);
	snprintf(dir, sizeof(dir), "/tmp/fmmap-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);

	fd = make_file("data", 2 * (size_t)pg + 100, O_RDWR);

	/* Private: sees the file, keeps its own writes. */
	p = mmap(NULL, 2 * (size_t)pg + 100, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[0], 'a');
	CHECK_EQ(p[27], 'b');
	CHECK_EQ(p[2 * pg + 99], (char)('a' + (2 * pg + 99) % 26));
	p[0] = 'Z';
	CHECK_EQ(pread(fd, buf, 1, 0), 1);
	CHECK_EQ(buf[0], 'a');
	/* The tail of the last page past EOF reads as zeros. */
	CHECK_EQ(p[2 * pg + 100], 0);
	CHECK_SYS(munmap(p, 2 * (size_t)pg + 100));

	/* Shared: writes through the mapping reach read(), and the other way. */
	p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pg);
	CHECK(p != MAP_FAILED);
	CHECK_EQ(p[0], (char)('a' + pg % 26));
	memcpy(p, "shared", 6);
	CHECK_EQ(pread(fd, buf, 6, pg), 6);
	CHECK(memcmp(buf, "shared", 6) == 0);
	CHECK_EQ(pwrite(fd, "WRITE", 5, pg + 10), 5);
	CHECK(memcmp(p + 10, "WRITE", 5) == 0);
	/* A second mapping of the same page sees the same bytes. */
	q = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, (off_t)pg);
	CHECK(q != MAP_FAILED);
	CHECK(memcmp(q, "shared", 6) == 0);
	CHECK_SYS(msync(p, (size_t)pg, MS_SYNC));
	CHECK_SYS(msync(p, (size_t)pg, MS_ASYNC));
	CHECK_ERR(msync(p, (size_t)pg, MS_SYNC | MS_ASYNC), EINVAL);
	CHECK_ERR(msync(p + 1, (size_t)pg, MS_SYNC), EINVAL);
	CHECK_SYS(mincore(p, (size_t)pg, vec));
	CHECK_SYS(munmap(q, (size_t)pg));
	CHECK_SYS(munmap(p, (size_t)pg));
	CHECK_ERR(msync(p, (size_t)pg, MS_SYNC), ENOMEM);
	CHECK_ERR(mincore(p, (size_t)pg, vec), ENOMEM);

	/* Access checks. */
	snprintf(path, sizeof(path), "%s/data", dir);
	ro = open(path, O_RDONLY);
	CHECK_SYS(ro);
	CHECK(mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, ro, 0) != MAP_FAILED);
	CHECK(mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0) != MAP_FAILED);
	errno = 0;
	CHECK(mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	int wo = open(path, O_WRONLY);
	CHECK_SYS(wo);
	errno = 0;
	CHECK(mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED);
	CHECK_EQ(errno, EACCES);
	errno = 0;
	CHECK(mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE, 999, 0) == MAP_FAILED);
	CHECK_EQ(errno, EBADF);
	errno = 0;
	CHECK(mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* A directory cannot be mapped. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK_SYS(dfd);
	errno = 0;
	CHECK(mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE, dfd, 0) == MAP_FAILED);
	CHECK_EQ(errno, ENODEV);

	close(dfd);
	close(wo);
	close(ro);
	close(fd);
	CHECK_SYS(unlink(path));
	CHECK_SYS(rmdir(dir));
	return check_exit();
}
