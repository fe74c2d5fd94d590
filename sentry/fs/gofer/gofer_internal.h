/* Internals of the gofer client filesystem, shared by its files:
 * client.c (the RPC channel), super.c (mounting, statfs, inode numbers),
 * inode.c (lookup, attributes, symlinks), dir.c (names and readdir),
 * listing.c (fetched listings, READDIRPLUS), file.c (regular files and
 * their host fds).
 *
 * Locks: gofer_inode.lock (attributes, symlink target, listing) and
 * gfs_fd_lock (host fds of regular files, the idle list) are never held
 * together, nor across an RPC; the channel's own locks are innermost.
 * The VFS may hold a dentry lock across lookup's RPC. */
#ifndef RC_SENTRY_FS_GOFER_INTERNAL_H
#define RC_SENTRY_FS_GOFER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gofer/protocol.h"
#include "sentry/fs/gofer/gofer_fs.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* ---- client.c ---- */
/* One request and its reply. Returns 0 with *r filled (free it with
 * gofer_reply_free, close r->fd), -errno from the gofer (nothing to free),
 * or -EIO once the channel is broken. q->id is assigned here. */
int gfs_rpc(struct gofer_req *q, struct gofer_reply *r);
/* Releases a node without waiting: queued and sent with the next request. */
void gfs_close_node(uint64_t node);
bool gfs_attached(void);

/* ---- super.c ---- */
struct gofer_sb {
	uint32_t index;
	uint64_t root_node;
	uint64_t root_dev;        /* host device of the mount root */
	pthread_mutex_t ino_lock; /* the table below */
	struct ino_entry **inos;  /* (host dev, ino) -> our ino, other devices */
	size_t ninos, capinos;
	uint64_t next_ino;
};

/* The inode number shown for a host (dev, ino): the host's for the mount
 * root's device, a number of our own for files on others (a root of "/"
 * spans several host filesystems, whose inode numbers collide). */
uint64_t gfs_ino(struct superblock *sb, uint64_t dev, uint64_t ino);

/* ---- inode.c ---- */
struct gofer_inode {
	uint64_t node;            /* the gofer's handle */
	pthread_mutex_t lock;     /* attr, link, listing */
	struct gofer_attr attr;   /* the host's attributes, cached */
	char *link;               /* symlink target, cached */
	struct gfs_listing *listing; /* directories: cached entries */
	/* Regular files: host fds shared by every open of the inode (under
	 * gfs_fd_lock; kept while open, then on a bounded idle list). */
	atomic_int rofd, wfd;     /* -1 when not open on the host */
	bool wfd_readable;
	unsigned nopen;
	struct gofer_inode *lru_prev, *lru_next;
	bool on_lru;
	struct inode *inode;
};

static inline struct gofer_inode *GI(struct inode *in) { return in->priv; }
static inline struct gofer_sb *GSB(struct inode *in) { return in->sb->priv; }

/* A new inode for a node the gofer just handed out (taking the handle). */
int gfs_inode_new(struct superblock *sb, uint64_t node, const struct gofer_attr *a,
		  struct inode **out);
/* Replaces the cached attributes (and the mode bits of in->mode). */
void gfs_set_attr(struct inode *in, const struct gofer_attr *a);
void gfs_now(int64_t *sec, uint32_t *nsec);

int gfs_getattr(struct inode *in, struct vfs_attr *a);
int gfs_setattr(struct inode *in, const struct vfs_setattr *sa);
ssize_t gfs_getxattr(struct inode *in, const char *name, void *buf, size_t len);
int gfs_setxattr(struct inode *in, const char *name, const void *val, size_t len, int flags);
ssize_t gfs_listxattr(struct inode *in, char *buf, size_t len);
int gfs_removexattr(struct inode *in, const char *name);
void gfs_release(struct inode *in);

extern const struct inode_ops gfs_dir_iops, gfs_file_iops, gfs_symlink_iops,
	gfs_special_iops;
extern const struct file_ops gfs_dir_fops, gfs_file_fops;

/* ---- listing.c ---- */
struct gfs_plus;

struct gfs_dent {
	uint64_t ino;
	unsigned type;
	char *name;
	struct gfs_plus *plus;    /* node and attributes, until taken */
};

struct gfs_listing {
	atomic_int refs;
	size_t n, cap, nplus;
	struct gfs_dent *e;
	uint32_t *index;          /* entries with plus, by name: index + 1 */
	size_t index_cap;
};

/* Every entry of dir, the first ones with nodes (ReaddirPlus). */
int gfs_listing_fetch(struct inode *dir, struct gfs_listing **out);
/* Drops a reference; the last closes the nodes never taken (it may send
 * a Close: never call it holding an inode lock). */
void gfs_listing_put(struct gfs_listing *l);
/* The node and attributes listed for name, taken (true), or false: walk
 * it. Called with the directory's lock held. */
bool gfs_listing_take(struct gfs_listing *l, const char *name, uint64_t *node,
		      struct gofer_attr *a);

/* ---- dir.c ---- */
int gfs_lookup(struct inode *dir, const char *name, struct inode **out);
/* Forgets dir's cached listing (its names changed). */
void gfs_invalidate(struct inode *dir);

/* ---- file.c ---- */
extern pthread_mutex_t gfs_fd_lock;
/* A new file came with a writable fd (Create): cache it as idle. */
void gfs_file_adopt_fd(struct inode *in, int fd);
/* Closes the inode's host fds (its release). */
void gfs_file_forget(struct inode *in);
/* Truncates through the inode's writable fd if it has one (-EAGAIN if
 * not): no round trip for O_TRUNC and ftruncate on open files. */
int gfs_file_truncate(struct inode *in, int64_t size);

#endif
