/* Reaching a task's state from procfs, which runs on the reader's
 * thread: the thread group by pid (referenced), the task under the
 * group's lock, and references to its mm, fd table and fs context taken
 * before the lock is dropped (task_exit unlinks a task under that lock
 * before it drops them). */
#include <errno.h>
#include <pthread.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/vfs.h"

static struct task *find_task(struct thread_group *tg, int tid)
{
	struct task *first = NULL;

	for (struct task *t = tg->tasks; t; t = t->tg_next) {
		if (tid ? t->tid == tid : t->tid == tg->pid)
			return t;
		if (!first)
			first = t;
	}
	return tid ? NULL : first;
}

struct task *proc_lock(struct inode *in, struct thread_group **tgp)
{
	int64_t pid = synth_id(in, PROC_TGID), tid = synth_id(in, PROC_TID);
	struct thread_group *tg;
	struct task *t;

	if (pid <= 0 || pid >= PID_MAX || tid < 0 || tid >= PID_MAX)
		return NULL;
	tg = kernel_find_group((int)pid);
	if (!tg)
		return NULL;
	pthread_mutex_lock(&tg->lock);
	t = find_task(tg, (int)tid);
	if (!t) {
		pthread_mutex_unlock(&tg->lock);
		thread_group_put(tg);
		return NULL;
	}
	*tgp = tg;
	return t;
}

void proc_unlock(struct thread_group *tg)
{
	pthread_mutex_unlock(&tg->lock);
	thread_group_put(tg);
}

struct mm *proc_get_mm(struct inode *in)
{
	struct thread_group *tg;
	struct task *t = proc_lock(in, &tg);
	struct mm *mm = NULL;

	if (!t)
		return NULL;
	/* exec swaps t->mm on the task's own thread; see the report on
	 * taking tg->lock there. */
	mm = t->mm;
	if (mm)
		mm_get(mm);
	proc_unlock(tg);
	return mm;
}

struct fdtable *proc_get_fdt(struct inode *in)
{
	struct thread_group *tg;
	struct task *t = proc_lock(in, &tg);
	struct fdtable *fdt = NULL;

	if (!t)
		return NULL;
	fdt = t->fdt;
	if (fdt)
		atomic_fetch_add(&fdt->refs, 1);
	proc_unlock(tg);
	return fdt;
}

struct fs_context *proc_get_fs(struct inode *in)
{
	struct thread_group *tg;
	struct task *t = proc_lock(in, &tg);
	struct fs_context *fs = NULL;

	if (!t)
		return NULL;
	fs = t->fs;
	if (fs)
		atomic_fetch_add(&fs->refs, 1);
	proc_unlock(tg);
	return fs;
}

int proc_shown_tid(struct inode *in, struct task *t)
{
	return synth_id(in, PROC_TID) ? t->tid : t->tg->pid;
}

bool proc_task_owner(struct inode *in, uint32_t *uid, uint32_t *gid)
{
	struct thread_group *tg;
	struct task *t = proc_lock(in, &tg);

	if (!t)
		return false;
	*uid = tg->creds.euid;
	*gid = tg->creds.egid;
	proc_unlock(tg);
	return true;
}

void proc_reader_root(struct path *root)
{
	struct task *t = current;

	if (t && t->fs) {
		pthread_mutex_lock(&t->fs->lock);
		path_copy(root, &t->fs->root);
		pthread_mutex_unlock(&t->fs->lock);
	} else {
		vfs_root(root);
	}
}

int proc_path_text(const struct path *p, char *buf, size_t len)
{
	struct path root;
	int r;

	proc_reader_root(&root);
	if (!root.mnt)
		return -ENOENT;
	r = vfs_path_string(&root, p, buf, len);
	path_put(&root);
	return r;
}
