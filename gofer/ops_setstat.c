/* SetStat (size, owner, mode, times, in that order: chown clears set-id
 * bits that a mode given with it must keep) and Close. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int set_mode(struct node *n, int fd, uint32_t mode)
{
	if (S_ISLNK(n->mode))
		return -EOPNOTSUPP;
	if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 6.6: through a name. A directory names itself
	 * (its fd is pinned by the request). */
	if (S_ISDIR(n->mode))
		return fchmodat(fd, ".", mode, 0) < 0 ? -errno : 0;
	if (!n->parent)
		return -ESTALE;
	int pfd = node_dirfd_get(n->parent), e = 0;
	if (pfd < 0)
		return pfd;
	if (fchmodat(pfd, n->name, mode, 0) < 0)
		e = -errno;
	node_dirfd_put(n->parent);
	return e;
}

static int set_size(struct node *n, uint64_t size)
{
	int fd, e = 0;

	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (!S_ISREG(n->mode))
		return -EINVAL;
	fd = node_reopen(n, O_WRONLY);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)size) < 0)
		e = -errno;
	close(fd);
	return e;
}

int op_setstat(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);
	int e = 0, fd = -1;

	if (!n)
		return -EPROTO;
	if (g->mounts[n->mount].readonly)
		e = -EROFS;
	else if (n->pseudo)
		e = -EACCES;
	if (e == 0 && (q->mask & GOFER_SET_SIZE))
		e = set_size(n, q->size);
	if (e == 0 && (fd = node_pin(n)) < 0)
		e = fd;
	if (e == 0 && (q->mask & (GOFER_SET_UID | GOFER_SET_GID)) &&
	    fchownat(fd, "", q->mask & GOFER_SET_UID ? q->uid : (uid_t)-1,
		     q->mask & GOFER_SET_GID ? q->gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		e = -errno;
	if (e == 0 && (q->mask & GOFER_SET_MODE))
		e = set_mode(n, fd, q->mode);
	if (e == 0 && (q->mask & (GOFER_SET_ATIME | GOFER_SET_MTIME))) {
		struct timespec ts[2] = {
			{q->atime_sec, q->mask & GOFER_SET_ATIME ? q->atime_nsec : UTIME_OMIT},
			{q->mtime_sec, q->mask & GOFER_SET_MTIME ? q->mtime_nsec : UTIME_OMIT},
		};
		if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			e = -errno;
	}
	if (e == 0)
		e = attr_fd(fd, &r->attr);
	node_unpin(n, fd);
	r->err = -e;
	return 0;
}

int op_close(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	(void)g;
	(void)r;
	/* All exist, or none is closed: a bad id is a protocol error. */
	for (uint32_t i = 0; i < q->nnodes; i++)
		if (!node_find(q->nodes[i]))
			return -EPROTO;
	for (uint32_t i = 0; i < q->nnodes; i++) {
		struct node *n = node_find(q->nodes[i]);
		if (!n)
			return -EPROTO; /* the same id twice */
		node_close(n);
	}
	return 0;
}
