#include "sentry/fs/host_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "abi/linux.h"
#include "sentry/mm/mm.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/file.h"

struct host_file {
	int fd;
	int type; /* S_IFMT of the host file */
};

static int hfd(struct file *f) { return ((struct host_file *)f->priv)->fd; }

/* Without pos: the host file's own offset, shared with whoever else
 * holds it (as an inherited fd shares its open file description). */
static ssize_t hf_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	ssize_t n = pos ? pread(hfd(f), buf, len, *pos) : read(hfd(f), buf, len);
	if (n < 0)
		return -errno;
	if (pos)
		*pos += n;
	return n;
}

static ssize_t hf_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	ssize_t n = pos ? pwrite(hfd(f), buf, len, *pos) : write(hfd(f), buf, len);
	if (n < 0)
		return -errno;
	if (pos)
		*pos += n;
	return n;
}

static int64_t hf_llseek(struct file *f, int64_t off, int whence)
{
	off_t r = lseek(hfd(f), off, whence);
	return r < 0 ? -errno : r;
}

/* Only requests whose argument layout we know pass to the host, and only
 * for the kinds of file they belong to. */
static long hf_ioctl(struct file *f, struct task *t, unsigned long cmd, uint64_t arg)
{
	int fd = hfd(f);

	switch (cmd) {
	case TCGETS: {
		struct k_termios kt;
		if (ioctl(fd, TCGETS, &kt) < 0)
			return -errno;
		return copy_to_user(t, arg, &kt, sizeof(kt));
	}
	case TCSETS: case TCSETSW: case TCSETSF: {
		struct k_termios kt;
		int r = copy_from_user(t, &kt, arg, sizeof(kt));
		if (r < 0)
			return r;
		return ioctl(fd, cmd, &kt) < 0 ? -errno : 0;
	}
	case TIOCGWINSZ: {
		struct winsize ws;
		if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
			return -errno;
		return copy_to_user(t, arg, &ws, sizeof(ws));
	}
	case FIONREAD: {
		int n;
		if (ioctl(fd, FIONREAD, &n) < 0)
			return -errno;
		return copy_to_user(t, arg, &n, sizeof(n));
	}
	default:
		return -ENOTTY;
	}
}

int host_fstat(int fd, struct k_stat *st)
{
	/* The raw call: glibc's fstat is newfstatat, which the sentry's
	 * filter refuses because it can name a path. */
	return syscall(SYS_fstat, fd, st) < 0 ? -errno : 0;
}

static int hf_stat(struct file *f, struct k_stat *st) { return host_fstat(hfd(f), st); }

static int hf_mmap_fd(struct file *f)
{
	struct host_file *h = f->priv;
	return h->type == S_IFREG ? h->fd : -ENODEV;
}

static void hf_release(struct file *f)
{
	struct host_file *h = f->priv;
	close(h->fd);
	free(h);
}

static const struct file_ops host_file_ops = {
	.read = hf_read,
	.write = hf_write,
	.ioctl = hf_ioctl,
	.stat = hf_stat,
	.mmap_fd = hf_mmap_fd,
	.llseek = hf_llseek,
	.release = hf_release,
	.own_pos = 1,
};

/* Pipes, terminals and sockets: no offsets at all. */
static const struct file_ops host_stream_ops = {
	.read = hf_read,
	.write = hf_write,
	.ioctl = hf_ioctl,
	.stat = hf_stat,
	.mmap_fd = hf_mmap_fd,
	.release = hf_release,
	.stream = 1,
	.own_pos = 1,
};

struct file *host_file_new(int fd)
{
	struct host_file *h = calloc(1, sizeof(*h));
	struct k_stat st;
	struct file *f;
	int fl = fcntl(fd, F_GETFL);

	if (!h)
		return NULL;
	h->fd = fd;
	h->type = host_fstat(fd, &st) == 0 ? (int)(st.st_mode & S_IFMT) : 0;
	f = file_new(h->type == S_IFREG || h->type == S_IFBLK || h->type == S_IFDIR
			     ? &host_file_ops : &host_stream_ops,
		     fl < 0 ? O_RDWR : fl, h);
	if (!f)
		free(h);
	return f;
}
