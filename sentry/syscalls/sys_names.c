/* mkdir, mknod, rmdir, unlink, rename, link, symlink, readlink and their
 * *at variants. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/names.h"

SYSCALL(mkdirat)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[1], path);
	return r < 0 ? r : vfs_mkdirat(t, (int)a[0], path, (uint32_t)a[2]);
}

SYSCALL(mkdir)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[0], path);
	return r < 0 ? r : vfs_mkdirat(t, AT_FDCWD, path, (uint32_t)a[1]);
}

SYSCALL(mknodat)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[1], path);
	return r < 0 ? r : vfs_mknodat(t, (int)a[0], path, (uint32_t)a[2], (uint32_t)a[3]);
}

SYSCALL(mknod)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[0], path);
	return r < 0 ? r : vfs_mknodat(t, AT_FDCWD, path, (uint32_t)a[1], (uint32_t)a[2]);
}

SYSCALL(unlinkat)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[1], path);
	return r < 0 ? r : vfs_unlinkat(t, (int)a[0], path, (int)a[2]);
}

SYSCALL(unlink)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[0], path);
	return r < 0 ? r : vfs_unlinkat(t, AT_FDCWD, path, 0);
}

SYSCALL(rmdir)
{
	char path[VFS_PATH_MAX];
	int r = getname(t, a[0], path);
	return r < 0 ? r : vfs_unlinkat(t, AT_FDCWD, path, AT_REMOVEDIR);
}

static long do_rename(struct task *t, int od, uint64_t op, int nd, uint64_t np, unsigned flags)
{
	char *a = malloc(VFS_PATH_MAX), *b = malloc(VFS_PATH_MAX);
	int r = a && b ? 0 : -ENOMEM;

	if (r == 0)
		r = getname(t, op, a);
	if (r == 0)
		r = getname(t, np, b);
	if (r == 0)
		r = vfs_renameat2(t, od, a, nd, b, flags);
	free(a);
	free(b);
	return r;
}

SYSCALL(rename) { return do_rename(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
SYSCALL(renameat) { return do_rename(t, (int)a[0], a[1], (int)a[2], a[3], 0); }
SYSCALL(renameat2) { return do_rename(t, (int)a[0], a[1], (int)a[2], a[3], (unsigned)a[4]); }

static long do_link(struct task *t, int od, uint64_t op, int nd, uint64_t np, int flags)
{
	char *a = malloc(VFS_PATH_MAX), *b = malloc(VFS_PATH_MAX);
	int r = a && b ? 0 : -ENOMEM;

	if (r == 0)
		r = getname(t, op, a);
	if (r == 0)
		r = getname(t, np, b);
	if (r == 0)
		r = vfs_linkat(t, od, a, nd, b, flags);
	free(a);
	free(b);
	return r;
}

SYSCALL(link) { return do_link(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); }
SYSCALL(linkat) { return do_link(t, (int)a[0], a[1], (int)a[2], a[3], (int)a[4]); }

static long do_symlink(struct task *t, uint64_t utarget, int dirfd, uint64_t upath)
{
	char *a = malloc(VFS_PATH_MAX), *b = malloc(VFS_PATH_MAX);
	int r = a && b ? 0 : -ENOMEM;

	if (r == 0)
		r = getname(t, utarget, a);
	if (r == 0)
		r = getname(t, upath, b);
	if (r == 0)
		r = vfs_symlinkat(t, a, dirfd, b);
	free(a);
	free(b);
	return r;
}

SYSCALL(symlink) { return do_symlink(t, a[0], AT_FDCWD, a[1]); }
SYSCALL(symlinkat) { return do_symlink(t, a[0], (int)a[1], a[2]); }

static long do_readlink(struct task *t, int dirfd, uint64_t upath, uint64_t ubuf, int size)
{
	char path[VFS_PATH_MAX], *buf;
	ssize_t n;
	int r;

	if (size <= 0)
		return -EINVAL;
	r = getname(t, upath, path);
	if (r < 0)
		return r;
	buf = malloc(VFS_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	n = vfs_readlinkat(t, dirfd, path, buf, (size_t)size < VFS_PATH_MAX ? (size_t)size
									 : VFS_PATH_MAX);
	if (n >= 0 && copy_to_user(t, ubuf, buf, (size_t)n) < 0)
		n = -EFAULT;
	free(buf);
	return n;
}

SYSCALL(readlink) { return do_readlink(t, AT_FDCWD, a[0], a[1], (int)a[2]); }
SYSCALL(readlinkat) { return do_readlink(t, (int)a[0], a[1], a[2], (int)a[3]); }
