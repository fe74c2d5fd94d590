/* Making connections: listen, connect for stream and seqpacket sockets
 * (queue a request holding a new embryo socket on the listener, return
 * at once unless the backlog is full), accept, and the datagram connect
 * that only names a default peer. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/lockpair.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"

#define WAKE_OUT (POLLOUT | POLLWRNORM | POLLWRBAND)

int unix_listen(struct socket *sock, struct task *t, int backlog)
{
	struct unix_sock *u = unix_sk(sock);
	int r = 0;

	if (u->type != SOCK_STREAM && u->type != SOCK_SEQPACKET)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&u->lock);
	if (!u->addr) {
		r = -EINVAL; /* no listening on an unbound socket */
	} else if (u->state != UNIX_CLOSE && u->state != UNIX_LISTEN) {
		r = -EINVAL;
	} else {
		bool grew = (unsigned)backlog > u->backlog;
		u->backlog = (unsigned)backlog;
		u->state = UNIX_LISTEN;
		/* Connectors copy these as their SO_PEERCRED. */
		unix_peercred_of(t, &u->peercred);
		u->has_peercred = true;
		pthread_mutex_unlock(&u->lock);
		if (grew)
			waitq_wake(&u->peer_wait, WAKE_OUT);
		return 0;
	}
	pthread_mutex_unlock(&u->lock);
	return r;
}

/* Joins u (CLOSE, locked) to the listener other (locked) through newsk. */
static void establish(struct task *t, struct unix_sock *u, struct unix_sock *other,
		      struct unix_sock *newsk)
{
	unix_sock_get(u);
	newsk->peer = u;
	newsk->state = UNIX_ESTABLISHED;
	newsk->embryo = true;
	unix_peercred_of(t, &newsk->peercred);
	newsk->has_peercred = true;
	/* The accepted socket is named as the listener. */
	if (other->addr) {
		newsk->addr = malloc(sizeof(*newsk->addr));
		if (newsk->addr)
			*newsk->addr = *other->addr;
	}
	u->peercred = other->peercred;
	u->has_peercred = other->has_peercred;
	u->state = UNIX_ESTABLISHED;
	unix_sock_get(newsk);
	u->peer = newsk;
}

int unix_stream_connect(struct socket *sock, struct task *t, const void *addr, int len,
			int fflags)
{
	struct unix_sock *u = unix_sk(sock), *other = NULL, *newsk;
	struct unix_msg *req;
	struct unix_timeo to;
	int r = unix_validate_addr(addr, len);

	if (r < 0)
		return r;
	if (u->passcred && !u->addr && (r = unix_autobind(u)) < 0)
		return r;
	unix_timeo_init(&to, u->sndtimeo, fflags & O_NONBLOCK);
	/* Everything the connection needs, before any lock. */
	newsk = unix_sock_new(u->type);
	req = unix_msg_alloc(0);
	if (!newsk || !req) {
		unix_sock_put(newsk);
		free(req);
		return -ENOMEM;
	}
	for (;;) {
		enum unix_state st;

		r = unix_find_other(t, addr, len, u->type, &other);
		if (r < 0)
			goto out;
		pthread_mutex_lock(&other->lock);
		if (other->dead) { /* released as we found it: look again */
			pthread_mutex_unlock(&other->lock);
			unix_sock_put(other);
			other = NULL;
			continue;
		}
		r = -ECONNREFUSED;
		if (other->state != UNIX_LISTEN || (other->shutdown & UNIX_RCV_SHUTDOWN))
			goto out_unlock;
		if (other->rq_count > other->backlog) {
			/* The backlog is full: wait for accept (Linux's
			 * unix_wait_for_peer), or EAGAIN. */
			r = -EAGAIN;
			if (to.nonblock)
				goto out_unlock;
			r = unix_wait(t, &other->peer_wait, &other->lock, &to);
			pthread_mutex_unlock(&other->lock);
			unix_sock_put(other);
			other = NULL;
			if (r < 0)
				goto out;
			continue;
		}
		/* Our state, read before taking our lock under other's (as
		 * Linux): a listener never locks a second socket, and other
		 * is one, so only a socket that is not can be locked here
		 * (connecting to ourselves ends in EINVAL first). */
		st = __atomic_load_n(&u->state, __ATOMIC_RELAXED);
		if (st != UNIX_CLOSE) {
			r = st == UNIX_ESTABLISHED ? -EISCONN : -EINVAL;
			goto out_unlock;
		}
		pthread_mutex_lock(&u->lock);
		if (u->state == st)
			break;
		pthread_mutex_unlock(&u->lock);
		pthread_mutex_unlock(&other->lock);
		unix_sock_put(other);
		other = NULL;
	}
	establish(t, u, other, newsk);
	pthread_mutex_unlock(&u->lock);
	req->embryo = newsk; /* our reference */
	newsk = NULL;
	unix_queue_tail(other, req);
	req = NULL;
	pthread_mutex_unlock(&other->lock);
	waitq_wake(&other->wq, POLLIN | POLLRDNORM);
	waitq_wake(&u->wq, 0);
	r = 0;
	goto out;
out_unlock:
	pthread_mutex_unlock(&other->lock);
out:
	unix_sock_put(other);
	unix_sock_put(newsk);
	free(req);
	return r;
}

int unix_accept(struct socket *sock, struct task *t, struct socket *newsock, int fflags)
{
	struct unix_sock *u = unix_sk(sock), *newsk;
	struct unix_msg *req = NULL;
	struct unix_timeo to;
	int r;

	if (u->type != SOCK_STREAM && u->type != SOCK_SEQPACKET)
		return -EOPNOTSUPP;
	unix_timeo_init(&to, u->rcvtimeo, fflags & O_NONBLOCK);
	pthread_mutex_lock(&u->lock);
	for (;;) {
		r = -EINVAL;
		if (u->state != UNIX_LISTEN)
			break;
		r = unix_sock_error(u);
		if (r)
			break;
		req = unix_dequeue(u);
		if (req)
			break;
		/* Shut down for reading: Linux reports EINVAL. */
		r = -EINVAL;
		if (u->shutdown & UNIX_RCV_SHUTDOWN)
			break;
		r = unix_wait(t, &u->wq, &u->lock, &to);
		if (r)
			break;
	}
	if (req) {
		newsk = req->embryo;
		req->embryo = NULL;
		/* Accepted: the lock orders this against data the client
		 * sends (which adds creds to an embryo's messages). */
		pthread_mutex_lock(&newsk->lock);
		newsk->embryo = false;
		pthread_mutex_unlock(&newsk->lock);
	}
	pthread_mutex_unlock(&u->lock);
	if (!req)
		return r;
	waitq_wake(&u->peer_wait, WAKE_OUT);
	unix_msg_free(req);
	newsock->sk = newsk;
	return 0;
}

void unix_dgram_disconnected(struct unix_sock *u, struct unix_sock *old)
{
	struct unix_msg *list;

	/* The receive lock keeps a peeking reader's message alive. */
	pthread_mutex_lock(&u->iolock);
	pthread_mutex_lock(&u->lock);
	list = unix_queue_detach(u);
	pthread_mutex_unlock(&u->lock);
	pthread_mutex_unlock(&u->iolock);
	if (!list)
		return;
	waitq_wake(&u->peer_wait, WAKE_OUT);
	/* One link of a two-way pair broke: messages were lost, and the
	 * other end learns it (not if it was not connected to us). */
	pthread_mutex_lock(&old->lock);
	if (!old->dead && old->peer == u)
		atomic_store(&old->err, ECONNRESET);
	pthread_mutex_unlock(&old->lock);
	waitq_wake(&old->wq, POLLERR);
	unix_msg_free_list(list);
}

static void lock_two(struct unix_sock *a, struct unix_sock *b)
{
	mutex_lock_pair(&a->lock, b ? &b->lock : NULL);
}

static void unlock_two(struct unix_sock *a, struct unix_sock *b)
{
	mutex_unlock_pair(&a->lock, b ? &b->lock : NULL);
}

int unix_dgram_connect(struct socket *sock, struct task *t, const void *addr, int len,
		       int fflags)
{
	struct unix_sock *u = unix_sk(sock), *other = NULL, *old;
	int r;

	(void)fflags;
	if (len < (int)sizeof(sa_family_t))
		return -EINVAL;
	if (((const struct sockaddr *)addr)->sa_family != AF_UNSPEC) {
		r = unix_validate_addr(addr, len);
		if (r < 0)
			return r;
		if (u->passcred && !u->addr && (r = unix_autobind(u)) < 0)
			return r;
		for (;;) {
			r = unix_find_other(t, addr, len, u->type, &other);
			if (r < 0)
				return r;
			lock_two(u, other);
			if (!other->dead)
				break;
			unlock_two(u, other);
			unix_sock_put(other);
		}
		/* Another socket's connected peer takes no one else's
		 * messages (Linux's unix_may_send). */
		if (other->peer && other->peer != u) {
			unlock_two(u, other);
			unix_sock_put(other);
			return -EPERM;
		}
		u->state = other->state = UNIX_ESTABLISHED;
	} else {
		/* AF_UNSPEC dissolves the association (1003.1g). */
		pthread_mutex_lock(&u->lock);
	}
	old = u->peer;
	u->peer = other; /* the reference from the lookup */
	if (!other)
		u->state = UNIX_CLOSE;
	if (old)
		unix_peer_wake_disconnect(u);
	unlock_two(u, other);
	if (old) {
		if (other != old)
			unix_dgram_disconnected(u, old);
		unix_sock_put(old);
	}
	return 0;
}
