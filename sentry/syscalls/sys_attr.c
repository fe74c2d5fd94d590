/* chmod, chown, utimes, truncate and access families; umask. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"

/* Runs op on the path dirfd/upath names (flags: AT_SYMLINK_NOFOLLOW,
 * AT_EMPTY_PATH), or on an open fd when upath is 0 and fd_ok. */
static long on_path(struct task *t, int dirfd, uint64_t upath, int flags,
		    int (*op)(struct task *, const struct path *, void *), void *arg)
{
	char path[VFS_PATH_MAX];
	struct path p;
	int r = getname(t, upath, path);

	if (r < 0)
		return r;
	r = vfs_lookup_at_flags(t, dirfd, path, flags, &p);
	if (r < 0)
		return r;
	r = op(t, &p, arg);
	path_put(&p);
	return r;
}

static long on_fd(struct task *t, int fd, int (*op)(struct task *, const struct path *, void *),
		  void *arg)
{
	struct file *f = get_fd(t, fd, false);
	int r;
	if (!f)
		return -EBADF;
	r = f->path.dentry ? op(t, &f->path, arg) : -EPERM;
	file_put(f);
	return r;
}

static int chmod_op(struct task *t, const struct path *p, void *arg)
{
	return vfs_chmod_path(t, p, *(uint32_t *)arg);
}

SYSCALL(chmod)
{
	uint32_t mode = (uint32_t)a[1];
	return on_path(t, AT_FDCWD, a[0], 0, chmod_op, &mode);
}

SYSCALL(fchmod)
{
	uint32_t mode = (uint32_t)a[1];
	return on_fd(t, (int)a[0], chmod_op, &mode);
}

SYSCALL(fchmodat)
{
	uint32_t mode = (uint32_t)a[2];
	return on_path(t, (int)a[0], a[1], 0, chmod_op, &mode);
}

struct ids {
	uint32_t uid, gid;
};

static int chown_op(struct task *t, const struct path *p, void *arg)
{
	struct ids *i = arg;
	return vfs_chown_path(t, p, i->uid, i->gid);
}

SYSCALL(chown)
{
	struct ids i = {(uint32_t)a[1], (uint32_t)a[2]};
	return on_path(t, AT_FDCWD, a[0], 0, chown_op, &i);
}

SYSCALL(lchown)
{
	struct ids i = {(uint32_t)a[1], (uint32_t)a[2]};
	return on_path(t, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, chown_op, &i);
}

SYSCALL(fchown)
{
	struct ids i = {(uint32_t)a[1], (uint32_t)a[2]};
	return on_fd(t, (int)a[0], chown_op, &i);
}

SYSCALL(fchownat)
{
	struct ids i = {(uint32_t)a[2], (uint32_t)a[3]};
	int flags = (int)a[4];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	return on_path(t, (int)a[0], a[1], flags, chown_op, &i);
}

static int utimes_op(struct task *t, const struct path *p, void *arg)
{
	return vfs_utimes_path(t, p, arg);
}

/* Linux's do_utimes: a NULL path with a real dirfd is futimens on it
 * (which takes no flags); otherwise the path is looked up, and a NULL
 * one is EFAULT. */
static long times_at(struct task *t, int dirfd, uint64_t upath, struct k_timespec *tp,
		     int flags)
{
	if (!upath && dirfd != AT_FDCWD)
		return flags ? -EINVAL : on_fd(t, dirfd, utimes_op, tp);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	return on_path(t, dirfd, upath, flags, utimes_op, tp);
}

SYSCALL(utimensat)
{
	struct k_timespec ts[2], *tp = NULL;
	int dirfd = (int)a[0], flags = (int)a[3];

	if (a[2]) {
		if (copy_from_user(t, ts, a[2], sizeof(ts)) < 0)
			return -EFAULT;
		/* Nothing to do: Linux does not even look the path up. */
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			return 0;
		tp = ts;
	}
	return times_at(t, dirfd, a[1], tp, flags);
}

/* The microsecond variants: utimes, futimesat, and utime's seconds. */
static long timeval_times(struct task *t, int dirfd, uint64_t upath, uint64_t utv)
{
	struct k_timeval tv[2];
	struct k_timespec ts[2];

	if (!utv)
		return times_at(t, dirfd, upath, NULL, 0);
	if (copy_from_user(t, tv, utv, sizeof(tv)) < 0)
		return -EFAULT;
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return times_at(t, dirfd, upath, ts, 0);
}

SYSCALL(utimes) { return timeval_times(t, AT_FDCWD, a[0], a[1]); }
SYSCALL(futimesat) { return timeval_times(t, (int)a[0], a[1], a[2]); }

SYSCALL(utime)
{
	int64_t tb[2];
	struct k_timespec ts[2];

	if (!a[1])
		return on_path(t, AT_FDCWD, a[0], 0, utimes_op, NULL);
	if (copy_from_user(t, tb, a[1], sizeof(tb)) < 0)
		return -EFAULT;
	ts[0].tv_sec = tb[0];
	ts[1].tv_sec = tb[1];
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return on_path(t, AT_FDCWD, a[0], 0, utimes_op, ts);
}

static int truncate_op(struct task *t, const struct path *p, void *arg)
{
	return vfs_truncate_path(t, p, *(int64_t *)arg);
}

SYSCALL(truncate)
{
	int64_t len = (int64_t)a[1];
	if (len < 0)
		return -EINVAL;
	return on_path(t, AT_FDCWD, a[0], 0, truncate_op, &len);
}

SYSCALL(ftruncate)
{
	int64_t len = (int64_t)a[1];
	struct file *f;
	struct vfs_setattr sa = {.mask = VFS_ATTR_SIZE};
	int r;

	if (len < 0)
		return -EINVAL;
	f = get_fd(t, (int)a[0], false);
	if (!f)
		return -EBADF;
	if ((f->flags & O_ACCMODE) == O_RDONLY || !f->inode) {
		r = -EINVAL;
	} else if (S_ISDIR(f->inode->mode)) {
		r = -EISDIR;
	} else if (!S_ISREG(f->inode->mode)) {
		r = -EINVAL;
	} else if ((uint64_t)len > t->tg->rlimits[RLIMIT_FSIZE].cur) {
		r = -EFBIG;
	} else if ((r = vfs_remove_privs(t, f->inode)) == 0) {
		sa.size = len;
		r = f->inode->ops->setattr ? f->inode->ops->setattr(f->inode, &sa) : -EPERM;
	}
	file_put(f);
	return r;
}

static long do_access(struct task *t, int dirfd, uint64_t upath, int mode, int flags)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, upath, path);
	return r < 0 ? r : vfs_accessat(t, dirfd, path, mode, flags);
}

SYSCALL(access) { return do_access(t, AT_FDCWD, a[0], (int)a[1], 0); }
SYSCALL(faccessat) { return do_access(t, (int)a[0], a[1], (int)a[2], 0); }
SYSCALL(faccessat2) { return do_access(t, (int)a[0], a[1], (int)a[2], (int)a[3]); }

SYSCALL(umask)
{
	uint32_t old;
	pthread_mutex_lock(&t->fs->lock);
	old = t->fs->umask;
	t->fs->umask = (uint32_t)a[0] & 0777;
	pthread_mutex_unlock(&t->fs->lock);
	return old;
}
