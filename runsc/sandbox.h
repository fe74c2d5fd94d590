/* A front end's handle on a sandbox: the gofer and sentry processes it
 * started and the control channel to the sentry. */
#ifndef RC_RUNSC_SANDBOX_H
#define RC_RUNSC_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/wire.h"

/* A mount the front end asks for (--mount, --tmpfs). */
struct sandbox_mount {
	enum { SANDBOX_BIND, SANDBOX_TMPFS } kind;
	const char *src;      /* SANDBOX_BIND: host path */
	const char *dst;      /* absolute path in the sandbox */
	bool readonly;
	uint64_t size;        /* SANDBOX_TMPFS: bytes, 0 for no limit */
};

struct sandbox_config {
	const char *platform;
	const char *hostname;
	bool strace;
	bool debug;
	bool syscall_patching; /* systrap: patch syscall sites */
	const char *root;     /* host directory the sandbox sees as "/" */
	bool overlay;         /* writes to the root stay in memory (else read-only) */
	struct sandbox_mount *mounts;
	int nmounts;
};

struct sandbox {
	pid_t sentry;
	pid_t gofer;
	int ctl;
	uint32_t seq;
};

/* Starts the gofer (serving cfg->root as mount 0 and the bind mounts as
 * 1..n, in order) and the sentry, joined by a socketpair. Returns 0 or
 * -errno (with a message printed). */
int sandbox_start(struct sandbox *sb, const struct sandbox_config *cfg);

/* Sends a request; returns its seq or -errno. */
int sandbox_send(struct sandbox *sb, uint32_t type, const struct wbuf *body,
		 const int *fds, unsigned nfds);

struct ctl_reply {
	uint32_t type, seq;
	int err;
	char *msg;
	uint8_t *payload; /* malloc'd body; rd reads the payload */
	struct rbuf rd;
};

/* Reads one reply; returns 0, or -errno if the channel broke. */
int sandbox_recv(struct sandbox *sb, struct ctl_reply *r);
void ctl_reply_free(struct ctl_reply *r);

/* Waits for the sentry to end (after its channel broke) and returns its
 * wait status. */
int sandbox_wait_sentry(struct sandbox *sb);

/* Closes the channel and reaps the sentry, then the gofer (which exits
 * when the sentry's end of its channel closes). */
void sandbox_close(struct sandbox *sb);

#endif
