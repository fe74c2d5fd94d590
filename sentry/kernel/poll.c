/* poll and select (fs/select.c). The first pass queues an entry on the
 * wait queue of every file (each entry keeps its file referenced, since
 * the fd may be closed meanwhile); once something is ready, or after
 * the first pass, files are only polled. Readiness wins over a pending
 * signal, and a pending signal over a timeout, as in Linux. */
#include "sentry/kernel/poll.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>

#include "abi/errno_names.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

#define POLLIN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET (POLLPRI)

struct pentry {
	struct wq_entry w;
	struct file *f;
};

struct ptable {
	struct pentry *ents;
	size_t n, cap;
	bool queue;          /* still queueing entries (the first pass) */
};

/* fdget's view: O_PATH files are not there for poll. */
static struct file *poll_file(struct task *t, int fd)
{
	struct file *f = fdtable_get(t->fdt, fd);

	if (f && (f->flags & O_PATH)) {
		file_put(f);
		return NULL;
	}
	return f;
}

/* Polls f, queueing an entry while pt->queue; consumes the reference. */
static uint32_t poll_one(struct task *t, struct ptable *pt, struct file *f)
{
	struct wq_entry *w = NULL;
	uint32_t mask;

	if (pt->queue && pt->n < pt->cap) {
		w = &pt->ents[pt->n].w;
		wq_entry_init(w, t);
	}
	mask = vfs_poll(f, w);
	if (w)
		pt->ents[pt->n++].f = f;
	else
		file_put(f);
	return mask;
}

static int ptable_init(struct ptable *pt, size_t cap, uint64_t deadline)
{
	pt->n = 0;
	pt->cap = cap;
	/* A zero timeout never sleeps: nothing to queue. */
	pt->queue = !(deadline && deadline <= monotonic_ns());
	pt->ents = NULL;
	if (pt->queue && cap && !(pt->ents = calloc(cap, sizeof(*pt->ents))))
		return -ENOMEM;
	return 0;
}

static void ptable_free(struct ptable *pt)
{
	for (size_t i = 0; i < pt->n; i++) {
		waitq_remove(&pt->ents[i].w);
		file_put(pt->ents[i].f);
	}
	free(pt->ents);
}

/* After a pass that found count ready: whether to stop, with *ret. */
static bool pass_done(struct task *t, int count, bool *timed_out, uint64_t deadline, int *ret)
{
	*ret = count;
	if (!count && task_interrupted(t))
		*ret = -ERESTARTNOHAND;
	if (*ret || *timed_out)
		return true;
	if (task_block(t, deadline) == -ETIMEDOUT)
		*timed_out = true; /* one more pass, then 0 */
	return false;
}

int do_poll(struct task *t, struct k_pollfd *fds, size_t n, uint64_t deadline)
{
	struct ptable pt;
	bool timed_out;
	int ret;

	if (ptable_init(&pt, n, deadline) < 0)
		return -ENOMEM;
	timed_out = !pt.queue;
	do {
		int count = 0;
		task_prepare_block(t);
		for (size_t i = 0; i < n; i++) {
			struct k_pollfd *p = &fds[i];
			uint32_t mask = 0;
			if (p->fd >= 0) {
				struct file *f = poll_file(t, p->fd);
				mask = POLLNVAL;
				if (f)
					mask = poll_one(t, &pt, f) &
					       ((uint16_t)p->events | POLLERR | POLLHUP);
			}
			p->revents = (int16_t)mask;
			if (mask) {
				count++;
				pt.queue = false;
			}
		}
		pt.queue = false;
		if (pass_done(t, count, &timed_out, deadline, &ret))
			break;
	} while (1);
	ptable_free(&pt);
	return ret;
}

static bool bit(const uint64_t *set, int fd)
{
	return set && (set[fd / 64] >> (fd % 64)) & 1;
}

int do_select(struct task *t, int n, uint64_t *in, uint64_t *out, uint64_t *ex,
	      uint64_t deadline)
{
	size_t words = ((size_t)n + 63) / 64, nset = 0;
	uint64_t *res;
	struct ptable pt;
	bool timed_out;
	int ret;

	/* Every fd named must be open (Linux's max_select_fd). */
	for (int fd = 0; fd < n; fd++) {
		struct file *f;
		if (!bit(in, fd) && !bit(out, fd) && !bit(ex, fd))
			continue;
		if (!(f = fdtable_get(t->fdt, fd)))
			return -EBADF;
		file_put(f);
		nset++;
	}
	res = calloc(3 * words + 1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	if (ptable_init(&pt, nset, deadline) < 0) {
		free(res);
		return -ENOMEM;
	}
	timed_out = !pt.queue;
	do {
		int count = 0;
		task_prepare_block(t);
		for (size_t i = 0; i < 3 * words; i++)
			res[i] = 0;
		for (int fd = 0; fd < n; fd++) {
			bool r = bit(in, fd), w = bit(out, fd), e = bit(ex, fd);
			uint64_t b = 1ULL << (fd % 64);
			struct file *f;
			uint32_t mask;
			if (!r && !w && !e)
				continue;
			/* Closed meanwhile: never ready. */
			if (!(f = poll_file(t, fd)))
				continue;
			mask = poll_one(t, &pt, f);
			if (r && (mask & POLLIN_SET)) {
				res[fd / 64] |= b;
				count++;
				pt.queue = false;
			}
			if (w && (mask & POLLOUT_SET)) {
				res[words + fd / 64] |= b;
				count++;
				pt.queue = false;
			}
			if (e && (mask & POLLEX_SET)) {
				res[2 * words + fd / 64] |= b;
				count++;
				pt.queue = false;
			}
		}
		pt.queue = false;
		if (pass_done(t, count, &timed_out, deadline, &ret))
			break;
	} while (1);
	ptable_free(&pt);
	if (ret >= 0) {
		for (size_t i = 0; i < words; i++) {
			if (in)
				in[i] = res[i];
			if (out)
				out[i] = res[words + i];
			if (ex)
				ex[i] = res[2 * words + i];
		}
	}
	free(res);
	return ret;
}

void poll_set_sigmask(struct task *t, uint64_t mask)
{
	pthread_mutex_lock(&t->tg->lock);
	t->saved_mask = t->sigmask;
	t->restore_mask = true;
	t->sigmask = mask & ~KSIG_UNBLOCKABLE;
	pthread_mutex_unlock(&t->tg->lock);
}

void poll_restore_sigmask(struct task *t, bool interrupted)
{
	/* Interrupted: signal delivery restores it, after the handler. */
	if (interrupted)
		return;
	pthread_mutex_lock(&t->tg->lock);
	if (t->restore_mask) {
		t->sigmask = t->saved_mask;
		t->restore_mask = false;
	}
	pthread_mutex_unlock(&t->tg->lock);
}

int poll_user_sigmask(struct task *t, uint64_t umask, uint64_t size)
{
	uint64_t mask;

	if (!umask)
		return 0;
	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(t, &mask, umask, sizeof(mask)) < 0)
		return -EFAULT;
	poll_set_sigmask(t, mask);
	return 0;
}
