/* devfs: the character devices every program expects (null, zero, full,
 * random, urandom, tty) and the /dev tree that names them. The tree is
 * an ordinary tmpfs filled at boot; opening a node reaches the driver
 * through the device registry (vfs_register_chrdev). */
#ifndef RC_SENTRY_FS_DEV_DEVFS_H
#define RC_SENTRY_FS_DEV_DEVFS_H

struct dentry;
struct creds;

/* Registers the drivers (once; later calls do nothing). 0 or -errno. */
int devfs_register_drivers(void);

/* Fills a directory (a fresh tmpfs root) with the device nodes, the
 * fd/stdin/stdout/stderr links and the shm and pts directories, owned
 * by c. Registers the drivers too. 0 or -errno. */
int devfs_populate(struct dentry *root, const struct creds *c);

/* The sandbox's controlling terminal for /dev/tty: a host fd (dup'ed
 * here) that is a terminal, or -1 for none. Called by whoever starts
 * the sandbox's first process, with that process's stdin. */
void devfs_set_console(int hostfd);

#endif
