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

SYSCALL(readv)
{
	struct file *f = get_file(t, a[0], O_RDONLY);
	struct uiovec *v = NULL;
	ssize_t total, done = 0, r = 0;

	if (!f)
		return -EBADF;
	total = iovec_import(t, a[1], a[2], &v);
	if (total < 0) {
		file_put(f);
		return total;
	}
	for (uint64_t i = 0; i < a[2] && r >= 0; i++) {
		if (!v[i].len)
			continue;
		r = vfs_read_user(t, f, v[i].base, v[i].len, NULL);
		if (r > 0)
			done += r;
		if (r < (ssize_t)v[i].len)
			break;
	}
	free(v);
	file_put(f);
	return done ? done : r;
}

/* writev gathers the vector into one write where it fits, so a line
 * written in pieces reaches a pipe or terminal in one piece, as on Linux. */
#define GATHER_MAX (256 * 1024)

SYSCALL(writev)
{
	struct file *f = get_file(t, a[0], O_WRONLY);
	struct uiovec *v = NULL;
	ssize_t total, r = 0, done = 0;

	if (!f)
		return -EBADF;
	total = iovec_import(t, a[1], a[2], &v);
	if (total < 0) {
		file_put(f);
		return total;
	}
	if (total > 0 && total <= GATHER_MAX && a[2] > 1) {
		char *buf = malloc((size_t)total);
		size_t at = 0;
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		for (uint64_t i = 0; i < a[2]; i++) {
			if (copy_from_user(t, buf + at, v[i].base, v[i].len) < 0)
				break;
			at += v[i].len;
		}
		if (at == 0) {
			r = -EFAULT;
		} else if (f->ops->stream || f->ops->own_pos) {
			r = f->ops->write(f, buf, at, NULL);
		} else {
			pthread_mutex_lock(&f->pos_lock);
			r = f->ops->write(f, buf, at, &f->pos);
			pthread_mutex_unlock(&f->pos_lock);
		}
		free(buf);
		goto out;
	}
	for (uint64_t i = 0; i < a[2] && r >= 0; i++) {
		if (!v[i].len)
			continue;
		r = vfs_write_user(t, f, v[i].base, v[i].len, NULL);
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
