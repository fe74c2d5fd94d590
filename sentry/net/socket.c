/* The socket file (Linux's socket_file_ops over sockfs): read, write,
 * readv and writev are messages without an address; poll, ioctl and
 * fstat go to the family. Also socket creation by family. */
#include "sentry/net/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/rw.h"

/* sockfs: one anonymous device, inode numbers from a counter. */
static pthread_once_t sockfs_once = PTHREAD_ONCE_INIT;
static uint64_t sockfs_dev;
static atomic_uint_fast64_t sockfs_next_ino = 1;

static void sockfs_init(void) { sockfs_dev = vfs_anon_dev(); }

struct socket *sock_alloc(const struct proto_ops *ops, int type)
{
	struct socket *sock = calloc(1, sizeof(*sock));
	struct timespec now;

	if (!sock)
		return NULL;
	sock->ops = ops;
	sock->type = type;
	sock->ino = atomic_fetch_add(&sockfs_next_ino, 1);
	if (current) {
		sock->uid = current->tg->creds.fsuid;
		sock->gid = current->tg->creds.fsgid;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	sock->ctime.tv_sec = now.tv_sec;
	sock->ctime.tv_nsec = now.tv_nsec;
	return sock;
}

void sock_release(struct socket *sock)
{
	if (!sock)
		return;
	if (sock->sk)
		sock->ops->release(sock);
	free(sock);
}

int sock_create(struct task *t, int family, int type, int protocol, struct socket **out)
{
	/* Only AF_UNIX exists in the sandbox for now: no network (a later
	 * issue), and no netlink. Linux says EAFNOSUPPORT for a family it
	 * lacks, and glibc's probes (getaddrinfo's netlink query,
	 * if_nametoindex) fall back on that. */
	if (family != AF_UNIX)
		return -EAFNOSUPPORT;
	return unix_create(t, type, protocol, out);
}

/* --- the file --- */

static struct socket *file_sock(struct file *f) { return f->priv; }

static int nb_flags(struct file *f) { return (f->flags & O_NONBLOCK) ? MSG_DONTWAIT : 0; }

static ssize_t sock_read_iter(struct file *f, struct task *t, const struct uiovec *iov,
			      size_t nr)
{
	struct socket *sock = file_sock(f);
	struct sock_msg m;
	size_t len = 0;

	for (size_t i = 0; i < nr; i++)
		len += iov[i].len;
	/* Linux's sock_read_iter: nothing to read is not a receive. */
	if (!len)
		return 0;
	memset(&m, 0, sizeof(m));
	sock_iter_user(&m.iter, t, iov, nr, len);
	m.t = t;
	return sock->ops->recvmsg(sock, t, &m, len, nb_flags(f));
}

static ssize_t sock_write_iter(struct file *f, struct task *t, const struct uiovec *iov,
			       size_t nr)
{
	struct socket *sock = file_sock(f);
	struct sock_msg m;
	size_t len = 0;

	for (size_t i = 0; i < nr; i++)
		len += iov[i].len;
	/* An empty write is still a send: a datagram of no bytes. */
	memset(&m, 0, sizeof(m));
	sock_iter_user(&m.iter, t, iov, nr, len);
	m.t = t;
	return sock->ops->sendmsg(sock, t, &m, len, nb_flags(f));
}

/* Sentry buffers (sendfile, splice): the same, for the calling task. */
static ssize_t sock_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	struct socket *sock = file_sock(f);
	struct sock_msg m;

	(void)pos;
	if (!len)
		return 0;
	memset(&m, 0, sizeof(m));
	sock_iter_kernel(&m.iter, buf, len);
	return sock->ops->recvmsg(sock, current, &m, len, nb_flags(f));
}

static ssize_t sock_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	struct socket *sock = file_sock(f);
	struct sock_msg m;

	(void)pos;
	memset(&m, 0, sizeof(m));
	sock_iter_kernel(&m.iter, (void *)buf, len);
	return sock->ops->sendmsg(sock, current, &m, len, nb_flags(f));
}

static uint32_t sock_poll(struct file *f, struct wq_entry *e)
{
	struct socket *sock = file_sock(f);
	return sock->ops->poll(sock, e);
}

static long sock_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct socket *sock = file_sock(f);
	return sock->ops->ioctl(sock, t, cmd, arg);
}

static int sock_stat(struct file *f, struct k_stat *st)
{
	struct socket *sock = file_sock(f);

	pthread_once(&sockfs_once, sockfs_init);
	memset(st, 0, sizeof(*st));
	st->st_dev = sockfs_dev;
	st->st_ino = sock->ino;
	st->st_nlink = 1;
	st->st_mode = S_IFSOCK | 0777;
	st->st_uid = sock->uid;
	st->st_gid = sock->gid;
	st->st_blksize = 4096;
	st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = (uint64_t)sock->ctime.tv_sec;
	st->st_atime_nsec = st->st_mtime_nsec = st->st_ctime_nsec =
		(uint64_t)sock->ctime.tv_nsec;
	return 0;
}

static void sock_file_release(struct file *f)
{
	sock_release(file_sock(f));
}

static const struct file_ops socket_file_ops = {
	.read = sock_read,
	.write = sock_write,
	.read_iter = sock_read_iter,
	.write_iter = sock_write_iter,
	.poll = sock_poll,
	.ioctl = sock_ioctl,
	.stat = sock_stat,
	.release = sock_file_release,
	.stream = 1,
};

struct file *sock_alloc_file(struct socket *sock, int flags)
{
	struct file *f = file_new(&socket_file_ops, O_RDWR | (flags & O_NONBLOCK), sock);
	if (f)
		sock->file = f;
	return f;
}

struct socket *sock_from_file(struct file *f)
{
	return f && f->ops == &socket_file_ops ? f->priv : NULL;
}
