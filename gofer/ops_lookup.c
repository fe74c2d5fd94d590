/* Requests that look: Mount, Walk, Stat, StatFS, Readlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

int op_mount(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct gofer_mount *m;
	struct node *n;
	int fd;

	if (q->index >= (uint32_t)g->nmounts) {
		r->err = ENOENT;
		return 0;
	}
	m = &g->mounts[q->index];
	fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		r->err = errno;
		return 0;
	}
	r->err = -attr_fd(fd, &r->attr);
	if (r->err) {
		close(fd);
		return 0;
	}
	n = node_new(fd, (int)q->index, NULL, NULL, r->attr.mode, r->attr.dev, r->attr.ino,
		     attr_pseudo_fs(fd));
	if (!n) {
		r->err = ENOMEM;
		return 0;
	}
	r->node = n->id;
	r->readonly = m->readonly;
	return 0;
}

int op_walk(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *cur = node_find(q->dir), *first = cur;

	(void)g;
	if (!cur)
		return -EPROTO;
	r->walk_nodes = calloc(q->nnames, sizeof(*r->walk_nodes));
	r->walk_attrs = calloc(q->nnames, sizeof(*r->walk_attrs));
	if (!r->walk_nodes || !r->walk_attrs) {
		r->err = ENOMEM;
		return 0;
	}
	for (uint32_t i = 0; i < q->nnames; i++) {
		struct node *n;
		int e = node_child(cur, q->names[i], &n, &r->walk_attrs[i]);
		if (e < 0) {
			/* A missing name ends the walk; other errors are the
			 * reply when nothing was found. */
			if (i == 0 && e != -ENOENT)
				r->err = -e;
			break;
		}
		r->walk_nodes[i] = n->id;
		r->nwalk = i + 1;
		/* Symlinks are never followed: the sentry resolves them. */
		if (!S_ISDIR(n->mode))
			break;
		/* The next step's directory keeps its fd meanwhile. */
		if (node_dirfd_get(n) < 0)
			break;
		if (i > 0)
			node_dirfd_put(cur);
		cur = n;
	}
	if (cur != first)
		node_dirfd_put(cur);
	if (r->err) {
		/* Nothing is handed out with an error. */
		for (uint32_t i = 0; i < r->nwalk; i++)
			node_close(node_find(r->walk_nodes[i]));
		r->nwalk = 0;
	}
	return 0;
}

int op_stat(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);

	(void)g;
	int fd;

	if (!n)
		return -EPROTO;
	fd = node_pin(n);
	r->err = -(fd < 0 ? fd : attr_fd(fd, &r->attr));
	node_unpin(n, fd);
	return 0;
}

int op_statfs(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);
	struct statfs st;
	int fd, e = 0;

	if (!n)
		return -EPROTO;
	fd = node_pin(n);
	if (fd < 0)
		e = fd;
	else if (fstatfs(fd, &st) < 0)
		e = -errno;
	node_unpin(n, fd);
	if (e < 0) {
		r->err = -e;
		return 0;
	}
	r->statfs.type = (uint64_t)st.f_type;
	r->statfs.bsize = (uint64_t)st.f_bsize;
	r->statfs.blocks = st.f_blocks;
	r->statfs.bfree = st.f_bfree;
	r->statfs.bavail = st.f_bavail;
	r->statfs.files = st.f_files;
	r->statfs.ffree = st.f_ffree;
	r->statfs.namelen = (uint64_t)st.f_namelen;
	r->statfs.frsize = (uint64_t)st.f_frsize;
	r->statfs.flags = (uint64_t)st.f_flags;
	if (g->mounts[n->mount].readonly)
		r->statfs.flags |= ST_RDONLY;
	return 0;
}

int op_readlink(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);
	ssize_t len;
	int fd, e = 0;

	(void)g;
	if (!n)
		return -EPROTO;
	if (!S_ISLNK(n->mode)) {
		r->err = EINVAL;
		return 0;
	}
	r->target = malloc(GOFER_PATH_MAX);
	fd = r->target ? node_pin(n) : -ENOMEM;
	if (fd < 0) {
		e = fd;
	} else {
		len = readlinkat(fd, "", r->target, GOFER_PATH_MAX);
		if (len < 0)
			e = -errno;
		else if (len == 0 || len >= GOFER_PATH_MAX || memchr(r->target, 0, (size_t)len))
			e = -ENAMETOOLONG;
		else
			r->target[len] = 0;
		node_unpin(n, fd);
	}
	if (e < 0) {
		free(r->target);
		r->target = NULL;
		r->err = -e;
	}
	return 0;
}
