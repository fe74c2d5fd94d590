/* File descriptor calls the skeleton has: close, ioctl, fstat and
 * fstatat on open files, fcntl, and readlink of /proc/self/exe. Path
 * lookup arrives with the VFS. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

#define PATH_MAX_K 4096

SYSCALL(close) { return fdtable_close(t->fdt, (int)a[0]); }

SYSCALL(ioctl)
{
	struct file *f = fdtable_get(t->fdt, (int)a[0]);
	unsigned long cmd = (unsigned int)a[1];
	long r;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		r = fdtable_set_cloexec(t->fdt, (int)a[0], cmd == FIOCLEX);
		break;
	default:
		r = f->ops->ioctl ? f->ops->ioctl(f, t, cmd, a[2]) : -ENOTTY;
	}
	file_put(f);
	return r;
}

static long stat_fd(struct task *t, int fd, uint64_t ubuf)
{
	struct file *f = fdtable_get(t->fdt, fd);
	struct k_stat st;
	long r;

	if (!f)
		return -EBADF;
	memset(&st, 0, sizeof(st));
	r = f->ops->stat ? f->ops->stat(f, &st) : -EINVAL;
	file_put(f);
	if (r < 0)
		return r;
	return copy_to_user(t, ubuf, &st, sizeof(st));
}

SYSCALL(fstat) { return stat_fd(t, (int)a[0], a[1]); }

SYSCALL(newfstatat)
{
	char path[PATH_MAX_K];
	long n;
	int flags = (int)a[3];

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -EINVAL;
	n = strncpy_from_user(t, path, a[1], sizeof(path));
	if (n < 0)
		return n;
	if (n == 0) {
		if (!(flags & AT_EMPTY_PATH))
			return -ENOENT;
		return stat_fd(t, (int)a[0], a[2]);
	}
	return -ENOENT; /* no filesystem yet */
}

/* The program's own executable, the one link the skeleton can resolve. */
static long do_readlink(struct task *t, uint64_t upath, uint64_t ubuf, int64_t size)
{
	char path[PATH_MAX_K], self[64];
	const char *exe = t->mm->exe_path;
	size_t len;
	long n;

	n = strncpy_from_user(t, path, upath, sizeof(path));
	if (n < 0)
		return n;
	if (size <= 0)
		return -EINVAL;
	snprintf(self, sizeof(self), "/proc/%d/exe", t->tg->pid);
	if (strcmp(path, "/proc/self/exe") && strcmp(path, self) &&
	    strcmp(path, "/proc/thread-self/exe"))
		return -ENOENT;
	len = strlen(exe);
	if ((uint64_t)size < len)
		len = (size_t)size;
	if (copy_to_user(t, ubuf, exe, len) < 0)
		return -EFAULT;
	return (long)len;
}

SYSCALL(readlink) { return do_readlink(t, a[0], a[1], (int)a[2]); }

SYSCALL(readlinkat)
{
	/* Absolute paths ignore dirfd; relative ones need a VFS. */
	return do_readlink(t, a[1], a[2], (int)a[3]);
}

SYSCALL(fcntl)
{
	int fd = (int)a[0], cmd = (int)a[1];
	struct file *f = fdtable_get(t->fdt, fd);
	long r;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int64_t)(int)a[2] < 0 || (uint64_t)(int)a[2] >= t->tg->rlimits[RLIMIT_NOFILE].cur) {
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
		f->flags = (f->flags & ~settable) | ((int)a[2] & settable);
		r = 0;
		break;
	}
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}
