/* The mounts every sandbox has: /proc, /dev, /dev/shm and /sys. */
#ifndef RC_SENTRY_FS_STANDARD_MOUNTS_H
#define RC_SENTRY_FS_STANDARD_MOUNTS_H

/* Mounts procfs at /proc, a tmpfs filled by devfs_populate at /dev, a
 * tmpfs at /dev/shm (mode 1777) and sysfs at /sys, creating the mount
 * points as needed. Called once the root is mounted. 0 or -errno, with
 * a message logged. */
int fs_mount_standard(void);

#endif
