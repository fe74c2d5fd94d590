/* Advisory file locks: flock(2) locks (owned by an open file
 * description), POSIX record locks (owned by a process) and OFD record
 * locks (owned by an open file description), kept per inode. POSIX
 * locks are owned by an fd table, which drops them as its fds close.
 *
 * Lock order: lock_mu is a leaf (nothing else is taken under it). */
#include "sentry/vfs/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <time.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"

struct flk {
	int type;           /* F_RDLCK, F_WRLCK */
	int64_t start, end; /* inclusive */
	const void *owner;
	int pid;            /* reported by F_GETLK */
	bool posix;         /* record lock (else flock) */
	struct flk *next;
};

struct ilocks {
	const struct inode *inode;
	struct flk *locks;
	struct ilocks *next;
};

static pthread_mutex_t lock_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lock_cv = PTHREAD_COND_INITIALIZER;
static struct ilocks *all;

static struct ilocks *find(const struct inode *in, bool create)
{
	struct ilocks *l;
	for (l = all; l; l = l->next)
		if (l->inode == in)
			return l;
	if (!create || !(l = calloc(1, sizeof(*l))))
		return NULL;
	l->inode = in;
	l->next = all;
	all = l;
	return l;
}

/* Drops an inode's entry once it holds no locks. */
static void tidy(struct ilocks *l)
{
	if (l->locks)
		return;
	for (struct ilocks **pp = &all; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			free(l);
			return;
		}
}

static bool overlap(const struct flk *a, int64_t start, int64_t end)
{
	return a->start <= end && start <= a->end;
}

static const struct flk *conflict(struct ilocks *l, bool posix, int type, int64_t start,
				  int64_t end, const void *owner)
{
	for (struct flk *k = l ? l->locks : NULL; k; k = k->next) {
		if (k->posix != posix || k->owner == owner)
			continue;
		if (type == F_RDLCK && k->type == F_RDLCK)
			continue;
		if (overlap(k, start, end))
			return k;
	}
	return NULL;
}

/* Removes owner's record locks over [start, end], splitting at the edges. */
static int unlock_range(struct ilocks *l, const void *owner, int64_t start, int64_t end)
{
	for (struct flk **pp = &l->locks; *pp;) {
		struct flk *k = *pp;
		if (!k->posix || k->owner != owner || !overlap(k, start, end)) {
			pp = &k->next;
			continue;
		}
		if (k->start < start && k->end > end) {
			struct flk *tail = malloc(sizeof(*tail));
			if (!tail)
				return -ENOLCK;
			*tail = *k;
			tail->start = end + 1;
			k->end = start - 1;
			tail->next = k->next;
			k->next = tail;
			return 0;
		}
		if (k->start < start) {
			k->end = start - 1;
			pp = &k->next;
		} else if (k->end > end) {
			k->start = end + 1;
			pp = &k->next;
		} else {
			*pp = k->next;
			free(k);
		}
	}
	return 0;
}

/* Waits for a lock to be released; false if the task must stop waiting. */
static bool wait_turn(struct task *t)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 50 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	/* Woken by any release; the timeout lets a dying task notice. */
	pthread_cond_timedwait(&lock_cv, &lock_mu, &until);
	return !(t && (t->tg->exiting || atomic_load(&t->exiting)));
}

int vfs_flock(struct task *t, struct file *f, int op)
{
	bool nb = op & LOCK_NB;
	int type, r = 0;
	struct ilocks *l;

	op &= ~LOCK_NB;
	if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN)
		return -EINVAL;
	if (!f->inode)
		return -EINVAL;
	type = op == LOCK_SH ? F_RDLCK : F_WRLCK;
	pthread_mutex_lock(&lock_mu);
	l = find(f->inode, op != LOCK_UN);
	/* Converting a lock drops the old one first, as Linux does. */
	if (l) {
		for (struct flk **pp = &l->locks; *pp; pp = &(*pp)->next) {
			struct flk *k = *pp;
			if (!k->posix && k->owner == f) {
				*pp = k->next;
				free(k);
				pthread_cond_broadcast(&lock_cv);
				break;
			}
		}
	}
	if (op == LOCK_UN) {
		if (l)
			tidy(l);
		goto out;
	}
	if (!l) {
		r = -ENOLCK;
		goto out;
	}
	while (conflict(l, false, type, 0, INT64_MAX, f)) {
		if (nb) {
			r = -EWOULDBLOCK;
			goto out_tidy;
		}
		if (!wait_turn(t)) {
			r = -EINTR;
			goto out_tidy;
		}
		l = find(f->inode, true);
		if (!l) {
			r = -ENOLCK;
			goto out;
		}
	}
	struct flk *k = calloc(1, sizeof(*k));
	if (!k) {
		r = -ENOLCK;
		goto out_tidy;
	}
	k->type = type;
	k->start = 0;
	k->end = INT64_MAX;
	k->owner = f;
	k->next = l->locks;
	l->locks = k;
out_tidy:
	tidy(l);
out:
	pthread_mutex_unlock(&lock_mu);
	return r;
}

/* Turns a struct flock into [start, end]. */
static int range_of(struct file *f, const struct flock *fl, int64_t *start, int64_t *end)
{
	int64_t base, s, len = fl->l_len;

	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = f->pos;
		break;
	case SEEK_END: {
		struct vfs_attr a;
		if (!f->inode || inode_getattr(f->inode, &a) < 0)
			return -EINVAL;
		base = a.size;
		break;
	}
	default:
		return -EINVAL;
	}
	if ((fl->l_start > 0 && base > INT64_MAX - fl->l_start) ||
	    (fl->l_start < 0 && base < INT64_MIN - fl->l_start))
		return -EOVERFLOW;
	s = base + fl->l_start;
	if (len < 0) {
		if (s + len < 0)
			return -EINVAL;
		*start = s + len;
		*end = s - 1;
	} else {
		if (s < 0)
			return -EINVAL;
		*start = s;
		*end = len == 0 ? INT64_MAX : (len - 1 > INT64_MAX - s ? INT64_MAX : s + len - 1);
	}
	return 0;
}

int vfs_record_lock(struct task *t, struct file *f, int cmd, struct flock *fl, bool ofd)
{
	/* POSIX locks belong to the fd table (Linux's fl_owner, the
	 * files_struct): threads sharing it share them, and closing any of
	 * its fds of the file drops them. */
	const void *owner = ofd ? (const void *)f : (const void *)t->fdt;
	int64_t start, end;
	struct ilocks *l;
	int r;

	if (!f->inode)
		return -EINVAL;
	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK && fl->l_type != F_UNLCK)
		return -EINVAL;
	if (ofd && fl->l_pid != 0)
		return -EINVAL;
	r = range_of(f, fl, &start, &end);
	if (r < 0)
		return r;
	pthread_mutex_lock(&lock_mu);
	l = find(f->inode, false);
	if (cmd == F_GETLK) {
		const struct flk *k = fl->l_type == F_UNLCK ? NULL
			: conflict(l, true, fl->l_type, start, end, owner);
		if (!k) {
			fl->l_type = F_UNLCK;
		} else {
			fl->l_type = (short)k->type;
			fl->l_whence = SEEK_SET;
			fl->l_start = k->start;
			fl->l_len = k->end == INT64_MAX ? 0 : k->end - k->start + 1;
			fl->l_pid = k->pid;
		}
		goto out;
	}
	if (fl->l_type == F_RDLCK && (f->flags & O_ACCMODE) == O_WRONLY) {
		r = -EBADF;
		goto out;
	}
	if (fl->l_type == F_WRLCK && (f->flags & O_ACCMODE) == O_RDONLY) {
		r = -EBADF;
		goto out;
	}
	if (fl->l_type == F_UNLCK) {
		if (l) {
			r = unlock_range(l, owner, start, end);
			pthread_cond_broadcast(&lock_cv);
			tidy(l);
		}
		goto out;
	}
	for (;;) {
		l = find(f->inode, true);
		if (!l) {
			r = -ENOLCK;
			goto out;
		}
		if (!conflict(l, true, fl->l_type, start, end, owner))
			break;
		if (cmd == F_SETLK) {
			r = -EAGAIN;
			goto out_tidy;
		}
		if (!wait_turn(t)) {
			r = -EINTR;
			goto out_tidy;
		}
	}
	/* Replace our own locks over the range with the new one (adjacent
	 * locks of the same type stay separate entries: harmless). */
	r = unlock_range(l, owner, start, end);
	if (r == 0) {
		struct flk *k = calloc(1, sizeof(*k));
		if (!k) {
			r = -ENOLCK;
		} else {
			k->type = fl->l_type;
			k->start = start;
			k->end = end;
			k->owner = owner;
			k->pid = ofd ? -1 : t->tg->pid;
			k->posix = true;
			k->next = l->locks;
			l->locks = k;
		}
	}
	pthread_cond_broadcast(&lock_cv);
out_tidy:
	tidy(l);
out:
	pthread_mutex_unlock(&lock_mu);
	return r;
}

void vfs_locks_release(const struct inode *in, const void *owner)
{
	struct ilocks *l;

	pthread_mutex_lock(&lock_mu);
	l = find(in, false);
	if (l) {
		for (struct flk **pp = &l->locks; *pp;) {
			if ((*pp)->owner == owner) {
				struct flk *k = *pp;
				*pp = k->next;
				free(k);
			} else {
				pp = &(*pp)->next;
			}
		}
		tidy(l);
		pthread_cond_broadcast(&lock_cv);
	}
	pthread_mutex_unlock(&lock_mu);
}

void vfs_locks_release_owner(const void *owner)
{
	pthread_mutex_lock(&lock_mu);
	for (struct ilocks *l = all, *next; l; l = next) {
		next = l->next;
		for (struct flk **pp = &l->locks; *pp;) {
			if ((*pp)->owner == owner) {
				struct flk *k = *pp;
				*pp = k->next;
				free(k);
			} else {
				pp = &(*pp)->next;
			}
		}
		tidy(l);
	}
	pthread_cond_broadcast(&lock_cv);
	pthread_mutex_unlock(&lock_mu);
}
