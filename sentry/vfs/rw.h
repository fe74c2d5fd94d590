/* Moving data between a file and application memory in bounded chunks
 * of sentry memory. */
#ifndef RC_SENTRY_VFS_RW_H
#define RC_SENTRY_VFS_RW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;
struct file;

/* Linux caps a single transfer at INT_MAX rounded down to a page. */
#define MAX_RW_COUNT (0x7fffffffUL & ~4095UL)

/* pos: an explicit offset (pread/pwrite), or NULL for the file position. */
ssize_t vfs_read_user(struct task *t, struct file *f, uint64_t buf, size_t len,
		      int64_t *pos);
ssize_t vfs_write_user(struct task *t, struct file *f, uint64_t buf, size_t len,
		       int64_t *pos);

struct uiovec {
	uint64_t base;
	uint64_t len;
};
#define UIO_MAXIOV 1024
/* Copies in and checks an iovec array; returns the total length (capped
 * at MAX_RW_COUNT, trimming the vector) or -errno. *out is malloc'd. */
ssize_t iovec_import(struct task *t, uint64_t uiov, uint64_t cnt, struct uiovec **out);

#endif
