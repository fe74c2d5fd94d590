/* Host attributes: statx of node fds, and which filesystems are never
 * served. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "gofer/gofer.h"

static int attr_statx(int dirfd, const char *name, int flags, struct gofer_attr *a)
{
	struct statx sx;

	if (statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
		  STATX_BASIC_STATS | STATX_BTIME, &sx) < 0)
		return -errno;
	memset(a, 0, sizeof(*a));
	a->mode = sx.stx_mode;
	a->nlink = sx.stx_nlink;
	a->uid = sx.stx_uid;
	a->gid = sx.stx_gid;
	a->blksize = sx.stx_blksize;
	a->ino = sx.stx_ino;
	a->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	a->rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
	a->size = sx.stx_size;
	a->blocks = sx.stx_blocks;
	a->atime_sec = sx.stx_atime.tv_sec;
	a->atime_nsec = sx.stx_atime.tv_nsec;
	a->mtime_sec = sx.stx_mtime.tv_sec;
	a->mtime_nsec = sx.stx_mtime.tv_nsec;
	a->ctime_sec = sx.stx_ctime.tv_sec;
	a->ctime_nsec = sx.stx_ctime.tv_nsec;
	if (sx.stx_mask & STATX_BTIME) {
		a->btime_sec = sx.stx_btime.tv_sec;
		a->btime_nsec = sx.stx_btime.tv_nsec;
	}
	/* Keep what the host reports within what the protocol accepts. */
	if (a->size > INT64_MAX)
		a->size = INT64_MAX;
	if (a->blocks > INT64_MAX)
		a->blocks = INT64_MAX;
	return gofer_valid_mode(a->mode) ? 0 : -EIO;
}

int attr_fd(int fd, struct gofer_attr *a)
{
	return attr_statx(fd, "", AT_EMPTY_PATH, a);
}

int attr_at(int dirfd, const char *name, struct gofer_attr *a)
{
	/* One checked component: never "..", never a path, so nothing
	 * outside dirfd; no automount is triggered. */
	if (gofer_check_name(name) < 0)
		return -EINVAL;
	return attr_statx(dirfd, name, AT_NO_AUTOMOUNT, a);
}

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef EFIVARFS_MAGIC
#define EFIVARFS_MAGIC 0xde5e81e4
#endif
#define CONFIGFS_MAGIC 0x62656570
#define FUSECTL_MAGIC 0x65735543
#define BINFMTFS_MAGIC_ 0x42494e4d
#define PSTORE_MAGIC 0x6165676c
#define SELINUX_MAGIC_ 0xf97cff8c

bool attr_pseudo_fs(int fd)
{
	struct statfs st;

	if (fstatfs(fd, &st) < 0)
		return true; /* unknown: refuse rather than serve */
	switch ((unsigned long)st.f_type) {
	case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC: case SECURITYFS_MAGIC: case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC: case BPF_FS_MAGIC: case CONFIGFS_MAGIC:
	case EFIVARFS_MAGIC: case PSTORE_MAGIC: case FUSECTL_MAGIC:
	case BINFMTFS_MAGIC_: case SELINUX_MAGIC_: case DEVPTS_SUPER_MAGIC:
		return true;
	default:
		return false;
	}
}
