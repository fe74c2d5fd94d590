/* The control channel (DESIGN.md, "Sandbox lifecycle and the control
 * channel"): requests from a front end (runsc-c run, the OCI commands,
 * the library) to a running sentry. Frames are lib/frame.h; bodies use
 * lib/wire.h. Every request gets a reply with the request's type | CTL_REPLY
 * and seq; a reply body starts with an errno (0 for success) and a
 * message, then the payload. */
#ifndef RC_SENTRY_CONTROL_PROTO_H
#define RC_SENTRY_CONTROL_PROTO_H

enum ctl_type {
	/* argv (strv), envp (strv), program (str: a path, or a name to find
	 * on the environment's $PATH inside the sandbox), working directory
	 * (str, "" for "/"); fds: stdin, stdout, stderr, and optionally the
	 * program's host fd (then the program string is the path the
	 * program sees). Reply payload: pid (u32). */
	CTL_START = 1,
	/* pid (u32). Replied when the process exits: pid (u32), wait(2)
	 * status (u32). */
	CTL_WAIT = 2,
	/* pid (u32: 0 for every process, negative as i32 for a process
	 * group), signal (u32). */
	CTL_SIGNAL = 3,
	/* Reply payload: count (u32), then per process pid (u32), host pid
	 * of its stub (u32), command name (str). */
	CTL_STATE = 4,
	/* Kills every process; the sentry exits after replying. */
	CTL_SHUTDOWN = 5,
};

#define CTL_REPLY 0x80000000u
#define CTL_MAX_ARGS 65536
#define CTL_MAX_ARG_BYTES (8u << 20)
#define CTL_MAX_PATH 4096

#endif
