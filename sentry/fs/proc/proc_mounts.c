/* /proc/PID/mounts and mountinfo: the mount table as the process sees
 * it from its root, in the formats of Linux's fs/proc_namespace.c. */
#include <errno.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"

/* Whether (mnt, d) is at or below root: mounts outside a process's root
 * are not shown to it. */
static bool under_root(const struct path *root, struct mount *mnt, struct dentry *d)
{
	for (;;) {
		if (mnt == root->mnt) {
			for (struct dentry *x = d;; x = x->parent) {
				if (x == root->dentry)
					return true;
				if (x->parent == x)
					return false;
			}
		}
		if (!mnt->parent)
			return false;
		d = mnt->mountpoint;
		mnt = mnt->parent;
	}
}

/* The mount's root within its filesystem ("/" unless a bind mount of a
 * subdirectory). */
static void fs_root_text(struct synth_buf *b, struct dentry *d)
{
	const char *names[64];
	int n = 0;

	for (; d->parent != d && n < 64; d = d->parent)
		names[n++] = d->name;
	if (!n)
		synth_putc(b, '/');
	while (n--) {
		synth_putc(b, '/');
		synth_write_escaped(b, names[n]);
	}
}

static void mnt_opts(struct synth_buf *b, const struct mount *m)
{
	synth_printf(b, "%s", (m->flags & MNT_RDONLY) || (m->sb->flags & SB_RDONLY) ? "ro" : "rw");
	if (m->flags & MNT_NOSUID)
		synth_printf(b, ",nosuid");
	if (m->flags & MNT_NODEV)
		synth_printf(b, ",nodev");
	if (m->flags & MNT_NOEXEC)
		synth_printf(b, ",noexec");
	synth_printf(b, ",relatime");
}

static void sb_opts(struct synth_buf *b, const struct mount *m, bool with_rw)
{
	if (with_rw)
		synth_printf(b, "%s", m->sb->flags & SB_RDONLY ? "ro" : "rw");
	if (m->options && *m->options)
		synth_printf(b, ",%s", m->options);
}

/* The process's root, referenced; -ESRCH when it is gone. */
static int task_root(struct inode *in, struct path *root)
{
	struct fs_context *fs = proc_get_fs(in);

	if (!fs)
		return -ESRCH;
	pthread_mutex_lock(&fs->lock);
	path_copy(root, &fs->root);
	pthread_mutex_unlock(&fs->lock);
	fs_context_put(fs);
	return 0;
}

static int show(struct inode *in, struct synth_buf *b, bool info)
{
	struct path root;
	char *buf = malloc(VFS_PATH_MAX);
	int r;

	if (!buf)
		return -ENOMEM;
	r = task_root(in, &root);
	if (r < 0) {
		free(buf);
		return r;
	}
	pthread_mutex_lock(&vfs_mounts.lock);
	for (struct mount *m = vfs_mounts.list; m; m = m->next) {
		struct path mp = {m, m->root};
		if (!under_root(&root, m, m->root))
			continue;
		if (vfs_path_string(&root, &mp, buf, VFS_PATH_MAX) < 0)
			continue;
		if (info) {
			synth_printf(b, "%d %d %u:%u ", m->id, m->parent ? m->parent->id : m->id,
				     major(m->sb->dev), minor(m->sb->dev));
			fs_root_text(b, m->root);
			synth_putc(b, ' ');
			synth_write_escaped(b, buf);
			synth_putc(b, ' ');
			mnt_opts(b, m);
			synth_printf(b, " - %s ", m->sb->fstype);
			synth_write_escaped(b, m->source ? m->source : "none");
			synth_putc(b, ' ');
			sb_opts(b, m, true);
			synth_putc(b, '\n');
		} else {
			synth_write_escaped(b, m->source ? m->source : "none");
			synth_putc(b, ' ');
			synth_write_escaped(b, buf);
			synth_printf(b, " %s ", m->sb->fstype);
			mnt_opts(b, m);
			sb_opts(b, m, false);
			synth_printf(b, " 0 0\n");
		}
	}
	pthread_mutex_unlock(&vfs_mounts.lock);
	path_put(&root);
	free(buf);
	return 0;
}

int proc_pid_mounts(struct inode *in, struct synth_buf *b) { return show(in, b, false); }

int proc_pid_mountinfo(struct inode *in, struct synth_buf *b) { return show(in, b, true); }
