/* The gofer process, run directly against a temporary directory through
 * its socket: the file requests work, nothing outside the root can be
 * reached through symlinks or "..", read-only mounts refuse writes,
 * malformed messages end it cleanly, and it is confined (seccomp mode 2,
 * no fds but its channel and roots, its own mount tree). */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/wire.h"
#include "tests/gofer/gofer_client.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static char *root;
static struct gofer_proc gp;
static void free_kept(void);

static void put_file(const char *rel, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void put_dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert_eq(mkdir(p, 0755), 0);
}

static void put_link(const char *rel, const char *target)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert_eq(symlink(target, p), 0);
}

static bool host_exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void setup_tree(void)
{
	root = gp_tmpdir();
	cr_assert_not_null(root);
	put_file("file", "hello gofer\n");
	put_dir("dir");
	put_file("dir/inner", "inner\n");
	/* Escape attempts. */
	put_link("shadow", "/etc/shadow");
	put_link("up", "../../..");
	put_link("abs", "/");
	put_link("dir/esc", "../../../etc");
	put_link("loop", "loop");
}

static void start(const char *extra)
{
	char rootarg[600];
	const char *args[4] = {rootarg, extra, NULL};
	snprintf(rootarg, sizeof(rootarg), "--root=%s", root);
	cr_assert_eq(gp_start(&gp, args, -1), 0);
}

static void teardown(void)
{
	int st = gp_stop(&gp);
	free_kept();
	char *err = gp_stderr(&gp);
	(void)err;
	free(err);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gofer exited with status %#x", st);
	gp_rmtree(root);
	free(root);
}

static void setup(void)
{
	setup_tree();
	start(NULL);
}

/* ---- the requests ---- */

/* Replies are kept (reachable) until the test ends, so tests can use
 * their fields freely. */
static struct gofer_reply *kept;
static size_t nkept;

static void free_kept(void)
{
	for (size_t i = 0; i < nkept; i++)
		gofer_reply_free(&kept[i]);
	free(kept);
	kept = NULL;
	nkept = 0;
}

static int call(struct gofer_req *q, struct gofer_reply *r)
{
	int e = gp_call(&gp, q, r);
	cr_assert_eq(e, 0, "the channel broke: %s", strerror(-e));
	kept = realloc(kept, (nkept + 1) * sizeof(*kept));
	cr_assert_not_null(kept);
	kept[nkept++] = *r;
	return r->err;
}

static int open_node(uint64_t node, uint32_t flags, int *fd)
{
	struct gofer_req q = {.type = GOFER_OPEN, .node = node, .flags = flags};
	struct gofer_reply r;
	int e = call(&q, &r);
	*fd = r.fd;
	return e;
}

static char **list(uint64_t dir, size_t *n)
{
	struct gofer_req q = {.type = GOFER_GETDENTS, .node = dir};
	char **names = NULL;
	*n = 0;
	for (;;) {
		struct gofer_reply r;
		cr_assert_eq(call(&q, &r), 0);
		if (!r.ndirents)
			break;
		for (uint32_t i = 0; i < r.ndirents; i++) {
			names = realloc(names, (*n + 2) * sizeof(*names));
			names[(*n)++] = strdup(r.dirents[i].name);
			names[*n] = NULL;
		}
		q.cookie = r.dirents[r.ndirents - 1].next;
	}
	return names;
}

static bool listed(char **names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

UTest(gofer, walk_open_read, .init = setup, .fini = teardown)
{
	struct gofer_attr a;
	uint64_t r = gp_mount(&gp, 0, &a), f, d, in;
	char buf[64] = {0};
	int fd;

	cr_assert_neq(r, 0);
	cr_assert(S_ISDIR(a.mode));
	f = gp_walk1(&gp, r, "file", &a);
	cr_assert_neq(f, 0);
	cr_assert(S_ISREG(a.mode));
	cr_assert_eq(a.size, 12);
	cr_assert_eq(gp_walk1(&gp, r, "missing", NULL), 0);
	cr_assert_eq(open_node(f, O_RDONLY, &fd), 0);
	cr_assert_eq(pread(fd, buf, sizeof(buf), 0), 12);
	cr_assert_str_eq(buf, "hello gofer\n");
	close(fd);

	/* A multi-name walk stops at the first missing name. */
	char *names[4] = {"dir", "inner", "nothing", NULL};
	struct gofer_req q = {.type = GOFER_WALK, .dir = r, .names = names, .nnames = 2};
	struct gofer_reply rep;
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert_eq(rep.nwalk, 2);
	d = rep.walk_nodes[0];
	in = rep.walk_nodes[1];
	cr_assert(S_ISDIR(rep.walk_attrs[0].mode));
	cr_assert(S_ISREG(rep.walk_attrs[1].mode));
	names[1] = "nothing";
	names[2] = "more";
	q.nnames = 3;
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert_eq(rep.nwalk, 1);
	gp_close(&gp, rep.walk_nodes[0]);

	/* Directories are not donated. */
	cr_assert_eq(open_node(d, O_RDONLY, &fd), EISDIR);
	gp_close(&gp, in);
	gp_close(&gp, d);
	gp_close(&gp, f);
	gp_close(&gp, r);
}

UTest(gofer, create_rename_unlink_readdir, .init = setup, .fini = teardown)
{
	struct gofer_attr a;
	uint64_t r = gp_mount(&gp, 0, &a), d;
	struct gofer_req q = {.type = GOFER_CREATE, .dir = r, .name = "new", .flags = O_RDWR,
			      .mode = 0640, .uid = getuid(), .gid = getgid()};
	struct gofer_reply rep;
	char **names;
	size_t n;
	struct stat st;
	char p[512];

	cr_assert_eq(call(&q, &rep), 0);
	cr_assert_geq(rep.fd, 0);
	cr_assert_eq(rep.attr.mode, S_IFREG | 0640);
	cr_assert_eq(write(rep.fd, "abc", 3), 3);
	close(rep.fd);
	gp_close(&gp, rep.node);
	snprintf(p, sizeof(p), "%s/new", root);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(st.st_mode, S_IFREG | 0640);
	/* Creating what exists fails (also over a symlink). */
	cr_assert_eq(call(&q, &rep), EEXIST);
	q.name = "abs";
	cr_assert_eq(call(&q, &rep), EEXIST);

	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = r, .name = "sub", .mode = 0750,
			       .uid = getuid(), .gid = getgid()};
	cr_assert_eq(call(&q, &rep), 0);
	d = rep.node;
	cr_assert(S_ISDIR(rep.attr.mode));
	cr_assert(S_ISDIR(rep.dir_attr.mode));

	q = (struct gofer_req){.type = GOFER_RENAME, .dir = r, .name = "new", .dir2 = d,
			       .name2 = "moved"};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(!host_exists("new") && host_exists("sub/moved"));
	/* The node follows its name: it can still be opened. */
	uint64_t m = gp_walk1(&gp, d, "moved", NULL);
	cr_assert_neq(m, 0);
	q = (struct gofer_req){.type = GOFER_RENAME, .dir = d, .name = "moved", .dir2 = r,
			       .name2 = "file", .flags = RENAME_NOREPLACE};
	cr_assert_eq(call(&q, &rep), EEXIST);
	q.flags = RENAME_EXCHANGE;
	cr_assert_eq(call(&q, &rep), 0);
	int fd;
	char buf[16] = {0};
	cr_assert_eq(open_node(m, O_RDONLY, &fd), 0);
	cr_assert_eq(pread(fd, buf, sizeof(buf), 0), 3);
	cr_assert_str_eq(buf, "abc");
	close(fd);

	q = (struct gofer_req){.type = GOFER_SYMLINK, .dir = d, .name = "ln", .target = "../file",
			       .uid = getuid(), .gid = getgid()};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(S_ISLNK(rep.attr.mode));
	gp_close(&gp, rep.node);
	q = (struct gofer_req){.type = GOFER_LINK, .node = m, .dir = d, .name = "hard"};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert_eq(rep.attr.nlink, 2);
	gp_close(&gp, rep.node);
	q = (struct gofer_req){.type = GOFER_MKNOD, .dir = d, .name = "fifo",
			       .mode = S_IFIFO | 0600, .uid = getuid(), .gid = getgid()};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(S_ISFIFO(rep.attr.mode));
	uint64_t fifo = rep.node;
	/* A fifo is never donated (and never blocks the gofer). */
	cr_assert_eq(open_node(fifo, O_RDONLY, &fd), ENXIO);
	gp_close(&gp, fifo);

	names = list(d, &n);
	cr_assert_eq(n, 4, "got %zu entries", n);
	cr_assert(listed(names, "moved") && listed(names, "ln") && listed(names, "hard") &&
		  listed(names, "fifo"));
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);

	q = (struct gofer_req){.type = GOFER_UNLINK, .dir = r, .name = "sub",
			       .flags = AT_REMOVEDIR};
	cr_assert_eq(call(&q, &rep), ENOTEMPTY);
	uint64_t h = gp_walk1(&gp, d, "hard", NULL);
	cr_assert_neq(h, 0);
	q = (struct gofer_req){.type = GOFER_UNLINK, .dir = d, .name = "hard"};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(!host_exists("sub/hard"));
	/* Its name is gone: the node cannot be reopened (the file lives on
	 * as root/file, which m names). */
	cr_assert_eq(open_node(h, O_RDONLY, &fd), ESTALE);
	gp_close(&gp, h);
	cr_assert_eq(open_node(m, O_RDONLY, &fd), 0);
	close(fd);

	/* SetStat: size, mode, times. */
	q = (struct gofer_req){.type = GOFER_SETSTAT, .node = m,
			       .mask = GOFER_SET_SIZE | GOFER_SET_MODE | GOFER_SET_MTIME,
			       .size = 1, .mode = 0604, .mtime_sec = 1000, .mtime_nsec = 5};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert_eq(rep.attr.size, 1);
	cr_assert_eq(rep.attr.mode, S_IFREG | 0604);
	cr_assert_eq(rep.attr.mtime_sec, 1000);
	cr_assert_eq(rep.attr.mtime_nsec, 5);

	q = (struct gofer_req){.type = GOFER_STATFS, .node = r};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert_gt(rep.statfs.bsize, 0);
	q = (struct gofer_req){.type = GOFER_FSYNC, .node = d};
	cr_assert_eq(call(&q, &rep), 0);

	names = list(r, &n);
	cr_assert(listed(names, "file") && listed(names, "sub") && listed(names, "shadow"));
	cr_assert(!listed(names, ".") && !listed(names, ".."));
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	gp_close(&gp, m);
	gp_close(&gp, d);
	gp_close(&gp, r);
}

UTest(gofer, large_directory_in_batches, .init = setup, .fini = teardown)
{
	uint64_t r, d;
	char name[300];
	char **names;
	size_t n;

	put_dir("big");
	memset(name, 'x', 200);
	for (int i = 0; i < 2000; i++) {
		snprintf(name + 200, sizeof(name) - 200, "%04d", i);
		char rel[320];
		snprintf(rel, sizeof(rel), "big/%s", name);
		put_file(rel, "");
	}
	r = gp_mount(&gp, 0, NULL);
	d = gp_walk1(&gp, r, "big", NULL);
	names = list(d, &n);
	cr_assert_eq(n, 2000);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	gp_close(&gp, d);
	gp_close(&gp, r);
}

/* Only directories hold an fd in the gofer: a walk of many files does
 * not eat into its fd limit. */
UTest(gofer, files_hold_no_fds, .init = setup, .fini = teardown)
{
	char name[32], path[64];
	uint64_t r, nodes[200];
	int nfds = 0;
	DIR *d;

	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		put_file(name, "x");
	}
	r = gp_mount(&gp, 0, NULL);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		nodes[i] = gp_walk1(&gp, r, name, NULL);
		cr_assert_neq(nodes[i], 0);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", gp.pid);
	d = opendir(path);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));)
		nfds += e->d_name[0] != '.';
	closedir(d);
	/* stderr, the channel, the root, the root node. */
	cr_assert_eq(nfds, 4, "%d fds", nfds);
	for (int i = 0; i < 200; i++)
		gp_close(&gp, nodes[i]);
	gp_close(&gp, r);
}

/* With few fds, directory fds are evicted and reopened by name: deep and
 * wide trees still work, renamed directories are found again, and a
 * removed one reports ESTALE. */
UTest(gofer, directory_fds_are_bounded, .init = setup_tree, .fini = teardown)
{
	char rel[64], path[64];
	uint64_t r, dirs[120], deep = 0;
	struct gofer_req q;
	struct gofer_reply rep;
	int nfds = 0;
	DIR *d;

	for (int i = 0; i < 120; i++) {
		snprintf(rel, sizeof(rel), "d%d", i);
		put_dir(rel);
	}
	gp_nofile = 48;
	start(NULL);
	gp_nofile = 0;
	r = gp_mount(&gp, 0, NULL);
	for (int i = 0; i < 120; i++) {
		snprintf(rel, sizeof(rel), "d%d", i);
		dirs[i] = gp_walk1(&gp, r, rel, NULL);
		cr_assert_neq(dirs[i], 0);
	}
	/* A chain deeper than the budget. */
	deep = r;
	for (int i = 0; i < 40; i++) {
		q = (struct gofer_req){.type = GOFER_MKDIR, .dir = deep, .name = "n", .mode = 0755};
		cr_assert_eq(call(&q, &rep), 0);
		deep = rep.node;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", gp.pid);
	d = opendir(path);
	cr_assert_not_null(d);
	for (struct dirent *e; (e = readdir(d));)
		nfds += e->d_name[0] != '.';
	closedir(d);
	cr_assert_leq(nfds, 24 + 4, "%d fds", nfds);
	/* The oldest were evicted: they reopen by name. */
	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = dirs[0], .name = "x", .mode = 0755};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(host_exists("d0/x"));
	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = deep, .name = "leaf", .mode = 0755};
	cr_assert_eq(call(&q, &rep), 0);
	/* Renamed (through the gofer), found under the new name. */
	q = (struct gofer_req){.type = GOFER_RENAME, .dir = r, .name = "d1", .dir2 = dirs[2],
			       .name2 = "moved"};
	cr_assert_eq(call(&q, &rep), 0);
	for (int i = 3; i < 120; i++) {
		q = (struct gofer_req){.type = GOFER_STAT, .node = dirs[i]};
		cr_assert_eq(call(&q, &rep), 0);
	}
	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = dirs[1], .name = "y", .mode = 0755};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(host_exists("d2/moved/y"));
	/* Removed: nothing to reopen. */
	q = (struct gofer_req){.type = GOFER_UNLINK, .dir = r, .name = "d5",
			       .flags = AT_REMOVEDIR};
	cr_assert_eq(call(&q, &rep), 0);
	for (int i = 6; i < 120; i++) {
		q = (struct gofer_req){.type = GOFER_STAT, .node = dirs[i]};
		cr_assert_eq(call(&q, &rep), 0);
	}
	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = dirs[5], .name = "z", .mode = 0755};
	int e = call(&q, &rep);
	cr_assert(e == ESTALE || e == ENOENT, "mkdir in a removed directory: %d", e);
}

/* ---- escapes ---- */

UTest(gofer, symlinks_never_lead_out, .init = setup, .fini = teardown)
{
	const char *links[] = {"shadow", "up", "abs", "loop"};
	struct gofer_attr a;
	uint64_t r = gp_mount(&gp, 0, NULL);
	struct gofer_reply rep;
	int fd;

	for (size_t i = 0; i < 4; i++) {
		/* Walk stops at the symlink and reports it as one... */
		char *names[3] = {(char *)links[i], "passwd", NULL};
		struct gofer_req q = {.type = GOFER_WALK, .dir = r, .names = names, .nnames = 2};
		cr_assert_eq(call(&q, &rep), 0);
		cr_assert_eq(rep.nwalk, 1, "%s: walked past the symlink", links[i]);
		cr_assert(S_ISLNK(rep.walk_attrs[0].mode));
		uint64_t l = rep.walk_nodes[0];
			/* ...which cannot be opened, read as a directory or changed. */
		cr_assert_eq(open_node(l, O_RDONLY, &fd), ELOOP);
		cr_assert_eq(open_node(l, O_RDWR, &fd), ELOOP);
		q = (struct gofer_req){.type = GOFER_GETDENTS, .node = l};
		cr_assert_eq(call(&q, &rep), ENOTDIR);
		names[0] = "x";
		q = (struct gofer_req){.type = GOFER_WALK, .dir = l, .names = names, .nnames = 1};
		cr_assert_eq(call(&q, &rep), ENOTDIR);
		q = (struct gofer_req){.type = GOFER_CREATE, .dir = l, .name = "x",
				       .flags = O_RDWR, .mode = 0600};
		cr_assert_eq(call(&q, &rep), ENOTDIR);
		q = (struct gofer_req){.type = GOFER_SETSTAT, .node = l,
				       .mask = GOFER_SET_SIZE, .size = 0};
		cr_assert_eq(call(&q, &rep), EINVAL);
		q = (struct gofer_req){.type = GOFER_SETSTAT, .node = l,
				       .mask = GOFER_SET_MODE, .mode = 0777};
		cr_assert_eq(call(&q, &rep), EOPNOTSUPP);
		/* Its text is all the sentry learns. */
		q = (struct gofer_req){.type = GOFER_READLINK, .node = l};
		cr_assert_eq(call(&q, &rep), 0);
			gp_close(&gp, l);
	}
	/* Through a directory that holds a relative escape too. */
	uint64_t d = gp_walk1(&gp, r, "dir", NULL);
	uint64_t e = gp_walk1(&gp, d, "esc", &a);
	cr_assert(S_ISLNK(a.mode));
	cr_assert_eq(open_node(e, O_RDONLY, &fd), ELOOP);
	/* Unlinking a symlink removes the link, never its target. */
	struct gofer_req q = {.type = GOFER_UNLINK, .dir = r, .name = "abs"};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(!host_exists("abs"));
	cr_assert_eq(access("/etc", F_OK), 0);
	gp_close(&gp, e);
	gp_close(&gp, d);
	gp_close(&gp, r);
}

/* Encodes a Walk with any names, bypassing the client's checks. */
static void send_walk_raw(uint64_t dir, const char *name)
{
	struct wbuf w;
	uint32_t len;

	wbuf_init(&w);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, GOFER_WALK);
	wbuf_put_u64(&w, 99);
	wbuf_put_u64(&w, dir);
	wbuf_put_u32(&w, 1);
	wbuf_put_str(&w, name);
	len = (uint32_t)w.len;
	memcpy(w.data, &len, 4);
	cr_assert_eq(gp_send_raw(&gp, w.data, w.len), 0);
	wbuf_free(&w);
}

static void expect_protocol_exit(void)
{
	int st = gp_wait(&gp);
	char *err = gp_stderr(&gp);
	bool logged = strstr(err, "malformed") || strstr(err, "does not exist");

	cr_log_info("gofer said: %s", err);
	free(err);
	cr_assert(WIFEXITED(st), "the gofer did not exit cleanly (status %#x)", st);
	cr_assert_eq(WEXITSTATUS(st), 1);
	cr_assert(logged, "no error logged");
}

static void fini_after_exit(void)
{
	gp_stop(&gp);
	free_kept();
	gp_rmtree(root);
	free(root);
}

UTest(gofer, dotdot_is_rejected, .init = setup, .fini = fini_after_exit)
{
	uint64_t r = gp_mount(&gp, 0, NULL);
	char *names[2] = {"..", NULL};
	struct gofer_req q = {.type = GOFER_WALK, .dir = r, .names = names, .nnames = 1};
	uint8_t *buf;
	size_t len;

	/* The encoder refuses it... */
	cr_assert_eq(gofer_encode_req(&q, &buf, &len), -EINVAL);
	/* ...and the gofer, sent it anyway, closes the channel. */
	send_walk_raw(r, "..");
	expect_protocol_exit();
}

UTest(gofer, slash_in_name_is_rejected, .init = setup, .fini = fini_after_exit)
{
	uint64_t r = gp_mount(&gp, 0, NULL);
	send_walk_raw(r, "dir/../../etc");
	expect_protocol_exit();
}

UTest(gofer, absolute_name_is_rejected, .init = setup, .fini = fini_after_exit)
{
	uint64_t r = gp_mount(&gp, 0, NULL);
	send_walk_raw(r, "/etc");
	expect_protocol_exit();
}

/* ---- read-only ---- */

static void setup_ro(void)
{
	setup_tree();
	start("--root-readonly");
}

UTest(gofer, readonly_refuses_writes, .init = setup_ro, .fini = teardown)
{
	struct gofer_attr a;
	uint64_t r = gp_mount(&gp, 0, &a), f = gp_walk1(&gp, r, "file", NULL);
	uint64_t d = gp_walk1(&gp, r, "dir", NULL);
	struct gofer_reply rep;
	struct gofer_req q;
	int fd;

	cr_assert_eq(open_node(f, O_RDONLY, &fd), 0);
	close(fd);
	cr_assert_eq(open_node(f, O_RDWR, &fd), EROFS);
	cr_assert_eq(open_node(f, O_WRONLY, &fd), EROFS);
	cr_assert_eq(open_node(f, O_RDONLY | O_TRUNC, &fd), EROFS);
	q = (struct gofer_req){.type = GOFER_CREATE, .dir = r, .name = "x", .flags = O_RDWR};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = r, .name = "x"};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_MKNOD, .dir = r, .name = "x", .mode = S_IFIFO};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_SYMLINK, .dir = r, .name = "x", .target = "y"};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_LINK, .node = f, .dir = r, .name = "x"};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_UNLINK, .dir = r, .name = "file"};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_RENAME, .dir = r, .name = "file", .dir2 = d,
			       .name2 = "x"};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_SETSTAT, .node = f, .mask = GOFER_SET_MODE,
			       .mode = 0777};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_SETSTAT, .node = f, .mask = GOFER_SET_SIZE};
	cr_assert_eq(call(&q, &rep), EROFS);
	q = (struct gofer_req){.type = GOFER_STATFS, .node = r};
	cr_assert_eq(call(&q, &rep), 0);
	cr_assert(rep.statfs.flags & 1, "statfs does not say read-only");
	cr_assert(host_exists("file") && !host_exists("x"));
	gp_close(&gp, d);
	gp_close(&gp, f);
	gp_close(&gp, r);
}

UTest(gofer, readonly_bind_and_writable_root, .init = setup_tree, .fini = teardown)
{
	char bind[600];
	uint64_t r, b;
	bool ro;
	struct gofer_reply rep;
	struct gofer_req q = {.type = GOFER_MOUNT, .index = 1};

	snprintf(bind, sizeof(bind), "--bind=1:%s/dir:ro", root);
	start(bind);
	cr_assert_eq(call(&q, &rep), 0);
	b = rep.node;
	ro = rep.readonly;
	cr_assert(ro);
	q = (struct gofer_req){.type = GOFER_MOUNT, .index = 2};
	cr_assert_eq(call(&q, &rep), ENOENT);
	r = gp_mount(&gp, 0, NULL);
	cr_assert_neq(gp_walk1(&gp, b, "inner", NULL), 0);
	q = (struct gofer_req){.type = GOFER_MKDIR, .dir = b, .name = "x", .mode = 0700};
	cr_assert_eq(call(&q, &rep), EROFS);
	q.dir = r;
	cr_assert_eq(call(&q, &rep), 0);
	gp_close(&gp, rep.node);
	/* Names cannot move between mounts. */
	q = (struct gofer_req){.type = GOFER_RENAME, .dir = r, .name = "x", .dir2 = b,
			       .name2 = "x"};
	cr_assert_eq(call(&q, &rep), EROFS);
	gp_close(&gp, b);
	gp_close(&gp, r);
}

/* ---- malformed messages ---- */

UTest(gofer, garbage_ends_the_gofer, .init = setup, .fini = fini_after_exit)
{
	uint8_t junk[40];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	cr_assert_eq(gp_send_raw(&gp, junk, sizeof(junk)), 0);
	expect_protocol_exit();
}

UTest(gofer, truncated_message_ends_the_gofer, .init = setup, .fini = fini_after_exit)
{
	char *names[2] = {"file", NULL};
	struct gofer_req q = {.type = GOFER_WALK, .id = 1, .dir = 1, .names = names, .nnames = 1};
	uint8_t *buf;
	size_t len;

	cr_assert_eq(gofer_encode_req(&q, &buf, &len), 0);
	/* The length says the whole message; fewer bytes come. */
	cr_assert_eq(gp_send_raw(&gp, buf, len - 3), 0);
	free(buf);
	expect_protocol_exit();
}

UTest(gofer, unknown_node_ends_the_gofer, .init = setup, .fini = fini_after_exit)
{
	struct gofer_req q = {.type = GOFER_STAT, .node = 12345};
	struct gofer_reply rep;
	cr_assert_lt(gp_call(&gp, &q, &rep), 0);
	expect_protocol_exit();
}

UTest(gofer, fd_with_request_ends_the_gofer, .init = setup, .fini = fini_after_exit)
{
	struct gofer_req q = {.type = GOFER_MOUNT, .id = 1};
	uint8_t *buf;
	size_t len;

	cr_assert_eq(gofer_encode_req(&q, &buf, &len), 0);
	cr_assert_eq(gofer_send(gp.sock, buf, len, 0), 0);
	free(buf);
	expect_protocol_exit();
}

/* ---- confinement ---- */

static char *slurp(const char *path)
{
	char *s = calloc(1, 65536);
	int fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	ssize_t n = read(fd, s, 65535);
	cr_assert_geq(n, 0);
	close(fd);
	return s;
}

static void check_confined(int nmounts)
{
	char path[64], *status, *mi;
	uint64_t r = gp_mount(&gp, 0, NULL);
	int nfds = 0, socks = 0;
	DIR *d;
	struct dirent *e;

	/* The gofer is serving, so confinement is complete. */
	cr_assert_neq(r, 0);
	gp_close(&gp, r);
	snprintf(path, sizeof(path), "/proc/%d/status", gp.pid);
	status = slurp(path);
	cr_assert(strstr(status, "Seccomp:\t2\n"), "not in seccomp filter mode:\n%s", status);
	cr_assert(strstr(status, "NoNewPrivs:\t1\n"));
	free(status);

	snprintf(path, sizeof(path), "/proc/%d/fd", gp.pid);
	d = opendir(path);
	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	while ((e = readdir(d))) {
		char link[400], target[300] = {0};
		if (e->d_name[0] == '.')
			continue;
		nfds++;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		cr_assert_gt(readlink(link, target, sizeof(target) - 1), 0);
		if (!strncmp(target, "socket:", 7))
			socks++;
		else if (strcmp(e->d_name, "2"))
			cr_assert(target[0] == '/', "fd %s is %s", e->d_name, target);
	}
	closedir(d);
	/* stderr, the channel, the roots: nothing else. */
	cr_assert_eq(nfds, 2 + nmounts, "the gofer holds %d fds", nfds);
	cr_assert_eq(socks, 1);

	/* Its mount tree: a read-only root and the exports. */
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", gp.pid);
	mi = slurp(path);
	cr_assert(strstr(mi, " / / ro,"), "root is not the read-only tmpfs:\n%s", mi);
	cr_assert(strstr(mi, " /0 "), "no /0 export:\n%s", mi);
	cr_assert(!strstr(mi, " /proc "), "the host's /proc is visible:\n%s", mi);
	free(mi);
}

UTest(gofer, confined, .init = setup_tree, .fini = teardown)
{
	char bind[600];
	snprintf(bind, sizeof(bind), "--bind=1:%s/dir:ro", root);
	start(bind);
	check_confined(2);
	if (geteuid() == 0) {
		char path[64], *status;
		snprintf(path, sizeof(path), "/proc/%d/status", gp.pid);
		status = slurp(path);
		/* CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID. */
		cr_assert(strstr(status, "CapEff:\t000000000000001f\n"), "%s", status);
		cr_assert(strstr(status, "CapBnd:\t000000000000001f\n"), "%s", status);
		free(status);
	}
}

/* As an unprivileged user the mount tree comes from a user namespace. */
UTest(gofer, confined_unprivileged, .init = setup_tree, .fini = teardown)
{
	char rootarg[600];
	const char *args[2] = {rootarg, NULL};
	struct gofer_reply rep;

	if (geteuid() != 0)
		cr_skip_test("needs root to become another user");
	cr_assert_eq(chown(root, 65534, 65534), 0);
	cr_assert_eq(chmod(root, 0755), 0);
	snprintf(rootarg, sizeof(rootarg), "--root=%s", root);
	cr_assert_eq(gp_start(&gp, args, 65534), 0);
	check_confined(1);
	/* It serves as that user: its own directory is writable. */
	uint64_t r = gp_mount(&gp, 0, NULL);
	struct gofer_req q = {.type = GOFER_MKDIR, .dir = r, .name = "mine", .mode = 0700,
			      .uid = 0, .gid = 0};
	cr_assert_eq(call(&q, &rep), 0);
	/* It could not give the directory away; the host's owner stays. */
	cr_assert_eq(rep.attr.uid, 65534);
	gp_close(&gp, rep.node);
	gp_close(&gp, r);
}
