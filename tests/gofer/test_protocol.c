/* Encoding and decoding of gofer messages (gofer/protocol.c): every
 * message round-trips, and malformed, truncated and oversized messages,
 * bad names, counts and fds are refused without leaks or reads past the
 * buffer (each decode gets an exact-size heap copy, so AddressSanitizer
 * catches any overread). */
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gofer/protocol.h"
#include "lib/wire.h"

static uint8_t *exact(const void *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	cr_assert_not_null(c);
	memcpy(c, p, len);
	return c;
}

static int decode_req(const uint8_t *buf, size_t len, unsigned nfds, struct gofer_req *q)
{
	uint8_t *c = exact(buf, len);
	int e = gofer_decode_req(c, len, nfds, q);
	free(c);
	return e;
}

static int decode_reply(const uint8_t *buf, size_t len, unsigned nfds, struct gofer_reply *r)
{
	uint8_t *c = exact(buf, len);
	int e = gofer_decode_reply(c, len, nfds, r);
	free(c);
	return e;
}

static struct gofer_attr attr(uint32_t mode)
{
	return (struct gofer_attr){.mode = mode, .nlink = 1, .uid = 1, .gid = 2, .blksize = 4096,
				   .ino = 77, .dev = 0x801, .size = 12, .blocks = 8,
				   .atime_sec = -5, .atime_nsec = 999999999, .mtime_sec = 6,
				   .ctime_sec = 7, .btime_sec = 8};
}

/* Every truncation of a valid message is refused. */
static void all_truncations_fail_req(const uint8_t *buf, size_t len)
{
	for (size_t n = 0; n < len; n++) {
		struct gofer_req q;
		/* A shorter datagram whose length field still says len. */
		cr_assert_eq(decode_req(buf, n, 0, &q), -EPROTO, "accepted %zu of %zu bytes", n,
			     len);
		/* ...and one whose length field was patched to match. */
		if (n >= 4) {
			uint8_t *c = exact(buf, n);
			uint32_t l = (uint32_t)n;
			memcpy(c, &l, 4);
			cr_assert_eq(gofer_decode_req(c, n, 0, &q), -EPROTO,
				     "accepted a body cut to %zu of %zu bytes", n, len);
			free(c);
		}
	}
}

static void all_truncations_fail_reply(const uint8_t *buf, size_t len, unsigned nfds)
{
	for (size_t n = 0; n < len; n++) {
		struct gofer_reply r;
		uint8_t *c = exact(buf, n);
		if (n >= 4) {
			uint32_t l = (uint32_t)n;
			memcpy(c, &l, 4);
		}
		cr_assert_eq(gofer_decode_reply(c, n, nfds, &r), -EPROTO,
			     "accepted a reply cut to %zu of %zu bytes", n, len);
		free(c);
	}
}

/* ---- requests ---- */

static void round_trip(const struct gofer_req *in, struct gofer_req *out)
{
	uint8_t *buf;
	size_t len;
	cr_assert_eq(gofer_encode_req(in, &buf, &len), 0);
	cr_assert_eq(decode_req(buf, len, 0, out), 0);
	cr_assert_eq(out->type, in->type);
	cr_assert_eq(out->id, in->id);
	all_truncations_fail_req(buf, len);
	/* One byte too many is refused as well. */
	uint8_t *more = calloc(1, len + 1);
	memcpy(more, buf, len);
	uint32_t l = (uint32_t)len + 1;
	memcpy(more, &l, 4);
	struct gofer_req x;
	cr_assert_eq(gofer_decode_req(more, len + 1, 0, &x), -EPROTO);
	free(more);
	/* A request never carries an fd. */
	cr_assert_eq(decode_req(buf, len, 1, &x), -EPROTO);
	free(buf);
}

UTest(protocol, requests_round_trip)
{
	char *names[4] = {"usr", "lib", "x86_64-linux-gnu", NULL};
	uint64_t nodes[3] = {5, 6, 7};
	struct gofer_req reqs[] = {
		{.type = GOFER_MOUNT, .id = 1, .index = 3},
		{.type = GOFER_WALK, .id = 2, .dir = 9, .names = names, .nnames = 3},
		{.type = GOFER_OPEN, .id = 3, .node = 4, .flags = O_RDWR | O_TRUNC},
		{.type = GOFER_CREATE, .id = 4, .dir = 4, .name = "f", .flags = O_WRONLY,
		 .mode = 0644, .uid = 1000, .gid = 100},
		{.type = GOFER_MKDIR, .id = 5, .dir = 4, .name = "d", .mode = 01777},
		{.type = GOFER_MKNOD, .id = 6, .dir = 4, .name = "p", .mode = S_IFIFO | 0600},
		{.type = GOFER_SYMLINK, .id = 7, .dir = 4, .name = "l", .target = "../x/y"},
		{.type = GOFER_LINK, .id = 8, .node = 3, .dir = 4, .name = "h"},
		{.type = GOFER_UNLINK, .id = 9, .dir = 4, .name = "d", .flags = AT_REMOVEDIR},
		{.type = GOFER_RENAME, .id = 10, .dir = 4, .name = "a", .dir2 = 5, .name2 = "b",
		 .flags = 2},
		{.type = GOFER_READLINK, .id = 11, .node = 3},
		{.type = GOFER_GETDENTS, .id = 12, .node = 3, .cookie = 0x7fffffffffffffffULL},
		{.type = GOFER_STAT, .id = 13, .node = 3},
		{.type = GOFER_SETSTAT, .id = 14, .node = 3, .mask = GOFER_SET_ALL, .mode = 04755,
		 .uid = 1, .gid = 2, .size = 1 << 30, .atime_sec = -1, .atime_nsec = (1l << 30) - 1,
		 .mtime_sec = 5, .mtime_nsec = 999999999},
		{.type = GOFER_STATFS, .id = 15, .node = 3},
		{.type = GOFER_FSYNC, .id = 16, .node = 3, .flags = 1},
		{.type = GOFER_CLOSE, .id = 17, .nodes = nodes, .nnodes = 3},
	};
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct gofer_req out;
		round_trip(&reqs[i], &out);
		switch (out.type) {
		case GOFER_WALK:
			cr_assert_eq(out.nnames, 3);
			cr_assert_str_eq(out.names[2], "x86_64-linux-gnu");
			cr_assert_null(out.names[3]);
			break;
		case GOFER_CREATE:
			cr_assert_str_eq(out.name, "f");
			cr_assert_eq(out.mode, 0644);
			cr_assert_eq(out.uid, 1000);
			break;
		case GOFER_SYMLINK:
			cr_assert_str_eq(out.target, "../x/y");
			break;
		case GOFER_RENAME:
			cr_assert_str_eq(out.name2, "b");
			cr_assert_eq(out.dir2, 5);
			break;
		case GOFER_SETSTAT:
			cr_assert_eq(out.atime_sec, -1);
			cr_assert_eq(out.size, 1 << 30);
			cr_assert_eq(out.mtime_nsec, 999999999);
			break;
		case GOFER_CLOSE:
			cr_assert_eq(out.nnodes, 3);
			cr_assert_eq(out.nodes[2], 7);
			break;
		case GOFER_GETDENTS:
			cr_assert_eq(out.cookie, 0x7fffffffffffffffULL);
			break;
		}
		gofer_req_free(&out);
	}
}

/* Every invalid name, in every field that carries one. */
UTest(protocol, invalid_names_refused)
{
	char longname[300];
	memset(longname, 'a', 256);
	longname[256] = 0;
	const char *bad[] = {"", ".", "..", "a/b", "/", "/etc", "../x", "x/", longname};
	char ok255[256];
	memset(ok255, 'b', 255);
	ok255[255] = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(gofer_check_name(bad[i]), -EINVAL, "'%s' passed", bad[i]);
		char *names[2] = {(char *)bad[i], NULL};
		struct gofer_req qs[] = {
			{.type = GOFER_WALK, .dir = 1, .names = names, .nnames = 1},
			{.type = GOFER_CREATE, .dir = 1, .name = (char *)bad[i]},
			{.type = GOFER_MKDIR, .dir = 1, .name = (char *)bad[i]},
			{.type = GOFER_MKNOD, .dir = 1, .name = (char *)bad[i], .mode = S_IFIFO},
			{.type = GOFER_SYMLINK, .dir = 1, .name = (char *)bad[i], .target = "t"},
			{.type = GOFER_LINK, .node = 2, .dir = 1, .name = (char *)bad[i]},
			{.type = GOFER_UNLINK, .dir = 1, .name = (char *)bad[i]},
			{.type = GOFER_RENAME, .dir = 1, .name = (char *)bad[i], .dir2 = 1,
			 .name2 = "ok"},
			{.type = GOFER_RENAME, .dir = 1, .name = "ok", .dir2 = 1,
			 .name2 = (char *)bad[i]},
		};
		for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			uint8_t *buf;
			size_t len;
			cr_assert_eq(gofer_encode_req(&qs[k], &buf, &len), -EINVAL,
				     "%s with name '%s' encoded", gofer_type_name(qs[k].type), bad[i]);
		}
	}
	cr_assert_eq(gofer_check_name(ok255), 0);
	cr_assert_eq(gofer_check_name("..."), 0);
	cr_assert_eq(gofer_check_name(".hidden"), 0);
	cr_assert_eq(gofer_check_name_bytes("a\0b", 3), -EINVAL);
}

/* Builds a Walk message with raw name bytes, as a hostile peer would. */
static uint8_t *raw_walk(const void *name, uint32_t n, uint32_t count, size_t *len)
{
	struct wbuf w;
	uint32_t l;

	wbuf_init(&w);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, GOFER_WALK);
	wbuf_put_u64(&w, 1);
	wbuf_put_u64(&w, 1);
	wbuf_put_u32(&w, count);
	for (uint32_t i = 0; i < count && i < 2; i++)
		wbuf_put_bytes(&w, name, n);
	l = (uint32_t)w.len;
	memcpy(w.data, &l, 4);
	*len = w.len;
	return w.data;
}

UTest(protocol, hostile_names_refused_by_decoder)
{
	const struct {
		const char *s;
		uint32_t n;
	} bad[] = {{"", 0}, {".", 1}, {"..", 2}, {"a/b", 3}, {"a\0b", 3}, {"/", 1}};
	char big[300];
	struct gofer_req q;
	size_t len;
	uint8_t *m;

	memset(big, 'z', sizeof(big));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = raw_walk(bad[i].s, bad[i].n, 1, &len);
		cr_assert_eq(decode_req(m, len, 0, &q), -EPROTO, "name %zu accepted", i);
		free(m);
	}
	m = raw_walk(big, 256, 1, &len);
	cr_assert_eq(decode_req(m, len, 0, &q), -EPROTO);
	free(m);
	m = raw_walk(big, 255, 1, &len);
	cr_assert_eq(decode_req(m, len, 0, &q), 0);
	gofer_req_free(&q);
	free(m);
	/* Counts: zero, more than allowed, more than the message holds. */
	m = raw_walk("a", 1, 0, &len);
	cr_assert_eq(decode_req(m, len, 0, &q), -EPROTO);
	free(m);
	m = raw_walk("a", 1, GOFER_WALK_MAX + 1, &len);
	cr_assert_eq(decode_req(m, len, 0, &q), -EPROTO);
	free(m);
	m = raw_walk("a", 1, 1000000, &len);
	cr_assert_eq(decode_req(m, len, 0, &q), -EPROTO);
	free(m);
	m = raw_walk("a", 1, 3, &len); /* says 3, holds 2 */
	cr_assert_eq(decode_req(m, len, 0, &q), -EPROTO);
	free(m);
}

UTest(protocol, bad_fields_refused)
{
	uint64_t zero = 0;
	struct gofer_req bad[] = {
		{.type = 0},
		{.type = GOFER_TYPE_MAX},
		{.type = GOFER_MOUNT, .index = GOFER_MOUNTS_MAX},
		{.type = GOFER_OPEN, .node = 0},
		{.type = GOFER_OPEN, .node = 1, .flags = O_ACCMODE},
		{.type = GOFER_OPEN, .node = 1, .flags = O_CREAT},
		{.type = GOFER_OPEN, .node = 1, .flags = O_PATH},
		{.type = GOFER_OPEN, .node = 1, .flags = O_APPEND},
		{.type = GOFER_CREATE, .dir = 1, .name = "a", .mode = S_IFREG | 0644},
		{.type = GOFER_MKNOD, .dir = 1, .name = "a", .mode = S_IFCHR | 0644},
		{.type = GOFER_MKNOD, .dir = 1, .name = "a", .mode = S_IFIFO, .rdev = 1},
		{.type = GOFER_MKNOD, .dir = 1, .name = "a", .mode = S_IFSOCK},
		{.type = GOFER_SYMLINK, .dir = 1, .name = "a", .target = ""},
		{.type = GOFER_UNLINK, .dir = 1, .name = "a", .flags = 1},
		{.type = GOFER_RENAME, .dir = 1, .name = "a", .dir2 = 1, .name2 = "b", .flags = 3},
		{.type = GOFER_RENAME, .dir = 1, .name = "a", .dir2 = 1, .name2 = "b", .flags = 4},
		{.type = GOFER_RENAME, .dir = 1, .name = "a", .dir2 = 0, .name2 = "b"},
		{.type = GOFER_SETSTAT, .node = 1, .mask = 0x40},
		{.type = GOFER_SETSTAT, .node = 1, .mask = GOFER_SET_ATIME, .atime_nsec = -1},
		{.type = GOFER_SETSTAT, .node = 1, .mask = GOFER_SET_MTIME,
		 .mtime_nsec = 1000000000},
		{.type = GOFER_SETSTAT, .node = 1, .mask = GOFER_SET_SIZE, .size = 1ULL << 63},
		{.type = GOFER_FSYNC, .node = 1, .flags = 2},
		{.type = GOFER_CLOSE, .nnodes = 0},
		{.type = GOFER_CLOSE, .nnodes = 1, .nodes = &zero},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *buf;
		size_t len;
		cr_assert_eq(gofer_encode_req(&bad[i], &buf, &len), -EINVAL, "request %zu encoded",
			     i);
	}
	char target[GOFER_PATH_MAX + 1];
	memset(target, 't', GOFER_PATH_MAX);
	target[GOFER_PATH_MAX] = 0;
	struct gofer_req q = {.type = GOFER_SYMLINK, .dir = 1, .name = "a", .target = target};
	uint8_t *buf;
	size_t len;
	cr_assert_eq(gofer_encode_req(&q, &buf, &len), -EINVAL);
	target[GOFER_PATH_MAX - 1] = 0;
	cr_assert_eq(gofer_encode_req(&q, &buf, &len), 0);
	free(buf);
}

UTest(protocol, headers_checked)
{
	struct gofer_req q = {.type = GOFER_STAT, .id = 5, .node = 3}, out;
	uint8_t *buf;
	size_t len;
	uint32_t v;

	cr_assert_eq(gofer_encode_req(&q, &buf, &len), 0);
	/* The length field must be the datagram's length. */
	v = (uint32_t)len + 8;
	memcpy(buf, &v, 4);
	cr_assert_eq(decode_req(buf, len, 0, &out), -EPROTO);
	v = (uint32_t)len;
	memcpy(buf, &v, 4);
	/* A reply type is not a request. */
	v = GOFER_STAT | GOFER_REPLY;
	memcpy(buf + 4, &v, 4);
	cr_assert_eq(decode_req(buf, len, 0, &out), -EPROTO);
	/* Nor is a request a reply. */
	v = GOFER_STAT;
	memcpy(buf + 4, &v, 4);
	struct gofer_reply r;
	cr_assert_eq(decode_reply(buf, len, 0, &r), -EPROTO);
	/* Too big to be a message at all. */
	uint8_t *huge = calloc(1, GOFER_MSG_MAX + 1);
	v = GOFER_MSG_MAX + 1;
	memcpy(huge, &v, 4);
	cr_assert_eq(gofer_decode_req(huge, GOFER_MSG_MAX + 1, 0, &out), -EPROTO);
	free(huge);
	free(buf);
}

/* ---- replies ---- */

static void reply_round_trip(const struct gofer_reply *in, struct gofer_reply *out, unsigned nfds)
{
	uint8_t *buf;
	size_t len;
	cr_assert_eq(gofer_encode_reply(in, &buf, &len), 0, "%s reply", gofer_type_name(in->type));
	cr_assert_eq(decode_reply(buf, len, nfds, out), 0, "%s reply", gofer_type_name(in->type));
	cr_assert_eq(out->type, in->type);
	cr_assert_eq(out->id, in->id);
	cr_assert_eq(out->err, in->err);
	all_truncations_fail_reply(buf, len, nfds);
	/* The fd must come exactly where the message has one. */
	struct gofer_reply x;
	cr_assert_eq(decode_reply(buf, len, nfds ? 0 : 1, &x), -EPROTO);
	free(buf);
}

UTest(protocol, replies_round_trip)
{
	struct gofer_attr f = attr(S_IFREG | 0644), d = attr(S_IFDIR | 0755),
			  l = attr(S_IFLNK | 0777);
	uint64_t wn[2] = {10, 11};
	struct gofer_attr wa[2] = {d, l};
	struct gofer_dirent de[3] = {{1, 2, 4, "a"}, {3, 4, 8, "bb"}, {5, 6, 10, "link"}};
	struct gofer_reply reps[] = {
		{.type = GOFER_MOUNT, .id = 1, .node = 1, .readonly = 1, .attr = d, .fd = -1},
		{.type = GOFER_WALK, .id = 2, .walk_nodes = wn, .walk_attrs = wa, .nwalk = 2,
		 .fd = -1},
		{.type = GOFER_WALK, .id = 3, .nwalk = 0, .fd = -1},
		{.type = GOFER_OPEN, .id = 4, .fd = 0},
		{.type = GOFER_CREATE, .id = 5, .node = 3, .attr = f, .dir_attr = d, .fd = 0},
		{.type = GOFER_MKDIR, .id = 6, .node = 3, .attr = d, .dir_attr = d, .fd = -1},
		{.type = GOFER_SYMLINK, .id = 7, .node = 3, .attr = l, .dir_attr = d, .fd = -1},
		{.type = GOFER_UNLINK, .id = 8, .dir_attr = d, .fd = -1},
		{.type = GOFER_RENAME, .id = 9, .dir_attr = d, .dir2_attr = d, .fd = -1},
		{.type = GOFER_READLINK, .id = 10, .target = "/etc/shadow", .fd = -1},
		{.type = GOFER_GETDENTS, .id = 11, .dirents = de, .ndirents = 3, .fd = -1},
		{.type = GOFER_STAT, .id = 12, .attr = f, .fd = -1},
		{.type = GOFER_STATFS, .id = 13, .statfs = {.type = 0xef53, .bsize = 4096}, .fd = -1},
		{.type = GOFER_CLOSE, .id = 14, .fd = -1},
		{.type = GOFER_OPEN, .id = 15, .err = ENOENT, .fd = -1},
		{.type = GOFER_WALK, .id = 16, .err = EACCES, .fd = -1},
	};
	for (size_t i = 0; i < sizeof(reps) / sizeof(reps[0]); i++) {
		struct gofer_reply out;
		reply_round_trip(&reps[i], &out, reps[i].fd >= 0 ? 1 : 0);
		if (out.type == GOFER_WALK && !out.err) {
			cr_assert_eq(out.nwalk, reps[i].nwalk);
			if (out.nwalk) {
				cr_assert_eq(out.walk_nodes[1], 11);
				cr_assert_eq(out.walk_attrs[1].mode, S_IFLNK | 0777);
				cr_assert_eq(out.walk_attrs[0].atime_sec, -5);
			}
		}
		if (out.type == GOFER_GETDENTS) {
			cr_assert_eq(out.ndirents, 3);
			cr_assert_str_eq(out.dirents[2].name, "link");
			cr_assert_eq(out.dirents[1].next, 4);
		}
		if (out.type == GOFER_READLINK)
			cr_assert_str_eq(out.target, "/etc/shadow");
		gofer_reply_free(&out);
	}
}

UTest(protocol, bad_replies_refused)
{
	struct gofer_attr f = attr(S_IFREG | 0644), d = attr(S_IFDIR | 0755), bad = f;
	struct gofer_dirent dot[1] = {{1, 2, 4, ".."}}, slash[1] = {{1, 2, 4, "a/b"}},
			    badtype[1] = {{1, 2, 16, "a"}};
	uint64_t zero = 0;
	struct gofer_reply reps[] = {
		{.type = GOFER_MOUNT, .node = 1, .attr = f, .fd = -1},     /* root not a dir */
		{.type = GOFER_MOUNT, .node = 0, .attr = d, .fd = -1},     /* node 0 */
		{.type = GOFER_MOUNT, .node = 1, .attr = d, .readonly = 2, .fd = -1},
		{.type = GOFER_WALK, .walk_nodes = &zero, .walk_attrs = &d, .nwalk = 1, .fd = -1},
		{.type = GOFER_CREATE, .node = 3, .attr = d, .dir_attr = d, .fd = 0},
		{.type = GOFER_MKDIR, .node = 3, .attr = d, .dir_attr = f, .fd = -1},
		{.type = GOFER_GETDENTS, .dirents = dot, .ndirents = 1, .fd = -1},
		{.type = GOFER_GETDENTS, .dirents = slash, .ndirents = 1, .fd = -1},
		{.type = GOFER_GETDENTS, .dirents = badtype, .ndirents = 1, .fd = -1},
		{.type = GOFER_READLINK, .target = "", .fd = -1},
		{.type = GOFER_STAT, .attr = bad, .fd = -1},
		{.type = GOFER_OPEN, .err = 5000, .fd = -1},
		{.type = GOFER_OPEN, .err = -1, .fd = -1},
	};
	reps[10].attr.mode = 0170000 | 0644; /* no such file type */
	for (size_t i = 0; i < sizeof(reps) / sizeof(reps[0]); i++) {
		uint8_t *buf;
		size_t len;
		cr_assert_eq(gofer_encode_reply(&reps[i], &buf, &len), -EINVAL, "reply %zu", i);
	}
	/* A bad time and a bad mode, slipped past the encoder. */
	struct gofer_reply ok = {.type = GOFER_STAT, .id = 1, .attr = f, .fd = -1}, out;
	uint8_t *buf;
	size_t len;
	cr_assert_eq(gofer_encode_reply(&ok, &buf, &len), 0);
	uint32_t mode = 0170000, nsec = 1000000000;
	uint8_t *c = exact(buf, len);
	memcpy(c + GOFER_HDR_SIZE + 4, &mode, 4);
	cr_assert_eq(gofer_decode_reply(c, len, 0, &out), -EPROTO);
	free(c);
	c = exact(buf, len);
	/* atime_nsec follows 5 u32 and 5 u64 and atime_sec. */
	memcpy(c + GOFER_HDR_SIZE + 4 + 20 + 40 + 8, &nsec, 4);
	cr_assert_eq(gofer_decode_reply(c, len, 0, &out), -EPROTO);
	free(c);
	free(buf);
	/* An error reply carries nothing else. */
	struct gofer_reply e = {.type = GOFER_STAT, .id = 1, .err = EIO, .fd = -1};
	cr_assert_eq(gofer_encode_reply(&e, &buf, &len), 0);
	uint8_t *longer = calloc(1, len + 8);
	memcpy(longer, buf, len);
	uint32_t l = (uint32_t)len + 8;
	memcpy(longer, &l, 4);
	cr_assert_eq(gofer_decode_reply(longer, len + 8, 0, &out), -EPROTO);
	free(longer);
	free(buf);
}

UTest(protocol, getdents_count_bounded_by_message)
{
	struct wbuf w;
	struct gofer_reply r;
	uint32_t l;

	wbuf_init(&w);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, GOFER_GETDENTS | GOFER_REPLY);
	wbuf_put_u64(&w, 1);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, 0xffffffff); /* a count no message can hold */
	l = (uint32_t)w.len;
	memcpy(w.data, &l, 4);
	cr_assert_eq(decode_reply(w.data, w.len, 0, &r), -EPROTO);
	wbuf_free(&w);
}

/* ---- the channel ---- */

struct late_send {
	int sock;
	const char *msg;
};

/* Sends once the receiver has surely given up polling (its 1 us spin is
 * long over after 20 ms): the spinning receive must then block. */
static void *send_late(void *arg)
{
	struct late_send *l = arg;
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
	gofer_send(l->sock, l->msg, strlen(l->msg), -1);
	return NULL;
}

UTest(protocol, channel_recv_spin)
{
	int sv[2], fd;
	uint8_t buf[64];
	pthread_t th;
	struct late_send l;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* Already there: taken while polling, its fd too. */
	cr_assert_eq(gofer_send(sv[0], "now", 3, 0), 0);
	cr_assert_eq(gofer_recv_spin(sv[1], buf, sizeof(buf), &fd, 50), 3);
	cr_assert_geq(fd, 0);
	close(fd);
	/* Late: the poll gives up and the receive blocks until it comes. */
	l = (struct late_send){sv[0], "later"};
	cr_assert_eq(pthread_create(&th, NULL, send_late, &l), 0);
	cr_assert_eq(gofer_recv_spin(sv[1], buf, sizeof(buf), &fd, 1), 5);
	cr_assert_eq(fd, -1);
	cr_assert_eq(memcmp(buf, "later", 5), 0);
	pthread_join(th, NULL);
	/* No spin at all is a plain receive; the framing rules hold. */
	cr_assert_eq(send(sv[0], "toolong", 7, 0), 7);
	cr_assert_eq(gofer_recv_spin(sv[1], buf, 4, &fd, 0), -EPROTO);
	close(sv[0]);
	cr_assert_eq(gofer_recv_spin(sv[1], buf, sizeof(buf), &fd, 50), 0);
	close(sv[1]);
}

UTest(protocol, channel_datagrams_and_fds)
{
	int sv[2], fd;
	uint8_t buf[GOFER_MSG_MAX];
	char big[GOFER_MSG_MAX + 16];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(gofer_send(sv[0], "hello", 5, -1), 0);
	cr_assert_eq(gofer_recv(sv[1], buf, sizeof(buf), &fd), 5);
	cr_assert_eq(fd, -1);
	/* One fd rides along. */
	cr_assert_eq(gofer_send(sv[0], "x", 1, 0), 0);
	cr_assert_eq(gofer_recv(sv[1], buf, sizeof(buf), &fd), 1);
	cr_assert_geq(fd, 0);
	close(fd);
	/* Two fds are a protocol error (both closed). */
	{
		int fds[2] = {0, 1};
		union {
			char b[CMSG_SPACE(sizeof(fds))];
			struct cmsghdr a;
		} cm;
		struct iovec iov = {"y", 1};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
				    .msg_controllen = sizeof(cm.b)};
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
		cr_assert_eq(sendmsg(sv[0], &mh, 0), 1);
		cr_assert_eq(gofer_recv(sv[1], buf, sizeof(buf), &fd), -EPROTO);
		cr_assert_eq(fd, -1);
	}
	/* Too long for the receiver: refused, not cut. */
	memset(big, 'b', sizeof(big));
	cr_assert_eq(gofer_send(sv[0], big, sizeof(big), -1), -EMSGSIZE);
	cr_assert_eq(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	cr_assert_eq(gofer_recv(sv[1], buf, GOFER_MSG_MAX, &fd), -EPROTO);
	close(sv[0]);
	cr_assert_eq(gofer_recv(sv[1], buf, sizeof(buf), &fd), 0);
	close(sv[1]);
}
