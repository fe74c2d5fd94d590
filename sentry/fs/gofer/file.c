/* Gofer regular files. The gofer donates a host fd (Open, Create) and the
 * sentry then reads, writes and maps it directly with pread/pwrite at the
 * file's own position, so no data goes through the channel.
 *
 * Host fds are per inode, not per open: at most one read-only fd and one
 * writable fd, shared by every open file description of the inode (the
 * position is the sentry's, so sharing is invisible). Opening a file that
 * was opened before costs no round trip. Fds stay while the inode is
 * open; after its last close the inode goes on an idle list, and past
 * IDLE_MAX idle inodes the oldest loses its fds, which bounds how many
 * host fds the sentry holds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/fs/gofer/gofer_internal.h"

#define IDLE_MAX 256

pthread_mutex_t gfs_fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gofer_inode *idle_head, *idle_tail;
static unsigned nidle;

/* Called with gfs_fd_lock. */
static void idle_remove(struct gofer_inode *gi)
{
	if (!gi->on_lru)
		return;
	if (gi->lru_prev)
		gi->lru_prev->lru_next = gi->lru_next;
	else
		idle_head = gi->lru_next;
	if (gi->lru_next)
		gi->lru_next->lru_prev = gi->lru_prev;
	else
		idle_tail = gi->lru_prev;
	gi->lru_prev = gi->lru_next = NULL;
	gi->on_lru = false;
	nidle--;
}

/* Called with gfs_fd_lock; closes fds only of inodes nobody has open. */
static void drop_fds(struct gofer_inode *gi)
{
	int ro = atomic_exchange(&gi->rofd, -1), w = atomic_exchange(&gi->wfd, -1);
	if (ro >= 0)
		close(ro);
	if (w >= 0)
		close(w);
	gi->wfd_readable = false;
}

/* Called with gfs_fd_lock, for an inode whose last open just ended. */
static void idle_add(struct gofer_inode *gi)
{
	gi->lru_prev = idle_tail;
	gi->lru_next = NULL;
	if (idle_tail)
		idle_tail->lru_next = gi;
	else
		idle_head = gi;
	idle_tail = gi;
	gi->on_lru = true;
	nidle++;
	while (nidle > IDLE_MAX) {
		struct gofer_inode *old = idle_head;
		idle_remove(old);
		drop_fds(old);
	}
}

void gfs_file_adopt_fd(struct inode *in, int fd)
{
	struct gofer_inode *gi = GI(in);

	pthread_mutex_lock(&gfs_fd_lock);
	atomic_store(&gi->wfd, fd);
	gi->wfd_readable = true;
	if (!gi->nopen && !gi->on_lru)
		idle_add(gi);
	pthread_mutex_unlock(&gfs_fd_lock);
}

void gfs_file_forget(struct inode *in)
{
	struct gofer_inode *gi = GI(in);

	pthread_mutex_lock(&gfs_fd_lock);
	idle_remove(gi);
	drop_fds(gi);
	pthread_mutex_unlock(&gfs_fd_lock);
}

static void refresh_from(struct inode *in, const struct stat *st);

int gfs_file_truncate(struct inode *in, int64_t size)
{
	struct stat st;
	int fd, e = 0;

	/* Under the lock: an idle inode's fd may be dropped meanwhile. */
	pthread_mutex_lock(&gfs_fd_lock);
	fd = atomic_load(&GI(in)->wfd);
	if (fd < 0)
		e = -EAGAIN;
	else if (ftruncate(fd, size) < 0 || syscall(SYS_fstat, fd, &st) < 0)
		e = -errno;
	pthread_mutex_unlock(&gfs_fd_lock);
	if (e == 0)
		refresh_from(in, &st);
	return e;
}

static int open_host(struct gofer_inode *gi, uint32_t flags, int *fd)
{
	struct gofer_req q = {.type = GOFER_OPEN, .node = gi->node, .flags = flags};
	struct gofer_reply r;
	int e = gfs_rpc(&q, &r);

	if (e < 0)
		return e;
	*fd = r.fd;
	gofer_reply_free(&r);
	return 0;
}

/* Makes sure the inode has the fds an open with flags needs. Called with
 * gfs_fd_lock, which is dropped around round trips. */
static int ensure_fds(struct gofer_inode *gi, int flags)
{
	int acc = flags & O_ACCMODE, fd, e;

	if (acc != O_RDONLY && atomic_load(&gi->wfd) < 0) {
		bool readable = true;
		pthread_mutex_unlock(&gfs_fd_lock);
		/* Read-write if the host allows, so one fd serves both. */
		e = open_host(gi, O_RDWR, &fd);
		if (e == -EACCES && acc == O_WRONLY) {
			readable = false;
			e = open_host(gi, O_WRONLY, &fd);
		}
		pthread_mutex_lock(&gfs_fd_lock);
		if (e < 0)
			return e;
		if (atomic_load(&gi->wfd) < 0) {
			atomic_store(&gi->wfd, fd);
			gi->wfd_readable = readable;
		} else {
			close(fd);
		}
	}
	if (acc != O_WRONLY && atomic_load(&gi->rofd) < 0 &&
	    !(atomic_load(&gi->wfd) >= 0 && gi->wfd_readable)) {
		pthread_mutex_unlock(&gfs_fd_lock);
		e = open_host(gi, O_RDONLY, &fd);
		pthread_mutex_lock(&gfs_fd_lock);
		if (e < 0)
			return e;
		if (atomic_load(&gi->rofd) < 0)
			atomic_store(&gi->rofd, fd);
		else
			close(fd);
	}
	return 0;
}

static int gfs_file_open(struct inode *in, struct file *f)
{
	struct gofer_inode *gi = GI(in);
	int e;

	pthread_mutex_lock(&gfs_fd_lock);
	/* Counted first, so the fds cannot be dropped while fetched. */
	gi->nopen++;
	idle_remove(gi);
	e = ensure_fds(gi, f->flags);
	if (e < 0 && --gi->nopen == 0)
		idle_add(gi);
	pthread_mutex_unlock(&gfs_fd_lock);
	if (e < 0)
		return e;
	f->ops = &gfs_file_fops;
	return 0;
}

static void gfs_file_release(struct file *f)
{
	struct gofer_inode *gi = GI(f->inode);

	pthread_mutex_lock(&gfs_fd_lock);
	if (--gi->nopen == 0)
		idle_add(gi);
	pthread_mutex_unlock(&gfs_fd_lock);
}

static int read_fd(struct gofer_inode *gi)
{
	int fd = atomic_load(&gi->rofd);
	if (fd < 0 && gi->wfd_readable)
		fd = atomic_load(&gi->wfd);
	return fd;
}

/* After the host changed the file: size, blocks and times as it says. */
static void refresh_from(struct inode *in, const struct stat *st)
{
	struct gofer_inode *gi = GI(in);

	if ((st->st_mode & S_IFMT) != S_IFREG)
		return;
	pthread_mutex_lock(&gi->lock);
	gi->attr.size = (uint64_t)st->st_size;
	gi->attr.blocks = (uint64_t)st->st_blocks;
	gi->attr.mtime_sec = st->st_mtim.tv_sec;
	gi->attr.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	gi->attr.ctime_sec = st->st_ctim.tv_sec;
	gi->attr.ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	/* Writing clears set-id bits on the host; the cache follows. */
	gi->attr.mode = st->st_mode;
	in->mode = st->st_mode;
	pthread_mutex_unlock(&gi->lock);
}

static void refresh(struct inode *in, int fd)
{
	struct stat st;

	/* The raw call: glibc's fstat is newfstatat, which the sentry's
	 * seccomp filter refuses. */
	if (syscall(SYS_fstat, fd, &st) == 0)
		refresh_from(in, &st);
}

static ssize_t gfs_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	int fd = read_fd(GI(f->inode));
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	do
		n = pread(fd, buf, len, *pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*pos += n;
	return n;
}

static ssize_t gfs_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	int fd = atomic_load(&GI(f->inode)->wfd);
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	if (f->flags & O_APPEND) {
		/* The host's size, not the cache's: another name of the file
		 * may have grown it. (O_APPEND itself never reaches the host:
		 * it would make pwrite ignore the position.) */
		struct stat st;
		if (syscall(SYS_fstat, fd, &st) < 0)
			return -errno;
		*pos = st.st_size;
	}
	do
		n = pwrite(fd, buf, len, *pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*pos += n;
	refresh(f->inode, fd);
	return n;
}

static int64_t gfs_llseek(struct file *f, int64_t off, int whence)
{
	struct gofer_inode *gi = GI(f->inode);
	int64_t size;

	if (whence == SEEK_DATA || whence == SEEK_HOLE) {
		/* The host knows the holes; its offset of the shared fd is
		 * never used for I/O, so seeking it is harmless. */
		int fd = read_fd(gi) >= 0 ? read_fd(gi) : atomic_load(&gi->wfd);
		off_t r = fd >= 0 ? lseek(fd, off, whence) : -1;
		return r < 0 ? (fd >= 0 ? -errno : -EBADF) : r;
	}
	pthread_mutex_lock(&gi->lock);
	size = (int64_t)gi->attr.size;
	pthread_mutex_unlock(&gi->lock);
	return generic_llseek(f, off, whence, size);
}

static int gfs_mmap_fd(struct file *f)
{
	struct gofer_inode *gi = GI(f->inode);
	int w = atomic_load(&gi->wfd);

	/* A shared writable mapping needs the read-write fd. */
	if ((f->flags & O_ACCMODE) != O_RDONLY && w >= 0 && gi->wfd_readable)
		return w;
	w = read_fd(gi);
	return w >= 0 ? w : -ENODEV;
}

static int gfs_fsync(struct file *f, bool datasync)
{
	struct gofer_inode *gi = GI(f->inode);
	int fd = atomic_load(&gi->wfd);

	if (fd < 0)
		fd = atomic_load(&gi->rofd);
	if (fd < 0)
		return -EBADF;
	return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

static int gfs_fallocate(struct file *f, int mode, int64_t off, int64_t len)
{
	int fd = atomic_load(&GI(f->inode)->wfd);

	if (fd < 0)
		return -EBADF;
	if (fallocate(fd, mode, off, len) < 0)
		return -errno;
	refresh(f->inode, fd);
	return 0;
}

const struct file_ops gfs_file_fops = {
	.read = gfs_read,
	.write = gfs_write,
	.llseek = gfs_llseek,
	.mmap_fd = gfs_mmap_fd,
	.fsync = gfs_fsync,
	.fallocate = gfs_fallocate,
	.release = gfs_file_release,
};

const struct inode_ops gfs_file_iops = {
	.getattr = gfs_getattr,
	.setattr = gfs_setattr,
	.open = gfs_file_open,
	.getxattr = gfs_getxattr,
	.setxattr = gfs_setxattr,
	.listxattr = gfs_listxattr,
	.removexattr = gfs_removexattr,
	.release = gfs_release,
};
