/* Overlay inodes: which layer answers, attributes, xattrs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/overlay/overlay_internal.h"
#include "sentry/fs/tmpfs/tmpfs.h"

struct inode *ovl_real(struct inode *in)
{
	struct ovl_node *n = ON(in);
	struct inode *r;

	pthread_mutex_lock(&n->lock);
	r = n->upper ? n->upper : n->lower;
	inode_get(r);
	pthread_mutex_unlock(&n->lock);
	return r;
}

bool ovl_is_whiteout(struct inode *in) { return tmpfs_is_whiteout(in); }

static const struct inode_ops *ops_for(uint32_t mode)
{
	if (S_ISDIR(mode))
		return &ovl_dir_ops;
	if (S_ISLNK(mode))
		return &ovl_link_ops;
	return &ovl_file_ops;
}

struct inode *ovl_inode_new(struct superblock *sb, struct inode *upper, struct inode *lower,
			    struct inode *parent, const char *name)
{
	struct ovl_node *n = calloc(1, sizeof(*n));
	struct inode *real = upper ? upper : lower, *in;
	uint64_t ino;

	if (!n || (name && !(n->name = strdup(name)))) {
		free(n);
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	if (upper)
		inode_get(upper);
	if (lower)
		inode_get(lower);
	if (parent)
		inode_get(parent);
	n->upper = upper;
	n->lower = lower;
	n->parent = parent;
	/* Keep the lower inode number across a copy-up, as overlayfs does. */
	ino = lower ? lower->ino : (upper->ino | OVL_UPPER_INO_BIT);
	in = inode_new(sb, ops_for(real->mode), ino, real->mode, n);
	if (!in) {
		inode_put(upper);
		inode_put(lower);
		inode_put(parent);
		free(n->name);
		free(n);
	}
	return in;
}

void ovl_release(struct inode *in)
{
	struct ovl_node *n = ON(in);
	inode_put(n->upper);
	inode_put(n->lower);
	inode_put(n->parent);
	free(n->name);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

int ovl_getattr(struct inode *in, struct vfs_attr *a)
{
	struct ovl_node *n = ON(in);
	struct inode *real = ovl_real(in);
	int r = inode_getattr(real, a);
	bool merged;

	inode_put(real);
	a->dev = in->sb->dev;
	a->ino = in->ino;
	/* A merged directory's subdirectories are not counted, as in
	 * overlayfs: nlink 1 tells find and friends not to rely on it. */
	pthread_mutex_lock(&n->lock);
	merged = S_ISDIR(in->mode) && n->upper && n->lower && !n->opaque;
	pthread_mutex_unlock(&n->lock);
	if (r == 0 && merged)
		a->nlink = 1;
	return r;
}

int ovl_setattr(struct inode *in, const struct vfs_setattr *sa)
{
	struct inode *up;
	int r = ovl_copy_up(in);

	if (r < 0)
		return r;
	up = ovl_real(in);
	r = up->ops->setattr ? up->ops->setattr(up, sa) : -EPERM;
	if (r == 0 && (sa->mask & VFS_ATTR_MODE))
		in->mode = (in->mode & S_IFMT) | (sa->mode & 07777);
	inode_put(up);
	return r;
}

/* Our own bookkeeping attributes are never the application's. */
static bool private_xattr(const char *name)
{
	return !strncmp(name, "trusted.overlay.", 16);
}

ssize_t ovl_getxattr(struct inode *in, const char *name, void *buf, size_t len)
{
	struct inode *real;
	ssize_t r;

	if (private_xattr(name))
		return -ENODATA;
	real = ovl_real(in);
	r = real->ops->getxattr ? real->ops->getxattr(real, name, buf, len) : -EOPNOTSUPP;
	inode_put(real);
	return r;
}

int ovl_setxattr(struct inode *in, const char *name, const void *val, size_t len, int flags)
{
	struct inode *up;
	int r;

	if (private_xattr(name))
		return -EPERM;
	r = ovl_copy_up(in);
	if (r < 0)
		return r;
	up = ovl_real(in);
	r = up->ops->setxattr ? up->ops->setxattr(up, name, val, len, flags) : -EOPNOTSUPP;
	inode_put(up);
	return r;
}

ssize_t ovl_listxattr(struct inode *in, char *buf, size_t len)
{
	struct inode *real = ovl_real(in);
	char *all = NULL;
	ssize_t n, out = 0;

	if (!real->ops->listxattr) {
		inode_put(real);
		return 0;
	}
	n = real->ops->listxattr(real, NULL, 0);
	if (n > 0 && (all = malloc((size_t)n)))
		n = real->ops->listxattr(real, all, (size_t)n);
	else if (n > 0)
		n = -ENOMEM;
	inode_put(real);
	if (n <= 0) {
		free(all);
		return n;
	}
	/* Filter out the private names. */
	for (ssize_t i = 0; i < n;) {
		size_t l = strlen(all + i) + 1;
		if (!private_xattr(all + i)) {
			if (len && (size_t)out + l > len) {
				free(all);
				return -ERANGE;
			}
			if (len)
				memcpy(buf + out, all + i, l);
			out += (ssize_t)l;
		}
		i += (ssize_t)l;
	}
	free(all);
	return out;
}

int ovl_removexattr(struct inode *in, const char *name)
{
	struct inode *up;
	int r;

	if (private_xattr(name))
		return -ENODATA;
	r = ovl_copy_up(in);
	if (r < 0)
		return r;
	up = ovl_real(in);
	r = up->ops->removexattr ? up->ops->removexattr(up, name) : -EOPNOTSUPP;
	inode_put(up);
	return r;
}

static ssize_t ovl_readlink(struct inode *in, char *buf, size_t len)
{
	struct inode *real = ovl_real(in);
	ssize_t r = real->ops->readlink ? real->ops->readlink(real, buf, len) : -EINVAL;
	inode_put(real);
	return r;
}

const struct inode_ops ovl_link_ops = {
	.readlink = ovl_readlink,
	.renamed = ovl_renamed,
	.getattr = ovl_getattr,
	.setattr = ovl_setattr,
	.getxattr = ovl_getxattr,
	.setxattr = ovl_setxattr,
	.listxattr = ovl_listxattr,
	.removexattr = ovl_removexattr,
	.release = ovl_release,
};

const struct inode_ops ovl_file_ops = {
	.renamed = ovl_renamed,
	.getattr = ovl_getattr,
	.setattr = ovl_setattr,
	.open = ovl_file_open,
	.getxattr = ovl_getxattr,
	.setxattr = ovl_setxattr,
	.listxattr = ovl_listxattr,
	.removexattr = ovl_removexattr,
	.release = ovl_release,
};
