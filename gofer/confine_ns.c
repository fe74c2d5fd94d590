/* The gofer's own mount namespace: an empty, read-only tmpfs as "/" with
 * the exported trees mounted at /0, /1, ... (recursively, read-only where
 * the mount is). Absolute paths then reach nothing but what the gofer
 * serves, and the kernel itself refuses writes to read-only mounts.
 *
 * Unprivileged, a user namespace (the caller mapped to itself) gives the
 * right to make it. Where neither works the gofer goes on without this
 * layer: its other two (walks beneath held fds, seccomp) still hold. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/* A new mount namespace, in a new user namespace if need be. */
static int enter(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int e;

	if (unshare(CLONE_NEWNS) == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -errno;
	/* Identity maps: host owners read back as they are, as in the
	 * unconfined case. */
	e = write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "%u %u 1", uid, uid);
	if (e == 0 || e == -ENOENT)
		e = write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "%u %u 1", gid, gid);
	if (e == 0)
		e = write_file("/proc/self/gid_map", map);
	return e;
}

static int set_attr(int dfd, const char *path, unsigned flags, uint64_t set)
{
	struct mount_attr a = {.attr_set = set};
	return syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof(a)) < 0 ? -errno : 0;
}

/* The held fds name mounts of the namespace we left, which the mount
 * calls refuse: the same directories again, by path, in the new one. */
static int reopen_in_ns(struct gofer_state *g)
{
	for (int i = 0; i < g->nmounts; i++) {
		struct gofer_attr was, now;
		int fd = open(g->mounts[i].host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (attr_fd(g->mounts[i].fd, &was) < 0 || attr_fd(fd, &now) < 0 ||
		    was.dev != now.dev || was.ino != now.ino) {
			close(fd);
			return -ESTALE; /* replaced since we opened it */
		}
		close(g->mounts[i].fd);
		g->mounts[i].fd = fd;
	}
	return 0;
}

/* Before the pivot every step can fail harmlessly: the held fds still
 * work. Returns the detached trees in trees[]. */
static int prepare(struct gofer_state *g, int *trees, int *newroot)
{
	int fs, e;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	e = reopen_in_ns(g);
	if (e < 0)
		return e;
	for (int i = 0; i < g->nmounts; i++) {
		uint64_t set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
		trees[i] = (int)syscall(SYS_open_tree, g->mounts[i].fd, "",
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
						AT_EMPTY_PATH);
		if (trees[i] < 0)
			return -errno;
		if (g->mounts[i].readonly)
			set |= MOUNT_ATTR_RDONLY;
		e = set_attr(trees[i], "", AT_EMPTY_PATH | AT_RECURSIVE, set);
		if (e < 0)
			return e;
	}
	fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	e = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
			    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "64k", 0) < 0 ||
			    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
		    ? -errno
		    : 0;
	if (e == 0) {
		*newroot = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
					MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		if (*newroot < 0)
			e = -errno;
	}
	close(fs);
	if (e < 0)
		return e;
	for (int i = 0; i < g->nmounts; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%d", i);
		if (mkdirat(*newroot, name, 0555) < 0)
			return -errno;
	}
	/* Attach the new root over the first export (any directory would
	 * do; this one surely exists), and make it "/". */
	if (syscall(SYS_move_mount, *newroot, "", g->mounts[0].fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	if (fchdir(*newroot) < 0)
		return -errno;
	return 0;
}

/* Past the pivot a failure leaves the gofer without its trees: fatal. */
static int pivot(struct gofer_state *g, const int *trees)
{
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	for (int i = 0; i < g->nmounts; i++) {
		char path[16];
		int fd;
		snprintf(path, sizeof(path), "/%d", i);
		if (syscall(SYS_move_mount, trees[i], "", AT_FDCWD, path,
			    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return -errno;
		fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(g->mounts[i].fd);
		g->mounts[i].fd = fd;
	}
	return set_attr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY);
}

int confine_mount_ns(struct gofer_state *g)
{
	int trees[GOFER_MOUNTS_MAX], newroot = -1, e;

	for (int i = 0; i < g->nmounts; i++)
		trees[i] = -1;
	e = enter();
	if (e < 0) {
		log_debug("no mount namespace (%s): relying on openat2 and seccomp",
			  strerror(-e));
		return 0;
	}
	e = prepare(g, trees, &newroot);
	if (e < 0) {
		log_debug("cannot build a private mount tree (%s): relying on "
			  "openat2 and seccomp", strerror(-e));
		e = 0;
		goto out;
	}
	e = pivot(g, trees);
	if (e < 0)
		log_err("cannot switch to its private mount tree: %s", strerror(-e));
out:
	for (int i = 0; i < g->nmounts; i++)
		if (trees[i] >= 0)
			close(trees[i]);
	if (newroot >= 0)
		close(newroot);
	return e;
}
