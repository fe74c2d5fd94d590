/* devfs internals: the drivers' registration and shared file ops. */
#ifndef RC_SENTRY_FS_DEV_DEV_INTERNAL_H
#define RC_SENTRY_FS_DEV_DEV_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "sentry/fs/dev/devfs.h"
#include "sentry/vfs/vfs.h"

struct file;

int dev_mem_register(void);
int dev_tty_register(void);
int dev_zero_open(struct inode *in, struct file *f);

/* Shared by null, zero and full. */
int64_t dev_zero_llseek(struct file *f, int64_t off, int whence);
ssize_t dev_zero_read(struct file *f, void *buf, size_t len, int64_t *pos);
ssize_t dev_sink_write(struct file *f, const void *buf, size_t len, int64_t *pos);

#endif
