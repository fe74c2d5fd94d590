/* open, openat, openat2, creat; close, close_range; dup, dup2, dup3. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

/* The open flags Linux knows (VALID_OPEN_FLAGS). */
#define VALID_OPEN_FLAGS                                                       \
	(O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |  \
	 O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | 0100000 |        \
	 O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | \
	 __O_TMPFILE)

static long do_open(struct task *t, int dirfd, uint64_t upath, int flags, uint32_t mode,
		    unsigned lflags)
{
	char path[VFS_PATH_MAX];
	struct file *f;
	int r = getname(t, upath, path);

	if (r < 0)
		return r;
	/* Out of fds: fail before creating or truncating anything. */
	r = fdtable_check_free(t->fdt, 0, t->tg->rlimits[RLIMIT_NOFILE].cur);
	if (r < 0)
		return r;
	r = vfs_openat(t, dirfd, path, flags, mode, lflags, &f);
	if (r < 0)
		return r;
	r = install_fd(t, f, flags & O_CLOEXEC);
	file_put(f);
	return r;
}

SYSCALL(open) { return do_open(t, AT_FDCWD, a[0], (int)a[1] & VALID_OPEN_FLAGS, (uint32_t)a[2], 0); }

SYSCALL(openat)
{
	return do_open(t, (int)a[0], a[1], (int)a[2] & VALID_OPEN_FLAGS, (uint32_t)a[3], 0);
}

SYSCALL(creat)
{
	return do_open(t, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (uint32_t)a[1], 0);
}

SYSCALL(openat2)
{
	struct open_how how;
	uint64_t size = a[3];
	unsigned lflags = 0;

	if (size < sizeof(how))
		return -EINVAL;
	if (size > 4096)
		return -E2BIG;
	if (copy_from_user(t, &how, a[2], sizeof(how)) < 0)
		return -EFAULT;
	/* A larger struct from a newer program must be zero past ours. */
	for (uint64_t off = sizeof(how); off < size; off += 8) {
		uint64_t chunk = 0;
		size_t n = size - off < 8 ? (size_t)(size - off) : 8;
		if (copy_from_user(t, &chunk, a[2] + off, n) < 0)
			return -EFAULT;
		if (chunk)
			return -E2BIG;
	}
	if (how.flags & ~(uint64_t)VALID_OPEN_FLAGS)
		return -EINVAL;
	if (how.resolve & ~(uint64_t)(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS |
				      RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT |
				      RESOLVE_CACHED))
		return -EINVAL;
	if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
		return -EINVAL;
	if (how.mode & ~07777ULL)
		return -EINVAL;
	if (how.mode && !(how.flags & (O_CREAT | __O_TMPFILE)))
		return -EINVAL;
	if ((how.resolve & RESOLVE_CACHED) && (how.flags & (O_TRUNC | O_CREAT | __O_TMPFILE)))
		return -EAGAIN;
	if (how.resolve & RESOLVE_NO_XDEV)
		lflags |= LOOKUP_NO_XDEV;
	if (how.resolve & RESOLVE_NO_MAGICLINKS)
		lflags |= LOOKUP_NO_MAGICLINKS;
	if (how.resolve & RESOLVE_NO_SYMLINKS)
		lflags |= LOOKUP_NO_SYMLINKS;
	if (how.resolve & RESOLVE_BENEATH)
		lflags |= LOOKUP_BENEATH;
	if (how.resolve & RESOLVE_IN_ROOT)
		lflags |= LOOKUP_IN_ROOT;
	return do_open(t, (int)a[0], a[1], (int)how.flags, (uint32_t)how.mode, lflags);
}

/* Closing any fd of a file also drops the table's POSIX locks on it
 * (fdtable.c). */
SYSCALL(close) { return fdtable_close(t->fdt, (int)a[0]); }

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

SYSCALL(close_range)
{
	unsigned first = (unsigned)a[0], last = (unsigned)a[1], flags = (unsigned)a[2];

	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	/* UNSHARE: the table is this process's alone until clone shares it. */
	return fdtable_close_range(t->fdt, first, last, flags & CLOSE_RANGE_CLOEXEC);
}

SYSCALL(dup)
{
	struct file *f = fdtable_get(t->fdt, (int)a[0]);
	int r;
	if (!f)
		return -EBADF;
	r = install_fd(t, f, false);
	file_put(f);
	return r;
}

static long do_dup3(struct task *t, int oldfd, int newfd, int flags)
{
	struct file *f;
	int r;

	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	f = fdtable_get(t->fdt, oldfd);
	if (!f)
		return -EBADF;
	if (oldfd == newfd) {
		file_put(f);
		return -EINVAL;
	}
	if (newfd < 0 || (uint64_t)newfd >= t->tg->rlimits[RLIMIT_NOFILE].cur)
		r = -EBADF;
	else
		r = fdtable_install_at(t->fdt, newfd, f, flags & O_CLOEXEC,
				       t->tg->rlimits[RLIMIT_NOFILE].cur);
	file_put(f);
	return r;
}

SYSCALL(dup2)
{
	if ((int)a[0] == (int)a[1]) {
		struct file *f = fdtable_get(t->fdt, (int)a[0]);
		if (!f)
			return -EBADF;
		file_put(f);
		return (int)a[1];
	}
	return do_dup3(t, (int)a[0], (int)a[1], 0);
}

SYSCALL(dup3) { return do_dup3(t, (int)a[0], (int)a[1], (int)a[2]); }
