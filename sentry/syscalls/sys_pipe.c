/* pipe, pipe2, splice, tee, vmsplice, memfd_create. The pipes live in
 * sentry/fs/pipe/, memfds in sentry/fs/memfd.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "sentry/fs/memfd.h"
#include "sentry/fs/pipe/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/rw.h"

#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL
#endif

static long do_pipe2(struct task *t, uint64_t ufds, int flags)
{
	struct file *rd, *wr;
	int fds[2];
	long r;

	/* Notification pipes need watch queues, which we do not have:
	 * Linux without CONFIG_WATCH_QUEUE says ENOPKG. */
	if (flags & O_NOTIFICATION_PIPE)
		return flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE) ? -EINVAL
											  : -ENOPKG;
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	r = pipe_create(flags, &rd, &wr);
	if (r < 0)
		return r;
	fds[0] = install_fd(t, rd, flags & O_CLOEXEC);
	fds[1] = fds[0] < 0 ? -1 : install_fd(t, wr, flags & O_CLOEXEC);
	if (fds[0] < 0 || fds[1] < 0) {
		r = fds[0] < 0 ? fds[0] : fds[1];
		if (fds[0] >= 0)
			fdtable_close(t->fdt, fds[0]);
	} else if (copy_to_user(t, ufds, fds, sizeof(fds)) < 0) {
		fdtable_close(t->fdt, fds[0]);
		fdtable_close(t->fdt, fds[1]);
		r = -EFAULT;
	}
	file_put(rd);
	file_put(wr);
	return r;
}

SYSCALL(pipe) { return do_pipe2(t, a[0], 0); }
SYSCALL(pipe2) { return do_pipe2(t, a[0], (int)a[1]); }

/* Copies in an offset argument: *p points at off, or stays NULL. */
static int get_off(struct task *t, uint64_t uoff, int64_t *off, int64_t **p)
{
	*p = NULL;
	if (!uoff)
		return 0;
	if (copy_from_user(t, off, uoff, sizeof(*off)) < 0)
		return -EFAULT;
	*p = off;
	return 0;
}

SYSCALL(splice)
{
	struct file *in = NULL, *out = NULL;
	int64_t off_in, off_out, *pin, *pout;
	size_t len = a[4] > MAX_RW_COUNT ? MAX_RW_COUNT : a[4];
	unsigned flags = (unsigned)a[5];
	long r;

	if (!len)
		return 0;
	if (flags & ~SPLICE_F_ALL)
		return -EINVAL;
	in = get_fd(t, (int)a[0], false);
	out = in ? get_fd(t, (int)a[2], false) : NULL;
	if (!in || !out) {
		r = -EBADF;
		goto out;
	}
	/* A pipe has no offset (checked before the offsets are read). */
	if ((a[1] && file_is_pipe(in)) || (a[3] && file_is_pipe(out))) {
		r = -ESPIPE;
		goto out;
	}
	r = get_off(t, a[3], &off_out, &pout);
	if (r == 0)
		r = get_off(t, a[1], &off_in, &pin);
	if (r < 0)
		goto out;
	r = splice_files(in, pin, out, pout, len, flags);
	if (r >= 0 && ((pout && copy_to_user(t, a[3], pout, sizeof(*pout)) < 0) ||
		       (pin && copy_to_user(t, a[1], pin, sizeof(*pin)) < 0)))
		r = -EFAULT;
out:
	file_put(in);
	file_put(out);
	return r;
}

SYSCALL(tee)
{
	struct file *in = NULL, *out = NULL;
	size_t len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
	unsigned flags = (unsigned)a[3];
	long r;

	if (flags & ~SPLICE_F_ALL)
		return -EINVAL;
	if (!len)
		return 0;
	in = get_fd(t, (int)a[0], false);
	out = in ? get_fd(t, (int)a[1], false) : NULL;
	r = in && out ? tee_pipes(in, out, len, flags) : -EBADF;
	file_put(in);
	file_put(out);
	return r;
}

SYSCALL(vmsplice)
{
	unsigned flags = (unsigned)a[3];
	struct uiovec *iov = NULL;
	struct file *f;
	ssize_t total;
	long r;

	if (flags & ~SPLICE_F_ALL)
		return -EINVAL;
	f = get_fd(t, (int)a[0], false);
	if (!f)
		return -EBADF;
	total = iovec_import(t, a[1], a[2], &iov);
	r = total < 0 ? total : vmsplice_file(t, f, iov, a[2], (size_t)total, flags);
	free(iov);
	file_put(f);
	return r;
}

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

SYSCALL(memfd_create)
{
	char name[MEMFD_NAME_MAX + 1];
	unsigned flags = (unsigned)a[1];
	struct file *f = NULL;
	long r;

	/* No huge pages in the sandbox; MFD_EXEC and MFD_NOEXEC_SEAL are
	 * newer than the kernel we present. */
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return -EINVAL;
	r = strncpy_from_user(t, name, a[0], sizeof(name));
	if (r < 0)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	r = memfd_new(t, name, flags, &f);
	if (r < 0)
		return r;
	r = install_fd(t, f, flags & MFD_CLOEXEC);
	file_put(f);
	return r;
}
