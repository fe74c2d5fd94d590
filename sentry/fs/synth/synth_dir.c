/* Synthetic directories: a fixed table of children followed by children
 * that come and go, found by name and listed in key order. Readdir
 * positions: 0 ".", 1 "..", then one per fixed child, then the fixed
 * count plus a dynamic child's key, so a listing resumed after entries
 * came or went neither repeats nor skips a survivor. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/synth/synth_internal.h"

static int64_t nfixed(const struct synth_entry *dir)
{
	int64_t n = 0;
	for (const struct synth_entry *c = dir->children; c && c->name; c++)
		n++;
	return n;
}

static int synth_lookup(struct inode *dir, const char *name, struct inode **out)
{
	const struct synth_entry *e = synth_node(dir)->e;

	for (const struct synth_entry *c = e->children; c && c->name; c++) {
		if (strcmp(c->name, name))
			continue;
		*out = synth_new_child(dir, name, c, NULL);
		return *out ? 0 : -ENOMEM;
	}
	if (e->dyn && e->dyn->lookup)
		return e->dyn->lookup(dir, name, out);
	return -ENOENT;
}

static int synth_iterate(struct file *f, int64_t *pos, vfs_emit_fn emit, void *ctx)
{
	struct inode *dir = f->inode;
	struct synth_node *n = synth_node(dir);
	const struct synth_entry *e = n->e;
	int64_t fixed = nfixed(e);

	if (*pos < 0)
		return -EINVAL;
	if (*pos == 0) {
		if (emit(ctx, ".", 1, dir->ino, DT_DIR, 1))
			return 0;
		*pos = 1;
	}
	if (*pos == 1) {
		if (emit(ctx, "..", 2, n->parent_ino, DT_DIR, 2))
			return 0;
		*pos = 2;
	}
	for (; *pos < 2 + fixed; ++*pos) {
		const struct synth_entry *c = &e->children[*pos - 2];
		if (emit(ctx, c->name, strlen(c->name), synth_child_ino(dir->ino, c->name),
			 IFTODT(c->mode), *pos + 1))
			return 0;
	}
	if (!e->dyn || !e->dyn->next)
		return 0;
	for (;;) {
		char name[VFS_NAME_MAX + 1];
		uint64_t key = (uint64_t)(*pos - 2 - fixed);
		unsigned type = DT_UNKNOWN;
		int r = e->dyn->next(dir, &key, name, sizeof(name), &type);
		if (r <= 0)
			return r;
		if (key >= (uint64_t)INT64_MAX - 3 - (uint64_t)fixed)
			return 0;
		int64_t next = 2 + fixed + (int64_t)key + 1;
		if (emit(ctx, name, strlen(name), synth_child_ino(dir->ino, name), type, next))
			return 0;
		*pos = next;
	}
}

static const struct file_ops synth_dir_fops = {
	.iterate = synth_iterate,
	.llseek = synth_llseek,
};

static int synth_dir_open(struct inode *in, struct file *f)
{
	(void)in;
	f->ops = &synth_dir_fops;
	return 0;
}

const struct inode_ops synth_dir_iops = {
	.lookup = synth_lookup,
	.getattr = synth_getattr,
	.open = synth_dir_open,
	.release = synth_release,
};
