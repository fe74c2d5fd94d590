#include "sentry/fs/mounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "sentry/fs/gofer/gofer_fs.h"
#include "sentry/fs/overlay/overlay.h"
#include "sentry/fs/standard_mounts.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel/creds.h"
#include "sentry/vfs/vfs.h"

int mount_spec_parse(const char *arg, struct mount_spec *out)
{
	char *copy = strdup(arg), *save = NULL, *kind, *a, *b, *c;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return -ENOMEM;
	kind = strtok_r(copy, ":", &save);
	a = strtok_r(NULL, ":", &save);
	b = strtok_r(NULL, ":", &save);
	c = strtok_r(NULL, ":", &save);
	if (!kind || !a)
		goto out;
	if (!strcmp(kind, "bind") && b) {
		char *end;
		unsigned long idx = strtoul(a, &end, 10);
		if (*end || idx > 1024 || b[0] != '/')
			goto out;
		out->kind = MOUNT_BIND;
		out->gofer_index = (uint32_t)idx;
		out->dst = strdup(b);
		out->readonly = c && !strcmp(c, "ro");
	} else if (!strcmp(kind, "tmpfs") && a[0] == '/') {
		out->kind = MOUNT_TMPFS;
		out->dst = strdup(a);
		if (b) {
			char *end;
			out->size = strtoull(b, &end, 10);
			if (*end)
				goto out;
		}
	} else {
		goto out;
	}
	r = out->dst ? 0 : -ENOMEM;
out:
	free(copy);
	return r;
}

/* Finds (or, in a writable tree, creates) the directory dst to mount on. */
static int mountpoint(const char *dst, struct path *out)
{
	struct path cur;
	char *copy = strdup(dst), *save = NULL, *name;
	struct creds root;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	creds_init_root(&root);
	vfs_root(&cur);
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
			struct inode *dir = cur.dentry->inode, *in = NULL;
			dentry_put(d);
			r = dir->ops->mkdir ? dir->ops->mkdir(dir, name, 0755, &root, &in) : -EROFS;
			if (r < 0)
				break;
			r = dcache_instantiate(cur.dentry, name, in, &d);
			inode_put(in);
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

static int mount_tmpfs(const char *dst, uint64_t size, uint32_t mode, unsigned flags)
{
	struct creds root;
	struct inode *rin;
	struct superblock *sb;
	struct dentry *d;
	struct path where;
	char opts[64] = "";
	int r;

	creds_init_root(&root);
	sb = tmpfs_new(size, mode, &root, &rin);
	if (!sb)
		return -ENOMEM;
	d = dentry_new_root(rin);
	if (!d) {
		inode_put(rin);
		sb_put(sb);
		return -ENOMEM;
	}
	if (size)
		snprintf(opts, sizeof(opts), "size=%lluk", (unsigned long long)(size / 1024));
	if (!strcmp(dst, "/")) {
		r = vfs_mount(sb, d, NULL, flags, "tmpfs", opts, NULL);
	} else {
		r = mountpoint(dst, &where);
		if (r == 0) {
			r = vfs_mount(sb, d, &where, flags, "tmpfs", opts, NULL);
			path_put(&where);
		}
	}
	dentry_put(d);
	sb_put(sb);
	return r;
}

/* Mounts a filesystem's root inode (reference taken) at dst. */
static int mount_root(struct superblock *sb, struct inode *rin, const char *dst,
		      unsigned flags, const char *source)
{
	struct dentry *d = dentry_new_root(rin);
	struct path where;
	int r;

	if (!d) {
		inode_put(rin);
		return -ENOMEM;
	}
	if (!strcmp(dst, "/")) {
		r = vfs_mount(sb, d, NULL, flags, source, NULL, NULL);
	} else {
		r = mountpoint(dst, &where);
		if (r == 0) {
			r = vfs_mount(sb, d, &where, flags, source, NULL, NULL);
			path_put(&where);
		}
	}
	dentry_put(d);
	return r;
}

/* The root: the gofer's tree, under an in-memory overlay unless it is to
 * be read-only; an empty tmpfs when there are no host files at all. */
static int mount_rootfs(const struct fs_config *cfg)
{
	struct superblock *gsb, *usb, *osb;
	struct inode *groot, *upper, *oroot;
	struct creds root;
	int r;

	if (cfg->gofer_fd < 0)
		return mount_tmpfs("/", 0, 0755, 0);
	r = goferfs_attach(cfg->gofer_fd);
	if (r == 0)
		r = goferfs_mount(0, !cfg->overlay, &gsb, &groot);
	if (r < 0)
		return r;
	if (!cfg->overlay) {
		r = mount_root(gsb, groot, "/", MNT_RDONLY, "gofer");
		sb_put(gsb);
		return r;
	}
	creds_init_root(&root);
	usb = tmpfs_new(0, 0755, &root, &upper);
	if (!usb) {
		inode_put(groot);
		sb_put(gsb);
		return -ENOMEM;
	}
	osb = overlay_new(groot, upper, &oroot);
	inode_put(groot);
	inode_put(upper);
	r = osb ? mount_root(osb, oroot, "/", 0, "overlay") : -ENOMEM;
	sb_put(osb);
	sb_put(usb);
	sb_put(gsb);
	return r;
}

int fs_setup(const struct fs_config *cfg)
{
	struct superblock *sb;
	struct inode *rin;
	int r;

	r = mount_rootfs(cfg);
	if (r < 0) {
		log_err("cannot mount the root: %s", strerror(-r));
		return r;
	}
	r = fs_mount_standard();
	if (r < 0)
		return r;
	for (int i = 0; i < cfg->nmounts; i++) {
		const struct mount_spec *m = &cfg->mounts[i];
		switch (m->kind) {
		case MOUNT_TMPFS:
			r = mount_tmpfs(m->dst, m->size, 01777, m->readonly ? MNT_RDONLY : 0);
			break;
		case MOUNT_BIND:
			r = goferfs_mount(m->gofer_index, m->readonly, &sb, &rin);
			if (r == 0) {
				r = mount_root(sb, rin, m->dst, m->readonly ? MNT_RDONLY : 0, "bind");
				sb_put(sb);
			}
			break;
		}
		if (r < 0) {
			log_err("cannot mount %s: %s", m->dst, strerror(-r));
			return r;
		}
	}
	return 0;
}
