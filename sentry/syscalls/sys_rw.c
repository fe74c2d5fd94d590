/* read, write, pread64, pwrite64, readv, writev. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"
#include "sentry/vfs/rw.h"

static struct file *get_file(struct task *t, uint64_t fd, int need)
{
	struct file *f = fdtable_get(t->fdt, (int)fd);
	if (!f)
		return NULL;
	int acc = f->flags & O_ACCMODE;
	if ((need == O_RDONLY && acc == O_WRONLY) || (need == O_WRONLY && acc == O_RDONLY) ||
	    (f->flags & O_PATH)) {
		file_put(f);
		return NULL;
	}
	return f;
}

#define GATHER_MAX (256 * 1024)
#define RWF_APPEND_K 0x10

static long do_rw(struct task *t, const uint64_t *a, bool write, bool positional)
{
	size_t len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
	int64_t pos = (int64_t)a[3];
	struct file *f;
	long r;

	/* As in Linux, a negative offset is refused before the fd is looked up. */
	if (positional && pos < 0)
		return -EINVAL;
	f = get_file(t, a[0], write ? O_WRONLY : O_RDONLY);
	if (!f)
		return -EBADF;
	if (positional && f->ops->stream)
		r = -ESPIPE;
	else if (write)
		r = vfs_write_user(t, f, a[1], len, positional ? &pos : NULL);
	else
		r = vfs_read_user(t, f, a[1], len, positional ? &pos : NULL);
	file_put(f);
	return r;
}

SYSCALL(read) { return do_rw(t, a, false, false); }
SYSCALL(write) { return do_rw(t, a, true, false); }
SYSCALL(pread64) { return do_rw(t, a, false, true); }
SYSCALL(pwrite64) { return do_rw(t, a, true, true); }

/* readv/writev and their positional forms. pos NULL: the file position.
 * append: pwritev2's RWF_APPEND, a write at the end as with O_APPEND. */
static long do_iov(struct task *t, int fd, uint64_t uiov, uint64_t cnt, int64_t *pos,
		   bool write, bool append)
{
	struct file *f = get_file(t, (uint64_t)fd, write ? O_WRONLY : O_RDONLY);
	struct uiovec *v = NULL;
	ssize_t total, r = 0, done = 0;

	if (!f)
		return -EBADF;
	if (pos && f->ops->stream) {
		file_put(f);
		return -ESPIPE;
	}
	total = iovec_import(t, uiov, cnt, &v);
	if (total < 0) {
		file_put(f);
		return total;
	}
	/* Sockets take the whole vector as one message (none at all, as
	 * Linux's do_iter_write, when it is empty). */
	if (!pos && total > 0 && (write ? f->ops->write_iter : f->ops->read_iter)) {
		r = write ? f->ops->write_iter(f, t, v, (size_t)cnt)
			  : f->ops->read_iter(f, t, v, (size_t)cnt);
		goto out;
	}
	if (write && append && f->inode && !f->ops->stream && !f->ops->own_pos) {
		struct vfs_attr at;
		r = inode_getattr(f->inode, &at);
		if (r < 0)
			goto out;
		if (pos) {
			*pos = at.size;
		} else {
			pthread_mutex_lock(&f->pos_lock);
			f->pos = at.size;
			pthread_mutex_unlock(&f->pos_lock);
		}
	}
	/* A gathered write reaches a pipe or terminal in one piece, as on
	 * Linux, where writev is one write. */
	if (write && total > 0 && total <= GATHER_MAX && cnt > 1) {
		char *buf = malloc((size_t)total);
		size_t at = 0;
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		for (uint64_t i = 0; i < cnt; i++) {
			if (copy_from_user(t, buf + at, v[i].base, v[i].len) < 0)
				break;
			at += v[i].len;
		}
		r = at ? 0 : -EFAULT;
		if (r == 0 && f->inode)
			r = vfs_remove_privs(t, f->inode);
		if (r == 0 && (pos || f->ops->stream || f->ops->own_pos)) {
			r = f->ops->write(f, buf, at, pos);
		} else if (r == 0) {
			pthread_mutex_lock(&f->pos_lock);
			r = f->ops->write(f, buf, at, &f->pos);
			pthread_mutex_unlock(&f->pos_lock);
		}
		free(buf);
		goto out;
	}
	for (uint64_t i = 0; i < cnt && r >= 0; i++) {
		if (!v[i].len)
			continue;
		r = write ? vfs_write_user(t, f, v[i].base, v[i].len, pos)
			  : vfs_read_user(t, f, v[i].base, v[i].len, pos);
		if (r > 0)
			done += r;
		if (r < (ssize_t)v[i].len)
			break;
	}
	r = done ? done : r;
out:
	free(v);
	file_put(f);
	return r;
}

SYSCALL(readv) { return do_iov(t, (int)a[0], a[1], a[2], NULL, false, false); }
SYSCALL(writev) { return do_iov(t, (int)a[0], a[1], a[2], NULL, true, false); }

static long do_piov(struct task *t, const uint64_t *a, bool write, bool v2)
{
	/* On 64-bit the whole offset is in pos_l. */
	int64_t pos = (int64_t)a[3];
	int flags = v2 ? (int)a[5] : 0;
	const int known = 0x1f; /* RWF_HIPRI | DSYNC | SYNC | NOWAIT | APPEND */

	if (flags & ~known)
		return -EOPNOTSUPP;
	if (v2 && pos == -1)
		return do_iov(t, (int)a[0], a[1], a[2], NULL, write, flags & RWF_APPEND_K);
	if (pos < 0)
		return -EINVAL;
	return do_iov(t, (int)a[0], a[1], a[2], &pos, write, flags & RWF_APPEND_K);
}

SYSCALL(preadv) { return do_piov(t, a, false, false); }
SYSCALL(pwritev) { return do_piov(t, a, true, false); }
SYSCALL(preadv2) { return do_piov(t, a, false, true); }
SYSCALL(pwritev2) { return do_piov(t, a, true, true); }
