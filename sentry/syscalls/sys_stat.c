/* stat, lstat, fstat, newfstatat, statx, statfs, fstatfs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"

/* The attributes stat shows for an open fd: its inode's, or for an
 * imported host fd, the host's. */
static int fd_attr(struct task *t, int fd, struct vfs_attr *a, int *mnt_id)
{
	struct file *f = get_fd(t, fd, true);
	struct k_stat st;
	int r;

	if (!f)
		return -EBADF;
	if (f->inode) {
		r = inode_getattr(f->inode, a);
		if (mnt_id && f->path.mnt)
			*mnt_id = f->path.mnt->id;
	} else {
		r = f->ops->stat ? f->ops->stat(f, &st) : -EINVAL;
		if (r == 0) {
			memset(a, 0, sizeof(*a));
			a->dev = st.st_dev;
			a->ino = st.st_ino;
			a->nlink = (uint32_t)st.st_nlink;
			a->mode = st.st_mode;
			a->uid = st.st_uid;
			a->gid = st.st_gid;
			a->rdev = st.st_rdev;
			a->size = st.st_size;
			a->blksize = (uint32_t)st.st_blksize;
			a->blocks = st.st_blocks;
			a->atime.tv_sec = (int64_t)st.st_atime_sec;
			a->atime.tv_nsec = (int64_t)st.st_atime_nsec;
			a->mtime.tv_sec = (int64_t)st.st_mtime_sec;
			a->mtime.tv_nsec = (int64_t)st.st_mtime_nsec;
			a->ctime.tv_sec = (int64_t)st.st_ctime_sec;
			a->ctime.tv_nsec = (int64_t)st.st_ctime_nsec;
		}
	}
	file_put(f);
	return r;
}

/* stat by dirfd and path; "" with AT_EMPTY_PATH is the fd itself. */
static int attr_at(struct task *t, int dirfd, const char *path, int flags, struct vfs_attr *a,
		   int *mnt_id)
{
	if (!*path && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
		return fd_attr(t, dirfd, a, mnt_id);
	return vfs_statat(t, dirfd, path, flags, a, mnt_id);
}

static long stat_path(struct task *t, int dirfd, uint64_t upath, int flags, uint64_t ubuf)
{
	char path[VFS_PATH_MAX];
	struct vfs_attr a;
	struct k_stat st;
	int r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	r = getname(t, upath, path);
	if (r < 0)
		return r;
	r = attr_at(t, dirfd, path, flags, &a, NULL);
	if (r < 0)
		return r;
	vfs_attr_to_stat(&a, &st);
	return copy_to_user(t, ubuf, &st, sizeof(st));
}

SYSCALL(stat) { return stat_path(t, AT_FDCWD, a[0], 0, a[1]); }
SYSCALL(lstat) { return stat_path(t, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, a[1]); }
SYSCALL(newfstatat) { return stat_path(t, (int)a[0], a[1], (int)a[3], a[2]); }

SYSCALL(fstat)
{
	struct file *f = get_fd(t, (int)a[0], true);
	struct k_stat st;
	int r;

	if (!f)
		return -EBADF;
	r = vfs_fstat(f, &st);
	file_put(f);
	if (r < 0)
		return r;
	return copy_to_user(t, a[1], &st, sizeof(st));
}

#define STATX_KNOWN_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | \
			   AT_STATX_SYNC_TYPE)

SYSCALL(statx)
{
	int dirfd = (int)a[0], flags = (int)a[2];
	unsigned mask = (unsigned)a[3];
	char path[VFS_PATH_MAX];
	struct vfs_attr at;
	struct statx sx;
	int mnt_id = 0, r;

	if (flags & ~STATX_KNOWN_FLAGS)
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	r = getname(t, a[1], path);
	if (r < 0)
		return r;
	r = attr_at(t, dirfd, path, flags, &at, &mnt_id);
	if (r < 0)
		return r;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS | STATX_MNT_ID;
	if (at.btime.tv_sec || at.btime.tv_nsec)
		sx.stx_mask |= STATX_BTIME;
	sx.stx_blksize = at.blksize;
	sx.stx_nlink = at.nlink;
	sx.stx_uid = at.uid;
	sx.stx_gid = at.gid;
	sx.stx_mode = (uint16_t)at.mode;
	sx.stx_ino = at.ino;
	sx.stx_size = (uint64_t)at.size;
	sx.stx_blocks = (uint64_t)at.blocks;
	sx.stx_atime.tv_sec = at.atime.tv_sec;
	sx.stx_atime.tv_nsec = (uint32_t)at.atime.tv_nsec;
	sx.stx_btime.tv_sec = at.btime.tv_sec;
	sx.stx_btime.tv_nsec = (uint32_t)at.btime.tv_nsec;
	sx.stx_ctime.tv_sec = at.ctime.tv_sec;
	sx.stx_ctime.tv_nsec = (uint32_t)at.ctime.tv_nsec;
	sx.stx_mtime.tv_sec = at.mtime.tv_sec;
	sx.stx_mtime.tv_nsec = (uint32_t)at.mtime.tv_nsec;
	sx.stx_rdev_major = major(at.rdev);
	sx.stx_rdev_minor = minor(at.rdev);
	sx.stx_dev_major = major(at.dev);
	sx.stx_dev_minor = minor(at.dev);
	sx.stx_mnt_id = (uint64_t)mnt_id;
	return copy_to_user(t, a[4], &sx, sizeof(sx));
}

SYSCALL(statfs)
{
	char path[VFS_PATH_MAX];
	struct k_statfs st;
	struct path p;
	int r = getname(t, a[0], path);

	if (r < 0)
		return r;
	r = vfs_lookup(t, AT_FDCWD, path, LOOKUP_FOLLOW, &p);
	if (r < 0)
		return r;
	r = vfs_statfs_path(&p, &st);
	path_put(&p);
	if (r < 0)
		return r;
	return copy_to_user(t, a[1], &st, sizeof(st));
}

SYSCALL(fstatfs)
{
	struct file *f = get_fd(t, (int)a[0], true);
	struct k_statfs st;
	int r;

	if (!f)
		return -EBADF;
	if (!f->path.mnt) {
		/* An imported host fd: no sandbox filesystem behind it. */
		memset(&st, 0, sizeof(st));
		st.f_bsize = st.f_frsize = 4096;
		st.f_namelen = VFS_NAME_MAX;
		r = 0;
	} else {
		r = vfs_statfs_path(&f->path, &st);
	}
	file_put(f);
	if (r < 0)
		return r;
	return copy_to_user(t, a[1], &st, sizeof(st));
}
