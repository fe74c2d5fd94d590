/* Names of AF_UNIX sockets: path names (a socket node made in the
 * directory, the umask, EADDRINUSE, connect by path, relative paths,
 * unlink leaving the socket working but unreachable), abstract names
 * (any bytes, one namespace per socket type), autobind, and the
 * address lengths getsockname, getpeername and accept report, as Linux
 * gives them: a path counts its NUL, an abstract name every byte
 * given, an unnamed socket just the family. */
#include <sys/stat.h>

#include "fs_util.h"
#include "unix_util.h"

static char buf[256];

static socklen_t name_of(int s, struct sockaddr_un *a, bool peer)
{
	socklen_t l = sizeof(*a);
	memset(a, 0x55, sizeof(*a));
	if ((peer ? getpeername : getsockname)(s, (struct sockaddr *)a, &l) < 0)
		return (socklen_t)-1;
	return l;
}

static void test_path(void)
{
	struct sockaddr_un a, got;
	socklen_t len = path_addr(&a, "sock"), gl;
	int l, c, x, again;
	struct stat st;
	char abs[200];

	umask(022);
	l = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(bind(l, (struct sockaddr *)&a, sizeof(a)));
	/* A socket node, mode 0777 less the umask. */
	CHECK_SYS(lstat("sock", &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0755);
	/* Its name: the path with its NUL, whatever length was given. */
	gl = name_of(l, &got, false);
	CHECK_EQ(gl, SUN_OFF + strlen("sock") + 1);
	CHECK_EQ(gl, len);
	CHECK(!strcmp(got.sun_path, "sock"));
	/* Bound once only; a name in use is EADDRINUSE. */
	CHECK_ERR(bind(l, (struct sockaddr *)&a, len), EADDRINUSE);
	{
		struct sockaddr_un b;
		socklen_t bl = path_addr(&b, "other");
		CHECK_ERR(bind(l, (struct sockaddr *)&b, bl), EINVAL);
		/* ... and the node that bind made went again. */
		CHECK_ERR(access("other", F_OK), ENOENT);
	}
	again = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(bind(again, (struct sockaddr *)&a, len), EADDRINUSE);
	CHECK_SYS(listen(l, 5));

	/* Connect by the relative path and by the absolute one. */
	c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(connect(c, (struct sockaddr *)&a, len));
	gl = name_of(c, &got, true);
	CHECK_EQ(gl, len);
	CHECK(!strcmp(got.sun_path, "sock"));
	gl = name_of(c, &got, false);
	CHECK_EQ(gl, SUN_OFF);
	x = CHECK_SYS(accept(l, (struct sockaddr *)&got, &(socklen_t){sizeof(got)}));
	gl = name_of(x, &got, false);
	CHECK_EQ(gl, len);
	CHECK_EQ(send(c, "hi", 2, 0), 2);
	CHECK_EQ(recv(x, buf, 10, 0), 2);
	close(x);
	close(c);
	snprintf(abs, sizeof(abs), "%s/sock", fs_tmpdir);
	{
		struct sockaddr_un b;
		socklen_t bl = path_addr(&b, abs);
		c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_SYS(connect(c, (struct sockaddr *)&b, bl));
		close(accept(l, NULL, NULL));
		close(c);
		/* The wrong type: EPROTOTYPE. */
		CHECK_ERR(connect(again, (struct sockaddr *)&b, bl), EPROTOTYPE);
	}

	/* Unlinked: the listener works on, but no one finds it. */
	c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(connect(c, (struct sockaddr *)&a, len));
	CHECK_SYS(unlink("sock"));
	x = CHECK_SYS(accept(l, NULL, NULL));
	CHECK_EQ(send(x, "still", 5, 0), 5);
	CHECK_EQ(recv(c, buf, 10, 0), 5);
	close(c);
	close(x);
	c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ENOENT);
	/* Its name is still the name it was bound to. */
	gl = name_of(l, &got, false);
	CHECK_EQ(gl, len);
	/* The path is free for a new socket, which is the one found. */
	{
		int l2 = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_SYS(bind(l2, (struct sockaddr *)&a, len));
		CHECK_SYS(listen(l2, 5));
		CHECK_SYS(connect(c, (struct sockaddr *)&a, len));
		set_nonblock(l, true);
		CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
		close(CHECK_SYS(accept(l2, NULL, NULL)));
		close(l2);
	}
	close(c);
	close(l);
	/* A socket node nobody is bound to, and a file that is none. */
	c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	CHECK_SYS(unlink("sock"));
	fs_put("plain", "x");
	{
		struct sockaddr_un b;
		socklen_t bl = path_addr(&b, "plain");
		CHECK_ERR(connect(c, (struct sockaddr *)&b, bl), ECONNREFUSED);
		CHECK_ERR(bind(c, (struct sockaddr *)&b, bl), EADDRINUSE);
		bl = path_addr(&b, "nodir/sock");
		CHECK_ERR(bind(c, (struct sockaddr *)&b, bl), ENOENT);
		CHECK_ERR(connect(c, (struct sockaddr *)&b, bl), ENOENT);
		bl = path_addr(&b, "plain/sock");
		CHECK_ERR(bind(c, (struct sockaddr *)&b, bl), ENOTDIR);
	}
	close(c);
	close(again);

	/* A datagram socket bound to a path gets datagrams by it. */
	{
		int r = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
		int s = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
		struct sockaddr_un from;
		socklen_t fl = sizeof(from), dl = path_addr(&a, "dsock");
		CHECK_SYS(bind(r, (struct sockaddr *)&a, dl));
		CHECK_SYS(bind(s, (struct sockaddr *)&(struct sockaddr_un){AF_UNIX, "dsend"},
			       SUN_OFF + 6));
		CHECK_EQ(sendto(s, "d", 1, 0, (struct sockaddr *)&a, dl), 1);
		CHECK_EQ(recvfrom(r, buf, 10, 0, (struct sockaddr *)&from, &fl), 1);
		CHECK_EQ(fl, SUN_OFF + 6);
		CHECK(!strcmp(from.sun_path, "dsend"));
		close(r);
		close(s);
		unlink("dsock");
		unlink("dsend");
	}
}

/* A path of all 108 bytes, no NUL: Linux reports one byte more than a
 * struct sockaddr_un holds. */
static void test_long_path(void)
{
	struct sockaddr_un a, got;
	socklen_t gl;
	int s = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memset(a.sun_path, 'L', sizeof(a.sun_path));
	CHECK_SYS(bind(s, (struct sockaddr *)&a, sizeof(a)));
	gl = name_of(s, &got, false);
	CHECK_EQ(gl, sizeof(a) + 1);
	CHECK(!memcmp(got.sun_path, a.sun_path, sizeof(a.sun_path)));
	memcpy(buf, a.sun_path, sizeof(a.sun_path));
	buf[sizeof(a.sun_path)] = 0;
	CHECK_SYS(unlink(buf));
	close(s);
}

static void test_abstract(void)
{
	struct sockaddr_un a, got;
	socklen_t len = abstract_addr(&a, "names"), gl;
	int s, d, s2, c;

	s = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(bind(s, (struct sockaddr *)&a, len));
	gl = name_of(s, &got, false);
	CHECK_EQ(gl, len);
	CHECK(!memcmp(&got, &a, len));
	/* One namespace per type. */
	d = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_SYS(bind(d, (struct sockaddr *)&a, len));
	s2 = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(s2, (struct sockaddr *)&a, len), EADDRINUSE);
	/* The length is part of the name: trailing NULs make another. */
	CHECK_SYS(bind(s2, (struct sockaddr *)&a, len + 1));
	gl = name_of(s2, &got, false);
	CHECK_EQ(gl, len + 1);
	/* Bytes after a NUL count too. */
	{
		struct sockaddr_un b;
		int e = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
		memset(&b, 0, sizeof(b));
		b.sun_family = AF_UNIX;
		memcpy(b.sun_path, "\0a\0b", 4);
		CHECK_SYS(bind(e, (struct sockaddr *)&b, SUN_OFF + 4));
		gl = name_of(e, &got, false);
		CHECK_EQ(gl, SUN_OFF + 4);
		CHECK(!memcmp(got.sun_path, "\0a\0b", 4));
		close(e);
		/* The empty abstract name is a name. */
		e = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
		CHECK_SYS(bind(e, (struct sockaddr *)&b, SUN_OFF + 1));
		gl = name_of(e, &got, false);
		CHECK_EQ(gl, SUN_OFF + 1);
		close(e);
	}
	/* Bound once only. */
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len + 2), EINVAL);
	CHECK_SYS(listen(s, 1));
	c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(connect(c, (struct sockaddr *)&a, len));
	gl = name_of(c, &got, true);
	CHECK_EQ(gl, len);
	close(c);
	/* Free again once the socket is gone. */
	close(s);
	s = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(bind(s, (struct sockaddr *)&a, len));
	close(s);
	close(s2);
	close(d);
}

static void test_autobind(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX}, got, again;
	socklen_t gl;
	int s, d, r, v = 1;

	/* Unnamed: the family alone. */
	s = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	gl = name_of(s, &got, false);
	CHECK_EQ(gl, SUN_OFF);
	CHECK_EQ(got.sun_family, AF_UNIX);
	/* bind with the family alone picks "\0" and five hex digits. */
	CHECK_SYS(bind(s, (struct sockaddr *)&a, SUN_OFF));
	gl = name_of(s, &got, false);
	CHECK_EQ(gl, SUN_OFF + 6);
	CHECK_EQ(got.sun_path[0], 0);
	for (int i = 1; i < 6; i++)
		CHECK(strchr("0123456789abcdef", got.sun_path[i]) != NULL);
	/* Again: nothing changes, no error. */
	CHECK_SYS(bind(s, (struct sockaddr *)&a, SUN_OFF));
	gl = name_of(s, &again, false);
	CHECK_EQ(gl, SUN_OFF + 6);
	CHECK(!memcmp(&got, &again, gl));
	/* The autobound name reaches it. */
	d = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_EQ(sendto(d, "auto", 4, 0, (struct sockaddr *)&got, SUN_OFF + 6), 4);
	CHECK_EQ(recv(s, buf, 10, 0), 4);
	/* Sending and connecting do not name a socket, unless it asked
	 * for credentials (SO_PASSCRED). */
	gl = name_of(d, &again, false);
	CHECK_EQ(gl, SUN_OFF);
	CHECK_SYS(connect(d, (struct sockaddr *)&got, SUN_OFF + 6));
	gl = name_of(d, &again, false);
	CHECK_EQ(gl, SUN_OFF);
	r = CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_SYS(setsockopt(r, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	gl = name_of(r, &again, false);
	CHECK_EQ(gl, SUN_OFF);
	CHECK_EQ(sendto(r, "p", 1, 0, (struct sockaddr *)&got, SUN_OFF + 6), 1);
	gl = name_of(r, &again, false);
	CHECK_EQ(gl, SUN_OFF + 6);
	CHECK_EQ(again.sun_path[0], 0);
	/* Its receiver sees that name. */
	{
		struct sockaddr_un from;
		socklen_t fl = sizeof(from);
		CHECK_EQ(recvfrom(s, buf, 10, 0, (struct sockaddr *)&from, &fl), 1);
		CHECK_EQ(fl, SUN_OFF + 6);
		CHECK(!memcmp(&from, &again, fl));
	}
	close(r);
	/* Stream connect with SO_PASSCRED autobinds too. */
	{
		struct sockaddr_un la;
		socklen_t ll = abstract_addr(&la, "names-auto");
		int l = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		int c = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_SYS(bind(l, (struct sockaddr *)&la, ll));
		CHECK_SYS(listen(l, 1));
		CHECK_SYS(setsockopt(c, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
		CHECK_SYS(connect(c, (struct sockaddr *)&la, ll));
		gl = name_of(c, &again, false);
		CHECK_EQ(gl, SUN_OFF + 6);
		close(c);
		close(l);
	}
	close(s);
	close(d);
}

static void test_invalid(void)
{
	struct sockaddr_un a;
	socklen_t len = abstract_addr(&a, "names-bad"), gl;
	int s = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));

	CHECK_ERR(bind(s, (struct sockaddr *)&a, 1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 0), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a) + 1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 129), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, (socklen_t)-1), EINVAL);
	CHECK_ERR(bind(s, BAD_PTR, len), EFAULT);
	a.sun_family = AF_INET;
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), EINVAL);
	CHECK_ERR(connect(s, (struct sockaddr *)&a, len), EINVAL);
	a.sun_family = AF_UNIX;
	CHECK_ERR(connect(s, (struct sockaddr *)&a, SUN_OFF), EINVAL);
	CHECK_ERR(connect(s, BAD_PTR, len), EFAULT);
	CHECK_ERR(connect(999, (struct sockaddr *)&a, len), EBADF);
	CHECK_ERR(bind(999, (struct sockaddr *)&a, len), EBADF);
	CHECK_ERR(bind(0, (struct sockaddr *)&a, len), ENOTSOCK);
	/* getsockname: short buffers get the start and the full length. */
	CHECK_SYS(bind(s, (struct sockaddr *)&a, len));
	memset(&a, 0, sizeof(a));
	gl = 3;
	CHECK_SYS(getsockname(s, (struct sockaddr *)&a, &gl));
	CHECK_EQ(gl, len);
	CHECK_EQ(a.sun_family, AF_UNIX);
	CHECK_EQ(a.sun_path[1], 0);
	gl = (socklen_t)-1;
	CHECK_ERR(getsockname(s, (struct sockaddr *)&a, &gl), EINVAL);
	CHECK_ERR(getsockname(s, (struct sockaddr *)&a, BAD_PTR), EFAULT);
	gl = sizeof(a);
	CHECK_ERR(getsockname(s, BAD_PTR, &gl), EFAULT);
	close(s);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_path();
	test_long_path();
	test_abstract();
	test_autobind();
	test_invalid();
	fs_cleanup();
	return check_exit();
}
