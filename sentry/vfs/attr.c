/* Attribute operations: stat, chmod, chown, utimes, truncate, access,
 * statfs — with the ownership and capability rules of Linux's
 * notify_change and friends. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/names.h"
#include "sentry/vfs/vfs.h"

#define CAP_CHOWN 0
#define CAP_FOWNER 3
#define CAP_FSETID 4
#ifndef UTIME_NOW
#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)
#endif

static bool rdonly(const struct path *p)
{
	return (p->mnt->flags & MNT_RDONLY) || (p->mnt->sb->flags & SB_RDONLY);
}

int vfs_lookup_at_flags(struct task *t, int dirfd, const char *path, int flags,
			struct path *out)
{
	unsigned lf = 0;
	if (!(flags & AT_SYMLINK_NOFOLLOW))
		lf |= LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	return vfs_lookup(t, dirfd, path, lf, out);
}

int vfs_statat(struct task *t, int dirfd, const char *path, int flags, struct vfs_attr *a,
	       int *mnt_id)
{
	struct path p;
	int r = vfs_lookup_at_flags(t, dirfd, path, flags, &p);

	if (r < 0)
		return r;
	r = inode_getattr(p.dentry->inode, a);
	if (mnt_id)
		*mnt_id = p.mnt->id;
	path_put(&p);
	return r;
}

static int setattr(struct inode *in, const struct vfs_setattr *sa)
{
	return in->ops->setattr ? in->ops->setattr(in, sa) : -EPERM;
}

int vfs_chmod_path(struct task *t, const struct path *p, uint32_t mode)
{
	const struct creds *c = &t->tg->creds;
	struct inode *in = p->dentry->inode;
	struct vfs_setattr sa = {.mask = VFS_ATTR_MODE, .mode = mode & 07777};
	struct vfs_attr a;
	int r;

	if (rdonly(p))
		return -EROFS;
	if (!vfs_owner_or_capable(in, c))
		return -EPERM;
	r = inode_getattr(in, &a);
	if (r < 0)
		return r;
	/* Setting setgid on a file of a group we are not in drops it. */
	if ((sa.mode & S_ISGID) && !S_ISDIR(a.mode) && c->fsgid != a.gid &&
	    !creds_in_group(c, a.gid) && !creds_capable(c, CAP_FSETID))
		sa.mode &= ~S_ISGID;
	return setattr(in, &sa);
}

int vfs_chown_path(struct task *t, const struct path *p, uint32_t uid, uint32_t gid)
{
	const struct creds *c = &t->tg->creds;
	struct inode *in = p->dentry->inode;
	struct vfs_setattr sa = {0};
	struct vfs_attr a;
	int r;

	if (rdonly(p))
		return -EROFS;
	r = inode_getattr(in, &a);
	if (r < 0)
		return r;
	if (uid != (uint32_t)-1 && uid != a.uid) {
		if (!creds_capable(c, CAP_CHOWN))
			return -EPERM;
		sa.mask |= VFS_ATTR_UID;
		sa.uid = uid;
	}
	if (gid != (uint32_t)-1 && gid != a.gid) {
		bool own = c->fsuid == a.uid && (c->fsgid == gid || creds_in_group(c, gid));
		if (!own && !creds_capable(c, CAP_CHOWN))
			return -EPERM;
		sa.mask |= VFS_ATTR_GID;
		sa.gid = gid;
	}
	if ((uid != (uint32_t)-1 || gid != (uint32_t)-1) && !sa.mask && c->fsuid != a.uid &&
	    !creds_capable(c, CAP_CHOWN))
		return -EPERM;
	/* Any chown of a non-directory, even to -1/-1 and by root, clears
	 * setuid; setgid goes too with group execute, or when the caller
	 * could not have set it (Linux's chown_common and
	 * setattr_should_drop_sgid). */
	if (!S_ISDIR(a.mode) && (a.mode & (S_ISUID | S_ISGID))) {
		sa.mode = a.mode & 07777 & ~S_ISUID;
		if ((a.mode & S_IXGRP) || (c->fsgid != a.gid && !creds_in_group(c, a.gid) &&
					   !creds_capable(c, CAP_FSETID)))
			sa.mode &= ~S_ISGID;
		if (sa.mode != (a.mode & 07777))
			sa.mask |= VFS_ATTR_MODE;
	}
	if (!sa.mask) {
		sa.mask = VFS_ATTR_CTIME;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		sa.ctime.tv_sec = now.tv_sec;
		sa.ctime.tv_nsec = now.tv_nsec;
	}
	return setattr(in, &sa);
}

int vfs_utimes_path(struct task *t, const struct path *p, const struct k_timespec *times)
{
	const struct creds *c = &t->tg->creds;
	struct inode *in = p->dentry->inode;
	struct vfs_setattr sa = {0};
	struct timespec now;
	bool explicit_time = false;

	clock_gettime(CLOCK_REALTIME, &now);
	for (int i = 0; i < 2; i++) {
		struct k_timespec v = {now.tv_sec, now.tv_nsec};
		if (times) {
			if (times[i].tv_nsec == UTIME_OMIT)
				continue;
			if (times[i].tv_nsec != UTIME_NOW) {
				if (times[i].tv_nsec < 0 || times[i].tv_nsec > 999999999)
					return -EINVAL;
				v = times[i];
				explicit_time = true;
			}
		}
		sa.mask |= i == 0 ? VFS_ATTR_ATIME : VFS_ATTR_MTIME;
		if (i == 0)
			sa.atime = v;
		else
			sa.mtime = v;
	}
	if (!sa.mask)
		return 0;
	if (rdonly(p))
		return -EROFS;
	/* Explicit times need ownership; "now" is also allowed to writers. */
	if (!vfs_owner_or_capable(in, c)) {
		if (explicit_time)
			return -EPERM;
		int r = vfs_permission(in, MAY_WRITE, c);
		if (r < 0)
			return r;
	}
	sa.mask |= VFS_ATTR_CTIME;
	sa.ctime.tv_sec = now.tv_sec;
	sa.ctime.tv_nsec = now.tv_nsec;
	return setattr(in, &sa);
}

int vfs_remove_privs(struct task *t, struct inode *in)
{
	const struct creds *c = &t->tg->creds;
	struct vfs_setattr sa = {.mask = VFS_ATTR_MODE};
	struct vfs_attr a;
	int r;

	/* in->mode's permission bits may be stale, but a file that was
	 * never set-ID, the common case, costs no getattr. */
	if (!S_ISREG(in->mode) || !(in->mode & (S_ISUID | S_ISGID)) ||
	    creds_capable(c, CAP_FSETID))
		return 0;
	r = inode_getattr(in, &a);
	if (r < 0)
		return r;
	sa.mode = a.mode & 07777 & ~S_ISUID;
	if ((a.mode & S_IXGRP) || (c->fsgid != a.gid && !creds_in_group(c, a.gid)))
		sa.mode &= ~S_ISGID;
	return sa.mode == (a.mode & 07777) ? 0 : setattr(in, &sa);
}

int vfs_truncate_path(struct task *t, const struct path *p, int64_t len)
{
	struct inode *in = p->dentry->inode;
	struct vfs_setattr sa = {.mask = VFS_ATTR_SIZE, .size = len};
	int r;

	if (len < 0)
		return -EINVAL;
	if (S_ISDIR(in->mode))
		return -EISDIR;
	if (!S_ISREG(in->mode))
		return -EINVAL;
	if (rdonly(p))
		return -EROFS;
	r = vfs_permission(in, MAY_WRITE, &t->tg->creds);
	if (r < 0)
		return r;
	if ((uint64_t)len > t->tg->rlimits[RLIMIT_FSIZE].cur)
		return -EFBIG;
	r = vfs_remove_privs(t, in);
	if (r < 0)
		return r;
	return setattr(in, &sa);
}

int vfs_accessat(struct task *t, int dirfd, const char *path, int mode, int flags)
{
	struct creds c = t->tg->creds;
	struct path p;
	struct inode *in;
	int r;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	/* access(2) checks with the real ids (and, for them, the
	 * capabilities root has), unless AT_EACCESS. */
	if (!(flags & AT_EACCESS)) {
		c.fsuid = c.ruid;
		c.fsgid = c.rgid;
		if (c.ruid != 0)
			c.cap_effective = 0;
	}
	r = vfs_lookup_at_flags(t, dirfd, path, flags, &p);
	if (r < 0)
		return r;
	in = p.dentry->inode;
	r = 0;
	if (mode) {
		int mask = (mode & R_OK ? MAY_READ : 0) | (mode & W_OK ? MAY_WRITE : 0) |
			   (mode & X_OK ? MAY_EXEC : 0);
		r = vfs_permission(in, mask, &c);
		if (r == 0 && (mode & W_OK) && rdonly(&p) &&
		    (S_ISREG(in->mode) || S_ISDIR(in->mode) || S_ISLNK(in->mode)))
			r = -EROFS;
	}
	path_put(&p);
	return r;
}

int vfs_statfs_path(const struct path *p, struct k_statfs *st)
{
	struct superblock *sb = p->mnt->sb;
	int r;

	memset(st, 0, sizeof(*st));
	if (sb->ops && sb->ops->statfs) {
		r = sb->ops->statfs(sb, st);
		if (r < 0)
			return r;
	} else {
		st->f_type = sb->magic;
		st->f_bsize = st->f_frsize = 4096;
		st->f_namelen = VFS_NAME_MAX;
	}
	st->f_fsid[0] = (int32_t)(sb->dev & 0xffffffff);
	st->f_fsid[1] = (int32_t)(sb->dev >> 32);
	st->f_flags = 0x20; /* ST_VALID */
	if (p->mnt->flags & MNT_RDONLY || sb->flags & SB_RDONLY)
		st->f_flags |= 0x1; /* ST_RDONLY */
	if (p->mnt->flags & MNT_NOSUID)
		st->f_flags |= 0x2;
	if (p->mnt->flags & MNT_NODEV)
		st->f_flags |= 0x4;
	if (p->mnt->flags & MNT_NOEXEC)
		st->f_flags |= 0x8;
	return 0;
}
