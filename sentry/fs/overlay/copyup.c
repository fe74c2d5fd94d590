/* Copy-up: before a lower file or directory changes, it is copied into
 * the upper layer (its parents first), with its data, mode, owner and
 * times. The lower layer is never written. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/overlay/overlay_internal.h"
#include "sentry/kernel/creds.h"

#define COPY_CHUNK (256 * 1024)

int ovl_open_real(struct inode *real, int flags, struct file **out)
{
	struct file *f = file_new(NULL, flags, NULL);
	int r;

	if (!f)
		return -ENOMEM;
	inode_get(real);
	f->inode = real;
	r = real->ops->open ? real->ops->open(real, f) : -ENXIO;
	if (r < 0) {
		static const struct file_ops none = {0};
		f->ops = &none;
		file_put(f);
		return r;
	}
	*out = f;
	return 0;
}

static int copy_data(struct inode *from, struct inode *to)
{
	struct file *in = NULL, *out = NULL;
	char *buf = malloc(COPY_CHUNK);
	int64_t ipos = 0, opos = 0;
	int r = buf ? 0 : -ENOMEM;

	if (r == 0)
		r = ovl_open_real(from, O_RDONLY, &in);
	if (r == 0)
		r = ovl_open_real(to, O_WRONLY, &out);
	while (r == 0) {
		ssize_t n = in->ops->read(in, buf, COPY_CHUNK, &ipos), w = 0;
		if (n <= 0) {
			r = (int)n;
			break;
		}
		while (w < n) {
			ssize_t k = out->ops->write(out, buf + w, (size_t)(n - w), &opos);
			if (k <= 0) {
				r = k < 0 ? (int)k : -EIO;
				break;
			}
			w += k;
		}
	}
	file_put(in);
	file_put(out);
	free(buf);
	return r;
}

/* Creates the upper copy of lower (named name in the upper dir). */
static int make_upper(struct inode *udir, const char *name, struct inode *lower,
		      struct inode **out)
{
	struct vfs_attr a;
	struct creds c;
	struct inode *up = NULL;
	int r = inode_getattr(lower, &a);

	if (r < 0)
		return r;
	creds_init_root(&c);
	c.fsuid = a.uid;
	c.fsgid = a.gid;
	switch (a.mode & S_IFMT) {
	case S_IFDIR:
		r = udir->ops->mkdir(udir, name, a.mode & 07777, &c, &up);
		break;
	case S_IFREG:
		r = udir->ops->create(udir, name, a.mode & 07777, &c, &up);
		if (r == 0)
			r = copy_data(lower, up);
		break;
	case S_IFLNK: {
		char *target = malloc(VFS_PATH_MAX);
		ssize_t n = target && lower->ops->readlink
			? lower->ops->readlink(lower, target, VFS_PATH_MAX - 1) : -ENOMEM;
		if (n >= 0) {
			target[n] = 0;
			r = udir->ops->symlink(udir, name, target, &c, &up);
		} else {
			r = (int)n;
		}
		free(target);
		break;
	}
	default:
		r = udir->ops->mknod(udir, name, a.mode, a.rdev, &c, &up);
	}
	if (r < 0) {
		if (up) {
			/* Half made: take it away again. */
			if (S_ISDIR(a.mode))
				udir->ops->rmdir(udir, name, up);
			else
				udir->ops->unlink(udir, name, up);
			inode_put(up);
		}
		return r;
	}
	/* Owner and times as they were; the mode too (setuid bits survive
	 * the copy, as creation under a umask would drop them). */
	struct vfs_setattr sa = {
		.mask = VFS_ATTR_MODE | VFS_ATTR_ATIME | VFS_ATTR_MTIME,
		.mode = a.mode & 07777,
		.atime = a.atime,
		.mtime = a.mtime,
	};
	if (!S_ISLNK(a.mode) && up->ops->setattr)
		up->ops->setattr(up, &sa);
	*out = up;
	return 0;
}

int ovl_copy_up(struct inode *in)
{
	struct ovl_node *n = ON(in);
	struct inode *parent, *udir = NULL, *up = NULL;
	char *name;
	int r;

	pthread_mutex_lock(&n->lock);
	if (n->upper) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	parent = n->parent;
	if (parent)
		inode_get(parent);
	name = n->name ? strdup(n->name) : NULL;
	pthread_mutex_unlock(&n->lock);
	if (!parent || !name) {
		inode_put(parent);
		free(name);
		return -EROFS; /* the root always has an upper directory */
	}
	r = ovl_copy_up(parent);
	if (r == 0) {
		udir = ovl_real(parent);
		pthread_mutex_lock(&n->lock);
		if (!n->upper) {
			r = make_upper(udir, name, n->lower, &up);
			if (r == -EEXIST) {
				/* Someone copied it up meanwhile under this name. */
				r = udir->ops->lookup(udir, name, &up);
			}
			if (r == 0)
				n->upper = up;
		}
		pthread_mutex_unlock(&n->lock);
		inode_put(udir);
	}
	inode_put(parent);
	free(name);
	return r;
}
