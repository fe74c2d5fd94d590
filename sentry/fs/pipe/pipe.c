/* Pipes: the ring of page buffers, read and write with Linux's blocking,
 * atomicity and SIGPIPE rules, poll, FIONREAD and the pipe-size fcntls.
 * Opening ends (fifos, reopened pipes) is fifo.c's; anonymous pipes'
 * inodes and pipe(2) itself are pipefs.c's. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "abi/errno_names.h"
#include "sentry/fs/pipe/pipe_internal.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"

#define POLL_ALL (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLERR)

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

void pipe_now(struct k_timespec *ts)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ts->tv_sec = now.tv_sec;
	ts->tv_nsec = now.tv_nsec;
}

struct pipe *pipe_alloc(void)
{
	struct pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->bufs = calloc(PIPE_DEF_SLOTS, sizeof(*p->bufs));
	if (!p->bufs) {
		free(p);
		return NULL;
	}
	p->max_usage = PIPE_DEF_SLOTS;
	pthread_mutex_init(&p->lock, NULL);
	waitq_init(&p->wq);
	waitq_init(&p->open_wq);
	p->mode = S_IFIFO | S_IRUSR | S_IWUSR;
	if (current) {
		p->uid = current->tg->creds.fsuid;
		p->gid = current->tg->creds.fsgid;
	}
	pipe_now(&p->atime);
	p->mtime = p->ctime = p->atime;
	return p;
}

void pipe_free(struct pipe *p)
{
	if (!p)
		return;
	while (!pipe_empty(p))
		pipe_pop_slot(p);
	free(p->bufs);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void pipe_wake(struct pipe *p, uint32_t events)
{
	waitq_wake(&p->wq, events);
}

void pipe_sigpipe(void)
{
	struct task *t = current;
	struct k_siginfo info;

	/* Linux's send_sig(SIGPIPE, current, 0): SI_USER from ourselves. */
	memset(&info, 0, sizeof(info));
	info.si_signo = SIGPIPE;
	info.si_code = K_SI_USER;
	info.kill.pid = t->tg->pid;
	info.kill.uid = t->tg->creds.ruid;
	signal_send_task(t, SIGPIPE, &info);
}

int pipe_wait(struct pipe *p, uint32_t events)
{
	struct task *t = current;
	struct wq_entry e;
	int r;

	wq_entry_init(&e, t);
	e.mask = events;
	task_prepare_block(t);
	waitq_add(&p->wq, &e);
	pthread_mutex_unlock(&p->lock);
	r = task_block(t, 0);
	waitq_remove(&e);
	pthread_mutex_lock(&p->lock);
	return r == -EINTR ? -ERESTARTSYS : r;
}

struct pipe_buf *pipe_push_slot(struct pipe *p, uint32_t flags)
{
	char *page = malloc(PIPE_PAGE);
	struct pipe_buf *b;

	if (!page)
		return NULL;
	b = pipe_slot(p, p->head++);
	b->page = page;
	b->off = b->len = 0;
	b->flags = flags;
	return b;
}

void pipe_pop_slot(struct pipe *p)
{
	struct pipe_buf *b = pipe_slot(p, p->tail++);
	free(b->page);
	b->page = NULL;
	b->len = 0;
}

size_t pipe_peek(struct pipe *p, char *dst, size_t len)
{
	size_t done = 0;

	for (unsigned i = p->tail; i != p->head && done < len; i++) {
		struct pipe_buf *b = pipe_slot(p, i);
		size_t n = min_sz(b->len, len - done);
		memcpy(dst + done, b->page + b->off, n);
		done += n;
	}
	return done;
}

void pipe_consume(struct pipe *p, size_t len)
{
	while (len && !pipe_empty(p)) {
		struct pipe_buf *b = pipe_slot(p, p->tail);
		size_t n = min_sz(b->len, len);
		b->off += (uint32_t)n;
		b->len -= (uint32_t)n;
		len -= n;
		if (!b->len)
			pipe_pop_slot(p);
	}
}

ssize_t pipe_read_buf(struct pipe *p, char *buf, size_t len, bool nonblock, bool packets)
{
	size_t done = 0;
	ssize_t r = 0;
	bool freed = false, packet = false;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		/* A splice that is writing out unconsumed data goes first. */
		if (!p->rd_busy) {
			while (!pipe_empty(p) && done < len && !packet) {
				struct pipe_buf *b = pipe_slot(p, p->tail);
				size_t n = min_sz(b->len, len - done);
				memcpy(buf + done, b->page + b->off, n);
				done += n;
				b->off += (uint32_t)n;
				b->len -= (uint32_t)n;
				/* One packet per read; what did not fit is lost. */
				if (packets && (b->flags & PB_PACKET)) {
					packet = true;
					b->len = 0;
				}
				if (!b->len) {
					pipe_pop_slot(p);
					freed = true;
				}
			}
			if (done || !p->writers)
				break;
			if (nonblock) {
				r = -EAGAIN;
				break;
			}
		}
		r = pipe_wait(p, POLLIN | POLLHUP);
		if (r < 0)
			break;
	}
	if (done)
		pipe_now(&p->atime);
	pthread_mutex_unlock(&p->lock);
	if (freed)
		pipe_wake(p, POLLOUT | POLLWRNORM);
	return done ? (ssize_t)done : r;
}

ssize_t pipe_write_buf(struct pipe *p, const char *buf, size_t len, bool nonblock, bool packet)
{
	size_t done = 0, chars = len & (PIPE_PAGE - 1);
	ssize_t r = 0;
	bool sigpipe = false, fresh = false;

	if (!len)
		return 0;
	pthread_mutex_lock(&p->lock);
	if (!p->readers) {
		sigpipe = true;
		r = -EPIPE;
		goto out;
	}
	/* The part beyond whole pages joins the last buffer if it fits
	 * there entirely: so a write of at most PIPE_BUF bytes lands in
	 * one buffer, whole. */
	if (chars && !pipe_empty(p)) {
		struct pipe_buf *b = pipe_slot(p, p->head - 1);
		if ((b->flags & PB_MERGE) && b->off + b->len + chars <= PIPE_PAGE) {
			memcpy(b->page + b->off + b->len, buf, chars);
			b->len += (uint32_t)chars;
			done = chars;
			fresh = true;
		}
	}
	while (done < len) {
		if (!p->readers) {
			sigpipe = true;
			if (!done)
				r = -EPIPE;
			break;
		}
		if (!pipe_full(p)) {
			struct pipe_buf *b = pipe_push_slot(p, packet ? PB_PACKET : PB_MERGE);
			size_t n = min_sz(len - done, PIPE_PAGE);
			if (!b) {
				if (!done)
					r = -ENOMEM;
				break;
			}
			memcpy(b->page, buf + done, n);
			b->len = (uint32_t)n;
			done += n;
			fresh = true;
			continue;
		}
		if (nonblock) {
			if (!done)
				r = -EAGAIN;
			break;
		}
		/* Readers may be asleep on what is already in. */
		if (fresh) {
			pthread_mutex_unlock(&p->lock);
			pipe_wake(p, POLLIN | POLLRDNORM);
			pthread_mutex_lock(&p->lock);
			fresh = false;
			continue;
		}
		r = pipe_wait(p, POLLOUT | POLLERR);
		if (r < 0) {
			if (done)
				r = 0;
			break;
		}
	}
out:
	if (done) {
		pipe_now(&p->mtime);
		p->ctime = p->mtime;
	}
	pthread_mutex_unlock(&p->lock);
	if (fresh)
		pipe_wake(p, POLLIN | POLLRDNORM);
	if (sigpipe)
		pipe_sigpipe();
	return done ? (ssize_t)done : r;
}

/* --- file operations --- */

static struct pipe_file *PF(struct file *f) { return f->priv; }

static ssize_t pipe_f_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	(void)pos;
	return pipe_read_buf(PF(f)->p, buf, len, f->flags & O_NONBLOCK, true);
}

static ssize_t pipe_f_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	(void)pos;
	return pipe_write_buf(PF(f)->p, buf, len, f->flags & O_NONBLOCK, f->flags & O_DIRECT);
}

/* Linux's pipe_poll: readable with data, hung up once every writer has
 * gone (but not before a fifo reader opened O_NONBLOCK saw one),
 * writable with a free buffer, error once every reader has gone. */
static uint32_t pipe_f_poll(struct file *f, struct wq_entry *e)
{
	struct pipe *p = PF(f)->p;
	int acc = f->flags & O_ACCMODE;
	uint32_t mask = 0;

	pthread_mutex_lock(&p->lock);
	if (acc == O_RDONLY || acc == O_RDWR) {
		if (!pipe_empty(p))
			mask |= POLLIN | POLLRDNORM;
		if (!p->writers && PF(f)->version != p->w_counter)
			mask |= POLLHUP;
	}
	if (acc == O_WRONLY || acc == O_RDWR) {
		if (!pipe_full(p))
			mask |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			mask |= POLLERR;
	}
	if (e)
		waitq_add(&p->wq, e);
	pthread_mutex_unlock(&p->lock);
	return mask;
}

static long pipe_f_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct pipe *p = PF(f)->p;
	int count = 0;

	if (cmd != FIONREAD)
		return -ENOTTY;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = p->tail; i != p->head; i++)
		count += (int)pipe_slot(p, i)->len;
	pthread_mutex_unlock(&p->lock);
	return copy_to_user(t, arg, &count, sizeof(count));
}

/* Linux's round_pipe_size: at least a page, a power of two, 0 (invalid)
 * above 2 GiB. */
static uint64_t round_pipe_size(uint64_t size)
{
	uint64_t r = PIPE_PAGE;

	if (size > (1ULL << 31))
		return 0;
	while (r < size)
		r <<= 1;
	return r;
}

static long pipe_set_size(struct pipe *p, struct task *t, unsigned arg)
{
	uint64_t size = round_pipe_size(arg);
	unsigned nr = (unsigned)(size / PIPE_PAGE), n;
	/* Shrinking is always allowed; growing past pipe-max-size needs
	 * CAP_SYS_RESOURCE. */
	bool limited = size > PIPE_MAX_SIZE && !creds_capable(&t->tg->creds, CAP_SYS_RESOURCE);
	struct pipe_buf *nb;
	bool grew;
	long r = 0;

	if (!nr)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	grew = nr > p->max_usage;
	pthread_mutex_unlock(&p->lock);
	if (grew && limited)
		return -EPERM; /* before allocating for a size we refuse */
	nb = calloc(nr, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	n = pipe_occupancy(p);
	if (nr > p->max_usage && limited)
		r = -EPERM;
	else if (nr < n + p->reserved)
		r = -EBUSY;
	if (r < 0) {
		pthread_mutex_unlock(&p->lock);
		free(nb);
		return r;
	}
	for (unsigned i = 0; i < n; i++)
		nb[i] = *pipe_slot(p, p->tail + i);
	free(p->bufs);
	p->bufs = nb;
	p->tail = 0;
	p->head = n;
	grew = nr > p->max_usage;
	p->max_usage = nr;
	pthread_mutex_unlock(&p->lock);
	if (grew)
		pipe_wake(p, POLLOUT | POLLWRNORM);
	return (long)size;
}

static long pipe_f_fcntl(struct file *f, struct task *t, int cmd, uint64_t arg)
{
	struct pipe *p = PF(f)->p;
	long r;

	switch (cmd) {
	case F_GETPIPE_SZ:
		pthread_mutex_lock(&p->lock);
		r = (long)p->max_usage * PIPE_PAGE;
		pthread_mutex_unlock(&p->lock);
		return r;
	case F_SETPIPE_SZ:
		/* Linux takes the argument as an unsigned int. */
		return pipe_set_size(p, t, (unsigned)arg);
	default:
		return -EINVAL;
	}
}

void pipe_close_end(struct pipe *p, int acc)
{
	bool wake;

	pthread_mutex_lock(&p->lock);
	if (acc == O_RDONLY || acc == O_RDWR)
		p->readers--;
	if (acc == O_WRONLY || acc == O_RDWR)
		p->writers--;
	/* The last reader or writer, not both: the other side must see
	 * EOF, EPIPE, POLLHUP or POLLERR. */
	wake = !p->readers != !p->writers;
	pthread_mutex_unlock(&p->lock);
	if (wake)
		pipe_wake(p, POLL_ALL);
}

static void pipe_f_release(struct file *f)
{
	struct pipe_file *pf = PF(f);

	pipe_close_end(pf->p, f->flags & O_ACCMODE);
	if (pf->p->fifo_inode)
		fifo_put(pf->p);
	/* An anonymous pipe lives as long as its pipefs inode. */
	free(pf);
}

const struct file_ops pipe_fops = {
	.read = pipe_f_read,
	.write = pipe_f_write,
	.ioctl = pipe_f_ioctl,
	.poll = pipe_f_poll,
	.fcntl = pipe_f_fcntl,
	.release = pipe_f_release,
	.stream = 1,
};

bool file_is_pipe(struct file *f)
{
	return f->ops == &pipe_fops;
}

struct pipe *pipe_of_file(struct file *f)
{
	return file_is_pipe(f) ? PF(f)->p : NULL;
}
