/* Socket system calls: socket, socketpair, bind, connect, listen,
 * accept(4), getsockname, getpeername, sendto, recvfrom, sendmsg,
 * recvmsg, sendmmsg, recvmmsg, shutdown, setsockopt, getsockopt. They
 * copy addresses, message headers and options in and out in Linux's
 * order of checks (net/socket.c); the families do the rest
 * (sentry/net/). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/net/socket.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/rw.h"

#define SOCK_TYPE_MASK 0xf
#define SOCK_MAX_TYPE 11       /* SOCK_PACKET + 1 */
#define NPROTO 46              /* AF_MAX */
#define SOMAXCONN_K 4096       /* net.core.somaxconn */

/* The application's struct msghdr and struct mmsghdr (x86-64). */
struct user_msghdr {
	uint64_t name;
	int32_t namelen;
	uint32_t pad0;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
	int32_t flags;
	uint32_t pad1;
};
_Static_assert(sizeof(struct user_msghdr) == 56, "struct msghdr is 56 bytes");
#define MMSG_SIZE 64
#define MMSG_LEN_OFF 56

/* The socket behind fd, and its file (referenced): EBADF, ENOTSOCK.
 * O_PATH files are not there for socket calls (Linux's fdget). */
static struct socket *get_sock(struct task *t, int fd, struct file **fp, long *err)
{
	struct file *f = get_fd(t, fd, false);
	struct socket *sock;

	*err = -EBADF;
	if (!f)
		return NULL;
	sock = sock_from_file(f);
	if (!sock) {
		file_put(f);
		*err = -ENOTSOCK;
		return NULL;
	}
	*fp = f;
	return sock;
}

/* Linux's move_addr_to_kernel: buf has SOCK_ADDR_MAX bytes, zeroed. */
static int addr_in(struct task *t, uint64_t uaddr, int len, void *buf)
{
	memset(buf, 0, SOCK_ADDR_MAX);
	if (len < 0 || len > SOCK_ADDR_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	return copy_from_user(t, buf, uaddr, (size_t)len) < 0 ? -EFAULT : 0;
}

/* Linux's move_addr_to_user: as much as fits, and the full length. */
static int addr_out(struct task *t, const void *kaddr, int klen, uint64_t uaddr, uint64_t ulen)
{
	int len;

	if (copy_from_user(t, &len, ulen, sizeof(len)) < 0)
		return -EFAULT;
	if (len > klen)
		len = klen;
	if (len < 0)
		return -EINVAL;
	if (len && copy_to_user(t, uaddr, kaddr, (size_t)len) < 0)
		return -EFAULT;
	return copy_to_user(t, ulen, &klen, sizeof(klen)) < 0 ? -EFAULT : 0;
}

/* The flags socket() and socketpair() take with the type. */
static int split_type(int *type, int *flags)
{
	*flags = *type & ~SOCK_TYPE_MASK;
	if (*flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	*type &= SOCK_TYPE_MASK;
	return 0;
}

/* A file for sock installed as a new fd (sock is consumed either way). */
static long install_sock(struct task *t, struct socket *sock, int flags)
{
	struct file *f = sock_alloc_file(sock, flags & SOCK_NONBLOCK ? O_NONBLOCK : 0);
	long fd;

	if (!f) {
		sock_release(sock);
		return -ENOMEM;
	}
	fd = install_fd(t, f, flags & SOCK_CLOEXEC);
	file_put(f);
	return fd;
}

SYSCALL(socket)
{
	int family = (int)a[0], type = (int)a[1], flags;
	struct socket *sock;
	long r = split_type(&type, &flags);

	if (r < 0)
		return r;
	if (family < 0 || family >= NPROTO)
		return -EAFNOSUPPORT;
	if (type >= SOCK_MAX_TYPE)
		return -EINVAL;
	r = sock_create(t, family, type, (int)a[2], &sock);
	if (r < 0)
		return r;
	return install_sock(t, sock, flags);
}

SYSCALL(socketpair)
{
	int family = (int)a[0], type = (int)a[1], flags, fds[2] = {-1, -1};
	struct socket *s1 = NULL, *s2 = NULL;
	long r = split_type(&type, &flags);

	if (r < 0)
		return r;
	/* Linux writes the fds before it makes the sockets. */
	if (copy_to_user(t, a[3], fds, sizeof(fds)) < 0)
		return -EFAULT;
	if (family < 0 || family >= NPROTO)
		return -EAFNOSUPPORT;
	if (type >= SOCK_MAX_TYPE)
		return -EINVAL;
	if (family != AF_UNIX)
		/* Families Linux has, but without pairs, say so. */
		return family == AF_INET || family == AF_INET6 || family == AF_NETLINK ||
		       family == AF_PACKET ? -EOPNOTSUPP : -EAFNOSUPPORT;
	r = sock_create(t, family, type, (int)a[2], &s1);
	if (r == 0)
		r = sock_create(t, family, type, (int)a[2], &s2);
	if (r == 0)
		r = s1->ops->socketpair(s1, s2, t);
	if (r < 0) {
		sock_release(s1);
		sock_release(s2);
		return r;
	}
	fds[0] = (int)install_sock(t, s1, flags);
	if (fds[0] < 0) {
		sock_release(s2);
		return fds[0];
	}
	fds[1] = (int)install_sock(t, s2, flags);
	if (fds[1] < 0) {
		fdtable_close(t->fdt, fds[0]);
		return fds[1];
	}
	if (copy_to_user(t, a[3], fds, sizeof(fds)) < 0) {
		fdtable_close(t->fdt, fds[0]);
		fdtable_close(t->fdt, fds[1]);
		return -EFAULT;
	}
	return 0;
}

SYSCALL(bind)
{
	unsigned char addr[SOCK_ADDR_MAX];
	struct file *f;
	long r;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	r = addr_in(t, a[1], (int)a[2], addr);
	if (r == 0)
		r = sock->ops->bind(sock, t, addr, (int)a[2]);
	file_put(f);
	return r;
}

SYSCALL(connect)
{
	unsigned char addr[SOCK_ADDR_MAX];
	struct socket *sock;
	struct file *f = get_fd(t, (int)a[0], false);
	long r;

	/* Linux: the fd, then the address, then whether it is a socket. */
	if (!f)
		return -EBADF;
	r = addr_in(t, a[1], (int)a[2], addr);
	if (r == 0) {
		sock = sock_from_file(f);
		r = sock ? sock->ops->connect(sock, t, addr, (int)a[2], f->flags) : -ENOTSOCK;
	}
	file_put(f);
	return r;
}

SYSCALL(listen)
{
	int backlog = (int)a[1];
	struct file *f;
	long r;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	if ((unsigned)backlog > SOMAXCONN_K)
		backlog = SOMAXCONN_K;
	r = sock->ops->listen(sock, t, backlog);
	file_put(f);
	return r;
}

static long do_accept(struct task *t, const uint64_t *a, int flags)
{
	unsigned char addr[SOCK_ADDR_MAX];
	struct socket *sock, *newsock;
	struct file *f, *nf;
	long r;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	sock = get_sock(t, (int)a[0], &f, &r);
	if (!sock)
		return r;
	/* The fd is taken before the connection, as Linux does. */
	r = fdtable_check_free(t->fdt, 0, t->tg->rlimits[RLIMIT_NOFILE].cur);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	newsock = sock_alloc(sock->ops, sock->type);
	if (!newsock)
		goto out;
	r = sock->ops->accept(sock, t, newsock, f->flags);
	if (r < 0) {
		sock_release(newsock);
		goto out;
	}
	nf = sock_alloc_file(newsock, flags & SOCK_NONBLOCK ? O_NONBLOCK : 0);
	if (!nf) {
		sock_release(newsock);
		r = -ENOMEM;
		goto out;
	}
	if (a[1]) {
		int len = newsock->ops->getname(newsock, addr, true);
		r = len < 0 ? -ECONNABORTED : addr_out(t, addr, len, a[1], a[2]);
		if (r < 0) {
			file_put(nf); /* the connection is lost, as on Linux */
			goto out;
		}
	}
	r = install_fd(t, nf, flags & SOCK_CLOEXEC);
	file_put(nf);
out:
	file_put(f);
	return r;
}

SYSCALL(accept) { return do_accept(t, a, 0); }
SYSCALL(accept4) { return do_accept(t, a, (int)a[3]); }

static long do_getname(struct task *t, const uint64_t *a, bool peer)
{
	unsigned char addr[SOCK_ADDR_MAX];
	struct file *f;
	long r;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	memset(addr, 0, sizeof(addr));
	r = sock->ops->getname(sock, addr, peer);
	if (r >= 0)
		r = addr_out(t, addr, (int)r, a[1], a[2]);
	file_put(f);
	return r;
}

SYSCALL(getsockname) { return do_getname(t, a, false); }
SYSCALL(getpeername) { return do_getname(t, a, true); }

static int nb(struct file *f, int flags)
{
	return (f->flags & O_NONBLOCK) ? flags | MSG_DONTWAIT : flags;
}

SYSCALL(sendto)
{
	unsigned char addr[SOCK_ADDR_MAX];
	size_t len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
	struct uiovec v = {a[1], len};
	struct sock_msg m;
	struct socket *sock;
	struct file *f;
	long r;

	if (!user_range_ok(a[1], len))
		return -EFAULT;
	sock = get_sock(t, (int)a[0], &f, &r);
	if (!sock)
		return r;
	memset(&m, 0, sizeof(m));
	sock_iter_user(&m.iter, t, &v, 1, len);
	if (a[4]) {
		r = addr_in(t, a[4], (int)a[5], addr);
		if (r < 0)
			goto out;
		if ((int)a[5]) {
			m.name = addr;
			m.namelen = (int)a[5];
		}
	}
	m.t = t;
	r = sock->ops->sendmsg(sock, t, &m, len, nb(f, (int)a[3]));
out:
	file_put(f);
	return r;
}

SYSCALL(recvfrom)
{
	unsigned char addr[SOCK_ADDR_MAX];
	size_t len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
	struct uiovec v = {a[1], len};
	struct sock_msg m;
	struct socket *sock;
	struct file *f;
	long r;

	if (!user_range_ok(a[1], len))
		return -EFAULT;
	sock = get_sock(t, (int)a[0], &f, &r);
	if (!sock)
		return r;
	memset(&m, 0, sizeof(m));
	memset(addr, 0, sizeof(addr));
	sock_iter_user(&m.iter, t, &v, 1, len);
	m.name = a[4] ? addr : NULL;
	m.t = t;
	r = sock->ops->recvmsg(sock, t, &m, len, nb(f, (int)a[3]));
	if (r >= 0 && a[4]) {
		long r2 = addr_out(t, addr, m.namelen, a[4], a[5]);
		if (r2 < 0)
			r = r2;
	}
	file_put(f);
	return r;
}

/* One message header in: the name (sendmsg copies it, recvmsg only
 * notes where it goes) and the iovecs; Linux's copy_msghdr_from_user. */
static long msghdr_in(struct task *t, uint64_t umsg, struct user_msghdr *h,
		      struct uiovec **iov, bool send, void *addr)
{
	long r;

	*iov = NULL;
	if (copy_from_user(t, h, umsg, sizeof(*h)) < 0)
		return -EFAULT;
	if (!h->name)
		h->namelen = 0;
	if (h->namelen < 0)
		return -EINVAL;
	if (h->namelen > SOCK_ADDR_MAX)
		h->namelen = SOCK_ADDR_MAX;
	if (h->iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	memset(addr, 0, SOCK_ADDR_MAX);
	if (send && h->namelen && copy_from_user(t, addr, h->name, (size_t)h->namelen) < 0)
		return -EFAULT;
	r = iovec_import(t, h->iov, h->iovlen, iov);
	return r;
}

/* sendmsg of one header; *left: bytes that did not go (for sendmmsg). */
static long do_sendmsg(struct task *t, struct socket *sock, struct file *f, uint64_t umsg,
		       int flags, size_t *left)
{
	unsigned char addr[SOCK_ADDR_MAX];
	struct user_msghdr h;
	struct uiovec *iov;
	struct sock_msg m;
	void *ctl = NULL;
	long total, r;

	total = msghdr_in(t, umsg, &h, &iov, true, addr);
	if (total < 0)
		return total;
	memset(&m, 0, sizeof(m));
	r = -ENOBUFS;
	if (h.controllen > 0x7fffffff || h.controllen >= SOCK_OPTMEM_MAX)
		goto out;
	if (h.controllen) {
		r = -ENOMEM;
		ctl = malloc(h.controllen);
		if (!ctl)
			goto out;
		r = -EFAULT;
		if (copy_from_user(t, ctl, h.control, h.controllen) < 0)
			goto out;
	}
	sock_iter_user(&m.iter, t, iov, h.iovlen, (size_t)total);
	if (h.namelen) {
		m.name = addr;
		m.namelen = h.namelen;
	}
	m.control = ctl;
	m.controllen = h.controllen;
	m.t = t;
	r = sock->ops->sendmsg(sock, t, &m, (size_t)total, nb(f, flags));
	if (left)
		*left = r >= 0 ? (size_t)total - (size_t)r : 0;
out:
	free(ctl);
	free(iov);
	return r;
}

SYSCALL(sendmsg)
{
	struct file *f;
	long r;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	r = do_sendmsg(t, sock, f, a[1], (int)a[2], NULL);
	file_put(f);
	return r;
}

static long do_recvmsg(struct task *t, struct socket *sock, struct file *f, uint64_t umsg,
		       int flags)
{
	unsigned char addr[SOCK_ADDR_MAX];
	struct user_msghdr h;
	struct uiovec *iov;
	struct sock_msg m;
	uint64_t used;
	long total, r;

	total = msghdr_in(t, umsg, &h, &iov, false, addr);
	if (total < 0)
		return total;
	memset(&m, 0, sizeof(m));
	sock_iter_user(&m.iter, t, iov, h.iovlen, (size_t)total);
	m.name = h.name ? addr : NULL;
	m.t = t;
	m.ucontrol = h.control;
	m.ucontrollen = h.controllen;
	m.flags = flags & MSG_CMSG_CLOEXEC;
	r = sock->ops->recvmsg(sock, t, &m, (size_t)total, nb(f, flags));
	free(iov);
	if (r < 0)
		return r;
	if (h.name) {
		long r2 = addr_out(t, addr, m.namelen, h.name,
				   umsg + offsetof(struct user_msghdr, namelen));
		if (r2 < 0)
			return r2;
	}
	used = m.ucontrol - h.control;
	if (copy_to_user(t, umsg + offsetof(struct user_msghdr, flags), &m.flags,
			 sizeof(m.flags)) < 0 ||
	    copy_to_user(t, umsg + offsetof(struct user_msghdr, controllen), &used,
			 sizeof(used)) < 0)
		return -EFAULT;
	return r;
}

SYSCALL(recvmsg)
{
	struct file *f;
	long r;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	r = do_recvmsg(t, sock, f, a[1], (int)a[2]);
	file_put(f);
	return r;
}

SYSCALL(sendmmsg)
{
	unsigned vlen = (unsigned)a[2], n = 0;
	struct file *f;
	long r = 0;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	r = 0;
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	while (n < vlen) {
		uint64_t entry = a[1] + (uint64_t)n * MMSG_SIZE;
		size_t left = 0;
		uint32_t sent;

		r = do_sendmsg(t, sock, f, entry, (int)a[3], &left);
		if (r < 0)
			break;
		sent = (uint32_t)r;
		if (copy_to_user(t, entry + MMSG_LEN_OFF, &sent, sizeof(sent)) < 0) {
			r = -EFAULT;
			break;
		}
		n++;
		/* A short send ends the batch. */
		if (left)
			break;
	}
	file_put(f);
	/* An error counts only if nothing was sent. */
	return n ? (long)n : r;
}

SYSCALL(recvmmsg)
{
	unsigned vlen = (unsigned)a[2], n = 0;
	int flags = (int)a[3];
	struct k_timespec ts;
	uint64_t end = 0;
	struct socket *sock;
	struct file *f;
	long r = 0;
	int v, len = sizeof(v);

	if (a[4]) {
		if (copy_from_user(t, &ts, a[4], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		end = monotonic_ns() + (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
	sock = get_sock(t, (int)a[0], &f, &r);
	if (!sock)
		return r;
	r = 0;
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	/* A pending error comes first (and is consumed). */
	if (!(flags & MSG_ERRQUEUE) &&
	    sock->ops->getsockopt(sock, t, SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v) {
		file_put(f);
		return -v;
	}
	while (n < vlen) {
		uint64_t entry = a[1] + (uint64_t)n * MMSG_SIZE;
		uint32_t got;

		r = do_recvmsg(t, sock, f, entry, flags & ~MSG_WAITFORONE);
		if (r < 0)
			break;
		got = (uint32_t)r;
		if (copy_to_user(t, entry + MMSG_LEN_OFF, &got, sizeof(got)) < 0) {
			r = -EFAULT;
			break;
		}
		n++;
		r = 0;
		/* MSG_WAITFORONE: only the first may wait. */
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (a[4]) {
			/* The timeout is only looked at between messages
			 * (Linux's long-standing behaviour). */
			uint64_t now = monotonic_ns(), left = now < end ? end - now : 0;
			ts.tv_sec = (int64_t)(left / 1000000000ULL);
			ts.tv_nsec = (int64_t)(left % 1000000000ULL);
			if (!left)
				break;
		}
	}
	file_put(f);
	if (n == 0)
		return r;
	if (a[4] && copy_to_user(t, a[4], &ts, sizeof(ts)) < 0)
		return -EFAULT;
	return n;
}

SYSCALL(shutdown)
{
	struct file *f;
	long r;
	struct socket *sock = get_sock(t, (int)a[0], &f, &r);

	if (!sock)
		return r;
	r = sock->ops->shutdown(sock, (int)a[1]);
	file_put(f);
	return r;
}

SYSCALL(setsockopt)
{
	unsigned char val[64];
	int optlen = (int)a[4];
	size_t avail = 0;
	struct socket *sock;
	struct file *f;
	long r;

	if (optlen < 0)
		return -EINVAL;
	sock = get_sock(t, (int)a[0], &f, &r);
	if (!sock)
		return r;
	/* Options are small: what there is of the first bytes. */
	if (optlen) {
		long n = copy_from_user_partial(t, val, a[3],
						(size_t)optlen < sizeof(val) ? (size_t)optlen
									      : sizeof(val));
		avail = n > 0 ? (size_t)n : 0;
	}
	r = sock->ops->setsockopt(sock, t, (int)a[1], (int)a[2], val, avail, optlen);
	file_put(f);
	return r;
}

SYSCALL(getsockopt)
{
	unsigned char val[SOCK_ADDR_MAX];
	int len = 0;
	struct socket *sock;
	struct file *f;
	long r;

	sock = get_sock(t, (int)a[0], &f, &r);
	if (!sock)
		return r;
	if ((int)a[1] == SOL_SOCKET && copy_from_user(t, &len, a[4], sizeof(len)) < 0) {
		r = -EFAULT;
		goto out;
	}
	memset(val, 0, sizeof(val));
	r = sock->ops->getsockopt(sock, t, (int)a[1], (int)a[2], val, &len);
	if (r < 0)
		goto out;
	if ((len && copy_to_user(t, a[3], val, (size_t)len) < 0) ||
	    copy_to_user(t, a[4], &len, sizeof(len)) < 0)
		r = -EFAULT;
out:
	file_put(f);
	return r;
}
