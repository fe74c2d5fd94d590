/* Binary message encoding shared by the control channel and the gofer
 * protocol. Little-endian fixed-width integers and length-prefixed byte
 * strings. The decoder never reads past its buffer: every get reports
 * failure and latches an error, so a caller can decode a whole message and
 * check once. */
#ifndef RC_LIB_WIRE_H
#define RC_LIB_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wbuf {
	uint8_t *data;
	size_t len, cap;
	bool oom;
};

void wbuf_init(struct wbuf *w);
void wbuf_free(struct wbuf *w);
void wbuf_put_u32(struct wbuf *w, uint32_t v);
void wbuf_put_u64(struct wbuf *w, uint64_t v);
void wbuf_put_bytes(struct wbuf *w, const void *p, uint32_t n);
void wbuf_put_str(struct wbuf *w, const char *s);
/* A NULL-terminated string vector: count, then each string. */
void wbuf_put_strv(struct wbuf *w, char *const *v);

struct rbuf {
	const uint8_t *data;
	size_t len, pos;
	bool err;
};

void rbuf_init(struct rbuf *r, const void *data, size_t len);
bool rbuf_get_u32(struct rbuf *r, uint32_t *v);
bool rbuf_get_u64(struct rbuf *r, uint64_t *v);
/* Points into the buffer; *n is the length. */
bool rbuf_get_bytes(struct rbuf *r, const void **p, uint32_t *n);
/* Returns a malloc'd NUL-terminated copy; rejects embedded NULs and
 * strings longer than max. */
char *rbuf_get_str(struct rbuf *r, size_t max);
/* Returns a malloc'd NULL-terminated vector (free with strv_free). */
char **rbuf_get_strv(struct rbuf *r, uint32_t max_count, size_t max_total);
bool rbuf_done(const struct rbuf *r);

void strv_free(char **v);
/* A malloc'd copy of a NULL-terminated vector, or NULL. */
char **strv_copy(char *const *v);
size_t strv_len(char *const *v);

#endif
