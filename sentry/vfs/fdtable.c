#include "sentry/vfs/fdtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/file.h"
#include "sentry/vfs/lock.h"

/* A hard ceiling whatever RLIMIT_NOFILE says (Linux's nr_open default). */
#define FD_MAX (1 << 20)

/* A file leaves t: the table's POSIX locks on it go too, whichever fd
 * took them (Linux's filp_close). */
static void drop(struct fdtable *t, struct file *f)
{
	if (!f)
		return;
	if (f->inode)
		vfs_locks_release(f->inode, t);
	file_put(f);
}

struct fdtable *fdtable_new(void)
{
	struct fdtable *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	atomic_init(&t->refs, 1);
	return t;
}

void fdtable_put(struct fdtable *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	for (int i = 0; i < t->nslots; i++)
		drop(t, t->slots[i].file);
	free(t->slots);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static int grow(struct fdtable *t, int need)
{
	int n = t->nslots ? t->nslots : 64;
	struct fd_slot *s;
	while (n <= need)
		n *= 2;
	if (n > FD_MAX)
		n = FD_MAX;
	if (need >= n)
		return -EMFILE;
	s = realloc(t->slots, (size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + t->nslots, 0, (size_t)(n - t->nslots) * sizeof(*s));
	t->slots = s;
	t->nslots = n;
	return 0;
}

int fdtable_install(struct fdtable *t, struct file *f, int min, bool cloexec,
		    unsigned long limit)
{
	int fd, ret;

	if (min < 0)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	for (fd = min; fd < t->nslots && t->slots[fd].file; fd++)
		;
	if ((unsigned long)fd >= limit || fd >= FD_MAX) {
		ret = -EMFILE;
		goto out;
	}
	if (fd >= t->nslots && (ret = grow(t, fd)) < 0)
		goto out;
	file_get(f);
	t->slots[fd].file = f;
	t->slots[fd].cloexec = cloexec;
	ret = fd;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

int fdtable_check_free(struct fdtable *t, int min, unsigned long limit)
{
	int fd;

	pthread_mutex_lock(&t->lock);
	for (fd = min; fd < t->nslots && t->slots[fd].file; fd++)
		;
	pthread_mutex_unlock(&t->lock);
	return (unsigned long)fd >= limit || fd >= FD_MAX ? -EMFILE : 0;
}

int fdtable_install_at(struct fdtable *t, int fd, struct file *f, bool cloexec,
		       unsigned long limit)
{
	struct file *old = NULL;
	int ret = 0;

	if (fd < 0 || (unsigned long)fd >= limit || fd >= FD_MAX)
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	if (fd >= t->nslots && (ret = grow(t, fd)) < 0)
		goto out;
	old = t->slots[fd].file;
	file_get(f);
	t->slots[fd].file = f;
	t->slots[fd].cloexec = cloexec;
	ret = fd;
out:
	pthread_mutex_unlock(&t->lock);
	drop(t, old);
	return ret;
}

struct file *fdtable_get(struct fdtable *t, int fd)
{
	struct file *f = NULL;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->nslots && (f = t->slots[fd].file))
		file_get(f);
	pthread_mutex_unlock(&t->lock);
	return f;
}

int fdtable_close(struct fdtable *t, int fd)
{
	struct file *f = NULL;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->nslots) {
		f = t->slots[fd].file;
		t->slots[fd].file = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	if (!f)
		return -EBADF;
	drop(t, f);
	return 0;
}

int fdtable_get_cloexec(struct fdtable *t, int fd)
{
	int r = -EBADF;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->nslots && t->slots[fd].file)
		r = t->slots[fd].cloexec;
	pthread_mutex_unlock(&t->lock);
	return r;
}

int fdtable_set_cloexec(struct fdtable *t, int fd, bool on)
{
	int r = -EBADF;
	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && fd < t->nslots && t->slots[fd].file) {
		t->slots[fd].cloexec = on;
		r = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int fdtable_close_range(struct fdtable *t, unsigned first, unsigned last, bool cloexec)
{
	for (;;) {
		struct file *f = NULL;
		pthread_mutex_lock(&t->lock);
		for (; first <= last && first < (unsigned)t->nslots; first++) {
			if (!t->slots[first].file)
				continue;
			if (cloexec) {
				t->slots[first].cloexec = true;
				continue;
			}
			f = t->slots[first].file;
			t->slots[first].file = NULL;
			break;
		}
		pthread_mutex_unlock(&t->lock);
		if (!f)
			return 0;
		/* Release outside the lock: a release may block or re-enter. */
		drop(t, f);
		if (first == last)
			return 0;
		first++;
	}
}

void fdtable_close_on_exec(struct fdtable *t)
{
	for (int fd = 0;; fd++) {
		struct file *f = NULL;
		pthread_mutex_lock(&t->lock);
		for (; fd < t->nslots; fd++) {
			if (t->slots[fd].file && t->slots[fd].cloexec) {
				f = t->slots[fd].file;
				t->slots[fd].file = NULL;
				break;
			}
		}
		pthread_mutex_unlock(&t->lock);
		if (!f)
			return;
		drop(t, f);
	}
}

struct fdtable *fdtable_copy(struct fdtable *from)
{
	struct fdtable *t = fdtable_new();

	if (!t)
		return NULL;
	pthread_mutex_lock(&from->lock);
	if (from->nslots) {
		t->slots = calloc((size_t)from->nslots, sizeof(*t->slots));
		if (!t->slots) {
			pthread_mutex_unlock(&from->lock);
			fdtable_put(t);
			return NULL;
		}
		t->nslots = from->nslots;
		for (int i = 0; i < from->nslots; i++) {
			t->slots[i] = from->slots[i];
			if (t->slots[i].file)
				file_get(t->slots[i].file);
		}
	}
	pthread_mutex_unlock(&from->lock);
	return t;
}
