/* The magic links of a process (exe, cwd, root, fd/N) and its fd/ and
 * fdinfo/ directories. A magic link walks to the object itself
 * (get_link); readlink shows its path as the reader sees it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define FD_MAX (1 << 30)

/* --- exe --- */

/* The executable's path, malloc'd; NULL if none. */
static char *exe_path(struct inode *in)
{
	struct mm *mm = proc_get_mm(in);
	char *p = NULL;

	if (!mm)
		return NULL;
	pthread_mutex_lock(&mm->lock);
	if (mm->exe_path)
		p = strdup(mm->exe_path);
	pthread_mutex_unlock(&mm->lock);
	mm_put(mm);
	return p;
}

ssize_t proc_exe_readlink(struct inode *in, char *buf, size_t len)
{
	char *p = exe_path(in);
	ssize_t r;

	if (!p)
		return -ENOENT;
	r = synth_copy_link(p, strlen(p), buf, len);
	free(p);
	return r;
}

/* The sentry keeps the executable's path, not the file: resolve it. */
int proc_exe_get_link(struct inode *in, struct task *t, struct path *out)
{
	char *p = exe_path(in);
	struct path root;
	int r;

	if (!p)
		return -ENOENT;
	vfs_root(&root);
	r = root.mnt ? vfs_lookup_at(t, &root, p, LOOKUP_FOLLOW, out) : -ENOENT;
	path_put(&root);
	free(p);
	return r;
}

/* --- cwd and root --- */

static int fs_path(struct inode *in, bool cwd, struct path *out)
{
	struct fs_context *fs = proc_get_fs(in);

	if (!fs)
		return -ENOENT;
	pthread_mutex_lock(&fs->lock);
	path_copy(out, cwd ? &fs->cwd : &fs->root);
	pthread_mutex_unlock(&fs->lock);
	fs_context_put(fs);
	return 0;
}

static ssize_t path_readlink(const struct path *p, char *buf, size_t len)
{
	char *text = malloc(VFS_PATH_MAX);
	int n;
	ssize_t r;

	if (!text)
		return -ENOMEM;
	n = proc_path_text(p, text, VFS_PATH_MAX);
	r = n < 0 ? n : synth_copy_link(text, (size_t)n, buf, len);
	free(text);
	return r;
}

static ssize_t fs_readlink(struct inode *in, bool cwd, char *buf, size_t len)
{
	struct path p;
	ssize_t r = fs_path(in, cwd, &p);

	if (r < 0)
		return r;
	r = path_readlink(&p, buf, len);
	path_put(&p);
	return r;
}

ssize_t proc_cwd_readlink(struct inode *in, char *buf, size_t len)
{
	return fs_readlink(in, true, buf, len);
}

ssize_t proc_root_readlink(struct inode *in, char *buf, size_t len)
{
	return fs_readlink(in, false, buf, len);
}

int proc_cwd_get_link(struct inode *in, struct task *t, struct path *out)
{
	(void)t;
	return fs_path(in, true, out);
}

int proc_root_get_link(struct inode *in, struct task *t, struct path *out)
{
	(void)t;
	return fs_path(in, false, out);
}

/* --- fd/ and fdinfo/ --- */

static struct file *node_file(struct inode *in, bool *cloexec)
{
	struct fdtable *fdt = proc_get_fdt(in);
	int64_t fd = synth_id(in, PROC_FD);
	struct file *f;

	if (!fdt)
		return NULL;
	f = fd >= 0 && fd < FD_MAX ? fdtable_get(fdt, (int)fd) : NULL;
	if (f && cloexec)
		*cloexec = fdtable_get_cloexec(fdt, (int)fd) == 1;
	fdtable_put(fdt);
	return f;
}

/* The name of a file without a path (an imported host fd, a pipe;
 * sockets later): Linux's "pipe:[ino]" style. */
static int anon_name(struct file *f, char *buf, size_t len)
{
	struct k_stat st;

	memset(&st, 0, sizeof(st));
	if (f->ops->anon_name)
		return snprintf(buf, len, "anon_inode:%s", f->ops->anon_name);
	if ((!f->inode && !f->ops->stat) || vfs_fstat(f, &st) < 0)
		return snprintf(buf, len, "anon_inode:[unknown]");
	switch (st.st_mode & S_IFMT) {
	case S_IFIFO:
		return snprintf(buf, len, "pipe:[%" PRIu64 "]", (uint64_t)st.st_ino);
	case S_IFSOCK:
		return snprintf(buf, len, "socket:[%" PRIu64 "]", (uint64_t)st.st_ino);
	default:
		return snprintf(buf, len, "host:[%" PRIu64 "]", (uint64_t)st.st_ino);
	}
}

static ssize_t fd_readlink(struct inode *in, char *buf, size_t len)
{
	struct file *f = node_file(in, NULL);
	ssize_t r;

	if (!f)
		return -ENOENT;
	/* Pseudo filesystems' paths (pipefs) are not shown. */
	if (f->path.mnt && !(f->path.mnt->sb->flags & SB_PSEUDO)) {
		r = path_readlink(&f->path, buf, len);
	} else {
		char name[64];
		int n = anon_name(f, name, sizeof(name));
		r = synth_copy_link(name, (size_t)n < sizeof(name) ? (size_t)n : sizeof(name) - 1,
				    buf, len);
	}
	file_put(f);
	return r;
}

static int fd_get_link(struct inode *in, struct task *t, struct path *out)
{
	struct file *f = node_file(in, NULL);
	int r = 0;

	(void)t;
	if (!f)
		return -ENOENT;
	/* Reopening a file without a path (a host fd) needs the VFS to
	 * open the description itself: not yet. Pipes have one. */
	if (f->path.mnt)
		path_copy(out, &f->path);
	else
		r = -ENXIO;
	file_put(f);
	return r;
}

static int fdinfo_show(struct inode *in, struct synth_buf *b)
{
	bool cloexec = false;
	struct file *f = node_file(in, &cloexec);
	uint64_t ino = 0;

	if (!f)
		return -ENOENT;
	if (f->inode) {
		ino = f->inode->ino;
	} else if (f->ops->stat) {
		struct k_stat st;
		memset(&st, 0, sizeof(st));
		if (f->ops->stat(f, &st) == 0)
			ino = st.st_ino;
	}
	/* pos is read without pos_lock: a blocked reader may hold it. */
	synth_printf(b, "pos:\t%" PRId64 "\nflags:\t0%o\nmnt_id:\t%d\nino:\t%" PRIu64 "\n",
		     f->pos, (unsigned)(f->flags | (cloexec ? O_CLOEXEC : 0)),
		     f->path.mnt ? f->path.mnt->id : 0, ino);
	file_put(f);
	return 0;
}

static const struct synth_entry fd_link_entry = {
	.name = "fd", .mode = S_IFLNK | 0700, .readlink = fd_readlink, .get_link = fd_get_link};
static const struct synth_entry fdinfo_file_entry = {
	.name = "fdinfo", .mode = S_IFREG | 0444, .show = fdinfo_show};

static int fd_next(struct inode *dir, uint64_t *key, char *name, size_t cap, unsigned *type,
		   unsigned dtype)
{
	struct fdtable *fdt = proc_get_fdt(dir);
	int found = 0;

	if (!fdt)
		return 0;
	pthread_mutex_lock(&fdt->lock);
	for (uint64_t fd = *key; fd < (uint64_t)fdt->nslots; fd++) {
		if (fdt->slots[fd].file) {
			*key = fd;
			snprintf(name, cap, "%" PRIu64, fd);
			*type = dtype;
			found = 1;
			break;
		}
	}
	pthread_mutex_unlock(&fdt->lock);
	fdtable_put(fdt);
	return found;
}

static int fd_dir_next(struct inode *dir, uint64_t *key, char *name, size_t cap, unsigned *type)
{
	return fd_next(dir, key, name, cap, type, DT_LNK);
}

static int fdinfo_dir_next(struct inode *dir, uint64_t *key, char *name, size_t cap,
			   unsigned *type)
{
	return fd_next(dir, key, name, cap, type, DT_REG);
}

static int fd_lookup(struct inode *dir, const char *name, struct inode **out, bool info)
{
	int64_t id[SYNTH_NIDS] = {synth_id(dir, PROC_TGID), synth_id(dir, PROC_TID), 0};
	struct inode *in;
	struct file *f;
	int acc;

	id[PROC_FD] = synth_parse_num(name, FD_MAX);
	if (id[PROC_FD] < 0)
		return -ENOENT;
	in = synth_new_child(dir, name, info ? &fdinfo_file_entry : &fd_link_entry, id);
	if (!in)
		return -ENOMEM;
	f = node_file(in, NULL);
	if (!f) {
		inode_put(in);
		return -ENOENT;
	}
	/* A link's permission bits say how the file is open, as Linux's. */
	acc = f->flags & O_ACCMODE;
	if (!info && !(f->flags & O_PATH))
		in->mode = S_IFLNK | (acc != O_WRONLY ? 0500 : 0) | (acc != O_RDONLY ? 0300 : 0);
	file_put(f);
	*out = in;
	return 0;
}

static int fd_dir_lookup(struct inode *dir, const char *name, struct inode **out)
{
	return fd_lookup(dir, name, out, false);
}

static int fdinfo_dir_lookup(struct inode *dir, const char *name, struct inode **out)
{
	return fd_lookup(dir, name, out, true);
}

const struct synth_dyn proc_fd_dyn = {.next = fd_dir_next, .lookup = fd_dir_lookup};
const struct synth_dyn proc_fdinfo_dyn = {.next = fdinfo_dir_next, .lookup = fdinfo_dir_lookup};
