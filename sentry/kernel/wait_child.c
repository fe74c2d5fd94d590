/* wait4 and waitid: collecting children's exits, stops and continues. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait_child.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Whether child c matches the selection (kernel.lock held). */
static bool matches(const struct thread_group *c, const struct wait_sel *w)
{
	/* A child whose exit signal is not SIGCHLD is a "clone" child: only
	 * __WCLONE waits for those, and only for those; __WALL for all. */
	if (!(w->options & __WALL) && ((c->exit_signal != SIGCHLD) != !!(w->options & __WCLONE)))
		return false;
	switch (w->idtype) {
	case P_ALL:
		return true;
	case P_PID:
		return c->pid == w->id;
	case P_PGID:
		return c->pgid == w->id;
	}
	return false;
}

static void fill(struct wait_result *res, struct thread_group *c, int code, int status)
{
	res->pid = c->pid;
	res->uid = c->creds.ruid;
	res->code = code;
	res->status = status;
	res->utime_ns = c->utime_ns + c->cutime_ns;
	res->stime_ns = c->stime_ns + c->cstime_ns;
}

/* Looks at every child once (kernel.lock held): 1 and res filled when one
 * has something to report, 0 when some match but none has, -ECHILD when
 * none matches. */
static int scan(struct thread_group *me, const struct wait_sel *w, struct wait_result *res)
{
	bool any = false;

	for (struct thread_group *c = me->children; c; c = c->sibling) {
		if (!matches(c, w))
			continue;
		any = true;
		if (c->state == TG_ZOMBIE && (w->options & WEXITED)) {
			int st = c->exit_status;
			if (WIFEXITED(st))
				fill(res, c, CLD_EXITED, WEXITSTATUS(st));
			else
				fill(res, c, (st & 0x80) ? CLD_DUMPED : CLD_KILLED, st & 0x7f);
			res->wstatus = st;
			if (!(w->options & WNOWAIT))
				thread_group_reap_locked(c);
			return 1;
		}
		pthread_mutex_lock(&c->lock);
		if (c->report_stop && c->stopped && (w->options & WSTOPPED)) {
			fill(res, c, CLD_STOPPED, c->stop_sig);
			res->wstatus = (c->stop_sig << 8) | 0x7f;
			if (!(w->options & WNOWAIT))
				c->report_stop = false;
			pthread_mutex_unlock(&c->lock);
			return 1;
		}
		if (c->report_cont && (w->options & WCONTINUED)) {
			fill(res, c, CLD_CONTINUED, SIGCONT);
			res->wstatus = 0xffff;
			if (!(w->options & WNOWAIT))
				c->report_cont = false;
			pthread_mutex_unlock(&c->lock);
			return 1;
		}
		pthread_mutex_unlock(&c->lock);
	}
	return any ? 0 : -ECHILD;
}

int do_wait(struct task *t, const struct wait_sel *w, struct wait_result *res)
{
	struct thread_group *me = t->tg;
	struct wq_entry e;
	int r;

	memset(res, 0, sizeof(*res));
	wq_entry_init(&e, t);
	for (;;) {
		task_prepare_block(t);
		waitq_add(&me->child_wq, &e);
		pthread_mutex_lock(&kernel.lock);
		r = scan(me, w, res);
		pthread_mutex_unlock(&kernel.lock);
		if (r != 0 || (w->options & WNOHANG)) {
			waitq_remove(&e);
			return r;
		}
		r = task_block(t, 0);
		waitq_remove(&e);
		if (r < 0)
			return r == -EINTR ? -ERESTARTSYS : r;
	}
}
