/* ReaddirPlus (gofer/protocol.h): the listing that carries each entry's
 * node and attributes. The message round-trips and malformed, truncated,
 * oversized and miscounted replies are refused; the real gofer hands out
 * nodes equal to what a Walk gives (symlinks not followed, mount points
 * left out); the sentry's client stats listed names with no round trip,
 * and a file replaced on the host after the listing is never served in
 * the old one's place. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/wire.h"
#include "sentry/fs/gofer/gofer_fs.h"
#include "sentry/kernel/creds.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"
#include "tests/gofer/gofer_client.h"

static struct gofer_attr attr(uint32_t mode)
{
	return (struct gofer_attr){.mode = mode, .nlink = 1, .uid = 1, .gid = 2, .blksize = 4096,
				   .ino = 77, .dev = 0x801, .size = 12, .blocks = 8,
				   .atime_sec = -5, .atime_nsec = 999999999, .mtime_sec = 6};
}

/* Decodes from an exact-size heap copy, so AddressSanitizer sees any
 * read past the datagram. */
static int decode_exact(const uint8_t *buf, size_t len, unsigned nfds, struct gofer_reply *r)
{
	uint8_t *c = malloc(len ? len : 1);
	int e;
	cr_assert_not_null(c);
	memcpy(c, buf, len);
	e = gofer_decode_reply(c, len, nfds, r);
	free(c);
	return e;
}

/* A copy of buf with its length field patched to len. */
static uint8_t *resized(const uint8_t *buf, size_t have, size_t len)
{
	uint8_t *c = calloc(1, len ? len : 1);
	uint32_t l = (uint32_t)len;
	cr_assert_not_null(c);
	memcpy(c, buf, have < len ? have : len);
	if (len >= 4)
		memcpy(c, &l, 4);
	return c;
}

static struct gofer_dirent sample[3];

static struct gofer_reply sample_reply(void)
{
	sample[0] = (struct gofer_dirent){.ino = 1, .next = 2, .type = DT_REG, .name = "a",
					  .node = 7, .attr = attr(S_IFREG | 0644)};
	sample[1] = (struct gofer_dirent){.ino = 3, .next = 4, .type = DT_DIR, .name = "sub",
					  .node = 8, .attr = attr(S_IFDIR | 0755)};
	/* A mount point: listed, no node. */
	sample[2] = (struct gofer_dirent){.ino = 5, .next = 6, .type = DT_DIR, .name = "mnt"};
	return (struct gofer_reply){.type = GOFER_READDIRPLUS, .id = 3, .dirents = sample,
				    .ndirents = 3, .eof = 1, .fd = -1};
}

/* Where the count sits: header, errno, eof. */
#define COUNT_AT (GOFER_HDR_SIZE + 8)

/* ---- the message ---- */

UTest(readdirplus, request_round_trips)
{
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .id = 4, .node = 5, .cookie = 99}, out;
	uint8_t *buf;
	size_t len;

	cr_assert_eq(gofer_encode_req(&q, &buf, &len), 0);
	cr_assert_eq(gofer_decode_req(buf, len, 0, &out), 0);
	cr_assert_eq(out.type, GOFER_READDIRPLUS);
	cr_assert_eq(out.node, 5);
	cr_assert_eq(out.cookie, 99);
	cr_assert_eq(gofer_decode_req(buf, len - 1, 0, &out), -EPROTO);
	free(buf);
	q.node = 0;
	cr_assert_eq(gofer_encode_req(&q, &buf, &len), -EINVAL);
	cr_assert_str_eq(gofer_type_name(GOFER_READDIRPLUS), "ReaddirPlus");
}

UTest(readdirplus, reply_round_trips)
{
	struct gofer_reply in = sample_reply(), out;
	uint8_t *buf;
	size_t len;

	cr_assert_eq(gofer_encode_reply(&in, &buf, &len), 0);
	/* Entries with a node carry attributes; the one without does not. */
	cr_assert_eq(len, COUNT_AT + 4 + 3 * (GOFER_DIRENT_WIRE + 8) + 1 + 3 + 3 +
				  2 * GOFER_ATTR_WIRE);
	cr_assert_eq(decode_exact(buf, len, 0, &out), 0);
	cr_assert_eq(out.ndirents, 3);
	cr_assert_eq(out.eof, 1);
	cr_assert_eq(out.dirents[0].node, 7);
	cr_assert_eq(out.dirents[0].attr.mode, S_IFREG | 0644);
	cr_assert_eq(out.dirents[0].attr.atime_sec, -5);
	cr_assert_str_eq(out.dirents[1].name, "sub");
	cr_assert_eq(out.dirents[1].attr.mode, S_IFDIR | 0755);
	cr_assert_eq(out.dirents[2].node, 0);
	cr_assert_eq(out.dirents[2].attr.mode, 0);
	cr_assert_eq(out.dirents[2].next, 6);
	gofer_reply_free(&out);
	/* Every truncation is refused, with the length field left or
	 * patched; so is one byte more, and an fd riding along. */
	for (size_t n = 0; n < len; n++) {
		cr_assert_eq(decode_exact(buf, n, 0, &out), -EPROTO, "cut to %zu", n);
		uint8_t *c = resized(buf, len, n);
		cr_assert_eq(decode_exact(c, n, 0, &out), -EPROTO, "patched to %zu", n);
		free(c);
	}
	uint8_t *more = resized(buf, len, len + 1);
	cr_assert_eq(decode_exact(more, len + 1, 0, &out), -EPROTO);
	free(more);
	cr_assert_eq(decode_exact(buf, len, 1, &out), -EPROTO);
	free(buf);
	/* The last batch may be empty if it says it is the end. */
	struct gofer_reply end = {.type = GOFER_READDIRPLUS, .id = 5, .eof = 1, .fd = -1};
	cr_assert_eq(gofer_encode_reply(&end, &buf, &len), 0);
	cr_assert_eq(decode_exact(buf, len, 0, &out), 0);
	cr_assert_eq(out.ndirents, 0);
	gofer_reply_free(&out);
	free(buf);
}

UTest(readdirplus, bad_replies_refused)
{
	struct gofer_reply r;
	uint8_t *buf;
	size_t len;

	/* The encoder refuses what the decoder would. */
	r = sample_reply();
	sample[0].type = DT_DIR; /* not the attributes' type */
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EINVAL);
	r = sample_reply();
	sample[0].attr.mode = 0170000 | 0644; /* no such file type */
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EINVAL);
	r = sample_reply();
	sample[1].attr.mtime_nsec = 1000000000;
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EINVAL);
	r = sample_reply();
	sample[2].name = "..";
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EINVAL);
	r = sample_reply();
	r.eof = 2;
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EINVAL);
	r = (struct gofer_reply){.type = GOFER_READDIRPLUS, .fd = -1}; /* empty, not the end */
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EINVAL);

	/* Slipped past the encoder: a bad type byte, a bad mode. */
	struct gofer_reply out;
	r = sample_reply();
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), 0);
	size_t first = COUNT_AT + 4;    /* the first entry */
	size_t type_at = first + 16;    /* after ino and next */
	size_t mode_at = first + GOFER_DIRENT_WIRE + 1 + 8; /* after name "a" and node */
	uint32_t v = DT_LNK;
	uint8_t *c = resized(buf, len, len);
	memcpy(c + type_at, &v, 4);
	cr_assert_eq(decode_exact(c, len, 0, &out), -EPROTO);
	free(c);
	c = resized(buf, len, len);
	v = 0170000 | 0644;
	memcpy(c + mode_at, &v, 4);
	cr_assert_eq(decode_exact(c, len, 0, &out), -EPROTO);
	free(c);
	/* A node field of 0 where attributes follow: the rest misparses. */
	c = resized(buf, len, len);
	memset(c + first + GOFER_DIRENT_WIRE + 1, 0, 8);
	cr_assert_eq(decode_exact(c, len, 0, &out), -EPROTO);
	free(c);
	free(buf);
}

UTest(readdirplus, count_mismatch_refused)
{
	struct gofer_reply r = sample_reply(), out;
	uint32_t counts[] = {0, 1, 2, 4, 5, 1000, 0xffffffffu};
	uint8_t *buf;
	size_t len;

	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), 0);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint8_t *c = resized(buf, len, len);
		memcpy(c + COUNT_AT, &counts[i], 4);
		cr_assert_eq(decode_exact(c, len, 0, &out), -EPROTO, "count %u", counts[i]);
		free(c);
	}
	free(buf);
}

UTest(readdirplus, oversized_refused)
{
	size_t n = GOFER_MSG_MAX / GOFER_PLUS_WIRE + 8;
	struct gofer_dirent *d = calloc(n, sizeof(*d));
	char name[16];
	uint8_t *buf;
	size_t len;

	cr_assert_not_null(d);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		d[i] = (struct gofer_dirent){.ino = i, .next = i + 1, .type = DT_REG,
					     .name = strdup(name), .node = i + 1,
					     .attr = attr(S_IFREG | 0600)};
	}
	struct gofer_reply r = {.type = GOFER_READDIRPLUS, .dirents = d, .ndirents = (uint32_t)n,
				.eof = 1, .fd = -1};
	cr_assert_eq(gofer_encode_reply(&r, &buf, &len), -EMSGSIZE);
	/* What the gofer sends stays within its budget, with room to spare. */
	cr_assert_lt(GOFER_DIRENTS_BYTES + 64, GOFER_MSG_MAX);
	/* A datagram too big for a message at all. */
	uint8_t *huge = calloc(1, GOFER_MSG_MAX + 1);
	uint32_t v = GOFER_MSG_MAX + 1;
	struct gofer_reply out;
	memcpy(huge, &v, 4);
	v = GOFER_READDIRPLUS | GOFER_REPLY;
	memcpy(huge + 4, &v, 4);
	cr_assert_eq(gofer_decode_reply(huge, GOFER_MSG_MAX + 1, 0, &out), -EPROTO);
	free(huge);
	for (size_t i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

/* ---- the gofer ---- */

static char *root;
static struct gofer_proc gp;

static void host_put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* Replaces rel on the host by a new file (a new inode), as an editor or
 * a package manager does. */
static void host_replace(const char *rel, const char *text)
{
	char tmp[512], p[512];
	snprintf(tmp, sizeof(tmp), "%s/.new", root);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(rename(tmp, p), 0);
}

static void make_tree(void)
{
	char p[512];
	root = gp_tmpdir();
	cr_assert_not_null(root);
	host_put("file", "hello gofer\n");
	snprintf(p, sizeof(p), "%s/dir", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	host_put("dir/inner", "inner\n");
	snprintf(p, sizeof(p), "%s/link", root);
	cr_assert_eq(symlink("/etc/shadow", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", root);
	cr_assert_eq(mkfifo(p, 0600), 0);
}

static void start_gofer(void)
{
	char rootarg[600];
	const char *args[2] = {rootarg, NULL};
	snprintf(rootarg, sizeof(rootarg), "--root=%s", root);
	cr_assert_eq(gp_start(&gp, args, -1), 0);
}

static void setup(void)
{
	make_tree();
	start_gofer();
}

static void teardown(void)
{
	int st = gp_stop(&gp);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gofer exited with status %#x", st);
	gp_rmtree(root);
	free(root);
}

static void fini_after_exit(void)
{
	gp_stop(&gp);
	gp_rmtree(root);
	free(root);
}

static void expect_protocol_exit(void)
{
	int st = gp_wait(&gp);
	char *err = gp_stderr(&gp);
	bool logged = strstr(err, "malformed") || strstr(err, "does not exist");
	free(err);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x", st);
	cr_assert(logged, "no error logged");
}

static const struct gofer_dirent *find(const struct gofer_reply *r, const char *name)
{
	for (uint32_t i = 0; i < r->ndirents; i++)
		if (!strcmp(r->dirents[i].name, name))
			return &r->dirents[i];
	return NULL;
}

UTest(readdirplus_server, entries_carry_walk_nodes, .init = setup, .fini = teardown)
{
	uint64_t r = gp_mount(&gp, 0, NULL);
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .node = r};
	struct gofer_reply rep;
	const char *names[] = {"file", "dir", "link", "fifo"};

	cr_assert_eq(gp_call(&gp, &q, &rep), 0);
	cr_assert_eq(rep.err, 0);
	cr_assert_eq(rep.eof, 1);
	cr_assert_eq(rep.ndirents, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct gofer_dirent *d = find(&rep, names[i]);
		struct gofer_attr wa;
		char p[512];
		struct stat st;
		cr_assert_not_null(d, "%s not listed", names[i]);
		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		cr_assert_eq(lstat(p, &st), 0);
		cr_assert_neq(d->node, 0, "%s has no node", names[i]);
		cr_assert_eq(d->attr.ino, st.st_ino);
		cr_assert_eq(d->attr.mode, st.st_mode, "%s: symlinks are not followed", names[i]);
		cr_assert_eq(d->attr.size, (uint64_t)st.st_size);
		cr_assert_eq(d->type, (st.st_mode & S_IFMT) >> 12);
		/* The same as a Walk says. */
		uint64_t w = gp_walk1(&gp, r, names[i], &wa);
		cr_assert_eq(wa.ino, d->attr.ino);
		cr_assert_eq(wa.mode, d->attr.mode);
		gp_close(&gp, w);
	}
	/* The nodes work: a file opens and reads, a link reads as itself,
	 * a directory lists. */
	struct gofer_req o = {.type = GOFER_OPEN, .node = find(&rep, "file")->node,
			      .flags = O_RDONLY};
	struct gofer_reply orep;
	char buf[32] = {0};
	cr_assert_eq(gp_call(&gp, &o, &orep), 0);
	cr_assert_eq(orep.err, 0);
	cr_assert_eq(read(orep.fd, buf, sizeof(buf) - 1), 12);
	cr_assert_str_eq(buf, "hello gofer\n");
	close(orep.fd);
	struct gofer_req rl = {.type = GOFER_READLINK, .node = find(&rep, "link")->node};
	struct gofer_reply rlrep;
	cr_assert_eq(gp_call(&gp, &rl, &rlrep), 0);
	cr_assert_str_eq(rlrep.target, "/etc/shadow");
	gofer_reply_free(&rlrep);
	struct gofer_req sub = {.type = GOFER_READDIRPLUS, .node = find(&rep, "dir")->node};
	struct gofer_reply srep;
	cr_assert_eq(gp_call(&gp, &sub, &srep), 0);
	cr_assert_eq(srep.ndirents, 1);
	cr_assert_str_eq(srep.dirents[0].name, "inner");
	cr_assert_eq(srep.dirents[0].attr.size, 6);
	gp_close(&gp, srep.dirents[0].node);
	gofer_reply_free(&srep);

	/* Replaced on the host after the listing: the node is the old file,
	 * which is gone, so it is stale, never the new one. */
	host_replace("file", "a different file\n");
	cr_assert_eq(gp_call(&gp, &o, &orep), 0);
	cr_assert_eq(orep.err, ESTALE);
	cr_assert_eq(orep.fd, -1);
	for (uint32_t i = 0; i < rep.ndirents; i++)
		gp_close(&gp, rep.dirents[i].node);
	gofer_reply_free(&rep);
	gp_close(&gp, r);
}

UTest(readdirplus_server, large_directory_in_batches, .init = setup, .fini = teardown)
{
	uint64_t r = gp_mount(&gp, 0, NULL);
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .node = r};
	size_t total = 0, batches = 0;
	char name[64];

	for (int i = 0; i < 1500; i++) {
		/* Long names: a batch fills by bytes, not only by count. */
		snprintf(name, sizeof(name), "entry-%04d-%040d", i, i);
		host_put(name, "x");
	}
	for (;;) {
		struct gofer_reply rep;
		cr_assert_eq(gp_call(&gp, &q, &rep), 0);
		cr_assert_eq(rep.err, 0);
		batches++;
		total += rep.ndirents;
		for (uint32_t i = 0; i < rep.ndirents; i++) {
			cr_assert_neq(rep.dirents[i].node, 0);
			gp_close(&gp, rep.dirents[i].node);
		}
		if (rep.ndirents)
			q.cookie = rep.dirents[rep.ndirents - 1].next;
		bool eof = rep.eof;
		gofer_reply_free(&rep);
		if (eof)
			break;
		cr_assert_lt(batches, 100);
	}
	cr_assert_eq(total, 1500 + 4);
	cr_assert_gt(batches, 1);
	gp_close(&gp, r);
}

/* A filesystem mounted inside the root: its mount point is listed
 * without a node (the sentry walks it, and the gofer checks what it is). */
static void setup_mount(void)
{
	char p[512];
	make_tree();
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		cr_skip_test("no mount namespace here: %s", strerror(errno));
	snprintf(p, sizeof(p), "%s/mnt", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	if (mount("rc-test", p, "tmpfs", 0, "size=64k") < 0)
		cr_skip_test("cannot mount a tmpfs: %s", strerror(errno));
	start_gofer();
}

static void teardown_mount(void)
{
	char p[512];
	int st = gp_stop(&gp);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gofer exited with status %#x", st);
	snprintf(p, sizeof(p), "%s/mnt", root);
	umount2(p, MNT_DETACH);
	gp_rmtree(root);
	free(root);
}

UTest(readdirplus_server, mount_point_has_no_node, .init = setup_mount, .fini = teardown_mount)
{
	uint64_t r = gp_mount(&gp, 0, NULL);
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .node = r};
	struct gofer_reply rep;

	cr_assert_eq(gp_call(&gp, &q, &rep), 0);
	cr_assert_eq(rep.err, 0);
	const struct gofer_dirent *m = find(&rep, "mnt"), *f = find(&rep, "file");
	cr_assert_not_null(m);
	cr_assert_eq(m->node, 0);
	cr_assert_neq(f->node, 0);
	/* A Walk still reaches it. */
	struct gofer_attr a;
	uint64_t w = gp_walk1(&gp, r, "mnt", &a);
	cr_assert_neq(w, 0);
	cr_assert(S_ISDIR(a.mode));
	gp_close(&gp, w);
	for (uint32_t i = 0; i < rep.ndirents; i++)
		if (rep.dirents[i].node)
			gp_close(&gp, rep.dirents[i].node);
	gofer_reply_free(&rep);
	gp_close(&gp, r);
}

UTest(readdirplus_server, not_a_directory, .init = setup, .fini = teardown)
{
	uint64_t r = gp_mount(&gp, 0, NULL), f = gp_walk1(&gp, r, "file", NULL);
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .node = f};
	struct gofer_reply rep;

	cr_assert_eq(gp_call(&gp, &q, &rep), 0);
	cr_assert_eq(rep.err, ENOTDIR);
	gp_close(&gp, f);
	gp_close(&gp, r);
}

UTest(readdirplus_server, truncated_request_ends_the_gofer, .init = setup,
      .fini = fini_after_exit)
{
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .id = 1, .node = 1, .cookie = 0};
	uint8_t *buf;
	size_t len;

	cr_assert_eq(gofer_encode_req(&q, &buf, &len), 0);
	cr_assert_eq(gp_send_raw(&gp, buf, len - 3), 0);
	free(buf);
	expect_protocol_exit();
}

UTest(readdirplus_server, unknown_node_ends_the_gofer, .init = setup, .fini = fini_after_exit)
{
	struct gofer_req q = {.type = GOFER_READDIRPLUS, .node = 4242};
	struct gofer_reply rep;
	cr_assert_lt(gp_call(&gp, &q, &rep), 0);
	expect_protocol_exit();
}

/* ---- the sentry's client ---- */

static struct superblock *sb;
static struct inode *rin;

static void client_setup(void)
{
	setup();
	cr_assert_eq(goferfs_attach(gp.sock), 0);
	cr_assert_eq(goferfs_mount(0, false, &sb, &rin), 0);
}

static void client_teardown(void)
{
	inode_put(rin);
	sb_put(sb);
	teardown();
}

static int count_cb(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type,
		    int64_t next)
{
	(void)name; (void)len; (void)ino; (void)type; (void)next;
	++*(int *)ctx;
	return 0;
}

/* Lists dir to the end; returns how many entries ("." and ".." too). */
static int list_all(struct inode *dir)
{
	struct file *f = file_new(NULL, O_RDONLY, NULL);
	int64_t pos = 0;
	int n = 0, e;

	cr_assert_not_null(f);
	inode_get(dir);
	f->inode = dir;
	cr_assert_eq(dir->ops->open(dir, f), 0);
	e = f->ops->iterate(f, &pos, count_cb, &n);
	file_put(f);
	return e < 0 ? e : n;
}

static uint64_t all_rpcs(void)
{
	uint64_t n = 0;
	for (uint32_t t = 1; t < GOFER_TYPE_MAX; t++)
		if (t != GOFER_CLOSE)
			n += goferfs_rpc_count(t);
	return n;
}

static struct file *open_file(struct inode *in, int *err)
{
	struct file *f = file_new(NULL, O_RDONLY, NULL);
	cr_assert_not_null(f);
	inode_get(in);
	f->inode = in;
	*err = in->ops->open(in, f);
	if (*err) {
		f->ops = NULL;
		file_put(f);
		return NULL;
	}
	return f;
}

static char *read_all(struct inode *in)
{
	static char buf[64];
	int64_t pos = 0;
	int e;
	struct file *f = open_file(in, &e);
	cr_assert_not_null(f, "open: %s", strerror(-e));
	memset(buf, 0, sizeof(buf));
	cr_assert_geq(f->ops->read(f, buf, sizeof(buf) - 1, &pos), 0);
	file_put(f);
	return buf;
}

UTest(readdirplus_client, stat_after_listing_costs_no_rpc, .init = client_setup,
      .fini = client_teardown)
{
	char name[32], p[512];
	struct inode *in[40];
	struct vfs_attr a;
	struct stat st;

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		host_put(name, i % 2 ? "odd\n" : "even!\n");
	}
	uint64_t walks = goferfs_rpc_count(GOFER_WALK);
	cr_assert_eq(list_all(rin), 2 + 4 + 40);
	/* One ReaddirPlus said it all, the end too. */
	cr_assert_eq(goferfs_rpc_count(GOFER_READDIRPLUS), 1);
	cr_assert_eq(goferfs_rpc_count(GOFER_GETDENTS), 0);
	uint64_t before = all_rpcs();
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		cr_assert_eq(rin->ops->lookup(rin, name, &in[i]), 0);
		cr_assert_eq(inode_getattr(in[i], &a), 0);
		snprintf(p, sizeof(p), "%s/%s", root, name);
		cr_assert_eq(lstat(p, &st), 0);
		cr_assert_eq(in[i]->ino, st.st_ino);
		cr_assert_eq(a.size, st.st_size);
		cr_assert_eq(a.mode, st.st_mode);
		cr_assert_eq(a.mtime.tv_sec, st.st_mtim.tv_sec);
	}
	struct inode *l, *d, *fi;
	cr_assert_eq(rin->ops->lookup(rin, "link", &l), 0);
	cr_assert(S_ISLNK(l->mode));
	cr_assert_eq(rin->ops->lookup(rin, "dir", &d), 0);
	cr_assert_eq(rin->ops->lookup(rin, "fifo", &fi), 0);
	cr_assert(S_ISFIFO(fi->mode));
	cr_assert_eq(goferfs_rpc_count(GOFER_WALK), walks, "a stat after a listing walked");
	cr_assert_eq(all_rpcs(), before, "a stat after a listing made a round trip");

	/* The nodes that came with the listing serve the rest. */
	cr_assert_str_eq(read_all(in[1]), "odd\n");
	char buf[32];
	cr_assert_eq(l->ops->readlink(l, buf, sizeof(buf)), 11);
	cr_assert_eq(memcmp(buf, "/etc/shadow", 11), 0);
	cr_assert_eq(list_all(d), 3);
	struct inode *inner;
	cr_assert_eq(d->ops->lookup(d, "inner", &inner), 0);
	cr_assert_str_eq(read_all(inner), "inner\n");
	cr_assert_eq(goferfs_rpc_count(GOFER_WALK), walks);
	/* A name looked up again (its dentry gone) walks, and works. */
	struct inode *again;
	cr_assert_eq(rin->ops->lookup(rin, "f00", &again), 0);
	cr_assert_eq(goferfs_rpc_count(GOFER_WALK), walks + 1);
	cr_assert_eq(again->ino, in[0]->ino);
	/* A name not listed still walks: ENOENT. */
	struct inode *x;
	cr_assert_eq(rin->ops->lookup(rin, "nothing", &x), -ENOENT);
	inode_put(again);
	inode_put(inner);
	inode_put(fi);
	inode_put(d);
	inode_put(l);
	for (int i = 0; i < 40; i++)
		inode_put(in[i]);
}

/* The stale window, exactly: a file replaced on the host after the
 * listing still stats as the listed file (as a walked one would after
 * its walk: the root is not expected to change under the sandbox), but
 * is never opened as the new file nor served as the old one: ESTALE.
 * Once the sandbox changes a name in the directory the listing is
 * fetched again and the new file is seen. */
UTest(readdirplus_client, replaced_after_listing, .init = client_setup,
      .fini = client_teardown)
{
	struct inode *listed, *walked, *fresh, *made;
	struct vfs_attr a;
	struct creds c;
	int e;

	host_put("other", "other file\n");
	cr_assert_eq(rin->ops->lookup(rin, "other", &walked), 0); /* by Walk */
	cr_assert_eq(list_all(rin), 2 + 5);
	host_replace("file", "a different, longer file\n");
	host_replace("other", "another different file\n");

	cr_assert_eq(rin->ops->lookup(rin, "file", &listed), 0);
	cr_assert_eq(inode_getattr(listed, &a), 0);
	cr_assert_eq(a.size, 12);
	cr_assert_null(open_file(listed, &e));
	cr_assert_eq(e, -ESTALE);
	/* The walked one behaves the same. */
	cr_assert_null(open_file(walked, &e));
	cr_assert_eq(e, -ESTALE);

	creds_init_root(&c);
	cr_assert_eq(rin->ops->create(rin, "new", 0600, &c, &made), 0);
	cr_assert_eq(list_all(rin), 2 + 6);
	cr_assert_eq(rin->ops->lookup(rin, "file", &fresh), 0);
	cr_assert_eq(inode_getattr(fresh, &a), 0);
	cr_assert_eq(a.size, 25);
	cr_assert_str_eq(read_all(fresh), "a different, longer file\n");
	inode_put(made);
	inode_put(fresh);
	inode_put(listed);
	inode_put(walked);
}

/* A listed name renamed through the sandbox: the node follows it. */
UTest(readdirplus_client, renamed_after_listing, .init = client_setup,
      .fini = client_teardown)
{
	struct inode *f, *d;

	cr_assert_eq(list_all(rin), 2 + 4);
	cr_assert_eq(rin->ops->lookup(rin, "file", &f), 0);
	cr_assert_eq(rin->ops->lookup(rin, "dir", &d), 0);
	cr_assert_eq(rin->ops->rename(rin, "file", d, "moved", 0), 0);
	cr_assert_str_eq(read_all(f), "hello gofer\n");
	inode_put(d);
	inode_put(f);
}

/* Nodes never looked up are closed with the listing. */
UTest(readdirplus_client, untaken_nodes_closed, .init = client_setup,
      .fini = client_teardown)
{
	struct inode *made;
	struct creds c;

	cr_assert_eq(list_all(rin), 2 + 4);
	uint64_t closes = goferfs_rpc_count(GOFER_CLOSE);
	creds_init_root(&c);
	/* A new name drops the listing; its Closes go with the next request. */
	cr_assert_eq(rin->ops->create(rin, "new", 0600, &c, &made), 0);
	cr_assert_eq(list_all(rin), 2 + 5);
	cr_assert_gt(goferfs_rpc_count(GOFER_CLOSE), closes);
	inode_put(made);
}

/* A gofer that answers ReaddirPlus with a broken reply: the client fails
 * with EIO and the channel stays closed; nothing crashes or leaks. */
static int fake_mode;

static void reply_raw(int fd, uint32_t type, uint64_t id, const uint8_t *body, size_t n)
{
	uint8_t buf[GOFER_MSG_MAX];
	uint32_t len = (uint32_t)(GOFER_HDR_SIZE + n);
	type |= GOFER_REPLY;
	memcpy(buf, &len, 4);
	memcpy(buf + 4, &type, 4);
	memcpy(buf + 8, &id, 8);
	memcpy(buf + GOFER_HDR_SIZE, body, n);
	gofer_send(fd, buf, len, -1);
}

static void *fake_gofer(void *arg)
{
	int fd = *(int *)arg;
	uint8_t buf[GOFER_MSG_MAX];
	int rfd;
	ssize_t n;

	while ((n = gofer_recv(fd, buf, sizeof(buf), &rfd)) > 0) {
		struct gofer_req q;
		uint8_t *out;
		size_t len;
		if (gofer_decode_req(buf, (size_t)n, 0, &q) < 0)
			break;
		if (q.type == GOFER_MOUNT) {
			struct gofer_reply r = {.type = GOFER_MOUNT, .id = q.id, .node = 1,
						.attr = attr(S_IFDIR | 0755), .fd = -1};
			if (gofer_encode_reply(&r, &out, &len) == 0)
				gofer_send(fd, out, len, -1);
			free(out);
		} else if (q.type == GOFER_READDIRPLUS) {
			struct gofer_reply r = sample_reply();
			r.id = q.id;
			if (gofer_encode_reply(&r, &out, &len) < 0)
				break;
			uint32_t big = 4;
			switch (fake_mode) {
			case 0: /* truncated */
				reply_raw(fd, q.type, q.id, out + GOFER_HDR_SIZE,
					  len - GOFER_HDR_SIZE - 5);
				break;
			case 1: /* one entry more than it holds */
				memcpy(out + COUNT_AT, &big, 4);
				reply_raw(fd, q.type, q.id, out + GOFER_HDR_SIZE,
					  len - GOFER_HDR_SIZE);
				break;
			default: /* a node with a type that is not its file's */
				big = DT_LNK;
				memcpy(out + COUNT_AT + 4 + 16, &big, 4);
				reply_raw(fd, q.type, q.id, out + GOFER_HDR_SIZE,
					  len - GOFER_HDR_SIZE);
				break;
			}
			free(out);
		}
		/* Close: no answer needed (nobody waits for it). */
		gofer_req_free(&q);
	}
	return NULL;
}

static void hostile(int mode)
{
	int sv[2];
	pthread_t t;
	struct superblock *s;
	struct inode *r, *x;

	fake_mode = mode;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(goferfs_attach(sv[0]), 0);
	pthread_create(&t, NULL, fake_gofer, &sv[1]);
	cr_assert_eq(goferfs_mount(0, false, &s, &r), 0);
	cr_assert_eq(list_all(r), -EIO);
	/* The channel is closed for good. */
	cr_assert_eq(r->ops->lookup(r, "a", &x), -EIO);
	cr_assert_eq(list_all(r), -EIO);
	inode_put(r);
	sb_put(s);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(t, NULL);
	close(sv[1]);
}

UTest(readdirplus_client, truncated_reply_closes_channel) { hostile(0); }
UTest(readdirplus_client, miscounted_reply_closes_channel) { hostile(1); }
UTest(readdirplus_client, mistyped_reply_closes_channel) { hostile(2); }
