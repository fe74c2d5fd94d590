/* The overlay filesystem: a read-only lower tree (the host files, through
 * the gofer) under a writable upper tmpfs, so writes to the sandbox's
 * root stay in sentry memory (security invariant 5). */
#ifndef RC_SENTRY_FS_OVERLAY_H
#define RC_SENTRY_FS_OVERLAY_H

struct superblock;
struct inode;

#define OVERLAYFS_MAGIC 0x794c7630

/* Builds an overlay of lower_root under upper_root (an empty tmpfs
 * directory). Takes no references from the caller; *root is new. */
struct superblock *overlay_new(struct inode *lower_root, struct inode *upper_root,
			       struct inode **root);

#endif
