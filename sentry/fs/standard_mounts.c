/* The standard mounts: procfs at /proc, devfs (a populated tmpfs) at
 * /dev, a tmpfs at /dev/shm and sysfs at /sys, with the flags container
 * runtimes give them. */
#include "sentry/fs/standard_mounts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/proc/procfs.h"
#include "sentry/fs/sys/sysfs.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel/creds.h"
#include "sentry/vfs/vfs.h"

/* Finds (or, in a writable tree, creates) the directory dst to mount on;
 * as mounts.c's mountpoint(). */
static int mountpoint(const char *dst, const struct creds *c, struct path *out)
{
	struct path cur;
	char *copy = strdup(dst), *save = NULL, *name;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	vfs_root(&cur);
	if (!cur.mnt) {
		free(copy);
		return -ENOENT;
	}
	for (name = strtok_r(copy, "/", &save); name; name = strtok_r(NULL, "/", &save)) {
		struct dentry *d;
		struct mount *m;
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			r = -EINVAL;
			break;
		}
		r = dcache_lookup(cur.dentry, name, &d);
		if (r < 0)
			break;
		if (!d->inode) {
			/* The negative dentry is held until it is replaced:
			 * dcache_instantiate marks it dead after dropping the
			 * cache's reference. */
			struct inode *dir = cur.dentry->inode, *in = NULL;
			struct dentry *neg = d;
			r = dir->ops->mkdir ? dir->ops->mkdir(dir, name, 0755, c, &in) : -EROFS;
			if (r == 0) {
				r = dcache_instantiate(cur.dentry, name, in, &d);
				inode_put(in);
			}
			dentry_put(neg);
			if (r < 0)
				break;
		}
		if (!S_ISDIR(d->inode->mode)) {
			dentry_put(d);
			r = -ENOTDIR;
			break;
		}
		dentry_put(cur.dentry);
		cur.dentry = d;
		while ((m = vfs_mount_on(cur.mnt, cur.dentry))) {
			path_put(&cur);
			cur.mnt = m;
			cur.dentry = m->root;
			dentry_get(m->root);
		}
	}
	free(copy);
	if (r < 0) {
		path_put(&cur);
		return r;
	}
	*out = cur;
	return 0;
}

/* Mounts sb (whose root inode is rin; both references are taken) at
 * dst. With populate, the fresh root is filled first (devfs). */
static int mount_sb(struct superblock *sb, struct inode *rin, const char *dst, unsigned flags,
		    const char *source, const char *options, bool populate)
{
	struct creds root;
	struct dentry *d;
	struct path where;
	int r;

	creds_init_root(&root);
	d = dentry_new_root(rin);
	if (!d) {
		inode_put(rin);
		sb_put(sb);
		return -ENOMEM;
	}
	r = populate ? devfs_populate(d, &root) : 0;
	if (r == 0)
		r = mountpoint(dst, &root, &where);
	if (r == 0) {
		r = vfs_mount(sb, d, &where, flags, source, options, NULL);
		path_put(&where);
	}
	dentry_put(d);
	sb_put(sb);
	if (r < 0)
		log_err("cannot mount %s on %s: %s", source, dst, strerror(-r));
	return r;
}

static int mount_tmpfs(const char *dst, uint32_t mode, unsigned flags, const char *source,
		       const char *options, bool populate)
{
	struct creds root;
	struct inode *rin;
	struct superblock *sb;

	creds_init_root(&root);
	sb = tmpfs_new(0, mode, &root, &rin);
	if (!sb)
		return -ENOMEM;
	return mount_sb(sb, rin, dst, flags, source, options, populate);
}

int fs_mount_standard(void)
{
	struct superblock *sb;
	struct inode *rin;
	int r;

	sb = procfs_new(&rin);
	if (!sb)
		return -ENOMEM;
	r = mount_sb(sb, rin, "/proc", MNT_NOSUID | MNT_NODEV | MNT_NOEXEC, "proc", "", false);
	if (r == 0)
		r = mount_tmpfs("/dev", 0755, MNT_NOSUID, "tmpfs", "mode=755", true);
	if (r == 0)
		r = mount_tmpfs("/dev/shm", 01777, MNT_NOSUID | MNT_NODEV | MNT_NOEXEC, "shm", "",
				false);
	if (r == 0) {
		sb = sysfs_new(&rin);
		if (!sb)
			return -ENOMEM;
		r = mount_sb(sb, rin, "/sys", MNT_NOSUID | MNT_NODEV | MNT_NOEXEC,
			     "sysfs", "", false);
	}
	return r;
}
