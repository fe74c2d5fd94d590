#include "sentry/syscalls/util.h"

#include <errno.h>
#include <fcntl.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

int getname(struct task *t, uint64_t uptr, char *buf)
{
	long n = strncpy_from_user(t, buf, uptr, VFS_PATH_MAX);
	return n < 0 ? (int)n : 0;
}

int install_fd(struct task *t, struct file *f, bool cloexec)
{
	return fdtable_install(t->fdt, f, 0, cloexec, t->tg->rlimits[RLIMIT_NOFILE].cur);
}

struct file *get_fd(struct task *t, int fd, bool allow_path)
{
	struct file *f = fdtable_get(t->fdt, fd);
	if (f && !allow_path && (f->flags & O_PATH)) {
		file_put(f);
		return NULL;
	}
	return f;
}
