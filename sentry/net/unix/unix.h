/* AF_UNIX sockets, emulated entirely in the sentry after Linux's
 * net/unix/af_unix.c: stream, datagram and seqpacket sockets, path and
 * abstract names, SCM_RIGHTS and SCM_CREDENTIALS. No host socket is
 * involved (the sentry's seccomp filter forbids socket()).
 *
 * A socket's receive queue holds messages (Linux's skbs); each is
 * charged to its sender's send buffer (wmem) until it is read or
 * dropped, which is what blocks a writer. A listener's queue holds
 * connection requests: each carries the embryo socket that accept
 * returns.
 *
 * Lifetimes: a unix_sock is reference counted. Its socket (the file)
 * holds one reference until release; a peer pointer holds one; a
 * message holds one on its sender; a connection request holds the
 * embryo's. Release (the file's last close) disconnects; the memory
 * goes with the last reference.
 *
 * Lock order: u->bindlock -> u->iolock (serialises receivers) ->
 * unix_gc_lock (files entering or leaving flight; the collector reads
 * queues under it) -> unix_table_lock -> u->lock -> a second socket's
 * lock (a listener's before the connecting socket's; two datagram
 * sockets in address order) -> the wait queues' locks. Messages are
 * never freed with u->lock held: freeing drops files, and dropping a
 * socket file takes socket locks. */
#ifndef RC_SENTRY_NET_UNIX_UNIX_H
#define RC_SENTRY_NET_UNIX_UNIX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sentry/kernel/wait.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/vfs.h"

struct task;
struct file;

/* Linux's defaults: net.core.wmem_default/rmem_default and _max,
 * SOCK_MIN_SNDBUF/RCVBUF, net.unix.max_dgram_qlen, net.core.somaxconn,
 * SCM_MAX_FD. */
#define UNIX_BUF_DEFAULT 212992
#define UNIX_BUF_MAX 212992
/* Our own bound for SO_SNDBUFFORCE/SO_RCVBUFFORCE (before doubling). */
#define UNIX_BUF_FORCE_MAX (8 << 20)
#define UNIX_MIN_SNDBUF 4608
#define UNIX_MIN_RCVBUF 2304
#define UNIX_MAX_DGRAM_QLEN 10
#define UNIX_SOMAXCONN 4096
#define UNIX_SCM_MAX_FD 253
/* The most one stream message carries (Linux's SKB_MAX_HEAD(0) plus
 * UNIX_SKB_FRAGS_SZ). */
#define UNIX_STREAM_CHUNK 36480
/* No send or receive timeout (Linux's MAX_SCHEDULE_TIMEOUT). */
#define UNIX_TIMEO_INF UINT64_MAX

/* shutdown bits (Linux's RCV_SHUTDOWN, SEND_SHUTDOWN). */
#define UNIX_RCV_SHUTDOWN 1
#define UNIX_SEND_SHUTDOWN 2
#define UNIX_SHUTDOWN_MASK 3

enum unix_state { UNIX_CLOSE, UNIX_LISTEN, UNIX_ESTABLISHED };

/* A bound name as getsockname shows it: family, then the path (with its
 * NUL) or the abstract bytes. */
struct unix_addr {
	int len;
	unsigned char data[SOCK_ADDR_MAX];
};

struct unix_creds {
	int32_t pid;
	uint32_t uid, gid;
};

/* Files in flight (SCM_RIGHTS): one reference each. */
struct unix_fds {
	int count;
	struct file *files[];
};

struct unix_sock;

struct unix_msg {
	struct unix_msg *next;
	size_t len;              /* data bytes */
	size_t off;              /* bytes already read (stream) */
	size_t truesize;         /* charged to from->wmem */
	struct unix_sock *from;  /* the sender, referenced (NULL: a request) */
	struct unix_sock *embryo;/* a connection request's socket, referenced */
	struct unix_fds *fds;
	bool has_creds;          /* Linux: UNIXCB(skb).pid set */
	struct unix_creds creds;
	char data[];
};

struct unix_sock {
	atomic_int refs;
	pthread_mutex_t lock;
	pthread_mutex_t iolock;
	pthread_mutex_t bindlock;
	int type;
	enum unix_state state;
	bool dead;               /* released */
	bool embryo;             /* made by connect, not yet accepted */
	struct unix_sock *peer;  /* referenced */
	struct unix_addr *addr;  /* set once (bind), then never changes */
	struct path path;        /* a bound path name's node (mnt NULL: none) */
	/* The name table (table.c), under unix_table_lock. */
	struct unix_sock *tnext;
	bool hashed;
	struct superblock *bsd_sb;
	uint64_t bsd_ino;
	/* The receive queue. */
	struct unix_msg *rq_head, *rq_tail;
	size_t rq_count, rq_bytes;
	unsigned backlog;        /* full when rq_count > backlog */
	int shutdown;            /* UNIX_*_SHUTDOWN */
	atomic_int err;          /* pending error, reported once (sk_err) */
	/* Options (sockopt.c). */
	int sndbuf, rcvbuf, rcvlowat;
	uint64_t bool_opts;      /* SO_ flags set, as 1 << optname */
	int priority;
	int linger_onoff, linger_secs;
	uint64_t rcvtimeo, sndtimeo;  /* ns, or UNIX_TIMEO_INF */
	bool passcred;
	bool has_peercred;
	struct unix_creds peercred;   /* pid, euid, egid */
	uint64_t cookie;
	atomic_size_t wmem;      /* truesize of our messages not yet freed */
	/* Readers, writers and pollers of this socket. */
	struct waitq wq;
	/* Writers waiting for room in our queue (datagram senders, and
	 * connects to a full listener). */
	struct waitq peer_wait;
	/* Ours, queued on a full peer's peer_wait while poll finds us not
	 * writable because of it: wakes our wq (Linux's peer_wake). */
	struct wq_entry peer_wake;
	/* Garbage collection (garbage.c), under unix_gc_lock. */
	int inflight;            /* how many messages carry our file */
	struct file *file;       /* ours, not referenced: NULL once released */
	struct unix_sock *gc_next;       /* the list of sockets in flight */
	struct unix_sock *gc_next_cand;  /* a collection's candidates */
	struct unix_sock *gc_next_work;  /* ... still to scan */
	bool gc_listed;
	int gc_refs;
	bool gc_candidate, gc_alive;
};

/* How long a call may wait (Linux's timeo): nonblocking, for ever, or
 * until a deadline. */
struct unix_timeo {
	bool nonblock;
	bool has_timeout;        /* SO_RCVTIMEO/SO_SNDTIMEO in force */
	uint64_t deadline;       /* CLOCK_MONOTONIC ns, 0: none */
};

extern const struct proto_ops unix_stream_ops, unix_dgram_ops, unix_seqpacket_ops;

/* socket.c */
int unix_create(struct task *t, int type, int protocol, struct socket **out);
struct unix_sock *unix_sock_new(int type);
void unix_sock_get(struct unix_sock *u);
void unix_sock_put(struct unix_sock *u);
/* Release: what closing the last file (or dropping an embryo) does. */
void unix_release_sock(struct unix_sock *u, bool embryo);
void unix_release(struct socket *sock);
int unix_socketpair(struct socket *a, struct socket *b, struct task *t);
struct unix_sock *unix_sk(struct socket *sock);
/* The credentials a socket records of t: for SO_PEERCRED (effective
 * ids) and for SCM_CREDENTIALS (real ids). */
void unix_peercred_of(struct task *t, struct unix_creds *c);
void unix_creds_of(struct task *t, struct unix_creds *c);
/* Reads and clears the pending error (Linux's sock_error): -errno or 0. */
int unix_sock_error(struct unix_sock *u);

/* table.c: the names sockets are bound to. */
extern pthread_mutex_t unix_table_lock;
/* Adds u under its abstract name (u->addr) or its path's inode;
 * -EADDRINUSE if the abstract name is taken. Table lock held. */
int unix_table_insert_locked(struct unix_sock *u);
bool unix_table_has_abstract_locked(int type, const struct unix_addr *a);
void unix_table_remove(struct unix_sock *u);
/* Referenced socket bound to an abstract name, or to a path's inode. */
struct unix_sock *unix_table_find_abstract(int type, const void *name, int len);
struct unix_sock *unix_table_find_inode(struct inode *in);

/* addr.c */
/* Checks a sockaddr_un for bind/connect (Linux's unix_validate_addr). */
int unix_validate_addr(const void *addr, int len);
int unix_bind(struct socket *sock, struct task *t, const void *addr, int len);
int unix_autobind(struct unix_sock *u);
int unix_getname(struct socket *sock, void *addr, bool peer);
/* Copies u's address into buf (SOCK_ADDR_MAX): its length, 0 if none. */
int unix_copy_addr(struct unix_sock *u, void *buf);
/* The socket an address names, referenced: -ENOENT, -ECONNREFUSED,
 * -EPROTOTYPE (another type), -EACCES... (Linux's unix_find_other). */
int unix_find_other(struct task *t, const void *addr, int len, int type,
		    struct unix_sock **out);

/* connect.c */
int unix_listen(struct socket *sock, struct task *t, int backlog);
int unix_stream_connect(struct socket *sock, struct task *t, const void *addr, int len,
			int fflags);
int unix_dgram_connect(struct socket *sock, struct task *t, const void *addr, int len,
		       int fflags);
int unix_accept(struct socket *sock, struct task *t, struct socket *newsock, int fflags);
/* Ends a datagram socket's association with old: drops our queue and
 * tells old, if it pointed back at us (Linux's unix_dgram_disconnected). */
void unix_dgram_disconnected(struct unix_sock *u, struct unix_sock *old);

/* queue.c */
struct unix_msg *unix_msg_alloc(size_t len);
/* Charges msg to its sender (wmem) and references the sender. */
void unix_msg_charge(struct unix_msg *msg, struct unix_sock *from);
/* Frees a message: its files, its charge, its sender reference. No
 * socket lock may be held. */
void unix_msg_free(struct unix_msg *msg);
void unix_msg_free_list(struct unix_msg *list);
/* Queue operations, u->lock held. */
void unix_queue_tail(struct unix_sock *u, struct unix_msg *msg);
struct unix_msg *unix_dequeue(struct unix_sock *u);
/* Takes the whole queue (to free after unlocking). */
struct unix_msg *unix_queue_detach(struct unix_sock *u);
/* Whether poll says u can send (Linux's unix_writable). */
bool unix_writable(struct unix_sock *u);
void unix_timeo_init(struct unix_timeo *to, uint64_t timeo, bool nonblock);
/* Sleeps on q with lock held by the caller, who found its condition
 * false (released while asleep, held again after). 0: check again
 * (after a timeout to->nonblock is set, so the caller's next check
 * ends in EAGAIN); or -EINTR/-ERESTARTSYS for a signal. */
int unix_wait(struct task *t, struct waitq *q, pthread_mutex_t *lock, struct unix_timeo *to);
/* Waits until u may queue another message (Linux's
 * sock_alloc_send_pskb): 0, or the pending error, -EPIPE after
 * shutdown, -EAGAIN, or a signal's errno. */
int unix_wait_for_wmem(struct task *t, struct unix_sock *u, struct unix_timeo *to);
/* file_put for files that leave a queue: iterative, so releasing
 * sockets nested in sockets' queues never recurses deeply. */
void unix_fput(struct file *f);

/* scm.c: control messages. */
struct unix_scm {
	struct unix_fds *fds;
	bool has_creds;
	struct unix_creds creds;
};
/* Parses m's control messages (Linux's __scm_send). */
int unix_scm_send(struct task *t, const struct sock_msg *m, struct unix_scm *scm);
void unix_scm_destroy(struct unix_scm *scm);
/* Copies scm's credentials to msg, and moves its files there when
 * with_fds (the first message of a send carries them). */
void unix_scm_to_msg(struct unix_scm *scm, struct unix_msg *msg, bool with_fds);
/* Adds the sender's credentials if either end asked for them (Linux's
 * maybe_add_creds). */
void unix_maybe_add_creds(struct unix_msg *msg, struct unix_sock *u,
			  struct unix_sock *other, struct task *t);
/* What a receive hands the caller: credentials, and files (referenced). */
struct unix_rscm {
	bool has_creds;
	struct unix_creds creds;
	struct unix_fds *fds;
};
void unix_rscm_set_creds(struct unix_rscm *r, const struct unix_msg *msg);
/* Takes msg's files (a read), or new references to them (MSG_PEEK). */
void unix_rscm_take_fds(struct unix_rscm *r, struct unix_msg *msg, bool peek);
/* Puts the control messages in m (Linux's scm_recv) and drops what did
 * not fit. */
void unix_scm_recv(struct unix_sock *u, struct sock_msg *m, struct unix_rscm *r);

/* stream.c, dgram.c */
ssize_t unix_stream_sendmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			    size_t len, int flags);
ssize_t unix_stream_recvmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			    size_t len, int flags);
ssize_t unix_dgram_sendmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			   size_t len, int flags);
ssize_t unix_dgram_recvmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			   size_t len, int flags);
ssize_t unix_seqpacket_sendmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			       size_t len, int flags);
ssize_t unix_seqpacket_recvmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			       size_t len, int flags);

/* poll.c: poll, ioctl, shutdown. */
uint32_t unix_stream_poll(struct socket *sock, struct wq_entry *e);
uint32_t unix_dgram_poll(struct socket *sock, struct wq_entry *e);
long unix_ioctl(struct socket *sock, struct task *t, unsigned long cmd, uint64_t arg);
int unix_shutdown(struct socket *sock, int how);
/* u->peer_wake's callback: the peer's queue has room, u may be
 * writable again. */
void unix_peer_wake_fn(struct wq_entry *e, uint32_t events);
/* Stops u's peer_wake entry watching its peer's queue. */
void unix_peer_wake_disconnect(struct unix_sock *u);

/* sockopt.c */
int unix_setsockopt(struct socket *sock, struct task *t, int level, int name,
		    const void *val, size_t avail, int optlen);
int unix_getsockopt(struct socket *sock, struct task *t, int level, int name, void *val,
		    int *len);

/* garbage.c: reclaiming sockets that are only in flight in each
 * other's queues (Linux's unix_gc). */
extern pthread_mutex_t unix_gc_lock;
/* A file joins or leaves a message in some queue. */
void unix_inflight(struct file *f);
void unix_notinflight(struct file *f);
/* Files in flight now, in all queues. */
long unix_inflight_count(void);
/* Runs a collection if sockets are in flight. */
void unix_gc(void);

#endif
