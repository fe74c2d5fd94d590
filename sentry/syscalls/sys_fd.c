/* Calls on open fds: ioctl, fcntl, lseek, fsync family, fallocate,
 * flock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "sentry/fs/pipe/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/lock.h"

SYSCALL(ioctl)
{
	struct file *f = get_fd(t, (int)a[0], false);
	unsigned long cmd = (unsigned int)a[1];
	long r;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		r = fdtable_set_cloexec(t->fdt, (int)a[0], cmd == FIOCLEX);
		break;
	case FIONBIO: {
		int on;
		r = copy_from_user(t, &on, a[2], sizeof(on));
		if (r == 0) {
			if (on)
				f->flags |= O_NONBLOCK;
			else
				f->flags &= ~O_NONBLOCK;
		}
		break;
	}
	case FIONREAD:
		/* Regular files: size minus position, as an int (negative
		 * past EOF), as Linux's do_vfs_ioctl reports it. */
		if (f->inode && S_ISREG(f->inode->mode)) {
			struct vfs_attr at;
			int n = 0;
			r = inode_getattr(f->inode, &at);
			if (r == 0) {
				n = (int)(at.size - f->pos);
				r = copy_to_user(t, a[2], &n, sizeof(n));
			}
			break;
		}
		/* fall through */
	default:
		r = f->ops->ioctl ? f->ops->ioctl(f, t, cmd, a[2]) : -ENOTTY;
	}
	file_put(f);
	return r;
}

static long record_lock(struct task *t, struct file *f, int cmd, uint64_t uarg)
{
	struct flock fl;
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	int kcmd = cmd == F_OFD_GETLK ? F_GETLK : cmd == F_OFD_SETLK ? F_SETLK
		 : cmd == F_OFD_SETLKW ? F_SETLKW : cmd;
	long r;

	if (copy_from_user(t, &fl, uarg, sizeof(fl)) < 0)
		return -EFAULT;
	r = vfs_record_lock(t, f, kcmd, &fl, ofd);
	if (r == 0 && kcmd == F_GETLK && copy_to_user(t, uarg, &fl, sizeof(fl)) < 0)
		r = -EFAULT;
	return r;
}

SYSCALL(fcntl)
{
	int fd = (int)a[0], cmd = (int)a[1];
	struct file *f = get_fd(t, fd, true);
	long r;

	if (!f)
		return -EBADF;
	/* O_PATH files allow only the fd-level commands. */
	if ((f->flags & O_PATH) && cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_GETFD &&
	    cmd != F_SETFD && cmd != F_GETFL) {
		file_put(f);
		return -EBADF;
	}
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int)a[2] < 0 || (uint64_t)(int)a[2] >= t->tg->rlimits[RLIMIT_NOFILE].cur) {
			r = -EINVAL;
			break;
		}
		r = fdtable_install(t->fdt, f, (int)a[2], cmd == F_DUPFD_CLOEXEC,
				    t->tg->rlimits[RLIMIT_NOFILE].cur);
		break;
	case F_GETFD:
		r = fdtable_get_cloexec(t->fdt, fd);
		r = r < 0 ? r : (r ? FD_CLOEXEC : 0);
		break;
	case F_SETFD:
		r = fdtable_set_cloexec(t->fdt, fd, a[2] & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL: {
		const int settable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
		int nf = (int)a[2];
		/* O_APPEND cannot be cleared on an append-only inode; we have
		 * none. O_NOATIME needs ownership. */
		if ((nf & O_NOATIME) && !(f->flags & O_NOATIME) && f->inode &&
		    !vfs_owner_or_capable(f->inode, &t->tg->creds)) {
			r = -EPERM;
			break;
		}
		f->flags = (f->flags & ~settable) | (nf & settable);
		r = 0;
		break;
	}
	case F_GETLK: case F_SETLK: case F_SETLKW:
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
		r = record_lock(t, f, cmd, a[2]);
		break;
	case F_GETOWN:
		r = f->owner;
		break;
	case F_SETOWN:
		f->owner = (int)a[2];
		r = 0;
		break;
	case F_GETSIG:
		r = f->sig;
		break;
	case F_SETSIG:
		if ((int)a[2] < 0 || (int)a[2] > KSIG_MAX) {
			r = -EINVAL;
			break;
		}
		f->sig = (int)a[2];
		r = 0;
		break;
	case F_GETLEASE:
		r = F_UNLCK;
		break;
	case F_SETLEASE:
		r = (int)a[2] == F_UNLCK ? 0 : -EAGAIN; /* leases break at once */
		break;
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		/* Linux's pipe_fcntl: EBADF on anything but a pipe. */
		r = file_is_pipe(f) ? f->ops->fcntl(f, t, cmd, a[2]) : -EBADF;
		break;
	default:
		r = f->ops->fcntl ? f->ops->fcntl(f, t, cmd, a[2]) : -EINVAL;
	}
	file_put(f);
	return r;
}

SYSCALL(lseek)
{
	struct file *f = get_fd(t, (int)a[0], false);
	int64_t off = (int64_t)a[1], r;
	int whence = (int)a[2];

	if (!f)
		return -EBADF;
	if (f->ops->stream) {
		file_put(f);
		return -ESPIPE;
	}
	if (whence < SEEK_SET || whence > SEEK_HOLE) {
		file_put(f);
		return -EINVAL;
	}
	pthread_mutex_lock(&f->pos_lock);
	if (f->ops->llseek) {
		r = f->ops->llseek(f, off, whence);
	} else {
		struct vfs_attr at = {0};
		if (f->inode)
			inode_getattr(f->inode, &at);
		r = generic_llseek(f, off, whence, at.size);
	}
	if (r >= 0 && !f->ops->own_pos)
		f->pos = r;
	pthread_mutex_unlock(&f->pos_lock);
	file_put(f);
	return r;
}

static long do_fsync(struct task *t, int fd, bool datasync)
{
	struct file *f = get_fd(t, fd, false);
	long r;
	if (!f)
		return -EBADF;
	r = f->ops->fsync ? f->ops->fsync(f, datasync) : (f->inode ? 0 : -EINVAL);
	file_put(f);
	return r;
}

SYSCALL(fsync) { return do_fsync(t, (int)a[0], false); }
SYSCALL(fdatasync) { return do_fsync(t, (int)a[0], true); }
SYSCALL(sync) { return 0; }

SYSCALL(syncfs)
{
	struct file *f = get_fd(t, (int)a[0], false);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

SYSCALL(fallocate)
{
	struct file *f = get_fd(t, (int)a[0], false);
	int64_t off = (int64_t)a[2], len = (int64_t)a[3];
	long r;

	if (!f)
		return -EBADF;
	if (off < 0 || len <= 0)
		r = -EINVAL;
	else if (!(f->flags & (O_WRONLY | O_RDWR)))
		r = -EBADF;
	else if (!f->inode)
		r = -ENODEV;
	else if (S_ISDIR(f->inode->mode))
		r = -EISDIR;
	else if (!S_ISREG(f->inode->mode))
		r = -ENODEV;
	else if (off > INT64_MAX - len)
		r = -EFBIG;
	else
		r = f->ops->fallocate ? f->ops->fallocate(f, (int)a[1], off, len) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

SYSCALL(flock)
{
	struct file *f = get_fd(t, (int)a[0], false);
	long r;
	if (!f)
		return -EBADF;
	r = vfs_flock(t, f, (int)a[1]);
	file_put(f);
	return r;
}
