/* The sentry's end of the gofer channel. Requests carry ids, so any
 * number of task threads share the channel with requests in flight at
 * once: each sends its own, then waits; whichever waiter finds nobody
 * reading becomes the reader and hands replies to their owners (a
 * leader/follower scheme, no dedicated thread). Sending has its own lock,
 * so a sender blocked on a full socket never stops replies being read.
 *
 * A reply that breaks the protocol (or a dead gofer) breaks the channel
 * for good: it is shut down, logged once, and every call fails with EIO. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "sentry/fs/gofer/gofer_internal.h"

struct call {
	uint64_t id;
	uint32_t type;
	bool done, discard;       /* discard: nobody waits (queued Close) */
	uint8_t *buf;             /* the reply datagram */
	size_t len;
	int fd;
	pthread_cond_t cv;
	struct call *next;
};

static struct {
	int fd;
	pthread_mutex_t lock;     /* everything below */
	pthread_mutex_t send_lock;
	uint64_t next_id;
	struct call *pending;
	bool reading, dead;
	uint8_t *rbuf;            /* the reader's buffer */
	uint64_t *closes;         /* nodes to release with the next request */
	uint32_t ncloses;
} ch = {
	.fd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.send_lock = PTHREAD_MUTEX_INITIALIZER,
	.next_id = 1,
};

int goferfs_attach(int chan_fd)
{
	struct rlimit rl;
	int type;
	socklen_t len = sizeof(type);

	if (ch.fd >= 0)
		return -EBUSY;
	if (getsockopt(chan_fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EPROTOTYPE;
	/* Open gofer files hold host fds (file.c): allow what the host does. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ch.rbuf = malloc(GOFER_MSG_MAX);
	ch.closes = malloc(GOFER_CLOSE_MAX * sizeof(*ch.closes));
	if (!ch.rbuf || !ch.closes) {
		free(ch.rbuf);
		free(ch.closes);
		ch.rbuf = NULL;
		ch.closes = NULL;
		return -ENOMEM;
	}
	ch.fd = chan_fd;
	return 0;
}

bool gfs_attached(void) { return ch.fd >= 0; }

/* Requests sent, by type: what tests count to prove a path costs no
 * round trip. */
static atomic_uint_fast64_t sent[GOFER_TYPE_MAX];

uint64_t goferfs_rpc_count(uint32_t type)
{
	return type < GOFER_TYPE_MAX ? atomic_load(&sent[type]) : 0;
}

static void count(uint32_t type)
{
	if (type < GOFER_TYPE_MAX)
		atomic_fetch_add(&sent[type], 1);
}

/* Called locked. Wakes every waiter to find the channel dead. */
static void break_channel(const char *why)
{
	if (!ch.dead) {
		log_err("gofer channel: %s; host files are no longer reachable", why);
		shutdown(ch.fd, SHUT_RDWR);
	}
	ch.dead = true;
	for (struct call *c = ch.pending; c; c = c->next)
		pthread_cond_signal(&c->cv);
}

static void unlink_call(struct call *c)
{
	for (struct call **pp = &ch.pending; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void free_call(struct call *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	pthread_cond_destroy(&c->cv);
	free(c);
}

/* Reads one datagram and gives it to its call. Called locked, as the
 * reader; drops the lock while blocked. */
static void read_one(void)
{
	uint32_t type;
	uint64_t id;
	ssize_t n;
	int fd;

	ch.reading = true;
	pthread_mutex_unlock(&ch.lock);
	n = gofer_recv_spin(ch.fd, ch.rbuf, GOFER_MSG_MAX, &fd, GOFER_POLL_US);
	pthread_mutex_lock(&ch.lock);
	ch.reading = false;
	if (n <= 0) {
		break_channel(n == 0 ? "the gofer closed it" : n == -EPROTO
								  ? "malformed datagram"
								  : strerror((int)-n));
		return;
	}
	if (gofer_decode_hdr(ch.rbuf, (size_t)n, &type, &id) < 0 || !(type & GOFER_REPLY)) {
		if (fd >= 0)
			close(fd);
		break_channel("malformed reply header");
		return;
	}
	for (struct call *c = ch.pending; c; c = c->next) {
		if (c->id != id)
			continue;
		if (c->type != (type & ~GOFER_REPLY))
			break;
		unlink_call(c);
		if (c->discard) {
			if (fd >= 0)
				close(fd);
			/* A refused Close only leaks a gofer fd; say so. */
			free_call(c);
			return;
		}
		c->buf = malloc((size_t)n);
		if (!c->buf) {
			if (fd >= 0)
				close(fd);
			c->len = 0;
		} else {
			memcpy(c->buf, ch.rbuf, (size_t)n);
			c->len = (size_t)n;
			c->fd = fd;
		}
		c->done = true;
		pthread_cond_signal(&c->cv);
		return;
	}
	if (fd >= 0)
		close(fd);
	break_channel("reply to no request");
}

/* Registers a call; locked. */
static struct call *new_call(uint32_t type, bool discard)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = ch.next_id++;
	c->type = type;
	c->discard = discard;
	c->fd = -1;
	pthread_cond_init(&c->cv, NULL);
	c->next = ch.pending;
	ch.pending = c;
	return c;
}

static int send_msg(const struct gofer_req *q)
{
	uint8_t *buf;
	size_t len;
	int e = gofer_encode_req(q, &buf, &len);

	if (e < 0)
		return e;
	count(q->type);
	pthread_mutex_lock(&ch.send_lock);
	e = gofer_send(ch.fd, buf, len, -1);
	pthread_mutex_unlock(&ch.send_lock);
	free(buf);
	return e;
}

/* Sends the queued Closes as one request nobody waits for; its reply is
 * read by whoever reads next (the caller, who is about to wait). Locked;
 * the lock is dropped while sending. */
static void flush_closes(void)
{
	struct gofer_req q = {.type = GOFER_CLOSE};
	struct call *c;
	int e;

	if (!ch.ncloses || ch.dead)
		return;
	q.nodes = malloc(ch.ncloses * sizeof(*q.nodes));
	c = q.nodes ? new_call(GOFER_CLOSE, true) : NULL;
	if (!c) {
		free(q.nodes);
		return; /* try again with the next request */
	}
	memcpy(q.nodes, ch.closes, ch.ncloses * sizeof(*q.nodes));
	q.nnodes = ch.ncloses;
	q.id = c->id;
	ch.ncloses = 0;
	pthread_mutex_unlock(&ch.lock);
	e = send_msg(&q);
	pthread_mutex_lock(&ch.lock);
	free(q.nodes);
	if (e < 0) {
		unlink_call(c);
		free_call(c);
		break_channel("cannot send");
	}
}

int gfs_rpc(struct gofer_req *q, struct gofer_reply *r)
{
	struct call *c;
	int e;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	pthread_mutex_lock(&ch.lock);
	if (ch.dead || ch.fd < 0) {
		pthread_mutex_unlock(&ch.lock);
		return -EIO;
	}
	flush_closes();
	c = ch.dead ? NULL : new_call(q->type, false);
	if (!c) {
		e = ch.dead ? -EIO : -ENOMEM;
		pthread_mutex_unlock(&ch.lock);
		return e;
	}
	q->id = c->id;
	pthread_mutex_unlock(&ch.lock);
	e = send_msg(q);
	pthread_mutex_lock(&ch.lock);
	if (e < 0) {
		/* Our own bad request fails alone; anything else is the
		 * channel's end. */
		if (e != -EINVAL && e != -ENOMEM && e != -EMSGSIZE) {
			break_channel(e == -EPIPE ? "the gofer is gone" : "cannot send");
			e = -EIO;
		}
		unlink_call(c);
		goto out;
	}
	while (!c->done && !ch.dead) {
		if (!ch.reading)
			read_one();
		else
			pthread_cond_wait(&c->cv, &ch.lock);
	}
	if (!c->done) {
		unlink_call(c);
		e = -EIO;
		goto out;
	}
	/* Hand the reader's role on to another waiter. */
	for (struct call *o = ch.pending; o; o = o->next) {
		if (!o->discard) {
			pthread_cond_signal(&o->cv);
			break;
		}
	}
	if (!c->buf) {
		e = -ENOMEM;
		goto out;
	}
	e = gofer_decode_reply(c->buf, c->len, c->fd >= 0, r);
	if (e < 0) {
		log_err("gofer channel: malformed %s reply", gofer_type_name(q->type));
		break_channel("malformed reply");
		e = -EIO;
		goto out;
	}
	r->fd = c->fd;
	c->fd = -1;
	if (r->err) {
		e = -r->err;
		gofer_reply_free(r);
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
	}
out:
	pthread_mutex_unlock(&ch.lock);
	free_call(c);
	return e;
}

void gfs_close_node(uint64_t node)
{
	struct gofer_req q = {.type = GOFER_CLOSE, .nnodes = 1, .nodes = &node};
	struct gofer_reply r;

	pthread_mutex_lock(&ch.lock);
	if (ch.dead || ch.fd < 0) {
		pthread_mutex_unlock(&ch.lock);
		return;
	}
	if (ch.ncloses < GOFER_CLOSE_MAX) {
		ch.closes[ch.ncloses++] = node;
		pthread_mutex_unlock(&ch.lock);
		return;
	}
	pthread_mutex_unlock(&ch.lock);
	/* The queue is full: this one goes now, with the queue before it. */
	if (gfs_rpc(&q, &r) == 0)
		gofer_reply_free(&r);
}
