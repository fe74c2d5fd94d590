/* The procfs root: the system files, self and thread-self, mounts, sys/
 * and a directory per process. SB_NOCACHE: processes come and go behind
 * the dentry cache's back. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/fs/proc/procfs.h"
#include "sentry/fs/synth/host_info.h"
#include "sentry/kernel/task.h"

/* self and thread-self name the reader, so they need the calling task. */
static ssize_t self_readlink(struct inode *in, char *buf, size_t len)
{
	char text[32];
	int n;

	(void)in;
	if (!current)
		return -ENOENT;
	n = snprintf(text, sizeof(text), "%d", current->tg->pid);
	return synth_copy_link(text, (size_t)n, buf, len);
}

static ssize_t thread_self_readlink(struct inode *in, char *buf, size_t len)
{
	char text[48];
	int n;

	(void)in;
	if (!current)
		return -ENOENT;
	n = snprintf(text, sizeof(text), "%d/task/%d", current->tg->pid, current->tid);
	return synth_copy_link(text, (size_t)n, buf, len);
}

static ssize_t mounts_readlink(struct inode *in, char *buf, size_t len)
{
	(void)in;
	return synth_copy_link("self/mounts", 11, buf, len);
}

#define REG(n, fn) {.name = n, .mode = S_IFREG | 0444, .show = fn}

static const struct synth_entry root_children[] = {
	REG("cpuinfo", proc_cpuinfo),
	REG("filesystems", proc_filesystems),
	REG("loadavg", proc_loadavg),
	REG("meminfo", proc_meminfo),
	{.name = "mounts", .mode = S_IFLNK | 0777, .readlink = mounts_readlink},
	{.name = "self", .mode = S_IFLNK | 0777, .readlink = self_readlink},
	REG("stat", proc_stat),
	{.name = "sys", .mode = S_IFDIR | 0555, .children = proc_sys_children,
	 .strict_write = true},
	{.name = "thread-self", .mode = S_IFLNK | 0777, .readlink = thread_self_readlink},
	REG("uptime", proc_uptime),
	REG("version", proc_version),
	{0},
};

static const struct synth_entry root_entry = {
	.name = "/", .mode = S_IFDIR | 0555, .children = root_children, .dyn = &proc_pids_dyn};

struct superblock *procfs_new(struct inode **root)
{
	/* Gather the host facts now, at boot: the boot id is fixed from
	 * here on. The CPU's identity waits for the first reader of
	 * cpuinfo: its CPUIDs exit to the hypervisor in a VM, and most
	 * sandboxes never ask. */
	(void)host_info();
	return synth_sb_new("proc", PROC_SUPER_MAGIC, SB_NOCACHE, &root_entry, root);
}
