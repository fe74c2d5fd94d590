#ifndef RC_SENTRY_KERNEL_CLONE_H
#define RC_SENTRY_KERNEL_CLONE_H

#include <stdint.h>

struct task;

/* clone3's arguments, to which clone, fork and vfork reduce. */
struct clone_params {
	uint64_t flags;        /* CLONE_* (without the exit signal) */
	uint64_t exit_signal;
	uint64_t stack;        /* the child's stack pointer, or 0 */
	uint64_t tls;
	uint64_t parent_tid;   /* CLONE_PARENT_SETTID address */
	uint64_t child_tid;    /* CLONE_CHILD_SETTID / CLEARTID address */
};

/* Returns the child's tid, or -errno. */
long do_clone(struct task *t, const struct clone_params *cp);

#endif
