/* open(2) and friends: the name lookup, O_CREAT, the permission and
 * type checks of Linux's may_open, O_TRUNC, and the open file
 * description. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define O_LARGEFILE_K 0100000

static bool path_rdonly(const struct path *p)
{
	return (p->mnt->flags & MNT_RDONLY) || (p->mnt->sb->flags & SB_RDONLY);
}

/* O_PATH files: a handle on a name, with no operations. */
static const struct file_ops opath_ops = {0};

int vfs_open_path(struct task *t, const struct path *p, int flags, struct file **out)
{
	struct inode *in = p->dentry->inode;
	const struct creds *c = &t->tg->creds;
	int acc = flags & O_ACCMODE, mask = 0, r;
	struct file *f;

	if (!in)
		return -ENOENT;
	if (flags & O_PATH) {
		if ((flags & O_DIRECTORY) && !S_ISDIR(in->mode))
			return -ENOTDIR;
		f = file_new(&opath_ops, O_PATH | (flags & (O_DIRECTORY | O_NOFOLLOW)) | O_LARGEFILE_K,
			     NULL);
		if (!f)
			return -ENOMEM;
		goto bind;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(in->mode))
		return -ENOTDIR;
	if (S_ISLNK(in->mode))
		return -ELOOP;
	if (acc == O_RDONLY || acc == O_RDWR || acc == O_ACCMODE)
		mask |= MAY_READ;
	if (acc == O_WRONLY || acc == O_RDWR || acc == O_ACCMODE)
		mask |= MAY_WRITE;
	if (flags & O_TRUNC)
		mask |= MAY_WRITE;
	if (S_ISDIR(in->mode) && (mask & MAY_WRITE))
		return -EISDIR;
	if ((mask & MAY_WRITE) && (S_ISREG(in->mode) || S_ISDIR(in->mode)) && path_rdonly(p))
		return -EROFS;
	if (!(flags & __O_CREATED)) {
		r = vfs_permission(in, mask, c);
		if (r < 0)
			return r;
	}
	if ((flags & O_NOATIME) && !vfs_owner_or_capable(in, c))
		return -EPERM;
	if ((S_ISCHR(in->mode) || S_ISBLK(in->mode)) && (p->mnt->flags & MNT_NODEV))
		return -EACCES;
	if ((flags & O_TRUNC) && S_ISREG(in->mode) && !(flags & __O_CREATED)) {
		struct vfs_setattr sa = {.mask = VFS_ATTR_SIZE, .size = 0};
		if (!in->ops->setattr)
			return -EPERM;
		r = in->ops->setattr(in, &sa);
		if (r < 0)
			return r;
	}
	/* The description keeps the status flags, not the open-time ones
	 * (Linux's do_dentry_open; O_CLOEXEC belongs to the fd). */
	f = file_new(NULL, (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC |
				      __O_CREATED)) |
				   O_LARGEFILE_K,
		     NULL);
	if (!f)
		return -ENOMEM;
bind:
	path_copy(&f->path, p);
	inode_get(in);
	f->inode = in;
	if (!(flags & O_PATH)) {
		r = in->ops->open ? in->ops->open(in, f) : -ENXIO;
		if (r < 0) {
			f->ops = &opath_ops; /* nothing to release */
			file_put(f);
			return r;
		}
	}
	*out = f;
	return 0;
}

/* Creates last in parent as a regular file. */
static int create_file(struct task *t, struct path *parent, const char *last, uint32_t mode,
		       struct dentry **out)
{
	struct inode *dir = parent->dentry->inode, *in = NULL;
	int r;

	if (path_rdonly(parent))
		return -EROFS;
	r = vfs_permission(dir, MAY_WRITE | MAY_EXEC, &t->tg->creds);
	if (r < 0)
		return r;
	if (!dir->ops->create)
		return -EACCES;
	pthread_mutex_lock(&t->fs->lock);
	mode = (mode & ~t->fs->umask & 07777) | S_IFREG;
	pthread_mutex_unlock(&t->fs->lock);
	r = dir->ops->create(dir, last, mode, &t->tg->creds, &in);
	if (r < 0)
		return r;
	r = dcache_instantiate(parent->dentry, last, in, out);
	inode_put(in);
	return r;
}

/* The O_CREAT path: parent lookup, then create or open what is there,
 * following a final symlink (even a dangling one) unless told not to. */
static int open_creat(struct task *t, struct path *start, const char *path, int flags,
		      uint32_t mode, unsigned lflags, int depth, struct path *res, bool *created)
{
	char last[VFS_NAME_MAX + 1];
	struct path parent;
	bool slash;
	struct dentry *d;
	int r;

	r = vfs_lookup_parent_at(t, start, path, lflags, &parent, last, &slash);
	if (r < 0)
		return r;
	if (slash || !last[0] || !strcmp(last, ".") || !strcmp(last, "..")) {
		r = -EISDIR;
		goto out;
	}
	for (int tries = 0;; tries++) {
		r = dcache_lookup(parent.dentry, last, &d);
		if (r < 0)
			goto out;
		if (!d->inode) {
			dentry_put(d);
			r = create_file(t, &parent, last, mode, &d);
			if (r == -EEXIST && !(flags & O_EXCL) && tries < 3)
				continue; /* lost a race: open what won */
			if (r < 0)
				goto out;
			*created = true;
			break;
		}
		if (flags & O_EXCL) {
			dentry_put(d);
			r = -EEXIST;
			goto out;
		}
		if (S_ISLNK(d->inode->mode)) {
			char *target;
			ssize_t n;
			if (flags & O_NOFOLLOW || lflags & LOOKUP_NO_SYMLINKS) {
				dentry_put(d);
				r = -ELOOP;
				goto out;
			}
			if (depth >= VFS_MAXSYMLINKS || !d->inode->ops->readlink) {
				dentry_put(d);
				r = -ELOOP;
				goto out;
			}
			target = malloc(VFS_PATH_MAX);
			n = target ? d->inode->ops->readlink(d->inode, target, VFS_PATH_MAX - 1) : -ENOMEM;
			dentry_put(d);
			if (n <= 0) {
				free(target);
				r = n < 0 ? (int)n : -ENOENT;
				goto out;
			}
			target[n] = 0;
			r = open_creat(t, &parent, target, flags, mode, lflags, depth + 1, res, created);
			free(target);
			goto out;
		}
		break;
	}
	res->mnt = parent.mnt;
	res->dentry = d;
	mount_get(res->mnt);
	/* A mount on the name hides it. */
	for (struct mount *m; (m = vfs_mount_on(res->mnt, res->dentry));) {
		path_put(res);
		res->mnt = m;
		res->dentry = m->root;
		dentry_get(m->root);
	}
	r = 0;
out:
	path_put(&parent);
	return r;
}

int vfs_openat(struct task *t, int dirfd, const char *path, int flags, uint32_t mode,
	       unsigned lflags, struct file **out)
{
	struct path p = {0}, start;
	bool created = false;
	int r;

	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	if ((flags & __O_TMPFILE) == __O_TMPFILE)
		return -EOPNOTSUPP;
	if (flags & O_CREAT && !(flags & O_PATH)) {
		if (!*path)
			return -ENOENT;
		r = vfs_start_for(t, dirfd, path, lflags, &start);
		if (r < 0)
			return r;
		r = open_creat(t, &start, path, flags, mode, lflags, 0, &p, &created);
		path_put(&start);
	} else {
		if (!(flags & O_NOFOLLOW))
			lflags |= LOOKUP_FOLLOW;
		if (flags & O_DIRECTORY)
			lflags |= LOOKUP_DIRECTORY;
		r = vfs_lookup(t, dirfd, path, lflags, &p);
		if (r == 0 && (flags & O_NOFOLLOW) && !(flags & O_PATH) &&
		    S_ISLNK(p.dentry->inode->mode))
			r = -ELOOP;
	}
	if (r < 0)
		return r;
	/* O_CREAT never opens an existing directory (Linux's do_open). */
	if ((flags & O_CREAT) && !(flags & O_PATH) && !created && S_ISDIR(p.dentry->inode->mode)) {
		path_put(&p);
		return -EISDIR;
	}
	r = vfs_open_path(t, &p, flags | (created ? __O_CREATED : 0), out);
	path_put(&p);
	return r;
}
