/* The sandbox's mount namespace: one tree of mounts, set up at boot from
 * the sandbox configuration. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/vfs.h"

struct mount_ns vfs_mounts = {.lock = PTHREAD_MUTEX_INITIALIZER, .next_id = 1};

int vfs_mount(struct superblock *sb, struct dentry *root, const struct path *where,
	      unsigned flags, const char *source, const char *options, struct mount **out)
{
	struct mount *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	if ((source && !(m->source = strdup(source))) ||
	    (options && !(m->options = strdup(options)))) {
		free(m->source);
		free(m);
		return -ENOMEM;
	}
	atomic_init(&m->refs, 1);
	sb_get(sb);
	m->sb = sb;
	dentry_get(root);
	m->root = root;
	m->flags = flags;
	pthread_mutex_lock(&vfs_mounts.lock);
	m->id = vfs_mounts.next_id++;
	if (where) {
		mount_get(where->mnt);
		m->parent = where->mnt;
		dentry_get(where->dentry);
		m->mountpoint = where->dentry;
		atomic_fetch_add(&where->dentry->nmounts, 1);
	} else {
		if (vfs_mounts.root) {
			pthread_mutex_unlock(&vfs_mounts.lock);
			mount_put(m);
			return -EBUSY;
		}
		vfs_mounts.root = m;
	}
	/* Append: later mounts on the same point hide earlier ones, and
	 * /proc/mounts lists them in order. The list holds a reference. */
	mount_get(m);
	struct mount **pp = &vfs_mounts.list;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	pthread_mutex_unlock(&vfs_mounts.lock);
	if (out)
		*out = m;
	else
		mount_put(m);
	return 0;
}

struct mount *vfs_mount_on(struct mount *mnt, struct dentry *d)
{
	struct mount *found = NULL;

	if (atomic_load(&d->nmounts) == 0)
		return NULL;
	pthread_mutex_lock(&vfs_mounts.lock);
	for (struct mount *m = vfs_mounts.list; m; m = m->next)
		if (m->parent == mnt && m->mountpoint == d)
			found = m; /* the last mounted is on top */
	if (found)
		mount_get(found);
	pthread_mutex_unlock(&vfs_mounts.lock);
	return found;
}

void vfs_root(struct path *out)
{
	pthread_mutex_lock(&vfs_mounts.lock);
	out->mnt = vfs_mounts.root;
	out->dentry = vfs_mounts.root ? vfs_mounts.root->root : NULL;
	path_get(out);
	pthread_mutex_unlock(&vfs_mounts.lock);
}

struct mount *vfs_kern_mount(struct superblock *sb, struct dentry *root)
{
	struct mount *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	sb_get(sb);
	m->sb = sb;
	dentry_get(root);
	m->root = root;
	/* Its own id (fdinfo's mnt_id), though no list holds it. */
	pthread_mutex_lock(&vfs_mounts.lock);
	m->id = vfs_mounts.next_id++;
	pthread_mutex_unlock(&vfs_mounts.lock);
	return m;
}
