/* pipefs: the inodes of anonymous pipes. Each pipe gets an inode (its
 * st_ino, its mode and owner for fstat and fchmod) and a dentry on a
 * mount in no namespace, so /proc/PID/fd/N can be reopened as on Linux
 * (bash's /dev/fd/63, `cat /dev/stdin`); procfs shows the link as
 * "pipe:[ino]" because the superblock is SB_PSEUDO. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sentry/fs/pipe/pipe_internal.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

static pthread_once_t pipefs_once = PTHREAD_ONCE_INIT;
static struct mount *pipefs_mnt;

static int pipefs_getattr(struct inode *in, struct vfs_attr *a)
{
	struct pipe *p = in->priv;

	pthread_mutex_lock(&p->lock);
	a->mode = p->mode;
	a->uid = p->uid;
	a->gid = p->gid;
	a->atime = p->atime;
	a->mtime = p->mtime;
	a->ctime = p->ctime;
	pthread_mutex_unlock(&p->lock);
	a->nlink = 1;
	a->blksize = PIPE_PAGE;
	return 0;
}

/* fchmod, fchown and futimens work on a pipe as on Linux's pipefs. */
static int pipefs_setattr(struct inode *in, const struct vfs_setattr *sa)
{
	struct pipe *p = in->priv;

	if (sa->mask & VFS_ATTR_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (sa->mask & VFS_ATTR_MODE) {
		p->mode = S_IFIFO | (sa->mode & 07777);
		in->mode = p->mode;
	}
	if (sa->mask & VFS_ATTR_UID)
		p->uid = sa->uid;
	if (sa->mask & VFS_ATTR_GID)
		p->gid = sa->gid;
	if (sa->mask & VFS_ATTR_ATIME)
		p->atime = sa->atime;
	if (sa->mask & VFS_ATTR_MTIME)
		p->mtime = sa->mtime;
	if (sa->mask & VFS_ATTR_CTIME)
		p->ctime = sa->ctime;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Reopening through /proc/PID/fd: another end of the same pipe, which
 * never waits for a partner. */
static int pipefs_open(struct inode *in, struct file *f)
{
	return pipe_open_end(in->priv, f, true);
}

static void pipefs_release(struct inode *in)
{
	pipe_free(in->priv);
}

static const struct inode_ops pipefs_iops = {
	.getattr = pipefs_getattr,
	.setattr = pipefs_setattr,
	.open = pipefs_open,
	.release = pipefs_release,
};

static const struct inode_ops pipefs_root_iops = {0};

static void pipefs_init(void)
{
	struct superblock *sb = sb_new("pipefs", PIPEFS_MAGIC, NULL, NULL);
	struct inode *root = NULL;
	struct dentry *d = NULL;

	if (!sb)
		return;
	/* Pipes' dentries never enter a directory's cache. */
	sb->flags |= SB_PSEUDO | SB_NOCACHE;
	root = inode_new(sb, &pipefs_root_iops, 1, S_IFDIR | 0700, NULL);
	if (root)
		d = dentry_new_root(root);
	if (d)
		pipefs_mnt = vfs_kern_mount(sb, d);
	else
		inode_put(root);
	dentry_put(d);
	sb_put(sb);
}

/* One end of p on the pipe's dentry. */
static struct file *pipe_end(struct pipe *p, struct dentry *d, int flags)
{
	struct pipe_file *pf = calloc(1, sizeof(*pf));
	struct file *f = pf ? file_new(&pipe_fops, flags, pf) : NULL;

	if (!f) {
		free(pf);
		return NULL;
	}
	pf->p = p;
	f->path.mnt = pipefs_mnt;
	f->path.dentry = d;
	path_get(&f->path);
	inode_get(d->inode);
	f->inode = d->inode;
	return f;
}

/* An end that was never counted as a reader or writer. */
static void discard_end(struct file *f)
{
	if (!f)
		return;
	free(f->priv);
	f->ops = NULL; /* no pipe_fops release to uncount it */
	file_put(f);
}

int pipe_create(int flags, struct file **rd, struct file **wr)
{
	static atomic_uint_fast64_t next_ino = 1000;
	struct pipe *p;
	struct inode *in;
	struct dentry *d = NULL;
	char name[40];
	int r = -ENOMEM;

	*rd = *wr = NULL;
	pthread_once(&pipefs_once, pipefs_init);
	if (!pipefs_mnt)
		return -ENOMEM;
	p = pipe_alloc();
	if (!p)
		return -ENOMEM;
	p->ino = atomic_fetch_add(&next_ino, 1);
	in = inode_new(pipefs_mnt->sb, &pipefs_iops, p->ino, p->mode, p);
	if (!in) {
		pipe_free(p);
		return -ENOMEM;
	}
	/* From here the inode owns the pipe. */
	snprintf(name, sizeof(name), "pipe:[%" PRIu64 "]", p->ino);
	if (dcache_instantiate(pipefs_mnt->root, name, in, &d) < 0)
		goto out;
	flags &= O_NONBLOCK | O_DIRECT;
	*rd = pipe_end(p, d, O_RDONLY | flags);
	*wr = pipe_end(p, d, O_WRONLY | flags);
	if (!*rd || !*wr) {
		discard_end(*rd);
		discard_end(*wr);
		*rd = *wr = NULL;
		goto out;
	}
	p->readers = p->writers = 1;
	p->r_counter = p->w_counter = 1;
	r = 0;
out:
	dentry_put(d);
	inode_put(in);
	return r;
}
