/* Task lifecycle and the run loop: switch into the application, handle
 * what stopped it, repeat. */
#include "sentry/kernel/task.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/wire.h"
#include "sentry/fs/host_file.h"
#include "sentry/kernel/cputime.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/patch.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

__thread struct task *current;

void task_kick(struct task *t)
{
	task_wake(t);
	if (t->ctx)
		platform->ctx_interrupt(t->ctx);
}

void task_run(struct task *t)
{
	struct ctx_stop_info info;
	const bool patching = mm_patch_enabled();

	cputime_task_start(t);
	for (;;) {
		/* Signals, restarts and job control before every return to the
		 * application; false when the task must exit. */
		if (!signal_deliver(t))
			return;
		switch (platform->ctx_switch(t->ctx, &info)) {
		case CTX_SYSCALL:
			if (patching)
				mm_patch_syscall(t);
			syscall_dispatch(t);
			break;
		case CTX_FAULT:
			if (patching && mm_patch_fixup(t, &info))
				break;
			signal_force_fault(t, &info);
			break;
		case CTX_INTERRUPT:
			if (patching)
				mm_patch_unwind(t);
			break;
		case CTX_DEAD:
			log_warn("task %d: its stub process died", t->tid);
			thread_group_exit(t->tg, SIGKILL);
			return;
		}
	}
}

struct start_sync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int result;
	char err[512];
	const struct start_request *req;
	struct task *t;
};

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Finds the program of a start request in the sandbox, as a shell would:
 * a name with a slash as is, else each $PATH entry in turn. */
static int find_program(struct task *t, const struct start_request *req, struct file **exe,
			char *err, size_t errlen)
{
	const char *path = NULL, *name = req->filename;
	int r, saved = -ENOENT;

	if (strchr(name, '/')) {
		r = exec_open(t, name, exe);
		if (r < 0)
			snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r;
	}
	for (char **e = req->envp; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	if (!path)
		path = DEFAULT_PATH;
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		char cand[VFS_PATH_MAX];
		if (n + strlen(name) + 2 < sizeof(cand)) {
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n ? path : ".", name);
			r = exec_open(t, cand, exe);
			if (r == 0)
				return 0;
			if (r != -ENOENT && r != -ENOTDIR)
				saved = r;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	snprintf(err, errlen, "%s: %s", name,
		 saved == -ENOENT ? "command not found" : strerror(-saved));
	return saved;
}

/* Resolves and execs the request's program in t. */
static int start_exec(struct task *t, const struct start_request *req, char *err,
		      size_t errlen)
{
	struct exec_request x = {.argv = req->argv, .envp = req->envp};
	char path[VFS_PATH_MAX], name[VFS_PATH_MAX], **argv;
	int r;

	if (req->exe_fd >= 0) {
		int hfd = fcntl(req->exe_fd, F_DUPFD_CLOEXEC, 3);
		if (hfd < 0)
			return -errno;
		x.exe = host_file_new(hfd);
		if (!x.exe) {
			close(hfd);
			return -ENOMEM;
		}
		x.exe_path = req->filename;
		/* An executable the caller opened runs as it is. */
		r = exec_program(t, &x, err, errlen);
		file_put(x.exe);
		return r;
	}
	r = find_program(t, req, &x.exe, err, errlen);
	if (r < 0)
		return r;
	pthread_mutex_lock(&t->fs->lock);
	r = vfs_path_string(&t->fs->root, &x.exe->path, name, sizeof(name));
	pthread_mutex_unlock(&t->fs->lock);
	argv = r < 0 ? NULL : strv_copy(req->argv);
	if (!argv) {
		file_put(x.exe);
		return r < 0 ? r : -ENOMEM;
	}
	/* A script runs its interpreter, as under execve. */
	r = exec_follow_scripts(t, &x.exe, &argv, name, false);
	if (r < 0) {
		snprintf(err, errlen, "bad interpreter: %s",
			 r == -ENOEXEC ? "malformed #! line" : strerror(-r));
		goto out;
	}
	pthread_mutex_lock(&t->fs->lock);
	r = vfs_path_string(&t->fs->root, &x.exe->path, path, sizeof(path));
	pthread_mutex_unlock(&t->fs->lock);
	if (r < 0)
		goto out;
	x.exe_path = path;
	x.argv = argv;
	r = exec_program(t, &x, err, errlen);
	if (r == 0) {
		/* comm names the script, not its interpreter. */
		const char *base = strrchr(name, '/');
		snprintf(t->comm, sizeof(t->comm), "%.15s", base ? base + 1 : name);
	}
out:
	strv_free(argv);
	file_put(x.exe);
	return r;
}

static void *task_thread(void *arg)
{
	struct start_sync *ss = arg;
	struct task *t = ss->t;
	int ret;

	current = t;
	ret = platform->ctx_new(&t->ctx);
	if (ret < 0)
		snprintf(ss->err, sizeof(ss->err), "cannot create a context: %s",
			 strerror(-ret));
	else
		ret = start_exec(t, ss->req, ss->err, sizeof(ss->err));
	pthread_mutex_lock(&ss->lock);
	ss->result = ret;
	ss->done = true;
	pthread_cond_signal(&ss->cond);
	pthread_mutex_unlock(&ss->lock);
	/* ss belongs to the starter from here on. */
	if (ret == 0)
		task_run(t);
	else
		thread_group_exit(t->tg, (127 & 0xff) << 8);
	task_exit(t);
	return NULL;
}

int task_start_process(struct start_request *req, char *err, size_t errlen)
{
	struct start_sync ss = {.lock = PTHREAD_MUTEX_INITIALIZER,
				.cond = PTHREAD_COND_INITIALIZER, .req = req};
	struct thread_group *tg = NULL;
	struct task *t = NULL;
	pthread_attr_t attr;
	int pid, ret;

	pid = kernel_alloc_pid();
	if (pid < 0) {
		snprintf(err, errlen, "no pid available");
		return pid;
	}
	tg = calloc(1, sizeof(*tg));
	t = calloc(1, sizeof(*t));
	if (!tg || !t)
		goto nomem;
	pthread_mutex_init(&tg->lock, NULL);
	atomic_init(&tg->refs, 1); /* the task's */
	waitq_init(&tg->child_wq);
	waitq_init(&tg->signal_wq);
	tg->sighand = sighand_new();
	if (!tg->sighand)
		goto nomem;
	tg->pid = pid;
	/* Started from outside: it leads a session and a process group of
	 * its own, and the first one is the sandbox's init. */
	tg->pgid = tg->sid = pid;
	tg->is_init = pid == 1;
	tg->exit_signal = SIGCHLD;
	memcpy(tg->rlimits, kernel.default_rlimits, sizeof(tg->rlimits));
	creds_init_root(&tg->creds);
	tg->nr_tasks = 1;
	tg->dumpable = 1;
	tg->tasks = t;
	t->tid = pid;
	t->tg = tg;
	t->kick_fd = -1;
	ret = task_init_blocking(t);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create a task: %s", strerror(-ret));
		goto fail;
	}
	t->fdt = fdtable_new();
	if (!t->fdt)
		goto nomem;
	{
		struct path root, cwd;
		vfs_root(&root);
		if (!root.mnt) {
			snprintf(err, errlen, "no root filesystem");
			ret = -ENOENT;
			goto fail;
		}
		cwd = root;
		path_get(&cwd);
		if (req->cwd && *req->cwd) {
			/* Resolved as root, like the runtime does before exec. */
			struct task tmp = {.tg = tg};
			struct fs_context tmpfs = {.root = root, .cwd = root,
						   .lock = PTHREAD_MUTEX_INITIALIZER};
			tmp.fs = &tmpfs;
			tmp.fdt = t->fdt;
			path_put(&cwd);
			ret = vfs_lookup(&tmp, AT_FDCWD, req->cwd,
					 LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &cwd);
			if (ret < 0) {
				path_put(&root);
				snprintf(err, errlen, "working directory %s: %s", req->cwd,
					 strerror(-ret));
				goto fail;
			}
		}
		t->fs = fs_context_new(&root, &cwd);
		path_put(&root);
		path_put(&cwd);
		if (!t->fs)
			goto nomem;
	}
	for (int i = 0; i < 3; i++) {
		struct file *f;
		int hfd = fcntl(req->stdio[i], F_DUPFD_CLOEXEC, 3);
		if (hfd < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot take stdio fd %d: %s", i, strerror(errno));
			goto fail;
		}
		f = host_file_new(hfd);
		if (!f) {
			close(hfd);
			goto nomem;
		}
		ret = fdtable_install_at(t->fdt, i, f, false, ~0UL);
		file_put(f);
		if (ret < 0) {
			snprintf(err, errlen, "cannot install stdio");
			goto fail;
		}
	}
	ret = kernel_add_group(tg);
	if (ret < 0)
		goto nomem;

	ss.t = t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t->thread, &attr, task_thread, &ss);
	pthread_attr_destroy(&attr);
	if (ret) {
		kernel_remove_group(tg);
		ret = -ret;
		snprintf(err, errlen, "cannot start a task thread: %s", strerror(-ret));
		goto fail;
	}
	pthread_mutex_lock(&ss.lock);
	while (!ss.done)
		pthread_cond_wait(&ss.cond, &ss.lock);
	pthread_mutex_unlock(&ss.lock);
	if (ss.result < 0) {
		snprintf(err, errlen, "%s", ss.err);
		return ss.result;
	}
	return pid;
nomem:
	ret = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	if (t && t->kick_fd > 0)
		close(t->kick_fd);
	if (t && t->fdt)
		fdtable_put(t->fdt);
	if (t)
		fs_context_put(t->fs);
	free(t);
	if (tg)
		thread_group_put(tg);
	return ret;
}
