/* AF_UNIX stream sockets: socketpair, data through send/recv and
 * read/write/readv/writev, MSG_PEEK/DONTWAIT/WAITALL, the send buffer
 * and blocking when it is full, shutdown and close with their EOF,
 * EPIPE/SIGPIPE and ECONNRESET, listen/connect/accept with a backlog,
 * socket options and timeouts, signals against a blocked receive, and
 * poll readiness. Nothing waits on a clock to be right: where another
 * process acts while we block, either order gives the same outcome. */
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "unix_util.h"

#ifndef SO_RCVTIMEO_OLD
#define SO_RCVTIMEO_OLD SO_RCVTIMEO
#endif

static char buf[1 << 20];

static int inq(int fd) { int n = -1; return ioctl(fd, FIONREAD, &n) == 0 ? n : -1; }
static int outq(int fd) { int n = -1; return ioctl(fd, TIOCOUTQ, &n) == 0 ? n : -1; }

static int getint(int fd, int opt)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0)
		return -1000 - errno;
	return l == sizeof(v) ? v : -2000;
}

static void test_pair_basics(void)
{
	int sv[2], p[2];
	struct stat st;
	char link[64], want[64];
	ssize_t n;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[0], "hello", 5, 0), 5);
	CHECK_EQ(inq(sv[1]), 5);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(inq(sv[1]), 0);
	/* Both directions; write and read are send and recv. */
	CHECK_EQ(write(sv[1], "back", 4), 4);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "back", 4));
	/* A stream has no boundaries: two sends read as one. */
	CHECK_EQ(send(sv[0], "ab", 2, 0), 2);
	CHECK_EQ(send(sv[0], "cd", 2, 0), 2);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 4);
	CHECK(!memcmp(buf, "abcd", 4));
	/* Gather and scatter. */
	{
		struct iovec w[3] = {{"one", 3}, {"", 0}, {"three", 5}};
		char a[2], b[10];
		struct iovec r[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
		CHECK_EQ(writev(sv[0], w, 3), 8);
		CHECK_EQ(readv(sv[1], r, 2), 8);
		CHECK(!memcmp(a, "on", 2) && !memcmp(b, "ethree", 6));
	}
	/* Reads of nothing. */
	CHECK_EQ(read(sv[1], buf, 0), 0);
	CHECK_ERR(recv(sv[1], buf, 0, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(send(sv[0], "", 0, 0), 0);
	CHECK_ERR(recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);

	/* The file: a socket inode, read-write, no seeking. */
	CHECK_SYS(fstat(sv[0], &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0777);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_uid, geteuid());
	snprintf(link, sizeof(link), "/proc/self/fd/%d", sv[0]);
	n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)st.st_ino);
	CHECK(!strcmp(buf, want));
	CHECK_ERR(open(link, O_RDWR), ENXIO);
	CHECK_EQ(fcntl(sv[0], F_GETFL), O_RDWR);
	CHECK_ERR(lseek(sv[0], 0, SEEK_CUR), ESPIPE);
	CHECK_ERR(pread(sv[0], buf, 1, 0), ESPIPE);
	CHECK_ERR(pwrite(sv[0], buf, 1, 0), ESPIPE);
	{
		struct stat s1;
		CHECK_SYS(fstat(sv[1], &s1));
		CHECK(s1.st_ino != st.st_ino);
		CHECK_EQ(s1.st_dev, st.st_dev);
	}

	/* Socket calls on what is no socket. */
	CHECK_SYS(pipe(p));
	CHECK_ERR(send(p[1], "x", 1, 0), ENOTSOCK);
	CHECK_ERR(shutdown(p[0], SHUT_RD), ENOTSOCK);
	CHECK_ERR(getsockopt(p[0], SOL_SOCKET, SO_TYPE, buf, &(socklen_t){4}), ENOTSOCK);
	close(p[0]);
	close(p[1]);
	CHECK_ERR(send(999, "x", 1, 0), EBADF);
	CHECK_ERR(shutdown(sv[0], 7), EINVAL);
	CHECK_ERR(shutdown(sv[0], -1), EINVAL);
	CHECK_ERR(send(sv[0], BAD_PTR, 10, 0), EFAULT);
	CHECK_ERR(recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
	/* A bad buffer leaves the data where it was. */
	CHECK_EQ(send(sv[0], "keep", 4, 0), 4);
	CHECK_ERR(recv(sv[1], BAD_PTR, 4, 0), EFAULT);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 4);
	CHECK(!memcmp(buf, "keep", 4));
	close(sv[0]);
	close(sv[1]);

	/* Type flags. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	CHECK_EQ(fcntl(sv[0], F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(fcntl(sv[1], F_GETFD), FD_CLOEXEC);
	CHECK_ERR(recv(sv[0], buf, 1, 0), EAGAIN);
	CHECK_ERR(read(sv[0], buf, 1), EAGAIN);
	close(sv[0]);
	close(sv[1]);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM | 0x1000000, 0, sv), EINVAL);
	{
		/* Hidden from the compiler, which knows it is bad. */
		int *volatile bad = BAD_PTR;
		CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, bad), EFAULT);
	}
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, 11, 0), EINVAL);
	CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(4096, SOCK_STREAM, 0), EAFNOSUPPORT);
	{
		int s = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
		close(s);
	}
}

static void test_peek_waitall(void)
{
	int sv[2];
	pid_t pid;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[0], "abcdef", 6, 0), 6);
	CHECK_EQ(recv(sv[1], buf, 2, MSG_PEEK), 2);
	CHECK(!memcmp(buf, "ab", 2));
	CHECK_EQ(recv(sv[1], buf, 10, MSG_PEEK), 6);
	CHECK_EQ(recv(sv[1], buf, 3, 0), 3);
	CHECK(!memcmp(buf, "abc", 3));
	/* A peek reads across messages. */
	CHECK_EQ(send(sv[0], "gh", 2, 0), 2);
	CHECK_EQ(recv(sv[1], buf, 10, MSG_PEEK | MSG_DONTWAIT), 5);
	CHECK(!memcmp(buf, "defgh", 5));
	CHECK_EQ(recv(sv[1], buf, 10, 0), 5);
	/* MSG_TRUNC means nothing special for a stream. */
	CHECK_EQ(send(sv[0], "xy", 2, 0), 2);
	CHECK_EQ(recv(sv[1], buf, 10, MSG_TRUNC), 2);

	/* MSG_WAITALL waits for all of it, across several sends. */
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 10; i++) {
			if (send(sv[0], "0123456789", 10, 0) != 10)
				_exit(1);
			sched_yield();
		}
		_exit(0);
	}
	CHECK_EQ(recv(sv[1], buf, 100, MSG_WAITALL), 100);
	CHECK(!memcmp(buf + 90, "0123456789", 10));
	reap(pid);
	/* ... but stops at end of file. */
	CHECK_EQ(send(sv[0], "end", 3, 0), 3);
	CHECK_SYS(shutdown(sv[0], SHUT_WR));
	CHECK_EQ(recv(sv[1], buf, 100, MSG_WAITALL), 3);
	CHECK_EQ(recv(sv[1], buf, 100, MSG_WAITALL), 0);
	close(sv[0]);
	close(sv[1]);
}

static void test_buffer(void)
{
	int sv[2];
	long total = 0;
	ssize_t n;
	pid_t pid;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(getint(sv[0], SO_SNDBUF), 212992);
	CHECK_EQ(getint(sv[0], SO_RCVBUF), 212992);
	CHECK_EQ(outq(sv[0]), 0);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLOUT);
	/* Nonblocking sends fill the buffer, then EAGAIN. */
	memset(buf, 'q', sizeof(buf));
	while ((n = send(sv[0], buf, 1000, MSG_DONTWAIT)) > 0)
		total += n;
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, EAGAIN);
	/* Linux fits 93 such writes; some room is taken by overhead. */
	CHECK(total >= 50000 && total <= 212992);
	CHECK_EQ(inq(sv[1]), total);
	CHECK(outq(sv[0]) >= total);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), 0);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT);
	/* Part of a bigger send goes. */
	CHECK_EQ(recv(sv[1], buf, 5000, 0), 5000);
	n = send(sv[0], buf, 100000, MSG_DONTWAIT);
	CHECK(n > 0 && n < 100000);
	total += n - 5000;
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), total);
	CHECK_EQ(outq(sv[0]), 0);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLOUT);

	/* A blocking send of much more than fits goes in full as the
	 * reader drains it. */
	pid = fork();
	if (pid == 0) {
		size_t got = 0;
		close(sv[0]);
		while (got < sizeof(buf)) {
			ssize_t r = read(sv[1], buf, sizeof(buf));
			if (r <= 0)
				_exit(1);
			got += (size_t)r;
		}
		_exit(read(sv[1], buf, 1) == 0 ? 0 : 2);
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	CHECK_EQ(write(sv[0], buf, sizeof(buf)), sizeof(buf));
	close(sv[0]);
	reap(pid);
	close(sv[1]);

	/* SO_SNDBUF: doubled, with Linux's floor. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){1000}, sizeof(int)));
	CHECK_EQ(getint(sv[0], SO_SNDBUF), 4608);
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){65536}, sizeof(int)));
	CHECK_EQ(getint(sv[0], SO_SNDBUF), 131072);
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &(int){1000}, sizeof(int)));
	CHECK_EQ(getint(sv[0], SO_RCVBUF), 2304);
	/* A small buffer holds less. */
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){1000}, sizeof(int)));
	total = 0;
	while ((n = send(sv[0], buf, 1000, MSG_DONTWAIT)) > 0)
		total += n;
	CHECK(total > 0 && total < 10000);
	close(sv[0]);
	close(sv[1]);
}

static void test_shutdown_close(void)
{
	int sv[2];

	catch_signal(SIGPIPE, false);
	/* SHUT_WR: the peer reads the rest, then end of file. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[0], "last", 4, 0), 4);
	CHECK_SYS(shutdown(sv[0], SHUT_WR));
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLOUT);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT | POLLRDHUP);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 4);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	CHECK_EQ(read(sv[1], buf, 10), 0);
	/* Sending after SHUT_WR: EPIPE, and SIGPIPE from ourselves. */
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_EQ(got_sig, SIGPIPE);
	CHECK_EQ(sig_code, SI_USER);
	CHECK_EQ(sig_pid, getpid());
	got_sig = 0;
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(got_sig, 0);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK_EQ(got_sig, SIGPIPE);
	/* The other way still works. */
	CHECK_EQ(send(sv[1], "up", 2, 0), 2);
	CHECK_EQ(recv(sv[0], buf, 10, 0), 2);
	/* SHUT_RD of the reader: the writer may not send. */
	CHECK_SYS(shutdown(sv[0], SHUT_RD));
	CHECK_EQ(recv(sv[0], buf, 10, 0), 0);
	got_sig = 0;
	CHECK_ERR(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(got_sig, 0);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	close(sv[0]);
	close(sv[1]);

	/* Close: what was sent is still read, then end of file. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[0], "bye", 3, 0), 3);
	close(sv[0]);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 3);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	got_sig = 0;
	CHECK_ERR(send(sv[1], "x", 1, 0), EPIPE);
	CHECK_EQ(got_sig, SIGPIPE);
	close(sv[1]);

	/* Closing with unread data resets the connection: ECONNRESET once,
	 * after the data the other end still has. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[1], "unread", 6, 0), 6);
	CHECK_EQ(send(sv[0], "mine", 4, 0), 4);
	close(sv[0]);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 4);
	CHECK_ERR(recv(sv[1], buf, 10, 0), ECONNRESET);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	CHECK_EQ(getint(sv[1], SO_ERROR), 0);
	close(sv[1]);
	/* SO_ERROR reads and clears it too. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(send(sv[1], "unread", 6, 0), 6);
	close(sv[0]);
	CHECK_EQ(getint(sv[1], SO_ERROR), ECONNRESET);
	CHECK_EQ(getint(sv[1], SO_ERROR), 0);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	close(sv[1]);
	signal(SIGPIPE, SIG_DFL);
}

/* A stream socket that was never connected. */
static void test_unconnected(void)
{
	int s = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a;
	socklen_t l = sizeof(a);

	CHECK_EQ(poll_now(s, POLL_ALL), POLLOUT | POLLHUP);
	CHECK_ERR(read(s, buf, 10), EINVAL);
	CHECK_ERR(recv(s, buf, 10, MSG_DONTWAIT), EINVAL);
	CHECK_ERR(write(s, "x", 1), ENOTCONN);
	CHECK_ERR(send(s, "x", 1, 0), ENOTCONN);
	CHECK_ERR(getpeername(s, (struct sockaddr *)&a, &l), ENOTCONN);
	CHECK_ERR(accept(s, NULL, NULL), EINVAL);
	/* shutdown of an unconnected socket is allowed. */
	CHECK_EQ(shutdown(s, SHUT_RDWR), 0);
	CHECK_EQ(poll_now(s, POLL_ALL), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	close(s);
}

static void test_listen_connect(void)
{
	struct sockaddr_un a, got;
	socklen_t len = abstract_addr(&a, "stream"), gl;
	int l, c[4], x, y;
	pid_t pid;

	l = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	/* No listening unbound; no accepting unless listening. */
	CHECK_ERR(listen(l, 5), EINVAL);
	CHECK_SYS(bind(l, (struct sockaddr *)&a, len));
	CHECK_ERR(accept(l, NULL, NULL), EINVAL);
	c[0] = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_ERR(connect(c[0], (struct sockaddr *)&a, len), ECONNREFUSED);
	CHECK_SYS(listen(l, 1));
	CHECK_EQ(getint(l, SO_ACCEPTCONN), 1);
	CHECK_EQ(poll_now(l, POLL_ALL), 0);
	set_nonblock(l, true);
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	set_nonblock(l, false);
	/* Backlog 1 holds two connections; then nonblocking EAGAIN. */
	CHECK_SYS(connect(c[0], (struct sockaddr *)&a, len));
	CHECK_EQ(poll_now(l, POLLIN), POLLIN);
	for (int i = 1; i < 4; i++)
		c[i] = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_SYS(connect(c[1], (struct sockaddr *)&a, len));
	CHECK_ERR(connect(c[2], (struct sockaddr *)&a, len), EAGAIN);
	/* Connected already (once there is room, EISCONN). */
	CHECK_ERR(connect(c[0], (struct sockaddr *)&a, len), EAGAIN);
	CHECK_EQ(getint(c[0], SO_ACCEPTCONN), 0);
	/* A connected socket may send before it is accepted. */
	CHECK_EQ(send(c[0], "early", 5, 0), 5);
	CHECK_EQ(poll_now(c[0], POLL_ALL), POLLOUT);
	CHECK_ERR(listen(c[0], 5), EINVAL);

	gl = sizeof(got);
	x = CHECK_SYS(accept4(l, (struct sockaddr *)&got, &gl, SOCK_CLOEXEC));
	/* The client is unnamed. */
	CHECK_EQ(gl, sizeof(sa_family_t));
	CHECK_EQ(got.sun_family, AF_UNIX);
	CHECK_EQ(fcntl(x, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(x, F_GETFL), O_RDWR);
	CHECK_EQ(recv(x, buf, 10, 0), 5);
	CHECK(!memcmp(buf, "early", 5));
	CHECK_ERR(connect(c[0], (struct sockaddr *)&a, len), EISCONN);
	/* The accepted socket has the listener's name; its peer none. */
	gl = sizeof(got);
	CHECK_SYS(getsockname(x, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, len);
	CHECK(!memcmp(&got, &a, len));
	gl = sizeof(got);
	CHECK_SYS(getpeername(c[0], (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, len);
	gl = sizeof(got);
	CHECK_SYS(getpeername(x, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, sizeof(sa_family_t));

	y = CHECK_SYS(accept4(l, NULL, NULL, SOCK_NONBLOCK));
	CHECK_EQ(fcntl(y, F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(fcntl(y, F_GETFD), 0);
	CHECK_ERR(recv(y, buf, 10, 0), EAGAIN);
	CHECK_ERR(accept4(l, NULL, NULL, 0x1), EINVAL);

	/* A blocking connect to a full backlog waits for an accept. */
	CHECK_SYS(connect(c[2], (struct sockaddr *)&a, len));
	CHECK_SYS(connect(c[3], (struct sockaddr *)&a, len));
	pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&a, len) < 0)
			_exit(1);
		_exit(send(s, "queued", 6, 0) == 6 ? 0 : 2);
	}
	close(accept(l, NULL, NULL));
	close(accept(l, NULL, NULL));
	x = CHECK_SYS(accept(l, NULL, NULL));
	CHECK_EQ(recv(x, buf, 10, MSG_WAITALL), 6);
	CHECK(!memcmp(buf, "queued", 6));
	reap(pid);
	close(x);

	/* Connections never accepted die with the listener. */
	{
		int d = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_SYS(connect(d, (struct sockaddr *)&a, len));
		close(l);
		CHECK_EQ(poll_now(d, POLL_ALL), POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
		CHECK_ERR(recv(d, buf, 10, 0), ECONNRESET);
		CHECK_EQ(recv(d, buf, 10, 0), 0);
		CHECK_ERR(send(d, "x", 1, MSG_NOSIGNAL), EPIPE);
		close(d);
	}
	/* The name is free again. */
	{
		int d = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_ERR(connect(d, (struct sockaddr *)&a, len), ECONNREFUSED);
		close(d);
	}
	for (int i = 0; i < 4; i++)
		close(c[i]);
	close(y);
}

static void test_options(void)
{
	int sv[2], v;
	socklen_t l;
	struct ucred uc;
	struct linger lg;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(getint(sv[0], SO_TYPE), SOCK_STREAM);
	CHECK_EQ(getint(sv[0], SO_DOMAIN), AF_UNIX);
	CHECK_EQ(getint(sv[0], SO_PROTOCOL), 0);
	CHECK_EQ(getint(sv[0], SO_ACCEPTCONN), 0);
	CHECK_EQ(getint(sv[0], SO_ERROR), 0);
	CHECK_EQ(getint(sv[0], SO_PASSCRED), 0);
	CHECK_EQ(getint(sv[0], SO_RCVLOWAT), 1);
	CHECK_EQ(getint(sv[0], SO_SNDLOWAT), 1);
	CHECK_EQ(getint(sv[0], SO_REUSEADDR), 0);
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)));
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &(int){5}, sizeof(int)));
	CHECK_EQ(getint(sv[0], SO_REUSEADDR), 1);
	CHECK_EQ(getint(sv[0], SO_KEEPALIVE), 1);
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &(int){0}, sizeof(int)));
	CHECK_EQ(getint(sv[0], SO_KEEPALIVE), 0);
	/* SO_PEERCRED of a pair: ourselves. */
	l = sizeof(uc);
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(l, sizeof(uc));
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, geteuid());
	CHECK_EQ(uc.gid, getegid());
	/* A short buffer gets the start. */
	l = 4;
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(l, 4);
	/* Short lengths: get truncates, set refuses. */
	l = 2;
	v = 0;
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
	CHECK_EQ(l, 2);
	CHECK_EQ(v, SOCK_STREAM);
	l = (socklen_t)-1;
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, 3), EINVAL);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, -1), EINVAL);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, BAD_PTR, 4), EFAULT);
	l = 4;
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, BAD_PTR, &l), EFAULT);
	/* Unknown options; unix sockets have no level of their own. */
	l = 4;
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, 9999, &v, 4), ENOPROTOOPT);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, 4), ENOPROTOOPT);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &v, 4), ENOPROTOOPT);
	l = 4;
	CHECK_ERR(getsockopt(sv[0], 0 /* SOL_IP */, 1, &v, &l), EOPNOTSUPP);
	CHECK_ERR(setsockopt(sv[0], 6 /* SOL_TCP */, 1, &v, 4), EOPNOTSUPP);
	/* SO_LINGER round trip. */
	lg.l_onoff = 1;
	lg.l_linger = 7;
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	memset(&lg, 0, sizeof(lg));
	l = sizeof(lg);
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &l));
	CHECK_EQ(l, sizeof(lg));
	CHECK_EQ(lg.l_onoff, 1);
	CHECK_EQ(lg.l_linger, 7);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, 4), EINVAL);
	close(sv[0]);
	close(sv[1]);

	/* An unconnected socket has no peer credentials. */
	sv[0] = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	l = sizeof(uc);
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, 0);
	CHECK_EQ(uc.uid, (uid_t)-1);
	CHECK_EQ(uc.gid, (gid_t)-1);
	close(sv[0]);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_timeouts(void)
{
	int sv[2];
	struct timeval tv = {0, 100000}, got;
	socklen_t l = sizeof(got);
	double t0;
	long total = 0;
	ssize_t n;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	l = sizeof(got);
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &l));
	CHECK_EQ(l, sizeof(got));
	CHECK(got.tv_sec == 0 && got.tv_usec == 0);
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	l = sizeof(got);
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &l));
	CHECK(got.tv_sec == 0 && got.tv_usec == 100000);
	/* The wait lasts (at least) the timeout, then EAGAIN. */
	t0 = now_s();
	CHECK_ERR(recv(sv[0], buf, 1, 0), EAGAIN);
	CHECK(now_s() - t0 >= 0.09);
	/* Data in time is data. */
	CHECK_EQ(send(sv[1], "t", 1, 0), 1);
	CHECK_EQ(recv(sv[0], buf, 1, 0), 1);
	/* Bad times. */
	tv.tv_usec = 1000000;
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
	/* A negative time means no waiting at all. */
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	l = sizeof(got);
	CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &l));
	CHECK(got.tv_sec == 0 && got.tv_usec == 0);
	CHECK_ERR(recv(sv[0], buf, 1, 0), EAGAIN);

	/* SO_SNDTIMEO: a full buffer ends the send with EAGAIN. */
	tv.tv_sec = 0;
	tv.tv_usec = 50000;
	CHECK_SYS(setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	while ((n = send(sv[1], buf, 1000, MSG_DONTWAIT)) > 0)
		total += n;
	CHECK(total > 0);
	t0 = now_s();
	CHECK_ERR(send(sv[1], buf, 1000, 0), EAGAIN);
	CHECK(now_s() - t0 >= 0.04);
	close(sv[0]);
	close(sv[1]);
}

/* Signals against a blocked recv: EINTR without SA_RESTART; with it
 * the call goes on; with SO_RCVTIMEO set, EINTR even with SA_RESTART. */
static void test_interrupt(void)
{
	int sv[2], stop[2];
	pid_t pid, parent = getpid();
	ssize_t n;

	for (int mode = 0; mode < 2; mode++) {
		CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		CHECK_SYS(pipe2(stop, O_NONBLOCK));
		catch_signal(SIGUSR1, mode == 1);
		if (mode == 1) {
			struct timeval tv = {100000, 0};
			CHECK_SYS(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
		}
		pid = fork();
		if (pid == 0) {
			/* Until the parent says it saw EINTR. */
			char c;
			while (read(stop[0], &c, 1) != 1) {
				kill(parent, SIGUSR1);
				sched_yield();
			}
			_exit(0);
		}
		do {
			n = recv(sv[0], buf, 1, 0);
		} while (n < 0 && errno != EINTR);
		CHECK_EQ(n, -1);
		CHECK_EQ(errno, EINTR);
		CHECK_EQ(got_sig, SIGUSR1);
		CHECK_EQ(write(stop[1], "s", 1), 1);
		reap(pid);
		close(sv[0]);
		close(sv[1]);
		close(stop[0]);
		close(stop[1]);
	}

	/* SA_RESTART and no timeout: the recv gets the data that follows
	 * the signals. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	catch_signal(SIGUSR1, true);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 100; i++) {
			kill(parent, SIGUSR1);
			sched_yield();
		}
		_exit(send(sv[1], "R", 1, 0) == 1 ? 0 : 1);
	}
	CHECK_EQ(recv(sv[0], buf, 1, 0), 1);
	CHECK_EQ(buf[0], 'R');
	CHECK_EQ(got_sig, SIGUSR1);
	reap(pid);
	signal(SIGUSR1, SIG_DFL);
	close(sv[0]);
	close(sv[1]);
}

/* A reader blocked on an empty socket wakes for data and for the
 * writer's close; poll waits the same way. */
static void test_blocking(void)
{
	int sv[2];
	pid_t pid;
	struct pollfd p;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (send(sv[1], "late", 4, 0) != 4)
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	p.fd = sv[0];
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, -1), 1);
	CHECK(p.revents & POLLIN);
	CHECK_EQ(recv(sv[0], buf, 4, MSG_WAITALL), 4);
	CHECK(!memcmp(buf, "late", 4));
	CHECK_EQ(recv(sv[0], buf, 1, 0), 0);
	reap(pid);
	close(sv[0]);
}

int main(void)
{
	test_pair_basics();
	test_peek_waitall();
	test_buffer();
	test_shutdown_close();
	test_unconnected();
	test_listen_connect();
	test_options();
	test_timeouts();
	test_interrupt();
	test_blocking();
	return check_exit();
}
