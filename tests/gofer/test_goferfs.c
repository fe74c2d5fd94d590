/* The sentry's gofer client filesystem (sentry/fs/gofer/) against a real
 * gofer process: lookups, attributes, reads and writes through donated
 * fds, the calls that change names, readdir, read-only mounts, caching
 * (what was seen once keeps working with the gofer gone), several threads
 * sharing the channel, and a hostile gofer that cannot crash the client. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry/fs/gofer/gofer_fs.h"
#include "sentry/kernel/creds.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"
#include "tests/gofer/gofer_client.h"

static char *root;
static struct gofer_proc gp;
static struct superblock *sb;
static struct inode *rin;
static struct dentry *rd;

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *host_read(const char *rel)
{
	char p[512];
	static char buf[256];
	FILE *f;
	size_t n;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void start(bool readonly, const char *extra)
{
	char rootarg[600];
	const char *args[4] = {rootarg, extra, NULL};

	root = gp_tmpdir();
	cr_assert_not_null(root);
	put("file", "hello gofer\n");
	snprintf(rootarg, sizeof(rootarg), "%s/dir", root);
	cr_assert_eq(mkdir(rootarg, 0755), 0);
	put("dir/inner", "inner\n");
	snprintf(rootarg, sizeof(rootarg), "%s/link", root);
	cr_assert_eq(symlink("/etc/shadow", rootarg), 0);
	snprintf(rootarg, sizeof(rootarg), "--root=%s", root);
	cr_assert_eq(gp_start(&gp, args, -1), 0);
	cr_assert_eq(goferfs_attach(gp.sock), 0);
	cr_assert_eq(goferfs_mount(0, readonly, &sb, &rin), 0);
	rd = dentry_new_root(rin);
	cr_assert_not_null(rd);
}

static void setup(void) { start(false, NULL); }
static void setup_ro(void) { start(true, NULL); }

static void teardown(void)
{
	if (rd)
		dentry_put(rd);
	rd = NULL;
	if (sb)
		sb_put(sb);
	sb = NULL;
	gp_stop(&gp);
	gp_rmtree(root);
	free(root);
}

static struct inode *lookup(struct inode *dir, const char *name)
{
	struct inode *in = NULL;
	int e = dir->ops->lookup(dir, name, &in);
	cr_assert_eq(e, 0, "lookup %s: %s", name, strerror(-e));
	return in;
}

static struct file *open_inode(struct inode *in, int flags, struct dentry *d)
{
	struct file *f = file_new(NULL, flags, NULL);
	int e;
	cr_assert_not_null(f);
	inode_get(in);
	f->inode = in;
	if (d) {
		dentry_get(d);
		f->path.dentry = d;
	}
	e = in->ops->open(in, f);
	cr_assert_eq(e, 0, "open: %s", strerror(-e));
	return f;
}

UTest(goferfs, lookup_stat_read, .init = setup, .fini = teardown)
{
	struct inode *f = lookup(rin, "file"), *l = lookup(rin, "link"), *x = NULL;
	struct vfs_attr a;
	char buf[64] = {0};
	int64_t pos = 0;
	struct file *fl;

	cr_assert(S_ISDIR(rin->mode));
	cr_assert_eq(inode_getattr(f, &a), 0);
	cr_assert(S_ISREG(a.mode));
	cr_assert_eq(a.size, 12);
	cr_assert_eq(a.dev, sb->dev);
	cr_assert_eq(rin->ops->lookup(rin, "missing", &x), -ENOENT);
	cr_assert_eq(rin->ops->lookup(rin, "a/b", &x), -ENOENT);

	fl = open_inode(f, O_RDONLY, NULL);
	cr_assert_eq(fl->ops->read(fl, buf, sizeof(buf), &pos), 12);
	cr_assert_eq(pos, 12);
	cr_assert_str_eq(buf, "hello gofer\n");
	cr_assert_eq(fl->ops->read(fl, buf, sizeof(buf), &pos), 0);
	cr_assert_geq(fl->ops->mmap_fd(fl), 0);
	cr_assert_eq(fl->ops->llseek(fl, 0, SEEK_END), 12);
	file_put(fl);

	cr_assert(S_ISLNK(l->mode));
	cr_assert_eq(l->ops->readlink(l, buf, sizeof(buf)), 11);
	cr_assert_eq(memcmp(buf, "/etc/shadow", 11), 0);

	struct k_statfs st;
	cr_assert_eq(sb->ops->statfs(sb, &st), 0);
	cr_assert_gt(st.f_bsize, 0);
	inode_put(l);
	inode_put(f);
}

UTest(goferfs, create_write_rename_unlink, .init = setup, .fini = teardown)
{
	struct creds c;
	struct inode *n = NULL, *d = NULL, *s = NULL, *dir = lookup(rin, "dir");
	struct vfs_attr a;
	struct file *f;
	int64_t pos = 0;

	creds_init_root(&c);
	cr_assert_eq(rin->ops->create(rin, "new", 0640, &c, &n), 0);
	f = open_inode(n, O_RDWR, NULL);
	cr_assert_eq(f->ops->write(f, "abc", 3, &pos), 3);
	cr_assert_eq(inode_getattr(n, &a), 0);
	cr_assert_eq(a.size, 3);
	cr_assert_eq(a.mode, S_IFREG | 0640);
	cr_assert_str_eq(host_read("new"), "abc");
	/* O_APPEND writes at the end whatever the position. */
	f->flags |= O_APPEND;
	pos = 0;
	cr_assert_eq(f->ops->write(f, "de", 2, &pos), 2);
	cr_assert_eq(pos, 5);
	cr_assert_str_eq(host_read("new"), "abcde");
	/* Truncation through the open fd. */
	struct vfs_setattr sa = {.mask = VFS_ATTR_SIZE, .size = 1};
	cr_assert_eq(n->ops->setattr(n, &sa), 0);
	cr_assert_eq(inode_getattr(n, &a), 0);
	cr_assert_eq(a.size, 1);
	cr_assert_str_eq(host_read("new"), "a");
	file_put(f);
	sa = (struct vfs_setattr){.mask = VFS_ATTR_MODE, .mode = 0600};
	cr_assert_eq(n->ops->setattr(n, &sa), 0);
	cr_assert_eq(n->mode, S_IFREG | 0600);

	cr_assert_eq(rin->ops->mkdir(rin, "d", 0755, &c, &d), 0);
	cr_assert(S_ISDIR(d->mode));
	cr_assert_eq(rin->ops->rename(rin, "new", d, "x", 0), 0);
	cr_assert_null(host_read("new"));
	cr_assert_str_eq(host_read("d/x"), "a");
	/* The moved inode still opens (the gofer followed the rename). */
	f = open_inode(n, O_RDONLY, NULL);
	file_put(f);
	cr_assert_eq(d->ops->symlink(d, "sl", "x", &c, &s), 0);
	char buf[8];
	cr_assert_eq(s->ops->readlink(s, buf, sizeof(buf)), 1);
	cr_assert_eq(d->ops->link(d, "hard", n), 0);
	cr_assert_eq(inode_getattr(n, &a), 0);
	cr_assert_eq(a.nlink, 2);
	cr_assert_eq(d->ops->unlink(d, "hard", n), 0);
	cr_assert_eq(d->ops->unlink(d, "sl", s), 0);
	cr_assert_eq(d->ops->unlink(d, "x", n), 0);
	cr_assert_eq(rin->ops->rmdir(rin, "d", d), 0);
	cr_assert_eq(rin->ops->rmdir(rin, "dir", dir), -ENOTEMPTY);
	struct inode *fifo = NULL;
	cr_assert_eq(rin->ops->mknod(rin, "fifo", S_IFIFO | 0600, 0, &c, &fifo), 0);
	cr_assert(S_ISFIFO(fifo->mode));
	struct inode *chr = NULL;
	cr_assert_eq(rin->ops->mknod(rin, "chr", S_IFCHR | 0600, 0x103, &c, &chr), -EPERM);
	inode_put(fifo);
	inode_put(s);
	inode_put(d);
	inode_put(n);
	inode_put(dir);
}

struct seen {
	char names[4096][64];
	int n, max;
};

static int collect(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type,
		   int64_t next)
{
	struct seen *s = ctx;
	(void)ino;
	(void)type;
	(void)next;
	if (s->n >= s->max)
		return 1;
	snprintf(s->names[s->n++], 64, "%.*s", (int)len, name);
	return 0;
}

static bool seen(struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

UTest(goferfs, readdir_in_small_steps, .init = setup, .fini = teardown)
{
	struct seen *s = calloc(1, sizeof(*s));
	struct creds c;
	struct file *f;
	int64_t pos = 0;
	char name[32];

	creds_init_root(&c);
	for (int i = 0; i < 300; i++) {
		struct inode *in;
		snprintf(name, sizeof(name), "f%03d", i);
		cr_assert_eq(rin->ops->create(rin, name, 0600, &c, &in), 0);
		inode_put(in);
	}
	f = open_inode(rin, O_RDONLY, rd);
	/* Three entries per call, as a tiny getdents buffer would take. */
	for (;;) {
		int before = s->n;
		s->max = s->n + 3;
		cr_assert_eq(f->ops->iterate(f, &pos, collect, s), 0);
		if (s->n == before)
			break;
	}
	cr_assert_eq(s->n, 2 + 3 + 300, "%d entries", s->n);
	cr_assert_str_eq(s->names[0], ".");
	cr_assert_str_eq(s->names[1], "..");
	cr_assert(seen(s, "file") && seen(s, "dir") && seen(s, "link") && seen(s, "f299"));
	/* A name made while the directory is open shows after a rewind. */
	struct inode *in;
	cr_assert_eq(rin->ops->create(rin, "late", 0600, &c, &in), 0);
	inode_put(in);
	s->n = 0;
	s->max = 4096;
	pos = 0;
	cr_assert_eq(f->ops->iterate(f, &pos, collect, s), 0);
	cr_assert(seen(s, "late"));
	file_put(f);
	free(s);
}

UTest(goferfs, readonly_mount, .init = setup_ro, .fini = teardown)
{
	struct creds c;
	struct inode *n = NULL, *f = lookup(rin, "file");
	struct vfs_setattr sa = {.mask = VFS_ATTR_MODE, .mode = 0777};

	creds_init_root(&c);
	cr_assert(sb->flags & SB_RDONLY);
	cr_assert_eq(rin->ops->create(rin, "new", 0600, &c, &n), -EROFS);
	cr_assert_eq(rin->ops->mkdir(rin, "new", 0700, &c, &n), -EROFS);
	cr_assert_eq(rin->ops->unlink(rin, "file", f), -EROFS);
	cr_assert_eq(f->ops->setattr(f, &sa), -EROFS);
	inode_put(f);
}

/* Once walked, names, attributes, targets and listings need no gofer. */
UTest(goferfs, cached_after_first_walk, .init = setup, .fini = teardown)
{
	struct dentry *d, *miss, *again;
	struct inode *l;
	struct vfs_attr a;
	struct seen *s = calloc(1, sizeof(*s));
	struct file *f;
	int64_t pos = 0;
	char buf[32];

	cr_assert_eq(dcache_lookup(rd, "file", &d), 0);
	cr_assert_eq(dcache_lookup(rd, "nothing", &miss), 0);
	cr_assert_null(miss->inode);
	l = lookup(rin, "link");
	cr_assert_eq(l->ops->readlink(l, buf, sizeof(buf)), 11);
	f = open_inode(rin, O_RDONLY, rd);
	s->max = 4096;
	cr_assert_eq(f->ops->iterate(f, &pos, collect, s), 0);
	file_put(f);

	kill(gp.pid, SIGKILL);
	gp_wait(&gp);

	cr_assert_eq(dcache_lookup(rd, "file", &again), 0);
	cr_assert_eq(again, d);
	dentry_put(again);
	cr_assert_eq(dcache_lookup(rd, "nothing", &again), 0);
	cr_assert_null(again->inode);
	dentry_put(again);
	cr_assert_eq(inode_getattr(d->inode, &a), 0);
	cr_assert_eq(a.size, 12);
	cr_assert_eq(l->ops->readlink(l, buf, sizeof(buf)), 11);
	f = open_inode(rin, O_RDONLY, rd);
	s->n = 0;
	pos = 0;
	cr_assert_eq(f->ops->iterate(f, &pos, collect, s), 0);
	cr_assert(seen(s, "file"));
	file_put(f);
	/* What was never seen needs the gofer, which is gone: an error. */
	struct inode *x;
	cr_assert_eq(rin->ops->lookup(rin, "new-name", &x), -EIO);
	dentry_put(miss);
	dentry_put(d);
	inode_put(l);
	free(s);
}

/* Several threads share the channel, requests in flight together. */
struct worker {
	int id;
	int errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char name[32];
	for (int i = 0; i < 50; i++) {
		struct inode *in = NULL;
		struct k_statfs st;
		snprintf(name, sizeof(name), "t%d-%d", w->id, i);
		if (rin->ops->lookup(rin, name, &in) != 0) {
			w->errors++;
			continue;
		}
		struct vfs_attr a;
		if (inode_getattr(in, &a) != 0 || (int64_t)a.size != w->id * 100 + i)
			w->errors++;
		inode_put(in);
		if (sb->ops->statfs(sb, &st) != 0)
			w->errors++;
	}
	return NULL;
}

UTest(goferfs, threads_share_the_channel, .init = setup, .fini = teardown)
{
	pthread_t t[8];
	struct worker w[8];

	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < 50; i++) {
			char rel[32], p[600];
			snprintf(rel, sizeof(rel), "t%d-%d", k, i);
			snprintf(p, sizeof(p), "%s/%s", root, rel);
			int fd = open(p, O_CREAT | O_WRONLY, 0600);
			cr_assert_geq(fd, 0);
			cr_assert_eq(ftruncate(fd, k * 100 + i), 0);
			close(fd);
		}
	}
	for (int k = 0; k < 8; k++) {
		w[k] = (struct worker){.id = k};
		pthread_create(&t[k], NULL, work, &w[k]);
	}
	for (int k = 0; k < 8; k++) {
		pthread_join(t[k], NULL);
		cr_assert_eq(w[k].errors, 0, "thread %d: %d errors", k, w[k].errors);
	}
}

/* A gofer that answers with garbage: the client fails cleanly. */
static void *hostile(void *arg)
{
	int fd = *(int *)arg;
	uint8_t buf[GOFER_MSG_MAX];
	while (recv(fd, buf, sizeof(buf), 0) > 0) {
		/* A reply header for id 1 with a body that is not a Mount's. */
		uint32_t h[6] = {24, GOFER_MOUNT | GOFER_REPLY, 1, 0, 0, 77};
		send(fd, h, sizeof(h), MSG_NOSIGNAL);
	}
	return NULL;
}

UTest(goferfs, hostile_gofer)
{
	int sv[2];
	pthread_t t;
	struct superblock *s = NULL;
	struct inode *r = NULL;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(goferfs_attach(sv[0]), 0);
	cr_assert_eq(goferfs_attach(sv[0]), -EBUSY);
	pthread_create(&t, NULL, hostile, &sv[1]);
	cr_assert_eq(goferfs_mount(0, false, &s, &r), -EIO);
	/* The channel stays broken. */
	cr_assert_eq(goferfs_mount(0, false, &s, &r), -EIO);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(t, NULL);
	close(sv[1]);
}

UTest(goferfs, attach_needs_seqpacket)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(goferfs_attach(sv[0]), -EPROTOTYPE);
	close(sv[0]);
	close(sv[1]);
}
