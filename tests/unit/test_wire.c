/* The wire encoder/decoder (lib/wire.c) and framed messages with fds on a
 * unix stream socket (lib/frame.c). */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/frame.h"
#include "lib/util.h"
#include "lib/wire.h"

/* A heap copy of exactly len bytes, so any read past it is caught by
 * AddressSanitizer. */
static uint8_t *exact(const void *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);
	cr_assert_not_null(c);
	if (len)
		memcpy(c, p, len);
	return c;
}

/* ---- wbuf / rbuf ---- */

UTest(wire, round_trip_scalars)
{
	struct wbuf w;
	struct rbuf r;
	uint32_t a;
	uint64_t b;

	wbuf_init(&w);
	wbuf_put_u32(&w, 0);
	wbuf_put_u32(&w, 0xdeadbeef);
	wbuf_put_u64(&w, UINT64_MAX);
	wbuf_put_u64(&w, 0x0102030405060708ULL);
	cr_assert_not(w.oom);
	cr_assert_eq(w.len, 24);
	/* Little-endian on the wire. */
	cr_assert_eq(w.data[4], 0xef);
	cr_assert_eq(w.data[7], 0xde);
	cr_assert_eq(w.data[16], 0x08);

	uint8_t *d = exact(w.data, w.len);
	rbuf_init(&r, d, w.len);
	cr_assert(rbuf_get_u32(&r, &a));
	cr_assert_eq(a, 0);
	cr_assert(rbuf_get_u32(&r, &a));
	cr_assert_eq(a, 0xdeadbeef);
	cr_assert_not(rbuf_done(&r), "not done with bytes left");
	cr_assert(rbuf_get_u64(&r, &b));
	cr_assert_eq(b, UINT64_MAX);
	cr_assert(rbuf_get_u64(&r, &b));
	cr_assert_eq(b, 0x0102030405060708ULL);
	cr_assert(rbuf_done(&r));
	free(d);
	wbuf_free(&w);
	cr_assert_null(w.data);
	cr_assert_eq(w.len, 0);
}

UTest(wire, round_trip_bytes_and_strings)
{
	struct wbuf w;
	struct rbuf r;
	const void *p;
	uint32_t n;
	uint8_t blob[1000];
	char *s;

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	wbuf_init(&w);
	wbuf_put_bytes(&w, blob, sizeof(blob));
	wbuf_put_bytes(&w, NULL, 0);
	wbuf_put_str(&w, "hello");
	wbuf_put_str(&w, "");
	wbuf_put_bytes(&w, "a\0b", 3); /* bytes may hold NULs */
	cr_assert_not(w.oom);

	uint8_t *d = exact(w.data, w.len);
	rbuf_init(&r, d, w.len);
	cr_assert(rbuf_get_bytes(&r, &p, &n));
	cr_assert_eq(n, sizeof(blob));
	cr_assert_eq(memcmp(p, blob, n), 0);
	cr_assert(rbuf_get_bytes(&r, &p, &n));
	cr_assert_eq(n, 0);
	s = rbuf_get_str(&r, 100);
	cr_assert_str_eq(s, "hello");
	free(s);
	s = rbuf_get_str(&r, 100);
	cr_assert_not_null(s, "an empty string is a string");
	cr_assert_str_eq(s, "");
	free(s);
	cr_assert(rbuf_get_bytes(&r, &p, &n));
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(p, "a\0b", 3), 0);
	cr_assert(rbuf_done(&r));
	free(d);
	wbuf_free(&w);
}

UTest(wire, growth)
{
	struct wbuf w;
	struct rbuf r;
	uint32_t v;

	wbuf_init(&w);
	for (uint32_t i = 0; i < 100000; i++)
		wbuf_put_u32(&w, i * 2654435761u);
	cr_assert_not(w.oom);
	cr_assert_eq(w.len, 400000);
	cr_assert_geq(w.cap, w.len);
	rbuf_init(&r, w.data, w.len);
	for (uint32_t i = 0; i < 100000; i++) {
		cr_assert(rbuf_get_u32(&r, &v));
		cr_assert_eq(v, i * 2654435761u);
	}
	cr_assert(rbuf_done(&r));
	wbuf_free(&w);
}

UTest(wire, round_trip_strv)
{
	char *v[] = {"ls", "-l", "", "/tmp/a b", NULL};
	struct wbuf w;
	struct rbuf r;
	char **got;

	wbuf_init(&w);
	wbuf_put_strv(&w, v);
	wbuf_put_strv(&w, NULL);
	wbuf_put_strv(&w, (char *[]){NULL});
	cr_assert_not(w.oom);
	uint8_t *d = exact(w.data, w.len);
	rbuf_init(&r, d, w.len);
	got = rbuf_get_strv(&r, 16, 1024);
	cr_assert_not_null(got);
	cr_assert_eq(strv_len(got), 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(got[i], v[i]);
	cr_assert_null(got[4]);
	strv_free(got);
	for (int k = 0; k < 2; k++) {
		got = rbuf_get_strv(&r, 16, 1024);
		cr_assert_not_null(got, "an empty vector is a vector");
		cr_assert_eq(strv_len(got), 0);
		strv_free(got);
	}
	cr_assert(rbuf_done(&r));
	free(d);
	wbuf_free(&w);
	cr_assert_eq(strv_len(NULL), 0);
	strv_free(NULL);
}

UTest(wire, read_past_end)
{
	static const uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct rbuf r;
	uint32_t a = 0x55555555;
	uint64_t b = 0x5555555555555555ULL;

	for (size_t len = 0; len < 8; len++) {
		uint8_t *d = exact(src, len);
		rbuf_init(&r, d, len);
		cr_assert_not(rbuf_get_u64(&r, &b), "u64 from %zu bytes", len);
		cr_assert(r.err);
		cr_assert_not(rbuf_done(&r));
		cr_assert_eq(r.pos, 0, "a failed get consumes nothing");
		cr_assert_eq(b, 0x5555555555555555ULL, "a failed get writes nothing");
		if (len >= 4) {
			/* The error latches: later gets fail even when they fit. */
			cr_assert_not(rbuf_get_u32(&r, &a));
			cr_assert_eq(a, 0x55555555);
		}
		free(d);
	}
	uint8_t *d = exact(src, 3);
	rbuf_init(&r, d, 3);
	cr_assert_not(rbuf_get_u32(&r, &a));
	cr_assert(r.err);
	free(d);

	/* Exactly at the end. */
	d = exact(src, 8);
	rbuf_init(&r, d, 8);
	cr_assert(rbuf_get_u32(&r, &a));
	cr_assert(rbuf_get_u32(&r, &a));
	cr_assert(rbuf_done(&r));
	cr_assert_not(rbuf_get_u32(&r, &a));
	cr_assert_not(rbuf_done(&r), "an error is never done");
	free(d);

	/* An empty buffer, and a NULL one of length 0. */
	rbuf_init(&r, NULL, 0);
	cr_assert(rbuf_done(&r));
	cr_assert_not(rbuf_get_u32(&r, &a));
	cr_assert_not(rbuf_done(&r));
}

UTest(wire, bytes_length_past_end)
{
	static const uint32_t lens[] = {1, 5, 6, 0x7fffffff, 0xfffffff0, UINT32_MAX};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		uint8_t src[9];
		const void *p = NULL;
		uint32_t n;
		struct rbuf r;

		memcpy(src, &lens[i], 4);
		memcpy(src + 4, "abcde", 5); /* 5 bytes follow */
		/* One byte short of what the length asks for, or all 5. */
		size_t len = 4 + (lens[i] <= 5 ? lens[i] - 1 : 5);
		uint8_t *d = exact(src, len);
		rbuf_init(&r, d, len);
		cr_assert_not(rbuf_get_bytes(&r, &p, &n), "length %u in %zu bytes",
			      lens[i], len);
		cr_assert(r.err);
		cr_assert_null(p);
		r.err = false; /* even so, the string getter refuses */
		r.pos = 0;
		cr_assert_null(rbuf_get_str(&r, SIZE_MAX));
		cr_assert(r.err);
		free(d);
	}
}

UTest(wire, str_limits)
{
	struct wbuf w;
	struct rbuf r;
	char *s;

	wbuf_init(&w);
	wbuf_put_str(&w, "12345");
	wbuf_put_str(&w, "12345");
	wbuf_put_bytes(&w, "ab\0cd", 5);
	wbuf_put_bytes(&w, "abcd\0", 5);
	wbuf_put_bytes(&w, "\0", 1);
	uint8_t *d = exact(w.data, w.len);

	rbuf_init(&r, d, w.len);
	s = rbuf_get_str(&r, 5);
	cr_assert_str_eq(s, "12345", "exactly max");
	free(s);
	cr_assert_null(rbuf_get_str(&r, 4), "longer than max");
	cr_assert(r.err);

	for (int k = 0; k < 3; k++) {
		rbuf_init(&r, d, w.len);
		free(rbuf_get_str(&r, 5));
		free(rbuf_get_str(&r, 5));
		for (int j = 0; j < k; j++) { /* skip to the k-th bad one */
			const void *p;
			uint32_t n;
			cr_assert(rbuf_get_bytes(&r, &p, &n));
		}
		cr_assert_null(rbuf_get_str(&r, 100), "embedded NUL, case %d", k);
		cr_assert(r.err);
		cr_assert_not(rbuf_done(&r));
	}
	free(d);
	wbuf_free(&w);
}

static uint8_t *strv_msg(uint32_t count, const char *const *strs, size_t nstrs,
			 size_t *len)
{
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u32(&w, count);
	for (size_t i = 0; i < nstrs; i++)
		wbuf_put_str(&w, strs[i]);
	cr_assert_not(w.oom);
	uint8_t *d = exact(w.data, w.len);
	*len = w.len;
	wbuf_free(&w);
	return d;
}

static char **get_strv(const uint8_t *d, size_t len, uint32_t max_count,
		       size_t max_total, bool *done)
{
	struct rbuf r;
	char **v;
	rbuf_init(&r, d, len);
	v = rbuf_get_strv(&r, max_count, max_total);
	*done = rbuf_done(&r);
	if (!v)
		cr_assert(r.err, "a failed strv sets the error");
	return v;
}

UTest(wire, strv_limits)
{
	static const char *const three[] = {"aaa", "bbb", "ccc"};
	size_t len;
	bool done;
	char **v;
	uint8_t *d;

	/* Count limit. */
	d = strv_msg(3, three, 3, &len);
	v = get_strv(d, len, 3, 100, &done);
	cr_assert_not_null(v);
	cr_assert(done);
	strv_free(v);
	cr_assert_null(get_strv(d, len, 2, 100, &done));
	cr_assert_not(done);
	free(d);

	/* The count says more strings than there are. */
	d = strv_msg(4, three, 3, &len);
	cr_assert_null(get_strv(d, len, 10, 100, &done));
	free(d);
	/* A large count with too few strings behind it. */
	d = strv_msg(1000, three, 3, &len);
	cr_assert_null(get_strv(d, len, 1000, 100, &done));
	cr_assert_null(get_strv(d, len, 999, 100, &done));
	free(d);

	/* Total limit: the bytes of the strings with their NULs. */
	d = strv_msg(3, three, 3, &len);
	v = get_strv(d, len, 10, 12, &done);
	cr_assert_not_null(v, "3 * (3 + 1) bytes fit in 12");
	strv_free(v);
	cr_assert_null(get_strv(d, len, 10, 11, &done), "12 bytes do not fit in 11");
	cr_assert_null(get_strv(d, len, 10, 0, &done));
	free(d);
}

UTest(wire, strv_total_cannot_be_bypassed)
{
	/* The first string uses the whole budget; the next must not get an
	 * unlimited one. */
	static const char *const a[] = {"0123456789", "x"};
	char big[4097];
	const char *b[2] = {"0123456789", big};
	size_t len;
	bool done;
	uint8_t *d;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	d = strv_msg(2, b, 2, &len);
	cr_assert_null(get_strv(d, len, 10, 10, &done), "4 KiB through a 10-byte budget");
	cr_assert_null(get_strv(d, len, 10, 11, &done));
	free(d);
	d = strv_msg(2, a, 2, &len);
	cr_assert_null(get_strv(d, len, 10, 10, &done));
	cr_assert_null(get_strv(d, len, 10, 11, &done));
	cr_assert_null(get_strv(d, len, 10, 12, &done));
	char **v = get_strv(d, len, 10, 13, &done);
	cr_assert_not_null(v, "11 + 2 bytes fit in 13");
	cr_assert(done);
	strv_free(v);
	free(d);
}

UTest(wire, strv_bad_string_inside)
{
	struct wbuf w;
	bool done;
	wbuf_init(&w);
	wbuf_put_u32(&w, 3);
	wbuf_put_str(&w, "ok");
	wbuf_put_bytes(&w, "b\0d", 3);
	wbuf_put_str(&w, "ok");
	uint8_t *d = exact(w.data, w.len);
	cr_assert_null(get_strv(d, w.len, 10, 100, &done));
	cr_assert_not(done);
	free(d);
	wbuf_free(&w);
}

UTest(wire, truncation_fuzz)
{
	/* Every prefix of a valid message fails cleanly; the whole succeeds. */
	char *argv[] = {"prog", "--flag", "value with spaces", NULL};
	struct wbuf w;
	wbuf_init(&w);
	wbuf_put_u32(&w, 7);
	wbuf_put_strv(&w, argv);
	wbuf_put_str(&w, "/usr/bin/prog");
	wbuf_put_u64(&w, 42);
	for (size_t len = 0; len <= w.len; len++) {
		struct rbuf r;
		uint32_t t;
		uint64_t x;
		uint8_t *d = exact(w.data, len);
		rbuf_init(&r, d, len);
		rbuf_get_u32(&r, &t);
		char **v = rbuf_get_strv(&r, 16, 4096);
		char *s = rbuf_get_str(&r, 4096);
		rbuf_get_u64(&r, &x);
		cr_assert_eq(rbuf_done(&r), len == w.len, "prefix %zu", len);
		if (len == w.len) {
			cr_assert_eq(strv_len(v), 3);
			cr_assert_str_eq(s, "/usr/bin/prog");
			cr_assert_eq(x, 42);
		}
		strv_free(v);
		free(s);
		free(d);
	}
	wbuf_free(&w);
}

/* ---- frames ---- */

/* A frame test that blocks fails instead of hanging the suite. */
TestSuite(frame, .timeout = 60);

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void sockpair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

UTest(frame, round_trip)
{
	int sv[2];
	struct frame f;
	static const char body[] = "the body of the frame";

	sockpair(sv);
	cr_assert_eq(frame_send(sv[0], 7, 99, body, sizeof(body), NULL, 0), 0);
	cr_assert_eq(frame_send(sv[0], 8, 100, NULL, 0, NULL, 0), 0);
	cr_assert_eq(frame_recv(sv[1], &f), 0);
	cr_assert_eq(f.type, 7);
	cr_assert_eq(f.seq, 99);
	cr_assert_eq(f.len, sizeof(body));
	cr_assert_eq(memcmp(f.body, body, sizeof(body)), 0);
	cr_assert_eq(f.nfds, 0);
	frame_release(&f);
	cr_assert_null(f.body);
	cr_assert_eq(frame_recv(sv[1], &f), 0);
	cr_assert_eq(f.type, 8);
	cr_assert_eq(f.seq, 100);
	cr_assert_eq(f.len, 0);
	cr_assert_null(f.body);
	frame_release(&f);
	/* A clean end of stream. */
	close(sv[0]);
	cr_assert_eq(frame_recv(sv[1], &f), -ECONNRESET);
	close(sv[1]);
}

UTest(frame, with_fds)
{
	int sv[2], p[2], tmp;
	struct frame f;
	struct stat a, b;
	char buf[16];
	int before;

	sockpair(sv);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tmp < 0) { /* a filesystem without O_TMPFILE */
		char path[] = "/tmp/unit-wire-XXXXXX";
		tmp = mkostemp(path, O_CLOEXEC);
		cr_assert(tmp >= 0, "mkostemp: %s", strerror(errno));
		unlink(path);
	}
	before = count_fds();

	int send_fds[2] = {p[1], tmp};
	cr_assert_eq(frame_send(sv[0], 1, 2, "x", 1, send_fds, 2), 0);
	cr_assert_eq(frame_recv(sv[1], &f), 0);
	cr_assert_eq(f.nfds, 2);
	cr_assert_eq(f.len, 1);
	cr_assert_eq(count_fds(), before + 2);
	for (unsigned i = f.nfds; i < FRAME_MAX_FDS; i++)
		cr_assert_eq(f.fds[i], -1);
	/* The same file... */
	cr_assert_eq(fstat(tmp, &a), 0);
	cr_assert_eq(fstat(f.fds[1], &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_dev, b.st_dev);
	/* ...and the same pipe: what goes in the received end comes out. */
	cr_assert_eq(write(f.fds[0], "through", 7), 7);
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 7);
	cr_assert_eq(memcmp(buf, "through", 7), 0);
	/* Received close-on-exec. */
	cr_assert(fcntl(f.fds[0], F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(f.fds[1], F_GETFD) & FD_CLOEXEC);
	/* Keeping one: release closes only the others. */
	int kept = f.fds[1];
	f.fds[1] = -1;
	frame_release(&f);
	cr_assert_eq(count_fds(), before + 1);
	cr_assert_eq(fcntl(kept, F_GETFD) >= 0, true);
	close(kept);
	cr_assert_eq(count_fds(), before);
	close(p[0]);
	close(p[1]);
	close(tmp);
	close(sv[0]);
	close(sv[1]);
}

UTest(frame, max_fds_and_limits)
{
	int sv[2], fds[FRAME_MAX_FDS + 1];
	struct frame f;
	int before;

	sockpair(sv);
	for (int i = 0; i <= FRAME_MAX_FDS; i++)
		fds[i] = sv[0];
	before = count_fds();
	cr_assert_eq(frame_send(sv[0], 1, 1, NULL, 0, fds, FRAME_MAX_FDS), 0);
	cr_assert_eq(frame_recv(sv[1], &f), 0);
	cr_assert_eq(f.nfds, FRAME_MAX_FDS);
	cr_assert_eq(count_fds(), before + FRAME_MAX_FDS);
	frame_release(&f);
	cr_assert_eq(count_fds(), before);

	/* The sender refuses frames that break the rules. */
	static const char small[1];
	cr_assert_eq(frame_send(sv[0], 1, 1, NULL, 0, fds, FRAME_MAX_FDS + 1), -EMSGSIZE);
	cr_assert_eq(frame_send(sv[0], 1, 1, small, (size_t)FRAME_MAX_BODY + 1, NULL, 0),
		     -EMSGSIZE);
	cr_assert_eq(frame_send(sv[0], 1, 1, small, (size_t)UINT32_MAX + 2, NULL, 0),
		     -EMSGSIZE);
	/* Nothing of them reached the socket. */
	cr_assert_eq(frame_send(sv[0], 5, 6, NULL, 0, NULL, 0), 0);
	cr_assert_eq(frame_recv(sv[1], &f), 0);
	cr_assert_eq(f.type, 5);
	frame_release(&f);
	close(sv[0]);
	close(sv[1]);
}

struct sender {
	int sock;
	const uint8_t *body;
	size_t len;
	int ret;
	int fd;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	s->ret = frame_send(s->sock, 3, 4, s->body, s->len, s->fd >= 0 ? &s->fd : NULL,
			    s->fd >= 0 ? 1 : 0);
	return NULL;
}

UTest(frame, large_body)
{
	const size_t len = 1u << 20;
	uint8_t *body = malloc(len);
	int sv[2], bufsz = 4096;
	pthread_t th;
	struct frame f;

	cr_assert_not_null(body);
	for (size_t i = 0; i < len; i++)
		body[i] = (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
	sockpair(sv);
	/* Small buffers: the body crosses many partial writes and reads. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	struct sender s = {sv[0], body, len, -1, sv[1]};
	cr_assert_eq(pthread_create(&th, NULL, send_thread, &s), 0);
	int r = frame_recv(sv[1], &f);
	pthread_join(th, NULL);
	cr_assert_eq(s.ret, 0);
	cr_assert_eq(r, 0);
	cr_assert_eq(f.len, len);
	cr_assert_eq(f.nfds, 1);
	cr_assert_eq(memcmp(f.body, body, len), 0);
	frame_release(&f);
	free(body);
	close(sv[0]);
	close(sv[1]);
}

/* The header as frame.c lays it out, for crafting raw frames. */
struct raw_hdr {
	uint32_t magic, type, seq, len, nfds;
};

static void on_usr1(int sig) { (void)sig; }

struct pest {
	pthread_t target;
	atomic_bool stop;
};

static void *pest_thread(void *arg)
{
	struct pest *p = arg;
	while (!atomic_load(&p->stop)) {
		pthread_kill(p->target, SIGUSR1);
		nanosleep(&(struct timespec){0, 50000}, NULL);
	}
	return NULL;
}

/* Receives exactly len stream bytes into buf with recvmsg, closing and
 * counting every fd that comes with them. */
static unsigned recv_counting_fds(int sock, uint8_t *buf, size_t len)
{
	unsigned nfds = 0;
	size_t got = 0;
	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 32)];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {buf + got, len - got};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert_gt(n, 0, "stream ended after %zu of %zu bytes", got, len);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < cnt; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
				nfds++;
			}
		}
		got += (size_t)n;
	}
	return nfds;
}

UTest(frame, interrupted_partial_sends)
{
	/* Signals cut the sender's sendmsg short; the frame still arrives
	 * whole, with its fd once. */
	const size_t len = 4u << 20;
	uint8_t *body = malloc(len), *raw = malloc(len + sizeof(struct raw_hdr));
	int bufsz = 4096;
	struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */

	cr_assert(body && raw);
	for (size_t i = 0; i < len; i++)
		body[i] = (uint8_t)((i * 31) ^ (i >> 11));
	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	for (int round = 0; round < 2; round++) {
		int sv[2], before;
		pthread_t th, pt;
		struct frame f;
		struct pest p;

		sockpair(sv);
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
		before = count_fds();
		struct sender s = {sv[0], body, len, -1, sv[1]};
		cr_assert_eq(pthread_create(&th, NULL, send_thread, &s), 0);
		p.target = th;
		atomic_init(&p.stop, false);
		cr_assert_eq(pthread_create(&pt, NULL, pest_thread, &p), 0);
		if (round == 0) {
			int r = frame_recv(sv[1], &f);
			cr_assert_eq(r, 0);
			cr_assert_eq(f.len, len);
			cr_assert_eq(f.nfds, 1);
			cr_assert_eq(memcmp(f.body, body, len), 0, "the body came out changed");
			frame_release(&f);
		} else {
			/* The raw stream: the fd rides once, on the header. */
			unsigned n = recv_counting_fds(sv[1], raw, len + sizeof(struct raw_hdr));
			cr_assert_eq(n, 1, "the fd was sent %u times", n);
			cr_assert_eq(memcmp(raw + sizeof(struct raw_hdr), body, len), 0);
		}
		/* The pest must be gone before the thread it signals is. */
		atomic_store(&p.stop, true);
		pthread_join(pt, NULL);
		pthread_join(th, NULL);
		cr_assert_eq(s.ret, 0);
		cr_assert_eq(count_fds(), before);
		/* Nothing more on the stream. */
		close(sv[0]);
		cr_assert_eq(frame_recv(sv[1], &f), -ECONNRESET);
		close(sv[1]);
	}
	free(raw);
	free(body);
}

/* Writes data one byte at a time, pausing between bytes. */
struct dribble {
	int sock;
	const uint8_t *data;
	size_t len;
	int fd; /* sent with the first byte, if >= 0 */
};

static void *dribble_thread(void *arg)
{
	struct dribble *d = arg;
	for (size_t i = 0; i < d->len; i++) {
		struct iovec iov = {(void *)(d->data + i), 1};
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		if (i == 0 && d->fd >= 0) {
			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &d->fd, sizeof(int));
		}
		if (sendmsg(d->sock, &mh, MSG_NOSIGNAL) != 1)
			break;
		nanosleep(&(struct timespec){0, 200000}, NULL);
	}
	return NULL;
}

UTest(frame, header_and_body_in_pieces)
{
	int sv[2];
	pthread_t th;
	struct frame f;
	uint8_t msg[sizeof(struct raw_hdr) + 9];
	struct raw_hdr h = {FRAME_MAGIC, 11, 12, 9, 1};

	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), "123456789", 9);
	sockpair(sv);
	int before = count_fds();
	struct dribble d = {sv[0], msg, sizeof(msg), sv[0]};
	cr_assert_eq(pthread_create(&th, NULL, dribble_thread, &d), 0);
	int r = frame_recv(sv[1], &f);
	pthread_join(th, NULL);
	cr_assert_eq(r, 0);
	cr_assert_eq(f.type, 11);
	cr_assert_eq(f.seq, 12);
	cr_assert_eq(f.len, 9);
	cr_assert_eq(memcmp(f.body, "123456789", 9), 0);
	cr_assert_eq(f.nfds, 1);
	frame_release(&f);
	cr_assert_eq(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

/* Sends raw bytes with nfds copies of fd attached, then optionally shuts
 * the writing side; returns what frame_recv said. Checks no fd leaked. */
static int recv_raw(const void *data, size_t len, int fd, unsigned nfds, bool eof)
{
	int sv[2], before, r;
	struct frame f;
	int fds[32];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {(void *)data, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	cr_assert_leq(nfds, 32);
	sockpair(sv);
	before = count_fds();
	if (nfds) {
		for (unsigned i = 0; i < nfds; i++)
			fds[i] = fd;
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if (len || nfds)
		cr_assert_eq(sendmsg(sv[0], &mh, MSG_NOSIGNAL), (ssize_t)len);
	if (eof)
		shutdown(sv[0], SHUT_WR);
	r = frame_recv(sv[1], &f);
	if (r == 0)
		frame_release(&f);
	else
		cr_assert_eq(f.nfds, 0, "fds still held after an error");
	cr_assert_eq(count_fds(), before, "fds leaked (result %d)", r);
	close(sv[0]);
	close(sv[1]);
	return r;
}

UTest(frame, malformed)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct raw_hdr h;
	uint8_t buf[sizeof(h) + 100];

	cr_assert(fd >= 0);
	memset(buf, 'b', sizeof(buf));

	/* Sanity: the raw sender makes good frames too. */
	h = (struct raw_hdr){FRAME_MAGIC, 1, 1, 100, 2};
	memcpy(buf, &h, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(buf), fd, 2, true), 0);

	/* Bad magic, with fds riding along. */
	h = (struct raw_hdr){FRAME_MAGIC ^ 1, 1, 1, 100, 2};
	memcpy(buf, &h, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(buf), fd, 2, true), -EPROTO);
	cr_assert_eq(recv_raw(buf, sizeof(buf), fd, 2, false), -EPROTO);
	memset(buf, 0, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(buf), fd, 0, true), -EPROTO);

	/* A body over the limit is refused before it is read. */
	h = (struct raw_hdr){FRAME_MAGIC, 1, 1, FRAME_MAX_BODY + 1, 1};
	memcpy(buf, &h, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(h), fd, 1, false), -EPROTO);
	h.len = UINT32_MAX;
	memcpy(buf, &h, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(h), fd, 1, false), -EPROTO);

	/* nfds disagrees with the fds that came. */
	static const struct {
		uint32_t said;
		unsigned sent;
	} mis[] = {{2, 1}, {1, 2}, {0, 3}, {1, 0}, {16, 0}, {UINT32_MAX, 1}};
	for (size_t i = 0; i < ARRAY_SIZE(mis); i++) {
		h = (struct raw_hdr){FRAME_MAGIC, 1, 1, 4, mis[i].said};
		memcpy(buf, &h, sizeof(h));
		cr_assert_eq(recv_raw(buf, sizeof(h) + 4, fd, mis[i].sent, true), -EPROTO,
			     "nfds %u, %u sent", mis[i].said, mis[i].sent);
	}
	/* More fds than a frame may carry. */
	h = (struct raw_hdr){FRAME_MAGIC, 1, 1, 4, FRAME_MAX_FDS + 4};
	memcpy(buf, &h, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(h) + 4, fd, FRAME_MAX_FDS + 4, true), -EPROTO);
	h.nfds = FRAME_MAX_FDS;
	memcpy(buf, &h, sizeof(h));
	cr_assert_eq(recv_raw(buf, sizeof(h) + 4, fd, FRAME_MAX_FDS + 4, true), -EPROTO);

	/* Truncated header, every length, then EOF. */
	h = (struct raw_hdr){FRAME_MAGIC, 1, 1, 0, 1};
	memcpy(buf, &h, sizeof(h));
	for (size_t n = 1; n < sizeof(h); n++)
		cr_assert_eq(recv_raw(buf, n, fd, 1, true), -EPROTO, "header of %zu", n);

	/* Truncated body, then EOF. */
	h = (struct raw_hdr){FRAME_MAGIC, 1, 1, 100, 1};
	memcpy(buf, &h, sizeof(h));
	for (size_t n = 0; n < 100; n += 33)
		cr_assert_eq(recv_raw(buf, sizeof(h) + n, fd, 1, true), -EPROTO,
			     "body of %zu", n);

	/* A clean EOF before any byte. */
	cr_assert_eq(recv_raw(buf, 0, fd, 0, true), -ECONNRESET);
	close(fd);
}

struct receiver {
	int sock;
	int ret;
	struct frame f;
};

static void *recv_thread(void *arg)
{
	struct receiver *r = arg;
	r->ret = frame_recv(r->sock, &r->f);
	return NULL;
}

UTest(frame, fds_with_a_later_piece_are_refused)
{
	/* fds must come with the start of the header: here the receiver has
	 * taken the first 4 bytes alone when the fd arrives with the rest. */
	int sv[2], fd = open("/dev/null", O_RDONLY | O_CLOEXEC), pending = 1;
	struct raw_hdr h = {FRAME_MAGIC, 1, 1, 0, 1};
	struct receiver rc;
	pthread_t th;

	cr_assert(fd >= 0);
	sockpair(sv);
	rc.sock = sv[1];
	int before = count_fds();
	cr_assert_eq(write(sv[0], &h, 4), 4);
	cr_assert_eq(pthread_create(&th, NULL, recv_thread, &rc), 0);
	for (int i = 0; i < 10000 && pending; i++) {
		cr_assert_eq(ioctl(sv[1], FIONREAD, &pending), 0);
		if (pending)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	cr_assert_eq(pending, 0, "the receiver never read");
	struct dribble d = {sv[0], (uint8_t *)&h + 4, sizeof(h) - 4, fd};
	dribble_thread(&d);
	pthread_join(th, NULL);
	cr_assert_eq(rc.ret, -EPROTO);
	cr_assert_eq(count_fds(), before);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

UTest(frame, garbage_fuzz)
{
	/* Random bytes and random fd counts: never a crash, never a leak. */
	uint64_t x = 0x1234567;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	uint8_t buf[64];
	unsigned ok = 0;

	for (int it = 0; it < 300; it++) {
		size_t len;
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		struct raw_hdr h = {FRAME_MAGIC, 1, 2, (uint32_t)(x % 48), (uint32_t)(x >> 60) % 4};
		if (x % 3)
			memcpy(buf, &h, sizeof(h)); /* often a plausible header */
		len = (size_t)((x >> 8) % sizeof(buf));
		int r = recv_raw(buf, len, fd, (unsigned)(x >> 20) % 5, true);
		cr_assert(r == 0 || r == -EPROTO || r == -ECONNRESET, "iteration %d: %d", it, r);
		ok += r == 0;
	}
	cr_assert_gt(ok, 0);
	close(fd);
}
