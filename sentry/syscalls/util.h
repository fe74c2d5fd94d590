/* Helpers the system call handlers share: copying in paths, installing
 * new fds. */
#ifndef RC_SENTRY_SYSCALLS_UTIL_H
#define RC_SENTRY_SYSCALLS_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/vfs/vfs.h"

struct task;
struct file;

/* Copies a path from the application: 0, -EFAULT, or -ENAMETOOLONG.
 * buf has VFS_PATH_MAX bytes. */
int getname(struct task *t, uint64_t uptr, char *buf);
/* Installs f at the lowest free fd (RLIMIT_NOFILE applies). */
int install_fd(struct task *t, struct file *f, bool cloexec);
/* The file behind fd, referenced, or NULL (EBADF). O_PATH files are
 * refused unless allow_path. */
struct file *get_fd(struct task *t, int fd, bool allow_path);

#endif
