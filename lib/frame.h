/* Framed messages on a unix stream socket: a fixed header, a body of at
 * most FRAME_MAX_BODY bytes, and up to FRAME_MAX_FDS file descriptors
 * carried with the header by SCM_RIGHTS. Used by the control channel.
 * A frame that breaks these rules is a protocol error: the receiver closes
 * the connection and never trusts a partial frame. */
#ifndef RC_LIB_FRAME_H
#define RC_LIB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC 0x52435346u /* "RCSF" */
#define FRAME_MAX_BODY (16u << 20)
#define FRAME_MAX_FDS 16

struct frame {
	uint32_t type;
	uint32_t seq;
	uint8_t *body; /* malloc'd, NULL if len == 0 */
	uint32_t len;
	int fds[FRAME_MAX_FDS];
	unsigned nfds;
};

/* Returns 0 or -errno. */
int frame_send(int sock, uint32_t type, uint32_t seq, const void *body,
	       size_t len, const int *fds, unsigned nfds);
/* Returns 0, -ECONNRESET at a clean end of stream, -EPROTO for a frame
 * that breaks the rules (fds received with it are closed), or -errno. */
int frame_recv(int sock, struct frame *f);
/* Frees the body and closes any fds still held (set to -1 to keep one). */
void frame_release(struct frame *f);

#endif
