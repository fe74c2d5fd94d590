/* Gofer mounts: the superblock, statfs, and inode numbers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "sentry/fs/gofer/gofer_internal.h"

struct ino_entry {
	uint64_t dev, ino, ours;
	struct ino_entry *next;
};

/* Our own numbers start high, above what the root's device hands out. */
#define OWN_INO_BASE (1ULL << 62)

static size_t ino_slot(uint64_t dev, uint64_t ino, size_t cap)
{
	return (size_t)(((dev * 0x9e3779b97f4a7c15ULL) ^ (ino * 0xc2b2ae3d27d4eb4fULL)) >> 17) &
	       (cap - 1);
}

static int ino_grow(struct gofer_sb *s)
{
	size_t cap = s->capinos ? s->capinos * 2 : 64;
	struct ino_entry **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < s->capinos; i++) {
		for (struct ino_entry *e = s->inos[i], *next; e; e = next) {
			size_t k = ino_slot(e->dev, e->ino, cap);
			next = e->next;
			e->next = t[k];
			t[k] = e;
		}
	}
	free(s->inos);
	s->inos = t;
	s->capinos = cap;
	return 0;
}

uint64_t gfs_ino(struct superblock *sb, uint64_t dev, uint64_t ino)
{
	struct gofer_sb *s = sb->priv;
	struct ino_entry *e;
	uint64_t ours;

	if (dev == s->root_dev && ino < OWN_INO_BASE)
		return ino;
	pthread_mutex_lock(&s->ino_lock);
	if (s->capinos) {
		for (e = s->inos[ino_slot(dev, ino, s->capinos)]; e; e = e->next) {
			if (e->dev == dev && e->ino == ino) {
				ours = e->ours;
				pthread_mutex_unlock(&s->ino_lock);
				return ours;
			}
		}
	}
	ours = s->next_ino++;
	if ((s->ninos + 1 > s->capinos / 2 && ino_grow(s) < 0) ||
	    !(e = malloc(sizeof(*e)))) {
		/* Unrecorded: the file gets another number next time. */
		pthread_mutex_unlock(&s->ino_lock);
		return ours;
	}
	e->dev = dev;
	e->ino = ino;
	e->ours = ours;
	e->next = s->inos[ino_slot(dev, ino, s->capinos)];
	s->inos[ino_slot(dev, ino, s->capinos)] = e;
	s->ninos++;
	pthread_mutex_unlock(&s->ino_lock);
	return ours;
}

static int gfs_statfs(struct superblock *sb, struct k_statfs *st)
{
	struct gofer_sb *s = sb->priv;
	struct gofer_req q = {.type = GOFER_STATFS, .node = s->root_node};
	struct gofer_reply r;
	int e = gfs_rpc(&q, &r);

	if (e < 0)
		return e;
	memset(st, 0, sizeof(*st));
	st->f_type = (int64_t)r.statfs.type;
	st->f_bsize = (int64_t)r.statfs.bsize;
	st->f_blocks = r.statfs.blocks;
	st->f_bfree = r.statfs.bfree;
	st->f_bavail = r.statfs.bavail;
	st->f_files = r.statfs.files;
	st->f_ffree = r.statfs.ffree;
	st->f_namelen = (int64_t)r.statfs.namelen;
	st->f_frsize = (int64_t)r.statfs.frsize;
	st->f_flags = (int64_t)r.statfs.flags;
	if (sb->flags & SB_RDONLY)
		st->f_flags |= 1; /* ST_RDONLY */
	gofer_reply_free(&r);
	return 0;
}

static void gfs_sb_release(struct superblock *sb)
{
	struct gofer_sb *s = sb->priv;

	for (size_t i = 0; i < s->capinos; i++) {
		for (struct ino_entry *e = s->inos[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(s->inos);
	pthread_mutex_destroy(&s->ino_lock);
	free(s);
}

static const struct super_ops gfs_super_ops = {
	.statfs = gfs_statfs,
	.release = gfs_sb_release,
};

int goferfs_mount(uint32_t index, bool readonly, struct superblock **sbp, struct inode **root)
{
	struct gofer_req q = {.type = GOFER_MOUNT, .index = index};
	struct gofer_reply r;
	struct superblock *sb;
	struct gofer_sb *s;
	int e;

	if (!gfs_attached())
		return -ENODEV;
	e = gfs_rpc(&q, &r);
	if (e < 0)
		return e;
	s = calloc(1, sizeof(*s));
	sb = s ? sb_new("9p", GOFERFS_MAGIC, &gfs_super_ops, s) : NULL;
	if (!sb) {
		free(s);
		gfs_close_node(r.node);
		gofer_reply_free(&r);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->ino_lock, NULL);
	s->index = index;
	s->root_node = r.node;
	s->root_dev = r.attr.dev;
	s->next_ino = OWN_INO_BASE;
	if (readonly || r.readonly)
		sb->flags |= SB_RDONLY;
	e = gfs_inode_new(sb, r.node, &r.attr, root);
	gofer_reply_free(&r);
	if (e < 0) {
		sb_put(sb);
		return e;
	}
	*sbp = sb;
	return 0;
}
