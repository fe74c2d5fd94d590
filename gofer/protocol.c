/* Encoding, decoding and validation of gofer messages (protocol.h). The
 * decoders trust nothing: every count is bounded before anything is
 * allocated, and a message is accepted only if it decodes completely with
 * no bytes left over. */
#include "gofer/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/wire.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
#ifndef UTIME_NOW
#define UTIME_NOW ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)
#endif

static const char *const type_names[GOFER_TYPE_MAX] = {
	[GOFER_MOUNT] = "Mount", [GOFER_WALK] = "Walk", [GOFER_OPEN] = "Open",
	[GOFER_CREATE] = "Create", [GOFER_MKDIR] = "Mkdir", [GOFER_MKNOD] = "Mknod",
	[GOFER_SYMLINK] = "Symlink", [GOFER_LINK] = "Link", [GOFER_UNLINK] = "Unlink",
	[GOFER_RENAME] = "Rename", [GOFER_READLINK] = "Readlink",
	[GOFER_GETDENTS] = "Getdents", [GOFER_STAT] = "Stat", [GOFER_SETSTAT] = "SetStat",
	[GOFER_STATFS] = "StatFS", [GOFER_FSYNC] = "Fsync", [GOFER_CLOSE] = "Close",
	[GOFER_READDIRPLUS] = "ReaddirPlus",
};

const char *gofer_type_name(uint32_t type)
{
	type &= ~GOFER_REPLY;
	return type > 0 && type < GOFER_TYPE_MAX ? type_names[type] : "unknown";
}

int gofer_check_name_bytes(const void *p, size_t n)
{
	const char *s = p;

	if (n == 0 || n > GOFER_NAME_MAX)
		return -EINVAL;
	if (memchr(s, '/', n) || memchr(s, 0, n))
		return -EINVAL;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return -EINVAL;
	return 0;
}

int gofer_check_name(const char *s)
{
	return s ? gofer_check_name_bytes(s, strnlen(s, GOFER_NAME_MAX + 1)) : -EINVAL;
}

bool gofer_valid_mode(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		return (mode & ~(uint32_t)(S_IFMT | 07777)) == 0;
	default:
		return false;
	}
}

static int check_target(const char *s)
{
	size_t n = s ? strnlen(s, GOFER_PATH_MAX) : 0;
	return n > 0 && n < GOFER_PATH_MAX ? 0 : -EINVAL;
}

static bool valid_time_nsec(int64_t ns)
{
	return (ns >= 0 && ns < 1000000000) || ns == UTIME_NOW || ns == UTIME_OMIT;
}

/* The semantic rules of a request, checked on both sides: the sender
 * never sends what the receiver would refuse. */
static int check_req(const struct gofer_req *q)
{
	uint32_t acc;

	switch (q->type) {
	case GOFER_MOUNT:
		return q->index < GOFER_MOUNTS_MAX ? 0 : -EINVAL;
	case GOFER_WALK:
		if (!q->dir || q->nnames == 0 || q->nnames > GOFER_WALK_MAX || !q->names)
			return -EINVAL;
		for (uint32_t i = 0; i < q->nnames; i++)
			if (gofer_check_name(q->names[i]) < 0)
				return -EINVAL;
		return 0;
	case GOFER_OPEN:
	case GOFER_CREATE:
		acc = q->flags & O_ACCMODE;
		if (acc == O_ACCMODE || (q->flags & ~(uint32_t)(O_ACCMODE | GOFER_OPEN_FLAGS)))
			return -EINVAL;
		if (q->type == GOFER_OPEN)
			return q->node ? 0 : -EINVAL;
		if (q->mode & ~07777u)
			return -EINVAL;
		break;
	case GOFER_MKDIR:
		if (q->mode & ~07777u)
			return -EINVAL;
		break;
	case GOFER_MKNOD:
		if ((q->mode & S_IFMT) != S_IFIFO && (q->mode & S_IFMT) != S_IFREG)
			return -EINVAL;
		if ((q->mode & ~(uint32_t)(S_IFMT | 07777)) || q->rdev)
			return -EINVAL;
		break;
	case GOFER_SYMLINK:
		if (check_target(q->target) < 0)
			return -EINVAL;
		break;
	case GOFER_LINK:
		if (!q->node)
			return -EINVAL;
		break;
	case GOFER_UNLINK:
		if (q->flags & ~(uint32_t)AT_REMOVEDIR)
			return -EINVAL;
		break;
	case GOFER_RENAME:
		if (!q->dir2 || gofer_check_name(q->name2) < 0)
			return -EINVAL;
		if ((q->flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
		    q->flags == (RENAME_NOREPLACE | RENAME_EXCHANGE))
			return -EINVAL;
		break;
	case GOFER_READLINK:
	case GOFER_GETDENTS:
	case GOFER_READDIRPLUS:
	case GOFER_STAT:
	case GOFER_STATFS:
		return q->node ? 0 : -EINVAL;
	case GOFER_SETSTAT:
		if (!q->node || (q->mask & ~GOFER_SET_ALL) || (q->mode & ~07777u))
			return -EINVAL;
		if (q->size > INT64_MAX || !valid_time_nsec(q->atime_nsec) ||
		    !valid_time_nsec(q->mtime_nsec))
			return -EINVAL;
		return 0;
	case GOFER_FSYNC:
		return q->node && q->flags <= 1 ? 0 : -EINVAL;
	case GOFER_CLOSE:
		if (q->nnodes == 0 || q->nnodes > GOFER_CLOSE_MAX || !q->nodes)
			return -EINVAL;
		for (uint32_t i = 0; i < q->nnodes; i++)
			if (!q->nodes[i])
				return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
	/* The creating calls and Unlink, Rename: a directory and a name. */
	return q->dir && gofer_check_name(q->name) == 0 ? 0 : -EINVAL;
}

/* ---- encoding ---- */

static void put_hdr(struct wbuf *w, uint32_t type, uint64_t id)
{
	wbuf_put_u32(w, 0); /* the length, patched in finish() */
	wbuf_put_u32(w, type);
	wbuf_put_u64(w, id);
}

static int finish(struct wbuf *w, uint8_t **out, size_t *len)
{
	uint32_t n;

	if (w->oom) {
		wbuf_free(w);
		return -ENOMEM;
	}
	if (w->len > GOFER_MSG_MAX) {
		wbuf_free(w);
		return -EMSGSIZE;
	}
	n = (uint32_t)w->len;
	memcpy(w->data, &n, 4);
	*out = w->data;
	*len = w->len;
	return 0;
}

static void put_i64(struct wbuf *w, int64_t v) { wbuf_put_u64(w, (uint64_t)v); }

static void put_attr(struct wbuf *w, const struct gofer_attr *a)
{
	wbuf_put_u32(w, a->mode);
	wbuf_put_u32(w, a->nlink);
	wbuf_put_u32(w, a->uid);
	wbuf_put_u32(w, a->gid);
	wbuf_put_u32(w, a->blksize);
	wbuf_put_u64(w, a->ino);
	wbuf_put_u64(w, a->dev);
	wbuf_put_u64(w, a->rdev);
	wbuf_put_u64(w, a->size);
	wbuf_put_u64(w, a->blocks);
	put_i64(w, a->atime_sec);
	wbuf_put_u32(w, a->atime_nsec);
	put_i64(w, a->mtime_sec);
	wbuf_put_u32(w, a->mtime_nsec);
	put_i64(w, a->ctime_sec);
	wbuf_put_u32(w, a->ctime_nsec);
	put_i64(w, a->btime_sec);
	wbuf_put_u32(w, a->btime_nsec);
}

int gofer_encode_req(const struct gofer_req *q, uint8_t **out, size_t *len)
{
	struct wbuf w;

	if (check_req(q) < 0)
		return -EINVAL;
	wbuf_init(&w);
	put_hdr(&w, q->type, q->id);
	switch (q->type) {
	case GOFER_MOUNT:
		wbuf_put_u32(&w, q->index);
		break;
	case GOFER_WALK:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_u32(&w, q->nnames);
		for (uint32_t i = 0; i < q->nnames; i++)
			wbuf_put_str(&w, q->names[i]);
		break;
	case GOFER_OPEN:
		wbuf_put_u64(&w, q->node);
		wbuf_put_u32(&w, q->flags);
		break;
	case GOFER_CREATE:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		wbuf_put_u32(&w, q->flags);
		wbuf_put_u32(&w, q->mode);
		wbuf_put_u32(&w, q->uid);
		wbuf_put_u32(&w, q->gid);
		break;
	case GOFER_MKDIR:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		wbuf_put_u32(&w, q->mode);
		wbuf_put_u32(&w, q->uid);
		wbuf_put_u32(&w, q->gid);
		break;
	case GOFER_MKNOD:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		wbuf_put_u32(&w, q->mode);
		wbuf_put_u64(&w, q->rdev);
		wbuf_put_u32(&w, q->uid);
		wbuf_put_u32(&w, q->gid);
		break;
	case GOFER_SYMLINK:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		wbuf_put_str(&w, q->target);
		wbuf_put_u32(&w, q->uid);
		wbuf_put_u32(&w, q->gid);
		break;
	case GOFER_LINK:
		wbuf_put_u64(&w, q->node);
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		break;
	case GOFER_UNLINK:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		wbuf_put_u32(&w, q->flags);
		break;
	case GOFER_RENAME:
		wbuf_put_u64(&w, q->dir);
		wbuf_put_str(&w, q->name);
		wbuf_put_u64(&w, q->dir2);
		wbuf_put_str(&w, q->name2);
		wbuf_put_u32(&w, q->flags);
		break;
	case GOFER_READLINK:
	case GOFER_STAT:
	case GOFER_STATFS:
		wbuf_put_u64(&w, q->node);
		break;
	case GOFER_GETDENTS:
	case GOFER_READDIRPLUS:
		wbuf_put_u64(&w, q->node);
		wbuf_put_u64(&w, q->cookie);
		break;
	case GOFER_SETSTAT:
		wbuf_put_u64(&w, q->node);
		wbuf_put_u32(&w, q->mask);
		wbuf_put_u32(&w, q->mode);
		wbuf_put_u32(&w, q->uid);
		wbuf_put_u32(&w, q->gid);
		wbuf_put_u64(&w, q->size);
		put_i64(&w, q->atime_sec);
		put_i64(&w, q->atime_nsec);
		put_i64(&w, q->mtime_sec);
		put_i64(&w, q->mtime_nsec);
		break;
	case GOFER_FSYNC:
		wbuf_put_u64(&w, q->node);
		wbuf_put_u32(&w, q->flags);
		break;
	case GOFER_CLOSE:
		wbuf_put_u32(&w, q->nnodes);
		for (uint32_t i = 0; i < q->nnodes; i++)
			wbuf_put_u64(&w, q->nodes[i]);
		break;
	}
	return finish(&w, out, len);
}

static bool valid_attr(const struct gofer_attr *a)
{
	return gofer_valid_mode(a->mode) && a->atime_nsec < 1000000000 &&
	       a->mtime_nsec < 1000000000 && a->ctime_nsec < 1000000000 &&
	       a->btime_nsec < 1000000000 && a->size <= INT64_MAX && a->blocks <= INT64_MAX;
}

static int check_dirents(const struct gofer_reply *r, bool plus)
{
	for (uint32_t i = 0; i < r->ndirents; i++) {
		const struct gofer_dirent *d = &r->dirents[i];
		if (gofer_check_name(d->name) < 0 || d->type > 15)
			return -EINVAL;
		/* A node comes with the attributes of the listed file, whose
		 * type is the entry's. */
		if (plus && d->node && (!valid_attr(&d->attr) ||
					d->type != ((d->attr.mode & S_IFMT) >> 12)))
			return -EINVAL;
	}
	return 0;
}

/* The checks of a successful reply's payload, on both sides. */
static int check_reply(const struct gofer_reply *r)
{
	switch (r->type) {
	case GOFER_MOUNT:
		return r->node && r->readonly <= 1 && valid_attr(&r->attr) &&
		       S_ISDIR(r->attr.mode) ? 0 : -EINVAL;
	case GOFER_WALK:
		if (r->nwalk > GOFER_WALK_MAX)
			return -EINVAL;
		for (uint32_t i = 0; i < r->nwalk; i++)
			if (!r->walk_nodes[i] || !valid_attr(&r->walk_attrs[i]))
				return -EINVAL;
		return 0;
	case GOFER_OPEN:
		return r->fd >= 0 ? 0 : -EINVAL;
	case GOFER_CREATE:
		if (r->fd < 0 || !S_ISREG(r->attr.mode))
			return -EINVAL;
		/* fall through */
	case GOFER_MKDIR:
	case GOFER_MKNOD:
	case GOFER_SYMLINK:
	case GOFER_LINK:
		return r->node && valid_attr(&r->attr) && valid_attr(&r->dir_attr) &&
		       S_ISDIR(r->dir_attr.mode) ? 0 : -EINVAL;
	case GOFER_UNLINK:
		return valid_attr(&r->dir_attr) && S_ISDIR(r->dir_attr.mode) ? 0 : -EINVAL;
	case GOFER_RENAME:
		return valid_attr(&r->dir_attr) && valid_attr(&r->dir2_attr) &&
		       S_ISDIR(r->dir_attr.mode) && S_ISDIR(r->dir2_attr.mode) ? 0 : -EINVAL;
	case GOFER_READLINK:
		return check_target(r->target);
	case GOFER_GETDENTS:
		return check_dirents(r, false);
	case GOFER_READDIRPLUS:
		/* An empty batch is the end, and says so. */
		if (r->eof > 1 || (r->ndirents == 0 && !r->eof))
			return -EINVAL;
		return check_dirents(r, true);
	case GOFER_STAT:
	case GOFER_SETSTAT:
		return valid_attr(&r->attr) ? 0 : -EINVAL;
	case GOFER_STATFS:
	case GOFER_FSYNC:
	case GOFER_CLOSE:
		return 0;
	default:
		return -EINVAL;
	}
}

static bool has_fd(const struct gofer_reply *r)
{
	return !r->err && (r->type == GOFER_OPEN || r->type == GOFER_CREATE);
}

int gofer_encode_reply(const struct gofer_reply *r, uint8_t **out, size_t *len)
{
	struct wbuf w;

	if (r->err < 0 || r->err > 4095)
		return -EINVAL;
	if (!r->err && check_reply(r) < 0)
		return -EINVAL;
	wbuf_init(&w);
	put_hdr(&w, r->type | GOFER_REPLY, r->id);
	wbuf_put_u32(&w, (uint32_t)r->err);
	if (r->err)
		return finish(&w, out, len);
	switch (r->type) {
	case GOFER_MOUNT:
		wbuf_put_u64(&w, r->node);
		wbuf_put_u32(&w, r->readonly);
		put_attr(&w, &r->attr);
		break;
	case GOFER_WALK:
		wbuf_put_u32(&w, r->nwalk);
		for (uint32_t i = 0; i < r->nwalk; i++) {
			wbuf_put_u64(&w, r->walk_nodes[i]);
			put_attr(&w, &r->walk_attrs[i]);
		}
		break;
	case GOFER_CREATE:
	case GOFER_MKDIR:
	case GOFER_MKNOD:
	case GOFER_SYMLINK:
	case GOFER_LINK:
		wbuf_put_u64(&w, r->node);
		put_attr(&w, &r->attr);
		put_attr(&w, &r->dir_attr);
		break;
	case GOFER_UNLINK:
		put_attr(&w, &r->dir_attr);
		break;
	case GOFER_RENAME:
		put_attr(&w, &r->dir_attr);
		put_attr(&w, &r->dir2_attr);
		break;
	case GOFER_READLINK:
		wbuf_put_str(&w, r->target);
		break;
	case GOFER_READDIRPLUS:
		wbuf_put_u32(&w, r->eof);
		/* fall through */
	case GOFER_GETDENTS:
		wbuf_put_u32(&w, r->ndirents);
		for (uint32_t i = 0; i < r->ndirents; i++) {
			const struct gofer_dirent *d = &r->dirents[i];
			wbuf_put_u64(&w, d->ino);
			wbuf_put_u64(&w, d->next);
			wbuf_put_u32(&w, d->type);
			wbuf_put_str(&w, d->name);
			if (r->type != GOFER_READDIRPLUS)
				continue;
			wbuf_put_u64(&w, d->node);
			if (d->node)
				put_attr(&w, &d->attr);
		}
		break;
	case GOFER_STAT:
	case GOFER_SETSTAT:
		put_attr(&w, &r->attr);
		break;
	case GOFER_STATFS: {
		const uint64_t *v = &r->statfs.type;
		for (int i = 0; i < 10; i++)
			wbuf_put_u64(&w, v[i]);
		break;
	}
	default:
		break;
	}
	return finish(&w, out, len);
}

/* ---- decoding ---- */

int gofer_decode_hdr(const void *buf, size_t len, uint32_t *type, uint64_t *id)
{
	struct rbuf rb;
	uint32_t n;

	if (len < GOFER_HDR_SIZE || len > GOFER_MSG_MAX)
		return -EPROTO;
	rbuf_init(&rb, buf, len);
	if (!rbuf_get_u32(&rb, &n) || !rbuf_get_u32(&rb, type) || !rbuf_get_u64(&rb, id))
		return -EPROTO;
	return n == len ? 0 : -EPROTO;
}

static bool get_i64(struct rbuf *rb, int64_t *v)
{
	uint64_t u;
	if (!rbuf_get_u64(rb, &u))
		return false;
	*v = (int64_t)u;
	return true;
}

static bool get_attr(struct rbuf *rb, struct gofer_attr *a)
{
	return rbuf_get_u32(rb, &a->mode) && rbuf_get_u32(rb, &a->nlink) &&
	       rbuf_get_u32(rb, &a->uid) && rbuf_get_u32(rb, &a->gid) &&
	       rbuf_get_u32(rb, &a->blksize) && rbuf_get_u64(rb, &a->ino) &&
	       rbuf_get_u64(rb, &a->dev) && rbuf_get_u64(rb, &a->rdev) &&
	       rbuf_get_u64(rb, &a->size) && rbuf_get_u64(rb, &a->blocks) &&
	       get_i64(rb, &a->atime_sec) && rbuf_get_u32(rb, &a->atime_nsec) &&
	       get_i64(rb, &a->mtime_sec) && rbuf_get_u32(rb, &a->mtime_nsec) &&
	       get_i64(rb, &a->ctime_sec) && rbuf_get_u32(rb, &a->ctime_nsec) &&
	       get_i64(rb, &a->btime_sec) && rbuf_get_u32(rb, &a->btime_nsec);
}

/* A path component: rejected unless it is a valid name. */
static char *get_name(struct rbuf *rb)
{
	const void *p;
	uint32_t n;
	char *s;

	if (!rbuf_get_bytes(rb, &p, &n))
		return NULL;
	if (gofer_check_name_bytes(p, n) < 0) {
		rb->err = true;
		return NULL;
	}
	s = strndup(p, n);
	if (!s)
		rb->err = true;
	return s;
}

static char *get_target(struct rbuf *rb)
{
	char *s = rbuf_get_str(rb, GOFER_PATH_MAX - 1);
	if (s && !*s) {
		free(s);
		rb->err = true;
		return NULL;
	}
	return s;
}

/* Each element of a counted array takes at least min_size bytes, so a
 * count the rest of the message cannot hold is refused before anything
 * is allocated for it. */
static bool get_count(struct rbuf *rb, uint32_t *n, uint32_t max, size_t min_size)
{
	if (!rbuf_get_u32(rb, n))
		return false;
	if (*n > max || (size_t)*n * min_size > rb->len - rb->pos) {
		rb->err = true;
		return false;
	}
	return true;
}

int gofer_decode_req(const void *buf, size_t len, unsigned nfds, struct gofer_req *q)
{
	struct rbuf rb;
	uint32_t skip;
	uint64_t id;

	memset(q, 0, sizeof(*q));
	if (gofer_decode_hdr(buf, len, &q->type, &id) < 0 || nfds != 0)
		return -EPROTO;
	q->id = id;
	rbuf_init(&rb, buf, len);
	rbuf_get_u32(&rb, &skip);
	rbuf_get_u32(&rb, &skip);
	rbuf_get_u64(&rb, &id);
	switch (q->type) {
	case GOFER_MOUNT:
		rbuf_get_u32(&rb, &q->index);
		break;
	case GOFER_WALK:
		rbuf_get_u64(&rb, &q->dir);
		if (!get_count(&rb, &q->nnames, GOFER_WALK_MAX, 5))
			break;
		q->names = calloc((size_t)q->nnames + 1, sizeof(*q->names));
		if (!q->names) {
			rb.err = true;
			break;
		}
		for (uint32_t i = 0; i < q->nnames && !rb.err; i++)
			q->names[i] = get_name(&rb);
		break;
	case GOFER_OPEN:
		rbuf_get_u64(&rb, &q->node);
		rbuf_get_u32(&rb, &q->flags);
		break;
	case GOFER_CREATE:
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		rbuf_get_u32(&rb, &q->flags);
		rbuf_get_u32(&rb, &q->mode);
		rbuf_get_u32(&rb, &q->uid);
		rbuf_get_u32(&rb, &q->gid);
		break;
	case GOFER_MKDIR:
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		rbuf_get_u32(&rb, &q->mode);
		rbuf_get_u32(&rb, &q->uid);
		rbuf_get_u32(&rb, &q->gid);
		break;
	case GOFER_MKNOD:
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		rbuf_get_u32(&rb, &q->mode);
		rbuf_get_u64(&rb, &q->rdev);
		rbuf_get_u32(&rb, &q->uid);
		rbuf_get_u32(&rb, &q->gid);
		break;
	case GOFER_SYMLINK:
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		if (!rb.err)
			q->target = get_target(&rb);
		rbuf_get_u32(&rb, &q->uid);
		rbuf_get_u32(&rb, &q->gid);
		break;
	case GOFER_LINK:
		rbuf_get_u64(&rb, &q->node);
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		break;
	case GOFER_UNLINK:
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		rbuf_get_u32(&rb, &q->flags);
		break;
	case GOFER_RENAME:
		rbuf_get_u64(&rb, &q->dir);
		q->name = get_name(&rb);
		rbuf_get_u64(&rb, &q->dir2);
		if (!rb.err)
			q->name2 = get_name(&rb);
		rbuf_get_u32(&rb, &q->flags);
		break;
	case GOFER_READLINK:
	case GOFER_STAT:
	case GOFER_STATFS:
		rbuf_get_u64(&rb, &q->node);
		break;
	case GOFER_GETDENTS:
	case GOFER_READDIRPLUS:
		rbuf_get_u64(&rb, &q->node);
		rbuf_get_u64(&rb, &q->cookie);
		break;
	case GOFER_SETSTAT:
		rbuf_get_u64(&rb, &q->node);
		rbuf_get_u32(&rb, &q->mask);
		rbuf_get_u32(&rb, &q->mode);
		rbuf_get_u32(&rb, &q->uid);
		rbuf_get_u32(&rb, &q->gid);
		rbuf_get_u64(&rb, &q->size);
		get_i64(&rb, &q->atime_sec);
		get_i64(&rb, &q->atime_nsec);
		get_i64(&rb, &q->mtime_sec);
		get_i64(&rb, &q->mtime_nsec);
		break;
	case GOFER_FSYNC:
		rbuf_get_u64(&rb, &q->node);
		rbuf_get_u32(&rb, &q->flags);
		break;
	case GOFER_CLOSE:
		if (!get_count(&rb, &q->nnodes, GOFER_CLOSE_MAX, 8))
			break;
		q->nodes = calloc(q->nnodes ? q->nnodes : 1, sizeof(*q->nodes));
		if (!q->nodes) {
			rb.err = true;
			break;
		}
		for (uint32_t i = 0; i < q->nnodes; i++)
			rbuf_get_u64(&rb, &q->nodes[i]);
		break;
	default:
		rb.err = true;
		break;
	}
	if (!rbuf_done(&rb) || check_req(q) < 0) {
		gofer_req_free(q);
		return -EPROTO;
	}
	return 0;
}

int gofer_decode_reply(const void *buf, size_t len, unsigned nfds, struct gofer_reply *r)
{
	struct rbuf rb;
	uint32_t type, skip, err;
	uint64_t id;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (gofer_decode_hdr(buf, len, &type, &id) < 0 || !(type & GOFER_REPLY))
		return -EPROTO;
	r->type = type & ~GOFER_REPLY;
	r->id = id;
	if (r->type == 0 || r->type >= GOFER_TYPE_MAX)
		return -EPROTO;
	rbuf_init(&rb, buf, len);
	rbuf_get_u32(&rb, &skip);
	rbuf_get_u32(&rb, &skip);
	rbuf_get_u64(&rb, &id);
	if (!rbuf_get_u32(&rb, &err) || err > 4095)
		return -EPROTO;
	r->err = (int)err;
	if (nfds != (has_fd(r) ? 1u : 0u))
		return -EPROTO;
	if (r->err)
		return rbuf_done(&rb) ? 0 : -EPROTO;
	switch (r->type) {
	case GOFER_MOUNT:
		rbuf_get_u64(&rb, &r->node);
		rbuf_get_u32(&rb, &r->readonly);
		get_attr(&rb, &r->attr);
		break;
	case GOFER_WALK:
		if (!get_count(&rb, &r->nwalk, GOFER_WALK_MAX, 8))
			break;
		r->walk_nodes = calloc(r->nwalk ? r->nwalk : 1, sizeof(*r->walk_nodes));
		r->walk_attrs = calloc(r->nwalk ? r->nwalk : 1, sizeof(*r->walk_attrs));
		if (!r->walk_nodes || !r->walk_attrs) {
			rb.err = true;
			break;
		}
		for (uint32_t i = 0; i < r->nwalk; i++) {
			rbuf_get_u64(&rb, &r->walk_nodes[i]);
			get_attr(&rb, &r->walk_attrs[i]);
		}
		break;
	case GOFER_CREATE:
	case GOFER_MKDIR:
	case GOFER_MKNOD:
	case GOFER_SYMLINK:
	case GOFER_LINK:
		rbuf_get_u64(&rb, &r->node);
		get_attr(&rb, &r->attr);
		get_attr(&rb, &r->dir_attr);
		break;
	case GOFER_UNLINK:
		get_attr(&rb, &r->dir_attr);
		break;
	case GOFER_RENAME:
		get_attr(&rb, &r->dir_attr);
		get_attr(&rb, &r->dir2_attr);
		break;
	case GOFER_READLINK:
		r->target = get_target(&rb);
		break;
	case GOFER_READDIRPLUS:
		rbuf_get_u32(&rb, &r->eof);
		/* fall through */
	case GOFER_GETDENTS: {
		bool plus = r->type == GOFER_READDIRPLUS;
		/* The least an entry takes: its fixed fields, a 1-byte name,
		 * and for ReaddirPlus a node. */
		if (rb.err || !get_count(&rb, &r->ndirents, GOFER_MSG_MAX,
					 GOFER_DIRENT_WIRE + 1 + (plus ? 8 : 0)))
			break;
		r->dirents = calloc(r->ndirents ? r->ndirents : 1, sizeof(*r->dirents));
		if (!r->dirents) {
			rb.err = true;
			break;
		}
		for (uint32_t i = 0; i < r->ndirents && !rb.err; i++) {
			struct gofer_dirent *d = &r->dirents[i];
			rbuf_get_u64(&rb, &d->ino);
			rbuf_get_u64(&rb, &d->next);
			rbuf_get_u32(&rb, &d->type);
			if (!rb.err)
				d->name = get_name(&rb);
			if (plus && rbuf_get_u64(&rb, &d->node) && d->node)
				get_attr(&rb, &d->attr);
		}
		break;
	}
	case GOFER_STAT:
	case GOFER_SETSTAT:
		get_attr(&rb, &r->attr);
		break;
	case GOFER_STATFS: {
		uint64_t *v = &r->statfs.type;
		for (int i = 0; i < 10; i++)
			rbuf_get_u64(&rb, &v[i]);
		break;
	}
	default:
		break;
	}
	/* check_reply wants the fd's presence, not the fd: the caller owns it. */
	r->fd = has_fd(r) ? 0 : -1;
	if (!rbuf_done(&rb) || check_reply(r) < 0) {
		gofer_reply_free(r);
		r->fd = -1;
		return -EPROTO;
	}
	r->fd = -1;
	return 0;
}

void gofer_req_free(struct gofer_req *q)
{
	free(q->name);
	free(q->name2);
	free(q->target);
	strv_free(q->names);
	free(q->nodes);
	q->name = q->name2 = q->target = NULL;
	q->names = NULL;
	q->nodes = NULL;
}

void gofer_reply_free(struct gofer_reply *r)
{
	free(r->walk_nodes);
	free(r->walk_attrs);
	free(r->target);
	for (uint32_t i = 0; r->dirents && i < r->ndirents; i++)
		free(r->dirents[i].name);
	free(r->dirents);
	r->walk_nodes = NULL;
	r->walk_attrs = NULL;
	r->target = NULL;
	r->dirents = NULL;
	r->nwalk = r->ndirents = 0;
}

/* ---- the channel ---- */

int gofer_send(int sock, const void *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (len > GOFER_MSG_MAX)
		return -EMSGSIZE;
	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return (size_t)n == len ? 0 : -EPROTO;
		if (errno != EINTR)
			return -errno;
	}
}

static ssize_t recv_one(int sock, void *buf, size_t cap, int *fd, int flags)
{
	/* Room for more fds than allowed, so extra ones arrive (and are
	 * closed) instead of being dropped silently by the kernel. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {buf, cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
	int fds[8], nfds = 0;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int v;
			memcpy(&v, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds < 8)
				fds[nfds++] = v;
			else
				close(v);
		}
	}
	if (nfds > 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (n == 0 && nfds)) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	if (nfds)
		*fd = fds[0];
	return n;
}

ssize_t gofer_recv(int sock, void *buf, size_t cap, int *fd)
{
	return recv_one(sock, buf, cap, fd, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

ssize_t gofer_recv_spin(int sock, void *buf, size_t cap, int *fd, unsigned spin_us)
{
	uint64_t end = spin_us ? now_ns() + spin_us * 1000ULL : 0;
	ssize_t n;

	while (end) {
		n = recv_one(sock, buf, cap, fd, MSG_DONTWAIT);
		if (n != -EAGAIN && n != -EWOULDBLOCK)
			return n;
		if (now_ns() >= end)
			break;
		__builtin_ia32_pause();
	}
	return recv_one(sock, buf, cap, fd, 0);
}
