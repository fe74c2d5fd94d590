/* Overlay directories: merged lookup, whiteouts, opaque directories,
 * creation and removal in the upper layer, and merged readdir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/overlay/overlay_internal.h"
#include "sentry/kernel/creds.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE 2
#endif

/* Looks name up in one real directory: 0 and a referenced inode, -ENOENT. */
static int real_lookup(struct inode *dir, const char *name, struct inode **out)
{
	if (!dir || !dir->ops->lookup)
		return -ENOENT;
	return dir->ops->lookup(dir, name, out);
}

static bool is_opaque(struct inode *upper_dir)
{
	char v;
	return upper_dir->ops->getxattr &&
	       upper_dir->ops->getxattr(upper_dir, OVL_OPAQUE_XATTR, &v, 1) == 1 && v == 'y';
}

static void layers(struct inode *dir, struct inode **upper, struct inode **lower, bool *opaque)
{
	struct ovl_node *n = ON(dir);
	pthread_mutex_lock(&n->lock);
	*upper = n->upper;
	*lower = n->opaque ? NULL : n->lower;
	if (*upper)
		inode_get(*upper);
	if (*lower)
		inode_get(*lower);
	if (opaque)
		*opaque = n->opaque;
	pthread_mutex_unlock(&n->lock);
}

static int ovl_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct inode *ud, *ld, *u = NULL, *l = NULL;
	int r;

	layers(dir, &ud, &ld, NULL);
	r = real_lookup(ud, name, &u);
	if (r < 0 && r != -ENOENT)
		goto out;
	if (u && ovl_is_whiteout(u)) {
		r = -ENOENT;
		goto out;
	}
	/* The lower entry counts unless an upper non-directory or an opaque
	 * upper directory hides it. */
	if (!u || (S_ISDIR(u->mode) && !is_opaque(u))) {
		r = real_lookup(ld, name, &l);
		if (r < 0 && r != -ENOENT)
			goto out;
		if (u && l && !S_ISDIR(l->mode)) {
			inode_put(l);
			l = NULL;
		}
	}
	if (!u && !l) {
		r = -ENOENT;
		goto out;
	}
	*out = ovl_inode_new(dir->sb, u, l, dir, name);
	r = *out ? 0 : -ENOMEM;
	if (*out && u && S_ISDIR(u->mode))
		ON(*out)->opaque = !l || is_opaque(u);
out:
	inode_put(u);
	inode_put(l);
	inode_put(ud);
	inode_put(ld);
	return r;
}

/* Removes a whiteout for name from the upper dir, if there is one.
 * Returns 1 if one was removed. */
static int drop_whiteout(struct inode *udir, const char *name)
{
	struct inode *w = NULL;
	int r;

	if (real_lookup(udir, name, &w) < 0)
		return 0;
	if (!ovl_is_whiteout(w)) {
		inode_put(w);
		return -EEXIST;
	}
	r = udir->ops->unlink(udir, name, w);
	inode_put(w);
	return r < 0 ? r : 1;
}

/* Whether the lower layer has name under dir (so a new entry there must
 * hide it, and removing ours must leave a whiteout). */
static bool lower_has(struct inode *dir, const char *name)
{
	struct inode *ud, *ld, *l = NULL;
	bool has;

	layers(dir, &ud, &ld, NULL);
	has = real_lookup(ld, name, &l) == 0;
	inode_put(l);
	inode_put(ud);
	inode_put(ld);
	return has;
}

typedef int (*make_fn)(struct inode *udir, const char *name, void *arg, struct inode **out);

/* The common part of create, mkdir, mknod and symlink. */
static int make(struct inode *dir, const char *name, make_fn fn, void *arg, struct inode **out)
{
	struct inode *udir, *up = NULL;
	int r = ovl_copy_up(dir), hid;

	if (r < 0)
		return r;
	udir = ovl_real(dir);
	hid = drop_whiteout(udir, name);
	if (hid < 0) {
		inode_put(udir);
		return hid;
	}
	r = fn(udir, name, arg, &up);
	if (r == 0 && S_ISDIR(up->mode) && (hid || lower_has(dir, name))) {
		/* A new directory where a lower one was deleted must not show
		 * the old contents. */
		r = up->ops->setxattr(up, OVL_OPAQUE_XATTR, "y", 1, 0);
	}
	if (r == 0) {
		*out = ovl_inode_new(dir->sb, up, NULL, dir, name);
		if (!*out)
			r = -ENOMEM;
		else if (S_ISDIR(up->mode))
			ON(*out)->opaque = true;
	}
	inode_put(up);
	inode_put(udir);
	return r;
}

struct mk_args {
	uint32_t mode;
	uint64_t rdev;
	const char *target;
	const struct creds *c;
};

static int do_create(struct inode *u, const char *n, void *a, struct inode **o)
{
	struct mk_args *m = a;
	return u->ops->create(u, n, m->mode, m->c, o);
}

static int do_mkdir(struct inode *u, const char *n, void *a, struct inode **o)
{
	struct mk_args *m = a;
	return u->ops->mkdir(u, n, m->mode, m->c, o);
}

static int do_mknod(struct inode *u, const char *n, void *a, struct inode **o)
{
	struct mk_args *m = a;
	return u->ops->mknod(u, n, m->mode, m->rdev, m->c, o);
}

static int do_symlink(struct inode *u, const char *n, void *a, struct inode **o)
{
	struct mk_args *m = a;
	return u->ops->symlink(u, n, m->target, m->c, o);
}

static int ovl_create(struct inode *dir, const char *name, uint32_t mode,
		      const struct creds *c, struct inode **out)
{
	struct mk_args m = {.mode = mode, .c = c};
	return make(dir, name, do_create, &m, out);
}

static int ovl_mkdir(struct inode *dir, const char *name, uint32_t mode,
		     const struct creds *c, struct inode **out)
{
	struct mk_args m = {.mode = mode, .c = c};
	return make(dir, name, do_mkdir, &m, out);
}

static int ovl_mknod(struct inode *dir, const char *name, uint32_t mode, uint64_t rdev,
		     const struct creds *c, struct inode **out)
{
	struct mk_args m = {.mode = mode, .rdev = rdev, .c = c};
	/* A 0:0 character device is how whiteouts look: refuse to fake one. */
	if (S_ISCHR(mode) && rdev == 0)
		return -EPERM;
	return make(dir, name, do_mknod, &m, out);
}

static int ovl_symlink(struct inode *dir, const char *name, const char *target,
		       const struct creds *c, struct inode **out)
{
	struct mk_args m = {.target = target, .c = c};
	return make(dir, name, do_symlink, &m, out);
}

static int ovl_link(struct inode *dir, const char *name, struct inode *target)
{
	struct inode *udir, *ut;
	int r = ovl_copy_up(target), hid;

	if (r == 0)
		r = ovl_copy_up(dir);
	if (r < 0)
		return r;
	udir = ovl_real(dir);
	ut = ovl_real(target);
	hid = drop_whiteout(udir, name);
	r = hid < 0 ? hid : udir->ops->link(udir, name, ut);
	inode_put(udir);
	inode_put(ut);
	return r;
}

static int whiteout(struct inode *udir, const char *name)
{
	struct creds c;
	struct inode *w = NULL;
	int r;

	creds_init_root(&c);
	r = udir->ops->mknod(udir, name, S_IFCHR, 0, &c, &w);
	inode_put(w);
	return r;
}

/* Removes victim's name: the upper entry if any, then a whiteout if the
 * lower layer has the name too. */
static int remove_name(struct inode *dir, const char *name, struct inode *victim, bool isdir)
{
	struct ovl_node *v = ON(victim);
	struct inode *udir, *vu, *vl;
	int r = ovl_copy_up(dir);

	if (r < 0)
		return r;
	udir = ovl_real(dir);
	pthread_mutex_lock(&v->lock);
	vu = v->upper;
	vl = v->lower;
	if (vu)
		inode_get(vu);
	pthread_mutex_unlock(&v->lock);
	if (vu) {
		r = isdir ? udir->ops->rmdir(udir, name, vu) : udir->ops->unlink(udir, name, vu);
		inode_put(vu);
		if (r < 0)
			goto out;
	}
	if (vl || lower_has(dir, name))
		r = whiteout(udir, name);
out:
	inode_put(udir);
	return r;
}

static int ovl_unlink(struct inode *dir, const char *name, struct inode *victim)
{
	return remove_name(dir, name, victim, false);
}

/* Collects the merged entries of a directory (see struct merged). */
struct mentry {
	char *name;
	uint64_t ino;
	unsigned type;
};

struct merged {
	struct mentry *e;
	size_t n, cap;
};

static void merged_free(struct merged *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].name);
	free(m->e);
	free(m);
}

static bool merged_has(struct merged *m, const char *name, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->e[i].name) == len && !memcmp(m->e[i].name, name, len))
			return true;
	return false;
}

struct collect {
	struct merged *m;
	struct merged *hidden;  /* whiteout names (upper pass) */
	bool upper;
	struct inode *udir;
	int err;
};

static int add(struct merged *m, const char *name, size_t len, uint64_t ino, unsigned type)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		struct mentry *e = realloc(m->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->e = e;
		m->cap = cap;
	}
	m->e[m->n].name = strndup(name, len);
	if (!m->e[m->n].name)
		return -ENOMEM;
	m->e[m->n].ino = ino;
	m->e[m->n].type = type;
	m->n++;
	return 0;
}

static int collect_one(void *arg, const char *name, size_t len, uint64_t ino, unsigned type,
		       int64_t next)
{
	struct collect *c = arg;
	(void)next;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (c->upper) {
		/* Character devices may be whiteouts: sorted out after the
		 * walk (a lookup here would re-enter the layer's lock). */
		c->err = add(c->m, name, len, ino | OVL_UPPER_INO_BIT, type);
	} else {
		if (merged_has(c->m, name, len) || merged_has(c->hidden, name, len))
			return 0;
		c->err = add(c->m, name, len, ino, type);
	}
	return c->err ? 1 : 0;
}

/* Moves the whiteouts among the upper entries to c->hidden. */
static int split_whiteouts(struct collect *c)
{
	size_t keep = 0;

	for (size_t i = 0; i < c->m->n; i++) {
		struct mentry *e = &c->m->e[i];
		struct inode *in = NULL;
		if (e->type == DT_CHR && real_lookup(c->udir, e->name, &in) == 0) {
			bool w = ovl_is_whiteout(in);
			inode_put(in);
			if (w) {
				int r = add(c->hidden, e->name, strlen(e->name), 0, 0);
				free(e->name);
				if (r < 0) {
					/* Keep the array consistent before failing. */
					for (size_t j = i + 1; j < c->m->n; j++)
						c->m->e[keep++] = c->m->e[j];
					c->m->n = keep;
					return r;
				}
				continue;
			}
		}
		c->m->e[keep++] = *e;
	}
	c->m->n = keep;
	return 0;
}

static int list_layer(struct inode *real, struct collect *c)
{
	struct file *f;
	int64_t pos = 0;
	int r = ovl_open_real(real, O_RDONLY | O_DIRECTORY, &f);

	if (r < 0)
		return r;
	r = f->ops->iterate ? f->ops->iterate(f, &pos, collect_one, c) : -ENOTDIR;
	file_put(f);
	if (r == 0 && c->err)
		r = c->err;
	if (r == 0 && c->upper)
		r = split_whiteouts(c);
	return r;
}

static int merge_dir(struct inode *dir, struct merged **out)
{
	struct merged *m = calloc(1, sizeof(*m)), *hidden = calloc(1, sizeof(*hidden));
	struct inode *ud, *ld;
	struct collect c = {.m = m, .hidden = hidden};
	int r = m && hidden ? 0 : -ENOMEM;

	layers(dir, &ud, &ld, NULL);
	if (r == 0 && ud) {
		c.upper = true;
		c.udir = ud;
		r = list_layer(ud, &c);
	}
	if (r == 0 && ld) {
		c.upper = false;
		r = list_layer(ld, &c);
	}
	inode_put(ud);
	inode_put(ld);
	if (hidden)
		merged_free(hidden);
	if (r < 0) {
		if (m)
			merged_free(m);
		return r;
	}
	*out = m;
	return 0;
}

static int ovl_rmdir(struct inode *dir, const char *name, struct inode *victim)
{
	struct merged *m;
	struct inode *vu;
	int r = merge_dir(victim, &m);

	if (r < 0)
		return r;
	bool empty = m->n == 0;
	merged_free(m);
	if (!empty)
		return -ENOTEMPTY;
	/* The upper directory may still hold whiteouts: clear them first. */
	pthread_mutex_lock(&ON(victim)->lock);
	vu = ON(victim)->upper;
	if (vu)
		inode_get(vu);
	pthread_mutex_unlock(&ON(victim)->lock);
	if (vu) {
		struct merged *all = calloc(1, sizeof(*all)), *names = calloc(1, sizeof(*names));
		struct collect c = {.m = all, .hidden = names, .upper = true, .udir = vu};
		r = all && names ? list_layer(vu, &c) : -ENOMEM;
		for (size_t i = 0; r == 0 && names && i < names->n; i++) {
			struct inode *w = NULL;
			if (real_lookup(vu, names->e[i].name, &w) == 0) {
				r = vu->ops->unlink(vu, names->e[i].name, w);
				inode_put(w);
			}
		}
		if (all)
			merged_free(all);
		if (names)
			merged_free(names);
		inode_put(vu);
		if (r < 0)
			return r;
	}
	return remove_name(dir, name, victim, true);
}

static int ovl_rename(struct inode *odir, const char *oname, struct inode *ndir,
		      const char *nname, unsigned flags)
{
	struct inode *src = NULL, *dst = NULL, *uod, *und;
	int r;

	r = ovl_lookup(odir, oname, &src);
	if (r < 0)
		return r;
	if (ovl_lookup(ndir, nname, &dst) < 0)
		dst = NULL;
	/* Without redirects, directories that have a lower part cannot move
	 * (overlayfs's EXDEV; mv falls back to copying). */
	if ((S_ISDIR(src->mode) && ON(src)->lower) ||
	    ((flags & RENAME_EXCHANGE) && dst && S_ISDIR(dst->mode) && ON(dst)->lower)) {
		r = -EXDEV;
		goto out;
	}
	if (dst && S_ISDIR(dst->mode) && !(flags & RENAME_EXCHANGE)) {
		/* Replacing an (empty) directory: it must be empty merged. */
		struct merged *m;
		r = merge_dir(dst, &m);
		if (r < 0)
			goto out;
		bool empty = m->n == 0;
		merged_free(m);
		if (!empty) {
			r = -ENOTEMPTY;
			goto out;
		}
		r = ovl_rmdir(ndir, nname, dst);
		if (r < 0)
			goto out;
		inode_put(dst);
		dst = NULL;
	}
	r = ovl_copy_up(src);
	if (r == 0 && dst && (flags & RENAME_EXCHANGE))
		r = ovl_copy_up(dst);
	if (r == 0)
		r = ovl_copy_up(ndir);
	if (r < 0)
		goto out;
	uod = ovl_real(odir);
	und = ovl_real(ndir);
	/* A whiteout at the new name goes; a real entry is replaced (or
	 * exchanged) by the rename itself. */
	r = drop_whiteout(und, nname);
	if (r == -EEXIST)
		r = 0;
	if (r >= 0)
		r = uod->ops->rename(uod, oname, und, nname, flags);
	/* The old name must stay hidden if the lower layer has it. */
	if (r == 0 && !(flags & RENAME_EXCHANGE) && lower_has(odir, oname))
		r = whiteout(uod, oname);
	inode_put(uod);
	inode_put(und);
out:
	inode_put(src);
	inode_put(dst);
	return r;
}

/* The VFS tells the inode it keeps (its dentry's) where it moved, so a
 * later copy-up uses the new name. */
void ovl_renamed(struct inode *in, struct inode *newdir, const char *newname)
{
	struct ovl_node *n = ON(in);
	char *nm = strdup(newname);

	pthread_mutex_lock(&n->lock);
	if (nm) {
		free(n->name);
		n->name = nm;
	}
	inode_get(newdir);
	inode_put(n->parent);
	n->parent = newdir;
	pthread_mutex_unlock(&n->lock);
}

struct ovl_dir_file {
	struct merged *m;
};

static int ovl_iterate(struct file *f, int64_t *pos, vfs_emit_fn emit, void *ctx)
{
	struct ovl_dir_file *d = f->priv;
	struct inode *in = f->inode;

	/* The merged listing is taken at the first read and again after a
	 * rewind, like the kernel's cache of a merged directory. */
	if (!d->m || *pos == 0) {
		struct merged *m;
		int r = merge_dir(in, &m);
		if (r < 0)
			return r;
		if (d->m)
			merged_free(d->m);
		d->m = m;
	}
	if (*pos == 0) {
		if (emit(ctx, ".", 1, in->ino, DT_DIR, 1))
			return 0;
		*pos = 1;
	}
	if (*pos == 1) {
		struct inode *p = ON(in)->parent ? ON(in)->parent : in;
		if (emit(ctx, "..", 2, p->ino, DT_DIR, 2))
			return 0;
		*pos = 2;
	}
	for (; *pos >= 2 && (size_t)(*pos - 2) < d->m->n; (*pos)++) {
		struct mentry *e = &d->m->e[*pos - 2];
		if (emit(ctx, e->name, strlen(e->name), e->ino, e->type, *pos + 1))
			return 0;
	}
	return 0;
}

static int64_t ovl_dir_llseek(struct file *f, int64_t off, int whence)
{
	if (whence == SEEK_SET && off >= 0)
		return off;
	if (whence == SEEK_CUR && f->pos + off >= 0)
		return f->pos + off;
	return -EINVAL;
}

static void ovl_dir_release(struct file *f)
{
	struct ovl_dir_file *d = f->priv;
	if (d->m)
		merged_free(d->m);
	free(d);
}

const struct file_ops ovl_dir_fops = {
	.iterate = ovl_iterate,
	.llseek = ovl_dir_llseek,
	.release = ovl_dir_release,
};

static int ovl_dir_open(struct inode *in, struct file *f)
{
	(void)in;
	f->priv = calloc(1, sizeof(struct ovl_dir_file));
	if (!f->priv)
		return -ENOMEM;
	f->ops = &ovl_dir_fops;
	return 0;
}

const struct inode_ops ovl_dir_ops = {
	.lookup = ovl_lookup,
	.create = ovl_create,
	.mkdir = ovl_mkdir,
	.mknod = ovl_mknod,
	.symlink = ovl_symlink,
	.link = ovl_link,
	.unlink = ovl_unlink,
	.rmdir = ovl_rmdir,
	.rename = ovl_rename,
	.renamed = ovl_renamed,
	.getattr = ovl_getattr,
	.setattr = ovl_setattr,
	.open = ovl_dir_open,
	.getxattr = ovl_getxattr,
	.setxattr = ovl_setxattr,
	.listxattr = ovl_listxattr,
	.removexattr = ovl_removexattr,
	.release = ovl_release,
};
