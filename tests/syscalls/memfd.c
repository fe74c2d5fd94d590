/* memfd_create: an anonymous regular file (named "/memfd:NAME (deleted)"
 * in /proc), shared with children and through mappings, and its seals:
 * F_SEAL_SEAL, SHRINK, GROW, WRITE and FUTURE_WRITE, enforced on write,
 * truncate, fallocate and shared writable mappings. */
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096

static char buf[3 * PAGE];

static int new_memfd(const char *name, unsigned flags)
{
	return (int)CHECK_SYS(memfd_create(name, flags));
}

static void fd_link(int fd, char *out, size_t cap)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	out[n > 0 ? n : 0] = 0;
}

static void test_create(void)
{
	char name[300], link[300];
	struct stat st, st2;
	int fd, fd2;

	fd = new_memfd("test", MFD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	CHECK_SYS(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 0666, 0666);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_uid, geteuid());
	fd_link(fd, link, sizeof(link));
	CHECK(!strcmp(link, "/memfd:test (deleted)"));

	/* Same name, another file. */
	fd2 = new_memfd("test", 0);
	CHECK_EQ(fcntl(fd2, F_GETFD), 0);
	CHECK_SYS(fstat(fd2, &st2));
	CHECK(st2.st_ino != st.st_ino);
	close(fd2);

	/* A plain file: write, seek, read, truncate. */
	CHECK_EQ(write(fd, "hello memfd", 11), 11);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	CHECK(!memcmp(buf, "hello memfd", 11));
	CHECK_SYS(ftruncate(fd, 2 * PAGE));
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 2 * PAGE);

	/* Shared mappings see writes and the other way round. */
	char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		CHECK(!memcmp(m, "hello memfd", 11));
		memcpy(m + PAGE, "mapped", 6);
		CHECK_EQ(pread(fd, buf, 6, PAGE), 6);
		CHECK(!memcmp(buf, "mapped", 6));
		munmap(m, 2 * PAGE);
	}

	/* A child sees the same file. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(pwrite(fd, "child", 5, 100) == 5 ? 0 : 1);
	int stt = -1;
	CHECK_EQ(waitpid(pid, &stt, 0), pid);
	CHECK(WIFEXITED(stt) && WEXITSTATUS(stt) == 0);
	CHECK_EQ(pread(fd, buf, 5, 100), 5);
	CHECK(!memcmp(buf, "child", 5));

	/* Reopened through /proc: the same file. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	fd2 = (int)CHECK_SYS(open(link, O_RDONLY));
	CHECK_EQ(read(fd2, buf, 5), 5);
	CHECK(!memcmp(buf, "hello", 5));
	close(fd2);
	close(fd);

	/* Names: up to 249 bytes; flags we know. */
	memset(name, 'n', sizeof(name));
	name[249] = 0;
	fd = new_memfd(name, 0);
	fd_link(fd, link, sizeof(link));
	CHECK(!strncmp(link, "/memfd:nnn", 10));
	close(fd);
	name[249] = 'n';
	name[250] = 0;
	CHECK_ERR(memfd_create(name, 0), EINVAL);
	CHECK_ERR(memfd_create("x", 0x100), EINVAL);
	CHECK_ERR(memfd_create((const char *)8, 0), EFAULT);
	fd = new_memfd("", 0);
	fd_link(fd, link, sizeof(link));
	CHECK(!strcmp(link, "/memfd: (deleted)"));
	close(fd);
}

static void test_seal_basics(void)
{
	int fd = new_memfd("plain", 0);
	int pipefd[2];

	/* Without MFD_ALLOW_SEALING it is sealed shut. */
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);

	fd = new_memfd("sealable", MFD_ALLOW_SEALING);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), 0);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0x100), EINVAL);
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, 0));
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)); /* again: fine */
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK);
	/* A read-only open may not add seals. */
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	int ro = (int)CHECK_SYS(open(link, O_RDONLY));
	CHECK_EQ(fcntl(ro, F_GET_SEALS), F_SEAL_SHRINK);
	CHECK_ERR(fcntl(ro, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	close(ro);
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_SEAL);
	close(fd);

	/* Other files have no seals. */
	CHECK_SYS(pipe(pipefd));
	CHECK_ERR(fcntl(pipefd[0], F_GET_SEALS), EINVAL);
	CHECK_ERR(fcntl(pipefd[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_shrink_grow(void)
{
	int fd = new_memfd("sizes", MFD_ALLOW_SEALING);

	CHECK_SYS(ftruncate(fd, 2 * PAGE));
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK_ERR(ftruncate(fd, PAGE), EPERM);
	CHECK_SYS(ftruncate(fd, 2 * PAGE));
	CHECK_SYS(ftruncate(fd, 3 * PAGE)); /* growing is still fine */
	CHECK_EQ(pwrite(fd, "x", 1, 4 * PAGE), 1);

	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	struct stat st;
	CHECK_SYS(fstat(fd, &st));
	off_t size = st.st_size;
	CHECK_EQ(size, 4 * PAGE + 1);
	CHECK_ERR(ftruncate(fd, size + 1), EPERM);
	CHECK_ERR(pwrite(fd, "y", 1, size), EPERM);
	CHECK_EQ(pwrite(fd, "y", 1, size - 1), 1); /* within: fine */
	CHECK_ERR(fallocate(fd, 0, 0, size + PAGE), EPERM);
	CHECK_ERR(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, size + PAGE), EPERM);
	CHECK_SYS(fallocate(fd, 0, 0, PAGE));
	CHECK_SYS(lseek(fd, 0, SEEK_END));
	CHECK_ERR(write(fd, "z", 1), EPERM);
	CHECK_SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, size);
	close(fd);
}

static void test_write_seal(void)
{
	int fd = new_memfd("write", MFD_ALLOW_SEALING);
	char *m, *r;

	CHECK_SYS(ftruncate(fd, PAGE));
	/* Not while a shared writable mapping exists. */
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY);
	if (m != MAP_FAILED)
		munmap(m, PAGE);
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(pwrite(fd, "x", 1, 0), EPERM);
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE), EPERM);
	CHECK_ERR(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
		  EPERM);
	/* Read-only shared and private mappings are fine; the shared one
	 * may not become writable. */
	r = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(r != MAP_FAILED);
	if (r != MAP_FAILED) {
		CHECK_ERR(mprotect(r, PAGE, PROT_READ | PROT_WRITE), EACCES);
		munmap(r, PAGE);
	}
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED) {
		m[0] = 'p'; /* a private copy */
		munmap(m, PAGE);
	}
	CHECK_EQ(pread(fd, buf, 1, 0), 1);
	CHECK_EQ(buf[0], 0);
	/* Size changes are the other seals' business. */
	CHECK_SYS(ftruncate(fd, 2 * PAGE));
	close(fd);
}

static void test_future_write(void)
{
	int fd = new_memfd("future", MFD_ALLOW_SEALING);
	char *m;

	CHECK_SYS(ftruncate(fd, PAGE));
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	/* Existing writable mappings keep working. */
	CHECK_SYS(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	if (m != MAP_FAILED) {
		memcpy(m, "still", 5);
		CHECK_EQ(pread(fd, buf, 5, 0), 5);
		CHECK(!memcmp(buf, "still", 5));
		munmap(m, PAGE);
	}
	CHECK_ERR(write(fd, "x", 1), EPERM);
	CHECK_ERR(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0,
		  EPERM);
	CHECK_EQ(fcntl(fd, F_GET_SEALS), F_SEAL_FUTURE_WRITE);
	close(fd);
}

int main(void)
{
	test_create();
	test_seal_basics();
	test_shrink_grow();
	test_write_seal();
	test_future_write();
	return check_exit();
}
