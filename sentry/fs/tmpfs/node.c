/* tmpfs nodes: creation, attributes, extended attributes, release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "sentry/fs/tmpfs/tmpfs_internal.h"
#include "sentry/kernel/creds.h"

#define XATTR_SIZE_MAX 65536
#define XATTR_NAME_MAX 255

void tmpfs_now(struct k_timespec *ts)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ts->tv_sec = now.tv_sec;
	ts->tv_nsec = now.tv_nsec;
}

static int tmpfs_statfs(struct superblock *sb, struct k_statfs *st)
{
	struct tmpfs_sb *s = sb->priv;
	uint64_t total;

	pthread_mutex_lock(&s->lock);
	total = s->size_limit ? s->size_limit : (uint64_t)sysconf(_SC_PHYS_PAGES) * 4096 / 2;
	memset(st, 0, sizeof(*st));
	st->f_type = TMPFS_MAGIC;
	st->f_bsize = st->f_frsize = 4096;
	st->f_blocks = total / 4096;
	st->f_bfree = st->f_bavail = s->used < total ? (total - s->used) / 4096 : 0;
	st->f_files = 1 << 20;
	st->f_ffree = s->inodes < st->f_files ? st->f_files - s->inodes : 0;
	st->f_namelen = VFS_NAME_MAX;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void tmpfs_sb_release(struct superblock *sb)
{
	struct tmpfs_sb *s = sb->priv;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct super_ops tmpfs_super_ops = {
	.statfs = tmpfs_statfs,
	.release = tmpfs_sb_release,
};

struct inode *tmpfs_new_inode(struct superblock *sb, uint32_t mode, const struct creds *c)
{
	struct tmpfs_sb *s = sb->priv;
	struct tmpfs_node *n = calloc(1, sizeof(*n));
	const struct inode_ops *ops;
	struct inode *in;

	if (!n)
		return NULL;
	n->memfd = -1;
	n->uid = c ? c->fsuid : 0;
	n->gid = c ? c->fsgid : 0;
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	n->next_serial = 2; /* 0 and 1 are "." and ".." */
	tmpfs_now(&n->btime);
	n->atime = n->mtime = n->ctime = n->btime;
	switch (mode & S_IFMT) {
	case S_IFDIR: ops = &tmpfs_dir_ops; break;
	case S_IFREG: ops = &tmpfs_file_iops; break;
	case S_IFLNK: ops = &tmpfs_symlink_ops; break;
	default: ops = &tmpfs_special_ops; break;
	}
	in = inode_new(sb, ops, atomic_fetch_add(&s->next_ino, 1), mode, n);
	if (!in) {
		free(n);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	s->inodes++;
	pthread_mutex_unlock(&s->lock);
	return in;
}

struct superblock *tmpfs_new(uint64_t size_limit, uint32_t mode, const struct creds *c,
			     struct inode **root)
{
	struct tmpfs_sb *s = calloc(1, sizeof(*s));
	struct superblock *sb;

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->next_ino, 1);
	s->size_limit = size_limit;
	sb = sb_new("tmpfs", TMPFS_MAGIC, &tmpfs_super_ops, s);
	if (!sb) {
		free(s);
		return NULL;
	}
	*root = tmpfs_new_inode(sb, S_IFDIR | (mode & 07777), c);
	if (!*root) {
		sb_put(sb);
		return NULL;
	}
	TN(*root)->parent = *root;
	return sb;
}

bool tmpfs_is_whiteout(struct inode *in)
{
	return in->sb->magic == TMPFS_MAGIC && S_ISCHR(in->mode) && TN(in)->rdev == 0;
}

int tmpfs_getattr(struct inode *in, struct vfs_attr *a)
{
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);

	pthread_mutex_lock(&s->lock);
	a->mode = in->mode;
	a->uid = n->uid;
	a->gid = n->gid;
	a->nlink = n->nlink;
	a->rdev = n->rdev;
	a->atime = n->atime;
	a->mtime = n->mtime;
	a->ctime = n->ctime;
	a->btime = n->btime;
	if (S_ISREG(in->mode))
		a->size = n->size;
	else if (S_ISLNK(in->mode))
		a->size = (int64_t)strlen(n->target);
	else if (S_ISDIR(in->mode))
		a->size = 4096;
	a->blocks = (a->size + 511) / 512;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int tmpfs_truncate_locked(struct inode *in, int64_t size)
{
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);

	if (size < 0)
		return -EINVAL;
	if (size == n->size)
		return 0;
	if (size > n->size && s->size_limit && s->used + (uint64_t)(size - n->size) > s->size_limit)
		return -ENOSPC;
	if (n->memfd < 0) {
		n->memfd = memfd_create("tmpfs", MFD_CLOEXEC);
		if (n->memfd < 0)
			return -errno;
	}
	if (ftruncate(n->memfd, size) < 0)
		return -errno;
	s->used = s->used + (uint64_t)size - (uint64_t)n->size;
	n->size = size;
	return 0;
}

int tmpfs_setattr(struct inode *in, const struct vfs_setattr *sa)
{
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (sa->mask & VFS_ATTR_SIZE) {
		if (S_ISDIR(in->mode)) {
			r = -EISDIR;
			goto out;
		}
		if (!S_ISREG(in->mode)) {
			r = -EINVAL;
			goto out;
		}
		r = tmpfs_truncate_locked(in, sa->size);
		if (r < 0)
			goto out;
		tmpfs_now(&n->mtime);
		n->ctime = n->mtime;
	}
	if (sa->mask & VFS_ATTR_MODE)
		in->mode = (in->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->mask & VFS_ATTR_UID)
		n->uid = sa->uid;
	if (sa->mask & VFS_ATTR_GID)
		n->gid = sa->gid;
	if (sa->mask & VFS_ATTR_ATIME)
		n->atime = sa->atime;
	if (sa->mask & VFS_ATTR_MTIME)
		n->mtime = sa->mtime;
	if (sa->mask & VFS_ATTR_CTIME)
		n->ctime = sa->ctime;
	else if (sa->mask & (VFS_ATTR_MODE | VFS_ATTR_UID | VFS_ATTR_GID))
		tmpfs_now(&n->ctime);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* tmpfs keeps trusted.*, security.* and user.* attributes; user.* only
 * on regular files and directories, where other files read as having
 * none and refuse writes (Linux's xattr_permission); a bare prefix is
 * EINVAL (xattr_resolve_name). */
static int xattr_allowed(struct inode *in, const char *name, bool write)
{
	static const char *const prefixes[] = {"trusted.", "security.", "user."};
	size_t n = strlen(name);

	if (n == 0 || n > XATTR_NAME_MAX)
		return -ERANGE;
	if (!strncmp(name, "user.", 5) && !S_ISREG(in->mode) && !S_ISDIR(in->mode))
		return write ? -EPERM : -ENODATA;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t p = strlen(prefixes[i]);
		if (!strncmp(name, prefixes[i], p))
			return name[p] ? 0 : -EINVAL;
	}
	return -EOPNOTSUPP;
}

ssize_t tmpfs_getxattr(struct inode *in, const char *name, void *buf, size_t len)
{
	struct tmpfs_sb *s = TSB(in);
	ssize_t r = xattr_allowed(in, name, false);

	if (r < 0)
		return r;
	pthread_mutex_lock(&s->lock);
	r = -ENODATA;
	for (struct tmpfs_xattr *x = TN(in)->xattrs; x; x = x->next) {
		if (strcmp(x->name, name))
			continue;
		if (len && len < x->len)
			r = -ERANGE;
		else {
			if (len)
				memcpy(buf, x->value, x->len);
			r = (ssize_t)x->len;
		}
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int tmpfs_setxattr(struct inode *in, const char *name, const void *val, size_t len,
		   int flags)
{
	struct tmpfs_sb *s = TSB(in);
	struct tmpfs_xattr *x, **pp;
	void *copy;
	int r = xattr_allowed(in, name, true);

	if (r < 0)
		return r;
	if (len > XATTR_SIZE_MAX)
		return -E2BIG;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, val, len);
	pthread_mutex_lock(&s->lock);
	for (pp = &TN(in)->xattrs; *pp && strcmp((*pp)->name, name); pp = &(*pp)->next)
		;
	if (*pp) {
		if (flags & XATTR_CREATE) {
			r = -EEXIST;
			goto fail;
		}
		free((*pp)->value);
		(*pp)->value = copy;
		(*pp)->len = len;
	} else {
		if (flags & XATTR_REPLACE) {
			r = -ENODATA;
			goto fail;
		}
		x = calloc(1, sizeof(*x));
		if (!x || !(x->name = strdup(name))) {
			free(x);
			r = -ENOMEM;
			goto fail;
		}
		x->value = copy;
		x->len = len;
		*pp = x;
	}
	tmpfs_now(&TN(in)->ctime);
	pthread_mutex_unlock(&s->lock);
	return 0;
fail:
	pthread_mutex_unlock(&s->lock);
	free(copy);
	return r;
}

ssize_t tmpfs_listxattr(struct inode *in, char *buf, size_t len)
{
	struct tmpfs_sb *s = TSB(in);
	size_t need = 0;
	ssize_t r;

	pthread_mutex_lock(&s->lock);
	for (struct tmpfs_xattr *x = TN(in)->xattrs; x; x = x->next)
		need += strlen(x->name) + 1;
	if (len && len < need) {
		r = -ERANGE;
	} else {
		size_t at = 0;
		if (len)
			for (struct tmpfs_xattr *x = TN(in)->xattrs; x; x = x->next) {
				size_t n = strlen(x->name) + 1;
				memcpy(buf + at, x->name, n);
				at += n;
			}
		r = (ssize_t)need;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int tmpfs_removexattr(struct inode *in, const char *name)
{
	struct tmpfs_sb *s = TSB(in);
	int r = xattr_allowed(in, name, true);

	if (r < 0)
		return r;
	pthread_mutex_lock(&s->lock);
	r = -ENODATA;
	for (struct tmpfs_xattr **pp = &TN(in)->xattrs; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->name, name)) {
			struct tmpfs_xattr *x = *pp;
			*pp = x->next;
			free(x->name);
			free(x->value);
			free(x);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void tmpfs_release(struct inode *in)
{
	struct tmpfs_node *n = TN(in);
	struct tmpfs_sb *s = TSB(in);

	pthread_mutex_lock(&s->lock);
	s->inodes--;
	if (S_ISREG(in->mode))
		s->used -= (uint64_t)n->size;
	pthread_mutex_unlock(&s->lock);
	if (n->memfd >= 0)
		close(n->memfd);
	for (struct tmpfs_dirent *e = n->entries, *next; e; e = next) {
		next = e->next;
		inode_put(e->inode);
		free(e->name);
		free(e);
	}
	while (n->xattrs) {
		struct tmpfs_xattr *x = n->xattrs;
		n->xattrs = x->next;
		free(x->name);
		free(x->value);
		free(x);
	}
	free(n->target);
	free(n);
}
