/* Path walk: turns a path into a (mount, dentry), as Linux's namei does:
 * "." and "..", ".." at mount roots and at the process root, mounts
 * crossed downward, symlinks followed up to 40 per walk, trailing
 * slashes, permission to search each directory, and openat2's RESOLVE_*
 * restrictions. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

struct walk {
	struct task *t;
	const struct creds *creds;
	unsigned flags;
	struct path root;   /* "/" and the ceiling of ".." */
	struct path cur;
	int depth;          /* below the start, for RESOLVE_BENEATH */
	int nlinks;
};

static bool is_dir(const struct path *p)
{
	return p->dentry->inode && S_ISDIR(p->dentry->inode->mode);
}

static bool same_path(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}

int vfs_start(struct task *t, int dirfd, struct path *out)
{
	struct file *f;

	if (dirfd == AT_FDCWD) {
		pthread_mutex_lock(&t->fs->lock);
		path_copy(out, &t->fs->cwd);
		pthread_mutex_unlock(&t->fs->lock);
		return 0;
	}
	f = fdtable_get(t->fdt, dirfd);
	if (!f)
		return -EBADF;
	if (!f->path.dentry) {
		file_put(f);
		return -ENOTDIR;
	}
	path_copy(out, &f->path);
	file_put(f);
	return 0;
}

/* Replaces w->cur with p (taking p's reference). */
static void set_cur(struct walk *w, struct path *p)
{
	path_put(&w->cur);
	w->cur = *p;
	p->mnt = NULL;
	p->dentry = NULL;
}

/* Moves to the top of any mounts stacked on w->cur. */
static int cross_mounts(struct walk *w)
{
	struct mount *m;

	while ((m = vfs_mount_on(w->cur.mnt, w->cur.dentry))) {
		struct path p = {m, m->root};
		if (w->flags & LOOKUP_NO_XDEV) {
			mount_put(m);
			return -EXDEV;
		}
		dentry_get(m->root);
		set_cur(w, &p);
	}
	return 0;
}

static int step_up(struct walk *w)
{
	if (w->flags & LOOKUP_BENEATH && w->depth == 0)
		return -EXDEV;
	for (;;) {
		if (same_path(&w->cur, &w->root))
			return 0; /* ".." at the root is the root */
		if (w->cur.dentry != w->cur.mnt->root)
			break;
		if (!w->cur.mnt->parent)
			return 0; /* the namespace root */
		if (w->flags & LOOKUP_NO_XDEV)
			return -EXDEV;
		struct path up = {w->cur.mnt->parent, w->cur.mnt->mountpoint};
		path_get(&up);
		set_cur(w, &up);
	}
	struct path up = {w->cur.mnt, w->cur.dentry->parent};
	path_get(&up);
	set_cur(w, &up);
	if (w->depth > 0)
		w->depth--;
	return 0;
}

/* Follows the symlink at (w->cur.mnt, d). For an ordinary link, the
 * target text is returned in *target (malloc'd) for the caller to splice
 * into the remaining path; a magic link moves w->cur itself. */
static int follow(struct walk *w, struct dentry *d, char **target)
{
	struct inode *in = d->inode;
	ssize_t n;
	char *buf;

	*target = NULL;
	if (w->flags & LOOKUP_NO_SYMLINKS)
		return -ELOOP;
	if (++w->nlinks > VFS_MAXSYMLINKS)
		return -ELOOP;
	if (in->ops->get_link) {
		struct path p;
		int r;
		if (w->flags & (LOOKUP_NO_MAGICLINKS | LOOKUP_BENEATH | LOOKUP_IN_ROOT))
			return -ELOOP;
		r = in->ops->get_link(in, w->t, &p.mnt, &p.dentry);
		if (r < 0)
			return r;
		set_cur(w, &p);
		return 0;
	}
	if (!in->ops->readlink)
		return -EINVAL;
	buf = malloc(VFS_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	n = in->ops->readlink(in, buf, VFS_PATH_MAX - 1);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	if (n == 0) {
		free(buf);
		return -ENOENT;
	}
	buf[n] = 0;
	*target = buf;
	return 0;
}

/* Joins a symlink target and the rest of the path into a new buffer. */
static char *join_link(const char *target, const char *rest)
{
	size_t a = strlen(target), b = strlen(rest);
	char *s = malloc(a + b + 2);
	if (!s)
		return NULL;
	memcpy(s, target, a);
	if (b) {
		s[a] = '/';
		memcpy(s + a + 1, rest, b + 1);
	} else {
		s[a] = 0;
	}
	return s;
}

/* Walks path. With parent_out/last set, stops before the last component
 * and reports it; otherwise resolves it too. */
static int walk(struct walk *w, const char *path, char *last, bool *trailing)
{
	char *buf = strdup(path), *p;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	p = buf;
	for (;;) {
		if (*p == '/') {
			if (w->flags & LOOKUP_BENEATH) {
				r = -EXDEV;
				break;
			}
			struct path root;
			path_copy(&root, &w->root);
			set_cur(w, &root);
			w->depth = 0;
			while (*p == '/')
				p++;
		}
		if (!*p) {
			/* The path (or what a symlink left) names the current
			 * directory itself. */
			if (last) {
				last[0] = 0;
				if (trailing)
					*trailing = true;
			}
			break;
		}
		char *comp = p, *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *rest = end ? end : p + len;
		bool slash = *rest == '/';
		while (*rest == '/')
			rest++;
		bool is_last = !*rest;

		if (len > VFS_NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		if (!is_dir(&w->cur)) {
			r = -ENOTDIR;
			break;
		}
		if (is_last && last) {
			memcpy(last, comp, len);
			last[len] = 0;
			if (trailing)
				*trailing = slash;
			break;
		}
		r = vfs_permission(w->cur.dentry->inode, MAY_EXEC, w->creds);
		if (r < 0)
			break;
		comp[len] = 0;
		if (!strcmp(comp, ".")) {
			p = rest;
			continue;
		}
		if (!strcmp(comp, "..")) {
			r = step_up(w);
			if (r < 0)
				break;
			p = rest;
			continue;
		}
		struct dentry *d;
		r = dcache_lookup(w->cur.dentry, comp, &d);
		if (r < 0)
			break;
		if (!d->inode) {
			dentry_put(d);
			r = -ENOENT;
			break;
		}
		bool want_follow = !is_last || slash || (w->flags & LOOKUP_FOLLOW);
		if (S_ISLNK(d->inode->mode) && want_follow) {
			char *target, *nb;
			r = follow(w, d, &target);
			dentry_put(d);
			if (r < 0)
				break;
			if (!target) { /* a magic link moved us */
				r = cross_mounts(w);
				if (r < 0)
					break;
				p = rest;
				if (!*p && slash && !is_dir(&w->cur)) {
					r = -ENOTDIR;
					break;
				}
				continue;
			}
			/* A trailing slash after the link still applies. */
			nb = join_link(target, slash && !*rest ? "." : rest);
			free(target);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			free(buf);
			buf = p = nb;
			if (*p == '/' && (w->flags & LOOKUP_BENEATH)) {
				r = -EXDEV;
				break;
			}
			continue;
		}
		struct path next = {w->cur.mnt, d};
		mount_get(next.mnt);
		set_cur(w, &next);
		w->depth++;
		r = cross_mounts(w);
		if (r < 0)
			break;
		p = rest;
		if (is_last) {
			if (slash && !is_dir(&w->cur))
				r = -ENOTDIR;
			break;
		}
	}
	free(buf);
	return r;
}

static int walk_init(struct walk *w, struct task *t, const struct path *start,
		     unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->creds = &t->tg->creds;
	w->flags = flags;
	if (flags & LOOKUP_IN_ROOT) {
		path_copy(&w->root, start);
	} else {
		pthread_mutex_lock(&t->fs->lock);
		path_copy(&w->root, &t->fs->root);
		pthread_mutex_unlock(&t->fs->lock);
	}
	path_copy(&w->cur, start);
	return 0;
}

static void walk_done(struct walk *w)
{
	path_put(&w->root);
	path_put(&w->cur);
}

int vfs_lookup_at(struct task *t, const struct path *start, const char *path,
		  unsigned flags, struct path *out)
{
	struct walk w;
	int r;

	if (!*path && !(flags & LOOKUP_EMPTY))
		return -ENOENT;
	walk_init(&w, t, start, flags);
	r = walk(&w, path, NULL, NULL);
	if (r == 0 && (flags & LOOKUP_DIRECTORY) && !is_dir(&w.cur))
		r = -ENOTDIR;
	if (r == 0) {
		*out = w.cur;
		w.cur.mnt = NULL;
		w.cur.dentry = NULL;
	}
	walk_done(&w);
	return r;
}

int vfs_start_for(struct task *t, int dirfd, const char *path, unsigned flags,
		  struct path *out)
{
	if (path[0] == '/' && !(flags & (LOOKUP_BENEATH | LOOKUP_IN_ROOT))) {
		/* dirfd is not even checked for an absolute path. */
		pthread_mutex_lock(&t->fs->lock);
		path_copy(out, &t->fs->root);
		pthread_mutex_unlock(&t->fs->lock);
		return 0;
	}
	return vfs_start(t, dirfd, out);
}

int vfs_lookup(struct task *t, int dirfd, const char *path, unsigned flags,
	       struct path *out)
{
	struct path start;
	int r;

	if (!*path && !(flags & LOOKUP_EMPTY))
		return -ENOENT;
	r = vfs_start_for(t, dirfd, path, flags, &start);
	if (r < 0)
		return r;
	r = vfs_lookup_at(t, &start, path, flags, out);
	path_put(&start);
	return r;
}

int vfs_lookup_parent_at(struct task *t, const struct path *start, const char *path,
			 unsigned flags, struct path *parent, char *last, bool *trailing_slash)
{
	struct walk w;
	int r;

	if (!*path)
		return -ENOENT;
	walk_init(&w, t, start, flags);
	*trailing_slash = false;
	r = walk(&w, path, last, trailing_slash);
	if (r == 0 && !is_dir(&w.cur))
		r = -ENOTDIR;
	if (r == 0) {
		*parent = w.cur;
		w.cur.mnt = NULL;
		w.cur.dentry = NULL;
	}
	walk_done(&w);
	return r;
}

int vfs_lookup_parent(struct task *t, int dirfd, const char *path, unsigned flags,
		      struct path *parent, char *last, bool *trailing_slash)
{
	struct path start;
	int r;

	if (!*path)
		return -ENOENT;
	r = vfs_start_for(t, dirfd, path, flags, &start);
	if (r < 0)
		return r;
	r = vfs_lookup_parent_at(t, &start, path, flags, parent, last, trailing_slash);
	path_put(&start);
	return r;
}

int vfs_path_string(const struct path *root, const struct path *p, char *buf, size_t len)
{
	struct mount *m = p->mnt;
	struct dentry *d = p->dentry;
	size_t pos = len;
	bool deleted = d->dead;

	if (len < 2)
		return -ENAMETOOLONG;
	buf[--pos] = 0;
	while (!(m == root->mnt && d == root->dentry)) {
		if (d == m->root) {
			if (!m->parent)
				break; /* outside the root: shown from the namespace root */
			d = m->mountpoint;
			m = m->parent;
			continue;
		}
		size_t n = strlen(d->name);
		if (pos < n + 1)
			return -ENAMETOOLONG;
		pos -= n;
		memcpy(buf + pos, d->name, n);
		buf[--pos] = '/';
		d = d->parent;
	}
	if (pos == len - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, len - pos);
	if (deleted) {
		size_t n = strlen(buf);
		if (n + 11 > len)
			return -ENAMETOOLONG;
		memcpy(buf + n, " (deleted)", 11);
	}
	return (int)strlen(buf);
}
