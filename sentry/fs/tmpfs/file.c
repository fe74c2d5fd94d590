/* tmpfs regular files (data in a memfd), symlinks and special files. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/fs/tmpfs/tmpfs_internal.h"
#include "sentry/vfs/file.h"

static ssize_t tf_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	struct inode *in = f->inode;
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);
	ssize_t r;

	pthread_mutex_lock(&s->lock);
	if (*pos >= n->size || n->memfd < 0) {
		r = 0;
	} else {
		if ((int64_t)len > n->size - *pos)
			len = (size_t)(n->size - *pos);
		r = pread(n->memfd, buf, len, *pos);
		if (r < 0)
			r = -errno;
		else
			*pos += r;
	}
	tmpfs_now(&n->atime);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static ssize_t tf_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	struct inode *in = f->inode;
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);
	ssize_t r;

	pthread_mutex_lock(&s->lock);
	if (f->flags & O_APPEND)
		*pos = n->size;
	if (*pos > INT64_MAX - (int64_t)len) {
		r = -EFBIG;
		goto out;
	}
	if (*pos + (int64_t)len > n->size) {
		/* Respect the size limit: write what fits. */
		if (s->size_limit) {
			uint64_t room = s->size_limit > s->used ? s->size_limit - s->used : 0;
			uint64_t grow = (uint64_t)(*pos + (int64_t)len - n->size);
			if (grow > room) {
				if (*pos >= n->size + (int64_t)room) {
					r = -ENOSPC;
					goto out;
				}
				len = (size_t)(n->size + (int64_t)room - *pos);
			}
		}
		r = tmpfs_truncate_locked(in, *pos + (int64_t)len);
		if (r < 0)
			goto out;
	} else if (n->memfd < 0) {
		r = tmpfs_truncate_locked(in, n->size);
		if (r < 0)
			goto out;
	}
	r = pwrite(n->memfd, buf, len, *pos);
	if (r < 0) {
		r = -errno;
		goto out;
	}
	*pos += r;
	tmpfs_now(&n->mtime);
	n->ctime = n->mtime;
	/* Set-ID bits are the VFS's to drop (vfs_remove_privs). */
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int64_t tf_llseek(struct file *f, int64_t off, int whence)
{
	struct tmpfs_sb *s = TSB(f->inode);
	int64_t size;

	pthread_mutex_lock(&s->lock);
	size = TN(f->inode)->size;
	/* Holes are the memfd's (Linux's tmpfs reports them too); the
	 * memfd always has the file's size. */
	if ((whence == SEEK_DATA || whence == SEEK_HOLE) && off >= 0 && off < size &&
	    TN(f->inode)->memfd >= 0) {
		int64_t r = lseek(TN(f->inode)->memfd, off, whence);
		pthread_mutex_unlock(&s->lock);
		return r < 0 ? -errno : r;
	}
	pthread_mutex_unlock(&s->lock);
	return generic_llseek(f, off, whence, size);
}

static int tf_mmap_fd(struct file *f)
{
	struct tmpfs_node *n = TN(f->inode);
	struct tmpfs_sb *s = TSB(f->inode);
	int r;

	/* A mapping needs the memfd even for an empty file. */
	pthread_mutex_lock(&s->lock);
	r = n->memfd >= 0 ? 0 : tmpfs_truncate_locked(f->inode, n->size);
	if (r == 0)
		r = n->memfd;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int tf_fsync(struct file *f, bool datasync)
{
	(void)f;
	(void)datasync;
	return 0; /* memory is as durable as tmpfs gets */
}

static int tf_fallocate(struct file *f, int mode, int64_t off, int64_t len)
{
	struct inode *in = f->inode;
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);
	int r = 0;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&s->lock);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (n->memfd >= 0 && fallocate(n->memfd, mode, off, len) < 0)
			r = -errno;
	} else if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > n->size) {
		r = tmpfs_truncate_locked(in, off + len);
	}
	if (r == 0) {
		tmpfs_now(&n->mtime);
		n->ctime = n->mtime;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

const struct file_ops tmpfs_file_ops = {
	.read = tf_read,
	.write = tf_write,
	.llseek = tf_llseek,
	.mmap_fd = tf_mmap_fd,
	.fsync = tf_fsync,
	.fallocate = tf_fallocate,
};

static int tf_open(struct inode *in, struct file *f)
{
	(void)in;
	f->ops = &tmpfs_file_ops;
	return 0;
}

const struct inode_ops tmpfs_file_iops = {
	.getattr = tmpfs_getattr,
	.setattr = tmpfs_setattr,
	.open = tf_open,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
	.release = tmpfs_release,
};

static ssize_t tmpfs_readlink(struct inode *in, char *buf, size_t len)
{
	size_t n = strlen(TN(in)->target);
	if (n > len)
		n = len;
	memcpy(buf, TN(in)->target, n);
	return (ssize_t)n;
}

const struct inode_ops tmpfs_symlink_ops = {
	.readlink = tmpfs_readlink,
	.getattr = tmpfs_getattr,
	.setattr = tmpfs_setattr,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
	.release = tmpfs_release,
};

/* Devices, fifos and sockets: their opening is the device's or the
 * pipe's business (vfs_open_special). */
static int tmpfs_special_open(struct inode *in, struct file *f)
{
	return vfs_open_special(in, TN(in)->rdev, f);
}

const struct inode_ops tmpfs_special_ops = {
	.getattr = tmpfs_getattr,
	.setattr = tmpfs_setattr,
	.open = tmpfs_special_open,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
	.release = tmpfs_release,
};
