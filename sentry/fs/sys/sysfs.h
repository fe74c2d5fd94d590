/* sysfs: the few /sys files programs read to size themselves (CPUs,
 * transparent huge pages), generated from host facts. */
#ifndef RC_SENTRY_FS_SYS_SYSFS_H
#define RC_SENTRY_FS_SYS_SYSFS_H

struct superblock;
struct inode;

#define SYSFS_MAGIC 0x62656572

/* A new sysfs; *root gets its root directory. NULL when out of memory. */
struct superblock *sysfs_new(struct inode **root);

#endif
