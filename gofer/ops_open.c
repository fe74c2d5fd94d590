/* Requests that hand out host files: Open, Create, and Fsync. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

static bool writes(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int op_open(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);
	int fd;

	if (!n)
		return -EPROTO;
	/* Only regular files are donated: directories are read through
	 * Getdents, and devices, fifos and sockets are the sentry's own. */
	if (!S_ISREG(n->mode)) {
		r->err = S_ISDIR(n->mode) ? EISDIR : S_ISLNK(n->mode) ? ELOOP : ENXIO;
		return 0;
	}
	if (n->pseudo) {
		r->err = EACCES;
		return 0;
	}
	if (writes(q->flags) && g->mounts[n->mount].readonly) {
		r->err = EROFS;
		return 0;
	}
	fd = node_reopen(n, (int)q->flags);
	if (fd < 0) {
		r->err = -fd;
		return 0;
	}
	r->fd = fd;
	return 0;
}

/* The owner the sentry asked for. A gofer without CAP_CHOWN (an
 * unprivileged user) keeps the host's choice: the file is the user's. */
int gofer_set_owner(int fd, uint32_t uid, uint32_t gid, struct gofer_attr *a)
{
	if (a->uid == uid && a->gid == gid)
		return 0;
	if (fd < 0)
		return fd;
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return errno == EPERM || errno == EINVAL ? 0 : -errno;
	return attr_fd(fd, a);
}

/* The checks every creating request makes of its directory. */
int gofer_check_dir(struct gofer_state *g, struct node *dir)
{
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (dir->pseudo)
		return -EACCES;
	if (g->mounts[dir->mount].readonly)
		return -EROFS;
	return 0;
}

int op_create(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *dir = node_find(q->dir), *n = NULL;
	int fd, e;

	if (!dir)
		return -EPROTO;
	e = gofer_check_dir(g, dir);
	if (e < 0)
		goto fail;
	fd = open_beneath(dir->fd, q->name, (int)q->flags | O_CREAT | O_EXCL, q->mode);
	if (fd < 0) {
		e = fd;
		goto fail;
	}
	e = node_child(dir, q->name, &n, &r->attr);
	if (e == 0) {
		/* The open fd is the new file itself: its owner and mode are
		 * set through it. */
		e = gofer_set_owner(fd, q->uid, q->gid, &r->attr);
		/* chown clears set-id bits the sentry asked for. */
		if (e == 0 && (q->mode & (S_ISUID | S_ISGID)) &&
		    (r->attr.mode & 07777) != q->mode && fchmod(fd, q->mode) == 0)
			e = attr_fd(fd, &r->attr);
	}
	if (e == 0)
		e = attr_fd(dir->fd, &r->dir_attr);
	if (e < 0) {
		/* Undo: the sentry will not know the file. */
		close(fd);
		if (n)
			node_close(n);
		unlinkat(dir->fd, q->name, 0);
		goto fail;
	}
	r->node = n->id;
	r->fd = fd;
	return 0;
fail:
	r->err = -e;
	return 0;
}

int op_fsync(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);
	int fd;

	(void)g;
	if (!n)
		return -EPROTO;
	if (!S_ISREG(n->mode) && !S_ISDIR(n->mode))
		return 0; /* nothing of theirs is cached by the host */
	fd = node_reopen(n, O_RDONLY);
	if (fd < 0) {
		r->err = -fd;
		return 0;
	}
	if ((q->flags ? fdatasync(fd) : fsync(fd)) < 0)
		r->err = errno;
	close(fd);
	return 0;
}
