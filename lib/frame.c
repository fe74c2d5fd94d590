#include "lib/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct frame_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t seq;
	uint32_t len;
	uint32_t nfds;
};

int frame_send(int sock, uint32_t type, uint32_t seq, const void *body,
	       size_t len, const int *fds, unsigned nfds)
{
	struct frame_hdr h = {FRAME_MAGIC, type, seq, (uint32_t)len, nfds};
	union {
		char buf[CMSG_SPACE(sizeof(int) * FRAME_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)body, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	size_t total = sizeof(h) + len, sent = 0;

	if (len > FRAME_MAX_BODY || nfds > FRAME_MAX_FDS)
		return -EMSGSIZE;
	if (nfds) {
		struct cmsghdr *c;
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (sent < total) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		sent += (size_t)n;
		/* The rest goes without the fds, which rode on the first byte. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0 && mh.msg_iovlen) {
			if ((size_t)n >= mh.msg_iov->iov_len) {
				n -= (ssize_t)mh.msg_iov->iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
				mh.msg_iov->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}

static int read_full(int sock, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(sock, (char *)buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPROTO; /* truncated frame */
		got += (size_t)n;
	}
	return 0;
}

int frame_recv(int sock, struct frame *f)
{
	struct frame_hdr h;
	union {
		char buf[CMSG_SPACE(sizeof(int) * FRAME_MAX_FDS)];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
	ssize_t n;
	int ret;

	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < FRAME_MAX_FDS; i++)
		f->fds[i] = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *p = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < cnt; i++) {
			if (f->nfds < FRAME_MAX_FDS)
				f->fds[f->nfds++] = p[i];
			else
				close(p[i]);
		}
	}
	ret = -EPROTO;
	if (mh.msg_flags & MSG_CTRUNC)
		goto bad;
	if ((size_t)n < sizeof(h) && read_full(sock, (char *)&h + n, sizeof(h) - (size_t)n))
		goto bad;
	if (h.magic != FRAME_MAGIC || h.len > FRAME_MAX_BODY || h.nfds != f->nfds)
		goto bad;
	f->type = h.type;
	f->seq = h.seq;
	f->len = h.len;
	if (h.len) {
		f->body = malloc(h.len);
		if (!f->body) {
			ret = -ENOMEM;
			goto bad;
		}
		ret = read_full(sock, f->body, h.len);
		if (ret)
			goto bad;
	}
	return 0;
bad:
	frame_release(f);
	return ret;
}

void frame_release(struct frame *f)
{
	free(f->body);
	f->body = NULL;
	for (unsigned i = 0; i < f->nfds; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	f->nfds = 0;
}
