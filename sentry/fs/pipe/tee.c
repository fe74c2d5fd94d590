/* Between two pipes: splice moves buffers, tee copies them without
 * consuming (Linux's splice_pipe_to_pipe and link_pipe). Both pipes are
 * locked together, in address order; the waits for input and for room
 * happen before, one pipe at a time (ipipe_prep, opipe_prep). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "lib/lockpair.h"
#include "sentry/fs/pipe/pipe_internal.h"
#include "sentry/vfs/file.h"

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static void lock_two(struct pipe *a, struct pipe *b)
{
	mutex_lock_pair(&a->lock, &b->lock);
}

static void unlock_two(struct pipe *a, struct pipe *b)
{
	mutex_unlock_pair(&a->lock, &b->lock);
}

/* Linux's ipipe_prep: waits until in has data or no writer is left
 * (which still goes on to wait for room in the output, as Linux). */
static int ipipe_prep(struct pipe *p, bool nonblock)
{
	int r = 0;

	pthread_mutex_lock(&p->lock);
	while (p->rd_busy || pipe_empty(p)) {
		if (!p->rd_busy && !p->writers)
			break;
		if (!p->rd_busy && nonblock) {
			r = -EAGAIN;
			break;
		}
		r = pipe_wait(p, POLLIN | POLLHUP);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Linux's opipe_prep: waits until out has room (EPIPE and SIGPIPE once
 * nobody reads). */
static int opipe_prep(struct pipe *p, bool nonblock)
{
	int r = 0;

	pthread_mutex_lock(&p->lock);
	while (pipe_full(p)) {
		if (!p->readers) {
			r = -EPIPE;
			break;
		}
		if (nonblock) {
			r = -EAGAIN;
			break;
		}
		r = pipe_wait(p, POLLOUT | POLLERR);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&p->lock);
	if (r == -EPIPE)
		pipe_sigpipe();
	return r;
}

/* splice between two pipes: whole buffers move, a partial one is
 * copied (Linux's splice_pipe_to_pipe). */
long splice_pipes(struct pipe *ip, struct pipe *op, size_t len, bool nonblock)
{
	long ret = 0;
	bool sigpipe = false, took = false;
	int r;

retry:
	r = ipipe_prep(ip, nonblock);
	if (r < 0)
		return r;
	r = opipe_prep(op, nonblock);
	if (r < 0)
		return r;
	lock_two(ip, op);
	while (len) {
		struct pipe_buf *ib, *ob;
		size_t n;

		if (!op->readers) {
			sigpipe = true;
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (!ip->rd_busy && pipe_empty(ip) && !ip->writers)
			break;
		if (ip->rd_busy || pipe_empty(ip) || pipe_full(op)) {
			if (ret)
				break;
			if (nonblock) {
				ret = -EAGAIN;
				break;
			}
			/* Raced with another reader or writer. */
			unlock_two(ip, op);
			goto retry;
		}
		ib = pipe_slot(ip, ip->tail);
		if (len >= ib->len) {
			ob = pipe_slot(op, op->head++);
			*ob = *ib;
			ib->page = NULL;
			ib->len = 0;
			ip->tail++;
		} else {
			ob = pipe_push_slot(op, ib->flags & ~PB_MERGE);
			if (!ob) {
				if (!ret)
					ret = -ENOMEM;
				break;
			}
			memcpy(ob->page, ib->page + ib->off, len);
			ob->len = (uint32_t)len;
			ib->off += (uint32_t)len;
			ib->len -= (uint32_t)len;
		}
		n = ob->len;
		took = true;
		ret += (long)n;
		len -= n;
	}
	unlock_two(ip, op);
	if (ret > 0)
		pipe_wake(op, POLLIN | POLLRDNORM);
	if (took)
		pipe_wake(ip, POLLOUT | POLLWRNORM);
	if (sigpipe)
		pipe_sigpipe();
	return ret;
}

/* tee: copies in's buffers into out without consuming them (Linux's
 * link_pipe, which shares the pages). */
static long link_pipes(struct pipe *ip, struct pipe *op, size_t len)
{
	long ret = 0;
	bool sigpipe = false;

	lock_two(ip, op);
	for (unsigned i = ip->tail; len; i++) {
		struct pipe_buf *ib, *ob;

		if (!op->readers) {
			sigpipe = true;
			if (!ret)
				ret = -EPIPE;
			break;
		}
		if (i == ip->head || pipe_full(op))
			break;
		ib = pipe_slot(ip, i);
		ob = pipe_push_slot(op, ib->flags & ~PB_MERGE);
		if (!ob) {
			if (!ret)
				ret = -ENOMEM;
			break;
		}
		ob->len = (uint32_t)min_sz(ib->len, len);
		memcpy(ob->page, ib->page + ib->off, ob->len);
		ret += ob->len;
		len -= ob->len;
	}
	unlock_two(ip, op);
	if (ret > 0)
		pipe_wake(op, POLLIN | POLLRDNORM);
	if (sigpipe)
		pipe_sigpipe();
	return ret;
}

long tee_pipes(struct file *in, struct file *out, size_t len, unsigned flags)
{
	struct pipe *ip = pipe_of_file(in), *op = pipe_of_file(out);
	bool nonblock = (flags & SPLICE_F_NONBLOCK) || ((in->flags | out->flags) & O_NONBLOCK);
	int r;

	if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (!ip || !op || ip == op)
		return -EINVAL;
	r = ipipe_prep(ip, nonblock);
	if (r < 0)
		return r;
	r = opipe_prep(op, nonblock);
	if (r < 0)
		return r;
	return link_pipes(ip, op, len);
}
