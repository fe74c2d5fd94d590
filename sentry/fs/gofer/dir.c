/* Gofer directories: lookup (a name listed with its node costs nothing,
 * see listing.c; any other is one Walk; the dentry cache keeps the
 * answer, negative ones too), the calls that change names, and readdir
 * from a listing fetched once and cached in the inode until a name in
 * the directory changes. An open directory keeps the listing it started
 * from, so its positions stay valid across changes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/fs/gofer/gofer_internal.h"
#include "sentry/kernel/creds.h"

void gfs_invalidate(struct inode *dir)
{
	struct gofer_inode *gi = GI(dir);
	struct gfs_listing *l;

	pthread_mutex_lock(&gi->lock);
	l = gi->listing;
	gi->listing = NULL;
	pthread_mutex_unlock(&gi->lock);
	gfs_listing_put(l);
}

/* The node and attributes that came with name in dir's cached listing. */
static bool take_listed(struct inode *dir, const char *name, uint64_t *node,
			struct gofer_attr *a)
{
	struct gofer_inode *gi = GI(dir);
	bool ok;

	pthread_mutex_lock(&gi->lock);
	ok = gi->listing && gfs_listing_take(gi->listing, name, node, a);
	pthread_mutex_unlock(&gi->lock);
	return ok;
}

int gfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	char *names[2] = {(char *)name, NULL};
	struct gofer_attr a;
	uint64_t node;
	struct gofer_req q = {.type = GOFER_WALK, .dir = GI(dir)->node, .names = names,
			      .nnames = 1};
	struct gofer_reply r;
	int e;

	if (gofer_check_name(name) < 0)
		return name[0] && strlen(name) > GOFER_NAME_MAX ? -ENAMETOOLONG : -ENOENT;
	if (take_listed(dir, name, &node, &a))
		return gfs_inode_new(dir->sb, node, &a, out);
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	if (r.nwalk == 0) {
		gofer_reply_free(&r);
		return -ENOENT;
	}
	e = gfs_inode_new(dir->sb, r.walk_nodes[0], &r.walk_attrs[0], out);
	gofer_reply_free(&r);
	return e;
}

/* The group of a new file: a setgid directory's own, else the creator's. */
static uint32_t new_gid(struct inode *dir, const struct creds *c)
{
	struct vfs_attr a;
	if ((dir->mode & S_ISGID) && gfs_getattr(dir, &a) == 0)
		return a.gid;
	return c->fsgid;
}

/* After a call that made a name: the directory's new attributes, the
 * listing forgotten, the new inode made. */
static int made(struct inode *dir, struct gofer_reply *r, struct inode **out)
{
	int e;

	gfs_set_attr(dir, &r->dir_attr);
	gfs_invalidate(dir);
	e = gfs_inode_new(dir->sb, r->node, &r->attr, out);
	gofer_reply_free(r);
	return e;
}

static int gfs_create(struct inode *dir, const char *name, uint32_t mode,
		      const struct creds *c, struct inode **out)
{
	struct gofer_req q = {.type = GOFER_CREATE, .dir = GI(dir)->node, .name = (char *)name,
			      .flags = O_RDWR, .mode = mode & 07777, .uid = c->fsuid,
			      .gid = new_gid(dir, c)};
	struct gofer_reply r;
	int fd, e;

	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	fd = r.fd;
	e = made(dir, &r, out);
	if (e < 0) {
		close(fd);
		return e;
	}
	/* The first open will use this fd: no Open round trip. */
	gfs_file_adopt_fd(*out, fd);
	return 0;
}

static int gfs_mkdir(struct inode *dir, const char *name, uint32_t mode,
		     const struct creds *c, struct inode **out)
{
	struct gofer_req q = {.type = GOFER_MKDIR, .dir = GI(dir)->node, .name = (char *)name,
			      .mode = (mode & 07777) | (dir->mode & S_ISGID),
			      .uid = c->fsuid, .gid = new_gid(dir, c)};
	struct gofer_reply r;
	int e;

	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	return e < 0 ? e : made(dir, &r, out);
}

static int gfs_mknod(struct inode *dir, const char *name, uint32_t mode, uint64_t rdev,
		     const struct creds *c, struct inode **out)
{
	struct gofer_req q = {.type = GOFER_MKNOD, .dir = GI(dir)->node, .name = (char *)name,
			      .mode = mode & (S_IFMT | 07777), .uid = c->fsuid,
			      .gid = new_gid(dir, c)};
	struct gofer_reply r;
	int e;

	/* Host devices and sockets are never made through the gofer. */
	if (!S_ISFIFO(mode) && !S_ISREG(mode))
		return -EPERM;
	(void)rdev;
	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	return e < 0 ? e : made(dir, &r, out);
}

static int gfs_symlink(struct inode *dir, const char *name, const char *target,
		       const struct creds *c, struct inode **out)
{
	struct gofer_req q = {.type = GOFER_SYMLINK, .dir = GI(dir)->node, .name = (char *)name,
			      .target = (char *)target, .uid = c->fsuid, .gid = new_gid(dir, c)};
	struct gofer_reply r;
	int e;

	if (strlen(target) >= GOFER_PATH_MAX)
		return -ENAMETOOLONG;
	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	e = made(dir, &r, out);
	if (e == 0)
		GI(*out)->link = strdup(target); /* NULL: read when asked */
	return e;
}

static int gfs_link(struct inode *dir, const char *name, struct inode *target)
{
	struct gofer_req q = {.type = GOFER_LINK, .node = GI(target)->node,
			      .dir = GI(dir)->node, .name = (char *)name};
	struct gofer_reply r;
	int e;

	if (target->sb != dir->sb)
		return -EXDEV;
	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	/* The VFS gives the new name the target's inode: the gofer's second
	 * node for the same file is not needed. */
	gfs_close_node(r.node);
	gfs_set_attr(target, &r.attr);
	gfs_set_attr(dir, &r.dir_attr);
	gfs_invalidate(dir);
	gofer_reply_free(&r);
	return 0;
}

/* The victim of an unlink or rmdir: one link fewer. */
static void unlinked(struct inode *victim, bool dir)
{
	struct gofer_inode *gi = GI(victim);

	pthread_mutex_lock(&gi->lock);
	if (dir)
		gi->attr.nlink = 0;
	else if (gi->attr.nlink)
		gi->attr.nlink--;
	gfs_now(&gi->attr.ctime_sec, &gi->attr.ctime_nsec);
	pthread_mutex_unlock(&gi->lock);
}

static int remove_name(struct inode *dir, const char *name, struct inode *victim, bool isdir)
{
	struct gofer_req q = {.type = GOFER_UNLINK, .dir = GI(dir)->node, .name = (char *)name,
			      .flags = isdir ? AT_REMOVEDIR : 0};
	struct gofer_reply r;
	int e;

	if (dir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	gfs_set_attr(dir, &r.dir_attr);
	gfs_invalidate(dir);
	gofer_reply_free(&r);
	if (victim)
		unlinked(victim, isdir);
	return 0;
}

static int gfs_unlink(struct inode *dir, const char *name, struct inode *victim)
{
	return remove_name(dir, name, victim, false);
}

static int gfs_rmdir(struct inode *dir, const char *name, struct inode *victim)
{
	return remove_name(dir, name, victim, true);
}

static int gfs_rename(struct inode *odir, const char *oname, struct inode *ndir,
		      const char *nname, unsigned flags)
{
	struct gofer_req q = {.type = GOFER_RENAME, .dir = GI(odir)->node,
			      .name = (char *)oname, .dir2 = GI(ndir)->node,
			      .name2 = (char *)nname, .flags = flags};
	struct gofer_reply r;
	int e;

	if (ndir->sb != odir->sb)
		return -EXDEV;
	if (odir->sb->flags & SB_RDONLY)
		return -EROFS;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	gfs_set_attr(odir, &r.dir_attr);
	gfs_set_attr(ndir, &r.dir2_attr);
	gfs_invalidate(odir);
	if (ndir != odir)
		gfs_invalidate(ndir);
	gofer_reply_free(&r);
	return 0;
}

/* ---- readdir ---- */

/* The listing to iterate: the cached one, or a new fetch; referenced. */
static int get_listing(struct inode *dir, struct gfs_listing **out)
{
	struct gofer_inode *gi = GI(dir);
	struct gfs_listing *l;
	int e = 0;

	pthread_mutex_lock(&gi->lock);
	if (!gi->listing) {
		/* Fetched unlocked; of two racing fetches the first stays. */
		pthread_mutex_unlock(&gi->lock);
		e = gfs_listing_fetch(dir, &l);
		if (e < 0)
			return e;
		pthread_mutex_lock(&gi->lock);
		if (!gi->listing) {
			gi->listing = l;
			l = NULL;
		}
	} else {
		l = NULL;
	}
	atomic_fetch_add(&gi->listing->refs, 1);
	*out = gi->listing;
	pthread_mutex_unlock(&gi->lock);
	/* The loser of a race, put unlocked: it may send Closes. */
	gfs_listing_put(l);
	return e;
}

static int gfs_iterate(struct file *f, int64_t *pos, vfs_emit_fn emit, void *ctx)
{
	struct inode *dir = f->inode;
	struct gfs_listing *l = f->priv;
	int e;

	/* A listing per open directory, new again after a rewind. */
	if (!l || *pos == 0) {
		e = get_listing(dir, &l);
		if (e < 0)
			return e;
		gfs_listing_put(f->priv);
		f->priv = l;
	}
	if (*pos == 0) {
		if (emit(ctx, ".", 1, dir->ino, DT_DIR, 1))
			return 0;
		*pos = 1;
	}
	if (*pos == 1) {
		struct dentry *d = f->path.dentry;
		uint64_t ino = d && d->parent && d->parent->inode ? d->parent->inode->ino : dir->ino;
		if (emit(ctx, "..", 2, ino, DT_DIR, 2))
			return 0;
		*pos = 2;
	}
	for (; *pos >= 2 && (uint64_t)(*pos - 2) < l->n; ++*pos) {
		const struct gfs_dent *d = &l->e[*pos - 2];
		if (emit(ctx, d->name, strlen(d->name), d->ino, d->type, *pos + 1))
			break;
	}
	return 0;
}

static int64_t gfs_dir_llseek(struct file *f, int64_t off, int whence)
{
	if (whence == SEEK_SET && off >= 0)
		return off;
	if (whence == SEEK_CUR && f->pos + off >= 0)
		return f->pos + off;
	return -EINVAL;
}

static int gfs_dir_fsync(struct file *f, bool datasync)
{
	struct gofer_req q = {.type = GOFER_FSYNC, .node = GI(f->inode)->node,
			      .flags = datasync};
	struct gofer_reply r;
	int e = gfs_rpc(&q, &r);

	if (e == 0)
		gofer_reply_free(&r);
	return e;
}

static void gfs_dir_release(struct file *f)
{
	gfs_listing_put(f->priv);
}

static int gfs_dir_open(struct inode *in, struct file *f)
{
	(void)in;
	f->ops = &gfs_dir_fops;
	f->priv = NULL;
	return 0;
}

const struct file_ops gfs_dir_fops = {
	.iterate = gfs_iterate,
	.llseek = gfs_dir_llseek,
	.fsync = gfs_dir_fsync,
	.release = gfs_dir_release,
};

const struct inode_ops gfs_dir_iops = {
	.lookup = gfs_lookup,
	.create = gfs_create,
	.mkdir = gfs_mkdir,
	.mknod = gfs_mknod,
	.symlink = gfs_symlink,
	.link = gfs_link,
	.unlink = gfs_unlink,
	.rmdir = gfs_rmdir,
	.rename = gfs_rename,
	.getattr = gfs_getattr,
	.setattr = gfs_setattr,
	.open = gfs_dir_open,
	.getxattr = gfs_getxattr,
	.setxattr = gfs_setxattr,
	.listxattr = gfs_listxattr,
	.removexattr = gfs_removexattr,
	.release = gfs_release,
};
