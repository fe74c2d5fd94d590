/* The gofer process's internals: its mounts, the node table, the request
 * handlers and the confinement steps. The protocol is in protocol.h. */
#ifndef RC_GOFER_GOFER_H
#define RC_GOFER_GOFER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gofer/protocol.h"

/* One exported host directory: index 0 is the root, 1..n the binds. */
struct gofer_mount {
	int fd;              /* O_PATH directory fd */
	bool readonly;
	char *host;          /* for messages only */
};

struct gofer_state {
	struct gofer_mount *mounts;
	int nmounts;
	int chan;
};

/* A node: a file beneath a mount root, known by where it is named. Files
 * are reopened by their name in their parent when needed, checked to be
 * the same file (dev, ino): an O_PATH fd per walked name would exhaust the
 * fd limit on a large tree (the sentry keeps what it walked), and an
 * O_PATH fd cannot be reopened without /proc, which the gofer does not
 * keep. Directories keep an O_PATH fd while on a bounded LRU (mount roots
 * always), reopened the same way once evicted. Renames and unlinks done
 * through the gofer update the names. */
struct node {
	uint64_t id;         /* 0 once the sentry has closed its handle */
	int fd;              /* O_PATH; a directory's, while cached; else -1 */
	unsigned pins;       /* in use by the request being served: keep fd */
	struct node *lru_prev, *lru_next;
	bool on_lru;
	uint32_t mode;       /* S_IFMT type at walk time */
	dev_t dev;
	ino_t ino;
	int mount;           /* index into gofer_state.mounts */
	bool pseudo;         /* on proc, sysfs and the like: no reading */
	unsigned refs;       /* the sentry's handle + one per named child */
	struct node *parent; /* referenced; NULL for a mount root or removed */
	char *name;
	struct node *hnext;  /* in the id table */
	struct node *child, *sib_next, *sib_prev; /* names under this dir */
};

/* ---- node.c ---- */
/* Makes a node for fd (taken) named name under parent (NULL for a mount
 * root); attributes come from st. Returns NULL on ENOMEM (fd closed). */
struct node *node_new(int fd, int mount, struct node *parent, const char *name,
		      uint32_t mode, dev_t dev, ino_t ino, bool pseudo);
/* The node with this handle, or NULL. */
struct node *node_find(uint64_t id);
/* Releases the sentry's handle. */
void node_close(struct node *n);
/* After unlinkat(dir, name): nodes named so lose their name. */
void node_forget_name(struct node *dir, const char *name);
/* After renameat2: nodes follow their names. */
int node_rename(struct node *odir, const char *oname, struct node *ndir, const char *nname,
		bool exchange);
/* A directory's fd, reopened if it was evicted, and pinned until
 * node_dirfd_put; -ESTALE if its name no longer leads to it. */
int node_dirfd_get(struct node *dir);
void node_dirfd_put(struct node *dir);
/* How many directory fds to keep (from the fd limit). */
void node_set_fd_budget(size_t n);
/* Releases every node (at exit). */
void node_table_free(void);
size_t node_count(void);

/* ---- attr.c ---- */
/* statx of an O_PATH fd itself (not following a symlink). */
int attr_fd(int fd, struct gofer_attr *a);
/* statx of one name in a directory fd (not following a symlink): the
 * name must be a valid component (gofer_check_name). */
int attr_at(int dirfd, const char *name, struct gofer_attr *a);
/* Whether a filesystem is one whose files must never be served (proc,
 * sysfs, debugfs, ...): fstatfs of fd. */
bool attr_pseudo_fs(int fd);

/* ---- reopen.c ---- */
/* Opens n itself with flags (never following a symlink, never blocking
 * on a fifo), checked to be the same file. -ESTALE if its name no longer
 * leads to it. */
int node_reopen(struct node *n, int flags);
/* A new node for name in dir (a walk step, or after creating it), with
 * its attributes. */
int node_child(struct node *dir, const char *name, struct node **out, struct gofer_attr *a);
/* An O_PATH fd for n, checked to be n: a directory's own (pinned), else
 * a new one. Release it with node_unpin. */
int node_pin(struct node *n);
void node_unpin(struct node *n, int fd);
/* openat2 of one name beneath dir, resolving no symlinks at all. */
int open_beneath(int dirfd, const char *name, int flags, uint32_t mode);

/* ---- ops_open.c: shared by the creating requests ---- */
/* Gives a new file (its O_PATH fd) the owner the sentry asked for, where
 * the gofer may; a refreshes. */
int gofer_set_owner(int fd, uint32_t uid, uint32_t gid, struct gofer_attr *a);
/* 0 if dir may get a new name: a directory, served, writable. */
int gofer_check_dir(struct gofer_state *g, struct node *dir);

/* ---- handlers (ops_*.c): fill r from q; return 0 (r->err carries the
 * errno for the sentry) or -EPROTO when q names a node that does not
 * exist. ---- */
int op_mount(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_walk(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_stat(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_statfs(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_readlink(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_open(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_fsync(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_create(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_mkdir(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_mknod(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_symlink(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_link(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_unlink(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_rename(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_getdents(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_readdirplus(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_setstat(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);
int op_close(struct gofer_state *g, const struct gofer_req *q, struct gofer_reply *r);

/* ---- serve.c ---- */
/* Serves the channel until it closes (0) or breaks the protocol (-EPROTO,
 * logged). */
int gofer_serve(struct gofer_state *g);

/* ---- confine_*.c ---- */
/* Own mount namespace holding only the mounts (their fds are replaced);
 * 0 also when the host does not allow it (logged at debug level). */
int confine_mount_ns(struct gofer_state *g);
/* Keeps only the capabilities file serving needs; non-dumpable. */
int confine_caps(void);
/* The seccomp allowlist; after it nothing new can be reached. */
int confine_seccomp(const struct gofer_state *g);

/* The entry point: `runsc-c gofer ...`. */
int gofer_main(int argc, char **argv);

#endif
