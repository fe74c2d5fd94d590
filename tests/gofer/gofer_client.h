/* A small client for the gofer tests: starts `runsc-c gofer` on a
 * socketpair and speaks the protocol to it, one request at a time. */
#ifndef RC_TESTS_GOFER_CLIENT_H
#define RC_TESTS_GOFER_CLIENT_H

#include <stdbool.h>
#include <sys/types.h>

#include "gofer/protocol.h"

struct gofer_proc {
	pid_t pid;
	int sock;        /* our end of the channel */
	int err_fd;      /* read end of the gofer's stderr */
	uint64_t next_id;
};

/* If set, the next gofer starts with this RLIMIT_NOFILE (soft and hard). */
extern unsigned gp_nofile;

/* Starts the gofer with these extra arguments (NULL-terminated) after
 * --fd. uid >= 0: drop to that user first (setresuid/setresgid). */
int gp_start(struct gofer_proc *g, const char *const *args, int uid);
/* One request; 0 and the reply (err may be set), or -errno if the
 * channel broke. */
int gp_call(struct gofer_proc *g, struct gofer_req *q, struct gofer_reply *r);
/* Sends raw bytes as one datagram. */
int gp_send_raw(struct gofer_proc *g, const void *buf, size_t len);
/* Closes our end and waits; returns the wait status. */
int gp_stop(struct gofer_proc *g);
/* Waits for the gofer to exit by itself (status), within a few seconds. */
int gp_wait(struct gofer_proc *g);
/* Everything the gofer wrote to stderr so far (malloc'd). */
char *gp_stderr(struct gofer_proc *g);

/* Helpers over gp_call that assert success. */
uint64_t gp_mount(struct gofer_proc *g, uint32_t index, struct gofer_attr *a);
/* Walk of one name: the node or 0 if missing; a holds its attributes. */
uint64_t gp_walk1(struct gofer_proc *g, uint64_t dir, const char *name, struct gofer_attr *a);
void gp_close(struct gofer_proc *g, uint64_t node);

/* The path of runsc-c (RUNSC_C in the environment). */
const char *gp_runsc(void);
/* A fresh temporary directory (malloc'd path). */
char *gp_tmpdir(void);
void gp_rmtree(const char *path);

#endif
