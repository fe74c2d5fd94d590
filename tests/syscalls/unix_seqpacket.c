/* AF_UNIX seqpacket sockets: connected, reliable, with message
 * boundaries. Pairs and listen/connect/accept, MSG_TRUNC with the real
 * length, empty messages, end of file after close or shutdown (also
 * nonblocking), EPIPE without SIGPIPE, ENOTCONN before connecting, and
 * poll. */
#include <sys/uio.h>

#include "unix_util.h"

static char buf[1 << 18];

static void test_pair(void)
{
	int sv[2];
	struct iovec iov[2];
	struct msghdr m;
	char a[2], b[8];

	CHECK_SYS(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	CHECK_EQ(send(sv[0], "first", 5, 0), 5);
	CHECK_EQ(send(sv[0], "2nd", 3, 0), 3);
	CHECK_EQ(send(sv[0], "", 0, 0), 0);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 5);
	CHECK(!memcmp(buf, "first", 5));
	/* Truncated: the rest is gone; MSG_TRUNC gives the real length. */
	CHECK_EQ(recv(sv[1], buf, 1, MSG_TRUNC), 3);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 0);
	CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(send(sv[0], "truncated", 9, 0), 9);
	memset(&m, 0, sizeof(m));
	iov[0] = (struct iovec){a, sizeof(a)};
	iov[1] = (struct iovec){b, 3};
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	CHECK_EQ(recvmsg(sv[1], &m, 0), 5);
	CHECK_EQ(m.msg_flags, MSG_TRUNC);
	CHECK(!memcmp(a, "tr", 2) && !memcmp(b, "unc", 3));
	/* A connected socket ignores a destination. */
	{
		struct sockaddr_un x;
		socklen_t xl = abstract_addr(&x, "seq-ignored");
		CHECK_EQ(sendto(sv[0], "to", 2, 0, (struct sockaddr *)&x, xl), 2);
		CHECK_EQ(recv(sv[1], buf, 10, 0), 2);
	}
	/* The send buffer bounds a message. */
	CHECK_EQ(send(sv[0], buf, 212992 - 32, MSG_DONTWAIT), 212992 - 32);
	CHECK_ERR(send(sv[0], buf, 212992 - 31, MSG_DONTWAIT), EMSGSIZE);
	CHECK_ERR(send(sv[0], buf, 100, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(recv(sv[1], buf, 10, MSG_TRUNC), 212992 - 32);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLOUT);
	close(sv[0]);
	close(sv[1]);
}

static void test_eof(void)
{
	int sv[2];

	catch_signal(SIGPIPE, false);
	/* Close: the messages sent are read, then end of file, even
	 * nonblocking. Sending to a closed peer: EPIPE, no SIGPIPE. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	CHECK_EQ(send(sv[0], "abc", 3, 0), 3);
	close(sv[0]);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	CHECK_EQ(recv(sv[1], buf, 10, MSG_DONTWAIT), 3);
	CHECK_EQ(recv(sv[1], buf, 10, MSG_DONTWAIT), 0);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	CHECK_ERR(send(sv[1], "x", 1, 0), EPIPE);
	CHECK_EQ(got_sig, 0);
	close(sv[1]);
	/* SHUT_WR: the same for the peer; the sender gets EPIPE. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	CHECK_SYS(shutdown(sv[0], SHUT_WR));
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_EQ(poll_now(sv[0], POLL_ALL), POLLOUT);
	CHECK_EQ(poll_now(sv[1], POLL_ALL), POLLIN | POLLOUT | POLLRDHUP);
	CHECK_EQ(recv(sv[1], buf, 10, MSG_DONTWAIT), 0);
	CHECK_EQ(recv(sv[1], buf, 10, 0), 0);
	/* SHUT_RD of the receiver: the sender gets EPIPE. */
	CHECK_SYS(shutdown(sv[0], SHUT_RD));
	CHECK_ERR(send(sv[1], "x", 1, 0), EPIPE);
	CHECK_EQ(got_sig, 0);
	close(sv[0]);
	close(sv[1]);
	signal(SIGPIPE, SIG_DFL);
}

static void test_connect(void)
{
	struct sockaddr_un a;
	socklen_t len = abstract_addr(&a, "seqpacket");
	int l, c, x, d;
	pid_t pid;

	l = CHECK_SYS(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	c = CHECK_SYS(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	/* Not connected: nothing goes either way. */
	CHECK_EQ(poll_now(c, POLL_ALL), POLLOUT | POLLHUP);
	CHECK_ERR(send(c, "x", 1, 0), ENOTCONN);
	CHECK_ERR(recv(c, buf, 1, MSG_DONTWAIT), ENOTCONN);
	CHECK_ERR(read(c, buf, 1), ENOTCONN);
	CHECK_SYS(bind(l, (struct sockaddr *)&a, len));
	CHECK_SYS(listen(l, 5));
	CHECK_ERR(recv(l, buf, 1, MSG_DONTWAIT), ENOTCONN);
	CHECK_SYS(connect(c, (struct sockaddr *)&a, len));
	CHECK_EQ(send(c, "m1", 2, 0), 2);
	CHECK_EQ(send(c, "msg2", 4, 0), 4);
	x = CHECK_SYS(accept(l, NULL, NULL));
	CHECK_EQ(recv(x, buf, 100, 0), 2);
	CHECK_EQ(recv(x, buf, 100, 0), 4);
	CHECK_EQ(send(x, "reply", 5, 0), 5);
	CHECK_EQ(recv(c, buf, 100, 0), 5);
	/* A stream socket cannot connect to a seqpacket listener. */
	d = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(d, (struct sockaddr *)&a, len), ECONNREFUSED);
	close(d);
	/* A message from another process, each boundary kept. */
	pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&a, len) < 0)
			_exit(1);
		for (int i = 1; i <= 3; i++)
			if (send(s, buf, (size_t)i * 1000, 0) != i * 1000)
				_exit(2);
		_exit(0);
	}
	d = CHECK_SYS(accept(l, NULL, NULL));
	for (int i = 1; i <= 3; i++)
		CHECK_EQ(recv(d, buf, sizeof(buf), 0), i * 1000);
	CHECK_EQ(recv(d, buf, sizeof(buf), 0), 0);
	reap(pid);
	close(d);
	/* The listener closes with a connection not accepted. */
	d = CHECK_SYS(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	CHECK_SYS(connect(d, (struct sockaddr *)&a, len));
	close(l);
	CHECK_ERR(recv(d, buf, 10, MSG_DONTWAIT), ECONNRESET);
	CHECK_EQ(recv(d, buf, 10, MSG_DONTWAIT), 0);
	close(d);
	close(c);
	close(x);
}

int main(void)
{
	test_pair();
	test_eof();
	test_connect();
	return check_exit();
}
