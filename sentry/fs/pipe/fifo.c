/* Opening pipe ends: named fifos of any filesystem (one pipe per fifo
 * inode, alive while the fifo is open anywhere) and anonymous pipes
 * reopened through /proc/PID/fd. Linux's fifo_open: a reader waits for a
 * writer and a writer for a reader, unless O_NONBLOCK (a writer then
 * fails with ENXIO) or O_RDWR, which never waits.
 *
 * Lock order: fifo_lock -> pipe.lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>

#include "abi/errno_names.h"
#include "sentry/fs/pipe/pipe_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define FIFO_BUCKETS 64

static pthread_mutex_t fifo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pipe *fifo_table[FIFO_BUCKETS];

static struct pipe **fifo_bucket(struct inode *in)
{
	return &fifo_table[((uintptr_t)in >> 6) % FIFO_BUCKETS];
}

/* The pipe of fifo inode in, with one more file counted on it. The open
 * file holds the inode, so the key stays valid while the pipe lives. */
static struct pipe *fifo_get(struct inode *in)
{
	struct pipe **b = fifo_bucket(in), *p;

	pthread_mutex_lock(&fifo_lock);
	for (p = *b; p && p->fifo_inode != in; p = p->fifo_next)
		;
	if (!p && (p = pipe_alloc())) {
		p->fifo_inode = in;
		p->fifo_next = *b;
		*b = p;
	}
	if (p)
		p->fifo_files++;
	pthread_mutex_unlock(&fifo_lock);
	return p;
}

void fifo_put(struct pipe *p)
{
	bool last;

	pthread_mutex_lock(&fifo_lock);
	last = --p->fifo_files == 0;
	if (last) {
		struct pipe **pp = fifo_bucket(p->fifo_inode);
		while (*pp != p)
			pp = &(*pp)->fifo_next;
		*pp = p->fifo_next;
	}
	pthread_mutex_unlock(&fifo_lock);
	/* Linux drops a fifo's data when nobody has it open. */
	if (last)
		pipe_free(p);
}

/* Wakes opens waiting for a partner. Only tasks wait on open_wq, so
 * waking under p->lock runs no callback. */
static void wake_partner(struct pipe *p)
{
	waitq_wake(&p->open_wq, 0);
}

/* Sleeps (p->lock held, dropped while asleep) until *cnt moves: a
 * partner opened, even if it has closed again since. */
static int wait_for_partner(struct pipe *p, const unsigned *cnt)
{
	struct task *t = current;
	unsigned cur = *cnt;
	struct wq_entry e;

	wq_entry_init(&e, t);
	while (cur == *cnt) {
		int r;
		task_prepare_block(t);
		waitq_add(&p->open_wq, &e);
		pthread_mutex_unlock(&p->lock);
		r = task_block(t, 0);
		waitq_remove(&e);
		pthread_mutex_lock(&p->lock);
		if (r < 0)
			break;
	}
	return cur == *cnt ? -ERESTARTSYS : 0;
}

int pipe_open_end(struct pipe *p, struct file *f, bool is_pipe)
{
	struct pipe_file *pf = calloc(1, sizeof(*pf));
	uint32_t wake = 0;
	int r = 0;

	if (!pf)
		return -ENOMEM;
	pf->p = p;
	pthread_mutex_lock(&p->lock);
	switch (f->flags & O_ACCMODE) {
	case O_RDONLY:
		p->r_counter++;
		if (p->readers++ == 0)
			wake_partner(p);
		if (!is_pipe && !p->writers) {
			if (f->flags & O_NONBLOCK) {
				/* No POLLHUP until a writer has come. */
				pf->version = p->w_counter;
			} else if ((r = wait_for_partner(p, &p->w_counter)) < 0) {
				if (!--p->readers)
					wake = POLLERR | POLLOUT | POLLWRNORM;
			}
		}
		break;
	case O_WRONLY:
		if (!is_pipe && (f->flags & O_NONBLOCK) && !p->readers) {
			r = -ENXIO;
			break;
		}
		p->w_counter++;
		if (!p->writers++)
			wake_partner(p);
		if (!is_pipe && !p->readers && (r = wait_for_partner(p, &p->r_counter)) < 0) {
			if (!--p->writers)
				wake = POLLHUP | POLLIN | POLLRDNORM;
		}
		break;
	case O_RDWR:
		/* It can talk to itself: never waits. */
		p->readers++;
		p->writers++;
		p->r_counter++;
		p->w_counter++;
		if (p->readers == 1 || p->writers == 1)
			wake_partner(p);
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&p->lock);
	if (wake)
		pipe_wake(p, wake);
	if (r < 0) {
		free(pf);
		return r;
	}
	f->ops = &pipe_fops;
	f->priv = pf;
	return 0;
}

static int fifo_open(struct inode *in, struct file *f)
{
	struct pipe *p = fifo_get(in);
	int r;

	if (!p)
		return -ENOMEM;
	r = pipe_open_end(p, f, false);
	if (r < 0)
		fifo_put(p);
	return r;
}

/* special.c opens fifo inodes of every filesystem through this hook;
 * the pipe code is linked in whenever pipe(2) is. */
__attribute__((constructor)) static void fifo_register(void)
{
	vfs_fifo_open = fifo_open;
}
