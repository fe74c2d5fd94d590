/* Reference-counted VFS objects: superblocks, inodes, dentries, mounts,
 * paths and fs contexts. */
#include "sentry/vfs/vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

struct superblock *sb_new(const char *fstype, uint32_t magic, const struct super_ops *ops,
			  void *priv)
{
	struct superblock *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return NULL;
	atomic_init(&sb->refs, 1);
	sb->fstype = fstype;
	sb->magic = magic;
	sb->ops = ops;
	sb->priv = priv;
	sb->dev = vfs_anon_dev();
	return sb;
}

void sb_get(struct superblock *sb) { atomic_fetch_add(&sb->refs, 1); }

void sb_put(struct superblock *sb)
{
	if (!sb || atomic_fetch_sub(&sb->refs, 1) != 1)
		return;
	if (sb->ops && sb->ops->release)
		sb->ops->release(sb);
	free(sb);
}

uint64_t vfs_anon_dev(void)
{
	static atomic_uint next = 16; /* low minors look like real devices */
	return makedev(0, atomic_fetch_add(&next, 1));
}

struct inode *inode_new(struct superblock *sb, const struct inode_ops *ops, uint64_t ino,
			uint32_t mode, void *priv)
{
	struct inode *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	atomic_init(&in->refs, 1);
	sb_get(sb);
	in->sb = sb;
	in->ops = ops;
	in->ino = ino;
	in->mode = mode;
	in->priv = priv;
	return in;
}

void inode_get(struct inode *in) { atomic_fetch_add(&in->refs, 1); }

void inode_put(struct inode *in)
{
	if (!in || atomic_fetch_sub(&in->refs, 1) != 1)
		return;
	if (in->ops && in->ops->release)
		in->ops->release(in);
	sb_put(in->sb);
	free(in);
}

int inode_getattr(struct inode *in, struct vfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = in->ino;
	a->dev = in->sb->dev;
	a->mode = in->mode;
	a->nlink = 1;
	a->blksize = 4096;
	if (in->ops->getattr)
		return in->ops->getattr(in, a);
	return 0;
}

struct dentry *dentry_new_root(struct inode *in)
{
	struct dentry *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	atomic_init(&d->refs, 1);
	d->parent = d;
	d->inode = in;
	d->name = strdup("/");
	pthread_mutex_init(&d->lock, NULL);
	if (!d->name) {
		free(d);
		return NULL;
	}
	return d;
}

void dentry_get(struct dentry *d) { atomic_fetch_add(&d->refs, 1); }

void dentry_put(struct dentry *d)
{
	while (d && atomic_fetch_sub(&d->refs, 1) == 1) {
		struct dentry *parent = d->parent;
		for (size_t i = 0; i < d->capchildren; i++) {
			struct dentry *c = d->children[i];
			while (c) {
				struct dentry *next = c->hnext;
				dentry_put(c);
				c = next;
			}
		}
		free(d->children);
		inode_put(d->inode);
		free(d->name);
		pthread_mutex_destroy(&d->lock);
		free(d);
		/* Drop the parent reference iteratively: deep trees must not
		 * recurse. */
		d = parent != d ? parent : NULL;
	}
}

void mount_get(struct mount *m) { atomic_fetch_add(&m->refs, 1); }

void mount_put(struct mount *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	dentry_put(m->root);
	if (m->mountpoint)
		dentry_put(m->mountpoint);
	mount_put(m->parent);
	sb_put(m->sb);
	free(m->source);
	free(m->options);
	free(m);
}

void path_get(const struct path *p)
{
	if (p->mnt)
		mount_get(p->mnt);
	if (p->dentry)
		dentry_get(p->dentry);
}

void path_put(struct path *p)
{
	if (p->dentry)
		dentry_put(p->dentry);
	if (p->mnt)
		mount_put(p->mnt);
	p->dentry = NULL;
	p->mnt = NULL;
}

void path_copy(struct path *dst, const struct path *src)
{
	*dst = *src;
	path_get(dst);
}

struct fs_context *fs_context_new(const struct path *root, const struct path *cwd)
{
	struct fs_context *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	atomic_init(&fs->refs, 1);
	pthread_mutex_init(&fs->lock, NULL);
	path_copy(&fs->root, root);
	path_copy(&fs->cwd, cwd);
	fs->umask = 022;
	return fs;
}

struct fs_context *fs_context_copy(struct fs_context *fs)
{
	struct fs_context *n;
	pthread_mutex_lock(&fs->lock);
	n = fs_context_new(&fs->root, &fs->cwd);
	if (n)
		n->umask = fs->umask;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

void fs_context_put(struct fs_context *fs)
{
	if (!fs || atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	path_put(&fs->root);
	path_put(&fs->cwd);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}
