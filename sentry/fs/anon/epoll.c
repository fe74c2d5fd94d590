/* epoll, after Linux's fs/eventpoll.c.
 *
 * An item is registered by (file, fd) and holds no reference on the
 * file: it stays while the open file description lives (closing one of
 * several fds for it changes nothing) and goes when the file's last
 * reference does (eventpoll_release, from file_put). Each item's wait
 * entry sits on its file's wait queue; the wake-up callback puts the
 * item on the ready list. epoll_wait polls the ready items again and
 * reports what holds, re-queueing level-triggered ones, so it never
 * reports stale readiness.
 *
 * Locks: ep.mtx guards the interest list and is held while the ready
 * list is scanned (files are polled under it: a file whose release is
 * waiting for this mtx is still whole). ep.lock guards the ready list
 * and each item's mask and ready state; the callbacks take it under
 * the source's wait queue lock, so it is never held while polling or
 * touching a wait queue. links_lock guards every file's list of items.
 * nest_lock serialises adding an epoll to an epoll, so the loop check
 * sees a stable graph.
 *
 * Lock order: nest_lock -> ep.mtx (outer epoll before inner) -> file
 * locks -> waitq.lock -> ep.lock; links_lock is taken last. */
#include "sentry/fs/anon/epoll.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <search.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "sentry/fs/anon/anon.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/file.h"

#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_NESTS 4
/* Linux's max_user_watches is a share of memory; a fixed bound here. */
#define EP_MAX_WATCHES (1 << 18)

enum rdy_state { RDY_NONE, RDY_LIST, RDY_SCAN };

struct eventpoll;

struct epitem {
	struct eventpoll *ep;
	struct file *file;
	int fd;
	uint32_t events;              /* interest (with ERR|HUP); ep.lock */
	uint64_t data;
	struct wq_entry wait;         /* on the file's wait queue */
	enum rdy_state rdy;           /* ep.lock */
	struct epitem *rprev, *rnext; /* the ready list or a scan's list */
	struct epitem *iprev, *inext; /* ep's items (ep.mtx) */
	struct epitem *fnext, **fpprev; /* the file's items (links_lock) */
};

struct rlist {
	struct epitem *head, *tail;
};

struct eventpoll {
	pthread_mutex_t mtx;
	pthread_mutex_t lock;
	atomic_int refs;
	struct file *file;
	struct waitq wq;              /* epoll_wait callers, pollers of the fd */
	void *tree;                   /* items by (file, fd) (tsearch) */
	struct epitem *items;
	int nitems;
	struct rlist rdy;
	/* Loop check memo, under nest_lock. */
	unsigned gen_down, gen_up;
	int depth_down, depth_up;
};

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t nest_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned loop_gen;
static atomic_int nwatches;

static const struct file_ops epoll_ops;

bool is_epoll(struct file *f) { return f->ops == &epoll_ops; }

static void ep_get(struct eventpoll *ep) { atomic_fetch_add(&ep->refs, 1); }

static void ep_put(struct eventpoll *ep)
{
	if (atomic_fetch_sub(&ep->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&ep->mtx);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

/* --- lists (ep.lock held for the ready list) --- */

static void rl_append(struct rlist *l, struct epitem *epi)
{
	epi->rnext = NULL;
	epi->rprev = l->tail;
	if (l->tail)
		l->tail->rnext = epi;
	else
		l->head = epi;
	l->tail = epi;
}

static void rl_unlink(struct rlist *l, struct epitem *epi)
{
	if (epi->rprev)
		epi->rprev->rnext = epi->rnext;
	else
		l->head = epi->rnext;
	if (epi->rnext)
		epi->rnext->rprev = epi->rprev;
	else
		l->tail = epi->rprev;
	epi->rprev = epi->rnext = NULL;
}

/* Puts a onto the front of b, in order; a is left empty. */
static void rl_prepend(struct rlist *b, struct rlist *a)
{
	if (!a->head)
		return;
	if (b->head) {
		a->tail->rnext = b->head;
		b->head->rprev = a->tail;
	} else {
		b->tail = a->tail;
	}
	b->head = a->head;
	a->head = a->tail = NULL;
}

/* Marks epi ready (ep.lock held); true if it was not already. */
static bool mark_ready(struct eventpoll *ep, struct epitem *epi)
{
	if (epi->rdy != RDY_NONE)
		return false;
	epi->rdy = RDY_LIST;
	rl_append(&ep->rdy, epi);
	return true;
}

/* --- the wake-up callback: under the source's wait queue lock --- */

static void ep_wake(struct wq_entry *w, uint32_t events)
{
	struct epitem *epi = w->priv;
	struct eventpoll *ep = epi->ep;
	bool wake = false;

	pthread_mutex_lock(&ep->lock);
	/* A fired EPOLLONESHOT item is disabled until EPOLL_CTL_MOD; a
	 * wake-up naming events says which (none: could be anything). */
	if ((epi->events & ~EP_PRIVATE_BITS) && (!events || (events & epi->events))) {
		mark_ready(ep, epi);
		wake = true;
	}
	pthread_mutex_unlock(&ep->lock);
	if (wake)
		waitq_wake(&ep->wq, POLLIN);
}

/* --- scanning the ready list (ep.mtx held) --- */

/* Polls the ready items in order. Reports up to max events into out
 * (NULL: peek, only whether one is ready, consuming nothing). Items
 * found not ready leave the list; level-triggered ones that are ready
 * stay on it. */
static int ep_scan(struct eventpoll *ep, struct k_epoll_event *out, int max)
{
	struct rlist scan;
	bool peek = !out, more;
	int n = 0;

	pthread_mutex_lock(&ep->lock);
	scan = ep->rdy;
	ep->rdy.head = ep->rdy.tail = NULL;
	for (struct epitem *e = scan.head; e; e = e->rnext)
		e->rdy = RDY_SCAN;
	pthread_mutex_unlock(&ep->lock);

	while (scan.head && n < max) {
		struct epitem *epi = scan.head;
		uint32_t events, revents;

		pthread_mutex_lock(&ep->lock);
		rl_unlink(&scan, epi);
		epi->rdy = RDY_NONE;
		events = epi->events;
		pthread_mutex_unlock(&ep->lock);
		revents = vfs_poll(epi->file, NULL) & events;
		if (!revents)
			continue;
		pthread_mutex_lock(&ep->lock);
		if (peek) {
			/* Back where it was, for the epoll_wait to come. */
			if (epi->rdy == RDY_NONE) {
				epi->rdy = RDY_SCAN;
				epi->rnext = scan.head;
				if (scan.head)
					scan.head->rprev = epi;
				else
					scan.tail = epi;
				scan.head = epi;
			}
		} else {
			out[n].events = revents;
			out[n].data = epi->data;
			if (events & EPOLLONESHOT)
				epi->events &= EP_PRIVATE_BITS;
			else if (!(events & EPOLLET))
				mark_ready(ep, epi);
		}
		pthread_mutex_unlock(&ep->lock);
		n++;
	}

	pthread_mutex_lock(&ep->lock);
	for (struct epitem *e = scan.head; e; e = e->rnext)
		e->rdy = RDY_LIST;
	rl_prepend(&ep->rdy, &scan);
	more = ep->rdy.head != NULL;
	pthread_mutex_unlock(&ep->lock);
	/* Others waiting may take what is left (Linux's ep_done_scan). */
	if (more && !peek)
		waitq_wake(&ep->wq, POLLIN);
	return n;
}

static bool ep_has_ready(struct eventpoll *ep)
{
	bool r;
	pthread_mutex_lock(&ep->lock);
	r = ep->rdy.head != NULL;
	pthread_mutex_unlock(&ep->lock);
	return r;
}

/* --- the epoll file --- */

static uint32_t ep_fop_poll(struct file *f, struct wq_entry *w)
{
	struct eventpoll *ep = f->priv;
	int n;

	if (w)
		waitq_add(&ep->wq, w);
	pthread_mutex_lock(&ep->mtx);
	n = ep_scan(ep, NULL, 1);
	pthread_mutex_unlock(&ep->mtx);
	return n ? POLLIN | POLLRDNORM : 0;
}

/* --- the interest list (ep.mtx held) --- */

static int item_cmp(const void *a, const void *b)
{
	const struct epitem *x = a, *y = b;
	if (x->file != y->file)
		return (uintptr_t)x->file < (uintptr_t)y->file ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	struct epitem key = {.file = f, .fd = fd};
	void *node = tfind(&key, &ep->tree, item_cmp);
	return node ? *(struct epitem **)node : NULL;
}

static void ep_remove(struct eventpoll *ep, struct epitem *epi)
{
	/* Once off the wait queue, no callback runs for it. */
	waitq_remove(&epi->wait);
	pthread_mutex_lock(&links_lock);
	*epi->fpprev = epi->fnext;
	if (epi->fnext)
		epi->fnext->fpprev = epi->fpprev;
	pthread_mutex_unlock(&links_lock);
	tdelete(epi, &ep->tree, item_cmp);
	if (epi->iprev)
		epi->iprev->inext = epi->inext;
	else
		ep->items = epi->inext;
	if (epi->inext)
		epi->inext->iprev = epi->iprev;
	ep->nitems--;
	pthread_mutex_lock(&ep->lock);
	if (epi->rdy == RDY_LIST)
		rl_unlink(&ep->rdy, epi);
	pthread_mutex_unlock(&ep->lock);
	atomic_fetch_sub(&nwatches, 1);
	free(epi);
}

static int ep_insert(struct eventpoll *ep, struct file *tf, int fd,
		     const struct k_epoll_event *ev)
{
	struct epitem *epi;
	uint32_t revents;
	bool wake = false;

	if (atomic_fetch_add(&nwatches, 1) >= EP_MAX_WATCHES) {
		atomic_fetch_sub(&nwatches, 1);
		return -ENOSPC;
	}
	epi = calloc(1, sizeof(*epi));
	if (epi) {
		epi->file = tf; /* the tree's key */
		epi->fd = fd;
	}
	if (!epi || !tsearch(epi, &ep->tree, item_cmp)) {
		free(epi);
		atomic_fetch_sub(&nwatches, 1);
		return -ENOMEM;
	}
	epi->ep = ep;
	epi->events = ev->events | EPOLLERR | EPOLLHUP;
	epi->data = ev->data;
	wq_entry_init(&epi->wait, NULL);
	epi->wait.fn = ep_wake;
	epi->wait.priv = epi;
	epi->inext = ep->items;
	if (ep->items)
		ep->items->iprev = epi;
	ep->items = epi;
	ep->nitems++;
	pthread_mutex_lock(&links_lock);
	epi->fnext = tf->ep_links;
	if (tf->ep_links)
		tf->ep_links->fpprev = &epi->fnext;
	epi->fpprev = &tf->ep_links;
	tf->ep_links = epi;
	pthread_mutex_unlock(&links_lock);
	/* Hook onto the file, and take what is ready already. */
	revents = vfs_poll(tf, &epi->wait);
	pthread_mutex_lock(&ep->lock);
	if (revents & epi->events)
		wake = mark_ready(ep, epi);
	pthread_mutex_unlock(&ep->lock);
	if (wake)
		waitq_wake(&ep->wq, POLLIN);
	return 0;
}

static int ep_modify(struct eventpoll *ep, struct epitem *epi, const struct k_epoll_event *ev)
{
	bool wake = false;
	uint32_t revents;

	/* The new mask first, so no event between the poll and it is lost. */
	pthread_mutex_lock(&ep->lock);
	epi->events = ev->events | EPOLLERR | EPOLLHUP;
	epi->data = ev->data;
	pthread_mutex_unlock(&ep->lock);
	revents = vfs_poll(epi->file, NULL);
	pthread_mutex_lock(&ep->lock);
	if (revents & epi->events)
		wake = mark_ready(ep, epi);
	pthread_mutex_unlock(&ep->lock);
	if (wake)
		waitq_wake(&ep->wq, POLLIN);
	return 0;
}

/* --- loop and depth checks (nest_lock held) --- */

/* How many epolls deep the chains below ep go; past EP_MAX_NESTS when
 * one reaches inserting (a loop). */
static int depth_below(struct eventpoll *ep, struct eventpoll *inserting, int depth)
{
	int result = 0;

	if (ep->gen_down == loop_gen)
		return ep->depth_down;
	pthread_mutex_lock(&ep->mtx);
	ep->gen_down = loop_gen;
	for (struct epitem *epi = ep->items; epi; epi = epi->inext) {
		struct eventpoll *c;
		if (!is_epoll(epi->file))
			continue;
		c = epi->file->priv;
		if (c == inserting || depth > EP_MAX_NESTS) {
			result = EP_MAX_NESTS + 1;
		} else {
			int d = depth_below(c, inserting, depth + 1) + 1;
			if (d > result)
				result = d;
		}
		if (result > EP_MAX_NESTS)
			break;
	}
	ep->depth_down = result;
	pthread_mutex_unlock(&ep->mtx);
	return result;
}

/* How many epolls above ep contain it, on the longest chain (links_lock
 * held: an item on a file's list keeps its epoll alive). */
static int depth_above(struct eventpoll *ep)
{
	int result = 0;

	if (ep->gen_up == loop_gen)
		return ep->depth_up;
	for (struct epitem *epi = ep->file->ep_links; epi; epi = epi->fnext) {
		int d = depth_above(epi->ep) + 1;
		if (d > result)
			result = d;
	}
	ep->gen_up = loop_gen;
	ep->depth_up = result;
	return result;
}

/* Whether adding the epoll `to` to ep makes a loop or too deep a chain
 * (Linux's ep_loop_check): -ELOOP or 0. */
static int loop_check(struct eventpoll *ep, struct eventpoll *to)
{
	int down, up;

	loop_gen++;
	down = depth_below(to, ep, 0);
	if (down > EP_MAX_NESTS)
		return -ELOOP;
	pthread_mutex_lock(&links_lock);
	up = depth_above(ep);
	pthread_mutex_unlock(&links_lock);
	return down + 1 + up > EP_MAX_NESTS ? -ELOOP : 0;
}

int epoll_ctl_file(struct file *epf, int op, int fd, struct file *tf,
		   const struct k_epoll_event *ev)
{
	struct eventpoll *ep = epf->priv;
	bool nested = op == EPOLL_CTL_ADD && is_epoll(tf);
	struct epitem *epi;
	int r;

	if (nested) {
		pthread_mutex_lock(&nest_lock);
		r = loop_check(ep, tf->priv);
		if (r < 0) {
			pthread_mutex_unlock(&nest_lock);
			return r;
		}
	}
	pthread_mutex_lock(&ep->mtx);
	epi = ep_find(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		r = epi ? -EEXIST : ep_insert(ep, tf, fd, ev);
		break;
	case EPOLL_CTL_DEL:
		r = epi ? 0 : -ENOENT;
		if (epi)
			ep_remove(ep, epi);
		break;
	case EPOLL_CTL_MOD:
		if (!epi)
			r = -ENOENT;
		else if (epi->events & EPOLLEXCLUSIVE)
			r = -EINVAL;
		else
			r = ep_modify(ep, epi, ev);
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&ep->mtx);
	if (nested)
		pthread_mutex_unlock(&nest_lock);
	return r;
}

/* --- epoll_wait --- */

int epoll_wait_file(struct task *t, struct file *epf, int max, uint64_t deadline,
		    struct k_epoll_event **out)
{
	struct eventpoll *ep = epf->priv;
	bool timed_out = deadline && deadline <= monotonic_ns();
	bool avail = ep_has_ready(ep);
	struct wq_entry w;

	*out = NULL;
	wq_entry_init(&w, t);
	for (;;) {
		if (avail) {
			int n = 0;
			pthread_mutex_lock(&ep->mtx);
			/* Never more than there are items: max is the caller's. */
			size_t cap = (size_t)(max < ep->nitems ? max : ep->nitems);
			if (cap) {
				*out = malloc(cap * sizeof(**out));
				n = *out ? ep_scan(ep, *out, (int)cap) : -ENOMEM;
			}
			pthread_mutex_unlock(&ep->mtx);
			if (n)
				return n;
			free(*out);
			*out = NULL;
		}
		if (timed_out)
			return 0;
		if (task_interrupted(t))
			return -EINTR;
		task_prepare_block(t);
		waitq_add(&ep->wq, &w);
		avail = ep_has_ready(ep);
		if (!avail && task_block(t, deadline) == -ETIMEDOUT)
			timed_out = true;
		waitq_remove(&w);
		avail = true;
	}
}

/* --- lifetime --- */

void eventpoll_release(struct file *f)
{
	for (;;) {
		struct eventpoll *ep;
		struct epitem *epi;

		pthread_mutex_lock(&links_lock);
		epi = f->ep_links;
		ep = epi ? epi->ep : NULL;
		if (ep)
			ep_get(ep);
		pthread_mutex_unlock(&links_lock);
		if (!ep)
			return;
		/* Under ep.mtx this epoll's items on f cannot go elsewhere. */
		pthread_mutex_lock(&ep->mtx);
		for (;;) {
			pthread_mutex_lock(&links_lock);
			for (epi = f->ep_links; epi && epi->ep != ep; epi = epi->fnext)
				;
			pthread_mutex_unlock(&links_lock);
			if (!epi)
				break;
			ep_remove(ep, epi);
		}
		pthread_mutex_unlock(&ep->mtx);
		ep_put(ep);
	}
}

static void ep_release(struct file *f)
{
	struct eventpoll *ep = f->priv;

	pthread_mutex_lock(&ep->mtx);
	while (ep->items)
		ep_remove(ep, ep->items);
	pthread_mutex_unlock(&ep->mtx);
	ep_put(ep);
}

static const struct file_ops epoll_ops = {
	.stat = anon_stat,
	.poll = ep_fop_poll,
	.release = ep_release,
	.stream = 1,
	.anon_name = "[eventpoll]",
};

struct file *epoll_new(void)
{
	struct eventpoll *ep = calloc(1, sizeof(*ep));
	struct file *f;

	if (!ep)
		return NULL;
	pthread_mutex_init(&ep->mtx, NULL);
	pthread_mutex_init(&ep->lock, NULL);
	atomic_init(&ep->refs, 1);
	waitq_init(&ep->wq);
	f = file_new(&epoll_ops, O_RDWR, ep);
	if (!f) {
		ep_put(ep);
		return NULL;
	}
	ep->file = f;
	return f;
}
