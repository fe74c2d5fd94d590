/* A process's file descriptor table. */
#ifndef RC_SENTRY_VFS_FDTABLE_H
#define RC_SENTRY_VFS_FDTABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct file;

struct fd_slot {
	struct file *file;
	bool cloexec;
};

struct fdtable {
	pthread_mutex_t lock;
	atomic_int refs;
	struct fd_slot *slots;
	int nslots;
};

struct fdtable *fdtable_new(void);
void fdtable_put(struct fdtable *t);
/* Installs f at the lowest free fd >= min, below limit; takes a reference.
 * Returns the fd or -EMFILE. */
int fdtable_install(struct fdtable *t, struct file *f, int min, bool cloexec,
		    unsigned long limit);
/* Installs f at exactly fd, closing what was there. */
int fdtable_install_at(struct fdtable *t, int fd, struct file *f, bool cloexec,
		       unsigned long limit);
/* Returns a referenced file, or NULL for a bad fd. */
struct file *fdtable_get(struct fdtable *t, int fd);
int fdtable_close(struct fdtable *t, int fd);
/* 1 or 0, or -EBADF. */
int fdtable_get_cloexec(struct fdtable *t, int fd);
int fdtable_set_cloexec(struct fdtable *t, int fd, bool on);

#endif
