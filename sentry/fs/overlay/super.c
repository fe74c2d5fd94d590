#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/fs/overlay/overlay_internal.h"

static int ovl_statfs(struct superblock *sb, struct k_statfs *st)
{
	struct ovl_sb *o = sb->priv;
	int r = o->upper_sb->ops && o->upper_sb->ops->statfs
		? o->upper_sb->ops->statfs(o->upper_sb, st) : 0;
	st->f_type = OVERLAYFS_MAGIC;
	return r;
}

static void ovl_sb_release(struct superblock *sb)
{
	struct ovl_sb *o = sb->priv;
	sb_put(o->upper_sb);
	sb_put(o->lower_sb);
	free(o);
}

static const struct super_ops ovl_super_ops = {
	.statfs = ovl_statfs,
	.release = ovl_sb_release,
};

struct superblock *overlay_new(struct inode *lower_root, struct inode *upper_root,
			       struct inode **root)
{
	struct ovl_sb *o = calloc(1, sizeof(*o));
	struct superblock *sb;

	if (!o)
		return NULL;
	sb_get(upper_root->sb);
	sb_get(lower_root->sb);
	o->upper_sb = upper_root->sb;
	o->lower_sb = lower_root->sb;
	sb = sb_new("overlay", OVERLAYFS_MAGIC, &ovl_super_ops, o);
	if (!sb) {
		ovl_sb_release(&(struct superblock){.priv = o});
		return NULL;
	}
	/* The upper root starts as the lower root's copy: same mode, owner
	 * and times, as if copied up. */
	{
		struct vfs_attr a;
		if (inode_getattr(lower_root, &a) == 0 && upper_root->ops->setattr) {
			struct vfs_setattr sa = {
				.mask = VFS_ATTR_MODE | VFS_ATTR_UID | VFS_ATTR_GID |
					VFS_ATTR_ATIME | VFS_ATTR_MTIME | VFS_ATTR_CTIME,
				.mode = a.mode & 07777, .uid = a.uid, .gid = a.gid,
				.atime = a.atime, .mtime = a.mtime, .ctime = a.ctime,
			};
			upper_root->ops->setattr(upper_root, &sa);
		}
	}
	*root = ovl_inode_new(sb, upper_root, lower_root, NULL, NULL);
	if (!*root) {
		sb_put(sb);
		return NULL;
	}
	return sb;
}
