/* The growable text buffer that synthetic files are generated into. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/fs/synth/synth.h"

/* Makes room for n more bytes (and a NUL); false after any failure. */
static bool reserve(struct synth_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return false;
	if (n > SYNTH_BUF_MAX || b->len + n > SYNTH_BUF_MAX) {
		b->err = -EFBIG;
		return false;
	}
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void synth_write(struct synth_buf *b, const void *p, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void synth_putc(struct synth_buf *b, char c) { synth_write(b, &c, 1); }

void synth_printf(struct synth_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void synth_write_escaped(struct synth_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			synth_printf(b, "\\%03o", (unsigned char)*s);
		else
			synth_putc(b, *s);
	}
}

void synth_buf_free(struct synth_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}
