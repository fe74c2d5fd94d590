/* Directory listings: every entry of a gofer directory, fetched once and
 * cached in its inode by dir.c (until a name in it changes).
 *
 * READDIRPLUS. The first GFS_PLUS_MAX entries come by ReaddirPlus, each
 * with the node and attributes a Walk of its name would have returned;
 * a lookup of the name takes them instead of walking, so `ls -l`, `du`
 * and `find` cost one round trip per directory, not one per file. This
 * is safe for the same reasons a Walk's answer is:
 *  - the node is the gofer's (name, dev, ino) of the listed file; every
 *    use reopens the name and checks dev and ino, so a file replaced on
 *    the host since the listing gives ESTALE, never another file's data;
 *  - the attributes are as old as the listing, and a walked inode's are
 *    as old as its walk: the host tree is assumed not to change under
 *    the sandbox (gofer_fs.h), and names changed through the sandbox
 *    drop the listing, so no stale window opens that the dentry cache
 *    did not already have;
 *  - symlinks come as symlinks (never followed) and mount points come
 *    without a node (walked as before).
 * A listed name is taken once: the dentry cache keeps the inode, and a
 * later lookup (after the dentry went) walks. Nodes never taken are
 * closed with the listing. Beyond GFS_PLUS_MAX entries plain Getdents
 * is used, which bounds the memory of one directory on both sides. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/fs/gofer/gofer_internal.h"

/* Entries per directory that come with a node and attributes: about
 * 0.5 MiB in the sentry and as much in the gofer at most. */
#define GFS_PLUS_MAX 4096

struct gfs_plus {
	uint64_t node;
	struct gofer_attr attr;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void gfs_listing_put(struct gfs_listing *l)
{
	if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->e[i].plus) {
			gfs_close_node(l->e[i].plus->node);
			free(l->e[i].plus);
		}
		free(l->e[i].name);
	}
	free(l->index);
	free(l->e);
	free(l);
}

/* Appends d; takes its node (closed if it cannot be kept). */
static int add_dent(struct gfs_listing *l, struct superblock *sb, uint64_t dev,
		    const struct gofer_dirent *d)
{
	struct gfs_dent *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			goto fail;
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(d->name);
	if (!e->name)
		goto fail;
	if (d->node) {
		/* Without memory for it the name is walked instead. */
		e->plus = malloc(sizeof(*e->plus));
		if (e->plus) {
			e->plus->node = d->node;
			e->plus->attr = d->attr;
			l->nplus++;
		} else {
			gfs_close_node(d->node);
		}
	}
	/* A name's host inode is on the directory's device (for a mount
	 * point it is the covered directory's, as on the host). */
	e->ino = gfs_ino(sb, dev, d->ino);
	e->type = d->type;
	l->n++;
	return 0;
fail:
	if (d->node)
		gfs_close_node(d->node);
	return -ENOMEM;
}

/* An open-addressed table of the entries with a node, by name; without
 * memory for it, lookups walk. */
static void build_index(struct gfs_listing *l)
{
	size_t cap = 16;

	if (!l->nplus)
		return;
	while (cap < l->nplus * 2)
		cap *= 2;
	l->index = calloc(cap, sizeof(*l->index));
	if (!l->index)
		return;
	l->index_cap = cap;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->e[i].plus)
			continue;
		size_t k = name_hash(l->e[i].name) & (cap - 1);
		while (l->index[k])
			k = (k + 1) & (cap - 1);
		l->index[k] = (uint32_t)i + 1;
	}
}

bool gfs_listing_take(struct gfs_listing *l, const char *name, uint64_t *node,
		      struct gofer_attr *a)
{
	if (!l->index_cap)
		return false;
	for (size_t k = name_hash(name) & (l->index_cap - 1); l->index[k];
	     k = (k + 1) & (l->index_cap - 1)) {
		struct gfs_dent *e = &l->e[l->index[k] - 1];
		if (strcmp(e->name, name))
			continue;
		if (!e->plus)
			return false; /* taken before */
		*node = e->plus->node;
		*a = e->plus->attr;
		free(e->plus);
		e->plus = NULL;
		return true;
	}
	return false;
}

int gfs_listing_fetch(struct inode *dir, struct gfs_listing **out)
{
	struct gofer_req q = {.node = GI(dir)->node};
	struct gfs_listing *l = calloc(1, sizeof(*l));
	uint64_t dev = GI(dir)->attr.dev;
	int e = 0;

	if (!l)
		return -ENOMEM;
	atomic_init(&l->refs, 1);
	/* Batch by batch, until the end (an empty batch, or eof). */
	for (bool end = false; !end && e == 0;) {
		struct gofer_reply r;
		q.type = l->n < GFS_PLUS_MAX ? GOFER_READDIRPLUS : GOFER_GETDENTS;
		e = gfs_rpc(&q, &r);
		if (e < 0)
			break;
		for (uint32_t i = 0; i < r.ndirents; i++) {
			if (e == 0)
				e = add_dent(l, dir->sb, dev, &r.dirents[i]);
			else if (r.dirents[i].node)
				gfs_close_node(r.dirents[i].node);
		}
		if (r.ndirents)
			q.cookie = r.dirents[r.ndirents - 1].next;
		end = r.ndirents == 0 || (q.type == GOFER_READDIRPLUS && r.eof);
		gofer_reply_free(&r);
	}
	if (e < 0) {
		gfs_listing_put(l);
		return e;
	}
	build_index(l);
	*out = l;
	return 0;
}
