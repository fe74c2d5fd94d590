#include "sentry/vfs/file.h"
#include "sentry/vfs/lock.h"
#include "sentry/fs/anon/epoll.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file *file_new(const struct file_ops *ops, int flags, void *priv)
{
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->ops = ops;
	f->flags = flags;
	f->priv = priv;
	pthread_mutex_init(&f->pos_lock, NULL);
	return f;
}

void file_get(struct file *f) { atomic_fetch_add(&f->refs, 1); }

void file_put(struct file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	if (f->ep_links)
		eventpoll_release(f);
	if (f->ops && f->ops->release)
		f->ops->release(f);
	/* flock and OFD locks belong to the open file description. */
	if (f->inode)
		vfs_locks_release(f->inode, f);
	inode_put(f->inode);
	path_put(&f->path);
	pthread_mutex_destroy(&f->pos_lock);
	free(f);
}

void vfs_attr_to_stat(const struct vfs_attr *a, struct k_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = a->dev;
	st->st_ino = a->ino;
	st->st_nlink = a->nlink;
	st->st_mode = a->mode;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = a->size;
	st->st_blksize = a->blksize;
	st->st_blocks = a->blocks;
	st->st_atime_sec = (uint64_t)a->atime.tv_sec;
	st->st_atime_nsec = (uint64_t)a->atime.tv_nsec;
	st->st_mtime_sec = (uint64_t)a->mtime.tv_sec;
	st->st_mtime_nsec = (uint64_t)a->mtime.tv_nsec;
	st->st_ctime_sec = (uint64_t)a->ctime.tv_sec;
	st->st_ctime_nsec = (uint64_t)a->ctime.tv_nsec;
}

int vfs_fstat(struct file *f, struct k_stat *st)
{
	struct vfs_attr a;
	int r;

	if (!f->inode)
		return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
	r = inode_getattr(f->inode, &a);
	if (r < 0)
		return r;
	vfs_attr_to_stat(&a, st);
	return 0;
}

int vfs_iterate_dir(struct file *f, vfs_emit_fn emit, void *ctx)
{
	int r;

	if (!f->inode || !S_ISDIR(f->inode->mode) || !f->ops->iterate)
		return -ENOTDIR;
	pthread_mutex_lock(&f->pos_lock);
	r = f->path.dentry && f->path.dentry->dead ? -ENOENT
						   : f->ops->iterate(f, &f->pos, emit, ctx);
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

int64_t generic_llseek(struct file *f, int64_t off, int whence, int64_t size)
{
	int64_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = f->pos;
		break;
	case SEEK_END:
		base = size;
		break;
	case SEEK_DATA:
		/* No holes tracked: all data up to the size. */
		if (off < 0 || off >= size)
			return -ENXIO;
		return off;
	case SEEK_HOLE:
		if (off < 0 || off >= size)
			return -ENXIO;
		return size;
	default:
		return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	return base + off;
}

uint32_t vfs_poll(struct file *f, struct wq_entry *e)
{
	if (f->ops->poll)
		return f->ops->poll(f, e);
	/* Regular files and directories never block. */
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}
