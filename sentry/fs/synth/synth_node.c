/* Synthetic filesystem nodes: the superblock, inode creation and
 * numbering, attributes, and symlinks (plain and magic). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sentry/fs/synth/synth.h"
#include "sentry/fs/synth/synth_internal.h"

struct k_timespec synth_boot_wall;

static int synth_statfs(struct superblock *sb, struct k_statfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_type = sb->magic;
	st->f_bsize = st->f_frsize = 4096;
	st->f_namelen = VFS_NAME_MAX;
	return 0;
}

static const struct super_ops synth_super_ops = {
	.statfs = synth_statfs,
};

/* Inode numbers: a hash of the parent's and the name, so the same name
 * gets the same number on every lookup. Kept in 32 bits like Linux's
 * proc inode numbers, and above the root's. */
uint64_t synth_child_ino(uint64_t parent, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < 8; i++)
		h = (h ^ ((parent >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	for (const char *s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h = (h ^ (h >> 32)) & 0xffffffffu;
	return h < 16 ? h + 16 : h;
}

static struct inode *make_inode(struct superblock *sb, const struct synth_entry *e,
				uint64_t ino, uint64_t parent_ino, const int64_t *id,
				uint32_t uid, uint32_t gid, bool strict)
{
	struct synth_node *n = calloc(1, sizeof(*n));
	const struct inode_ops *ops;
	struct inode *in;

	if (!n)
		return NULL;
	n->e = e;
	if (id)
		memcpy(n->id, id, sizeof(n->id));
	n->parent_ino = parent_ino;
	n->uid = uid;
	n->gid = gid;
	n->strict_write = strict || e->strict_write;
	switch (e->mode & S_IFMT) {
	case S_IFDIR: ops = &synth_dir_iops; break;
	case S_IFLNK: ops = e->get_link ? &synth_magic_link_iops : &synth_link_iops; break;
	default: ops = &synth_file_iops; break;
	}
	in = inode_new(sb, ops, ino, e->mode, n);
	if (!in) {
		free(n);
		return NULL;
	}
	if (e->owner && !e->owner(in, &n->uid, &n->gid)) {
		n->uid = uid;
		n->gid = gid;
	}
	return in;
}

struct superblock *synth_sb_new(const char *fstype, uint32_t magic, unsigned flags,
				const struct synth_entry *root_entry, struct inode **root)
{
	struct superblock *sb = sb_new(fstype, magic, &synth_super_ops, NULL);
	struct timespec now;

	if (!sb)
		return NULL;
	sb->flags |= flags;
	/* The wall-clock time at which the sandbox booted. */
	if (!synth_boot_wall.tv_sec && clock_gettime(CLOCK_REALTIME, &now) == 0) {
		synth_boot_wall.tv_sec = now.tv_sec;
		synth_boot_wall.tv_nsec = now.tv_nsec;
	}
	*root = make_inode(sb, root_entry, 1, 1, NULL, 0, 0, false);
	if (!*root) {
		sb_put(sb);
		return NULL;
	}
	return sb;
}

struct inode *synth_new_child(struct inode *dir, const char *name,
			      const struct synth_entry *e, const int64_t *id)
{
	struct synth_node *dn = synth_node(dir);
	return make_inode(dir->sb, e, synth_child_ino(dir->ino, name), dir->ino,
			  id ? id : dn->id, dn->uid, dn->gid, dn->strict_write);
}

int64_t synth_parse_num(const char *name, int64_t max)
{
	int64_t v = 0;

	if (!*name || (name[0] == '0' && name[1]))
		return -1;
	for (const char *s = name; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1; /* would reach max (or overflow) */
		v = v * 10 + (*s - '0');
		if (v >= max)
			return -1;
	}
	return v;
}

ssize_t synth_copy_link(const char *text, size_t n, char *buf, size_t len)
{
	if (n > len)
		n = len;
	memcpy(buf, text, n);
	return (ssize_t)n;
}

int synth_getattr(struct inode *in, struct vfs_attr *a)
{
	struct synth_node *n = synth_node(in);

	a->mode = in->mode;
	a->uid = n->uid;
	a->gid = n->gid;
	a->nlink = 1;
	if (S_ISDIR(in->mode)) {
		a->nlink = 2;
		for (const struct synth_entry *c = n->e->children; c && c->name; c++)
			if (S_ISDIR(c->mode))
				a->nlink++;
	}
	a->size = 0;
	a->blocks = 0;
	a->blksize = 1024;
	a->atime = a->mtime = a->ctime = a->btime = synth_boot_wall;
	return 0;
}

void synth_release(struct inode *in) { free(in->priv); }

static ssize_t synth_readlink(struct inode *in, char *buf, size_t len)
{
	const struct synth_entry *e = synth_node(in)->e;
	return e->readlink ? e->readlink(in, buf, len) : -EINVAL;
}

static int synth_get_link(struct inode *in, struct task *t, struct mount **mnt,
			  struct dentry **d)
{
	struct path p = {0};
	int r = synth_node(in)->e->get_link(in, t, &p);

	if (r < 0)
		return r;
	*mnt = p.mnt;
	*d = p.dentry;
	return 0;
}

const struct inode_ops synth_link_iops = {
	.readlink = synth_readlink,
	.getattr = synth_getattr,
	.release = synth_release,
};

const struct inode_ops synth_magic_link_iops = {
	.readlink = synth_readlink,
	.get_link = synth_get_link,
	.getattr = synth_getattr,
	.release = synth_release,
};
