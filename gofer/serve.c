/* The request loop: one request at a time, in order. Anything that breaks
 * the protocol ends the loop with an error logged; the caller exits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

typedef int (*handler_fn)(struct gofer_state *g, const struct gofer_req *q,
			  struct gofer_reply *r);

static const handler_fn handlers[GOFER_TYPE_MAX] = {
	[GOFER_MOUNT] = op_mount, [GOFER_WALK] = op_walk, [GOFER_OPEN] = op_open,
	[GOFER_CREATE] = op_create, [GOFER_MKDIR] = op_mkdir, [GOFER_MKNOD] = op_mknod,
	[GOFER_SYMLINK] = op_symlink, [GOFER_LINK] = op_link, [GOFER_UNLINK] = op_unlink,
	[GOFER_RENAME] = op_rename, [GOFER_READLINK] = op_readlink,
	[GOFER_GETDENTS] = op_getdents, [GOFER_STAT] = op_stat,
	[GOFER_SETSTAT] = op_setstat, [GOFER_STATFS] = op_statfs,
	[GOFER_FSYNC] = op_fsync, [GOFER_CLOSE] = op_close,
	[GOFER_READDIRPLUS] = op_readdirplus,
};

/* The directories a request names keep their fds while it is served
 * (handlers use dir->fd directly). A directory whose fd was evicted and
 * whose name is gone fails the request with ESTALE. */
static int pin_dirs(const struct gofer_req *q, struct node **pinned, struct gofer_reply *r)
{
	const uint64_t ids[3] = {q->dir, q->dir2, q->node};

	if (q->type == GOFER_CLOSE)
		return 0;
	for (int i = 0; i < 3; i++) {
		struct node *n = node_find(ids[i]);
		int fd;
		if (!n || !S_ISDIR(n->mode))
			continue;
		fd = node_dirfd_get(n);
		if (fd < 0) {
			r->err = -fd;
			return 0;
		}
		pinned[i] = n;
	}
	return 0;
}

static void close_id(uint64_t id)
{
	struct node *n = node_find(id);
	if (n)
		node_close(n);
}

/* A reply that cannot be sent hands out none of the nodes it made. */
static void drop_nodes(const struct gofer_reply *r)
{
	for (uint32_t i = 0; r->walk_nodes && i < r->nwalk; i++)
		close_id(r->walk_nodes[i]);
	for (uint32_t i = 0; r->dirents && i < r->ndirents; i++)
		close_id(r->dirents[i].node);
	close_id(r->node);
}

/* Handles one datagram; 0, or -EPROTO / -errno to stop serving. */
static int serve_one(struct gofer_state *g, const uint8_t *buf, size_t len, int fd)
{
	struct gofer_req q;
	struct gofer_reply r;
	struct node *pinned[3] = {NULL, NULL, NULL};
	uint8_t *out = NULL;
	size_t olen;
	int e;

	if (gofer_decode_req(buf, len, fd >= 0, &q) < 0) {
		uint32_t type = 0;
		uint64_t id = 0;
		gofer_decode_hdr(buf, len, &type, &id);
		log_err("malformed %s request (%zu bytes%s): closing the channel",
			gofer_type_name(type), len, fd >= 0 ? ", with an fd" : "");
		return -EPROTO;
	}
	memset(&r, 0, sizeof(r));
	r.type = q.type;
	r.id = q.id;
	r.fd = -1;
	e = pin_dirs(&q, pinned, &r);
	if (e == 0 && !r.err)
		e = handlers[q.type](g, &q, &r);
	for (int i = 0; i < 3; i++)
		node_dirfd_put(pinned[i]);
	if (e < 0) {
		log_err("%s request names a node that does not exist: closing the channel",
			gofer_type_name(q.type));
		goto out;
	}
	e = gofer_encode_reply(&r, &out, &olen);
	if (e < 0) {
		/* Our own reply breaks the rules (a host name or attribute we
		 * cannot express): the sentry gets an error instead. */
		log_warn("%s: cannot encode the reply (%s)", gofer_type_name(q.type),
			 strerror(-e));
		drop_nodes(&r);
		gofer_reply_free(&r);
		if (r.fd >= 0)
			close(r.fd);
		memset(&r, 0, sizeof(r));
		r.type = q.type;
		r.id = q.id;
		r.err = EIO;
		r.fd = -1;
		e = gofer_encode_reply(&r, &out, &olen);
		if (e < 0)
			goto out;
	}
	e = gofer_send(g->chan, out, olen, r.fd);
	if (e < 0 && e != -EPIPE)
		log_err("cannot send a reply: %s", strerror(-e));
out:
	if (r.fd >= 0)
		close(r.fd);
	free(out);
	gofer_reply_free(&r);
	gofer_req_free(&q);
	return e;
}

int gofer_serve(struct gofer_state *g)
{
	uint8_t *buf = malloc(GOFER_MSG_MAX);
	int e = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		int fd;
		ssize_t n = gofer_recv_spin(g->chan, buf, GOFER_MSG_MAX, &fd, GOFER_POLL_US);
		if (n == 0 || n == -ECONNRESET)
			break; /* the sentry is gone */
		if (n < 0) {
			if (n == -EPROTO)
				log_err("malformed datagram on the channel: closing it");
			else
				log_err("cannot read the channel: %s", strerror((int)-n));
			e = (int)n;
			break;
		}
		e = serve_one(g, buf, (size_t)n, fd);
		if (fd >= 0)
			close(fd);
		if (e == -EPIPE || e == -ECONNRESET) {
			e = 0;
			break;
		}
		if (e < 0)
			break;
	}
	free(buf);
	return e;
}
