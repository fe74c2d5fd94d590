/* Named fifos: mkfifo, opening each way (a reader waits for a writer and
 * the other way round; O_NONBLOCK readers do not wait, O_NONBLOCK
 * writers fail with ENXIO; O_RDWR never waits), data between processes,
 * one pipe per fifo whichever name or fd it is opened through, and the
 * data dropped once nobody has it open. */
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs_util.h"

static char buf[4096];

static void reap(pid_t pid)
{
	int st = -1;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}

static void test_make(void)
{
	struct stat st;

	CHECK_SYS(mkfifo("f", 0640));
	CHECK_SYS(stat("f", &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0640 & ~022 & 0777);
	CHECK_ERR(mkfifo("f", 0600), EEXIST);
	CHECK_SYS(mknod("g", S_IFIFO | 0600, 0));
	CHECK_SYS(stat("g", &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_SYS(unlink("g"));
}

static void test_nonblocking_opens(void)
{
	struct stat st, fst;
	int r, w, rw;
	char link[64];
	ssize_t n;

	/* Nobody reads: a non-blocking writer is refused. */
	CHECK_ERR(open("f", O_WRONLY | O_NONBLOCK), ENXIO);
	/* A non-blocking reader opens, and sees EOF without writers. */
	r = (int)CHECK_SYS(open("f", O_RDONLY | O_NONBLOCK));
	CHECK_EQ(read(r, buf, 1), 0);
	/* Not hung up before a writer came (where poll exists). */
	struct pollfd pf = {r, POLLIN, 0};
	int pr = poll(&pf, 1, 0);
	bool have_poll = !(pr < 0 && errno == ENOSYS);
	if (have_poll) {
		CHECK_EQ(pr, 0);
		CHECK_EQ(pf.revents, 0);
	}
	/* Now a writer may open. */
	w = (int)CHECK_SYS(open("f", O_WRONLY | O_NONBLOCK));
	CHECK_ERR(read(r, buf, 1), EAGAIN);
	CHECK_EQ(write(w, "x", 1), 1);
	CHECK_EQ(read(r, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'x');
	CHECK_EQ(fcntl(w, F_GETPIPE_SZ), 65536);

	/* fstat is the fifo's own inode; /proc shows its path. */
	CHECK_SYS(stat("f", &st));
	CHECK_SYS(fstat(r, &fst));
	CHECK(S_ISFIFO(fst.st_mode));
	CHECK_EQ(fst.st_ino, st.st_ino);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", r);
	n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 2 && !strcmp(buf + n - 2, "/f"));
	CHECK_ERR(lseek(r, 0, SEEK_SET), ESPIPE);

	/* O_RDWR: the same pipe, and it never waits. */
	rw = (int)CHECK_SYS(open("f", O_RDWR));
	CHECK_EQ(write(rw, "yz", 2), 2);
	CHECK_EQ(read(r, buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "yz", 2));
	CHECK_EQ(write(w, "w", 1), 1);
	int cnt = -1;
	CHECK_SYS(ioctl(rw, FIONREAD, &cnt));
	CHECK_EQ(cnt, 1);
	CHECK_EQ(read(rw, buf, 1), 1);
	close(w);
	close(rw);
	/* Every writer gone: EOF, and POLLHUP now that one was seen. */
	CHECK_EQ(read(r, buf, 1), 0);
	if (have_poll) {
		CHECK_EQ(poll(&pf, 1, 0), 1);
		CHECK_EQ(pf.revents, POLLHUP);
	}
	close(r);

	/* Data left in a fifo is dropped when nobody has it open. */
	rw = (int)CHECK_SYS(open("f", O_RDWR | O_NONBLOCK));
	CHECK_EQ(write(rw, "lost", 4), 4);
	close(rw);
	rw = (int)CHECK_SYS(open("f", O_RDWR | O_NONBLOCK));
	CHECK_ERR(read(rw, buf, 1), EAGAIN);
	close(rw);
}

/* A blocking reader waits for a writer (the child), then reads to EOF. */
static void test_reader_waits(void)
{
	pid_t pid = fork();
	int fd;
	size_t got = 0;
	ssize_t n;

	if (pid == 0) {
		int w = open("f", O_WRONLY);
		const char *msg = "hello from the child";
		if (w < 0)
			_exit(1);
		_exit(write(w, msg, strlen(msg)) == (ssize_t)strlen(msg) ? 0 : 2);
	}
	fd = (int)CHECK_SYS(open("f", O_RDONLY));
	while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	CHECK_EQ(n, 0);
	CHECK_EQ(got, strlen("hello from the child"));
	CHECK(!memcmp(buf, "hello from the child", got));
	close(fd);
	reap(pid);
}

/* A blocking writer waits for a reader (the child); the child checks
 * what arrives and reports through its exit status. */
static void test_writer_waits(void)
{
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		char in[16];
		size_t got = 0;
		ssize_t n;
		int r = open("f", O_RDONLY);
		if (r < 0)
			_exit(1);
		while ((n = read(r, in + got, sizeof(in) - got)) > 0)
			got += (size_t)n;
		_exit(got == 6 && !memcmp(in, "parent", 6) ? 0 : 2);
	}
	fd = (int)CHECK_SYS(open("f", O_WRONLY));
	CHECK_EQ(write(fd, "parent", 6), 6);
	close(fd);
	reap(pid);
	/* The reader is gone again. */
	CHECK_ERR(open("f", O_WRONLY | O_NONBLOCK), ENXIO);
}

/* Several rounds through the same fifo, as shell scripts do. */
static void test_rounds(void)
{
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			int w = open("f", O_WRONLY);
			char c = (char)('0' + i);
			_exit(w >= 0 && write(w, &c, 1) == 1 ? 0 : 1);
		}
		int r = (int)CHECK_SYS(open("f", O_RDONLY));
		CHECK_EQ(read(r, buf, sizeof(buf)), 1);
		CHECK_EQ(buf[0], '0' + i);
		CHECK_EQ(read(r, buf, 1), 0);
		close(r);
		reap(pid);
	}
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	umask(022);
	test_make();
	test_nonblocking_opens();
	test_reader_waits();
	test_writer_waits();
	test_rounds();
	fs_cleanup();
	return check_exit();
}
