/* Extended attributes: get/set/list/remove, on paths (following links or
 * not) and on fds. Filesystems without them answer ENOTSUP. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"

#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536
#define XATTR_LIST_MAX 65536

/* The inode an xattr call names: by path (follow or not) or by fd. */
static int target(struct task *t, uint64_t upath, int fd, bool follow, struct path *out)
{
	if (upath) {
		char path[VFS_PATH_MAX];
		int r = getname(t, upath, path);
		if (r < 0)
			return r;
		return vfs_lookup(t, AT_FDCWD, path, follow ? LOOKUP_FOLLOW : 0, out);
	}
	struct file *f = get_fd(t, fd, false);
	if (!f)
		return -EBADF;
	if (!f->path.dentry) {
		file_put(f);
		return -EOPNOTSUPP;
	}
	path_copy(out, &f->path);
	file_put(f);
	return 0;
}

static int getname_xattr(struct task *t, uint64_t uname, char *name)
{
	long n = strncpy_from_user(t, name, uname, XATTR_NAME_MAX + 1);
	if (n == -ENAMETOOLONG)
		return -ERANGE;
	if (n < 0)
		return (int)n;
	return n == 0 ? -ERANGE : 0;
}

static long do_get(struct task *t, uint64_t upath, int fd, bool follow, uint64_t uname,
		   uint64_t uval, uint64_t size)
{
	char name[XATTR_NAME_MAX + 1];
	struct path p;
	void *buf = NULL;
	long r = getname_xattr(t, uname, name);

	if (r < 0)
		return r;
	r = target(t, upath, fd, follow, &p);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		size = XATTR_SIZE_MAX;
	if (size && !(buf = malloc(size))) {
		r = -ENOMEM;
		goto out;
	}
	struct inode *in = p.dentry->inode;
	r = in->ops->getxattr ? in->ops->getxattr(in, name, buf, size) : -EOPNOTSUPP;
	if (r > 0 && size && copy_to_user(t, uval, buf, (size_t)r) < 0)
		r = -EFAULT;
out:
	free(buf);
	path_put(&p);
	return r;
}

SYSCALL(getxattr) { return do_get(t, a[0], -1, true, a[1], a[2], a[3]); }
SYSCALL(lgetxattr) { return do_get(t, a[0], -1, false, a[1], a[2], a[3]); }
SYSCALL(fgetxattr) { return do_get(t, 0, (int)a[0], true, a[1], a[2], a[3]); }

static long do_set(struct task *t, uint64_t upath, int fd, bool follow, uint64_t uname,
		   uint64_t uval, uint64_t size, int flags)
{
	char name[XATTR_NAME_MAX + 1];
	struct path p;
	void *buf = NULL;
	long r;

	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	r = getname_xattr(t, uname, name);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		return -E2BIG;
	r = target(t, upath, fd, follow, &p);
	if (r < 0)
		return r;
	if (size && !(buf = malloc(size))) {
		r = -ENOMEM;
		goto out;
	}
	if (size && copy_from_user(t, buf, uval, size) < 0) {
		r = -EFAULT;
		goto out;
	}
	struct inode *in = p.dentry->inode;
	if ((p.mnt->flags & MNT_RDONLY) || (p.mnt->sb->flags & SB_RDONLY))
		r = -EROFS;
	else if (!vfs_owner_or_capable(in, &t->tg->creds))
		r = -EPERM;
	else
		r = in->ops->setxattr ? in->ops->setxattr(in, name, buf, size, flags) : -EOPNOTSUPP;
out:
	free(buf);
	path_put(&p);
	return r;
}

SYSCALL(setxattr) { return do_set(t, a[0], -1, true, a[1], a[2], a[3], (int)a[4]); }
SYSCALL(lsetxattr) { return do_set(t, a[0], -1, false, a[1], a[2], a[3], (int)a[4]); }
SYSCALL(fsetxattr) { return do_set(t, 0, (int)a[0], true, a[1], a[2], a[3], (int)a[4]); }

static long do_list(struct task *t, uint64_t upath, int fd, bool follow, uint64_t ulist,
		    uint64_t size)
{
	struct path p;
	char *buf = NULL;
	long r = target(t, upath, fd, follow, &p);

	if (r < 0)
		return r;
	if (size > XATTR_LIST_MAX)
		size = XATTR_LIST_MAX;
	if (size && !(buf = malloc(size))) {
		r = -ENOMEM;
		goto out;
	}
	struct inode *in = p.dentry->inode;
	r = in->ops->listxattr ? in->ops->listxattr(in, buf, size) : 0;
	if (r > 0 && size && copy_to_user(t, ulist, buf, (size_t)r) < 0)
		r = -EFAULT;
out:
	free(buf);
	path_put(&p);
	return r;
}

SYSCALL(listxattr) { return do_list(t, a[0], -1, true, a[1], a[2]); }
SYSCALL(llistxattr) { return do_list(t, a[0], -1, false, a[1], a[2]); }
SYSCALL(flistxattr) { return do_list(t, 0, (int)a[0], true, a[1], a[2]); }

static long do_remove(struct task *t, uint64_t upath, int fd, bool follow, uint64_t uname)
{
	char name[XATTR_NAME_MAX + 1];
	struct path p;
	long r = getname_xattr(t, uname, name);

	if (r < 0)
		return r;
	r = target(t, upath, fd, follow, &p);
	if (r < 0)
		return r;
	struct inode *in = p.dentry->inode;
	if ((p.mnt->flags & MNT_RDONLY) || (p.mnt->sb->flags & SB_RDONLY))
		r = -EROFS;
	else if (!vfs_owner_or_capable(in, &t->tg->creds))
		r = -EPERM;
	else
		r = in->ops->removexattr ? in->ops->removexattr(in, name) : -EOPNOTSUPP;
	path_put(&p);
	return r;
}

SYSCALL(removexattr) { return do_remove(t, a[0], -1, true, a[1]); }
SYSCALL(lremovexattr) { return do_remove(t, a[0], -1, false, a[1]); }
SYSCALL(fremovexattr) { return do_remove(t, 0, (int)a[0], true, a[1]); }
