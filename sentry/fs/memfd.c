/* memfd: a regular file of a private tmpfs, never linked anywhere (as
 * Linux's shm_mnt files), plus file seals.
 *
 * The seals live on the host memfd that holds the file's data: the
 * sentry created it, with MFD_ALLOW_SEALING exactly when the
 * application asked for it, so the host keeps the seal set and enforces
 * it wherever the data is touched, including shared writable mappings
 * in the stubs (mmap EPERM, mprotect EACCES, F_SEAL_WRITE EBUSY while
 * one exists), which the sentry does not track. The file operations here
 * also check the seals themselves, for Linux's exact results
 * (write, truncate and fallocate with EPERM; a write that would grow a
 * F_SEAL_GROW file keeps the whole pages below its end). */
#include "sentry/fs/memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/fs/tmpfs/tmpfs_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define O_LARGEFILE_K 0100000
#define MEMFD_PAGE 4096
#define MEMFD_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

static pthread_once_t memfd_once = PTHREAD_ONCE_INIT;
static struct mount *memfd_mnt;

static void memfd_init(void)
{
	struct inode *root = NULL;
	struct superblock *sb = tmpfs_new(0, 01777, NULL, &root);
	struct dentry *d;

	if (!sb)
		return;
	/* Memfds are never names in the root directory's cache. */
	sb->flags |= SB_NOCACHE;
	d = dentry_new_root(root);
	if (d)
		memfd_mnt = vfs_kern_mount(sb, d);
	else
		inode_put(root);
	dentry_put(d);
	sb_put(sb);
}

static int memfd_seals(struct inode *in)
{
	int r = fcntl(TN(in)->memfd, F_GET_SEALS);
	return r < 0 ? -errno : r;
}

static int64_t memfd_size(struct inode *in)
{
	struct vfs_attr a;
	inode_getattr(in, &a);
	return a.size;
}

/* --- file operations: tmpfs's, with the seals checked first --- */

static ssize_t memfd_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	return tmpfs_file_ops.read(f, buf, len, pos);
}

static ssize_t memfd_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	int seals = memfd_seals(f->inode);

	if (seals < 0)
		return seals;
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return -EPERM;
	if (seals & F_SEAL_GROW) {
		int64_t size = memfd_size(f->inode);
		int64_t at = (f->flags & O_APPEND) ? size : *pos;
		if (at > INT64_MAX - (int64_t)len)
			return -EFBIG;
		/* Linux checks a page at a time: the pages that end within
		 * the file go in, the one crossing its end fails. */
		if (at + (int64_t)len > size) {
			int64_t end = size & ~(int64_t)(MEMFD_PAGE - 1);
			if (end <= at)
				return -EPERM;
			len = (size_t)(end - at);
		}
	}
	return tmpfs_file_ops.write(f, buf, len, pos);
}

static int64_t memfd_llseek(struct file *f, int64_t off, int whence)
{
	return tmpfs_file_ops.llseek(f, off, whence);
}

static int memfd_mmap_fd(struct file *f)
{
	return tmpfs_file_ops.mmap_fd(f);
}

static int memfd_fsync(struct file *f, bool datasync)
{
	return tmpfs_file_ops.fsync(f, datasync);
}

static int memfd_fallocate(struct file *f, int mode, int64_t off, int64_t len)
{
	int seals = memfd_seals(f->inode);

	if (seals < 0)
		return seals;
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
			return -EPERM;
	} else if ((seals & F_SEAL_GROW) && off + len > memfd_size(f->inode)) {
		return -EPERM; /* even with FALLOC_FL_KEEP_SIZE, as Linux */
	}
	return tmpfs_file_ops.fallocate(f, mode, off, len);
}

static long memfd_fcntl(struct file *f, struct task *t, int cmd, uint64_t arg)
{
	unsigned seals = (unsigned)arg;

	(void)t;
	switch (cmd) {
	case F_GET_SEALS:
		return memfd_seals(f->inode);
	case F_ADD_SEALS:
		if ((f->flags & O_ACCMODE) == O_RDONLY)
			return -EPERM;
		/* Only the seals of the kernel we present (F_SEAL_EXEC is
		 * newer). */
		if (seals & ~(unsigned)MEMFD_SEALS)
			return -EINVAL;
		/* The host refuses as Linux does: EPERM once F_SEAL_SEAL is
		 * set, EBUSY for F_SEAL_WRITE while a shared writable mapping
		 * exists. */
		return fcntl(TN(f->inode)->memfd, F_ADD_SEALS, seals) < 0 ? -errno : 0;
	default:
		return -EINVAL;
	}
}

static const struct file_ops memfd_fops = {
	.read = memfd_read,
	.write = memfd_write,
	.llseek = memfd_llseek,
	.mmap_fd = memfd_mmap_fd,
	.fsync = memfd_fsync,
	.fallocate = memfd_fallocate,
	.fcntl = memfd_fcntl,
};

/* --- inode operations: truncation checks the seals --- */

static int memfd_setattr(struct inode *in, const struct vfs_setattr *sa)
{
	if (sa->mask & VFS_ATTR_SIZE) {
		int seals = memfd_seals(in);
		int64_t size = memfd_size(in);
		if (seals < 0)
			return seals;
		if ((sa->size < size && (seals & F_SEAL_SHRINK)) ||
		    (sa->size > size && (seals & F_SEAL_GROW)))
			return -EPERM;
	}
	return tmpfs_setattr(in, sa);
}

/* Reopening through /proc/PID/fd/N. */
static int memfd_open(struct inode *in, struct file *f)
{
	(void)in;
	f->ops = &memfd_fops;
	return 0;
}

static const struct inode_ops memfd_iops = {
	.getattr = tmpfs_getattr,
	.setattr = memfd_setattr,
	.open = memfd_open,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
	.release = tmpfs_release,
};

int memfd_new(struct task *t, const char *name, unsigned flags, struct file **out)
{
	char dname[VFS_NAME_MAX + 1];
	struct inode *in;
	struct dentry *d = NULL;
	struct file *f;
	int hostfd, r;

	pthread_once(&memfd_once, memfd_init);
	if (!memfd_mnt)
		return -ENOMEM;
	if (strlen(name) > MEMFD_NAME_MAX)
		return -EINVAL;
	snprintf(dname, sizeof(dname), "memfd:%s", name);
	/* Without MFD_ALLOW_SEALING the host starts it with F_SEAL_SEAL. */
	hostfd = memfd_create("memfd", MFD_CLOEXEC | (flags & MFD_ALLOW_SEALING));
	if (hostfd < 0)
		return errno == EMFILE ? -ENFILE : -errno;
	in = tmpfs_new_inode(memfd_mnt->sb, S_IFREG | 0777, &t->tg->creds);
	if (!in) {
		close(hostfd);
		return -ENOMEM;
	}
	/* Nobody else sees the inode yet: no lock. tmpfs closes the fd. */
	TN(in)->memfd = hostfd;
	TN(in)->nlink = 0;
	in->ops = &memfd_iops;
	r = dcache_instantiate(memfd_mnt->root, dname, in, &d);
	if (r < 0)
		goto out;
	/* Unlinked from the start: /proc shows "/memfd:NAME (deleted)". */
	d->dead = true;
	f = file_new(&memfd_fops, O_RDWR | O_LARGEFILE_K, NULL);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	f->path.mnt = memfd_mnt;
	f->path.dentry = d;
	path_get(&f->path);
	inode_get(in);
	f->inode = in;
	*out = f;
out:
	dentry_put(d);
	inode_put(in);
	return r;
}
