/* AF_UNIX sockets: creation, socketpair, release, and the operations
 * of each socket type. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"

const struct proto_ops unix_stream_ops = {
	.family = AF_UNIX,
	.release = unix_release,
	.bind = unix_bind,
	.connect = unix_stream_connect,
	.socketpair = unix_socketpair,
	.listen = unix_listen,
	.accept = unix_accept,
	.getname = unix_getname,
	.poll = unix_stream_poll,
	.ioctl = unix_ioctl,
	.shutdown = unix_shutdown,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.sendmsg = unix_stream_sendmsg,
	.recvmsg = unix_stream_recvmsg,
};

const struct proto_ops unix_dgram_ops = {
	.family = AF_UNIX,
	.release = unix_release,
	.bind = unix_bind,
	.connect = unix_dgram_connect,
	.socketpair = unix_socketpair,
	.listen = unix_listen,
	.accept = unix_accept,
	.getname = unix_getname,
	.poll = unix_dgram_poll,
	.ioctl = unix_ioctl,
	.shutdown = unix_shutdown,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.sendmsg = unix_dgram_sendmsg,
	.recvmsg = unix_dgram_recvmsg,
};

const struct proto_ops unix_seqpacket_ops = {
	.family = AF_UNIX,
	.release = unix_release,
	.bind = unix_bind,
	.connect = unix_stream_connect,
	.socketpair = unix_socketpair,
	.listen = unix_listen,
	.accept = unix_accept,
	.getname = unix_getname,
	.poll = unix_dgram_poll,
	.ioctl = unix_ioctl,
	.shutdown = unix_shutdown,
	.setsockopt = unix_setsockopt,
	.getsockopt = unix_getsockopt,
	.sendmsg = unix_seqpacket_sendmsg,
	.recvmsg = unix_seqpacket_recvmsg,
};

struct unix_sock *unix_sk(struct socket *sock) { return sock->sk; }

struct unix_sock *unix_sock_new(int type)
{
	struct unix_sock *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	atomic_init(&u->refs, 1);
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->iolock, NULL);
	pthread_mutex_init(&u->bindlock, NULL);
	u->type = type;
	u->state = UNIX_CLOSE;
	/* Linux starts every unix socket with the datagram queue limit;
	 * listen replaces it with the backlog. */
	u->backlog = UNIX_MAX_DGRAM_QLEN;
	u->sndbuf = u->rcvbuf = UNIX_BUF_DEFAULT;
	u->rcvlowat = 1;
	u->rcvtimeo = u->sndtimeo = UNIX_TIMEO_INF;
	atomic_init(&u->err, 0);
	atomic_init(&u->wmem, 0);
	waitq_init(&u->wq);
	waitq_init(&u->peer_wait);
	wq_entry_init(&u->peer_wake, NULL);
	u->peer_wake.fn = unix_peer_wake_fn;
	u->peer_wake.priv = u;
	return u;
}

void unix_sock_get(struct unix_sock *u) { atomic_fetch_add(&u->refs, 1); }

void unix_sock_put(struct unix_sock *u)
{
	if (!u || atomic_fetch_sub(&u->refs, 1) != 1)
		return;
	/* Release emptied the queue and dropped the peer and the path. */
	free(u->addr);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->iolock);
	pthread_mutex_destroy(&u->bindlock);
	pthread_mutex_destroy(&u->wq.lock);
	pthread_mutex_destroy(&u->peer_wait.lock);
	free(u);
}

int unix_create(struct task *t, int type, int protocol, struct socket **out)
{
	const struct proto_ops *ops;
	struct socket *sock;

	(void)t;
	if (protocol && protocol != AF_UNIX)
		return -EPROTONOSUPPORT;
	switch (type) {
	case SOCK_STREAM:
		ops = &unix_stream_ops;
		break;
	case SOCK_RAW: /* Linux: raw is datagram here */
		type = SOCK_DGRAM;
		/* fall through */
	case SOCK_DGRAM:
		ops = &unix_dgram_ops;
		break;
	case SOCK_SEQPACKET:
		ops = &unix_seqpacket_ops;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	sock = sock_alloc(ops, type);
	if (!sock)
		return -ENOMEM;
	sock->sk = unix_sock_new(type);
	if (!sock->sk) {
		sock_release(sock);
		return -ENOMEM;
	}
	*out = sock;
	return 0;
}

void unix_peercred_of(struct task *t, struct unix_creds *c)
{
	c->pid = t->tg->pid;
	c->uid = t->tg->creds.euid;
	c->gid = t->tg->creds.egid;
}

void unix_creds_of(struct task *t, struct unix_creds *c)
{
	c->pid = t->tg->pid;
	c->uid = t->tg->creds.ruid;
	c->gid = t->tg->creds.rgid;
}

int unix_sock_error(struct unix_sock *u)
{
	int e = atomic_exchange(&u->err, 0);
	return e ? -e : 0;
}

int unix_socketpair(struct socket *a, struct socket *b, struct task *t)
{
	struct unix_sock *ua = a->sk, *ub = b->sk;

	/* Both are new: nobody else can see them yet. */
	unix_sock_get(ub);
	ua->peer = ub;
	unix_sock_get(ua);
	ub->peer = ua;
	unix_peercred_of(t, &ua->peercred);
	ub->peercred = ua->peercred;
	ua->has_peercred = ub->has_peercred = true;
	ua->state = ub->state = UNIX_ESTABLISHED;
	return 0;
}

void unix_release_sock(struct unix_sock *u, bool embryo)
{
	struct unix_sock *skpair;
	struct unix_msg *list;
	struct path path;
	enum unix_state state;
	bool had_data;

	unix_table_remove(u);
	pthread_mutex_lock(&u->lock);
	u->dead = true;
	u->shutdown = UNIX_SHUTDOWN_MASK;
	state = u->state;
	u->state = UNIX_CLOSE;
	skpair = u->peer;
	u->peer = NULL;
	path = u->path;
	memset(&u->path, 0, sizeof(u->path));
	had_data = u->rq_head != NULL;
	list = unix_queue_detach(u);
	pthread_mutex_unlock(&u->lock);

	waitq_wake(&u->wq, 0);
	waitq_wake(&u->peer_wait, 0);
	unix_peer_wake_disconnect(u);
	if (skpair) {
		if (u->type == SOCK_STREAM || u->type == SOCK_SEQPACKET) {
			/* No more writes; unread data lost here (or a
			 * connection never accepted) is a reset. */
			pthread_mutex_lock(&skpair->lock);
			skpair->shutdown = UNIX_SHUTDOWN_MASK;
			if (had_data || embryo)
				atomic_store(&skpair->err, ECONNRESET);
			pthread_mutex_unlock(&skpair->lock);
			waitq_wake(&skpair->wq, 0);
		}
		unix_sock_put(skpair);
	}
	/* Connections a listener never accepted die with it. */
	for (struct unix_msg *m = list; m; m = m->next)
		if (state == UNIX_LISTEN && m->embryo)
			unix_release_sock(m->embryo, true);
	unix_msg_free_list(list);
	path_put(&path);
	unix_gc();
}

void unix_release(struct socket *sock)
{
	struct unix_sock *u = sock->sk;

	sock->sk = NULL;
	if (!u)
		return;
	pthread_mutex_lock(&unix_gc_lock);
	u->file = NULL;
	pthread_mutex_unlock(&unix_gc_lock);
	unix_release_sock(u, false);
	unix_sock_put(u);
}
