/* Getdents and ReaddirPlus: one batch of a directory's entries from a
 * cookie on. The cookie is the host's d_off, so a batch needs no state in
 * the gofer: each request reopens the directory and seeks. "." and ".."
 * are left to the sentry, which knows the tree it shows.
 *
 * ReaddirPlus also makes a node for each entry, from statx of the name in
 * the directory just read (AT_SYMLINK_NOFOLLOW: a symlink is the entry
 * itself), exactly what a Walk of it would have made: the node remembers
 * (name, dev, ino) and every later use reopens by name and checks both,
 * so a file replaced since the listing is ESTALE, never another file's
 * data. No node for an entry on another device (a mount point: the
 * sentry walks it, which checks the filesystem) or that vanished. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Host records are at least as dense as ours, so one read of this size
 * always fits the reply's budget. */
#define HOST_BATCH (32u * 1024)

/* One batch in the making. */
struct batch {
	struct gofer_reply *r;
	size_t bytes, max;        /* payload so far; entries room */
	struct node *dir;         /* ReaddirPlus: the nodes' parent, else NULL */
	int fd;                   /* the directory, open for reading */
};

/* ReaddirPlus: a node and attributes for entry e, when they can be had. */
static void plus(struct batch *b, struct gofer_dirent *e)
{
	struct gofer_attr a;
	struct node *n;

	if (attr_at(b->fd, e->name, &a) < 0 || a.dev != b->dir->dev)
		return;
	n = node_new(-1, b->dir->mount, b->dir, e->name, a.mode, a.dev, a.ino, b->dir->pseudo);
	if (!n)
		return; /* the sentry walks it */
	e->node = n->id;
	e->attr = a;
	/* The attributes are newer than the record: their type wins. */
	e->type = (a.mode & S_IFMT) >> 12;
}

/* Appends the entries of one host batch; returns 1 when the reply is
 * full (the sentry asks again from the last cookie), else 0 or -errno. */
static int take_batch(struct batch *b, const char *buf, long len)
{
	const size_t each = b->dir ? GOFER_PLUS_WIRE : GOFER_DIRENT_WIRE;
	struct gofer_reply *r = b->r;

	for (long at = 0; at < len;) {
		const struct linux_dirent64 *d = (const void *)(buf + at);
		const size_t hdr = offsetof(struct linux_dirent64, d_name);
		size_t nlen;

		if (d->d_reclen <= hdr || at + d->d_reclen > len)
			return -EIO;
		at += d->d_reclen;
		nlen = strnlen(d->d_name, d->d_reclen - hdr);
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (gofer_check_name_bytes(d->d_name, nlen) < 0)
			continue; /* cannot happen on Linux; never forward it */
		if (b->bytes + each + nlen > GOFER_DIRENTS_BYTES || r->ndirents == b->max)
			return 1;
		struct gofer_dirent *e = &r->dirents[r->ndirents];
		e->name = strndup(d->d_name, nlen);
		if (!e->name)
			return -ENOMEM;
		e->ino = d->d_ino;
		e->next = (uint64_t)d->d_off;
		e->type = d->d_type;
		r->ndirents++;
		b->bytes += each + nlen;
		if (b->dir)
			plus(b, e);
	}
	return 0;
}

static int list(const struct gofer_req *q, struct gofer_reply *r, bool want_plus)
{
	struct node *n = node_find(q->node);
	struct batch b = {.r = r, .fd = -1};
	char *buf = NULL;
	int e = 0;

	if (!n)
		return -EPROTO;
	if (!S_ISDIR(n->mode)) {
		r->err = ENOTDIR;
		return 0;
	}
	if (n->pseudo) {
		r->err = EACCES;
		return 0;
	}
	b.dir = want_plus ? n : NULL;
	/* Every host record holds at least one name byte and a 19-byte
	 * header, rounded to 24: this bounds the entries of one host read.
	 * ReaddirPlus reads on until its reply is full, bounded by size. */
	b.max = want_plus ? GOFER_DIRENTS_BYTES / (GOFER_PLUS_WIRE + 1) : HOST_BATCH / 24;
	buf = malloc(HOST_BATCH);
	r->dirents = calloc(b.max + 1, sizeof(*r->dirents));
	if (!buf || !r->dirents) {
		e = -ENOMEM;
		goto out;
	}
	b.fd = node_reopen(n, O_RDONLY);
	if (b.fd < 0) {
		e = b.fd;
		goto out;
	}
	if (lseek(b.fd, (off_t)q->cookie, SEEK_SET) < 0) {
		e = -errno;
		goto out;
	}
	/* Getdents: until something is found or the directory ends ("."
	 * and ".." alone make an empty batch that is not the end).
	 * ReaddirPlus: until full or the end, which it reports. */
	while (want_plus || r->ndirents == 0) {
		long len = syscall(SYS_getdents64, b.fd, buf, HOST_BATCH);
		if (len < 0) {
			e = -errno;
			break;
		}
		if (len == 0) {
			r->eof = want_plus;
			break;
		}
		e = take_batch(&b, buf, len);
		if (e != 0)
			break;
	}
	if (e > 0)
		e = 0;
out:
	if (b.fd >= 0)
		close(b.fd);
	free(buf);
	if (e < 0) {
		/* Nothing is handed out with an error. */
		for (uint32_t i = 0; r->dirents && i < r->ndirents; i++)
			if (r->dirents[i].node)
				node_close(node_find(r->dirents[i].node));
		gofer_reply_free(r);
		r->err = -e;
	}
	return 0;
}

int op_getdents(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	(void)g;
	return list(q, r, false);
}

int op_readdirplus(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	(void)g;
	return list(q, r, true);
}
