/* Process groups as job control sees them: orphaned groups (POSIX
 * 2.2.2.52), which drop terminal stop signals and are told with SIGHUP
 * and SIGCONT when they are left with stopped members. */
#ifndef RC_SENTRY_KERNEL_PGRP_H
#define RC_SENTRY_KERNEL_PGRP_H

#include <stdbool.h>

struct thread_group;

/* Whether process group pgid is orphaned: no live member has a parent in
 * another group of the same session. ignore (may be NULL) is counted
 * out, as a process about to exit. kernel.lock held. */
bool pgrp_orphaned_locked(int pgid, const struct thread_group *ignore);

/* Linux's kill_orphaned_pgrp: when tg's exit (parent NULL) or the exit
 * of tg's parent (parent: the dying one) leaves tg's process group
 * orphaned with stopped members, the group gets SIGHUP then SIGCONT.
 * kernel.lock held. */
void pgrp_kill_orphaned_locked(struct thread_group *tg, struct thread_group *parent);

#endif
