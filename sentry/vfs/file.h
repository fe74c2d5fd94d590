/* Open file descriptions. Each filesystem (sentry/fs/) provides the ops;
 * the syscall handlers copy data in and out and call them with sentry
 * buffers. */
#ifndef RC_SENTRY_VFS_FILE_H
#define RC_SENTRY_VFS_FILE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"

struct task;
struct file;

struct file_ops {
	/* Reads into a sentry buffer at *pos (advanced by the caller's
	 * choice: ops update *pos). Returns bytes or -errno. */
	ssize_t (*read)(struct file *f, void *buf, size_t len, int64_t *pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t len, int64_t *pos);
	long (*ioctl)(struct file *f, struct task *t, unsigned long cmd, uint64_t arg);
	int (*stat)(struct file *f, struct k_stat *st);
	/* A host fd that backs mappings of this file, or -ENODEV. */
	int (*mmap_fd)(struct file *f);
	void (*release)(struct file *f);
	/* Whether reads and writes use the file position (false for pipes,
	 * ttys and sockets). */
	int stream;
};

struct file {
	atomic_int refs;
	const struct file_ops *ops;
	int flags;            /* O_ status flags and access mode */
	int64_t pos;
	pthread_mutex_t pos_lock;
	void *priv;
};

struct file *file_new(const struct file_ops *ops, int flags, void *priv);
void file_get(struct file *f);
void file_put(struct file *f);

#endif
