/* procfs: the process and system information files programs read, all
 * generated from sentry state (the sentry cannot open host files). */
#ifndef RC_SENTRY_FS_PROC_PROCFS_H
#define RC_SENTRY_FS_PROC_PROCFS_H

struct superblock;
struct inode;

#define PROC_SUPER_MAGIC 0x9fa0

/* A new procfs; *root gets its root directory. NULL when out of memory. */
struct superblock *procfs_new(struct inode **root);

#endif
