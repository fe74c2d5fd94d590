/* Opening device, fifo and socket inodes of any filesystem: devices by
 * number from a registry the device drivers fill (sentry/fs/dev*), fifos
 * through the pipe code. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

struct chrdev {
	uint32_t major, minor;
	vfs_chrdev_open_fn open;
	struct chrdev *next;
};

static pthread_mutex_t chrdev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chrdev *chrdevs;

int vfs_register_chrdev(uint32_t major, uint32_t minor, vfs_chrdev_open_fn open)
{
	struct chrdev *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->major = major;
	c->minor = minor;
	c->open = open;
	pthread_mutex_lock(&chrdev_lock);
	c->next = chrdevs;
	chrdevs = c;
	pthread_mutex_unlock(&chrdev_lock);
	return 0;
}

int vfs_open_special(struct inode *in, uint64_t rdev, struct file *f)
{
	vfs_chrdev_open_fn open = NULL;

	switch (in->mode & S_IFMT) {
	case S_IFCHR:
		pthread_mutex_lock(&chrdev_lock);
		for (struct chrdev *c = chrdevs; c; c = c->next)
			if (c->major == major(rdev) && c->minor == minor(rdev))
				open = c->open;
		pthread_mutex_unlock(&chrdev_lock);
		return open ? open(in, f) : -ENXIO;
	case S_IFIFO:
		return vfs_fifo_open ? vfs_fifo_open(in, f) : -ENXIO;
	case S_IFBLK:
	case S_IFSOCK:
	default:
		return -ENXIO;
	}
}

int (*vfs_fifo_open)(struct inode *in, struct file *f);
