/* /dev/zero (1,5): reads give zeros, writes vanish, and mappings are
 * anonymous memory. Each mmap gets a fresh memfd, sized past any offset
 * an application can map, as Linux gives each mmap of /dev/zero a fresh
 * object: MAP_PRIVATE is private zero-filled memory, MAP_SHARED is
 * memory shared with forked children only. The memfds stay open with
 * the file (the contract of mmap_fd), so their pages are freed when the
 * file is closed; past ZERO_MAX_MAPS mmaps through one open file the
 * last memfd is reused, so later shared mappings share pages. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sentry/fs/dev/dev_internal.h"
#include "sentry/vfs/file.h"

#define ZERO_MAP_SIZE (1LL << 62)
#define ZERO_MAX_MAPS 64

struct zero_file {
	pthread_mutex_t lock;
	int memfds[ZERO_MAX_MAPS];
	int n;
};

static int zero_mmap_fd(struct file *f)
{
	struct zero_file *z = f->priv;
	int fd;

	pthread_mutex_lock(&z->lock);
	if (z->n == ZERO_MAX_MAPS) {
		fd = z->memfds[z->n - 1];
		goto out;
	}
	fd = memfd_create("dev/zero", MFD_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		goto out;
	}
	if (ftruncate(fd, ZERO_MAP_SIZE) < 0) {
		int e = errno;
		close(fd);
		fd = -e;
		goto out;
	}
	z->memfds[z->n++] = fd;
out:
	pthread_mutex_unlock(&z->lock);
	return fd;
}

static void zero_release(struct file *f)
{
	struct zero_file *z = f->priv;

	if (!z)
		return;
	for (int i = 0; i < z->n; i++)
		close(z->memfds[i]);
	pthread_mutex_destroy(&z->lock);
	free(z);
}

static const struct file_ops zero_fops = {
	.read = dev_zero_read,
	.write = dev_sink_write,
	.llseek = dev_zero_llseek,
	.mmap_fd = zero_mmap_fd,
	.release = zero_release,
};

int dev_zero_open(struct inode *in, struct file *f)
{
	struct zero_file *z = calloc(1, sizeof(*z));

	(void)in;
	if (!z)
		return -ENOMEM;
	pthread_mutex_init(&z->lock, NULL);
	f->priv = z;
	f->ops = &zero_fops;
	return 0;
}
