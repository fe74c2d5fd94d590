/* Synthetic filesystems (procfs, sysfs): trees described by tables of
 * entries whose contents are computed from sentry state when read.
 *
 * A filesystem is a tree of struct synth_entry: directories list their
 * fixed children in a table and may add children that come and go
 * (struct synth_dyn: processes, fds); regular files produce their text
 * into a struct synth_buf when read at offset 0 (as Linux's seq_file
 * regenerates on a read from the start, so `lseek(fd, 0); read(...)`
 * loops, as top does, see fresh values), or read positionally for large
 * contents (cmdline); symlinks compute their text, and magic links
 * (get_link) name a path directly.
 *
 * Every inode carries three integers (id[]) that say what it describes
 * (for procfs: tgid, tid, fd); children inherit them, so a generator
 * finds its process without holding a reference to it. Inode numbers are
 * a hash of the parent's and the name, stable across lookups, since the
 * superblock is SB_NOCACHE and every walk makes new inodes. */
#ifndef RC_SENTRY_FS_SYNTH_SYNTH_H
#define RC_SENTRY_FS_SYNTH_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sentry/vfs/vfs.h"

struct task;

/* A growable text buffer; the first failure sticks in err. Contents are
 * capped at SYNTH_BUF_MAX so no generator can exhaust the sentry. */
#define SYNTH_BUF_MAX (64u << 20)

struct synth_buf {
	char *data;
	size_t len, cap;
	int err;
};

void synth_printf(struct synth_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void synth_write(struct synth_buf *b, const void *p, size_t n);
void synth_putc(struct synth_buf *b, char c);
/* Writes s with Linux's mangling for mount tables: space, tab, newline
 * and backslash as \ooo. */
void synth_write_escaped(struct synth_buf *b, const char *s);
void synth_buf_free(struct synth_buf *b);

#define SYNTH_NIDS 3

/* A generator: appends the file's text to out. 0 or -errno. */
typedef int (*synth_show_fn)(struct inode *in, struct synth_buf *out);
/* A positional reader for contents too big to buffer: at most len bytes
 * from off, 0 at the end, or -errno. */
typedef ssize_t (*synth_pread_fn)(struct inode *in, char *buf, size_t len, int64_t off);
/* A write: the whole buffer is one request (as proc files treat it). */
typedef ssize_t (*synth_store_fn)(struct inode *in, const char *buf, size_t len);
/* Symlink text for readlink(2) and ordinary links: at most len bytes. */
typedef ssize_t (*synth_readlink_fn)(struct inode *in, char *buf, size_t len);
/* A magic link's target, referenced. */
typedef int (*synth_get_link_fn)(struct inode *in, struct task *t, struct path *out);

struct synth_entry;

/* Children of a directory that come and go. Keys order them for
 * readdir; a key is stable for the life of what it names (a pid, an
 * fd). */
struct synth_dyn {
	/* The child with the smallest key >= *key: its name (NUL-terminated,
	 * at most namecap bytes with the NUL), its DT_ type, and its key in
	 * *key. Returns 1, 0 when there is none, or -errno. */
	int (*next)(struct inode *dir, uint64_t *key, char *name, size_t namecap,
		    unsigned *dtype);
	/* A child by name: 0 and a referenced inode, -ENOENT, or -errno. */
	int (*lookup)(struct inode *dir, const char *name, struct inode **out);
};

struct synth_entry {
	const char *name;              /* NULL ends a table */
	uint32_t mode;                 /* file type and permission bits */
	synth_show_fn show;            /* S_IFREG: text made at read */
	synth_pread_fn pread;          /* S_IFREG: or read in place */
	synth_store_fn store;          /* S_IFREG: writable files */
	synth_readlink_fn readlink;    /* S_IFLNK */
	synth_get_link_fn get_link;    /* S_IFLNK: a magic link */
	const struct synth_entry *children; /* S_IFDIR: fixed children */
	const struct synth_dyn *dyn;   /* S_IFDIR: children that come and go */
	const struct file_ops *fops;   /* a file with its own ops (devices) */
	/* Opening this node's files (and its descendants') for writing
	 * fails with EACCES unless a write bit is set, even for root (as
	 * sysfs and /proc/sys do); elsewhere it succeeds and write fails. */
	bool strict_write;
	/* Overrides the owner of the node (procfs: the process's euid);
	 * false keeps the parent's. */
	bool (*owner)(struct inode *in, uint32_t *uid, uint32_t *gid);
};

struct synth_node {
	const struct synth_entry *e;
	int64_t id[SYNTH_NIDS];
	uint64_t parent_ino;
	uint32_t uid, gid;
	bool strict_write;   /* this entry's or an ancestor's */
};

static inline struct synth_node *synth_node(struct inode *in) { return in->priv; }
static inline int64_t synth_id(struct inode *in, int i) { return synth_node(in)->id[i]; }

/* A new superblock for a synthetic filesystem: flags usually
 * SB_NOCACHE. *root gets the root directory described by root_entry. */
struct superblock *synth_sb_new(const char *fstype, uint32_t magic, unsigned flags,
				const struct synth_entry *root_entry, struct inode **root);

/* A child inode of dir: described by e, named name (e->name for a fixed
 * entry; a dynamic one's own), about id (NULL: dir's). Owned as dir
 * unless e->owner says otherwise. NULL when out of memory. */
struct inode *synth_new_child(struct inode *dir, const char *name,
			      const struct synth_entry *e, const int64_t *id);

/* Parses a decimal name ("42") as dynamic directories use: the value,
 * or -1 if the name is not a canonical non-negative number below max. */
int64_t synth_parse_num(const char *name, int64_t max);

/* Copies text (length n) into a readlink buffer of len bytes. */
ssize_t synth_copy_link(const char *text, size_t n, char *buf, size_t len);

/* The wall-clock time the synthetic files show (set at boot). */
extern struct k_timespec synth_boot_wall;

#endif
