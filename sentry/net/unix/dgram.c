/* Datagram and seqpacket messages: one send is one message, delivered
 * whole (or cut short with MSG_TRUNC) to one receive. A datagram sender
 * waits while the receiver's queue holds more than max_dgram_qlen
 * messages of others, and while its own send buffer is full (Linux's
 * unix_dgram_sendmsg and __unix_dgram_recvmsg). Seqpacket sockets are
 * connected datagram sockets. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"

#define WAKE_OUT (POLLOUT | POLLWRNORM | POLLWRBAND)

/* Our peer other is gone. A datagram socket forgets it and reports
 * ECONNREFUSED once (Linux); true if other was our peer. */
static bool forget_dead_peer(struct unix_sock *u, struct unix_sock *other)
{
	pthread_mutex_lock(&u->lock);
	if (u->peer != other) {
		pthread_mutex_unlock(&u->lock);
		return false;
	}
	u->peer = NULL;
	u->state = UNIX_CLOSE;
	unix_peer_wake_disconnect(u);
	pthread_mutex_unlock(&u->lock);
	unix_dgram_disconnected(u, other);
	unix_sock_put(other); /* the peer reference */
	return true;
}

ssize_t unix_dgram_sendmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			   size_t len, int flags)
{
	struct unix_sock *u = unix_sk(sock), *other = NULL;
	struct unix_msg *msg = NULL;
	struct unix_scm scm;
	struct unix_timeo to;
	ssize_t r = unix_scm_send(t, m, &scm);

	if (r < 0)
		return r;
	r = -EOPNOTSUPP;
	if (flags & MSG_OOB)
		goto out;
	if (m->name) {
		r = unix_validate_addr(m->name, m->namelen);
		if (r < 0)
			goto out;
	} else {
		pthread_mutex_lock(&u->lock);
		other = u->peer;
		if (other)
			unix_sock_get(other);
		pthread_mutex_unlock(&u->lock);
		r = -ENOTCONN;
		if (!other)
			goto out;
	}
	if (u->passcred && !u->addr && (r = unix_autobind(u)) < 0)
		goto out;
	r = -EMSGSIZE;
	if (len > (size_t)u->sndbuf - 32)
		goto out;
	unix_timeo_init(&to, u->sndtimeo, flags & MSG_DONTWAIT);
	r = unix_wait_for_wmem(t, u, &to);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	msg = unix_msg_alloc(len);
	if (!msg)
		goto out;
	unix_scm_to_msg(&scm, msg, true);
	r = -EFAULT;
	if (sock_iter_copy_in(&m->iter, msg->data, len) < 0)
		goto out;
	unix_msg_charge(msg, u);
	for (;;) {
		if (!other) {
			r = -ECONNRESET;
			if (!m->name)
				goto out;
			r = unix_find_other(t, m->name, m->namelen, u->type, &other);
			if (r < 0)
				goto out;
		}
		pthread_mutex_lock(&other->lock);
		r = -EPERM;
		if (other->peer && other->peer != u)
			goto out_unlock;
		if (other->dead) {
			pthread_mutex_unlock(&other->lock);
			/* A seqpacket peer just went: no state change. */
			r = -EPIPE;
			if (u->type == SOCK_SEQPACKET)
				goto out;
			r = -ECONNREFUSED;
			if (forget_dead_peer(u, other))
				goto out;
			unix_sock_put(other);
			other = NULL;
			continue;
		}
		r = -EPIPE;
		if (other->shutdown & UNIX_RCV_SHUTDOWN)
			goto out_unlock;
		/* A queue full of others' messages: wait, or EAGAIN. Its
		 * connected peer and the socket itself are never held up. */
		if (other != u && other->peer != u && other->rq_count > other->backlog) {
			r = -EAGAIN;
			if (to.nonblock)
				goto out_unlock;
			r = unix_wait(t, &other->peer_wait, &other->lock, &to);
			pthread_mutex_unlock(&other->lock);
			if (r < 0)
				goto out;
			continue;
		}
		break;
	}
	unix_maybe_add_creds(msg, u, other, t);
	unix_queue_tail(other, msg);
	msg = NULL;
	pthread_mutex_unlock(&other->lock);
	waitq_wake(&other->wq, POLLIN | POLLRDNORM);
	r = (ssize_t)len;
	goto out;
out_unlock:
	pthread_mutex_unlock(&other->lock);
out:
	if (msg)
		unix_msg_free(msg);
	unix_scm_destroy(&scm);
	unix_sock_put(other);
	return r;
}

ssize_t unix_seqpacket_sendmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			       size_t len, int flags)
{
	struct unix_sock *u = unix_sk(sock);
	int r = unix_sock_error(u);

	if (r)
		return r;
	if (__atomic_load_n(&u->state, __ATOMIC_RELAXED) != UNIX_ESTABLISHED)
		return -ENOTCONN;
	/* A connected socket's messages go to its peer, whatever the name. */
	m->name = NULL;
	m->namelen = 0;
	return unix_dgram_sendmsg(sock, t, m, len, flags);
}

/* The next message: dequeued (kept with MSG_PEEK), iolock held on
 * success. Else 0 for end of file or -errno. */
static int next_msg(struct task *t, struct unix_sock *u, int flags, struct unix_msg **out)
{
	struct unix_timeo to;
	int r;

	unix_timeo_init(&to, u->rcvtimeo, flags & MSG_DONTWAIT);
	for (;;) {
		pthread_mutex_lock(&u->iolock);
		pthread_mutex_lock(&u->lock);
		r = unix_sock_error(u);
		if (r)
			break;
		*out = u->rq_head;
		if (*out) {
			if (!(flags & MSG_PEEK))
				unix_dequeue(u);
			pthread_mutex_unlock(&u->lock);
			return 1;
		}
		if (to.nonblock) {
			/* EOF on a disconnected nonblocking seqpacket socket;
			 * a datagram one says EAGAIN still. */
			r = u->type == SOCK_SEQPACKET && (u->shutdown & UNIX_RCV_SHUTDOWN)
				    ? 0 : -EAGAIN;
			break;
		}
		r = 0;
		if (u->shutdown & UNIX_RCV_SHUTDOWN)
			break;
		r = -ENOTCONN;
		if (u->type == SOCK_SEQPACKET && u->state != UNIX_ESTABLISHED &&
		    u->state != UNIX_LISTEN)
			break;
		pthread_mutex_unlock(&u->iolock);
		r = unix_wait(t, &u->wq, &u->lock, &to);
		pthread_mutex_unlock(&u->lock);
		if (r < 0)
			return r;
	}
	pthread_mutex_unlock(&u->lock);
	pthread_mutex_unlock(&u->iolock);
	return r;
}

ssize_t unix_dgram_recvmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			   size_t len, int flags)
{
	struct unix_sock *u = unix_sk(sock);
	struct unix_rscm scm = {0};
	struct unix_msg *msg;
	bool peek = flags & MSG_PEEK;
	size_t size = len;
	ssize_t r;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	r = next_msg(t, u, flags, &msg);
	if (r <= 0)
		return r;
	if (!peek)
		waitq_wake(&u->peer_wait, WAKE_OUT);
	if (m->name)
		m->namelen = unix_copy_addr(msg->from, m->name);
	if (size > msg->len)
		size = msg->len;
	else if (size < msg->len)
		m->flags |= MSG_TRUNC;
	if (sock_iter_copy_out(&m->iter, msg->data, size) < 0) {
		r = -EFAULT;
	} else {
		unix_rscm_set_creds(&scm, msg);
		unix_rscm_take_fds(&scm, msg, peek);
		/* MSG_TRUNC asks for the real length. */
		r = (flags & MSG_TRUNC) ? (ssize_t)msg->len : (ssize_t)size;
	}
	pthread_mutex_unlock(&u->iolock);
	if (!peek)
		unix_msg_free(msg);
	if (r >= 0)
		unix_scm_recv(u, m, &scm);
	return r;
}

ssize_t unix_seqpacket_recvmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			       size_t len, int flags)
{
	struct unix_sock *u = unix_sk(sock);

	if (__atomic_load_n(&u->state, __ATOMIC_RELAXED) != UNIX_ESTABLISHED)
		return -ENOTCONN;
	return unix_dgram_recvmsg(sock, t, m, len, flags);
}
