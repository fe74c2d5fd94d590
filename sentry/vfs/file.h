/* Open file descriptions. Each filesystem (sentry/fs/) provides the ops;
 * the syscall handlers copy data in and out and call them with sentry
 * buffers. */
#ifndef RC_SENTRY_VFS_FILE_H
#define RC_SENTRY_VFS_FILE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "sentry/vfs/vfs.h"

struct task;
struct file;
struct wq_entry;
struct epitem;
struct uiovec;

struct file_ops {
	/* Reads into a sentry buffer at *pos; updates *pos. Returns bytes or
	 * -errno. pos is NULL for stream files. */
	ssize_t (*read)(struct file *f, void *buf, size_t len, int64_t *pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t len, int64_t *pos);
	/* Optional, used instead of read/write by read, write, readv and
	 * writev: the whole transfer on the application's iovecs in one
	 * call, so a datagram socket sees one message whatever the buffers
	 * (Linux's read_iter/write_iter). Returns bytes or -errno. */
	ssize_t (*read_iter)(struct file *f, struct task *t, const struct uiovec *iov,
			     size_t nr);
	ssize_t (*write_iter)(struct file *f, struct task *t, const struct uiovec *iov,
			      size_t nr);
	long (*ioctl)(struct file *f, struct task *t, unsigned long cmd, uint64_t arg);
	/* For files without an inode (imported host fds). */
	int (*stat)(struct file *f, struct k_stat *st);
	/* A host fd that backs mappings of this file, or -ENODEV. The fd
	 * stays owned by the file. */
	int (*mmap_fd)(struct file *f);
	/* New position for lseek; NULL means generic_llseek on the size. */
	int64_t (*llseek)(struct file *f, int64_t off, int whence);
	/* Directory entries (see vfs_emit_fn); pos is the file position. */
	int (*iterate)(struct file *f, int64_t *pos, vfs_emit_fn emit, void *ctx);
	int (*fsync)(struct file *f, bool datasync);
	int (*fallocate)(struct file *f, int mode, int64_t off, int64_t len);
	/* Readiness for poll/select/epoll: returns the events that hold now
	 * (POLLIN, POLLOUT, POLLHUP, ...). When e is not NULL, also queues
	 * e on the wait queue that will be woken (with the events as the
	 * wake mask) when readiness may change; the caller removes it.
	 * NULL poll means always readable and writable (regular files). */
	uint32_t (*poll)(struct file *f, struct wq_entry *e);
	/* fcntl commands the file type adds (pipe sizes, seals). */
	long (*fcntl)(struct file *f, struct task *t, int cmd, uint64_t arg);
	void (*release)(struct file *f);
	/* No positional I/O or seeking: pread is ESPIPE (pipes, ttys,
	 * sockets). */
	int stream;
	/* The file keeps its own position (an imported host fd shares the
	 * host's offset): read/write get pos NULL unless positional. */
	int own_pos;
	/* Files with no path of their own (fs/anon/): the name Linux's
	 * anon_inode shows in /proc/PID/fd, as "[eventfd]". */
	const char *anon_name;
};

struct file {
	atomic_int refs;
	const struct file_ops *ops;
	int flags;            /* O_ status flags and access mode */
	int64_t pos;
	pthread_mutex_t pos_lock;
	struct path path;     /* where it was opened (mnt NULL for anonymous) */
	struct inode *inode;  /* NULL for imported host fds */
	int owner;            /* F_SETOWN */
	int sig;              /* F_SETSIG */
	void *priv;
	/* The epoll items watching this file (fs/anon/epoll.c): they go
	 * when the last reference does. */
	struct epitem *ep_links;
};

struct file *file_new(const struct file_ops *ops, int flags, void *priv);
void file_get(struct file *f);
void file_put(struct file *f);

/* The events poll reports for f now (and e queued, as ops->poll). */
uint32_t vfs_poll(struct file *f, struct wq_entry *e);

/* fstat of any open file: the inode's attributes, or ops->stat. */
int vfs_fstat(struct file *f, struct k_stat *st);
void vfs_attr_to_stat(const struct vfs_attr *a, struct k_stat *st);
/* getdents: emits f's directory entries from its position on (Linux's
 * iterate_dir): -ENOTDIR for a non-directory, -ENOENT once the
 * directory has been removed. */
int vfs_iterate_dir(struct file *f, vfs_emit_fn emit, void *ctx);
/* lseek's default: SEEK_SET/CUR/END (and DATA/HOLE as if no holes)
 * against size. */
int64_t generic_llseek(struct file *f, int64_t off, int whence, int64_t size);

#endif
