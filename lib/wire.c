#include "lib/wire.h"

#include <stdlib.h>
#include <string.h>

void wbuf_init(struct wbuf *w) { memset(w, 0, sizeof(*w)); }

void wbuf_free(struct wbuf *w)
{
	free(w->data);
	wbuf_init(w);
}

static bool wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (w->oom)
		return false;
	if (w->len + n <= w->cap)
		return true;
	cap = w->cap ? w->cap : 256;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->data, cap);
	if (!p) {
		w->oom = true;
		return false;
	}
	w->data = p;
	w->cap = cap;
	return true;
}

static void wbuf_append(struct wbuf *w, const void *p, size_t n)
{
	if (!wbuf_reserve(w, n))
		return;
	if (n)
		memcpy(w->data + w->len, p, n);
	w->len += n;
}

void wbuf_put_u32(struct wbuf *w, uint32_t v) { wbuf_append(w, &v, 4); }
void wbuf_put_u64(struct wbuf *w, uint64_t v) { wbuf_append(w, &v, 8); }

void wbuf_put_bytes(struct wbuf *w, const void *p, uint32_t n)
{
	wbuf_put_u32(w, n);
	wbuf_append(w, p, n);
}

void wbuf_put_str(struct wbuf *w, const char *s)
{
	wbuf_put_bytes(w, s, (uint32_t)strlen(s));
}

void wbuf_put_strv(struct wbuf *w, char *const *v)
{
	uint32_t n = 0;
	while (v && v[n])
		n++;
	wbuf_put_u32(w, n);
	for (uint32_t i = 0; i < n; i++)
		wbuf_put_str(w, v[i]);
}

void rbuf_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->err = false;
}

static bool rbuf_take(struct rbuf *r, void *out, size_t n)
{
	if (r->err || r->len - r->pos < n) {
		r->err = true;
		return false;
	}
	memcpy(out, r->data + r->pos, n);
	r->pos += n;
	return true;
}

bool rbuf_get_u32(struct rbuf *r, uint32_t *v) { return rbuf_take(r, v, 4); }
bool rbuf_get_u64(struct rbuf *r, uint64_t *v) { return rbuf_take(r, v, 8); }

bool rbuf_get_bytes(struct rbuf *r, const void **p, uint32_t *n)
{
	if (!rbuf_get_u32(r, n))
		return false;
	if (r->len - r->pos < *n) {
		r->err = true;
		return false;
	}
	*p = r->data + r->pos;
	r->pos += *n;
	return true;
}

char *rbuf_get_str(struct rbuf *r, size_t max)
{
	const void *p;
	uint32_t n;
	char *s;

	if (!rbuf_get_bytes(r, &p, &n))
		return NULL;
	if (n > max || memchr(p, 0, n)) {
		r->err = true;
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s) {
		r->err = true;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

char **rbuf_get_strv(struct rbuf *r, uint32_t max_count, size_t max_total)
{
	uint32_t n;
	size_t total = 0;
	char **v;

	if (!rbuf_get_u32(r, &n))
		return NULL;
	if (n > max_count) {
		r->err = true;
		return NULL;
	}
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		r->err = true;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		/* max_total counts each string with its NUL. */
		v[i] = total < max_total ? rbuf_get_str(r, max_total - total - 1) : NULL;
		if (!v[i]) {
			strv_free(v);
			r->err = true;
			return NULL;
		}
		total += strlen(v[i]) + 1;
	}
	return v;
}

bool rbuf_done(const struct rbuf *r) { return !r->err && r->pos == r->len; }

void strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

char **strv_copy(char *const *v)
{
	size_t n = strv_len(v);
	char **c = calloc(n + 1, sizeof(*c));

	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			strv_free(c);
			return NULL;
		}
	}
	return c;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}
