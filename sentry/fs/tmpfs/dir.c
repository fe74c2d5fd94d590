/* tmpfs directories: names, creation, removal, rename, readdir. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/tmpfs/tmpfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/vfs/file.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static struct tmpfs_dirent *find(struct tmpfs_node *dir, const char *name,
				 struct tmpfs_dirent ***link)
{
	struct tmpfs_dirent **pp = &dir->entries;
	for (; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->name, name)) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

/* Unlinks e from dir's list (fixing dir->last), without freeing. */
static void unlink_entry(struct tmpfs_node *dir, struct tmpfs_dirent **pp)
{
	struct tmpfs_dirent *e = *pp;
	*pp = e->next;
	if (dir->last == e) {
		dir->last = NULL;
		for (struct tmpfs_dirent *x = dir->entries; x; x = x->next)
			dir->last = x;
	}
}

static int add_entry(struct inode *dirin, const char *name, struct inode *in)
{
	struct tmpfs_node *dir = TN(dirin);
	struct tmpfs_dirent *e = calloc(1, sizeof(*e));

	if (!e || !(e->name = strdup(name))) {
		free(e);
		return -ENOMEM;
	}
	inode_get(in);
	e->inode = in;
	e->serial = dir->next_serial++;
	if (dir->last)
		dir->last->next = e;
	else
		dir->entries = e;
	dir->last = e;
	tmpfs_now(&dir->mtime);
	dir->ctime = dir->mtime;
	return 0;
}

static void free_entry(struct tmpfs_dirent *e)
{
	inode_put(e->inode);
	free(e->name);
	free(e);
}

static int tmpfs_lookup(struct inode *dirin, const char *name, struct inode **out)
{
	struct tmpfs_sb *s = TSB(dirin);
	struct tmpfs_dirent *e;
	int r = -ENOENT;

	pthread_mutex_lock(&s->lock);
	e = find(TN(dirin), name, NULL);
	if (e) {
		inode_get(e->inode);
		*out = e->inode;
		r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Creates a node of mode under dir; the common part of create, mkdir,
 * mknod and symlink. */
static int make(struct inode *dirin, const char *name, uint32_t mode, uint64_t rdev,
		const char *target, const struct creds *c, struct inode **out)
{
	struct tmpfs_sb *s = TSB(dirin);
	struct tmpfs_node *dir = TN(dirin);
	struct inode *in;
	int r;

	in = tmpfs_new_inode(dirin->sb, mode, c);
	if (!in)
		return -ENOMEM;
	TN(in)->rdev = rdev;
	if (target && !(TN(in)->target = strdup(target))) {
		inode_put(in);
		return -ENOMEM;
	}
	/* setgid directories pass their group on (and setgid to subdirs). */
	pthread_mutex_lock(&s->lock);
	if (dirin->mode & S_ISGID) {
		TN(in)->gid = dir->gid;
		if (S_ISDIR(mode))
			in->mode |= S_ISGID;
	}
	if (!dir->nlink) {
		r = -ENOENT; /* the directory was removed */
	} else if (find(dir, name, NULL)) {
		r = -EEXIST;
	} else {
		r = add_entry(dirin, name, in);
		if (r == 0 && S_ISDIR(mode)) {
			TN(in)->parent = dirin;
			dir->nlink++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		inode_put(in);
		return r;
	}
	*out = in;
	return 0;
}

static int tmpfs_create(struct inode *dir, const char *name, uint32_t mode,
			const struct creds *c, struct inode **out)
{
	return make(dir, name, S_IFREG | (mode & 07777), 0, NULL, c, out);
}

static int tmpfs_mkdir(struct inode *dir, const char *name, uint32_t mode,
		       const struct creds *c, struct inode **out)
{
	return make(dir, name, S_IFDIR | (mode & 07777), 0, NULL, c, out);
}

static int tmpfs_mknod(struct inode *dir, const char *name, uint32_t mode, uint64_t rdev,
		       const struct creds *c, struct inode **out)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	return make(dir, name, mode, rdev, NULL, c, out);
}

static int tmpfs_symlink(struct inode *dir, const char *name, const char *target,
			 const struct creds *c, struct inode **out)
{
	return make(dir, name, S_IFLNK | 0777, 0, target, c, out);
}

static int tmpfs_link(struct inode *dirin, const char *name, struct inode *target)
{
	struct tmpfs_sb *s = TSB(dirin);
	int r;

	if (target->sb != dirin->sb)
		return -EXDEV;
	pthread_mutex_lock(&s->lock);
	if (!TN(dirin)->nlink)
		r = -ENOENT;
	else if (TN(target)->nlink == 0)
		r = -ENOENT; /* linking a removed file back in is not allowed */
	else if (find(TN(dirin), name, NULL))
		r = -EEXIST;
	else if ((r = add_entry(dirin, name, target)) == 0) {
		TN(target)->nlink++;
		tmpfs_now(&TN(target)->ctime);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static bool dir_empty(struct tmpfs_node *n) { return n->entries == NULL; }

static int remove_name(struct inode *dirin, const char *name, struct inode *victim, bool dir)
{
	struct tmpfs_sb *s = TSB(dirin);
	struct tmpfs_dirent *e, **pp;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	e = find(TN(dirin), name, &pp);
	if (!e || (victim && e->inode != victim)) {
		r = -ENOENT;
		goto out;
	}
	if (dir) {
		if (!S_ISDIR(e->inode->mode)) {
			r = -ENOTDIR;
			goto out;
		}
		if (!dir_empty(TN(e->inode))) {
			r = -ENOTEMPTY;
			goto out;
		}
		TN(e->inode)->nlink = 0;
		TN(dirin)->nlink--;
	} else {
		if (S_ISDIR(e->inode->mode)) {
			r = -EISDIR;
			goto out;
		}
		TN(e->inode)->nlink--;
	}
	tmpfs_now(&TN(dirin)->mtime);
	TN(dirin)->ctime = TN(dirin)->mtime;
	TN(e->inode)->ctime = TN(dirin)->mtime;
	unlink_entry(TN(dirin), pp);
	pthread_mutex_unlock(&s->lock);
	free_entry(e);
	return 0;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int tmpfs_unlink(struct inode *dir, const char *name, struct inode *victim)
{
	return remove_name(dir, name, victim, false);
}

static int tmpfs_rmdir(struct inode *dir, const char *name, struct inode *victim)
{
	return remove_name(dir, name, victim, true);
}

static int tmpfs_rename(struct inode *odir, const char *oname, struct inode *ndir,
			const char *nname, unsigned flags)
{
	struct tmpfs_sb *s = TSB(odir);
	struct tmpfs_dirent *src, *dst, **spp, **dpp, *free_later = NULL;
	struct inode *put_later = NULL;
	int r = 0;

	if (ndir->sb != odir->sb)
		return -EXDEV;
	pthread_mutex_lock(&s->lock);
	src = find(TN(odir), oname, &spp);
	if (!src) {
		r = -ENOENT;
		goto out;
	}
	dst = find(TN(ndir), nname, &dpp);
	if (flags & RENAME_EXCHANGE) {
		if (!dst) {
			r = -ENOENT;
			goto out;
		}
		struct inode *a = src->inode, *b = dst->inode;
		src->inode = b;
		dst->inode = a;
		if (odir != ndir && S_ISDIR(a->mode) != S_ISDIR(b->mode)) {
			/* A directory changed parents: fix the link counts. */
			if (S_ISDIR(a->mode)) {
				TN(odir)->nlink--;
				TN(ndir)->nlink++;
			} else {
				TN(odir)->nlink++;
				TN(ndir)->nlink--;
			}
		}
		if (S_ISDIR(a->mode))
			TN(a)->parent = ndir;
		if (S_ISDIR(b->mode))
			TN(b)->parent = odir;
		goto touch;
	}
	if (dst) {
		if (flags & RENAME_NOREPLACE) {
			r = -EEXIST;
			goto out;
		}
		if (dst->inode == src->inode)
			goto out; /* the same file: nothing to do */
		if (S_ISDIR(src->inode->mode)) {
			if (!S_ISDIR(dst->inode->mode)) {
				r = -ENOTDIR;
				goto out;
			}
			if (!dir_empty(TN(dst->inode))) {
				r = -ENOTEMPTY;
				goto out;
			}
		} else if (S_ISDIR(dst->inode->mode)) {
			r = -EISDIR;
			goto out;
		}
	}
	/* Move src's inode under the new name. Drops of references wait
	 * until the lock is released: the last one re-enters tmpfs. */
	{
		struct inode *moving = src->inode;
		if (dst) {
			struct inode *old = dst->inode;
			if (S_ISDIR(old->mode)) {
				TN(old)->nlink = 0;
				TN(ndir)->nlink--;
			} else {
				TN(old)->nlink--;
			}
			tmpfs_now(&TN(old)->ctime);
			inode_get(moving);
			dst->inode = moving;
			put_later = old;
		} else {
			r = add_entry(ndir, nname, moving);
			if (r < 0)
				goto out;
		}
		/* Find src again: add_entry may have appended to the same list. */
		src = find(TN(odir), oname, &spp);
		unlink_entry(TN(odir), spp);
		free_later = src;
		if (S_ISDIR(moving->mode) && odir != ndir) {
			TN(odir)->nlink--;
			TN(ndir)->nlink++;
			TN(moving)->parent = ndir;
		}
		tmpfs_now(&TN(moving)->ctime);
	}
touch:
	tmpfs_now(&TN(odir)->mtime);
	TN(odir)->ctime = TN(odir)->mtime;
	TN(ndir)->mtime = TN(ndir)->ctime = TN(odir)->mtime;
out:
	pthread_mutex_unlock(&s->lock);
	if (free_later)
		free_entry(free_later);
	inode_put(put_later);
	return r;
}

static int tmpfs_iterate(struct file *f, int64_t *pos, vfs_emit_fn emit, void *ctx)
{
	struct inode *dirin = f->inode;
	struct tmpfs_sb *s = TSB(dirin);
	struct tmpfs_node *dir = TN(dirin);
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (*pos == 0) {
		if (emit(ctx, ".", 1, dirin->ino, DT_DIR, 1))
			goto out;
		*pos = 1;
	}
	if (*pos == 1) {
		struct inode *p = dir->parent ? dir->parent : dirin;
		if (emit(ctx, "..", 2, p->ino, DT_DIR, 2))
			goto out;
		*pos = 2;
	}
	for (struct tmpfs_dirent *e = dir->entries; e; e = e->next) {
		if ((int64_t)e->serial < *pos)
			continue;
		if (emit(ctx, e->name, strlen(e->name), e->inode->ino,
			 IFTODT(e->inode->mode), (int64_t)e->serial + 1))
			goto out;
		*pos = (int64_t)e->serial + 1;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int64_t tmpfs_dir_llseek(struct file *f, int64_t off, int whence)
{
	if (whence == SEEK_SET && off >= 0)
		return off;
	if (whence == SEEK_CUR && f->pos + off >= 0)
		return f->pos + off;
	return -EINVAL;
}

static int tmpfs_dir_open(struct inode *in, struct file *f)
{
	(void)in;
	f->ops = &tmpfs_dir_fops;
	return 0;
}

const struct file_ops tmpfs_dir_fops = {
	.iterate = tmpfs_iterate,
	.llseek = tmpfs_dir_llseek,
};

const struct inode_ops tmpfs_dir_ops = {
	.lookup = tmpfs_lookup,
	.create = tmpfs_create,
	.mkdir = tmpfs_mkdir,
	.mknod = tmpfs_mknod,
	.symlink = tmpfs_symlink,
	.link = tmpfs_link,
	.unlink = tmpfs_unlink,
	.rmdir = tmpfs_rmdir,
	.rename = tmpfs_rename,
	.getattr = tmpfs_getattr,
	.setattr = tmpfs_setattr,
	.open = tmpfs_dir_open,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
	.release = tmpfs_release,
};
