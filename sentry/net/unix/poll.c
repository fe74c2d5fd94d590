/* Readiness (Linux's unix_poll and unix_dgram_poll, event for event),
 * the socket ioctls, and shutdown. */
#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sentry/mm/mm.h"
#include "sentry/net/unix/unix.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif
#define WAKE_OUT (POLLOUT | POLLWRNORM | POLLWRBAND)
#define SIOCATMARK_K 0x8905

/* Racy reads of another socket's state, as Linux's _lockless tests:
 * taking its lock here would invert the lock order. */
#define PEEK(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

uint32_t unix_stream_poll(struct socket *sock, struct wq_entry *e)
{
	struct unix_sock *u = unix_sk(sock);
	uint32_t mask = 0;

	if (e)
		waitq_add(&u->wq, e);
	pthread_mutex_lock(&u->lock);
	if (atomic_load(&u->err))
		mask |= POLLERR;
	if (u->shutdown == UNIX_SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (u->shutdown & UNIX_RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (u->rq_head)
		mask |= POLLIN | POLLRDNORM;
	/* Not connected (yet, or any more): hung up. */
	if (u->state == UNIX_CLOSE)
		mask |= POLLHUP;
	/* Writable also when the other end is gone, so a writer learns
	 * of it (EPIPE) instead of sleeping. */
	if (unix_writable(u))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	pthread_mutex_unlock(&u->lock);
	return mask;
}

void unix_peer_wake_fn(struct wq_entry *e, uint32_t events)
{
	struct unix_sock *u = e->priv;

	(void)events;
	/* Runs under the peer's peer_wait lock; u's entry stays queued
	 * (removing it here would retake that lock) until u disconnects. */
	waitq_wake(&u->wq, WAKE_OUT);
}

void unix_peer_wake_disconnect(struct unix_sock *u)
{
	waitq_remove(&u->peer_wake);
}

/* Whether u, connected to other whose queue is full of others'
 * messages, must wait for room; if so u's peer_wake watches other's
 * queue (Linux's unix_dgram_peer_wake_me). u->lock held. */
static bool peer_full(struct unix_sock *u, struct unix_sock *other)
{
	if (u->peer_wake.q != &other->peer_wait) {
		waitq_remove(&u->peer_wake);
		waitq_add(&other->peer_wait, &u->peer_wake);
	}
	/* A dead peer reads as writable, so the next send reports it. */
	return PEEK(other->rq_count) > PEEK(other->backlog) && !PEEK(other->dead);
}

uint32_t unix_dgram_poll(struct socket *sock, struct wq_entry *e)
{
	struct unix_sock *u = unix_sk(sock), *other;
	uint32_t mask = 0;
	bool writable;

	if (e)
		waitq_add(&u->wq, e);
	pthread_mutex_lock(&u->lock);
	if (atomic_load(&u->err))
		mask |= POLLERR;
	if (u->shutdown & UNIX_RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (u->shutdown == UNIX_SHUTDOWN_MASK)
		mask |= POLLHUP;
	if (u->rq_head)
		mask |= POLLIN | POLLRDNORM;
	if (u->type == SOCK_SEQPACKET && u->state == UNIX_CLOSE)
		mask |= POLLHUP;
	writable = unix_writable(u);
	other = u->peer;
	if (writable && other && other != u && PEEK(other->peer) != u &&
	    PEEK(other->rq_count) > PEEK(other->backlog))
		writable = !peer_full(u, other);
	if (writable)
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	pthread_mutex_unlock(&u->lock);
	return mask;
}

static int put_int(struct task *t, uint64_t arg, int v)
{
	return copy_to_user(t, arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

long unix_ioctl(struct socket *sock, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct unix_sock *u = unix_sk(sock);
	size_t amount = 0;

	switch (cmd) {
	case TIOCOUTQ: /* SIOCOUTQ: what our messages still take up */
		return put_int(t, arg, (int)atomic_load(&u->wmem));
	case FIONREAD: /* SIOCINQ */
		pthread_mutex_lock(&u->lock);
		if (u->state == UNIX_LISTEN) {
			pthread_mutex_unlock(&u->lock);
			return -EINVAL;
		}
		/* Streams: every unread byte; datagrams: the next one. */
		for (struct unix_msg *m = u->rq_head; m; m = m->next) {
			amount += m->len - m->off;
			if (u->type == SOCK_DGRAM)
				break;
		}
		pthread_mutex_unlock(&u->lock);
		return put_int(t, arg, (int)amount);
	case SIOCATMARK_K: /* no out-of-band data, so never at the mark */
		return put_int(t, arg, 0);
	default:
		return -ENOTTY;
	}
}

int unix_shutdown(struct socket *sock, int how)
{
	struct unix_sock *u = unix_sk(sock), *other;
	int mode;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	/* SHUT_RD -> RCV, SHUT_WR -> SEND, SHUT_RDWR -> both. */
	mode = (how + 1) & UNIX_SHUTDOWN_MASK;
	pthread_mutex_lock(&u->lock);
	u->shutdown |= mode;
	other = u->peer;
	if (other)
		unix_sock_get(other);
	pthread_mutex_unlock(&u->lock);
	waitq_wake(&u->wq, 0);
	/* A connection's other end sees the mirror image. */
	if (other && (u->type == SOCK_STREAM || u->type == SOCK_SEQPACKET)) {
		int peer_mode = ((mode & UNIX_RCV_SHUTDOWN) ? UNIX_SEND_SHUTDOWN : 0) |
				((mode & UNIX_SEND_SHUTDOWN) ? UNIX_RCV_SHUTDOWN : 0);
		pthread_mutex_lock(&other->lock);
		other->shutdown |= peer_mode;
		pthread_mutex_unlock(&other->lock);
		waitq_wake(&other->wq, 0);
	}
	unix_sock_put(other);
	return 0;
}
