/* Stream sockets: a send queues the data as messages of bounded size on
 * the peer, blocking while our send buffer is full; a receive reads
 * across messages but stops after one that carried files, and (with
 * SO_PASSCRED) before one from another writer (Linux's
 * unix_stream_sendmsg and unix_stream_read_generic). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"

/* Linux's send_sig(SIGPIPE, current, 0): SI_USER from ourselves. */
static void sigpipe(struct task *t)
{
	struct k_siginfo info;

	memset(&info, 0, sizeof(info));
	info.si_signo = SIGPIPE;
	info.si_code = K_SI_USER;
	info.kill.pid = t->tg->pid;
	info.kill.uid = t->tg->creds.ruid;
	signal_send_task(t, SIGPIPE, &info);
}

ssize_t unix_stream_sendmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			    size_t len, int flags)
{
	struct unix_sock *u = unix_sk(sock), *other;
	struct unix_scm scm;
	struct unix_timeo to;
	size_t sent = 0;
	bool fds_sent = false;
	int shut;
	ssize_t r = unix_scm_send(t, m, &scm);

	if (r < 0)
		return r;
	/* Out-of-band data (Linux's CONFIG_AF_UNIX_OOB) is not emulated. */
	if (flags & MSG_OOB) {
		unix_scm_destroy(&scm);
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&u->lock);
	if (m->name) {
		r = u->state == UNIX_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
		pthread_mutex_unlock(&u->lock);
		unix_scm_destroy(&scm);
		return r;
	}
	other = u->peer;
	if (other)
		unix_sock_get(other);
	shut = u->shutdown;
	pthread_mutex_unlock(&u->lock);
	if (!other) {
		unix_scm_destroy(&scm);
		return -ENOTCONN;
	}
	if (shut & UNIX_SEND_SHUTDOWN)
		goto pipe_err;
	unix_timeo_init(&to, u->sndtimeo, flags & MSG_DONTWAIT);
	while (sent < len) {
		/* Keep two messages in the buffer, as Linux does. */
		size_t size = len - sent, half = (size_t)u->sndbuf / 2 - 64;
		struct unix_msg *msg;

		if (size > half)
			size = half;
		if (size > UNIX_STREAM_CHUNK)
			size = UNIX_STREAM_CHUNK;
		r = unix_wait_for_wmem(t, u, &to);
		if (r < 0)
			goto out;
		msg = unix_msg_alloc(size);
		if (!msg) {
			r = -ENOMEM;
			goto out;
		}
		/* Files go with the first message only. */
		unix_scm_to_msg(&scm, msg, !fds_sent);
		fds_sent = true;
		if (sock_iter_copy_in(&m->iter, msg->data, size) < 0) {
			unix_msg_free(msg);
			r = -EFAULT;
			goto out;
		}
		unix_msg_charge(msg, u);
		pthread_mutex_lock(&other->lock);
		if (other->dead || (other->shutdown & UNIX_RCV_SHUTDOWN)) {
			pthread_mutex_unlock(&other->lock);
			unix_msg_free(msg);
			goto pipe_err;
		}
		unix_maybe_add_creds(msg, u, other, t);
		unix_queue_tail(other, msg);
		pthread_mutex_unlock(&other->lock);
		waitq_wake(&other->wq, POLLIN | POLLRDNORM);
		sent += size;
	}
	r = 0;
	goto out;
pipe_err:
	if (sent == 0 && !(flags & MSG_NOSIGNAL))
		sigpipe(t);
	r = -EPIPE;
out:
	unix_scm_destroy(&scm);
	unix_sock_put(other);
	return sent ? (ssize_t)sent : r;
}

static bool same_creds(const struct unix_rscm *r, const struct unix_msg *msg)
{
	if (r->has_creds != msg->has_creds)
		return false;
	return !r->has_creds || (r->creds.pid == msg->creds.pid &&
				 r->creds.uid == msg->creds.uid &&
				 r->creds.gid == msg->creds.gid);
}

/* Reads from the queue head on (iolock held) until size runs out, a
 * message carried files, or the queue does. Returns bytes copied, or
 * -EFAULT if none could be. *stop: no more reading in this call. */
static ssize_t read_queue(struct unix_sock *u, struct sock_msg *m, size_t size, int flags,
			  struct unix_rscm *scm, bool *check_creds, bool *named, bool *stop)
{
	bool peek = flags & MSG_PEEK;
	struct unix_msg *msg;
	ssize_t copied = 0;

	pthread_mutex_lock(&u->lock);
	msg = u->rq_head;
	pthread_mutex_unlock(&u->lock);
	/* Only iolock holders take messages off the queue, so msg stays. */
	while (msg && size) {
		size_t chunk = msg->len - msg->off;
		bool done;

		if (*check_creds) {
			/* Never glue messages from different writers. */
			if (!same_creds(scm, msg)) {
				*stop = true;
				break;
			}
		} else if (u->passcred) {
			unix_rscm_set_creds(scm, msg);
			*check_creds = true;
		}
		if (m->name && !*named) {
			m->namelen = unix_copy_addr(msg->from, m->name);
			*named = true;
		}
		if (chunk > size)
			chunk = size;
		if (sock_iter_copy_out(&m->iter, msg->data + msg->off, chunk) < 0) {
			*stop = true;
			return copied ? copied : -EFAULT;
		}
		copied += (ssize_t)chunk;
		size -= chunk;
		if (peek) {
			if (msg->fds) {
				unix_rscm_take_fds(scm, msg, true);
				*stop = true;
				break;
			}
			pthread_mutex_lock(&u->lock);
			msg = msg->next;
			pthread_mutex_unlock(&u->lock);
			/* A peek reads what is there and waits for no more. */
			if (!msg)
				*stop = true;
			continue;
		}
		pthread_mutex_lock(&u->lock);
		msg->off += chunk;
		done = msg->off == msg->len;
		if (done)
			unix_dequeue(u);
		pthread_mutex_unlock(&u->lock);
		unix_rscm_take_fds(scm, msg, false);
		if (!done) {
			*stop = true;
			break;
		}
		unix_msg_free(msg);
		if (scm->fds) {
			*stop = true;
			break;
		}
		pthread_mutex_lock(&u->lock);
		msg = u->rq_head;
		pthread_mutex_unlock(&u->lock);
	}
	return copied;
}

ssize_t unix_stream_recvmsg(struct socket *sock, struct task *t, struct sock_msg *m,
			    size_t len, int flags)
{
	struct unix_sock *u = unix_sk(sock);
	struct unix_rscm scm = {0};
	struct unix_timeo to;
	bool check_creds = false, named = false, stop = false;
	size_t copied = 0, target;
	ssize_t r = 0;

	if (__atomic_load_n(&u->state, __ATOMIC_RELAXED) != UNIX_ESTABLISHED)
		return -EINVAL;
	/* No out-of-band byte is ever pending: Linux says EINVAL then. */
	if (flags & MSG_OOB)
		return -EINVAL;
	target = (flags & MSG_WAITALL) ? len : ((size_t)u->rcvlowat < len ? (size_t)u->rcvlowat : len);
	if (!target)
		target = 1;
	unix_timeo_init(&to, u->rcvtimeo, flags & MSG_DONTWAIT);
	pthread_mutex_lock(&u->iolock);
	for (;;) {
		ssize_t n;

		pthread_mutex_lock(&u->lock);
		if (!u->rq_head) {
			if (copied >= target) {
				pthread_mutex_unlock(&u->lock);
				break;
			}
			/* POSIX 1003.1g mandates this order. */
			r = unix_sock_error(u);
			if (r || (u->shutdown & UNIX_RCV_SHUTDOWN)) {
				pthread_mutex_unlock(&u->lock);
				break;
			}
			/* Other readers go on while we sleep. */
			pthread_mutex_unlock(&u->iolock);
			r = unix_wait(t, &u->wq, &u->lock, &to);
			pthread_mutex_unlock(&u->lock);
			if (r < 0)
				goto out;
			pthread_mutex_lock(&u->iolock);
			continue;
		}
		pthread_mutex_unlock(&u->lock);
		n = read_queue(u, m, len - copied, flags, &scm, &check_creds, &named, &stop);
		if (n < 0) {
			r = n;
			break;
		}
		copied += (size_t)n;
		if (stop || copied == len)
			break;
	}
	pthread_mutex_unlock(&u->iolock);
out:
	unix_scm_recv(u, m, &scm);
	return copied ? (ssize_t)copied : r;
}
