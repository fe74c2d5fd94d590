/* getdents64 and getdents: directory entries in the kernel's layouts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/file.h"

struct fill {
	char *buf;
	size_t cap, used;
	bool old_layout;  /* struct linux_dirent (getdents) */
	int err;
};

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static int emit(void *arg, const char *name, size_t namelen, uint64_t ino, unsigned type,
		int64_t next)
{
	struct fill *f = arg;
	size_t reclen;
	char *p;

	if (f->old_layout) {
		/* ino, off (longs), reclen, name, NUL, type in the last byte */
		reclen = ALIGN8(8 + 8 + 2 + namelen + 2);
	} else {
		reclen = ALIGN8(8 + 8 + 2 + 1 + namelen + 1);
	}
	if (f->used + reclen > f->cap) {
		if (f->used == 0)
			f->err = -EINVAL; /* not even one entry fits */
		return 1;
	}
	p = f->buf + f->used;
	memset(p, 0, reclen);
	memcpy(p, &ino, 8);
	memcpy(p + 8, &next, 8);
	uint16_t rl = (uint16_t)reclen;
	memcpy(p + 16, &rl, 2);
	if (f->old_layout) {
		memcpy(p + 18, name, namelen);
		p[reclen - 1] = (char)type;
	} else {
		p[18] = (char)type;
		memcpy(p + 19, name, namelen);
	}
	f->used += reclen;
	return 0;
}

static long do_getdents(struct task *t, int fd, uint64_t ubuf, uint64_t count, bool old)
{
	struct file *f = get_fd(t, fd, false);
	struct fill fl = {.old_layout = old};
	long r;

	if (!f)
		return -EBADF;
	if (count > 1 << 20)
		count = 1 << 20;
	fl.cap = count;
	fl.buf = malloc(count ? count : 1);
	if (!fl.buf) {
		file_put(f);
		return -ENOMEM;
	}
	r = vfs_iterate_dir(f, emit, &fl);
	if (r == 0 && fl.err && !fl.used)
		r = fl.err;
	if (r == 0 && fl.used && copy_to_user(t, ubuf, fl.buf, fl.used) < 0)
		r = -EFAULT;
	if (r == 0)
		r = (long)fl.used;
	free(fl.buf);
	file_put(f);
	return r;
}

SYSCALL(getdents64) { return do_getdents(t, (int)a[0], a[1], a[2], false); }
SYSCALL(getdents) { return do_getdents(t, (int)a[0], a[1], a[2], true); }
