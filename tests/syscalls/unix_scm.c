/* Control messages on AF_UNIX sockets: SCM_RIGHTS passing a regular
 * file (the same open file description), a socket, several files with
 * MSG_CTRUNC when the buffer is short, MSG_CMSG_CLOEXEC and MSG_PEEK;
 * files in flight released when never received, also in a cycle of
 * sockets; malformed control messages; SCM_CREDENTIALS (SO_PASSCRED,
 * explicit credentials, who may claim what); SO_PEERCRED of pairs and
 * of connections. */
#include <grp.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "fs_util.h"
#include "unix_util.h"

static char buf[4096];

/* Sends data with n files and, if cred, a credentials message. */
static ssize_t send_ctl(int s, const int *fds, int n, const struct ucred *cred,
			const char *data, size_t len, int flags)
{
	char ctl[CMSG_SPACE(sizeof(int) * 300) + CMSG_SPACE(sizeof(struct ucred))];
	struct iovec io = {(void *)data, len};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl};
	struct cmsghdr *c = (struct cmsghdr *)ctl;
	size_t off = 0;

	memset(ctl, 0, sizeof(ctl));
	if (n > 0) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
		off += CMSG_SPACE(sizeof(int) * (size_t)n);
	}
	if (cred) {
		c = (struct cmsghdr *)(ctl + off);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(*cred));
		memcpy(CMSG_DATA(c), cred, sizeof(*cred));
		off += CMSG_SPACE(sizeof(*cred));
	}
	m.msg_controllen = off;
	if (!off)
		m.msg_control = NULL;
	return sendmsg(s, &m, flags);
}

/* What one recvmsg brought: data length, flags, files, credentials. */
struct got {
	ssize_t n;
	int flags;
	int nfds;
	int fds[8];
	bool has_cred;
	struct ucred cred;
	size_t controllen;
};

static struct got recv_ctl(int s, size_t ctllen, int flags)
{
	char ctl[512];
	struct iovec io = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctllen ? ctl : NULL,
			   .msg_controllen = ctllen};
	struct got g;

	memset(&g, 0, sizeof(g));
	memset(ctl, 0, sizeof(ctl));
	g.n = recvmsg(s, &m, flags);
	g.flags = m.msg_flags;
	g.controllen = m.msg_controllen;
	if (g.n < 0)
		return g;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k && g.nfds < 8; i++)
				memcpy(&g.fds[g.nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			g.has_cred = true;
			memcpy(&g.cred, CMSG_DATA(c), sizeof(g.cred));
		}
	}
	return g;
}

static void test_rights_file(void)
{
	int sv[2], fd, before;
	struct got g;
	struct stat a, b;

	fd = CHECK_SYS(open("data", O_RDWR | O_CREAT | O_TRUNC, 0600));
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_SYS(lseek(fd, 2, SEEK_SET));
	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(send_ctl(sv[0], &fd, 1, NULL, "f", 1, 0), 1);
	g = recv_ctl(sv[1], 512, 0);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.flags, 0);
	CHECK_EQ(g.nfds, 1);
	CHECK_EQ(g.controllen, CMSG_SPACE(sizeof(int)));
	if (g.nfds == 1) {
		/* The same open file: one offset. */
		CHECK(g.fds[0] != fd);
		CHECK_SYS(fstat(g.fds[0], &a));
		CHECK_SYS(fstat(fd, &b));
		CHECK_EQ(a.st_ino, b.st_ino);
		CHECK_EQ(lseek(g.fds[0], 0, SEEK_CUR), 2);
		CHECK_EQ(read(g.fds[0], buf, 3), 3);
		CHECK(!memcmp(buf, "234", 3));
		CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
		CHECK_EQ(fcntl(g.fds[0], F_GETFD), 0);
		close(g.fds[0]);
	}
	/* MSG_CMSG_CLOEXEC: close-on-exec, and said so in msg_flags. */
	CHECK_EQ(send_ctl(sv[0], &fd, 1, NULL, "f", 1, 0), 1);
	g = recv_ctl(sv[1], 512, MSG_CMSG_CLOEXEC);
	CHECK_EQ(g.nfds, 1);
	CHECK_EQ(g.flags, MSG_CMSG_CLOEXEC);
	CHECK_EQ(fcntl(g.fds[0], F_GETFD), FD_CLOEXEC);
	close(g.fds[0]);

	/* No room: MSG_CTRUNC, and no fd appears. */
	before = count_fds();
	CHECK_EQ(send_ctl(sv[0], &fd, 1, NULL, "f", 1, 0), 1);
	g = recv_ctl(sv[1], 0, 0);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.flags, MSG_CTRUNC);
	CHECK_EQ(send_ctl(sv[0], &fd, 1, NULL, "f", 1, 0), 1);
	g = recv_ctl(sv[1], sizeof(struct cmsghdr), 0);
	CHECK_EQ(g.flags, MSG_CTRUNC);
	CHECK_EQ(g.nfds, 0);
	CHECK_EQ(g.controllen, 0);
	CHECK_EQ(count_fds(), before);
	/* Room for two of three. */
	{
		int three[3] = {fd, fd, fd};
		CHECK_EQ(send_ctl(sv[0], three, 3, NULL, "f", 1, 0), 1);
		g = recv_ctl(sv[1], CMSG_SPACE(2 * sizeof(int)), 0);
		CHECK_EQ(g.flags, MSG_CTRUNC);
		CHECK_EQ(g.nfds, 2);
		CHECK_EQ(count_fds(), before + 2);
		for (int i = 0; i < g.nfds; i++)
			close(g.fds[i]);
	}
	/* MSG_PEEK installs new fds; the read installs others. */
	CHECK_EQ(send_ctl(sv[0], &fd, 1, NULL, "p", 1, 0), 1);
	g = recv_ctl(sv[1], 512, MSG_PEEK);
	CHECK_EQ(g.nfds, 1);
	{
		struct got g2 = recv_ctl(sv[1], 512, 0);
		CHECK_EQ(g2.nfds, 1);
		CHECK(g2.fds[0] != g.fds[0]);
		close(g2.fds[0]);
	}
	close(g.fds[0]);
	CHECK_EQ(count_fds(), before);
	/* read() of a message with files drops them. */
	CHECK_EQ(send_ctl(sv[0], &fd, 1, NULL, "r", 1, 0), 1);
	CHECK_EQ(read(sv[1], buf, 10), 1);
	CHECK_EQ(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	unlink("data");
}

static void test_rights_socket(void)
{
	int sv[2], inner[2];
	struct got g;

	/* A socket passed over a socket: used by the receiver. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_SYS(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, inner));
	CHECK_EQ(send_ctl(sv[0], &inner[1], 1, NULL, "s", 1, 0), 1);
	close(inner[1]);
	g = recv_ctl(sv[1], 512, 0);
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.nfds, 1);
	CHECK_EQ(send(inner[0], "via", 3, 0), 3);
	CHECK_EQ(recv(g.fds[0], buf, 10, 0), 3);
	CHECK(!memcmp(buf, "via", 3));
	{
		int v = 0;
		socklen_t l = sizeof(v);
		CHECK_SYS(getsockopt(g.fds[0], SOL_SOCKET, SO_TYPE, &v, &l));
		CHECK_EQ(v, SOCK_SEQPACKET);
	}
	close(g.fds[0]);
	CHECK_EQ(recv(inner[0], buf, 10, 0), 0);
	close(inner[0]);

	/* A stream read stops after data that came with files. */
	CHECK_EQ(send(sv[0], "ab", 2, 0), 2);
	CHECK_EQ(send_ctl(sv[0], &sv[0], 1, NULL, "cd", 2, 0), 2);
	CHECK_EQ(send(sv[0], "ef", 2, 0), 2);
	g = recv_ctl(sv[1], 512, 0);
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.nfds, 1);
	close(g.fds[0]);
	g = recv_ctl(sv[1], 512, 0);
	CHECK_EQ(g.n, 2);
	CHECK_EQ(g.nfds, 0);
	/* Files without data on a stream go nowhere. */
	CHECK_EQ(send_ctl(sv[0], &sv[0], 1, NULL, "", 0, 0), 0);
	CHECK_ERR(recv(sv[1], buf, 10, MSG_DONTWAIT), EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

/* Files in flight that are never received are released: a pipe's
 * write end sent and dropped with the sockets gives its reader EOF. */
static void test_inflight_release(void)
{
	int sv[2], p[2], a[2];

	CHECK_SYS(pipe(p));
	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK_EQ(send_ctl(sv[0], &p[1], 1, NULL, "w", 1, 0), 1);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	CHECK_EQ(read(p[0], buf, 1), 0);
	close(p[0]);

	/* A cycle: each socket of a pair in the other's queue, with the
	 * pipe's write end; closing both leaves only the cycle, which the
	 * garbage collector takes apart. */
	CHECK_SYS(pipe(p));
	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, a));
	CHECK_EQ(send_ctl(a[0], &a[0], 1, NULL, "x", 1, 0), 1);
	{
		int two[2] = {a[1], p[1]};
		CHECK_EQ(send_ctl(a[1], two, 2, NULL, "y", 1, 0), 1);
	}
	close(p[1]);
	close(a[0]);
	close(a[1]);
	/* The collector runs when a unix socket is released (Linux
	 * schedules it then): release an unrelated one. */
	close(CHECK_SYS(socket(AF_UNIX, SOCK_DGRAM, 0)));
	CHECK_EQ(read(p[0], buf, 1), 0);
	close(p[0]);
}

static void test_bad_control(void)
{
	int sv[2], fd = 0;
	char ctl[64];
	struct iovec io = {"x", 1};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl};
	struct cmsghdr *c = (struct cmsghdr *)ctl;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	/* cmsg_len too small, or past the buffer. */
	c->cmsg_len = sizeof(struct cmsghdr) - 1;
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_len = 100;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	/* An unknown type at SOL_SOCKET; another level is ignored. */
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 77;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_level = 5;
	CHECK_EQ(sendmsg(sv[0], &m, 0), 1);
	/* A bad fd. */
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	fd = 999;
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	CHECK_ERR(sendmsg(sv[0], &m, 0), EBADF);
	/* Credentials of the wrong size. */
	c->cmsg_type = SCM_CREDENTIALS;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	/* A control buffer shorter than a header is none at all. */
	m.msg_controllen = sizeof(struct cmsghdr) - 1;
	CHECK_EQ(sendmsg(sv[0], &m, 0), 1);
	/* Bad pointers and sizes. */
	m.msg_control = BAD_PTR;
	m.msg_controllen = 32;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EFAULT);
	m.msg_control = ctl;
	m.msg_controllen = 1u << 31;
	CHECK_ERR(sendmsg(sv[0], &m, 0), ENOBUFS);
	m.msg_controllen = 0;
	m.msg_iovlen = 1025;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	m.msg_iov = BAD_PTR;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EFAULT);
	CHECK_ERR(sendmsg(sv[0], BAD_PTR, 0), EFAULT);
	CHECK_ERR(recvmsg(sv[1], BAD_PTR, 0), EFAULT);
	/* More than SCM_MAX_FD (253) files. */
	{
		int many[254];
		for (int i = 0; i < 254; i++)
			many[i] = sv[0];
		CHECK_ERR(send_ctl(sv[0], many, 254, NULL, "x", 1, 0), EINVAL);
		CHECK_EQ(send_ctl(sv[0], many, 253, NULL, "x", 1, 0), 1);
	}
	while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	close(sv[0]);
	close(sv[1]);
}

static void test_credentials(void)
{
	int sv[2], v = 1;
	struct ucred me = {getpid(), getuid(), getgid()}, other;
	struct got g;

	CHECK_SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	/* Without SO_PASSCRED nothing is reported, even if sent. */
	CHECK_EQ(send_ctl(sv[0], NULL, 0, &me, "a", 1, 0), 1);
	g = recv_ctl(sv[1], 512, 0);
	CHECK(!g.has_cred);
	CHECK_EQ(g.flags, 0);
	/* With it, the sender's: pid, real uid and gid. */
	CHECK_SYS(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	CHECK_EQ(send(sv[0], "b", 1, 0), 1);
	g = recv_ctl(sv[1], 512, 0);
	CHECK(g.has_cred);
	CHECK_EQ(g.cred.pid, getpid());
	CHECK_EQ(g.cred.uid, getuid());
	CHECK_EQ(g.cred.gid, getgid());
	CHECK_EQ(g.controllen, CMSG_SPACE(sizeof(struct ucred)));
	/* No control buffer: MSG_CTRUNC. */
	CHECK_EQ(send(sv[0], "c", 1, 0), 1);
	g = recv_ctl(sv[1], 0, 0);
	CHECK_EQ(g.flags, MSG_CTRUNC);
	/* Sent before SO_PASSCRED was on: unknown ids. */
	v = 0;
	CHECK_SYS(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	CHECK_EQ(send(sv[0], "d", 1, 0), 1);
	v = 1;
	CHECK_SYS(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	g = recv_ctl(sv[1], 512, 0);
	CHECK(g.has_cred);
	CHECK_EQ(g.cred.pid, 0);
	CHECK_EQ(g.cred.uid, 65534);
	CHECK_EQ(g.cred.gid, 65534);
	/* Credentials first, then files; a buffer with room for the
	 * credentials only truncates the files. */
	CHECK_EQ(send_ctl(sv[0], &sv[0], 1, &me, "e", 1, 0), 1);
	g = recv_ctl(sv[1], 512, 0);
	CHECK(g.has_cred);
	CHECK_EQ(g.nfds, 1);
	close(g.fds[0]);
	CHECK_EQ(send_ctl(sv[0], &sv[0], 1, &me, "f", 1, 0), 1);
	g = recv_ctl(sv[1], CMSG_SPACE(sizeof(struct ucred)) + 8, 0);
	CHECK(g.has_cred);
	CHECK_EQ(g.nfds, 0);
	CHECK_EQ(g.flags, MSG_CTRUNC);
	/* Invalid ids. */
	other = me;
	other.uid = (uid_t)-1;
	CHECK_ERR(send_ctl(sv[0], NULL, 0, &other, "x", 1, 0), EINVAL);
	/* A privileged sender may claim other ids and pids that exist. */
	if (geteuid() == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		other = me;
		other.pid = pid;
		other.uid = 12345;
		CHECK_EQ(send_ctl(sv[0], NULL, 0, &other, "g", 1, 0), 1);
		g = recv_ctl(sv[1], 512, 0);
		CHECK_EQ(g.cred.pid, pid);
		CHECK_EQ(g.cred.uid, 12345);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		other.pid = 0x3ffffff0;
		CHECK_ERR(send_ctl(sv[0], NULL, 0, &other, "x", 1, 0), ESRCH);
	}
	/* An unprivileged one only its own (a child with dropped ids when
	 * we are root). */
	{
		pid_t pid = fork();
		if (pid == 0) {
			struct ucred mine;
			if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
					       setuid(65534) < 0))
				_exit(10);
			mine.pid = getpid();
			mine.uid = getuid();
			mine.gid = getgid();
			if (send_ctl(sv[0], NULL, 0, &mine, "h", 1, 0) != 1)
				_exit(11);
			other = mine;
			other.pid = getppid();
			if (send_ctl(sv[0], NULL, 0, &other, "x", 1, 0) != -1 || errno != EPERM)
				_exit(12);
			other = mine;
			other.uid = mine.uid + 1;
			if (send_ctl(sv[0], NULL, 0, &other, "x", 1, 0) != -1 || errno != EPERM)
				_exit(13);
			other = mine;
			other.gid = mine.gid + 1;
			if (send_ctl(sv[0], NULL, 0, &other, "x", 1, 0) != -1 || errno != EPERM)
				_exit(14);
			_exit(0);
		}
		reap(pid);
		g = recv_ctl(sv[1], 512, 0);
		CHECK_EQ(g.n, 1);
		CHECK_EQ(g.cred.pid, pid);
		CHECK_EQ(buf[0], 'h');
	}
	close(sv[0]);
	close(sv[1]);

	/* SO_PASSCRED on a stream: messages of different senders are not
	 * read as one. */
	CHECK_SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_SYS(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)));
	CHECK_EQ(send(sv[0], "ab", 2, 0), 2);
	{
		pid_t pid = fork();
		if (pid == 0)
			_exit(send(sv[0], "cd", 2, 0) == 2 ? 0 : 1);
		reap(pid);
		g = recv_ctl(sv[1], 512, 0);
		CHECK_EQ(g.n, 2);
		CHECK_EQ(g.cred.pid, getpid());
		g = recv_ctl(sv[1], 512, 0);
		CHECK_EQ(g.n, 2);
		CHECK_EQ(g.cred.pid, pid);
	}
	close(sv[0]);
	close(sv[1]);
}

/* SO_PEERCRED: a pair's is its maker; a connection's, the process at
 * the other end when it connected (the listener's when it listened). */
static void test_peercred(void)
{
	struct sockaddr_un a;
	socklen_t len = abstract_addr(&a, "peercred");
	struct ucred uc;
	socklen_t l = sizeof(uc);
	int lsn, x, ready[2];
	pid_t pid;
	char c;

	lsn = CHECK_SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_SYS(bind(lsn, (struct sockaddr *)&a, len));
	CHECK_SYS(listen(lsn, 1));
	/* A listener's own, set by listen. */
	CHECK_SYS(getsockopt(lsn, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, getpid());
	CHECK_SYS(pipe(ready));
	pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct ucred pc;
		socklen_t pl = sizeof(pc);
		if (s < 0 || connect(s, (struct sockaddr *)&a, len) < 0)
			_exit(1);
		if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &pc, &pl) < 0 || pc.pid != getppid() ||
		    pc.uid != geteuid())
			_exit(2);
		/* Hold the connection until the parent looked. */
		_exit(read(ready[0], &c, 1) == 1 ? 0 : 3);
	}
	x = CHECK_SYS(accept(lsn, NULL, NULL));
	l = sizeof(uc);
	CHECK_SYS(getsockopt(x, SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(uc.pid, pid);
	CHECK_EQ(uc.uid, geteuid());
	CHECK_EQ(uc.gid, getegid());
	CHECK_EQ(write(ready[1], "g", 1), 1);
	reap(pid);
	close(x);
	close(lsn);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	if (fs_setup() < 0)
		return check_exit();
	test_rights_file();
	test_rights_socket();
	test_inflight_release();
	test_bad_control();
	test_credentials();
	test_peercred();
	fs_cleanup();
	return check_exit();
}
