/* Advisory locks: flock(2), POSIX and OFD record locks (lock.c). */
#ifndef RC_SENTRY_VFS_LOCK_H
#define RC_SENTRY_VFS_LOCK_H

#include <fcntl.h>
#include <stdbool.h>

struct task;
struct file;
struct inode;

/* op: LOCK_SH, LOCK_EX, LOCK_UN, optionally | LOCK_NB. */
int vfs_flock(struct task *t, struct file *f, int op);
/* cmd: F_GETLK, F_SETLK, F_SETLKW; ofd for the F_OFD_* commands. */
int vfs_record_lock(struct task *t, struct file *f, int cmd, struct flock *fl, bool ofd);
/* Drops owner's locks on one inode: a description's (flock, OFD) when
 * it is released, an fd table's POSIX locks when one of its fds of the
 * file closes (fdtable.c). */
void vfs_locks_release(const struct inode *in, const void *owner);
/* Drops every lock owner holds (a process exits, a description closes). */
void vfs_locks_release_owner(const void *owner);

#endif
