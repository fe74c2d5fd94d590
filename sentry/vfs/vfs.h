/* The virtual filesystem: superblocks, inodes, dentries, mounts and paths.
 * Filesystems (sentry/fs/) implement struct inode_ops and struct file_ops;
 * everything a system call does with names goes through here.
 *
 * Lifetimes: every object is reference counted (get/put). A dentry holds
 * its parent and its inode; a directory dentry's child cache holds its
 * children, so a name walked once stays cached (the lower layers do not
 * change under a running sandbox: DESIGN.md, "exclusive" access).
 *
 * Lock order: vfs_rename_lock (rename only) -> dentry.lock of a parent
 * (parents before children; two unrelated directories in address order)
 * -> the filesystem's own locks -> mount_ns.lock. */
#ifndef RC_SENTRY_VFS_VFS_H
#define RC_SENTRY_VFS_VFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"

struct task;
struct file;
struct file_ops;
struct creds;
struct inode;
struct dentry;
struct mount;

#define VFS_NAME_MAX 255
#define VFS_PATH_MAX 4096
#define VFS_MAXSYMLINKS 40

/* What stat shows; filesystems fill it in getattr. */
struct vfs_attr {
	uint64_t ino;
	uint64_t dev;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t rdev;
	int64_t size;
	int64_t blocks;      /* 512-byte units */
	uint32_t blksize;
	struct k_timespec atime, mtime, ctime, btime;
};

/* setattr: which fields to change. */
#define VFS_ATTR_MODE 0x1
#define VFS_ATTR_UID 0x2
#define VFS_ATTR_GID 0x4
#define VFS_ATTR_SIZE 0x8
#define VFS_ATTR_ATIME 0x10
#define VFS_ATTR_MTIME 0x20
#define VFS_ATTR_CTIME 0x40

struct vfs_setattr {
	unsigned mask;
	uint32_t mode;       /* permission bits only */
	uint32_t uid, gid;
	int64_t size;
	struct k_timespec atime, mtime, ctime;
};

struct k_statfs {
	int64_t f_type, f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
	int32_t f_fsid[2];
	int64_t f_namelen, f_frsize, f_flags;
	int64_t f_spare[4];
};

/* Superblock flags. */
#define SB_RDONLY 0x1
#define SB_NOCACHE 0x2  /* names change behind the VFS (procfs): never cache */
/* No paths (pipefs): /proc/PID/fd shows the file as "pipe:[ino]", not a
 * path. */
#define SB_PSEUDO 0x4

struct superblock {
	atomic_int refs;
	const char *fstype;  /* "tmpfs", "proc", "overlay", ... as /proc/mounts shows */
	uint64_t dev;        /* st_dev of every inode */
	uint32_t magic;      /* statfs f_type */
	unsigned flags;      /* SB_* */
	const struct super_ops *ops;
	void *priv;
};

struct super_ops {
	int (*statfs)(struct superblock *sb, struct k_statfs *st);
	void (*release)(struct superblock *sb);
};

/* Directory iteration: iterate calls emit for each entry from *pos on;
 * emit returns nonzero when the caller's buffer is full, and iterate then
 * stops without consuming that entry. *pos is the filesystem's cookie for
 * the next entry (0 is the start; "." and ".." are the filesystem's to
 * emit). */
typedef int (*vfs_emit_fn)(void *ctx, const char *name, size_t namelen,
			   uint64_t ino, unsigned type /* DT_* */, int64_t next);

struct inode_ops {
	/* Finds name in dir: 0 and a referenced inode, or -ENOENT. */
	int (*lookup)(struct inode *dir, const char *name, struct inode **out);
	int (*create)(struct inode *dir, const char *name, uint32_t mode,
		      const struct creds *c, struct inode **out);
	int (*mkdir)(struct inode *dir, const char *name, uint32_t mode,
		     const struct creds *c, struct inode **out);
	/* mode carries the file type (S_IFIFO, S_IFCHR, ...). */
	int (*mknod)(struct inode *dir, const char *name, uint32_t mode, uint64_t rdev,
		     const struct creds *c, struct inode **out);
	int (*symlink)(struct inode *dir, const char *name, const char *target,
		       const struct creds *c, struct inode **out);
	int (*link)(struct inode *dir, const char *name, struct inode *target);
	int (*unlink)(struct inode *dir, const char *name, struct inode *victim);
	int (*rmdir)(struct inode *dir, const char *name, struct inode *victim);
	/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE (checked by the VFS). */
	int (*rename)(struct inode *olddir, const char *oldname, struct inode *newdir,
		      const char *newname, unsigned flags);
	/* Optional: told after a successful rename that in now lives at
	 * newname in newdir (filesystems that remember names: overlay). */
	void (*renamed)(struct inode *in, struct inode *newdir, const char *newname);
	/* Copies the link target (no NUL); returns its length. */
	ssize_t (*readlink)(struct inode *in, char *buf, size_t len);
	/* A magic link (/proc/PID/fd/N, exe, cwd, root): the path it stands
	 * for, referenced, instead of text to resolve. */
	int (*get_link)(struct inode *in, struct task *t, struct mount **mnt,
			struct dentry **d);
	int (*getattr)(struct inode *in, struct vfs_attr *attr);
	int (*setattr)(struct inode *in, const struct vfs_setattr *sa);
	/* Makes the open file description for in (file->ops, file->priv). */
	int (*open)(struct inode *in, struct file *f);
	ssize_t (*getxattr)(struct inode *in, const char *name, void *buf, size_t len);
	int (*setxattr)(struct inode *in, const char *name, const void *val,
			size_t len, int flags);
	ssize_t (*listxattr)(struct inode *in, char *buf, size_t len);
	int (*removexattr)(struct inode *in, const char *name);
	void (*release)(struct inode *in);
};

struct inode {
	atomic_int refs;
	struct superblock *sb;
	const struct inode_ops *ops;
	uint64_t ino;
	uint32_t mode;       /* the file type never changes; bits may be stale */
	void *priv;
};

struct dentry {
	atomic_int refs;
	struct dentry *parent;   /* referenced; a root's parent is itself */
	struct inode *inode;     /* NULL: a cached "does not exist" */
	char *name;
	pthread_mutex_t lock;    /* the child cache */
	struct dentry **children; /* hash buckets, chained through hnext */
	size_t nchildren, capchildren;
	struct dentry *hnext;
	atomic_int nmounts;      /* mounts on this dentry */
	bool dead;               /* removed from its directory */
};

/* Mount flags. */
#define MNT_RDONLY 0x1
#define MNT_NOSUID 0x2
#define MNT_NODEV 0x4
#define MNT_NOEXEC 0x8

struct mount {
	atomic_int refs;
	int id;
	struct superblock *sb;
	struct dentry *root;
	struct mount *parent;     /* NULL for the root mount */
	struct dentry *mountpoint;
	unsigned flags;
	char *source;             /* for /proc/mounts */
	char *options;            /* "size=..." etc, for /proc/mounts */
	struct mount *next;       /* in the namespace's list, in mount order */
};

struct mount_ns {
	pthread_mutex_t lock;
	struct mount *root;
	struct mount *list;
	int next_id;
};

struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

/* Where a process resolves "/" and relative paths (shared by CLONE_FS). */
struct fs_context {
	atomic_int refs;
	pthread_mutex_t lock;
	struct path root, cwd;
	uint32_t umask;
};

/* --- objects (vfs.c) --- */
struct superblock *sb_new(const char *fstype, uint32_t magic, const struct super_ops *ops,
			  void *priv);
void sb_get(struct superblock *sb);
void sb_put(struct superblock *sb);
/* An unused device number for a virtual filesystem (major 0). */
uint64_t vfs_anon_dev(void);

struct inode *inode_new(struct superblock *sb, const struct inode_ops *ops, uint64_t ino,
			uint32_t mode, void *priv);
void inode_get(struct inode *in);
void inode_put(struct inode *in);
int inode_getattr(struct inode *in, struct vfs_attr *attr);

struct dentry *dentry_new_root(struct inode *in); /* takes the inode reference */
void dentry_get(struct dentry *d);
void dentry_put(struct dentry *d);

void mount_get(struct mount *m);
void mount_put(struct mount *m);

void path_get(const struct path *p);
void path_put(struct path *p);
void path_copy(struct path *dst, const struct path *src); /* with a reference */

struct fs_context *fs_context_new(const struct path *root, const struct path *cwd);
struct fs_context *fs_context_copy(struct fs_context *fs);
void fs_context_put(struct fs_context *fs);

/* --- the dentry cache (dcache.c) --- */
/* Looks name up under dir (cached, or through the filesystem). Returns a
 * referenced dentry, negative if the name does not exist; or -errno. */
int dcache_lookup(struct dentry *dir, const char *name, struct dentry **out);
/* Records that name now exists as in (after create/mkdir/...). */
int dcache_instantiate(struct dentry *dir, const char *name, struct inode *in,
		       struct dentry **out);
/* Records that name is gone (after unlink/rmdir/rename). */
void dcache_remove(struct dentry *dir, const char *name);
/* After a rename: the cached dentry moves (keeping its identity), and a
 * replaced target is forgotten; with exchange the two swap. Called with
 * vfs_rename_lock held. */
void dcache_move(struct dentry *olddir, const char *oldname, struct dentry *newdir,
		 const char *newname, bool exchange);
/* Serialises renames against each other (ancestry checks). */
extern pthread_mutex_t vfs_rename_lock;

/* --- mounts (mount.c) --- */
extern struct mount_ns vfs_mounts;
/* Mounts sb's root at where (NULL: as the namespace root). */
int vfs_mount(struct superblock *sb, struct dentry *root, const struct path *where,
	      unsigned flags, const char *source, const char *options, struct mount **out);
/* The mount whose mountpoint is (mnt, d), or NULL; referenced. */
struct mount *vfs_mount_on(struct mount *mnt, struct dentry *d);
/* The root of the mount namespace, referenced. */
void vfs_root(struct path *out);
/* A mount of sb in no namespace (Linux's kern_mount), for files that need
 * a path but live nowhere: pipes, memfds. */
struct mount *vfs_kern_mount(struct superblock *sb, struct dentry *root);

/* --- permission (permission.c) --- */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4
/* Checks mask against the inode's mode and owner for creds c: 0, -EACCES. */
int vfs_permission(struct inode *in, int mask, const struct creds *c);
bool creds_capable(const struct creds *c, int cap);
/* Whether c may change the attributes of in (owner or CAP_FOWNER). */
bool vfs_owner_or_capable(struct inode *in, const struct creds *c);

/* --- path walk (namei.c) --- */
#define LOOKUP_FOLLOW 0x1        /* follow a symlink in the last component */
#define LOOKUP_DIRECTORY 0x2     /* the last component must be a directory */
#define LOOKUP_EMPTY 0x4         /* "" names the starting directory (AT_EMPTY_PATH) */
#define LOOKUP_NO_SYMLINKS 0x10  /* openat2 RESOLVE_NO_SYMLINKS */
#define LOOKUP_NO_MAGICLINKS 0x20
#define LOOKUP_NO_XDEV 0x40
#define LOOKUP_BENEATH 0x80
#define LOOKUP_IN_ROOT 0x100
#define LOOKUP_CACHED 0x200

/* The starting point of a walk: dirfd (or AT_FDCWD) in task t. */
int vfs_start(struct task *t, int dirfd, struct path *out);
/* The start for path: the root for an absolute path (dirfd unchecked),
 * else vfs_start. */
int vfs_start_for(struct task *t, int dirfd, const char *path, unsigned flags,
		  struct path *out);
/* Resolves path from dirfd; out is referenced. A missing final component
 * is -ENOENT. */
int vfs_lookup(struct task *t, int dirfd, const char *path, unsigned flags,
	       struct path *out);
/* Resolves all but the last component; the last is copied to last
 * (VFS_NAME_MAX + 1 bytes). *trailing_slash tells whether the path ended
 * in '/'. Returns -EEXIST-like errors the caller decides; a last
 * component of "." or ".." is reported as -EISDIR-free: *last is set to
 * it and the caller refuses as Linux does for its call. */
int vfs_lookup_parent(struct task *t, int dirfd, const char *path, unsigned flags,
		      struct path *parent, char *last, bool *trailing_slash);
int vfs_lookup_parent_at(struct task *t, const struct path *start, const char *path,
			 unsigned flags, struct path *parent, char *last, bool *trailing_slash);
/* Resolves from an already referenced start (used by exec and the
 * loader): like vfs_lookup with dirfd replaced by start. */
int vfs_lookup_at(struct task *t, const struct path *start, const char *path,
		  unsigned flags, struct path *out);
/* The absolute path of p as seen from root (d_path): into buf. Returns
 * the length, or -ENAMETOOLONG. Unreachable paths get Linux's suffix
 * " (deleted)" when removed. */
int vfs_path_string(const struct path *root, const struct path *p, char *buf, size_t len);

/* --- opening (open.c) --- */
/* Internal open flag: the file was just created (no permission check). */
#define __O_CREATED 0x40000000
/* Opens the file at p with open(2) flags; returns a new file. */
int vfs_open_path(struct task *t, const struct path *p, int flags, struct file **out);
/* open/openat/openat2 semantics in full: create, truncate, permissions. */
int vfs_openat(struct task *t, int dirfd, const char *path, int flags, uint32_t mode,
	       unsigned lookup_flags, struct file **out);

/* --- devices and fifos (special.c) --- */
typedef int (*vfs_chrdev_open_fn)(struct inode *in, struct file *f);
int vfs_register_chrdev(uint32_t major, uint32_t minor, vfs_chrdev_open_fn open);
/* Opens a device, fifo or socket inode of any filesystem. */
int vfs_open_special(struct inode *in, uint64_t rdev, struct file *f);
/* Set by the pipe code: opens a named fifo. */
extern int (*vfs_fifo_open)(struct inode *in, struct file *f);

#endif
