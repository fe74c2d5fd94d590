/* AF_UNIX datagram sockets: message boundaries (send/recv, read/write,
 * readv/writev, empty datagrams), MSG_TRUNC and MSG_PEEK, addresses of
 * senders, connect as a filter and its EPERM, the receive queue limit
 * (blocking, EAGAIN, and poll), EMSGSIZE, a closed peer, shutdown,
 * sendmmsg/recvmmsg, and errors of lookup. */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "unix_util.h"

static char buf[1 << 19];

static void test_boundaries(void)
{
	int sv[2];
	struct iovec iov[3];
	char a[3], b[20];
	struct msghdr m;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(send(sv[0], "one", 3, 0), 3);
	CHECK_EQ(send(sv[0], "two!", 4, 0), 4);
	CHECK_EQ(write(sv[0], "three", 5), 5);
	/* FIONREAD: the size of the next datagram. */
	{
		int n = -1;
		CHECK_SYS(ioctl(sv[1], FIONREAD, &n));
		CHECK_EQ(n, 3);
	}
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 3);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "two!", 4));
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 5);
	CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* What does not fit is dropped; MSG_TRUNC says so, and as a
	 * flag returns the real length. */
	CHECK_EQ(send(sv[0], "hello world", 11, 0), 11);
	CHECK_EQ(recv(sv[1], buf, 5, MSG_PEEK), 5);
	CHECK_EQ(recv(sv[1], buf, 5, MSG_PEEK | MSG_TRUNC), 11);
	memset(&m, 0, sizeof(m));
	iov[0].iov_base = buf;
	iov[0].iov_len = 5;
	m.msg_iov = iov;
	m.msg_iovlen = 1;
	CHECK_EQ(recvmsg(sv[1], &m, 0), 5);
	CHECK_EQ(m.msg_flags, MSG_TRUNC);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_ERR(recv(sv[1], buf, 5, MSG_DONTWAIT), EAGAIN);
	/* read of a long datagram with a short buffer: the rest is gone. */
	CHECK_EQ(send(sv[0], "abcdef", 6, 0), 6);
	CHECK_EQ(read(sv[1], buf, 2), 2);
	CHECK_ERR(recv(sv[1], buf, 5, MSG_DONTWAIT), EAGAIN);

	/* A vector is one datagram, gathered and scattered. */
	iov[0] = (struct iovec){"ga", 2};
	iov[1] = (struct iovec){"", 0};
	iov[2] = (struct iovec){"ther", 4};
	CHECK_EQ(writev(sv[0], iov, 3), 6);
	iov[0] = (struct iovec){a, sizeof(a)};
	iov[1] = (struct iovec){b, sizeof(b)};
	CHECK_EQ(readv(sv[1], iov, 2), 6);
	CHECK(!memcmp(a, "gat", 3) && !memcmp(b, "her", 3));

	/* Empty datagrams are datagrams. */
	CHECK_EQ(send(sv[0], "", 0, 0), 0);
	CHECK_EQ(write(sv[0], "", 0), 0);
	CHECK_EQ(recv(sv[1], buf, 5, MSG_DONTWAIT), 0);
	CHECK_EQ(read(sv[1], buf, 0), 0); /* reads nothing, takes nothing */
	CHECK_EQ(recv(sv[1], buf, 5, MSG_DONTWAIT), 0);
	CHECK_ERR(recv(sv[1], buf, 5, MSG_DONTWAIT), EAGAIN);
	/* A zero-length recv takes a datagram too. */
	CHECK_EQ(send(sv[0], "gone", 4, 0), 4);
	CHECK_EQ(recv(sv[1], buf, 0, 0), 0);
	CHECK_ERR(recv(sv[1], buf, 5, MSG_DONTWAIT), EAGAIN);
	/* A bad buffer loses the datagram. */
	CHECK_EQ(send(sv[0], "lost", 4, 0), 4);
	CHECK_ERR(recv(sv[1], BAD_PTR, 4, 0), EFAULT);
	CHECK_ERR(recv(sv[1], buf, 5, MSG_DONTWAIT), EAGAIN);
	CHECK_ERR(send(sv[0], BAD_PTR, 4, 0), EFAULT);
	CHECK_ERR(recv(sv[1], buf, 5, MSG_DONTWAIT), EAGAIN);

	/* Too big for the send buffer: EMSGSIZE. */
	CHECK_EQ(send(sv[0], buf, 212992 - 32, MSG_DONTWAIT), 212992 - 32);
	CHECK_ERR(send(sv[0], buf, 212992 - 31, MSG_DONTWAIT), EMSGSIZE);
	/* The buffer is full now. */
	CHECK_ERR(send(sv[0], buf, 1, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), 0);
	CHECK_EQ(recv(sv[1], buf, 1, MSG_TRUNC), 212992 - 32);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLOUT);
	close(sv[0]);
	close(sv[1]);

	/* SOCK_RAW is a datagram socket here. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_RAW, 0, sv));
	{
		int v = 0;
		socklen_t l = sizeof(v);
		CHECK_SYS(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
		CHECK_EQ(v, SOCK_DGRAM);
	}
	close(sv[0]);
	close(sv[1]);
}

static void test_addresses(void)
{
	struct sockaddr_un ra, sa, from;
	socklen_t rl = abstract_addr(&ra, "dgram-r"), sl = abstract_addr(&sa, "dgram-s"), fl;
	int r, s, u, other;

	r = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	s = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	u = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_SYS(bind(r, (struct sockaddr *)&ra, rl));
	CHECK_SYS(bind(s, (struct sockaddr *)&sa, sl));
	/* Unconnected: send needs an address. */
	CHECK_ERR(send(s, "x", 1, 0), ENOTCONN);
	CHECK_EQ(poll_now(s, POLL_ALL), POLLOUT);
	CHECK_EQ(sendto(s, "from s", 6, 0, (struct sockaddr *)&ra, rl), 6);
	CHECK_EQ(sendto(u, "from u", 6, 0, (struct sockaddr *)&ra, rl), 6);
	/* recvfrom names the sender: bound, or nothing at all. */
	fl = sizeof(from);
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 6);
	CHECK_EQ(fl, sl);
	CHECK(!memcmp(&from, &sa, sl));
	fl = sizeof(from);
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 6);
	CHECK_EQ(fl, 0);
	/* A short address buffer: truncated, the full length reported. */
	CHECK_EQ(sendto(s, "x", 1, 0, (struct sockaddr *)&ra, rl), 1);
	fl = 4;
	memset(&from, 0, sizeof(from));
	CHECK_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 1);
	CHECK_EQ(fl, sl);
	CHECK_EQ(from.sun_path[2], 0);
	/* recvmsg's msg_name the same way. */
	CHECK_EQ(sendto(s, "y", 1, 0, (struct sockaddr *)&ra, rl), 1);
	{
		struct iovec io = {buf, 10};
		struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from),
				   .msg_iov = &io, .msg_iovlen = 1};
		CHECK_EQ(recvmsg(r, &m, 0), 1);
		CHECK_EQ(m.msg_namelen, sl);
	}

	/* connect: the default destination, and a filter of senders. */
	CHECK_SYS(connect(s, (struct sockaddr *)&ra, rl));
	CHECK_EQ(send(s, "c", 1, 0), 1);
	CHECK_EQ(recv(r, buf, 10, 0), 1);
	fl = sizeof(from);
	CHECK_SYS(getpeername(s, (struct sockaddr *)&from, &fl));
	CHECK_EQ(fl, rl);
	CHECK(!memcmp(&from, &ra, rl));
	CHECK_SYS(connect(r, (struct sockaddr *)&sa, sl));
	/* r takes only s's datagrams now. */
	CHECK_ERR(sendto(u, "no", 2, 0, (struct sockaddr *)&ra, rl), EPERM);
	other = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(connect(other, (struct sockaddr *)&ra, rl), EPERM);
	/* Connected, a datagram may still name its destination. */
	CHECK_EQ(sendto(s, "named", 5, 0, (struct sockaddr *)&ra, rl), 5);
	CHECK_EQ(recv(r, buf, 10, 0), 5);
	/* AF_UNSPEC dissolves the association. */
	{
		struct sockaddr un = {.sa_family = AF_UNSPEC};
		CHECK_SYS(connect(r, &un, sizeof(un)));
		CHECK_ERR(send(r, "x", 1, 0), ENOTCONN);
		fl = sizeof(from);
		CHECK_ERR(getpeername(r, (struct sockaddr *)&from, &fl), ENOTCONN);
		CHECK_EQ(sendto(u, "ok", 2, 0, (struct sockaddr *)&ra, rl), 2);
		CHECK_EQ(recv(r, buf, 10, 0), 2);
		CHECK_SYS(connect(u, &un, sizeof(un))); /* unconnected: fine */
		CHECK_ERR(connect(u, &un, 1), EINVAL);
	}
	/* Lookup errors. */
	{
		struct sockaddr_un none;
		socklen_t nl = abstract_addr(&none, "dgram-nobody");
		CHECK_ERR(sendto(u, "x", 1, 0, (struct sockaddr *)&none, nl), ECONNREFUSED);
		CHECK_ERR(connect(u, (struct sockaddr *)&none, nl), ECONNREFUSED);
		nl = path_addr(&none, "/nonexistent-dir/sock");
		CHECK_ERR(sendto(u, "x", 1, 0, (struct sockaddr *)&none, nl), ENOENT);
		none.sun_family = AF_INET;
		CHECK_ERR(sendto(u, "x", 1, 0, (struct sockaddr *)&none, nl), EINVAL);
		CHECK_ERR(sendto(u, "x", 1, 0, (struct sockaddr *)&ra, 2), EINVAL);
		CHECK_ERR(sendto(u, "x", 1, 0, (struct sockaddr *)&ra, 200), EINVAL);
		CHECK_ERR(sendto(u, "x", 1, 0, BAD_PTR, rl), EFAULT);
	}
	/* A stream socket's name is not a datagram socket's. */
	{
		int st = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		struct sockaddr_un na;
		socklen_t nl = abstract_addr(&na, "dgram-stream");
		CHECK_SYS(bind(st, (struct sockaddr *)&na, nl));
		CHECK_SYS(listen(st, 1));
		CHECK_ERR(sendto(u, "x", 1, 0, (struct sockaddr *)&na, nl), ECONNREFUSED);
		close(st);
	}
	close(r);
	close(s);
	close(u);
	close(other);
}

/* A receiver's queue holds max_dgram_qlen (10) datagrams from others;
 * then senders wait, or get EAGAIN, and poll says not writable. */
static void test_queue_limit(void)
{
	struct sockaddr_un ra;
	socklen_t rl = abstract_addr(&ra, "dgram-q");
	int r, s, n = 0;
	pid_t pid;

	r = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	s = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_SYS(bind(r, (struct sockaddr *)&ra, rl));
	while (sendto(s, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&ra, rl) == 1)
		n++;
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(n, 11);
	/* Unconnected, poll cannot know: writable. */
	CHECK_EQ(poll_now(s, POLL_ALL), POLLOUT);
	CHECK_SYS(connect(s, (struct sockaddr *)&ra, rl));
	CHECK_EQ(poll_now(s, POLL_ALL), 0);
	CHECK_ERR(send(s, "q", 1, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(recv(r, buf, 10, 0), 1);
	CHECK_EQ(poll_now(s, POLL_ALL), POLLOUT);
	CHECK_EQ(send(s, "q", 1, MSG_DONTWAIT), 1);
	CHECK_EQ(poll_now(s, POLL_ALL), 0);

	/* A blocked sender goes on when the receiver reads. */
	pid = fork();
	if (pid == 0)
		_exit(send(s, "last", 4, 0) == 4 ? 0 : 1);
	for (int i = 0; i < 11; i++)
		CHECK_EQ(recv(r, buf, 10, 0), 1);
	CHECK_EQ(recv(r, buf, 10, 0), 4);
	CHECK(!memcmp(buf, "last", 4));
	reap(pid);
	/* poll wakes a connected sender when there is room. */
	for (n = 0; send(s, "p", 1, MSG_DONTWAIT) == 1; n++)
		;
	CHECK_EQ(n, 11);
	pid = fork();
	if (pid == 0) {
		struct pollfd p = {s, POLLOUT, 0};
		_exit(poll(&p, 1, -1) == 1 && (p.revents & POLLOUT) ? 0 : 1);
	}
	CHECK_EQ(recv(r, buf, 10, 0), 1);
	reap(pid);
	close(r);
	close(s);

	/* A pair's own peer is never held up by the count (only by the
	 * send buffer). */
	{
		int sv[2];
		CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
		for (n = 0; n < 50; n++)
			if (send(sv[0], "x", 1, MSG_DONTWAIT) != 1)
				break;
		CHECK_EQ(n, 50);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_close_shutdown(void)
{
	int sv[2];

	catch_signal(SIGPIPE, false);
	/* The peer closes: no end of file for datagrams; a send is
	 * refused once, then the socket is simply unconnected. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(send(sv[0], "pending", 7, 0), 7);
	close(sv[0]);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 7);
	CHECK_ERR(recv(sv[1], buf, 10, MSG_DONTWAIT), EAGAIN);
	CHECK_ERR(send(sv[1], "x", 1, 0), ECONNREFUSED);
	CHECK_ERR(send(sv[1], "x", 1, 0), ENOTCONN);
	CHECK_EQ(got_sig, 0);
	close(sv[1]);

	/* Shutdown: EPIPE without SIGPIPE for datagrams; SHUT_RD makes a
	 * blocking receive return 0, a nonblocking one EAGAIN. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_SYS(shutdown(sv[0], SHUT_WR));
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_EQ(got_sig, 0);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLOUT);
	CHECK_EQ(send(sv[1], "y", 1, 0), 1);
	CHECK_SYS(shutdown(sv[1], SHUT_RD));
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT | POLLRDHUP);
	CHECK_ERR(recv(sv[1], buf, 10, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	CHECK_EQ(recv(sv[0], buf, 10, 0), 1);
	close(sv[0]);
	close(sv[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_mmsg(void)
{
	int sv[2];
	struct mmsghdr mm[5];
	struct iovec iov[5];
	char bufs[5][16];
	const char *words[3] = {"alpha", "be", "gamma!"};

	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 3; i++) {
		iov[i].iov_base = (void *)words[i];
		iov[i].iov_len = strlen(words[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK_EQ(sendmmsg(sv[0], mm, 3, 0), 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(mm[i].msg_len, strlen(words[i]));
	CHECK_EQ(sendmmsg(sv[0], mm, 0, 0), 0);
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 5; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK_EQ(recvmmsg(sv[1], mm, 5, MSG_DONTWAIT, NULL), 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(mm[i].msg_len, strlen(words[i]));
		CHECK(!memcmp(bufs[i], words[i], strlen(words[i])));
	}
	CHECK_ERR(recvmmsg(sv[1], mm, 5, MSG_DONTWAIT, NULL), EAGAIN);
	/* MSG_WAITFORONE: wait for the first, take what else is there. */
	CHECK_EQ(send(sv[0], "w1", 2, 0), 2);
	CHECK_EQ(send(sv[0], "w2", 2, 0), 2);
	CHECK_EQ(recvmmsg(sv[1], mm, 5, MSG_WAITFORONE, NULL), 2);
	/* A bad entry after good ones: the count of the good ones. */
	CHECK_EQ(send(sv[0], "e1", 2, 0), 2);
	mm[1].msg_hdr.msg_iov = BAD_PTR;
	CHECK_EQ(recvmmsg(sv[1], mm, 2, MSG_DONTWAIT, NULL), 1);
	CHECK_ERR(recvmmsg(sv[1], BAD_PTR, 2, MSG_DONTWAIT, NULL), EFAULT);
	{
		struct timespec bad = {0, 2000000000};
		CHECK_ERR(recvmmsg(sv[1], mm, 2, 0, &bad), EINVAL);
	}
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_boundaries();
	test_addresses();
	test_queue_limit();
	test_close_shutdown();
	test_mmsg();
	return check_exit();
}
