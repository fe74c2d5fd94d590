/* The per-process directories: /proc/PID (a thread group), its task/
 * directory and /proc/PID/task/TID (one thread: the same files). Every
 * live thread group in the kernel's table is listed; a thread that is
 * not a leader is reachable as /proc/TID without being listed, as in
 * Linux. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

#define REG(n, m, fn) {.name = n, .mode = S_IFREG | (m), .show = fn}

/* The files of a process and of each of its threads, in Linux's order. */
#define PID_FILES                                                                  \
	REG("auxv", 0400, proc_pid_auxv),                                          \
	REG("cgroup", 0444, proc_pid_cgroup),                                      \
	{.name = "cmdline", .mode = S_IFREG | 0444, .pread = proc_pid_cmdline},    \
	{.name = "comm", .mode = S_IFREG | 0644, .show = proc_pid_comm,            \
	 .store = proc_pid_comm_store},                                            \
	{.name = "cwd", .mode = S_IFLNK | 0777, .readlink = proc_cwd_readlink,     \
	 .get_link = proc_cwd_get_link},                                           \
	{.name = "environ", .mode = S_IFREG | 0400, .pread = proc_pid_environ},    \
	{.name = "exe", .mode = S_IFLNK | 0777, .readlink = proc_exe_readlink,     \
	 .get_link = proc_exe_get_link},                                           \
	{.name = "fd", .mode = S_IFDIR | 0500, .dyn = &proc_fd_dyn},               \
	{.name = "fdinfo", .mode = S_IFDIR | 0555, .dyn = &proc_fdinfo_dyn},       \
	REG("limits", 0444, proc_pid_limits),                                      \
	REG("maps", 0444, proc_pid_maps),                                          \
	REG("mountinfo", 0444, proc_pid_mountinfo),                                \
	REG("mounts", 0444, proc_pid_mounts),                                      \
	REG("oom_score_adj", 0644, proc_pid_oom_score_adj),                        \
	{.name = "root", .mode = S_IFLNK | 0777, .readlink = proc_root_readlink,   \
	 .get_link = proc_root_get_link},                                          \
	REG("stat", 0444, proc_pid_stat),                                          \
	REG("statm", 0444, proc_pid_statm),                                        \
	REG("status", 0444, proc_pid_status)

static const struct synth_dyn task_dyn;

static const struct synth_entry tgid_children[] = {
	PID_FILES,
	{.name = "task", .mode = S_IFDIR | 0555, .dyn = &task_dyn},
	{0},
};

static const struct synth_entry tid_children[] = {
	PID_FILES,
	{0},
};

const struct synth_entry proc_tgid_entry = {
	.name = "pid", .mode = S_IFDIR | 0555, .children = tgid_children,
	.owner = proc_task_owner};
const struct synth_entry proc_tid_entry = {
	.name = "tid", .mode = S_IFDIR | 0555, .children = tid_children,
	.owner = proc_task_owner};

/* --- task/: the threads of the group --- */

static int task_next(struct inode *dir, uint64_t *key, char *name, size_t cap, unsigned *type)
{
	struct thread_group *tg;
	int64_t best = -1;

	if (!proc_lock(dir, &tg))
		return 0;
	for (struct task *t = tg->tasks; t; t = t->tg_next)
		if ((uint64_t)t->tid >= *key && (best < 0 || t->tid < best))
			best = t->tid;
	proc_unlock(tg);
	if (best < 0)
		return 0;
	*key = (uint64_t)best;
	snprintf(name, cap, "%d", (int)best);
	*type = DT_DIR;
	return 1;
}

static int task_lookup(struct inode *dir, const char *name, struct inode **out)
{
	int64_t tid = synth_parse_num(name, PID_MAX);
	int64_t id[SYNTH_NIDS] = {synth_id(dir, PROC_TGID), tid, 0};
	struct thread_group *tg;
	bool found = false;

	if (tid <= 0 || !proc_lock(dir, &tg))
		return -ENOENT;
	for (struct task *t = tg->tasks; t; t = t->tg_next)
		found |= t->tid == tid;
	proc_unlock(tg);
	if (!found)
		return -ENOENT;
	*out = synth_new_child(dir, name, &proc_tid_entry, id);
	return *out ? 0 : -ENOMEM;
}

static const struct synth_dyn task_dyn = {.next = task_next, .lookup = task_lookup};

/* --- the processes in /proc --- */

static int pids_next(struct inode *dir, uint64_t *key, char *name, size_t cap, unsigned *type)
{
	int best = -1;

	(void)dir;
	pthread_mutex_lock(&kernel.lock);
	for (int i = 0; i < kernel.ngroups; i++) {
		int pid = kernel.groups[i]->pid;
		if ((uint64_t)pid >= *key && (best < 0 || pid < best))
			best = pid;
	}
	pthread_mutex_unlock(&kernel.lock);
	if (best < 0)
		return 0;
	*key = (uint64_t)best;
	snprintf(name, cap, "%d", best);
	*type = DT_DIR;
	return 1;
}

/* The thread group that has a thread tid (a group's own pid included). */
static int group_of_tid(int tid)
{
	int tgid = -1;

	pthread_mutex_lock(&kernel.lock);
	for (int i = 0; i < kernel.ngroups && tgid < 0; i++) {
		struct thread_group *tg = kernel.groups[i];
		pthread_mutex_lock(&tg->lock);
		for (struct task *t = tg->tasks; t; t = t->tg_next)
			if (t->tid == tid)
				tgid = tg->pid;
		pthread_mutex_unlock(&tg->lock);
	}
	pthread_mutex_unlock(&kernel.lock);
	return tgid;
}

static int pids_lookup(struct inode *dir, const char *name, struct inode **out)
{
	int64_t pid = synth_parse_num(name, PID_MAX);
	int64_t id[SYNTH_NIDS] = {pid, 0, 0};
	struct thread_group *tg;

	if (pid <= 0)
		return -ENOENT;
	tg = kernel_find_group((int)pid);
	if (tg) {
		thread_group_put(tg);
	} else {
		/* A thread that does not lead its group: its own view. */
		int tgid = group_of_tid((int)pid);
		if (tgid < 0)
			return -ENOENT;
		id[PROC_TGID] = tgid;
		id[PROC_TID] = pid;
	}
	*out = synth_new_child(dir, name, &proc_tgid_entry, id);
	return *out ? 0 : -ENOMEM;
}

const struct synth_dyn proc_pids_dyn = {.next = pids_next, .lookup = pids_lookup};
