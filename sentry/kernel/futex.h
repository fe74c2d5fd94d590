#ifndef RC_SENTRY_KERNEL_FUTEX_H
#define RC_SENTRY_KERNEL_FUTEX_H

#include <stdint.h>

struct task;

/* futex(2): op with its flags; returns a value or -errno. */
long do_futex(struct task *t, uint64_t uaddr, int op, uint32_t val, uint64_t utimeout,
	      uint64_t uaddr2, uint32_t val3);
/* Wakes one waiter on a shared-keyed address (CLONE_CHILD_CLEARTID). */
long futex_wake_address(struct task *t, uint64_t uaddr);
/* A dying thread's robust list names a PI futex at uaddr: if t owns it,
 * the word is marked FUTEX_OWNER_DIED (futex_exit_pi passes it on). */
void futex_robust_pi_death(struct task *t, uint64_t uaddr);
/* A thread exits: every PI lock it holds that has waiters goes to the
 * oldest waiter, marked FUTEX_OWNER_DIED (Linux's exit_pi_state_list). */
void futex_exit_pi(struct task *t);

#endif
