/* Exit: a thread leaves its group; the last one turns the group into a
 * zombie, hands its children to a new parent, and tells its own parent
 * (SIGCHLD, wait queue). Zombies are reaped by wait(2), or at once when
 * the parent does not wait for children. */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "sentry/kernel/cputime.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/pgrp.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/lock.h"
#include "sentry/vfs/vfs.h"

void thread_group_get(struct thread_group *tg) { atomic_fetch_add(&tg->refs, 1); }

void thread_group_exit(struct thread_group *tg, int wait_status)
{
	pthread_mutex_lock(&tg->lock);
	if (!tg->exiting) {
		tg->exiting = true;
		tg->exit_status = wait_status;
	}
	tg->stopped = false;
	for (struct task *t = tg->tasks; t; t = t->tg_next)
		task_kick(t);
	pthread_mutex_unlock(&tg->lock);
}

/* The robust futex list of a dying thread: every lock it held is marked
 * owner-died and one waiter woken (kernel/futex/core.c). Bounded. */
#define ROBUST_LIST_LIMIT 2048
#define FUTEX_OWNER_DIED_K 0x40000000u
#define FUTEX_WAITERS_K 0x80000000u
#define FUTEX_TID_MASK_K 0x3fffffffu

static void handle_robust_word(struct task *t, uint64_t uaddr, bool pending)
{
	uint32_t v, nv;

	if (copy_from_user(t, &v, uaddr, 4) < 0)
		return;
	/* The lock in flight (list_op_pending) and already released, the
	 * thread dying before its wake, or a woken waiter dying before it
	 * took the lock: wake one so the others do not sleep forever, as
	 * Linux's handle_futex_death does. */
	if (pending && v == 0) {
		do_futex(t, uaddr, FUTEX_WAKE, 1, 0, 0, 0);
		return;
	}
	if ((v & FUTEX_TID_MASK_K) != (uint32_t)t->tid)
		return;
	nv = (v & FUTEX_WAITERS_K) | FUTEX_OWNER_DIED_K;
	if (copy_to_user(t, uaddr, &nv, 4) < 0)
		return;
	if (v & FUTEX_WAITERS_K)
		do_futex(t, uaddr, FUTEX_WAKE, 1, 0, 0, 0);
}

static void exit_robust_list(struct task *t)
{
	struct {
		uint64_t next;
		int64_t futex_offset;
		uint64_t pending;
	} head;
	uint64_t entry, pending;

	if (!t->mm)
		return;
	if (!t->robust_list || copy_from_user(t, &head, t->robust_list, sizeof(head)) < 0)
		goto pi;
	/* Bit 0 of a link says the entry it points to is a PI futex. */
	entry = head.next;
	pending = head.pending & ~1ULL;
	for (int i = 0; (entry & ~1ULL) != t->robust_list && i < ROBUST_LIST_LIMIT; i++) {
		uint64_t next, at = entry & ~1ULL;
		if (copy_from_user(t, &next, at, 8) < 0)
			break;
		if (at != pending && (entry & 1))
			futex_robust_pi_death(t, at + (uint64_t)head.futex_offset);
		else if (at != pending)
			handle_robust_word(t, at + (uint64_t)head.futex_offset, false);
		entry = next;
	}
	if (pending && (head.pending & 1))
		futex_robust_pi_death(t, pending + (uint64_t)head.futex_offset);
	else if (pending)
		handle_robust_word(t, pending + (uint64_t)head.futex_offset, true);
pi:
	/* Then the PI locks it still holds go to their waiters, robust or
	 * not (Linux's exit_pi_state_list, after the robust list). */
	futex_exit_pi(t);
}

/* Unlinks tg from its parent's children (kernel.lock held). */
static void unlink_child(struct thread_group *tg)
{
	struct thread_group *p = tg->parent;
	if (!p)
		return;
	for (struct thread_group **pp = &p->children; *pp; pp = &(*pp)->sibling) {
		if (*pp == tg) {
			*pp = tg->sibling;
			break;
		}
	}
	tg->sibling = NULL;
}

void thread_group_reap_locked(struct thread_group *tg)
{
	struct thread_group *p = tg->parent;

	tg->state = TG_DEAD;
	if (p) {
		p->cutime_ns += tg->utime_ns + tg->cutime_ns;
		p->cstime_ns += tg->stime_ns + tg->cstime_ns;
	}
	unlink_child(tg);
	tg->parent = NULL;
	kernel_unhash_group_locked(tg);
}

/* The new parent for an orphan of dying: the nearest subreaper above it,
 * else the sandbox's init (kernel.lock held). */
static struct thread_group *new_parent(struct thread_group *dying)
{
	for (struct thread_group *p = dying->parent; p; p = p->parent)
		if (p->subreaper && p->state == TG_RUNNING && !p->exiting)
			return p;
	struct thread_group *init = kernel_find_group_locked(1);
	return init && init != dying && init->state == TG_RUNNING ? init : NULL;
}

static bool parent_ignores_children(struct thread_group *p)
{
	const struct k_sigaction *a = &p->sighand->actions[SIGCHLD];
	return a->handler == (uint64_t)(uintptr_t)SIG_IGN || (a->flags & SA_NOCLDWAIT);
}

/* Makes tg a zombie and tells its parent (kernel.lock held). Returns
 * true if nobody will wait for it: the caller reaps it. */
static bool become_zombie(struct thread_group *tg, int status)
{
	struct thread_group *p = tg->parent, *np;
	struct k_siginfo info;

	tg->state = TG_ZOMBIE;
	tg->exit_status = status;
	/* Orphans find a new parent; when init itself dies the sandbox's
	 * other processes die with it, as in a pid namespace. */
	np = new_parent(tg);
	while (tg->children) {
		struct thread_group *c = tg->children;
		tg->children = c->sibling;
		c->sibling = NULL;
		c->parent = np;
		c->ppid = np ? np->pid : 0;
		/* An adopted child tells its new parent with SIGCHLD, whatever
		 * it was to send the old one (reparent_leader). */
		c->exit_signal = SIGCHLD;
		if (np) {
			c->sibling = np->children;
			np->children = c;
			if (c->state == TG_ZOMBIE)
				waitq_wake(&np->child_wq, 0);
		}
		if (tg->is_init) {
			signal_send_tg(c, SIGKILL, NULL);
		} else if (c->state == TG_RUNNING) {
			pgrp_kill_orphaned_locked(c, tg);
			/* PR_SET_PDEATHSIG: to the process, as if the dying
			 * parent had sent it with kill(2). */
			struct k_siginfo di;
			memset(&di, 0, sizeof(di));
			di.si_code = K_SI_USER;
			di.kill.pid = tg->pid;
			di.kill.uid = tg->creds.ruid;
			for (struct task *x = c->tasks; x; x = x->tg_next)
				if (x->pdeathsig) {
					di.si_signo = x->pdeathsig;
					signal_send_tg(c, x->pdeathsig, &di);
				}
		}
		if (!np && c->state == TG_ZOMBIE)
			thread_group_reap_locked(c);
	}
	if (tg->is_init) {
		for (int i = 0; i < kernel.ngroups; i++)
			if (kernel.groups[i] != tg)
				signal_send_tg(kernel.groups[i], SIGKILL, NULL);
	}
	if (!tg->is_init)
		pgrp_kill_orphaned_locked(tg, NULL);
	if (!p)
		return true;
	if (tg->exit_signal > 0) {
		memset(&info, 0, sizeof(info));
		info.si_signo = tg->exit_signal;
		if (WIFEXITED(status)) {
			info.si_code = CLD_EXITED;
			info.chld.status = WEXITSTATUS(status);
		} else {
			info.si_code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
			info.chld.status = status & 0x7f;
		}
		info.chld.pid = tg->pid;
		info.chld.uid = tg->creds.ruid;
		info.chld.utime = (int64_t)(tg->utime_ns / 10000000);
		info.chld.stime = (int64_t)(tg->stime_ns / 10000000);
		signal_send_tg(p, tg->exit_signal, &info);
	}
	waitq_wake(&p->child_wq, 0);
	/* Only a SIGCHLD child is reaped for a parent that ignores them. */
	return tg->exit_signal == SIGCHLD && parent_ignores_children(p);
}

void task_exit(struct task *t)
{
	struct thread_group *tg = t->tg;
	bool last, reap = false;
	int status;

	/* What the thread leaves in its memory: robust futexes, the tid word
	 * of CLONE_CHILD_CLEARTID (and a wake for its joiner). */
	if (t->mm) {
		exit_robust_list(t);
		if (t->clear_child_tid) {
			uint32_t zero = 0;
			if (copy_to_user(t, t->clear_child_tid, &zero, 4) == 0)
				futex_wake_address(t, t->clear_child_tid);
		}
	}
	vfork_release(t);

	pthread_mutex_lock(&kernel.lock);
	pthread_mutex_lock(&tg->lock);
	for (struct task **p = &tg->tasks; *p; p = &(*p)->tg_next) {
		if (*p == t) {
			*p = t->tg_next;
			break;
		}
	}
	last = --tg->nr_tasks == 0;
	if (!tg->exiting && last) {
		tg->exiting = true;
		tg->exit_status = (t->exit_code & 0xff) << 8;
	}
	status = tg->exit_status;
	sigpending_clear(&t->pending);
	/* The other threads of an exiting group are on their way out. */
	for (struct task *x = tg->tasks; x; x = x->tg_next)
		task_kick(x);
	pthread_mutex_unlock(&tg->lock);
	pthread_mutex_unlock(&kernel.lock);

	cputime_task_exit(t, last);
	/* The host side: the stub thread (the whole stub with the last). */
	platform->ctx_free(t->ctx);
	t->ctx = NULL;
	if (t->kick_fd >= 0)
		close(t->kick_fd);
	vfs_locks_release_owner(t->fdt);
	fdtable_put(t->fdt);
	fs_context_put(t->fs);
	mm_put(t->mm);

	if (last) {
		timers_exit_group(tg); /* itimers and POSIX timers end here */
		pthread_mutex_lock(&kernel.lock);
		reap = become_zombie(tg, status);
		/* Record the exit for the control channel before the group can
		 * be reaped, so its waiter always finds one or the other. */
		if (kernel.on_exit && !tg->parent)
			kernel.on_exit(tg->pid, status, kernel.on_exit_arg);
		if (reap)
			thread_group_reap_locked(tg);
		pthread_mutex_unlock(&kernel.lock);
	}
	pthread_mutex_destroy(&t->block_lock);
	pthread_cond_destroy(&t->block_cond);
	thread_group_put(tg);
	free(t);
}
