/* Overlay files: an open overlay file holds an open file of the layer
 * that answers (copied up first when opened for writing) and forwards to
 * it; the overlay inode stays the file's identity for fstat. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sentry/fs/overlay/overlay_internal.h"

static struct file *inner(struct file *f) { return f->priv; }

static ssize_t of_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	struct file *i = inner(f);
	return i->ops->read ? i->ops->read(i, buf, len, pos) : -EINVAL;
}

static ssize_t of_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	struct file *i = inner(f);
	i->flags = (i->flags & ~O_APPEND) | (f->flags & O_APPEND);
	return i->ops->write ? i->ops->write(i, buf, len, pos) : -EINVAL;
}

static long of_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	struct file *i = inner(f);
	return i->ops->ioctl ? i->ops->ioctl(i, t, cmd, arg) : -ENOTTY;
}

static int of_mmap_fd(struct file *f)
{
	struct file *i = inner(f);
	return i->ops->mmap_fd ? i->ops->mmap_fd(i) : -ENODEV;
}

static int64_t of_llseek(struct file *f, int64_t off, int whence)
{
	struct file *i = inner(f);
	struct vfs_attr a;

	if (i->ops->llseek) {
		i->pos = f->pos;
		return i->ops->llseek(i, off, whence);
	}
	if (inode_getattr(f->inode, &a) < 0)
		return -EINVAL;
	return generic_llseek(f, off, whence, a.size);
}

static int of_fsync(struct file *f, bool datasync)
{
	struct file *i = inner(f);
	return i->ops->fsync ? i->ops->fsync(i, datasync) : 0;
}

static int of_fallocate(struct file *f, int mode, int64_t off, int64_t len)
{
	struct file *i = inner(f);
	return i->ops->fallocate ? i->ops->fallocate(i, mode, off, len) : -EOPNOTSUPP;
}

static void of_release(struct file *f)
{
	file_put(inner(f));
}

const struct file_ops ovl_reg_fops = {
	.read = of_read,
	.write = of_write,
	.ioctl = of_ioctl,
	.mmap_fd = of_mmap_fd,
	.llseek = of_llseek,
	.fsync = of_fsync,
	.fallocate = of_fallocate,
	.release = of_release,
};

int ovl_file_open(struct inode *in, struct file *f)
{
	int acc = f->flags & O_ACCMODE;
	struct inode *real;
	struct file *i;
	int r;

	if (acc == O_WRONLY || acc == O_RDWR) {
		r = ovl_copy_up(in);
		if (r < 0)
			return r;
	}
	real = ovl_real(in);
	if (!S_ISREG(real->mode)) {
		/* Devices and fifos open as themselves, whichever layer. */
		r = real->ops->open ? real->ops->open(real, f) : -ENXIO;
		inode_put(real);
		return r;
	}
	r = ovl_open_real(real, f->flags, &i);
	inode_put(real);
	if (r < 0)
		return r;
	f->priv = i;
	f->ops = &ovl_reg_fops;
	return 0;
}
