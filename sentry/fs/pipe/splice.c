/* splice and vmsplice (Linux's fs/splice.c semantics); between two
 * pipes, and tee, see tee.c. Data is copied, not shared: a pipe buffer
 * is the sentry's own page.
 *
 * Moving data between a pipe and something slow (a file, application
 * memory) happens outside the pipe's lock, without losing or
 * duplicating bytes: into a pipe, the slots are reserved first so the
 * data always fits; out of a pipe, the reader holds rd_busy while it
 * writes out bytes it has only peeked, and consumes what was taken. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/fs/pipe/pipe_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"
#include "sentry/vfs/rw.h"

/* The most one call moves through the sentry's memory: a default
 * pipe's worth. */
#define SPLICE_CHUNK (16 * PIPE_PAGE)

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static bool readable(struct file *f) { return (f->flags & O_ACCMODE) != O_WRONLY; }
static bool writable(struct file *f) { return (f->flags & O_ACCMODE) != O_RDONLY; }

/* Moves up to len bytes into the slots reserved on p. Returns bytes
 * (short at the source's end) or -errno. */
typedef ssize_t (*fill_fn)(void *ctx, char *buf, size_t len);
/* Takes up to len bytes out of buf; returns how many it took or -errno. */
typedef ssize_t (*drain_fn)(void *ctx, const char *buf, size_t len);

/* Into pipe p from src: waits for room (EPIPE with SIGPIPE once no one
 * reads), reserves it, reads the source unlocked, then fills the
 * reserved slots. One batch, as Linux's splice_file_to_pipe. */
static long pipe_fill(struct pipe *p, size_t len, bool nonblock, fill_fn src, void *ctx)
{
	unsigned k, want_slots = (unsigned)((min_sz(len, SPLICE_CHUNK) + PIPE_PAGE - 1) / PIPE_PAGE);
	char *buf = NULL, *pages[SPLICE_CHUNK / PIPE_PAGE] = {0};
	ssize_t n;
	long r = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (!p->readers) {
			pthread_mutex_unlock(&p->lock);
			pipe_sigpipe();
			return -EPIPE;
		}
		if (!pipe_full(p))
			break;
		if (nonblock) {
			pthread_mutex_unlock(&p->lock);
			return -EAGAIN;
		}
		r = pipe_wait(p, POLLOUT | POLLERR);
		if (r < 0) {
			pthread_mutex_unlock(&p->lock);
			return r;
		}
	}
	k = p->max_usage - pipe_occupancy(p) - p->reserved;
	if (k > want_slots)
		k = want_slots;
	p->reserved += k;
	pthread_mutex_unlock(&p->lock);

	len = min_sz(len, (size_t)k * PIPE_PAGE);
	buf = malloc(len);
	for (unsigned i = 0; buf && i < k; i++)
		if (!(pages[i] = malloc(PIPE_PAGE)))
			break;
	n = buf && pages[k - 1] ? src(ctx, buf, len) : -ENOMEM;

	pthread_mutex_lock(&p->lock);
	p->reserved -= k;
	for (unsigned i = 0; n > 0 && i * PIPE_PAGE < (size_t)n; i++) {
		struct pipe_buf *b = pipe_slot(p, p->head++);
		b->page = pages[i];
		b->off = 0;
		b->len = (uint32_t)min_sz((size_t)n - i * PIPE_PAGE, PIPE_PAGE);
		b->flags = 0; /* file data never takes merged writes */
		pages[i] = NULL;
		memcpy(b->page, buf + i * PIPE_PAGE, b->len);
	}
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < k; i++)
		free(pages[i]);
	free(buf);
	if (n > 0)
		pipe_wake(p, POLLIN | POLLRDNORM);
	if ((size_t)(n > 0 ? n : 0) < (size_t)k * PIPE_PAGE)
		pipe_wake(p, POLLOUT | POLLWRNORM); /* reserved room is free again */
	return n;
}

/* Out of pipe p into dst: waits for data (0 once no one writes), then
 * hands out peeked data until len is moved or the pipe is empty,
 * consuming what dst took. As Linux's __splice_from_pipe. */
static long pipe_drain(struct pipe *p, size_t len, bool nonblock, drain_fn dst, void *ctx)
{
	char *buf = malloc(min_sz(len, SPLICE_CHUNK));
	size_t done = 0;
	long r = 0;

	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (!p->rd_busy) {
			if (!pipe_empty(p))
				break;
			if (!p->writers || nonblock) {
				r = p->writers ? -EAGAIN : 0;
				goto out;
			}
		}
		r = pipe_wait(p, POLLIN | POLLHUP);
		if (r < 0)
			goto out;
	}
	p->rd_busy = true;
	while (done < len && !pipe_empty(p)) {
		size_t k = pipe_peek(p, buf, min_sz(len - done, SPLICE_CHUNK));
		ssize_t n;

		pthread_mutex_unlock(&p->lock);
		n = dst(ctx, buf, k);
		pthread_mutex_lock(&p->lock);
		if (n < 0) {
			r = n;
			break;
		}
		pipe_consume(p, (size_t)n);
		done += (size_t)n;
		if ((size_t)n < k)
			break;
	}
	p->rd_busy = false;
	pthread_mutex_unlock(&p->lock);
	/* Readers waited for rd_busy; writers for the room. */
	pipe_wake(p, POLLIN | POLLRDNORM | (done ? POLLOUT | POLLWRNORM : 0));
	free(buf);
	return done ? (long)done : r;
out:
	pthread_mutex_unlock(&p->lock);
	free(buf);
	return r;
}

/* --- between a pipe and a file --- */

struct file_io {
	struct file *f;
	int64_t *pos;     /* explicit offset, or NULL */
};

/* The position to use: the explicit one, none for streams, or the
 * file's own (under its lock only for the call, never across a wait). */
static ssize_t file_io(struct file_io *io, void *buf, size_t len, bool write)
{
	struct file *f = io->f;
	bool fpos = !io->pos && !f->ops->stream && !f->ops->own_pos;
	ssize_t n;

	if (fpos)
		pthread_mutex_lock(&f->pos_lock);
	n = write ? f->ops->write(f, buf, len, fpos ? &f->pos : io->pos)
		  : f->ops->read(f, buf, len, fpos ? &f->pos : io->pos);
	if (fpos)
		pthread_mutex_unlock(&f->pos_lock);
	return n;
}

static ssize_t fill_from_file(void *ctx, char *buf, size_t len)
{
	return file_io(ctx, buf, len, false);
}

static ssize_t drain_to_file(void *ctx, const char *buf, size_t len)
{
	return file_io(ctx, (void *)buf, len, true);
}

long splice_files(struct file *in, int64_t *off_in, struct file *out, int64_t *off_out,
		  size_t len, unsigned flags)
{
	struct pipe *ip = pipe_of_file(in), *op = pipe_of_file(out);
	bool nonblock = flags & SPLICE_F_NONBLOCK;
	struct file_io io;
	long r;

	if (!readable(in) || !writable(out))
		return -EBADF;
	if (ip && op) {
		if (off_in || off_out)
			return -ESPIPE;
		if (ip == op)
			return -EINVAL;
		return splice_pipes(ip, op, len,
				    nonblock || ((in->flags | out->flags) & O_NONBLOCK));
	}
	if (ip) {
		if (off_in)
			return -ESPIPE;
		/* An offset needs a seekable file; O_APPEND is refused. */
		if ((off_out && out->ops->stream) || (out->flags & O_APPEND) || !out->ops->write)
			return -EINVAL;
		if (off_out && *off_out < 0)
			return -EINVAL;
		if (out->inode && (r = vfs_remove_privs(current, out->inode)) < 0)
			return r;
		io = (struct file_io){out, off_out};
		return pipe_drain(ip, len, nonblock || (in->flags & O_NONBLOCK), drain_to_file, &io);
	}
	if (op) {
		if (off_out)
			return -ESPIPE;
		if ((off_in && in->ops->stream) || !in->ops->read)
			return -EINVAL;
		if (off_in && *off_in < 0)
			return -EINVAL;
		io = (struct file_io){in, off_in};
		return pipe_fill(op, len, nonblock || (out->flags & O_NONBLOCK), fill_from_file, &io);
	}
	return -EINVAL;
}

/* --- vmsplice --- */

struct user_io {
	struct task *t;
	const struct uiovec *iov;
	size_t cnt, seg, off;   /* where the next byte goes or comes from */
};

/* Copies between buf and the iovec from where the last call stopped;
 * short at the first fault, -EFAULT if nothing moved. */
static ssize_t user_copy(struct user_io *u, char *buf, size_t len, bool to_user)
{
	size_t done = 0;

	while (done < len && u->seg < u->cnt) {
		const struct uiovec *v = &u->iov[u->seg];
		size_t n = min_sz(len - done, v->len - u->off);
		long c;

		if (to_user)
			c = copy_to_user(u->t, v->base + u->off, buf + done, n) < 0 ? -EFAULT
										   : (long)n;
		else
			c = copy_from_user_partial(u->t, buf + done, v->base + u->off, n);
		if (c > 0) {
			done += (size_t)c;
			u->off += (size_t)c;
		}
		if (u->off == v->len) {
			u->seg++;
			u->off = 0;
		}
		if (c < (long)n)
			break;
	}
	return done ? (ssize_t)done : (len ? -EFAULT : 0);
}

static ssize_t fill_from_user(void *ctx, char *buf, size_t len)
{
	return user_copy(ctx, buf, len, false);
}

static ssize_t drain_to_user(void *ctx, const char *buf, size_t len)
{
	return user_copy(ctx, (char *)buf, len, true);
}

long vmsplice_file(struct task *t, struct file *f, const struct uiovec *iov, size_t cnt,
		   size_t total, unsigned flags)
{
	struct pipe *p = pipe_of_file(f);
	struct user_io u = {t, iov, cnt, 0, 0};
	/* Only the flag counts: Linux's vmsplice ignores O_NONBLOCK. */
	bool nonblock = flags & SPLICE_F_NONBLOCK;

	/* Nothing to move succeeds on any file, as Linux checks the pipe
	 * only with data in hand. */
	if (!total)
		return 0;
	if (!p)
		return -EBADF;
	if (writable(f))
		return pipe_fill(p, total, nonblock, fill_from_user, &u);
	if (readable(f))
		return pipe_drain(p, total, nonblock, drain_to_user, &u);
	return -EBADF;
}
