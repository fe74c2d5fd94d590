/* Gofer inodes: made from a node and the attributes that came with it,
 * which stay cached (stat and permission checks cost no round trip);
 * setattr goes to the host and caches what the host then reports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sentry/fs/gofer/gofer_internal.h"

void gfs_now(int64_t *sec, uint32_t *nsec)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}

int gfs_inode_new(struct superblock *sb, uint64_t node, const struct gofer_attr *a,
		  struct inode **out)
{
	struct gofer_inode *gi = calloc(1, sizeof(*gi));
	const struct inode_ops *ops;
	struct inode *in;

	if (!gi) {
		gfs_close_node(node);
		return -ENOMEM;
	}
	switch (a->mode & S_IFMT) {
	case S_IFDIR: ops = &gfs_dir_iops; break;
	case S_IFREG: ops = &gfs_file_iops; break;
	case S_IFLNK: ops = &gfs_symlink_iops; break;
	default: ops = &gfs_special_iops; break;
	}
	gi->node = node;
	gi->attr = *a;
	atomic_init(&gi->rofd, -1);
	atomic_init(&gi->wfd, -1);
	pthread_mutex_init(&gi->lock, NULL);
	in = inode_new(sb, ops, gfs_ino(sb, a->dev, a->ino), a->mode, gi);
	if (!in) {
		pthread_mutex_destroy(&gi->lock);
		free(gi);
		gfs_close_node(node);
		return -ENOMEM;
	}
	gi->inode = in;
	*out = in;
	return 0;
}

void gfs_set_attr(struct inode *in, const struct gofer_attr *a)
{
	struct gofer_inode *gi = GI(in);

	/* The type cannot change; a host that says otherwise is ignored. */
	if ((a->mode & S_IFMT) != (in->mode & S_IFMT))
		return;
	pthread_mutex_lock(&gi->lock);
	gi->attr = *a;
	in->mode = a->mode;
	pthread_mutex_unlock(&gi->lock);
}

int gfs_getattr(struct inode *in, struct vfs_attr *v)
{
	struct gofer_inode *gi = GI(in);
	const struct gofer_attr *a = &gi->attr;

	pthread_mutex_lock(&gi->lock);
	v->mode = in->mode;
	v->nlink = a->nlink;
	v->uid = a->uid;
	v->gid = a->gid;
	v->rdev = a->rdev;
	v->size = (int64_t)a->size;
	v->blocks = (int64_t)a->blocks;
	v->blksize = a->blksize ? a->blksize : 4096;
	v->atime = (struct k_timespec){a->atime_sec, a->atime_nsec};
	v->mtime = (struct k_timespec){a->mtime_sec, a->mtime_nsec};
	v->ctime = (struct k_timespec){a->ctime_sec, a->ctime_nsec};
	v->btime = (struct k_timespec){a->btime_sec, a->btime_nsec};
	pthread_mutex_unlock(&gi->lock);
	return 0;
}

int gfs_setattr(struct inode *in, const struct vfs_setattr *sa)
{
	struct gofer_req q = {.type = GOFER_SETSTAT, .node = GI(in)->node};
	struct gofer_reply r;
	int e;

	if (in->sb->flags & SB_RDONLY)
		return -EROFS;
	if (sa->mask & VFS_ATTR_SIZE) {
		if (S_ISDIR(in->mode))
			return -EISDIR;
		if (!S_ISREG(in->mode))
			return -EINVAL;
		if (sa->size < 0)
			return -EINVAL;
	}
	if (sa->mask == (VFS_ATTR_SIZE) || sa->mask == (VFS_ATTR_SIZE | VFS_ATTR_CTIME)) {
		e = gfs_file_truncate(in, sa->size);
		if (e != -EAGAIN)
			return e;
	}
	if (sa->mask & VFS_ATTR_MODE) {
		q.mask |= GOFER_SET_MODE;
		q.mode = sa->mode & 07777;
	}
	if (sa->mask & VFS_ATTR_UID) {
		q.mask |= GOFER_SET_UID;
		q.uid = sa->uid;
	}
	if (sa->mask & VFS_ATTR_GID) {
		q.mask |= GOFER_SET_GID;
		q.gid = sa->gid;
	}
	if (sa->mask & VFS_ATTR_SIZE) {
		q.mask |= GOFER_SET_SIZE;
		q.size = (uint64_t)sa->size;
	}
	if (sa->mask & VFS_ATTR_ATIME) {
		q.mask |= GOFER_SET_ATIME;
		q.atime_sec = sa->atime.tv_sec;
		q.atime_nsec = sa->atime.tv_nsec;
	}
	if (sa->mask & VFS_ATTR_MTIME) {
		q.mask |= GOFER_SET_MTIME;
		q.mtime_sec = sa->mtime.tv_sec;
		q.mtime_nsec = sa->mtime.tv_nsec;
	}
	/* ctime alone: the host sets its own on every change. */
	if (!q.mask)
		return 0;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	gfs_set_attr(in, &r.attr);
	gofer_reply_free(&r);
	return 0;
}

/* Extended attributes are not served yet. */
ssize_t gfs_getxattr(struct inode *in, const char *name, void *buf, size_t len)
{
	(void)in; (void)name; (void)buf; (void)len;
	return -EOPNOTSUPP;
}

int gfs_setxattr(struct inode *in, const char *name, const void *val, size_t len, int flags)
{
	(void)in; (void)name; (void)val; (void)len; (void)flags;
	return -EOPNOTSUPP;
}

ssize_t gfs_listxattr(struct inode *in, char *buf, size_t len)
{
	(void)in; (void)buf; (void)len;
	return 0; /* no attributes: an empty list */
}

int gfs_removexattr(struct inode *in, const char *name)
{
	(void)in; (void)name;
	return -EOPNOTSUPP;
}

void gfs_release(struct inode *in)
{
	struct gofer_inode *gi = GI(in);

	if (S_ISREG(in->mode))
		gfs_file_forget(in);
	if (gi->listing)
		gfs_listing_put(gi->listing);
	gfs_close_node(gi->node);
	free(gi->link);
	pthread_mutex_destroy(&gi->lock);
	free(gi);
}

/* Symlinks: the target is read once and kept. */
static ssize_t gfs_readlink(struct inode *in, char *buf, size_t len)
{
	struct gofer_inode *gi = GI(in);
	struct gofer_req q = {.type = GOFER_READLINK, .node = gi->node};
	struct gofer_reply r;
	size_t n;
	int e;

	pthread_mutex_lock(&gi->lock);
	if (!gi->link) {
		pthread_mutex_unlock(&gi->lock);
		e = gfs_rpc(&q, &r);
		if (e < 0)
			return e;
		pthread_mutex_lock(&gi->lock);
		if (!gi->link) {
			gi->link = r.target;
			r.target = NULL;
		}
		gofer_reply_free(&r);
	}
	n = strlen(gi->link);
	if (n > len)
		n = len;
	memcpy(buf, gi->link, n);
	pthread_mutex_unlock(&gi->lock);
	return (ssize_t)n;
}

const struct inode_ops gfs_symlink_iops = {
	.readlink = gfs_readlink,
	.getattr = gfs_getattr,
	.setattr = gfs_setattr,
	.getxattr = gfs_getxattr,
	.setxattr = gfs_setxattr,
	.listxattr = gfs_listxattr,
	.removexattr = gfs_removexattr,
	.release = gfs_release,
};

/* Fifos, sockets and devices: the sentry's own pipes and devices, by
 * type and number (vfs_open_special); the host's never open. */
static int gfs_special_open(struct inode *in, struct file *f)
{
	return vfs_open_special(in, GI(in)->attr.rdev, f);
}

const struct inode_ops gfs_special_iops = {
	.getattr = gfs_getattr,
	.setattr = gfs_setattr,
	.open = gfs_special_open,
	.getxattr = gfs_getxattr,
	.setxattr = gfs_setxattr,
	.listxattr = gfs_listxattr,
	.removexattr = gfs_removexattr,
	.release = gfs_release,
};
