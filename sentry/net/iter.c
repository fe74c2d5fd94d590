/* Moving message data between a socket and its caller: the
 * application's iovecs, or a sentry buffer. */
#include <errno.h>
#include <string.h>

#include "sentry/mm/mm.h"
#include "sentry/net/socket.h"
#include "sentry/vfs/rw.h"

void sock_iter_user(struct sock_iter *it, struct task *t, const struct uiovec *iov,
		    size_t nr, size_t count)
{
	memset(it, 0, sizeof(*it));
	it->t = t;
	it->iov = iov;
	it->nr = nr;
	it->count = count;
}

void sock_iter_kernel(struct sock_iter *it, void *buf, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->kbuf = buf;
	it->count = len;
}

/* Walks the next n bytes as pieces of the application's memory. */
static int walk(struct sock_iter *it, char *buf, size_t n, bool in)
{
	if (n > it->count)
		n = it->count;
	if (!it->t) {
		if (in)
			memcpy(buf, it->kbuf, n);
		else
			memcpy(it->kbuf, buf, n);
		it->kbuf += n;
		it->count -= n;
		return 0;
	}
	while (n) {
		const struct uiovec *v;
		size_t piece;
		int r;

		/* iovec_import trimmed the lengths to the total, so the
		 * vector cannot run out before count does. */
		while (it->idx < it->nr && it->off == it->iov[it->idx].len) {
			it->idx++;
			it->off = 0;
		}
		if (it->idx >= it->nr)
			return -EFAULT;
		v = &it->iov[it->idx];
		piece = v->len - it->off < n ? v->len - it->off : n;
		r = in ? copy_from_user(it->t, buf, v->base + it->off, piece)
		       : copy_to_user(it->t, v->base + it->off, buf, piece);
		if (r < 0)
			return -EFAULT;
		it->off += piece;
		it->count -= piece;
		buf += piece;
		n -= piece;
	}
	return 0;
}

int sock_iter_copy_in(struct sock_iter *it, void *dst, size_t n)
{
	return walk(it, dst, n, true);
}

int sock_iter_copy_out(struct sock_iter *it, const void *src, size_t n)
{
	return walk(it, (char *)src, n, false);
}
