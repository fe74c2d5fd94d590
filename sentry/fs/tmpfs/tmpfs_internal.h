/* tmpfs internals shared by its files (dir.c, file.c, node.c). */
#ifndef RC_SENTRY_FS_TMPFS_INTERNAL_H
#define RC_SENTRY_FS_TMPFS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "abi/linux.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/vfs/vfs.h"

struct tmpfs_dirent {
	char *name;
	struct inode *inode;     /* referenced */
	uint64_t serial;         /* readdir cookie, increasing */
	struct tmpfs_dirent *next;
};

struct tmpfs_xattr {
	char *name;
	void *value;
	size_t len;
	struct tmpfs_xattr *next;
};

struct tmpfs_node {
	uint32_t uid, gid, nlink;
	uint64_t rdev;
	struct k_timespec atime, mtime, ctime, btime;
	struct tmpfs_xattr *xattrs;
	/* regular files */
	int memfd;               /* -1 until the first byte is written */
	int64_t size;
	/* directories */
	struct tmpfs_dirent *entries, *last;
	uint64_t next_serial;
	struct inode *parent;    /* not referenced: for ".." */
	/* symlinks */
	char *target;
};

struct tmpfs_sb {
	/* One lock for the whole filesystem: its operations are short and
	 * never block on anything but memory. */
	pthread_mutex_t lock;
	atomic_uint_fast64_t next_ino;
	uint64_t size_limit;     /* bytes, 0 for none */
	uint64_t used;           /* bytes of file data, under lock */
	uint64_t inodes;
};

extern const struct inode_ops tmpfs_dir_ops, tmpfs_file_iops, tmpfs_symlink_ops,
	tmpfs_special_ops;
extern const struct file_ops tmpfs_file_ops, tmpfs_dir_fops;

static inline struct tmpfs_node *TN(struct inode *in) { return in->priv; }
static inline struct tmpfs_sb *TSB(struct inode *in) { return in->sb->priv; }

void tmpfs_now(struct k_timespec *ts);
/* A new inode of the given mode, owned by c. */
struct inode *tmpfs_new_inode(struct superblock *sb, uint32_t mode, const struct creds *c);

/* Shared attribute handling (node.c). */
int tmpfs_getattr(struct inode *in, struct vfs_attr *a);
int tmpfs_setattr(struct inode *in, const struct vfs_setattr *sa);
ssize_t tmpfs_getxattr(struct inode *in, const char *name, void *buf, size_t len);
int tmpfs_setxattr(struct inode *in, const char *name, const void *val, size_t len,
		   int flags);
ssize_t tmpfs_listxattr(struct inode *in, char *buf, size_t len);
int tmpfs_removexattr(struct inode *in, const char *name);
void tmpfs_release(struct inode *in);
/* Grows or shrinks a regular file; called with the fs lock held. */
int tmpfs_truncate_locked(struct inode *in, int64_t size);

#endif
