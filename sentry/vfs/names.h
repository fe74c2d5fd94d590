/* Name operations (names.c) and attribute operations (attr.c) that the
 * system call handlers call with sentry-side strings. All return 0 (or a
 * count) or -errno. */
#ifndef RC_SENTRY_VFS_NAMES_H
#define RC_SENTRY_VFS_NAMES_H

#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "sentry/vfs/vfs.h"

struct task;
struct file;

int vfs_mkdirat(struct task *t, int dirfd, const char *path, uint32_t mode);
int vfs_mknodat(struct task *t, int dirfd, const char *path, uint32_t mode, uint64_t dev);
int vfs_symlinkat(struct task *t, const char *target, int dirfd, const char *path);
int vfs_linkat(struct task *t, int olddirfd, const char *oldpath, int newdirfd,
	       const char *newpath, int flags);
int vfs_unlinkat(struct task *t, int dirfd, const char *path, int flags);
int vfs_renameat2(struct task *t, int olddirfd, const char *oldpath, int newdirfd,
		  const char *newpath, unsigned flags);
ssize_t vfs_readlinkat(struct task *t, int dirfd, const char *path, char *buf, size_t len);

/* attr.c. flags are the AT_* flags of the call. */
int vfs_statat(struct task *t, int dirfd, const char *path, int flags, struct vfs_attr *a,
	       int *mnt_id);
int vfs_chmod_path(struct task *t, const struct path *p, uint32_t mode);
int vfs_chown_path(struct task *t, const struct path *p, uint32_t uid, uint32_t gid);
/* times: NULL for now; tv_nsec may be UTIME_NOW or UTIME_OMIT. */
int vfs_utimes_path(struct task *t, const struct path *p, const struct k_timespec *times);
int vfs_truncate_path(struct task *t, const struct path *p, int64_t len);
/* Before a write or truncate: drops setuid (and setgid with group
 * execute) from a regular file unless the caller has CAP_FSETID
 * (Linux's file_remove_privs). */
int vfs_remove_privs(struct task *t, struct inode *in);
int vfs_accessat(struct task *t, int dirfd, const char *path, int mode, int flags);
int vfs_statfs_path(const struct path *p, struct k_statfs *st);
/* Resolves dirfd/path with the usual AT_SYMLINK_NOFOLLOW/AT_EMPTY_PATH. */
int vfs_lookup_at_flags(struct task *t, int dirfd, const char *path, int flags,
			struct path *out);

#endif
