#include "sentry/vfs/rw.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"

#define CHUNK (64 * 1024)

ssize_t vfs_read_user(struct task *t, struct file *f, uint64_t ubuf, size_t len,
		      int64_t *pos)
{
	size_t chunk = len < CHUNK ? len : CHUNK, done = 0;
	bool use_fpos = !pos && !f->ops->stream && !f->ops->own_pos;
	char *buf;
	ssize_t ret = 0;

	if (!f->ops->read && !f->ops->read_iter) /* directories: generic_read_dir */
		return f->inode && S_ISDIR(f->inode->mode) ? -EISDIR : -EINVAL;
	if (!user_range_ok(ubuf, len))
		return -EFAULT;
	if (f->ops->read_iter && !pos) {
		struct uiovec v = {ubuf, len};
		return f->ops->read_iter(f, t, &v, 1);
	}
	if (len == 0)
		return 0;
	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	if (use_fpos) {
		pthread_mutex_lock(&f->pos_lock);
		pos = &f->pos;
	}
	while (done < len) {
		size_t want = len - done < chunk ? len - done : chunk;
		ssize_t n = f->ops->read(f, buf, want, pos);
		if (n < 0) {
			ret = n;
			break;
		}
		if (n > 0 && copy_to_user(t, ubuf + done, buf, (size_t)n) < 0) {
			ret = -EFAULT;
			break;
		}
		done += (size_t)n;
		/* A short read ends the call; streams return what they have. */
		if ((size_t)n < want || f->ops->stream)
			break;
	}
	if (use_fpos)
		pthread_mutex_unlock(&f->pos_lock);
	free(buf);
	return done ? (ssize_t)done : ret;
}

/* RLIMIT_FSIZE, as Linux's generic_write_check_limits: a write that
 * would start at or past the limit raises SIGXFSZ and fails with EFBIG;
 * one that would cross it is cut short. Only regular files count. */
static int fsize_check(struct task *t, struct file *f, const int64_t *pos, size_t *len)
{
	uint64_t lim = t->tg->rlimits[RLIMIT_FSIZE].cur;
	int64_t at = pos ? *pos : f->pos;

	if (lim == UINT64_MAX || !f->inode || !S_ISREG(f->inode->mode))
		return 0;
	if (f->flags & O_APPEND) {
		struct k_stat st;
		if (vfs_fstat(f, &st) == 0)
			at = st.st_size;
	}
	if (at < 0 || (uint64_t)at >= lim) {
		signal_send_task(t, SIGXFSZ, NULL);
		return -EFBIG;
	}
	if (*len > lim - (uint64_t)at)
		*len = (size_t)(lim - (uint64_t)at);
	return 0;
}

ssize_t vfs_write_user(struct task *t, struct file *f, uint64_t ubuf, size_t len,
		       int64_t *pos)
{
	size_t chunk = len < CHUNK ? len : CHUNK, done = 0;
	bool use_fpos = !pos && !f->ops->stream && !f->ops->own_pos;
	char *buf;
	ssize_t ret = 0;

	if (!f->ops->write && !f->ops->write_iter)
		return -EINVAL;
	if (!user_range_ok(ubuf, len))
		return -EFAULT;
	/* Before the empty-write shortcut: a socket sends an empty datagram. */
	if (f->ops->write_iter && !pos) {
		struct uiovec v = {ubuf, len};
		return f->ops->write_iter(f, t, &v, 1);
	}
	if (len == 0)
		return 0;
	if (f->inode && (ret = vfs_remove_privs(t, f->inode)) < 0)
		return ret;
	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	if (use_fpos) {
		pthread_mutex_lock(&f->pos_lock);
		pos = &f->pos;
	}
	ret = fsize_check(t, f, pos, &len);
	while (ret == 0 && done < len) {
		size_t want = len - done < chunk ? len - done : chunk;
		ssize_t n;
		if (copy_from_user(t, buf, ubuf + done, want) < 0) {
			ret = -EFAULT;
			break;
		}
		n = f->ops->write(f, buf, want, pos);
		if (n < 0) {
			ret = n;
			break;
		}
		done += (size_t)n;
		if ((size_t)n < want)
			break;
	}
	if (use_fpos)
		pthread_mutex_unlock(&f->pos_lock);
	free(buf);
	return done ? (ssize_t)done : ret;
}

ssize_t iovec_import(struct task *t, uint64_t uiov, uint64_t cnt, struct uiovec **out)
{
	struct uiovec *v;
	uint64_t total = 0;

	*out = NULL;
	if (cnt > UIO_MAXIOV)
		return -EINVAL;
	if (cnt == 0)
		return 0;
	v = malloc(cnt * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (copy_from_user(t, v, uiov, cnt * sizeof(*v)) < 0) {
		free(v);
		return -EFAULT;
	}
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)v[i].len < 0) {
			free(v);
			return -EINVAL;
		}
		if (v[i].len > MAX_RW_COUNT - total) {
			v[i].len = MAX_RW_COUNT - total;
		}
		total += v[i].len;
	}
	*out = v;
	return (ssize_t)total;
}
