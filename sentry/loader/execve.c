/* execve and execveat from a running program: the arguments, #!
 * scripts, the other threads going away, close-on-exec, handlers reset,
 * and the new image. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/wire.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timers.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define MAX_ARG_STRLEN (32 * 4096)
#define MAX_ARG_STRINGS 0x7fffffff
#define BINPRM_BUF_SIZE 256
/* Scripts whose interpreter is a script: Linux follows five (exec_binprm
 * gives up at depth 6). */
#define MAX_SCRIPT_DEPTH 5

/* Copies a NULL-terminated vector of strings from the application,
 * bounded by ARG_MAX-like totals (E2BIG). */
static long copy_strv(struct task *t, uint64_t uv, char ***out, size_t limit)
{
	size_t n = 0, cap = 16, total = 0;
	char **v = calloc(cap + 1, sizeof(*v));
	long r = 0;

	if (!v)
		return -ENOMEM;
	for (; uv; n++) {
		uint64_t p;
		char *s;
		long len;

		if (copy_from_user(t, &p, uv + n * 8, 8) < 0) {
			r = -EFAULT;
			goto fail;
		}
		if (!p)
			break;
		if (n >= cap) {
			char **nv = realloc(v, (cap * 2 + 1) * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				goto fail;
			}
			v = nv;
			cap *= 2;
		}
		s = malloc(MAX_ARG_STRLEN);
		if (!s) {
			r = -ENOMEM;
			goto fail;
		}
		len = strncpy_from_user(t, s, p, MAX_ARG_STRLEN);
		if (len < 0) {
			free(s);
			r = len == -ENAMETOOLONG ? -E2BIG : len;
			goto fail;
		}
		total += (size_t)len + 1 + sizeof(void *);
		if (total > limit) {
			free(s);
			r = -E2BIG;
			goto fail;
		}
		v[n] = realloc(s, (size_t)len + 1);
		if (!v[n])
			v[n] = s;
	}
	v[n] = NULL;
	*out = v;
	return (long)total;
fail:
	v[n] = NULL;
	strv_free(v);
	return r;
}

static bool spacetab(char c) { return c == ' ' || c == '\t'; }

/* The first non-blank in [first, last], or NULL. */
static char *next_non_spacetab(char *first, char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

/* The first blank or NUL in [first, last], or NULL. */
static char *next_terminator(char *first, char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

/* Parses a "#!interp [arg]" line the way Linux's binfmt_script does, in
 * the first BINPRM_BUF_SIZE bytes of the file (NUL-padded): the line ends
 * at a newline or at the buffer's last byte; blanks (spaces, tabs, not
 * CRs) around it are dropped; the interpreter ends at a blank or NUL and
 * the rest is one argument; an interpreter name the buffer may have cut
 * is ENOEXEC. Returns 1 for a script (interp and arg malloc'd, arg NULL
 * without one), 0 for anything else, or -errno. */
static int parse_shebang(char buf[BINPRM_BUF_SIZE], char **interp, char **arg)
{
	char *buf_end = buf + BINPRM_BUF_SIZE - 1, *i_end, *i_name, *i_sep, *i_arg = NULL;

	if (buf[0] != '#' || buf[1] != '!')
		return 0;
	i_end = memchr(buf, '\n', BINPRM_BUF_SIZE);
	if (!i_end) {
		i_end = next_non_spacetab(buf + 2, buf_end);
		if (!i_end)
			return -ENOEXEC; /* nothing but blanks */
		if (!next_terminator(i_end, buf_end))
			return -ENOEXEC; /* the interpreter's name may be cut */
		i_end = buf_end;
	}
	while (spacetab(i_end[-1]))
		i_end--;
	i_name = next_non_spacetab(buf + 2, i_end);
	if (!i_name || i_name == i_end)
		return -ENOEXEC; /* no interpreter */
	i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep)
		i_arg = next_non_spacetab(i_sep, i_end);
	*i_end = 0;
	if (i_arg)
		*i_sep = 0;
	*interp = strdup(i_name);
	*arg = i_arg ? strdup(i_arg) : NULL;
	if (!*interp || (i_arg && !*arg)) {
		free(*interp);
		free(*arg);
		return -ENOMEM;
	}
	return 1;
}

/* Opens what exec runs, as Linux's do_open_execat: relative to dirfd,
 * following a final symlink unless AT_SYMLINK_NOFOLLOW (then ELOOP), ""
 * for dirfd itself with AT_EMPTY_PATH; a regular file with execute
 * permission on a mount that allows it (else EACCES). */
static int open_exec_at(struct task *t, int dirfd, const char *name, int flags, struct file **out)
{
	unsigned lf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
	struct path p;
	struct inode *in;
	int r;

	if (flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	r = vfs_lookup(t, dirfd, name, lf, &p);
	if (r < 0)
		return r;
	in = p.dentry->inode;
	if (S_ISLNK(in->mode))
		r = -ELOOP;
	else if (!S_ISREG(in->mode) || (p.mnt->flags & MNT_NOEXEC))
		r = -EACCES;
	else
		r = vfs_permission(in, MAY_EXEC, &t->tg->creds);
	if (r == 0)
		r = vfs_open_path(t, &p, O_RDONLY | __O_CREATED, out);
	path_put(&p);
	return r;
}

/* Prepends strings to an argv, replacing argv[0] (for scripts). */
static char **script_argv(char **argv, const char *interp, const char *arg, const char *file)
{
	size_t n = strv_len(argv), k = 0;
	char **v = calloc(n + 4, sizeof(*v));

	if (!v)
		return NULL;
	v[k++] = strdup(interp);
	if (arg)
		v[k++] = strdup(arg);
	v[k++] = strdup(file);
	for (size_t i = 1; i < n; i++)
		v[k++] = strdup(argv[i]);
	v[k] = NULL;
	for (size_t i = 0; i < k; i++)
		if (!v[i]) {
			strv_free(v);
			return NULL;
		}
	return v;
}

/* The other threads of the group exit; t becomes the leader. */
static int de_thread(struct task *t)
{
	struct thread_group *tg = t->tg;

	pthread_mutex_lock(&tg->lock);
	if (tg->exiting) {
		pthread_mutex_unlock(&tg->lock);
		return -EINTR;
	}
	for (struct task *x = tg->tasks; x; x = x->tg_next) {
		if (x != t) {
			atomic_store(&x->exiting, true);
			task_kick(x);
		}
	}
	while (tg->nr_tasks > 1) {
		pthread_mutex_unlock(&tg->lock);
		task_block(t, monotonic_ns() + 10000000ULL);
		pthread_mutex_lock(&tg->lock);
		if (tg->exiting) {
			pthread_mutex_unlock(&tg->lock);
			return -EINTR;
		}
	}
	pthread_mutex_unlock(&tg->lock);
	/* A non-leader thread that execs takes the process's pid. */
	pthread_mutex_lock(&kernel.lock);
	t->tid = tg->pid;
	pthread_mutex_unlock(&kernel.lock);
	return 0;
}

int exec_follow_scripts(struct task *t, struct file **f, char ***argv, const char *fname,
			bool inaccessible)
{
	char buf[BINPRM_BUF_SIZE], *interp = NULL, *iarg = NULL, *file = NULL;
	struct file *nf;
	long n;
	int r;

	for (int depth = 0;; depth++) {
		int64_t pos = 0;

		memset(buf, 0, sizeof(buf));
		n = (*f)->ops->read ? (*f)->ops->read(*f, buf, sizeof(buf), &pos) : -EACCES;
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		r = parse_shebang(buf, &interp, &iarg);
		if (r <= 0)
			goto out;
		if (inaccessible) {
			r = -ENOENT;
			goto out;
		}
		/* A script: run its interpreter with the script's name (as
		 * the caller gave it, then each interpreter's) as an
		 * argument. */
		char **nv = script_argv(*argv, interp, iarg, depth ? file : fname);
		if (!nv) {
			r = -ENOMEM;
			goto out;
		}
		strv_free(*argv);
		*argv = nv;
		r = open_exec_at(t, AT_FDCWD, interp, 0, &nf);
		if (r < 0)
			goto out;
		file_put(*f);
		*f = nf;
		if (depth + 1 > MAX_SCRIPT_DEPTH) {
			r = -ELOOP;
			goto out;
		}
		free(file);
		file = interp;
		interp = NULL;
		free(iarg);
		iarg = NULL;
	}
out:
	free(interp);
	free(iarg);
	free(file);
	return r < 0 ? r : 0;
}

long do_execveat(struct task *t, int dirfd, uint64_t upath, uint64_t uargv, uint64_t uenvp,
		 int flags)
{
	char *path = malloc(VFS_PATH_MAX), *file = NULL, *fname = NULL;
	bool inaccessible = false, comm_from_file = false;
	char **argv = NULL, **envp = NULL;
	char err[256];
	struct exec_request req = {0};
	struct file *f = NULL;
	size_t limit = t->tg->rlimits[RLIMIT_STACK].cur / 4;
	long r;

	if (!path)
		return -ENOMEM;
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		r = -EINVAL;
		goto out;
	}
	if (limit < 131072)
		limit = 131072;
	if (limit > 6 << 20)
		limit = 6 << 20;
	r = strncpy_from_user(t, path, upath, VFS_PATH_MAX);
	if (r < 0)
		goto out;
	r = copy_strv(t, uargv, &argv, limit);
	if (r < 0)
		goto out;
	r = copy_strv(t, uenvp, &envp, limit - (size_t)r);
	if (r < 0)
		goto out;
	if (!argv[0]) {
		/* An empty argv gets "" as argv[0], as Linux does since 5.18. */
		char **v = calloc(2, sizeof(*v));
		if (!v || !(v[0] = strdup(""))) {
			free(v);
			r = -ENOMEM;
			goto out;
		}
		strv_free(argv);
		argv = v;
	}
	/* Linux's bprm->filename: the path, or /dev/fd/N[/path] for one
	 * relative to a directory fd. A script gets it as its argument and
	 * the new image its name; through a close-on-exec fd it cannot be
	 * reached after exec, so a script there fails (ENOENT). */
	if (path[0] == '/' || dirfd == AT_FDCWD) {
		fname = strdup(path);
	} else {
		if (asprintf(&fname, *path ? "/dev/fd/%d/%s" : "/dev/fd/%d", dirfd, path) < 0)
			fname = NULL;
		inaccessible = fdtable_get_cloexec(t->fdt, dirfd) == 1;
		comm_from_file = !*path;
	}
	file = strdup(path);
	if (!file || !fname) {
		r = -ENOMEM;
		goto out;
	}
	if (!*file && !(flags & AT_EMPTY_PATH)) {
		r = -ENOENT;
		goto out;
	}
	r = open_exec_at(t, dirfd, file, flags, &f);
	if (r < 0)
		goto out;
	r = exec_follow_scripts(t, &f, &argv, fname, inaccessible);
	if (r < 0)
		goto out;

	r = de_thread(t);
	if (r < 0)
		goto out;
	{
		/* The name the program sees for itself. */
		struct path root;
		pthread_mutex_lock(&t->fs->lock);
		path_copy(&root, &t->fs->root);
		pthread_mutex_unlock(&t->fs->lock);
		r = vfs_path_string(&root, &f->path, path, VFS_PATH_MAX);
		path_put(&root);
		if (r < 0)
			goto out;
	}
	req.argv = argv;
	req.envp = envp;
	req.exe = f;
	req.exe_path = path;
	r = exec_program(t, &req, err, sizeof(err));
	if (r < 0) {
		if (!t->mm) /* past the point of no return */
			thread_group_exit(t->tg, SIGSEGV);
		goto out;
	}
	{
		/* The new image's name, as Linux's comm: the base of the name
		 * exec was given (a script's, not its interpreter's); for an
		 * fd with AT_EMPTY_PATH the file's own name (Linux 6.14 on;
		 * "/dev/fd/N" gave "N" before). */
		const char *name = comm_from_file ? path : fname;
		const char *base = strrchr(name, '/');
		base = base ? base + 1 : name;
		snprintf(t->comm, sizeof(t->comm), "%s", base);
	}
	/* The new image: its own fd table with close-on-exec fds gone,
	 * default handlers, no robust list, and a vfork parent set free. */
	if (atomic_load(&t->fdt->refs) > 1) {
		struct fdtable *own = fdtable_copy(t->fdt);
		if (own) {
			fdtable_put(t->fdt);
			t->fdt = own;
		}
	}
	fdtable_close_on_exec(t->fdt);
	signal_reset_on_exec(t);
	timers_exec(t); /* POSIX timers go; itimers stay */
	t->robust_list = 0;
	t->clear_child_tid = 0;
	pthread_mutex_lock(&kernel.lock);
	t->tg->did_exec = true;
	pthread_mutex_unlock(&kernel.lock);
	vfork_release(t);
	r = 0;
out:
	file_put(f);
	strv_free(argv);
	strv_free(envp);
	free(path);
	free(file);
	free(fname);
	return r;
}
