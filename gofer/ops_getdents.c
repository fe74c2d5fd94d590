/* Getdents: one batch of a directory's entries from a cookie on. The
 * cookie is the host's d_off, so a batch needs no state in the gofer:
 * each request reopens the directory and seeks. "." and ".." are left to
 * the sentry, which knows the tree it shows. */
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

/* Appends the entries of one host batch; returns how many were taken. */
static int take_batch(const char *buf, long len, struct gofer_reply *r, size_t *bytes)
{
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
		if (*bytes + 24 + nlen > GOFER_DIRENTS_BYTES)
			return 1; /* full: the sentry asks again from the last cookie */
		struct gofer_dirent *e = &r->dirents[r->ndirents];
		e->name = strndup(d->d_name, nlen);
		if (!e->name)
			return -ENOMEM;
		e->ino = d->d_ino;
		e->next = (uint64_t)d->d_off;
		e->type = d->d_type;
		r->ndirents++;
		*bytes += 24 + nlen;
	}
	return 0;
}

int op_getdents(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r)
{
	struct node *n = node_find(q->node);
	size_t bytes = 0;
	char *buf = NULL;
	int fd = -1, e = 0;

	(void)g;
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
	buf = malloc(HOST_BATCH);
	/* Every host record holds at least one name byte and a 19-byte
	 * header, rounded to 24: this bounds the entries of one batch. */
	r->dirents = calloc(HOST_BATCH / 24 + 1, sizeof(*r->dirents));
	if (!buf || !r->dirents) {
		e = -ENOMEM;
		goto out;
	}
	fd = node_reopen(n, O_RDONLY);
	if (fd < 0) {
		e = fd;
		goto out;
	}
	if (lseek(fd, (off_t)q->cookie, SEEK_SET) < 0) {
		e = -errno;
		goto out;
	}
	/* Until something is found or the directory ends ("." and ".."
	 * alone make an empty batch that is not the end). */
	while (r->ndirents == 0) {
		long len = syscall(SYS_getdents64, fd, buf, HOST_BATCH);
		if (len < 0) {
			e = -errno;
			break;
		}
		if (len == 0)
			break;
		e = take_batch(buf, len, r, &bytes);
		if (e != 0)
			break;
	}
	if (e > 0)
		e = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (e < 0) {
		gofer_reply_free(r);
		r->err = -e;
	}
	return 0;
}
