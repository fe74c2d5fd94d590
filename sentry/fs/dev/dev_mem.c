/* The memory devices of Linux's drivers/char/mem.c and random.c:
 * null (1,3), zero (1,5), full (1,7), random (1,8) and urandom (1,9). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "abi/linux.h"
#include "sentry/fs/dev/dev_internal.h"
#include "sentry/vfs/file.h"

/* null, zero and full ignore seeks: lseek always answers 0. */
int64_t dev_zero_llseek(struct file *f, int64_t off, int whence)
{
	(void)f;
	(void)off;
	(void)whence;
	return 0;
}

static ssize_t null_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	(void)f, (void)buf, (void)len, (void)pos;
	return 0;
}

ssize_t dev_sink_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	(void)f, (void)buf, (void)pos;
	return (ssize_t)len;
}

ssize_t dev_zero_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	(void)f, (void)pos;
	memset(buf, 0, len);
	return (ssize_t)len;
}

static ssize_t full_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	(void)f, (void)buf, (void)len, (void)pos;
	return -ENOSPC;
}

static ssize_t random_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	size_t got = 0;

	(void)f, (void)pos;
	/* The host's pool is initialised long before any sandbox runs, so
	 * this never blocks, for random as for urandom (as Linux >= 5.6). */
	while (got < len) {
		ssize_t n = getrandom((char *)buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return got ? (ssize_t)got : -errno;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int64_t random_llseek(struct file *f, int64_t off, int whence)
{
	(void)off, (void)whence;
	return f->pos; /* noop_llseek */
}

static const struct file_ops null_fops = {
	.read = null_read, .write = dev_sink_write, .llseek = dev_zero_llseek};
static const struct file_ops full_fops = {
	.read = dev_zero_read, .write = full_write, .llseek = dev_zero_llseek};
static const struct file_ops random_fops = {
	.read = random_read, .write = dev_sink_write, .llseek = random_llseek};

static int null_open(struct inode *in, struct file *f) { (void)in; f->ops = &null_fops; return 0; }
static int full_open(struct inode *in, struct file *f) { (void)in; f->ops = &full_fops; return 0; }
static int random_open(struct inode *in, struct file *f) { (void)in; f->ops = &random_fops; return 0; }

int dev_mem_register(void)
{
	int r = vfs_register_chrdev(1, 3, null_open);
	if (r == 0)
		r = vfs_register_chrdev(1, 5, dev_zero_open);
	if (r == 0)
		r = vfs_register_chrdev(1, 7, full_open);
	if (r == 0)
		r = vfs_register_chrdev(1, 8, random_open);
	if (r == 0)
		r = vfs_register_chrdev(1, 9, random_open);
	return r;
}
