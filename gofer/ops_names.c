/* Requests that change names: Mkdir, Mknod, Symlink, Link, Unlink and
 * Rename. Each acts on one name in a held directory fd with an *at call
 * that never follows a symlink in that name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

/* After a creating call succeeded: the node, its owner, the attributes
 * of both. On failure the new name is removed again. */
static int finish_new(struct node *dir, const struct gofer_req *q, bool set_owner,
		      bool is_dir, struct gofer_reply *r)
{
	struct node *n = NULL;
	int e = node_child(dir, q->name, &n, &r->attr);

	if (e == 0 && set_owner) {
		int fd = node_pin(n);
		e = gofer_set_owner(fd, q->uid, q->gid, &r->attr);
		node_unpin(n, fd);
	}
	if (e == 0)
		e = attr_fd(dir->fd, &r->dir_attr);
	if (e < 0) {
		if (n)
			node_close(n);
		unlinkat(dir->fd, q->name, is_dir ? AT_REMOVEDIR : 0);
		r->err = -e;
		return 0;
	}
	r->node = n->id;
	return 0;
}

int op_mkdir(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *dir = node_find(q->dir);
	int e;

	if (!dir)
		return -EPROTO;
	e = gofer_check_dir(g, dir);
	if (e == 0 && mkdirat(dir->fd, q->name, q->mode) < 0)
		e = -errno;
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	return finish_new(dir, q, true, true, r);
}

int op_mknod(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *dir = node_find(q->dir);
	int e;

	if (!dir)
		return -EPROTO;
	e = gofer_check_dir(g, dir);
	/* The protocol admits only fifos and regular files (no devices). */
	if (e == 0 && mknodat(dir->fd, q->name, q->mode, 0) < 0)
		e = -errno;
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	return finish_new(dir, q, true, false, r);
}

int op_symlink(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *dir = node_find(q->dir);
	int e;

	if (!dir)
		return -EPROTO;
	e = gofer_check_dir(g, dir);
	if (e == 0 && symlinkat(q->target, dir->fd, q->name) < 0)
		e = -errno;
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	return finish_new(dir, q, true, false, r);
}

int op_link(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *dir = node_find(q->dir), *target = node_find(q->node);
	int e;

	if (!dir || !target)
		return -EPROTO;
	e = gofer_check_dir(g, dir);
	if (e == 0 && S_ISDIR(target->mode))
		e = -EPERM;
	else if (e == 0 && target->mount != dir->mount)
		e = -EXDEV;
	else if (e == 0 && !target->parent)
		e = -ENOENT; /* removed: Linux refuses to link it back in */
	if (e == 0) {
		int pfd = node_dirfd_get(target->parent);
		if (pfd < 0)
			e = pfd;
		else if (linkat(pfd, target->name, dir->fd, q->name, 0) < 0)
			e = -errno;
		node_dirfd_put(pfd < 0 ? NULL : target->parent);
	}
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	finish_new(dir, q, false, false, r);
	if (!r->err && (r->attr.ino != target->ino || r->attr.dev != target->dev)) {
		/* The source name led elsewhere than the node: undo. */
		node_close(node_find(r->node));
		unlinkat(dir->fd, q->name, 0);
		r->err = ESTALE;
	}
	return 0;
}

int op_unlink(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *dir = node_find(q->dir);
	int e;

	if (!dir)
		return -EPROTO;
	e = gofer_check_dir(g, dir);
	if (e == 0 && unlinkat(dir->fd, q->name, (int)q->flags) < 0)
		e = -errno;
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	node_forget_name(dir, q->name);
	r->err = -attr_fd(dir->fd, &r->dir_attr);
	return 0;
}

int op_rename(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *odir = node_find(q->dir), *ndir = node_find(q->dir2);
	int e;

	if (!odir || !ndir)
		return -EPROTO;
	e = gofer_check_dir(g, odir);
	if (e == 0)
		e = gofer_check_dir(g, ndir);
	if (e == 0 && odir->mount != ndir->mount)
		e = -EXDEV;
	if (e == 0 && syscall(SYS_renameat2, odir->fd, q->name, ndir->fd, q->name2,
			      (unsigned)q->flags) < 0)
		e = -errno;
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	if (node_rename(odir, q->name, ndir, q->name2, q->flags & RENAME_EXCHANGE) < 0)
		log_warn("rename: out of memory tracking names; some files cannot be reopened");
	e = attr_fd(odir->fd, &r->dir_attr);
	if (e == 0)
		e = attr_fd(ndir->fd, &r->dir2_attr);
	r->err = -e;
	return 0;
}
