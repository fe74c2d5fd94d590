/* Filling /dev: device nodes with Linux's numbers and modes, the links
 * into /proc/self/fd, and the mount points shm and pts. */
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "sentry/fs/dev/dev_internal.h"

static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_result;

static void register_all(void)
{
	register_result = dev_mem_register();
	if (register_result == 0)
		register_result = dev_tty_register();
}

int devfs_register_drivers(void)
{
	pthread_once(&register_once, register_all);
	return register_result;
}

static const struct {
	const char *name;
	unsigned major, minor;
} nodes[] = {
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
	const char *name, *target;
} links[] = {
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
};

static const struct {
	const char *name;
	uint32_t mode;
} dirs[] = {
	{"shm", 01777},
	{"pts", 0755},
};

/* Records what a make call created in the dentry cache. */
static int added(struct dentry *root, const char *name, int r, struct inode *in)
{
	if (r < 0)
		return r;
	r = dcache_instantiate(root, name, in, NULL);
	inode_put(in);
	return r;
}

int devfs_populate(struct dentry *root, const struct creds *c)
{
	struct inode *dir = root->inode, *in = NULL;
	int r = devfs_register_drivers();

	if (r < 0)
		return r;
	if (!dir || !dir->ops->mknod || !dir->ops->symlink || !dir->ops->mkdir)
		return -EPERM;
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		r = dir->ops->mknod(dir, nodes[i].name, S_IFCHR | 0666,
				    makedev(nodes[i].major, nodes[i].minor), c, &in);
		if ((r = added(root, nodes[i].name, r, in)) < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		r = dir->ops->symlink(dir, links[i].name, links[i].target, c, &in);
		if ((r = added(root, links[i].name, r, in)) < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		r = dir->ops->mkdir(dir, dirs[i].name, dirs[i].mode, c, &in);
		if ((r = added(root, dirs[i].name, r, in)) < 0)
			return r;
	}
	return 0;
}
