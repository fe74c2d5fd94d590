/* chdir, fchdir, chroot, getcwd. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"

#define CAP_SYS_CHROOT 18

static int set_dir(struct task *t, struct path *p, bool root)
{
	int r;

	if (!S_ISDIR(p->dentry->inode->mode))
		return -ENOTDIR;
	r = vfs_permission(p->dentry->inode, MAY_EXEC, &t->tg->creds);
	if (r < 0)
		return r;
	pthread_mutex_lock(&t->fs->lock);
	struct path old = root ? t->fs->root : t->fs->cwd;
	if (root)
		t->fs->root = *p;
	else
		t->fs->cwd = *p;
	pthread_mutex_unlock(&t->fs->lock);
	path_put(&old);
	p->mnt = NULL;
	p->dentry = NULL;
	return 0;
}

static long dir_syscall(struct task *t, uint64_t upath, bool root)
{
	char path[VFS_PATH_MAX];
	struct path p;
	int r = getname(t, upath, path);

	if (r < 0)
		return r;
	r = vfs_lookup(t, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (r < 0)
		return r;
	r = set_dir(t, &p, root);
	path_put(&p);
	return r;
}

SYSCALL(chdir) { return dir_syscall(t, a[0], false); }

SYSCALL(chroot)
{
	if (!creds_capable(&t->tg->creds, CAP_SYS_CHROOT))
		return -EPERM;
	return dir_syscall(t, a[0], true);
}

SYSCALL(fchdir)
{
	struct file *f = get_fd(t, (int)a[0], true);
	struct path p;
	int r;

	if (!f)
		return -EBADF;
	if (!f->path.dentry) {
		file_put(f);
		return -ENOTDIR;
	}
	path_copy(&p, &f->path);
	file_put(f);
	r = set_dir(t, &p, false);
	path_put(&p);
	return r;
}

SYSCALL(getcwd)
{
	uint64_t size = a[1];
	struct path root, cwd;
	char *buf = malloc(VFS_PATH_MAX);
	int n;

	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&t->fs->lock);
	path_copy(&root, &t->fs->root);
	path_copy(&cwd, &t->fs->cwd);
	pthread_mutex_unlock(&t->fs->lock);
	/* An unlinked working directory has no name (getcwd(2): ENOENT). */
	n = cwd.dentry->dead ? -ENOENT : vfs_path_string(&root, &cwd, buf, VFS_PATH_MAX);
	path_put(&root);
	path_put(&cwd);
	if (n >= 0) {
		if ((uint64_t)n + 1 > size)
			n = -ERANGE;
		else if (copy_to_user(t, a[0], buf, (size_t)n + 1) < 0)
			n = -EFAULT;
		else
			n += 1; /* the length with its NUL */
	}
	free(buf);
	return n;
}
