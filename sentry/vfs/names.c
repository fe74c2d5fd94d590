/* Operations on names: mkdir, mknod, symlink, link, unlink, rmdir and
 * rename, with Linux's checks and error order (fs/namei.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"
#include "sentry/vfs/vfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#define RENAME_WHITEOUT 4
#endif

#define CAP_FOWNER 3
#define CAP_MKNOD 27

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT };

struct parent {
	struct path path;
	char last[VFS_NAME_MAX + 1];
	bool slash;
	enum last_type type;
};

static int get_parent(struct task *t, int dirfd, const char *path, struct parent *p)
{
	int r = vfs_lookup_parent(t, dirfd, path, 0, &p->path, p->last, &p->slash);
	if (r < 0)
		return r;
	if (!p->last[0])
		p->type = LAST_ROOT;
	else if (!strcmp(p->last, "."))
		p->type = LAST_DOT;
	else if (!strcmp(p->last, ".."))
		p->type = LAST_DOTDOT;
	else
		p->type = LAST_NORM;
	return 0;
}

static bool rdonly(const struct path *p)
{
	return (p->mnt->flags & MNT_RDONLY) || (p->mnt->sb->flags & SB_RDONLY);
}

static struct inode *dir_inode(struct parent *p) { return p->path.dentry->inode; }

/* Whether the name's dentry has something mounted on it (busy). */
static bool mounted_on(const struct path *dir, struct dentry *d)
{
	struct mount *m = vfs_mount_on(dir->mnt, d);
	if (m) {
		mount_put(m);
		return true;
	}
	return false;
}

/* Checks for creating a name in p (Linux's filename_create and
 * may_create): an existing name is EEXIST; a trailing slash on a new
 * name is ENOENT unless a directory is being made. */
static int may_create(struct task *t, struct parent *p, bool dir)
{
	struct dentry *d;
	int r;

	r = dcache_lookup(p->path.dentry, p->last, &d);
	if (r < 0)
		return r;
	if (d->inode) {
		dentry_put(d);
		return -EEXIST;
	}
	dentry_put(d);
	if (p->slash && !dir)
		return -ENOENT;
	if (rdonly(&p->path))
		return -EROFS;
	return vfs_permission(dir_inode(p), MAY_WRITE | MAY_EXEC, &t->tg->creds);
}

static uint32_t apply_umask(struct task *t, uint32_t mode)
{
	uint32_t um;
	pthread_mutex_lock(&t->fs->lock);
	um = t->fs->umask;
	pthread_mutex_unlock(&t->fs->lock);
	return mode & ~um;
}

int vfs_mkdirat(struct task *t, int dirfd, const char *path, uint32_t mode)
{
	struct parent p;
	struct inode *dir, *in = NULL;
	int r = get_parent(t, dirfd, path, &p);

	if (r < 0)
		return r;
	if (p.type != LAST_NORM) {
		r = -EEXIST;
		goto out;
	}
	r = may_create(t, &p, true);
	if (r < 0)
		goto out;
	dir = dir_inode(&p);
	if (!dir->ops->mkdir) {
		r = -EPERM;
		goto out;
	}
	r = dir->ops->mkdir(dir, p.last, apply_umask(t, mode & (0777 | S_ISVTX)),
			    &t->tg->creds, &in);
	if (r == 0) {
		r = dcache_instantiate(p.path.dentry, p.last, in, NULL);
		inode_put(in);
	}
out:
	path_put(&p.path);
	return r;
}

int vfs_mknodat(struct task *t, int dirfd, const char *path, uint32_t mode, uint64_t dev)
{
	struct parent p;
	struct inode *dir, *in = NULL;
	int r;

	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG: case S_IFIFO: case S_IFSOCK:
		break;
	case S_IFCHR: case S_IFBLK:
		if (!creds_capable(&t->tg->creds, CAP_MKNOD))
			return -EPERM;
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	r = get_parent(t, dirfd, path, &p);
	if (r < 0)
		return r;
	if (p.type != LAST_NORM) {
		r = -EEXIST;
		goto out;
	}
	r = may_create(t, &p, false);
	if (r < 0)
		goto out;
	dir = dir_inode(&p);
	mode = (mode & S_IFMT) | apply_umask(t, mode & 07777);
	if (S_ISREG(mode))
		r = dir->ops->create ? dir->ops->create(dir, p.last, mode, &t->tg->creds, &in)
				     : -EPERM;
	else
		r = dir->ops->mknod ? dir->ops->mknod(dir, p.last, mode, dev, &t->tg->creds, &in)
				    : -EPERM;
	if (r == 0) {
		r = dcache_instantiate(p.path.dentry, p.last, in, NULL);
		inode_put(in);
	}
out:
	path_put(&p.path);
	return r;
}

int vfs_symlinkat(struct task *t, const char *target, int dirfd, const char *path)
{
	struct parent p;
	struct inode *dir, *in = NULL;
	int r;

	if (!*target)
		return -ENOENT;
	r = get_parent(t, dirfd, path, &p);
	if (r < 0)
		return r;
	if (p.type != LAST_NORM) {
		r = -EEXIST;
		goto out;
	}
	r = may_create(t, &p, false);
	if (r < 0)
		goto out;
	dir = dir_inode(&p);
	r = dir->ops->symlink ? dir->ops->symlink(dir, p.last, target, &t->tg->creds, &in)
			      : -EPERM;
	if (r == 0) {
		r = dcache_instantiate(p.path.dentry, p.last, in, NULL);
		inode_put(in);
	}
out:
	path_put(&p.path);
	return r;
}

int vfs_linkat(struct task *t, int olddirfd, const char *oldpath, int newdirfd,
	       const char *newpath, int flags)
{
	struct path old;
	struct parent p;
	struct inode *dir, *in;
	unsigned lf = 0;
	int r;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (flags & AT_SYMLINK_FOLLOW)
		lf |= LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH) {
		if (!creds_capable(&t->tg->creds, 2 /* CAP_DAC_READ_SEARCH */))
			return -ENOENT;
		lf |= LOOKUP_EMPTY;
	}
	r = vfs_lookup(t, olddirfd, oldpath, lf, &old);
	if (r < 0)
		return r;
	r = get_parent(t, newdirfd, newpath, &p);
	if (r < 0)
		goto out_old;
	if (p.type != LAST_NORM) {
		r = -EEXIST;
		goto out;
	}
	if (old.mnt != p.path.mnt) {
		r = -EXDEV;
		goto out;
	}
	r = may_create(t, &p, false);
	if (r < 0)
		goto out;
	in = old.dentry->inode;
	if (S_ISDIR(in->mode)) {
		r = -EPERM;
		goto out;
	}
	dir = dir_inode(&p);
	r = dir->ops->link ? dir->ops->link(dir, p.last, in) : -EPERM;
	if (r == 0)
		r = dcache_instantiate(p.path.dentry, p.last, in, NULL);
out:
	path_put(&p.path);
out_old:
	path_put(&old);
	return r;
}

/* may_delete: the sticky bit and write permission on the directory. */
static int may_delete(struct task *t, struct inode *dir, struct inode *victim)
{
	const struct creds *c = &t->tg->creds;
	int r = vfs_permission(dir, MAY_WRITE | MAY_EXEC, c);

	if (r < 0)
		return r;
	if (dir->mode & S_ISVTX) {
		struct vfs_attr da, va;
		if (inode_getattr(dir, &da) == 0 && inode_getattr(victim, &va) == 0 &&
		    c->fsuid != va.uid && c->fsuid != da.uid && !creds_capable(c, CAP_FOWNER))
			return -EPERM;
	}
	return 0;
}

int vfs_unlinkat(struct task *t, int dirfd, const char *path, int flags)
{
	bool rmdir = flags & AT_REMOVEDIR;
	struct parent p;
	struct dentry *d = NULL;
	struct inode *dir;
	int r;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	r = get_parent(t, dirfd, path, &p);
	if (r < 0)
		return r;
	if (p.type != LAST_NORM) {
		if (!rmdir)
			r = -EISDIR;
		else
			r = p.type == LAST_DOT ? -EINVAL : p.type == LAST_DOTDOT ? -ENOTEMPTY : -EBUSY;
		goto out;
	}
	r = dcache_lookup(p.path.dentry, p.last, &d);
	if (r < 0)
		goto out;
	if (!d->inode) {
		r = -ENOENT;
		goto out;
	}
	if (rmdir && !S_ISDIR(d->inode->mode)) {
		r = -ENOTDIR;
		goto out;
	}
	if (!rmdir && S_ISDIR(d->inode->mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!rmdir && p.slash) {
		r = -ENOTDIR;
		goto out;
	}
	if (rdonly(&p.path)) {
		r = -EROFS;
		goto out;
	}
	dir = dir_inode(&p);
	r = may_delete(t, dir, d->inode);
	if (r < 0)
		goto out;
	if (mounted_on(&p.path, d)) {
		r = -EBUSY;
		goto out;
	}
	if (rmdir)
		r = dir->ops->rmdir ? dir->ops->rmdir(dir, p.last, d->inode) : -EPERM;
	else
		r = dir->ops->unlink ? dir->ops->unlink(dir, p.last, d->inode) : -EPERM;
	if (r == 0)
		dcache_remove(p.path.dentry, p.last);
out:
	if (d)
		dentry_put(d);
	path_put(&p.path);
	return r;
}

/* Whether a is b or one of b's ancestors (within one mount's tree). */
static bool is_ancestor(struct dentry *a, struct dentry *b)
{
	for (;;) {
		if (a == b)
			return true;
		if (b->parent == b)
			return false;
		b = b->parent;
	}
}

int vfs_renameat2(struct task *t, int olddirfd, const char *oldpath, int newdirfd,
		  const char *newpath, unsigned flags)
{
	struct parent op, np;
	struct dentry *od = NULL, *nd = NULL;
	struct inode *odir, *ndir;
	int r;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (flags & RENAME_WHITEOUT)
		return -EINVAL; /* overlay internals only */
	r = get_parent(t, olddirfd, oldpath, &op);
	if (r < 0)
		return r;
	r = get_parent(t, newdirfd, newpath, &np);
	if (r < 0)
		goto out_old;
	if (op.path.mnt != np.path.mnt) {
		r = -EXDEV;
		goto out;
	}
	if (op.type != LAST_NORM) {
		r = -EBUSY;
		goto out;
	}
	if (np.type != LAST_NORM) {
		r = flags & RENAME_NOREPLACE ? -EEXIST : -EBUSY;
		goto out;
	}
	if (rdonly(&op.path)) {
		r = -EROFS;
		goto out;
	}
	pthread_mutex_lock(&vfs_rename_lock);
	r = dcache_lookup(op.path.dentry, op.last, &od);
	if (r < 0)
		goto out_unlock;
	if (!od->inode) {
		r = -ENOENT;
		goto out_unlock;
	}
	r = dcache_lookup(np.path.dentry, np.last, &nd);
	if (r < 0)
		goto out_unlock;
	if (flags & RENAME_EXCHANGE) {
		if (!nd->inode) {
			r = -ENOENT;
			goto out_unlock;
		}
	} else if ((flags & RENAME_NOREPLACE) && nd->inode) {
		r = -EEXIST;
		goto out_unlock;
	}
	/* Trailing slashes name directories. */
	if ((op.slash || np.slash) && !S_ISDIR(od->inode->mode) &&
	    !((flags & RENAME_EXCHANGE) && S_ISDIR(nd->inode->mode) && !op.slash)) {
		r = -ENOTDIR;
		goto out_unlock;
	}
	/* A directory cannot move into itself, nor replace an ancestor. */
	if (S_ISDIR(od->inode->mode) && is_ancestor(od, np.path.dentry)) {
		r = -EINVAL;
		goto out_unlock;
	}
	if (nd->inode && is_ancestor(nd, op.path.dentry)) {
		r = flags & RENAME_EXCHANGE ? -EINVAL : -ENOTEMPTY;
		goto out_unlock;
	}
	if (od->inode == nd->inode) {
		r = 0; /* the same file under both names: nothing to do */
		goto out_unlock;
	}
	if (nd->inode && !(flags & RENAME_EXCHANGE)) {
		if (S_ISDIR(od->inode->mode) && !S_ISDIR(nd->inode->mode)) {
			r = -ENOTDIR;
			goto out_unlock;
		}
		if (!S_ISDIR(od->inode->mode) && S_ISDIR(nd->inode->mode)) {
			r = -EISDIR;
			goto out_unlock;
		}
	}
	odir = dir_inode(&op);
	ndir = dir_inode(&np);
	r = may_delete(t, odir, od->inode);
	if (r == 0)
		r = nd->inode ? may_delete(t, ndir, nd->inode)
			      : vfs_permission(ndir, MAY_WRITE | MAY_EXEC, &t->tg->creds);
	/* Moving a directory rewrites its "..": it must be writable. */
	if (r == 0 && S_ISDIR(od->inode->mode) && odir != ndir)
		r = vfs_permission(od->inode, MAY_WRITE, &t->tg->creds);
	if (r < 0)
		goto out_unlock;
	if (mounted_on(&op.path, od) || (nd->inode && mounted_on(&np.path, nd))) {
		r = -EBUSY;
		goto out_unlock;
	}
	if (!odir->ops->rename || odir->sb != ndir->sb) {
		r = odir->ops->rename ? -EXDEV : -EPERM;
		goto out_unlock;
	}
	r = odir->ops->rename(odir, op.last, ndir, np.last, flags);
	if (r == 0) {
		if (od->inode->ops->renamed)
			od->inode->ops->renamed(od->inode, ndir, np.last);
		if ((flags & RENAME_EXCHANGE) && nd->inode->ops->renamed)
			nd->inode->ops->renamed(nd->inode, odir, op.last);
		dcache_move(op.path.dentry, op.last, np.path.dentry, np.last,
			    flags & RENAME_EXCHANGE);
	}
out_unlock:
	pthread_mutex_unlock(&vfs_rename_lock);
	if (od)
		dentry_put(od);
	if (nd)
		dentry_put(nd);
out:
	path_put(&np.path);
out_old:
	path_put(&op.path);
	return r;
}

ssize_t vfs_readlinkat(struct task *t, int dirfd, const char *path, char *buf, size_t len)
{
	struct path p;
	struct inode *in;
	ssize_t r = vfs_lookup(t, dirfd, path, LOOKUP_EMPTY, &p);

	if (r < 0)
		return r;
	in = p.dentry->inode;
	if (!S_ISLNK(in->mode)) {
		r = -EINVAL;
	} else if (in->ops->readlink) {
		r = in->ops->readlink(in, buf, len);
	} else if (in->ops->get_link) {
		/* A magic link reads as the path it stands for. */
		struct path target;
		char *tmp = malloc(VFS_PATH_MAX);
		r = tmp ? in->ops->get_link(in, t, &target.mnt, &target.dentry) : -ENOMEM;
		if (r == 0) {
			struct path root;
			pthread_mutex_lock(&t->fs->lock);
			path_copy(&root, &t->fs->root);
			pthread_mutex_unlock(&t->fs->lock);
			r = vfs_path_string(&root, &target, tmp, VFS_PATH_MAX);
			path_put(&root);
			path_put(&target);
			if (r >= 0) {
				if ((size_t)r > len)
					r = (ssize_t)len;
				memcpy(buf, tmp, (size_t)r);
			}
		}
		free(tmp);
	} else {
		r = -EINVAL;
	}
	path_put(&p);
	return r;
}
