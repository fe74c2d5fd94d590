/* fork, vfork, clone and clone3. A new process gets a copy of the
 * caller's address space by forking the stub (the host copies pages on
 * write), and copies or shares of its files, filesystem context and
 * signal handlers as the flags say; a new thread is a new stub thread in
 * the same address space. Each new task runs on a sentry thread of its
 * own. */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "sentry/kernel/clone.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/vfs.h"

#define CSIGNAL_MASK 0xff
#define CAP_SYS_ADMIN_K 21
#define CAP_SYS_RESOURCE_K 24
#define KNOWN_FLAGS                                                            \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_PIDFD |     \
	 CLONE_PTRACE | CLONE_VFORK | CLONE_PARENT | CLONE_THREAD |            \
	 CLONE_NEWNS | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |    \
	 CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_UNTRACED |              \
	 CLONE_CHILD_SETTID | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |  \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_IO)
#define NS_FLAGS                                                               \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* Shared by a vfork parent and child; the waiter pointer is only used
 * under vfork_lock, and cleared by the parent when it stops waiting. */
struct vfork_done {
	atomic_int refs;
	bool done;
	struct task *waiter;
};

static pthread_mutex_t vfork_lock = PTHREAD_MUTEX_INITIALIZER;

static void vfork_put(struct vfork_done *v)
{
	if (v && atomic_fetch_sub(&v->refs, 1) == 1)
		free(v);
}

void vfork_release(struct task *t)
{
	struct vfork_done *v = t->vfork;

	if (!v)
		return;
	t->vfork = NULL;
	pthread_mutex_lock(&vfork_lock);
	v->done = true;
	if (v->waiter)
		task_wake(v->waiter);
	pthread_mutex_unlock(&vfork_lock);
	vfork_put(v);
}

struct child_start {
	struct task *t;
	struct platform_child *pc;
	struct user_regs_struct regs;
	uint64_t child_settid;   /* CLONE_CHILD_SETTID address, or 0 */
};

int task_spawn_thread(struct task *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t->thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return -r;
}

/* The new task's sentry thread: adopt the stub thread, then run. */
static void *child_main(void *arg)
{
	struct child_start *cs = arg;
	struct task *t = cs->t;
	int r;

	current = t;
	r = platform->child_adopt(cs->pc, &t->ctx);
	if (r < 0) {
		log_warn("task %d: cannot start: %s", t->tid, strerror(-r));
		t->ctx = NULL;
		thread_group_exit(t->tg, SIGKILL);
	} else {
		t->ctx->regs = cs->regs;
		if (!t->mm->as)
			t->mm->as = t->ctx->as; /* a forked address space */
		if (cs->child_settid) {
			uint32_t tid = (uint32_t)t->tid;
			copy_to_user(t, cs->child_settid, &tid, sizeof(tid));
		}
	}
	free(cs);
	if (r == 0)
		task_run(t);
	task_exit(t);
	return NULL;
}

static struct thread_group *new_group(struct task *parent, int pid, int exit_signal)
{
	struct thread_group *p = parent->tg, *tg = calloc(1, sizeof(*tg));

	if (!tg)
		return NULL;
	pthread_mutex_init(&tg->lock, NULL);
	atomic_init(&tg->refs, 1);
	waitq_init(&tg->child_wq);
	waitq_init(&tg->signal_wq);
	tg->pid = pid;
	tg->exit_signal = exit_signal;
	pthread_mutex_lock(&p->lock);
	tg->pgid = p->pgid;
	tg->sid = p->sid;
	memcpy(tg->rlimits, p->rlimits, sizeof(tg->rlimits));
	tg->creds = p->creds;
	tg->dumpable = p->dumpable;
	pthread_mutex_unlock(&p->lock);
	tg->creds.groups = NULL;
	if (p->creds.ngroups) {
		tg->creds.groups = malloc(p->creds.ngroups * sizeof(uint32_t));
		if (!tg->creds.groups) {
			free(tg);
			return NULL;
		}
		memcpy(tg->creds.groups, p->creds.groups, p->creds.ngroups * sizeof(uint32_t));
	}
	return tg;
}

static struct sighand *copy_sighand(struct sighand *from)
{
	struct sighand *sh = sighand_new();
	if (!sh)
		return NULL;
	pthread_mutex_lock(&from->lock);
	memcpy(sh->actions, from->actions, sizeof(sh->actions));
	pthread_mutex_unlock(&from->lock);
	return sh;
}

/* Number of processes of the real uid (for RLIMIT_NPROC). */
static int count_user_procs(uint32_t uid)
{
	int n = 0;
	for (int i = 0; i < kernel.ngroups; i++)
		if (kernel.groups[i]->state == TG_RUNNING && kernel.groups[i]->creds.ruid == uid)
			n += kernel.groups[i]->nr_tasks;
	return n;
}

long do_clone(struct task *t, const struct clone_params *cp)
{
	uint64_t flags = cp->flags;
	bool thread = flags & CLONE_THREAD, share_vm = flags & CLONE_VM;
	struct child_start *cs = NULL;
	struct task *c = NULL;
	struct thread_group *tg = NULL;
	int tid, r;

	if (flags & ~(uint64_t)KNOWN_FLAGS)
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CLONE_FS) && (flags & CLONE_NEWNS))
		return -EINVAL;
	if ((flags & CLONE_PARENT) && t->tg->is_init && !thread)
		return -EINVAL;
	if (flags & NS_FLAGS)
		return -EPERM; /* no nested namespaces in the sandbox */
	if (flags & CLONE_PIDFD)
		return -EINVAL; /* pidfds are not offered yet */
	if (cp->exit_signal > KSIG_MAX)
		return -EINVAL;

	/* RLIMIT_NPROC holds for the caller's real uid, except for root's
	 * and for a caller with CAP_SYS_RESOURCE or CAP_SYS_ADMIN
	 * (copy_process). */
	pthread_mutex_lock(&kernel.lock);
	if (t->tg->creds.ruid != 0 && !creds_capable(&t->tg->creds, CAP_SYS_RESOURCE_K) &&
	    !creds_capable(&t->tg->creds, CAP_SYS_ADMIN_K) &&
	    (uint64_t)count_user_procs(t->tg->creds.ruid) >= t->tg->rlimits[RLIMIT_NPROC].cur) {
		pthread_mutex_unlock(&kernel.lock);
		return -EAGAIN;
	}
	pthread_mutex_unlock(&kernel.lock);

	tid = kernel_alloc_pid();
	if (tid < 0)
		return tid;
	c = calloc(1, sizeof(*c));
	cs = calloc(1, sizeof(*cs));
	if (!c || !cs) {
		r = -ENOMEM;
		goto fail;
	}
	c->tid = tid;
	c->kick_fd = -1;
	r = task_init_blocking(c);
	if (r < 0)
		goto fail;
	memcpy(c->comm, t->comm, sizeof(c->comm));
	c->sigmask = t->sigmask;
	c->sigaltstack_sp = t->sigaltstack_sp;
	c->sigaltstack_size = t->sigaltstack_size;
	c->sigaltstack_flags = t->sigaltstack_flags;
	c->no_new_privs = t->no_new_privs;
	c->sched = t->sched; /* nice, policy and affinity are inherited */
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = cp->child_tid;

	/* Files, filesystem context. */
	if (flags & CLONE_FILES) {
		atomic_fetch_add(&t->fdt->refs, 1);
		c->fdt = t->fdt;
	} else {
		c->fdt = fdtable_copy(t->fdt);
	}
	if (flags & CLONE_FS) {
		atomic_fetch_add(&t->fs->refs, 1);
		c->fs = t->fs;
	} else {
		c->fs = fs_context_copy(t->fs);
	}
	if (!c->fdt || !c->fs) {
		r = -ENOMEM;
		goto fail;
	}

	/* The address space: shared, or a forked copy. */
	if (share_vm) {
		mm_get(t->mm);
		c->mm = t->mm;
		r = platform->thread_new(t->ctx, &cs->pc);
	} else {
		r = mm_fork(t->mm, t->ctx, &cs->pc, &c->mm);
	}
	if (r < 0)
		goto fail;

	/* The thread group: the caller's, or a new process. */
	if (thread) {
		tg = t->tg;
		thread_group_get(tg);
	} else {
		/* A CLONE_PARENT sibling sends what the caller sends; legacy
		 * clone ignores the exit signal given with it (copy_process). */
		int esig = (flags & CLONE_PARENT) ? t->tg->exit_signal : (int)cp->exit_signal;
		tg = new_group(t, tid, esig);
		if (!tg) {
			r = -ENOMEM;
			goto fail;
		}
		tg->sighand = (flags & CLONE_SIGHAND) ? t->tg->sighand : copy_sighand(t->tg->sighand);
		if (!tg->sighand) {
			r = -ENOMEM;
			goto fail;
		}
		if (flags & CLONE_SIGHAND)
			atomic_fetch_add(&tg->sighand->refs, 1);
	}
	c->tg = tg;

	/* The child's registers: the caller's at the call, returning 0. */
	cs->t = c;
	cs->regs = t->ctx->regs;
	cs->regs.rax = 0;
	cs->regs.orig_rax = (uint64_t)-1;
	if (cp->stack)
		cs->regs.rsp = cp->stack;
	if (flags & CLONE_SETTLS)
		cs->regs.fs_base = cp->tls;
	if (flags & CLONE_CHILD_SETTID)
		cs->child_settid = cp->child_tid;

	if ((flags & CLONE_PARENT_SETTID) && cp->parent_tid) {
		uint32_t v = (uint32_t)tid;
		if (copy_to_user(t, cp->parent_tid, &v, sizeof(v)) < 0) {
			r = -EFAULT;
			goto fail;
		}
	}

	/* Link it in. */
	pthread_mutex_lock(&kernel.lock);
	if (thread) {
		pthread_mutex_lock(&tg->lock);
		if (tg->exiting) {
			pthread_mutex_unlock(&tg->lock);
			pthread_mutex_unlock(&kernel.lock);
			r = -EINTR;
			goto fail;
		}
		c->tg_next = tg->tasks;
		tg->tasks = c;
		tg->nr_tasks++;
		pthread_mutex_unlock(&tg->lock);
	} else {
		struct thread_group *parent = (flags & CLONE_PARENT) ? t->tg->parent : t->tg;
		tg->parent = parent;
		tg->ppid = parent ? parent->pid : 0;
		if (parent) {
			tg->sibling = parent->children;
			parent->children = tg;
		}
		tg->nr_tasks = 1;
		tg->tasks = c;
		r = kernel_add_group_locked(tg);
		if (r < 0) {
			if (parent)
				parent->children = tg->sibling;
			pthread_mutex_unlock(&kernel.lock);
			goto fail;
		}
	}
	pthread_mutex_unlock(&kernel.lock);

	struct vfork_done *vd = NULL;
	if (flags & CLONE_VFORK) {
		vd = calloc(1, sizeof(*vd));
		if (vd) {
			atomic_init(&vd->refs, 2);
			vd->waiter = t;
			c->vfork = vd;
		}
	}
	r = task_spawn_thread(c, child_main, cs);
	if (r < 0) {
		/* The child is linked but cannot run: let it exit at once. */
		log_warn("cannot start a thread for task %d: %s", tid, strerror(-r));
		platform->child_abandon(cs->pc);
		free(cs);
		c->ctx = NULL;
		task_exit(c);
		vfork_put(vd);
		return r;
	}
	/* vfork: the parent waits until the child execs or exits. Signals do
	 * not end the wait (Linux waits killably); our group dying does. */
	if (vd) {
		for (;;) {
			bool done;
			task_prepare_block(t);
			pthread_mutex_lock(&vfork_lock);
			done = vd->done;
			pthread_mutex_unlock(&vfork_lock);
			if (done || t->tg->exiting || atomic_load(&t->exiting))
				break;
			task_block(t, monotonic_ns() + 100000000ULL);
		}
		pthread_mutex_lock(&vfork_lock);
		vd->waiter = NULL;
		pthread_mutex_unlock(&vfork_lock);
		vfork_put(vd);
	}
	return tid;
fail:
	if (cs && cs->pc)
		platform->child_abandon(cs->pc);
	free(cs);
	if (c) {
		if (c->fdt)
			fdtable_put(c->fdt);
		fs_context_put(c->fs);
		mm_put(c->mm);
		if (c->kick_fd >= 0)
			close(c->kick_fd);
		free(c);
	}
	thread_group_put(tg);
	return r;
}
