/* The overlay filesystem's internals (the default root: the host tree,
 * read through the gofer, under a tmpfs that takes every write). The
 * rules are Linux overlayfs's: an upper entry hides the lower one, a
 * whiteout (a 0:0 character device in the upper layer) hides a deleted
 * lower name, an opaque upper directory hides the whole lower directory,
 * and anything changed is first copied up. */
#ifndef RC_SENTRY_FS_OVERLAY_INTERNAL_H
#define RC_SENTRY_FS_OVERLAY_INTERNAL_H

#include <pthread.h>

#include "sentry/fs/overlay/overlay.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define OVL_OPAQUE_XATTR "trusted.overlay.opaque"
/* Upper-only inode numbers get this bit, so they never equal a lower
 * (host) inode number in the overlay's st_dev. */
#define OVL_UPPER_INO_BIT (1ULL << 62)

struct ovl_node {
	pthread_mutex_t lock;   /* upper, name, parent */
	struct inode *upper;    /* referenced, or NULL */
	struct inode *lower;    /* referenced, or NULL */
	struct inode *parent;   /* the overlay parent, referenced (root: NULL) */
	char *name;             /* the name in parent, for copy-up */
	bool opaque;            /* an upper directory that hides the lower one */
};

struct ovl_sb {
	struct superblock *upper_sb, *lower_sb;
};

extern const struct inode_ops ovl_dir_ops, ovl_file_ops, ovl_link_ops;
extern const struct file_ops ovl_dir_fops, ovl_reg_fops;

static inline struct ovl_node *ON(struct inode *in) { return in->priv; }

/* The layer that answers for in now: upper if there is one. Referenced. */
struct inode *ovl_real(struct inode *in);
/* A new overlay inode over upper/lower (references taken). */
struct inode *ovl_inode_new(struct superblock *sb, struct inode *upper, struct inode *lower,
			    struct inode *parent, const char *name);
/* Makes sure in has an upper copy (copying up its parents first). */
int ovl_copy_up(struct inode *in);
/* Whether an upper inode is a whiteout. */
bool ovl_is_whiteout(struct inode *in);
/* Opens a real inode on its own for internal reading or writing. */
int ovl_open_real(struct inode *real, int flags, struct file **out);

int ovl_getattr(struct inode *in, struct vfs_attr *a);
int ovl_setattr(struct inode *in, const struct vfs_setattr *sa);
ssize_t ovl_getxattr(struct inode *in, const char *name, void *buf, size_t len);
int ovl_setxattr(struct inode *in, const char *name, const void *val, size_t len, int flags);
ssize_t ovl_listxattr(struct inode *in, char *buf, size_t len);
int ovl_removexattr(struct inode *in, const char *name);
void ovl_release(struct inode *in);
int ovl_file_open(struct inode *in, struct file *f);
void ovl_renamed(struct inode *in, struct inode *newdir, const char *newname);

#endif
