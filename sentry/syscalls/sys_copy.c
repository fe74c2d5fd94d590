/* sendfile and copy_file_range: copies between files through a sentry
 * buffer, never through the application's memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"
#include "sentry/vfs/rw.h"

#define COPY_CHUNK (128 * 1024)

/* Copies up to len bytes; inpos/outpos NULL mean the files' positions. */
static long copy_data(struct file *in, int64_t *inpos, struct file *out, int64_t *outpos,
		      size_t len)
{
	char *buf = malloc(len < COPY_CHUNK ? (len ? len : 1) : COPY_CHUNK);
	size_t done = 0;
	long r = 0;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t want = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
		int64_t *ip = inpos, *op = outpos;
		ssize_t n, w;

		if (!ip && !in->ops->own_pos && !in->ops->stream)
			ip = &in->pos;
		if (!op && !out->ops->own_pos && !out->ops->stream)
			op = &out->pos;
		n = in->ops->read(in, buf, want, ip);
		if (n <= 0) {
			r = n;
			break;
		}
		w = out->ops->write(out, buf, (size_t)n, op);
		if (w < 0) {
			r = w;
			break;
		}
		done += (size_t)w;
		if (w < n || (size_t)n < want)
			break;
	}
	free(buf);
	return done ? (long)done : r;
}

SYSCALL(sendfile)
{
	struct file *out = get_fd(t, (int)a[0], false), *in = get_fd(t, (int)a[1], false);
	size_t len = a[3] > MAX_RW_COUNT ? MAX_RW_COUNT : a[3];
	int64_t off, *offp = NULL;
	long r;

	if (!out || !in) {
		r = -EBADF;
		goto out;
	}
	if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY) {
		r = -EBADF;
		goto out;
	}
	if (!in->ops->read || !out->ops->write || (out->flags & O_APPEND)) {
		r = -EINVAL;
		goto out;
	}
	if (a[2]) {
		if (in->ops->stream) {
			r = -ESPIPE;
			goto out;
		}
		if (copy_from_user(t, &off, a[2], sizeof(off)) < 0) {
			r = -EFAULT;
			goto out;
		}
		if (off < 0) {
			r = -EINVAL;
			goto out;
		}
		offp = &off;
	}
	if (out->inode && (r = vfs_remove_privs(t, out->inode)) < 0)
		goto out;
	if (!offp && !in->ops->own_pos && !in->ops->stream)
		pthread_mutex_lock(&in->pos_lock);
	r = copy_data(in, offp, out, NULL, len);
	if (!offp && !in->ops->own_pos && !in->ops->stream)
		pthread_mutex_unlock(&in->pos_lock);
	if (offp && r >= 0 && copy_to_user(t, a[2], &off, sizeof(off)) < 0)
		r = -EFAULT;
out:
	file_put(in);
	file_put(out);
	return r;
}

SYSCALL(copy_file_range)
{
	struct file *in = get_fd(t, (int)a[0], false), *out = get_fd(t, (int)a[2], false);
	size_t len = a[4] > MAX_RW_COUNT ? MAX_RW_COUNT : a[4];
	int64_t ioff, ooff, *ip = NULL, *op = NULL;
	long r;

	if (!in || !out) {
		r = -EBADF;
		goto out;
	}
	if (a[5]) {
		r = -EINVAL;
		goto out;
	}
	if ((in->flags & O_ACCMODE) == O_WRONLY || (out->flags & O_ACCMODE) == O_RDONLY ||
	    (out->flags & O_APPEND)) {
		r = -EBADF;
		goto out;
	}
	if (!in->inode || !out->inode || !S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode)) {
		r = in->inode && S_ISDIR(in->inode->mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if (a[1]) {
		if (copy_from_user(t, &ioff, a[1], sizeof(ioff)) < 0) {
			r = -EFAULT;
			goto out;
		}
		ip = &ioff;
	}
	if (a[3]) {
		if (copy_from_user(t, &ooff, a[3], sizeof(ooff)) < 0) {
			r = -EFAULT;
			goto out;
		}
		op = &ooff;
	}
	/* Linux's generic_copy_file_checks: offsets must not wrap, the
	 * length is cut at the input's EOF, and only then may the ranges
	 * of one file not overlap. */
	int64_t pin = ip ? *ip : in->pos, pout = op ? *op : out->pos;
	struct vfs_attr ia;
	if ((uint64_t)pin + len < (uint64_t)pin || (uint64_t)pout + len < (uint64_t)pout) {
		r = -EOVERFLOW;
		goto out;
	}
	r = inode_getattr(in->inode, &ia);
	if (r < 0)
		goto out;
	if (pin >= ia.size)
		len = 0;
	else if ((uint64_t)(ia.size - pin) < len)
		len = (size_t)(ia.size - pin);
	if (in->inode == out->inode && pout + (int64_t)len > pin && pout < pin + (int64_t)len) {
		r = -EINVAL;
		goto out;
	}
	if (pin < 0 || pout < 0) {
		r = -EINVAL;
		goto out;
	}
	if (len && (r = vfs_remove_privs(t, out->inode)) < 0)
		goto out;
	r = len ? copy_data(in, ip, out, op, len) : 0;
	if (r >= 0 && ip && copy_to_user(t, a[1], &ioff, sizeof(ioff)) < 0)
		r = -EFAULT;
	if (r >= 0 && op && copy_to_user(t, a[3], &ooff, sizeof(ooff)) < 0)
		r = -EFAULT;
out:
	file_put(in);
	file_put(out);
	return r;
}
