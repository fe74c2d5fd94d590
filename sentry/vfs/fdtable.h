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
/* fork without CLONE_FILES: the same open files under the same fds. */
struct fdtable *fdtable_copy(struct fdtable *from);
void fdtable_put(struct fdtable *t);
/* Installs f at the lowest free fd >= min, below limit; takes a reference.
 * Returns the fd or -EMFILE. */
int fdtable_install(struct fdtable *t, struct file *f, int min, bool cloexec,
		    unsigned long limit);
/* 0 if an fd >= min below limit is free, else -EMFILE: open checks
 * before it creates anything, as Linux allocates the fd first. */
int fdtable_check_free(struct fdtable *t, int min, unsigned long limit);
/* Installs f at exactly fd, closing what was there. */
int fdtable_install_at(struct fdtable *t, int fd, struct file *f, bool cloexec,
		       unsigned long limit);
/* Returns a referenced file, or NULL for a bad fd. */
struct file *fdtable_get(struct fdtable *t, int fd);
int fdtable_close(struct fdtable *t, int fd);
/* close_range: closes (or marks close-on-exec) fds first..last. */
int fdtable_close_range(struct fdtable *t, unsigned first, unsigned last, bool cloexec);
/* Closes every close-on-exec fd (exec). */
void fdtable_close_on_exec(struct fdtable *t);
/* 1 or 0, or -EBADF. */
int fdtable_get_cloexec(struct fdtable *t, int fd);
int fdtable_set_cloexec(struct fdtable *t, int fd, bool on);

#endif
