#include "sentry/kernel/pgrp.h"

#include <signal.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

bool pgrp_orphaned_locked(int pgid, const struct thread_group *ignore)
{
	for (int i = 0; i < kernel.ngroups; i++) {
		struct thread_group *g = kernel.groups[i], *p = g->parent;

		if (g->pgid != pgid || g == ignore || g->state != TG_RUNNING)
			continue;
		/* A process the control channel started has its parent
		 * outside the sandbox, as a container's init. */
		if (p && p->pgid != pgid && p->sid == g->sid)
			return false;
	}
	return true;
}

static bool has_stopped_locked(int pgid)
{
	for (int i = 0; i < kernel.ngroups; i++) {
		struct thread_group *g = kernel.groups[i];
		if (g->pgid == pgid && g->state == TG_RUNNING && g->stopped)
			return true;
	}
	return false;
}

void pgrp_kill_orphaned_locked(struct thread_group *tg, struct thread_group *parent)
{
	const struct thread_group *ignore = NULL;
	int pgid = tg->pgid;

	if (!parent) {
		/* tg itself is leaving: its parent linked the group. */
		parent = tg->parent;
		ignore = tg;
	}
	if (!parent || parent->sid != tg->sid || parent->pgid == pgid)
		return;
	if (!pgrp_orphaned_locked(pgid, ignore) || !has_stopped_locked(pgid))
		return;
	for (int i = 0; i < kernel.ngroups; i++)
		if (kernel.groups[i]->pgid == pgid && kernel.groups[i]->state == TG_RUNNING)
			signal_send_tg(kernel.groups[i], SIGHUP, NULL);
	for (int i = 0; i < kernel.ngroups; i++)
		if (kernel.groups[i]->pgid == pgid && kernel.groups[i]->state == TG_RUNNING)
			signal_send_tg(kernel.groups[i], SIGCONT, NULL);
}
