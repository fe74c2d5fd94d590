/* Opening files beneath a held directory fd. Every open the gofer does
 * goes through open_beneath: one name, resolved with no symlink (magic or
 * not) and never above the directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"

int open_beneath(int dirfd, const char *name, int flags, uint32_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

int node_reopen(struct node *n, int flags)
{
	struct gofer_attr a;
	bool nonblock = false;
	int fd;

	if (S_ISDIR(n->mode)) {
		/* A directory reopens through itself. */
		int dfd = node_dirfd_get(n);
		if (dfd < 0)
			return dfd;
		fd = open_beneath(dfd, ".", flags | O_DIRECTORY, 0);
		node_dirfd_put(n);
	} else {
		int pfd;
		if (!n->parent)
			return -ESTALE; /* removed, or a root that is not a directory */
		pfd = node_dirfd_get(n->parent);
		if (pfd < 0)
			return pfd;
		/* O_NONBLOCK: should the name now be a fifo, do not hang.
		 * (openat2 refuses any such flag with O_PATH.) */
		nonblock = !(flags & (O_PATH | O_NONBLOCK));
		if (!(flags & O_PATH))
			flags |= O_NONBLOCK | O_NOCTTY;
		fd = open_beneath(pfd, n->name, flags, 0);
		node_dirfd_put(n->parent);
	}
	if (fd < 0)
		return fd;
	if (attr_fd(fd, &a) < 0 || a.dev != n->dev || a.ino != n->ino ||
	    (a.mode & S_IFMT) != (n->mode & S_IFMT)) {
		close(fd);
		return -ESTALE;
	}
	if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int node_child(struct node *dir, const char *name, struct node **out, struct gofer_attr *a)
{
	struct node *n;
	bool pseudo;
	int fd, r;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (dir->pseudo)
		return -EACCES;
	r = node_dirfd_get(dir);
	if (r < 0)
		return r;
	fd = open_beneath(r, name, O_PATH, 0);
	node_dirfd_put(dir);
	if (fd < 0)
		return fd;
	r = attr_fd(fd, a);
	if (r < 0) {
		close(fd);
		return r;
	}
	/* Crossing into another filesystem: check what it is. */
	pseudo = a->dev == dir->dev ? dir->pseudo : attr_pseudo_fs(fd);
	if (!S_ISDIR(a->mode)) {
		close(fd); /* reopened by name when needed */
		fd = -1;
	}
	n = node_new(fd, dir->mount, dir, name, a->mode, a->dev, a->ino, pseudo);
	if (!n)
		return -ENOMEM;
	*out = n;
	return 0;
}


int node_pin(struct node *n)
{
	return S_ISDIR(n->mode) ? node_dirfd_get(n) : node_reopen(n, O_PATH);
}

void node_unpin(struct node *n, int fd)
{
	if (fd < 0)
		return;
	if (S_ISDIR(n->mode))
		node_dirfd_put(n);
	else
		close(fd);
}
