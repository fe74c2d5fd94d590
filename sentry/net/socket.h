/* Sockets: the file every socket is (Linux's socket_file_ops), the
 * per-family operations behind it (struct proto_ops), and the kernel's
 * view of a message (struct sock_msg). The system call handlers
 * (sentry/syscalls/sys_socket.c) copy addresses, options and message
 * headers in and out; the families (sentry/net/unix/) do the rest.
 *
 * Lifetimes: the file owns its struct socket; the socket owns one
 * reference to the family's object (sk), which may outlive it (a unix
 * socket stays alive while a peer or a queued message refers to it). */
#ifndef RC_SENTRY_NET_SOCKET_H
#define RC_SENTRY_NET_SOCKET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/errno_names.h"
#include "abi/linux.h"

struct task;
struct file;
struct wq_entry;
struct uiovec;
struct socket;

/* sizeof(struct sockaddr_storage): the most any address takes. */
#define SOCK_ADDR_MAX 128
/* Linux's sysctl net.core.optmem_max (6.9 and later): the largest
 * control buffer sendmsg accepts. */
#define SOCK_OPTMEM_MAX 131072

/* Where message data comes from or goes to: the application's iovecs
 * (t set), or one sentry buffer (splice, sendfile). */
struct sock_iter {
	struct task *t;
	const struct uiovec *iov;
	size_t nr;
	size_t idx, off;       /* the next byte: iov[idx].base + off */
	char *kbuf;
	size_t count;          /* bytes left */
};

void sock_iter_user(struct sock_iter *it, struct task *t, const struct uiovec *iov,
		    size_t nr, size_t count);
void sock_iter_kernel(struct sock_iter *it, void *buf, size_t len);
/* Copy n bytes (at most count) and advance: 0 or -EFAULT, in which
 * case the position is undefined. */
int sock_iter_copy_in(struct sock_iter *it, void *dst, size_t n);
int sock_iter_copy_out(struct sock_iter *it, const void *src, size_t n);

/* A message being sent or received (Linux's struct msghdr, kernel
 * side). */
struct sock_msg {
	struct sock_iter iter;
	/* sendmsg: the destination (NULL: none). recvmsg: a buffer of
	 * SOCK_ADDR_MAX bytes (or NULL) for the source; namelen says how
	 * much of it the family filled (0: no address). */
	void *name;
	int namelen;
	/* sendmsg: the control messages, copied in. */
	const void *control;
	size_t controllen;
	/* recvmsg: where control messages go in t's memory (0: nowhere)
	 * and the room left there; both advance as messages are put. */
	struct task *t;
	uint64_t ucontrol;
	size_t ucontrollen;
	/* recvmsg: the msg_flags the call reports (MSG_TRUNC, MSG_CTRUNC,
	 * and MSG_CMSG_CLOEXEC as the caller passed it). */
	int flags;
};

struct proto_ops {
	int family;
	/* The file is gone: disconnect and drop the reference to sk. */
	void (*release)(struct socket *sock);
	int (*bind)(struct socket *sock, struct task *t, const void *addr, int len);
	/* fflags: the file's flags (O_NONBLOCK). */
	int (*connect)(struct socket *sock, struct task *t, const void *addr, int len,
		       int fflags);
	int (*socketpair)(struct socket *a, struct socket *b, struct task *t);
	int (*listen)(struct socket *sock, struct task *t, int backlog);
	/* Fills newsock (made by the caller, of sock's family and type)
	 * with the next connection. */
	int (*accept)(struct socket *sock, struct task *t, struct socket *newsock,
		      int fflags);
	/* Fills addr (SOCK_ADDR_MAX bytes); returns its length or -errno. */
	int (*getname)(struct socket *sock, void *addr, bool peer);
	uint32_t (*poll)(struct socket *sock, struct wq_entry *e);
	long (*ioctl)(struct socket *sock, struct task *t, unsigned long cmd, uint64_t arg);
	int (*shutdown)(struct socket *sock, int how);
	/* val holds avail bytes of the application's optlen (copied in
	 * as far as they could be). */
	int (*setsockopt)(struct socket *sock, struct task *t, int level, int name,
			  const void *val, size_t avail, int optlen);
	/* *len: the application's buffer size in, the length to report
	 * out; val has room for SOCK_ADDR_MAX bytes. */
	int (*getsockopt)(struct socket *sock, struct task *t, int level, int name,
			  void *val, int *len);
	/* flags: MSG_*, with MSG_DONTWAIT already set for a nonblocking
	 * file. Return bytes or -errno. */
	ssize_t (*sendmsg)(struct socket *sock, struct task *t, struct sock_msg *m,
			   size_t len, int flags);
	ssize_t (*recvmsg)(struct socket *sock, struct task *t, struct sock_msg *m,
			   size_t len, int flags);
};

struct socket {
	const struct proto_ops *ops;
	int type;
	/* What fstat shows: sockfs's inode. */
	uint64_t ino;
	uint32_t uid, gid;
	struct k_timespec ctime;
	void *sk;
	struct file *file;     /* not referenced; NULL until there is one */
};

/* socket(2): a socket of family/type/protocol (type without flags).
 * -EAFNOSUPPORT for families the sandbox does not have. */
int sock_create(struct task *t, int family, int type, int protocol, struct socket **out);
/* An empty socket of sock's family and type, for accept. */
struct socket *sock_alloc(const struct proto_ops *ops, int type);
/* Drops a socket that never got a file. */
void sock_release(struct socket *sock);
/* The file for sock (flags: O_NONBLOCK); it then owns sock. NULL when
 * out of memory (sock is left to the caller). */
struct file *sock_alloc_file(struct socket *sock, int flags);
/* The socket behind f, or NULL if f is not one (ENOTSOCK). */
struct socket *sock_from_file(struct file *f);

/* Linux's sock_intr_errno: a signal ends a wait with a restart unless a
 * send or receive timeout was set. */
static inline int sock_intr_errno(bool has_timeout)
{
	return has_timeout ? -EINTR : -ERESTARTSYS;
}

#endif
