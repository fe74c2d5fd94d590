/* Garbage collection of unix sockets in flight (Linux's classic
 * unix_gc). A socket whose file was sent over a socket and closed lives
 * on in that message; sockets sent over each other and then closed form
 * a cycle no one can read any more. Each collection finds them:
 *
 *  1. candidates: sockets whose every file reference is in flight;
 *  2. every reference from a candidate's queue to a candidate is
 *     subtracted; a candidate with some left is reachable from outside
 *     (a live socket's queue, a message being received), and so is all
 *     that its queue reaches;
 *  3. the rest is garbage: their queues are dropped, which releases
 *     them.
 *
 * Nobody can be receiving from a candidate (that takes a reference) and
 * candidates' files can only be sent by those who hold them, so holding
 * unix_gc_lock (which every file entering or leaving flight takes) keeps
 * the picture still. Lock order: iolock -> unix_gc_lock -> u->lock. */
#include <stdlib.h>
#include <sys/socket.h>

#include "sentry/net/unix/unix.h"
#include "sentry/vfs/file.h"

pthread_mutex_t unix_gc_lock = PTHREAD_MUTEX_INITIALIZER;
static long tot_inflight;
static struct unix_sock *inflight_list;   /* sockets with inflight > 0 */
static bool gc_running;

static struct unix_sock *file_unix(struct file *f)
{
	struct socket *sock = sock_from_file(f);
	return sock && sock->ops->family == AF_UNIX ? sock->sk : NULL;
}

static void list_remove(struct unix_sock *u)
{
	for (struct unix_sock **pp = &inflight_list; *pp; pp = &(*pp)->gc_next) {
		if (*pp == u) {
			*pp = u->gc_next;
			break;
		}
	}
	u->gc_next = NULL;
	u->gc_listed = false;
}

void unix_inflight(struct file *f)
{
	struct unix_sock *u = file_unix(f);

	pthread_mutex_lock(&unix_gc_lock);
	tot_inflight++;
	if (u) {
		u->file = f;
		if (u->inflight++ == 0 && !u->gc_listed) {
			u->gc_next = inflight_list;
			inflight_list = u;
			u->gc_listed = true;
		}
	}
	pthread_mutex_unlock(&unix_gc_lock);
}

void unix_notinflight(struct file *f)
{
	struct unix_sock *u = file_unix(f);

	pthread_mutex_lock(&unix_gc_lock);
	tot_inflight--;
	if (u && --u->inflight == 0 && u->gc_listed)
		list_remove(u);
	pthread_mutex_unlock(&unix_gc_lock);
}

long unix_inflight_count(void)
{
	long n;

	pthread_mutex_lock(&unix_gc_lock);
	n = tot_inflight;
	pthread_mutex_unlock(&unix_gc_lock);
	return n;
}

/* Calls fn on every unix socket a message in u's queue carries (and in
 * its embryos' queues, for a listener). */
static void scan(struct unix_sock *u, void (*fn)(struct unix_sock *v, struct unix_sock **work),
		 struct unix_sock **work)
{
	pthread_mutex_lock(&u->lock);
	for (struct unix_msg *m = u->rq_head; m; m = m->next) {
		if (m->embryo)
			scan(m->embryo, fn, work);
		for (int i = 0; m->fds && i < m->fds->count; i++) {
			struct unix_sock *v = file_unix(m->fds->files[i]);
			if (v && v->gc_candidate)
				fn(v, work);
		}
	}
	pthread_mutex_unlock(&u->lock);
}

static void dec_ref(struct unix_sock *v, struct unix_sock **work)
{
	(void)work;
	v->gc_refs--;
}

static void mark_alive(struct unix_sock *v, struct unix_sock **work)
{
	if (v->gc_alive)
		return;
	v->gc_alive = true;
	v->gc_next_work = *work;
	*work = v;
}

void unix_gc(void)
{
	struct unix_sock *cand = NULL, *work = NULL;
	struct unix_msg *garbage = NULL;

	pthread_mutex_lock(&unix_gc_lock);
	if (gc_running || !tot_inflight) {
		pthread_mutex_unlock(&unix_gc_lock);
		return;
	}
	gc_running = true;
	/* 1. Sockets held only by messages. */
	for (struct unix_sock *u = inflight_list; u; u = u->gc_next) {
		u->gc_candidate = u->file && atomic_load(&u->file->refs) == u->inflight;
		u->gc_alive = false;
		if (u->gc_candidate) {
			u->gc_refs = u->inflight;
			u->gc_next_cand = cand;
			cand = u;
		}
	}
	/* 2. References from outside the candidates keep them, and what
	 * they reach, alive. */
	for (struct unix_sock *u = cand; u; u = u->gc_next_cand)
		scan(u, dec_ref, NULL);
	for (struct unix_sock *u = cand; u; u = u->gc_next_cand)
		if (u->gc_refs > 0)
			mark_alive(u, &work);
	while (work) {
		struct unix_sock *u = work;
		work = u->gc_next_work;
		scan(u, mark_alive, &work);
	}
	/* 3. Drop the garbage's queues. */
	for (struct unix_sock *u = cand; u; u = u->gc_next_cand) {
		struct unix_msg *list, *tail;
		if (u->gc_alive)
			continue;
		pthread_mutex_lock(&u->lock);
		list = unix_queue_detach(u);
		pthread_mutex_unlock(&u->lock);
		for (tail = list; tail && tail->next; tail = tail->next)
			;
		if (tail) {
			tail->next = garbage;
			garbage = list;
		}
	}
	for (struct unix_sock *u = cand; u; u = u->gc_next_cand)
		u->gc_candidate = false;
	gc_running = false;
	pthread_mutex_unlock(&unix_gc_lock);
	/* Freeing drops the files in flight: the cycle comes apart. A
	 * dead listener's connections die with it, as in release. */
	for (struct unix_msg *m = garbage; m; m = m->next)
		if (m->embryo)
			unix_release_sock(m->embryo, true);
	unix_msg_free_list(garbage);
}
