/* The gofer protocol: how the sentry reaches host files (DESIGN.md,
 * "Gofer protocol"). Shared by the gofer (gofer/) and the sentry's client
 * filesystem (sentry/fs/gofer/).
 *
 * Framing. One message is one SOCK_SEQPACKET datagram of at most
 * GOFER_MSG_MAX bytes: a 16-byte header (u32 length of the whole message,
 * u32 type, u64 request id), then a body in lib/wire.h encoding. A reply
 * carries the request's id and type | GOFER_REPLY; its body starts with a
 * u32 errno (0: success), and only a successful reply has a payload. At
 * most one fd rides with a message (SCM_RIGHTS): the host file donated by
 * Open and Create replies. Replies may come in any order; the id matches
 * them to requests, so several sentry threads can share one channel.
 *
 * Nodes. A node is a u64 handle (never 0) for a file the gofer holds open
 * as an O_PATH fd, beneath one of its mount roots. Every reply that makes
 * a node makes exactly one handle, which the sentry releases with Close.
 *
 * ReaddirPlus is Getdents that also walks: each entry may carry a node
 * and its attributes (node 0: none, the sentry walks the name if it needs
 * it), so the stats that follow a listing cost no round trip. The gofer
 * takes the attributes with statx(dirfd, name, AT_SYMLINK_NOFOLLOW) of
 * the listed name (one component, never "..", beneath the directory);
 * an entry on another device than the directory (a mount point) gets no
 * node. An entry's d_type is its attribute's type. eof says the
 * directory ended within this batch, so no empty batch is needed. Each
 * node made is the sentry's to Close, like a Walk's.
 *
 * Validation. Both sides decode with the bounded decoder and check
 * everything: the length field against the datagram, counts, names (no
 * '/', not "." or "..", no NUL, 1..255 bytes), file types, fds present
 * exactly where the message has one. A message that breaks a rule is a
 * protocol error: the receiver logs it and closes the channel. */
#ifndef RC_GOFER_PROTOCOL_H
#define RC_GOFER_PROTOCOL_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GOFER_MSG_MAX (64u * 1024)
#define GOFER_HDR_SIZE 16
#define GOFER_NAME_MAX 255
#define GOFER_PATH_MAX 4096       /* symlink targets: < this many bytes */
#define GOFER_WALK_MAX 64         /* names in one Walk */
#define GOFER_CLOSE_MAX 1024      /* nodes in one Close */
#define GOFER_DIRENTS_BYTES (48u * 1024) /* payload budget of a Getdents reply */
/* Wire bytes of a dirent: ino, next, type, name length; a ReaddirPlus
 * entry adds its node and, with a node, its attributes. */
#define GOFER_DIRENT_WIRE 24u
#define GOFER_ATTR_WIRE 108u
#define GOFER_PLUS_WIRE (GOFER_DIRENT_WIRE + 8u + GOFER_ATTR_WIRE)
#define GOFER_MOUNTS_MAX 1025     /* the root and up to 1024 binds */

#define GOFER_REPLY 0x80000000u

enum gofer_type {
	GOFER_MOUNT = 1,   /* u32 index -> node, u32 readonly, attr */
	GOFER_WALK,        /* node dir, names -> n x (node, attr) */
	GOFER_OPEN,        /* node, u32 flags -> fd */
	GOFER_CREATE,      /* dir, name, u32 flags, mode, uid, gid -> node, attr, dir attr, fd */
	GOFER_MKDIR,       /* dir, name, u32 mode, uid, gid -> node, attr, dir attr */
	GOFER_MKNOD,       /* dir, name, u32 mode, u64 rdev, uid, gid -> node, attr, dir attr */
	GOFER_SYMLINK,     /* dir, name, target, u32 uid, gid -> node, attr, dir attr */
	GOFER_LINK,        /* node target, dir, name -> node, attr, dir attr */
	GOFER_UNLINK,      /* dir, name, u32 flags -> dir attr */
	GOFER_RENAME,      /* olddir, oldname, newdir, newname, u32 flags -> 2 dir attrs */
	GOFER_READLINK,    /* node -> target */
	GOFER_GETDENTS,    /* dir, u64 cookie -> n x dirent (n == 0: the end) */
	GOFER_STAT,        /* node -> attr */
	GOFER_SETSTAT,     /* node, mask, mode, uid, gid, size, atime, mtime -> attr */
	GOFER_STATFS,      /* node -> statfs */
	GOFER_FSYNC,       /* node, u32 datasync -> */
	GOFER_CLOSE,       /* nodes -> */
	GOFER_READDIRPLUS, /* dir, u64 cookie -> u32 eof, n x (dirent, node[, attr if node]) */
	GOFER_TYPE_MAX
};

/* File attributes, as statx reports them on the host. */
struct gofer_attr {
	uint32_t mode, nlink, uid, gid, blksize;
	uint64_t ino, dev, rdev;  /* dev and rdev: makedev() values */
	uint64_t size, blocks;    /* blocks: 512-byte units */
	int64_t atime_sec, mtime_sec, ctime_sec, btime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec, btime_nsec;
};

struct gofer_statfs {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen, frsize, flags;
};

struct gofer_dirent {
	uint64_t ino;
	uint64_t next;            /* the cookie that continues after this entry */
	uint32_t type;            /* DT_* */
	char *name;
	uint64_t node;            /* ReaddirPlus: 0, or a node for the name... */
	struct gofer_attr attr;   /* ...and its attributes */
};

/* SetStat mask bits. Times carry UTIME_NOW and UTIME_OMIT in nsec. */
#define GOFER_SET_MODE 0x1u
#define GOFER_SET_UID 0x2u
#define GOFER_SET_GID 0x4u
#define GOFER_SET_SIZE 0x8u
#define GOFER_SET_ATIME 0x10u
#define GOFER_SET_MTIME 0x20u
#define GOFER_SET_ALL 0x3fu

/* Open flags the gofer accepts: the access mode and these. */
#define GOFER_OPEN_FLAGS (O_TRUNC | O_SYNC | O_DSYNC | O_NOATIME)

/* A request, decoded. Which fields a type uses is in enum gofer_type;
 * decoding allocates names, freed by gofer_req_free. */
struct gofer_req {
	uint32_t type;
	uint64_t id;
	uint64_t node, dir, dir2;
	char *name, *name2, *target;
	char **names;             /* Walk: NULL-terminated */
	uint32_t nnames;
	uint64_t *nodes;          /* Close */
	uint32_t nnodes;
	uint32_t index, flags, mode, uid, gid, mask;
	uint64_t rdev, cookie, size;
	int64_t atime_sec, mtime_sec, atime_nsec, mtime_nsec;
};

/* A reply, decoded. */
struct gofer_reply {
	uint32_t type;            /* the request's type, without GOFER_REPLY */
	uint64_t id;
	int err;                  /* positive errno, 0 for success */
	uint64_t node;
	struct gofer_attr attr, dir_attr, dir2_attr;
	uint32_t readonly;        /* Mount */
	uint64_t *walk_nodes;     /* Walk */
	struct gofer_attr *walk_attrs;
	uint32_t nwalk;
	char *target;             /* Readlink */
	struct gofer_dirent *dirents; /* Getdents, ReaddirPlus */
	uint32_t ndirents;
	uint32_t eof;             /* ReaddirPlus: the directory ended here */
	struct gofer_statfs statfs;
	int fd;                   /* Open, Create: the donated fd, else -1 */
};

/* Names: 0 if s is one valid path component, else -EINVAL. */
int gofer_check_name(const char *s);
/* The same for counted bytes straight off the wire. */
int gofer_check_name_bytes(const void *p, size_t n);
/* A valid file type in an attribute (one of the seven S_IF* types). */
bool gofer_valid_mode(uint32_t mode);

/* Encoding into one datagram. The returned buffer is malloc'd (free it);
 * -EINVAL for a message that breaks the rules (a bad name or count) and
 * -EMSGSIZE for one too big. */
int gofer_encode_req(const struct gofer_req *q, uint8_t **out, size_t *len);
int gofer_encode_reply(const struct gofer_reply *r, uint8_t **out, size_t *len);

/* Decoding a datagram: 0, or -EPROTO with no allocations left behind.
 * nfds is how many fds came with it (the fd itself is the caller's). */
int gofer_decode_req(const void *buf, size_t len, unsigned nfds, struct gofer_req *q);
int gofer_decode_reply(const void *buf, size_t len, unsigned nfds, struct gofer_reply *r);
/* Only the header: the type (with GOFER_REPLY) and id of a datagram. */
int gofer_decode_hdr(const void *buf, size_t len, uint32_t *type, uint64_t *id);

void gofer_req_free(struct gofer_req *q);
void gofer_reply_free(struct gofer_reply *r); /* does not close r->fd */
const char *gofer_type_name(uint32_t type);

/* One datagram on the channel with at most one fd. send returns 0 or
 * -errno; recv returns the length, 0 at the end of the channel, -EPROTO
 * for a datagram that breaks the framing (truncated, too big, more than
 * one fd: fds that came are closed), or -errno. *fd is -1 if none came. */
int gofer_send(int sock, const void *buf, size_t len, int fd);
ssize_t gofer_recv(int sock, void *buf, size_t cap, int *fd);
/* gofer_recv that first polls for up to spin_us: a reply or request due
 * within microseconds then costs no sleep and no cross-CPU wakeup (an
 * IPI, a VM exit in a VM). */
ssize_t gofer_recv_spin(int sock, void *buf, size_t cap, int *fd, unsigned spin_us);
/* How long each side polls the channel: a request's work in the gofer,
 * or the sentry's next request after a reply, is mostly shorter. */
#define GOFER_POLL_US 20u

#endif
