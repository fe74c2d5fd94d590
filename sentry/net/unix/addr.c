/* Unix socket addresses: validation, bind (a path name made as an
 * S_IFSOCK node through the VFS, an abstract name, or an autobound
 * one), getsockname/getpeername, and finding the socket an address
 * names. Lengths are Linux's: a path name counts its NUL, an abstract
 * name counts every byte given, an unnamed socket is just the family. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"
#include "sentry/vfs/names.h"
#include "sentry/vfs/vfs.h"

#define SUN_PATH_OFF offsetof(struct sockaddr_un, sun_path)

int unix_validate_addr(const void *addr, int len)
{
	const struct sockaddr_un *sun = addr;

	if (len <= (int)SUN_PATH_OFF || len > (int)sizeof(struct sockaddr_un))
		return -EINVAL;
	if (sun->sun_family != AF_UNIX)
		return -EINVAL;
	return 0;
}

/* A path name: the bytes given, cut at the first NUL (Linux's
 * unix_mkname_bsd, which may read one byte past sun_path: the caller's
 * buffer is a whole sockaddr_storage). Returns the address length. */
static int mkname_bsd(struct unix_addr *a, const void *addr, int len)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->data, addr, (size_t)len);
	a->data[len] = 0;
	return (int)(strlen((char *)a->data + SUN_PATH_OFF) + SUN_PATH_OFF + 1);
}

static struct unix_addr *addr_dup(const struct unix_addr *a)
{
	struct unix_addr *n = malloc(sizeof(*n));
	if (n)
		*n = *a;
	return n;
}

/* Publishes u's name: the caller holds u->bindlock and the table lock. */
static int set_addr_locked(struct unix_sock *u, const struct unix_addr *a)
{
	struct unix_addr *n = addr_dup(a);
	int r;

	if (!n)
		return -ENOMEM;
	pthread_mutex_lock(&u->lock);
	u->addr = n;
	pthread_mutex_unlock(&u->lock);
	r = unix_table_insert_locked(u);
	if (r < 0) {
		pthread_mutex_lock(&u->lock);
		u->addr = NULL;
		pthread_mutex_unlock(&u->lock);
		free(n);
	}
	return r;
}

static int bind_bsd(struct unix_sock *u, struct task *t, const void *addr, int len)
{
	struct unix_addr a;
	struct path p;
	const char *path;
	int r;

	a.len = mkname_bsd(&a, addr, len);
	path = (const char *)a.data + SUN_PATH_OFF;
	/* The node first, as Linux: a name that exists is EADDRINUSE even
	 * for a socket already bound. The umask applies (vfs_mknodat). */
	r = vfs_mknodat(t, AT_FDCWD, path, S_IFSOCK | 0777, 0);
	if (r < 0)
		return r == -EEXIST ? -EADDRINUSE : r;
	r = vfs_lookup(t, AT_FDCWD, path, 0, &p);
	if (r < 0)
		return r;
	pthread_mutex_lock(&u->bindlock);
	if (u->addr) {
		pthread_mutex_unlock(&u->bindlock);
		path_put(&p);
		/* Already bound: the node we made goes again. */
		vfs_unlinkat(t, AT_FDCWD, path, 0);
		return -EINVAL;
	}
	pthread_mutex_lock(&unix_table_lock);
	u->path = p;
	u->bsd_sb = p.dentry->inode->sb;
	u->bsd_ino = p.dentry->inode->ino;
	r = set_addr_locked(u, &a);
	if (r < 0)
		memset(&u->path, 0, sizeof(u->path));
	pthread_mutex_unlock(&unix_table_lock);
	pthread_mutex_unlock(&u->bindlock);
	if (r < 0) {
		path_put(&p);
		vfs_unlinkat(t, AT_FDCWD, path, 0);
	}
	return r;
}

static int bind_abstract(struct unix_sock *u, const void *addr, int len)
{
	struct unix_addr a;
	int r;

	memset(&a, 0, sizeof(a));
	memcpy(a.data, addr, (size_t)len);
	a.len = len;
	pthread_mutex_lock(&u->bindlock);
	if (u->addr) {
		r = -EINVAL;
	} else {
		pthread_mutex_lock(&unix_table_lock);
		r = set_addr_locked(u, &a);
		pthread_mutex_unlock(&unix_table_lock);
	}
	pthread_mutex_unlock(&u->bindlock);
	return r;
}

int unix_autobind(struct unix_sock *u)
{
	struct unix_addr a;
	uint32_t first, n;
	int r = 0;

	pthread_mutex_lock(&u->bindlock);
	if (u->addr)
		goto out;
	memset(&a, 0, sizeof(a));
	((struct sockaddr_un *)a.data)->sun_family = AF_UNIX;
	/* "\0" and five hex digits, from a random start (Linux). */
	a.len = (int)SUN_PATH_OFF + 6;
	first = (uint32_t)kernel_random_u64() & 0xfffff;
	n = first;
	pthread_mutex_lock(&unix_table_lock);
	for (;;) {
		n = (n + 1) & 0xfffff;
		snprintf((char *)a.data + SUN_PATH_OFF + 1, 6, "%05x", (unsigned)n);
		if (!unix_table_has_abstract_locked(u->type, &a)) {
			r = set_addr_locked(u, &a);
			break;
		}
		if (n == first) {
			r = -ENOSPC;
			break;
		}
	}
	pthread_mutex_unlock(&unix_table_lock);
out:
	pthread_mutex_unlock(&u->bindlock);
	return r;
}

int unix_bind(struct socket *sock, struct task *t, const void *addr, int len)
{
	const struct sockaddr_un *sun = addr;
	struct unix_sock *u = unix_sk(sock);
	int r;

	if (len == (int)SUN_PATH_OFF && sun->sun_family == AF_UNIX)
		return unix_autobind(u);
	r = unix_validate_addr(addr, len);
	if (r < 0)
		return r;
	return sun->sun_path[0] ? bind_bsd(u, t, addr, len) : bind_abstract(u, addr, len);
}

int unix_copy_addr(struct unix_sock *u, void *buf)
{
	int len = 0;

	pthread_mutex_lock(&u->lock);
	if (u->addr) {
		len = u->addr->len;
		memcpy(buf, u->addr->data, (size_t)len);
	}
	pthread_mutex_unlock(&u->lock);
	return len;
}

int unix_getname(struct socket *sock, void *addr, bool peer)
{
	struct unix_sock *u = unix_sk(sock), *s = u;
	int len;

	if (peer) {
		pthread_mutex_lock(&u->lock);
		s = u->peer;
		if (s)
			unix_sock_get(s);
		pthread_mutex_unlock(&u->lock);
		if (!s)
			return -ENOTCONN;
	}
	len = unix_copy_addr(s, addr);
	if (!len) {
		/* Unnamed: the family alone. */
		memset(addr, 0, SUN_PATH_OFF + 1);
		((struct sockaddr_un *)addr)->sun_family = AF_UNIX;
		len = (int)SUN_PATH_OFF;
	}
	if (peer)
		unix_sock_put(s);
	return len;
}

static int find_bsd(struct task *t, const void *addr, int len, int type,
		    struct unix_sock **out)
{
	struct unix_addr a;
	struct unix_sock *s;
	struct inode *in;
	struct path p;
	int r;

	mkname_bsd(&a, addr, len);
	r = vfs_lookup(t, AT_FDCWD, (const char *)a.data + SUN_PATH_OFF, LOOKUP_FOLLOW, &p);
	if (r < 0)
		return r;
	in = p.dentry->inode;
	r = vfs_permission(in, MAY_WRITE, &t->tg->creds);
	if (r < 0)
		goto out;
	r = -ECONNREFUSED;
	if (!S_ISSOCK(in->mode))
		goto out;
	s = unix_table_find_inode(in);
	if (!s)
		goto out;
	if (s->type != type) {
		unix_sock_put(s);
		r = -EPROTOTYPE;
		goto out;
	}
	*out = s;
	r = 0;
out:
	path_put(&p);
	return r;
}

int unix_find_other(struct task *t, const void *addr, int len, int type,
		    struct unix_sock **out)
{
	const struct sockaddr_un *sun = addr;

	if (sun->sun_path[0])
		return find_bsd(t, addr, len, type, out);
	*out = unix_table_find_abstract(type, addr, len);
	return *out ? 0 : -ECONNREFUSED;
}
