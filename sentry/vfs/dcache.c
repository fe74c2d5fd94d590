/* The dentry cache: each directory dentry keeps a hash table of the names
 * looked up in it, including names that do not exist (negative dentries),
 * so repeated walks and failed probes cost no filesystem call. Entries
 * live as long as their directory; filesystems whose names change behind
 * the VFS (SB_NOCACHE) are never cached. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/lockpair.h"
#include "sentry/vfs/vfs.h"

static uint64_t hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* Called with dir->lock held. */
static struct dentry *find_child(struct dentry *dir, const char *name)
{
	if (!dir->capchildren)
		return NULL;
	for (struct dentry *c = dir->children[hash_name(name) & (dir->capchildren - 1)]; c;
	     c = c->hnext)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int grow(struct dentry *dir)
{
	size_t cap = dir->capchildren ? dir->capchildren * 2 : 8;
	struct dentry **b = calloc(cap, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < dir->capchildren; i++) {
		struct dentry *c = dir->children[i];
		while (c) {
			struct dentry *next = c->hnext;
			size_t k = hash_name(c->name) & (cap - 1);
			c->hnext = b[k];
			b[k] = c;
			c = next;
		}
	}
	free(dir->children);
	dir->children = b;
	dir->capchildren = cap;
	return 0;
}

/* A new child dentry holding a reference to dir and taking in's. */
static struct dentry *new_child(struct dentry *dir, const char *name, struct inode *in)
{
	struct dentry *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->name = strdup(name);
	if (!d->name) {
		free(d);
		return NULL;
	}
	atomic_init(&d->refs, 1);
	pthread_mutex_init(&d->lock, NULL);
	dentry_get(dir);
	d->parent = dir;
	d->inode = in;
	return d;
}

/* Adds d to dir's table, which takes a reference. Called locked. */
static int insert(struct dentry *dir, struct dentry *d)
{
	size_t k;
	if (dir->nchildren + 1 > dir->capchildren && grow(dir) < 0)
		return -ENOMEM;
	k = hash_name(d->name) & (dir->capchildren - 1);
	dentry_get(d);
	d->hnext = dir->children[k];
	dir->children[k] = d;
	dir->nchildren++;
	return 0;
}

/* Unlinks d from dir's table and drops the table's reference. Locked. */
static void unhash(struct dentry *dir, struct dentry *d)
{
	struct dentry **pp = &dir->children[hash_name(d->name) & (dir->capchildren - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			d->hnext = NULL;
			dir->nchildren--;
			dentry_put(d);
			return;
		}
	}
}

static bool nocache(struct dentry *dir)
{
	return dir->inode && (dir->inode->sb->flags & SB_NOCACHE);
}

int dcache_lookup(struct dentry *dir, const char *name, struct dentry **out)
{
	struct inode *in = NULL;
	struct dentry *d;
	int r;

	if (!dir->inode || !S_ISDIR(dir->inode->mode))
		return -ENOTDIR;
	pthread_mutex_lock(&dir->lock);
	d = find_child(dir, name);
	if (d) {
		dentry_get(d);
		pthread_mutex_unlock(&dir->lock);
		*out = d;
		return 0;
	}
	/* A miss: ask the filesystem, holding the directory so that one
	 * name is looked up once. */
	r = dir->inode->ops->lookup ? dir->inode->ops->lookup(dir->inode, name, &in) : -ENOENT;
	if (r < 0 && r != -ENOENT) {
		pthread_mutex_unlock(&dir->lock);
		return r;
	}
	d = new_child(dir, name, r == 0 ? in : NULL);
	if (!d) {
		pthread_mutex_unlock(&dir->lock);
		inode_put(r == 0 ? in : NULL);
		return -ENOMEM;
	}
	if (!nocache(dir))
		insert(dir, d); /* a failed insert only costs a later lookup */
	pthread_mutex_unlock(&dir->lock);
	*out = d;
	return 0;
}

int dcache_instantiate(struct dentry *dir, const char *name, struct inode *in,
		       struct dentry **out)
{
	struct dentry *d;

	pthread_mutex_lock(&dir->lock);
	d = find_child(dir, name);
	if (d) {
		/* Replace whatever the cache believed (usually negative).
		 * Mark it first: the unhash may drop its last reference. */
		d->dead = true;
		unhash(dir, d);
	}
	inode_get(in);
	d = new_child(dir, name, in);
	if (!d) {
		pthread_mutex_unlock(&dir->lock);
		inode_put(in);
		return -ENOMEM;
	}
	if (!nocache(dir))
		insert(dir, d);
	pthread_mutex_unlock(&dir->lock);
	if (out)
		*out = d;
	else
		dentry_put(d);
	return 0;
}

void dcache_remove(struct dentry *dir, const char *name)
{
	struct dentry *d;

	pthread_mutex_lock(&dir->lock);
	d = find_child(dir, name);
	if (d) {
		d->dead = true;
		unhash(dir, d);
	}
	pthread_mutex_unlock(&dir->lock);
}

/* Locks two directories in address order (once if they are the same). */
static void lock_two(struct dentry *a, struct dentry *b)
{
	mutex_lock_pair(&a->lock, &b->lock);
}

static void unlock_two(struct dentry *a, struct dentry *b)
{
	mutex_unlock_pair(&a->lock, &b->lock);
}

/* Renames one cached dentry in place; called with both locks held. The
 * dentry keeps its identity, so open directories and working directories
 * under it follow the move (Linux's d_move). Returns with d referenced by
 * newdir's table. */
static int move_locked(struct dentry *olddir, struct dentry *d, struct dentry *newdir,
		       const char *newname)
{
	char *name = strdup(newname);
	if (!name)
		return -ENOMEM;
	dentry_get(d); /* keep it alive across the unhash */
	unhash(olddir, d);
	free(d->name);
	d->name = name;
	if (newdir != olddir) {
		dentry_get(newdir);
		d->parent = newdir;
		dentry_put(olddir); /* never the last reference: the caller holds olddir */
	}
	if (insert(newdir, d) < 0) {
		d->dead = true; /* out of memory: forget the name, not the dentry */
	}
	dentry_put(d);
	return 0;
}

void dcache_move(struct dentry *olddir, const char *oldname, struct dentry *newdir,
		 const char *newname, bool exchange)
{
	struct dentry *a, *b;

	lock_two(olddir, newdir);
	a = find_child(olddir, oldname);
	b = find_child(newdir, newname);
	if (b && !exchange) {
		b->dead = true;
		unhash(newdir, b);
		b = NULL;
	}
	if (a)
		dentry_get(a);
	if (b)
		dentry_get(b);
	if (a && move_locked(olddir, a, newdir, newname) < 0) {
		a->dead = true;
	}
	if (b && move_locked(newdir, b, olddir, oldname) < 0) {
		b->dead = true;
	}
	unlock_two(olddir, newdir);
	if (a)
		dentry_put(a);
	if (b)
		dentry_put(b);
}

pthread_mutex_t vfs_rename_lock = PTHREAD_MUTEX_INITIALIZER;
